/**
 * Prometheus metrics (prom-client) for the whole process. Counters that the pipeline already keeps are read
 * at scrape time; per-event figures (handler duration, produce and commit latency) are observed as they happen.
 * Worker threads send their figures to the main thread, which owns the one registry and endpoint.
 */
import { Counter, Gauge, Histogram, Registry } from "prom-client";
import { FastHistogram } from "./fast-histogram.ts";
import { registerProcessMetrics } from "./process-metrics.ts";
import { ringUsage, type RingBuffers } from "../threads/byte-ring.ts";
import type { PipelineStats } from "../pipeline/pipeline.ts";
import type { SpanExportCounts } from "./otel/span-batcher.ts";

export interface MetricsSources {
  readonly stats: () => PipelineStats;
  readonly inFlight: () => number;
  /** Flow control: partitions paused for --max-uncommitted, records not yet committable, bytes of queued records. */
  readonly flow: () => { readonly pausedPartitions: number; readonly uncommitted: number; readonly bufferedBytes: number };
  /** Per partition: records received and not yet committable. */
  readonly uncommitted: () => ReadonlyArray<{ readonly topic: string; readonly partition: number; readonly uncommitted: number }>;
  readonly rings: () => ReadonlyArray<{ readonly name: string; readonly ring: RingBuffers }>;
  /** Span export (--otel-endpoint): spans exported, failed and dropped so far; absent when export is off (all 0). */
  readonly spanExport?: () => Readonly<SpanExportCounts>;
}

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** A counter whose value is read from `value()` when scraped. */
function counterFrom(registry: Registry, name: string, help: string, value: () => number): void {
  new Counter({
    name,
    help,
    registers: [registry],
    collect() {
      this.reset();
      this.inc(value());
    },
  });
}

export class Metrics {
  readonly registry = new Registry();
  /** Observed once per handler run: the cheap kind. */
  readonly handlerDuration: FastHistogram;
  readonly produceLatency: Histogram;
  readonly commitLatency: Histogram;
  readonly workerRestarts: Counter<"worker">;
  private readonly lag = new Map<string, { topic: string; partition: number; lag: number }>();

