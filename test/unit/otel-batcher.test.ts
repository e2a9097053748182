/**
 * The span batcher without a network (src/observability/otel/span-batcher.ts): a bounded queue that drops and counts,
 * batches sent on a timer or as soon as one is full, failures counted and logged at most once per window, a
 * bounded flush at shutdown.
 */
import { describe, expect, test } from "bun:test";
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import { type ReadableSpan, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import type { LogFields, Logger } from "../../src/observability/logger.ts";
import { SpanBatcher, type SpanBatcherSettings } from "../../src/observability/otel/span-batcher.ts";
import { tick } from "../support/async.ts";

/** A logger that keeps its warn lines. */
function recordingLog(): Logger & { warnings: Array<{ message: string; fields: LogFields | undefined }> } {
  const warnings: Array<{ message: string; fields: LogFields | undefined }> = [];
  const log: Logger & { warnings: typeof warnings } = {
    warnings,
    debug: () => undefined,
    info: () => undefined,
    warn: (message, fields) => void warnings.push({ message, fields }),
    error: () => undefined,
    child: () => log,
    enabled: () => true,
  };
  return log;
}

/** An exporter that keeps every batch and answers as `answer` says (or never: "hang"). */
class FakeExporter implements SpanExporter {
  readonly batches: ReadableSpan[][] = [];
  answer: "ok" | "fail" | "hang" = "ok";
  shutDown = false;
  private readonly pending: Array<(result: ExportResult) => void> = [];

  export(spans: ReadableSpan[], resultCallback: (result: ExportResult) => void): void {
    this.batches.push(spans);
    if (this.answer === "ok") queueMicrotask(() => resultCallback({ code: ExportResultCode.SUCCESS }));
    else if (this.answer === "fail")
      queueMicrotask(() => resultCallback({ code: ExportResultCode.FAILED, error: new Error("connect ECONNREFUSED 127.0.0.1:4318") }));
    else this.pending.push(resultCallback);
  }

  /** Answers every export left hanging. */
  release(): void {
    for (const callback of this.pending.splice(0)) callback({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {
    this.shutDown = true;
  }

  get spans(): number {
    return this.batches.reduce((n, b) => n + b.length, 0);
  }
}

const SLOW_TIMER: SpanBatcherSettings = { maxQueued: 100, maxBatch: 10, intervalMs: 60_000, maxExports: 2, exportTimeoutMs: 5_000 };

function rig(settings: Partial<SpanBatcherSettings> = {}) {
  const exporter = new FakeExporter();
  const log = recordingLog();
  const batcher = new SpanBatcher(exporter, { ...SLOW_TIMER, ...settings }, log);
  const tracer = new TracerProvider({ spanProcessors: [batcher] }).getTracer("test");
  /** Ends `n` real spans (each goes to the batcher's onEnd). */
  const endSpans = (n: number) => {
    for (let i = 0; i < n; i++) tracer.startSpan(`s${i}`).end();
  };
  return { exporter, log, batcher, endSpans };
}

const settle = async (turns = 10) => {
  for (let i = 0; i < turns; i++) await tick();
};

describe("span batcher", () => {
  test("a full batch is sent at once, outside the call that ended the span; a partial one waits for the timer", async () => {
    const r = rig();
    r.endSpans(9);
    await settle();
    expect(r.exporter.batches).toHaveLength(0);
    r.endSpans(1);
    expect(r.exporter.batches).toHaveLength(0); // not inside onEnd
    await settle();
    expect(r.exporter.batches.map((b) => b.length)).toEqual([10]);
    expect(r.batcher.counts).toEqual({ exported: 10, failed: 0, dropped: 0 });
    await r.batcher.close(1000);
  });

  test("the timer sends whatever waits", async () => {
    const r = rig({ intervalMs: 20 });
    r.endSpans(3);
    const deadline = Date.now() + 2000;
    while (r.exporter.spans < 3 && Date.now() < deadline) await Bun.sleep(5);
    expect(r.exporter.batches.map((b) => b.length)).toEqual([3]);
    await r.batcher.close(1000);
  });

  test("a full queue drops new spans and counts them; one warn line per window", async () => {
    const r = rig({ maxQueued: 25, maxExports: 1 });
    r.exporter.answer = "hang";
    r.endSpans(10); // one batch leaves and hangs
    await settle();
    r.endSpans(40); // 25 wait, 15 are dropped
    await settle();
    expect(r.exporter.batches).toHaveLength(1);
    expect(r.batcher.queued).toBe(25);
    expect(r.batcher.counts.dropped).toBe(15);
    expect(r.log.warnings.filter((w) => w.message.includes("queue full"))).toHaveLength(1);
    r.exporter.release();
    r.exporter.answer = "ok";
    await r.batcher.close(1000);
    expect(r.batcher.counts).toEqual({ exported: 35, failed: 0, dropped: 15 });
  });

  test("failed exports count their spans and are logged at most once per window, processing goes on", async () => {
    const r = rig();
    r.exporter.answer = "fail";
    r.endSpans(30);
    await settle(30);
    expect(r.batcher.counts).toEqual({ exported: 0, failed: 30, dropped: 0 });
    const failures = r.log.warnings.filter((w) => w.message.includes("span export failed"));
    expect(failures).toHaveLength(1);
    expect(failures[0]!.fields).toMatchObject({ spans: 10, error: "connect ECONNREFUSED 127.0.0.1:4318" });
    await r.batcher.close(1000);
    // the summary of the lines held back comes out at shutdown
    expect(r.log.warnings.some((w) => w.message.startsWith("2 more span exports failed"))).toBe(true);
  });

  test("an export that never answers counts as failed after exportTimeoutMs and frees its slot", async () => {
    const r = rig({ exportTimeoutMs: 30, maxExports: 1 });
    r.exporter.answer = "hang";
    r.endSpans(10);
    await settle();
    expect(r.exporter.batches).toHaveLength(1);
    await Bun.sleep(60);
    expect(r.batcher.counts.failed).toBe(10);
    r.exporter.answer = "ok";
    r.endSpans(10);
    await settle();
    expect(r.exporter.batches).toHaveLength(2);
    await r.batcher.close(1000);
    expect(r.batcher.counts).toEqual({ exported: 10, failed: 10, dropped: 0 });
  });

  test("close sends everything queued, in batches, then shuts the exporter down; later spans are dropped", async () => {
    const r = rig({ maxQueued: 1000 });
    r.exporter.answer = "hang";
    r.endSpans(5);
    await settle();
    r.exporter.answer = "ok";
    const closing = r.batcher.close(1000);
    expect(r.exporter.batches.map((b) => b.length)).toEqual([5]);
    r.exporter.release();
    await closing;
    expect(r.batcher.counts).toEqual({ exported: 5, failed: 0, dropped: 0 });
    expect(r.exporter.shutDown).toBe(true);
    r.endSpans(2);
    expect(r.batcher.counts.dropped).toBe(2);
  });

  test("close waits no longer than its timeout; what is still queued counts as dropped", async () => {
    const r = rig({ maxExports: 1 });
    r.exporter.answer = "hang";
    r.endSpans(10);
    await settle();
    r.endSpans(7);
    const started = performance.now();
    await r.batcher.close(50);
    expect(performance.now() - started).toBeLessThan(1000);
    expect(r.batcher.counts.dropped).toBe(7);
    expect(r.log.warnings.some((w) => w.message.includes("not every span reached"))).toBe(true);
  });
});