  constructor(sources: MetricsSources) {
    const r = this.registry;
    registerProcessMetrics(r);
    const stat = (key: keyof PipelineStats) => () => sources.stats()[key];
    counterFrom(r, "processor_records_consumed_total", "Records read from the input topics.", stat("consumed"));
    counterFrom(
      r,
      "processor_records_produced_total",
      "Output records (including dead-letter copies) acknowledged by Kafka.",
      stat("produced"),
    );
    counterFrom(r, "processor_records_failed_total", "Handler runs that failed (each attempt counts).", stat("failed"));
    counterFrom(r, "processor_records_retried_total", "Handler runs scheduled again after a failure.", stat("retried"));
    counterFrom(r, "processor_records_dead_lettered_total", "Records sent to the dead-letter topic.", stat("deadLettered"));
    counterFrom(r, "processor_records_filtered_total", "Records the handler filtered out (returned null).", stat("filtered"));
    counterFrom(r, "processor_offsets_committed_total", "Partition offsets committed.", stat("committedOffsets"));
    counterFrom(
      r,
      "processor_internal_errors_total",
      "Records processor itself failed on (a bug, logged); retried, then dead-lettered with kind internal.",
      stat("internalErrors"),
    );
    counterFrom(
      r,
      "processor_records_stale_dropped_total",
      "Records dropped because their partition had moved to another consumer or was being revoked.",
      stat("staleDropped"),
    );
    counterFrom(
      r,
      "processor_transactions_committed_total",
      "Exactly-once mode: transactions committed (outputs, dead-letter copies and input offsets together).",
      stat("transactionsCommitted"),
    );
    counterFrom(
      r,
      "processor_transactions_aborted_total",
      "Exactly-once mode: times the open transactions were aborted and everything since the last commit processed again.",
      stat("transactionsAborted"),
    );
    const spans = (key: keyof SpanExportCounts) => () => sources.spanExport?.()[key] ?? 0;
    counterFrom(r, "processor_otel_spans_exported_total", "Record spans accepted by the --otel-endpoint collector.", spans("exported"));
    counterFrom(
      r,
      "processor_otel_spans_failed_total",
      "Record spans lost with an export request that failed (endpoint unreachable, refused, or no answer in time).",
      spans("failed"),
    );
    counterFrom(
      r,
      "processor_otel_spans_dropped_total",
      "Record spans dropped before export: the export queue was full, or still held spans when shutdown ended.",
      spans("dropped"),
    );
    const flowGauge = (name: string, help: string, value: () => number): void => {
      new Gauge({
        name,
        help,
        registers: [r],
        collect() {
          this.set(value());
        },
      });
    };
    flowGauge(
      "processor_paused_partitions",
      "Partitions whose fetching is paused because they hold --max-uncommitted records not yet committable.",
      () => sources.flow().pausedPartitions,
    );
    new Gauge({
      name: "processor_records_uncommitted",
      help: "Per partition: records received whose offsets cannot be committed yet (in flight, or done behind one that is); --max-uncommitted pauses a partition's fetching at that many.",
      labelNames: ["topic", "partition"],
      registers: [r],
      collect() {
        this.reset();
        for (const { topic, partition, uncommitted } of sources.uncommitted())
          this.set({ topic, partition: String(partition) }, uncommitted);
      },
    });
    flowGauge(
      "processor_buffered_bytes",
      "Bytes of records queued, running or retrying in the main thread.",
      () => sources.flow().bufferedBytes,
    );
    counterFrom(r, "processor_rebalances_total", "Assignment changes seen by this process's consumers.", stat("assignmentChanges"));
    new Gauge({
      name: "processor_records_in_flight",
      help: "Records accepted and not yet acknowledged by Kafka (queued, running, retrying, or being produced).",
      registers: [r],
      collect() {
        this.set(sources.inFlight());
      },
    });
    new Gauge({
      name: "processor_ring_used_bytes",
      help: "Bytes waiting in each SharedArrayBuffer ring.",
      labelNames: ["ring"],
      registers: [r],
      collect() {
        for (const { name, ring } of sources.rings()) this.set({ ring: name }, ringUsage(ring).used);
      },
    });
    new Gauge({
      name: "processor_ring_capacity_bytes",
      help: "Size of each SharedArrayBuffer ring.",
      labelNames: ["ring"],
      registers: [r],
      collect() {
        for (const { name, ring } of sources.rings()) this.set({ ring: name }, ringUsage(ring).capacity);
      },
    });
    const lag = this.lag;
    new Gauge({
      name: "processor_consumer_lag_records",
      help: "Records between the committed offset and the end of each assigned input partition.",
      labelNames: ["topic", "partition"],
      registers: [r],
      collect() {
        this.reset();
        for (const entry of lag.values()) this.set({ topic: entry.topic, partition: String(entry.partition) }, entry.lag);
      },
    });
    this.handlerDuration = new FastHistogram(
      "processor_handler_duration_seconds",
      "Time spent in the handler per attempt.",
      LATENCY_BUCKETS,
      r,
    );
    this.produceLatency = new Histogram({
      name: "processor_produce_latency_seconds",
      help: "Time for Kafka to acknowledge a produce batch.",
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
    this.workerRestarts = new Counter({
      name: "processor_worker_restarts_total",
      help: "Kafka Workers started again after a crash.",
      labelNames: ["worker"],
      registers: [r],
    });
    this.workerRestarts.inc({ worker: "consumer" }, 0);
    this.commitLatency = new Histogram({
      name: "processor_commit_latency_seconds",
      help: "Time for Kafka to acknowledge an offset commit.",
      buckets: LATENCY_BUCKETS,
      registers: [r],
    });
  }

  /** Lag reported by one consumer Worker for the partitions it owns; replaces what it reported before. */
  setLag(owner: number, entries: ReadonlyArray<{ topic: string; partition: number; lag: number }>): void {
    for (const [key] of this.lag) if (key.startsWith(`${owner}/`)) this.lag.delete(key);
    for (const entry of entries) this.lag.set(`${owner}/${entry.topic}/${entry.partition}`, entry);
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }

  get contentType(): string {
    return this.registry.contentType;
  }
}
