/**
 * Starts the Workers around the pipeline, commits on a timer, and runs the shutdown:
 * stop fetching → finish and deliver in-flight work → commit → leave the group → stop the Workers.
 */
import { randomUUID } from "node:crypto";
import type { Config } from "../config/index.ts";
import type { Handlers } from "../handlers/types.ts";
import type { ClientSettings, Failure } from "../threads/messages.ts";
import { clientSecurity } from "../kafka/client-options.ts";
import { createRing } from "../threads/byte-ring.ts";
import type { Logger } from "../observability/logger.ts";
import { Metrics } from "../observability/metrics.ts";
import type { SpanExport } from "../observability/otel/start-span-export.ts";
import { serveEndpoints, type Check, type Endpoint, type HealthState } from "../observability/http-endpoint.ts";
import type { RingBuffers } from "../threads/byte-ring.ts";
import { Pipeline } from "../pipeline/pipeline.ts";
import { startHeartbeat } from "../threads/stall-watchdog.ts";
import { ConsumerWorker, ProducerWorker, type WorkerUrls } from "../threads/workers.ts";
import { ConsumerHealth } from "./consumer-health.ts";
import { consumerSettings } from "./consumer-settings.ts";
import { EventBudget, within } from "./timing.ts";

const PROGRESS_EVERY_MS = 5_000;
const RESTART_WINDOW_MS = 60_000;
const MAX_RESTARTS_PER_WINDOW = 5;
/** Graceful shutdown waits this long at most for queued spans to reach --otel-endpoint. */
const SPAN_FLUSH_TIMEOUT_MS = 5_000;

/**
 * Stable across restarts when it can be (a restart then aborts what its crashed predecessor left open at once);
 * otherwise unique to this process, and what a crash leaves open waits for --transaction-timeout.
 */
function transactionalIdPrefix(config: Config): string {
  if (config.transactionalId !== undefined) return config.transactionalId;
  if (config.groupInstanceId !== undefined) return `${config.groupId}-${config.groupInstanceId}`;
  return `${config.groupId}-${randomUUID()}`;
}

export const EXIT_OK = 0;
export const EXIT_FATAL = 1;

export class Supervisor implements HealthState {
  private readonly pipeline: Pipeline;
  readonly metrics: Metrics;
  /** Connection settings every Kafka client of this process uses. */
  private readonly client: ClientSettings;
  private endpoint: Endpoint | null = null;
  private readonly rings: Array<{ name: string; ring: RingBuffers }> = [];
  private readonly health = new ConsumerHealth();
  private fatalFailure: Failure | null = null;
  /** Consumer Workers by owner id (a restarted consumer gets a new id, so its old records stay apart). */
  private readonly consumers = new Map<number, { worker: ConsumerWorker; ringName: string; slot: number }>();
  private nextOwner = 0;
  /** Set once the first consumers all joined; later joiners (restarts) start fetching at once. */
  private fetching = false;
  private topicsChecked = false;
  /** Ticks while the main thread runs; producer Worker 0 watches it (see stall-watchdog.ts). */
  private readonly heartbeat = startHeartbeat();
  private consumerFatalBeforeCheck: Failure | null = null;
  private readonly restarts = new EventBudget(MAX_RESTARTS_PER_WINDOW, RESTART_WINDOW_MS);
  private producers: ProducerWorker[] = [];
  /** Exactly-once mode: producer n's transactional id is `<prefix>-<n>`; null in at-least-once mode. */
  private readonly transactionalIdPrefix: string | null;
  private commitTimer: ReturnType<typeof setInterval> | undefined;
  private progressTimer: ReturnType<typeof setInterval> | undefined;
  private committing: Promise<void> | null = null;
  private shuttingDown = false;
  private readonly joined = new Set<number>();
  private resolveExit: (code: number) => void = () => undefined;
  readonly exitCode: Promise<number>;

  constructor(
    private readonly config: Config,
    handler: Handlers,
    private readonly urls: WorkerUrls,
    private readonly log: Logger,
    /** Span export (--otel-endpoint), started by the caller; null when off. */
    private readonly spanExport: SpanExport | null = null,
  ) {
    this.exitCode = new Promise((resolve) => (this.resolveExit = resolve));
    let metrics: Metrics | null = null;
    this.pipeline = new Pipeline(
      config,
      handler,
      log,
      {
        handlerSeconds: (seconds) => metrics?.handlerDuration.observe(seconds),
        commitSeconds: (seconds) => metrics?.commitLatency.observe(seconds),
        halted: (reason) => this.halt(reason),
        fatal: (reason) => this.fatal({ kind: "internal", message: reason, retriable: false }),
        partitionFlow: (owner, partitions, paused) => this.consumers.get(owner)?.worker.flow(partitions, paused),
        refetch: (owner, round) => this.consumers.get(owner)?.worker.refetch(round),
      },
      spanExport?.tracing ?? null,
    );
    metrics = new Metrics({
      stats: () => this.pipeline.stats,
      inFlight: () => this.pipeline.inFlight,
      flow: () => this.pipeline.flow,
      uncommitted: () => this.pipeline.uncommittedByPartition(),
      rings: () => this.rings,
      ...(spanExport !== null && { spanExport: () => spanExport.counts() }),
    });
    this.metrics = metrics;
    this.transactionalIdPrefix = config.guarantee === "exactly-once" ? transactionalIdPrefix(config) : null;
    const security = clientSecurity(config);
    this.client = { brokers: config.brokers, clientId: config.clientId, logLevel: config.logLevel, ...(security && { security }) };
  }

  /** Liveness: no fatal condition (a producer Worker crash, too many consumer crashes, a broker refusal). */
  live(): Check {
    const problems = [...(this.fatalFailure === null ? [] : [this.fatalFailure.message]), ...this.health.liveProblems()];
    return { ok: problems.length === 0, problems };
  }

  /** Readiness: every consumer joined the group, brokers reachable, not shutting down. */
  ready(): Check {
    const problems: string[] = [];
    if (this.fatalFailure !== null) problems.push(this.fatalFailure.message);
    if (this.shuttingDown) problems.push("shutting down");
    if (this.consumers.size === 0 || this.joined.size < this.consumers.size)
      problems.push(`${this.joined.size} of ${this.config.consumers} consumers joined the group`);
    problems.push(...this.health.readyProblems());
    return { ok: problems.length === 0, problems };
  }

  async start(): Promise<void> {
    const { config } = this;
    if (config.metricsPort > 0) {
      this.endpoint = serveEndpoints(config.metricsPort, this.metrics, this, config.metricsHost);
      this.log.info("metrics and health endpoint listening", { host: this.endpoint.host, port: this.endpoint.port });
    }
    // Producer 0 checks the topics while the consumers load and join; fetching waits for both (see onJoined).
    const topicsChecked = (): void => {
      this.topicsChecked = true;
      if (this.consumerFatalBeforeCheck !== null) {
        this.fatal(this.consumerFatalBeforeCheck);
        return;
      }
      this.startFetchingWhenReady();
    };
    this.producers = this.pipeline.producerRings.map((ring, index) =>
      this.startProducer(index, ring, index === 0 ? topicsChecked : () => undefined),
    );
    for (let slot = 0; slot < config.consumers; slot++) this.startConsumer(slot);
    this.commitTimer = setInterval(() => {
      if (this.committing === null) void this.commitRound();
    }, config.commitIntervalMs);
    this.progressTimer = setInterval(() => this.reportProgress(), PROGRESS_EVERY_MS);
    const { consumers, producers, concurrency: workers, ordering, outputTopic: output, dlqTopic: dlq } = config;
    this.log.info("processor started", {
      consumers,
      producers,
      workers,
      ordering,
      guarantee: config.guarantee,
      ...(this.transactionalIdPrefix !== null && { transactionalIds: `${this.transactionalIdPrefix}-<0..${producers - 1}>` }),
      input: config.inputTopics.join(","),
      output,
      dlq,
    });
  }

  /** Producer 0 also checks that the topics exist and watches the main thread (the stall watchdog). */
  private startProducer(index: number, ring: RingBuffers, onReady: () => void): ProducerWorker {
    const { config } = this;
    this.rings.push({ name: `producer-${index}`, ring });
    const worker = new ProducerWorker(this.urls.producer, index, {
      onDelivered: (ids, sendMs) => {
        this.pipeline.delivered(ids);
        this.metrics.produceLatency.observe(sendMs / 1000);
      },
      onRejected: (id, failure) => this.pipeline.rejected(id, failure.message),
      onTransaction: (ref, outcome) => this.pipeline.transactionEnded(ref, outcome),
      onReady,
      onFatal: (failure) => this.fatal(failure),
    });
    const first = index === 0;
    const settings = {
      ...this.client,
      maxMessageBytes: config.maxMessageBytes,
      configuredTopics: [config.outputTopic, config.dlqTopic],
      ...(this.transactionalIdPrefix !== null && {
        transactionalId: `${this.transactionalIdPrefix}-${index}`,
        transactionTimeoutMs: config.transactionTimeoutMs,
      }),
    };
    const checkTopics = first ? [...config.inputTopics, config.outputTopic, config.dlqTopic] : [];
    const watchdog = first ? { beats: this.heartbeat.beats, timeoutMs: config.watchdogMs } : undefined;
    worker.send({ type: "init", index, ring, settings, checkTopics, ...(watchdog && { watchdog }) });
    return worker;
  }

  /**
   * Starts a consumer Worker under a new owner id, with a ring of its own; it joins the group at once. `slot` is
   * its place among this process's consumers, kept across restarts (its static member id ends with it).
   */
  private startConsumer(slot: number): void {
    const { config } = this;
    const owner = this.nextOwner++;
    const ring = createRing(config.ringBytes);
    const ringName = `consumer-${owner}`;
    this.pipeline.attachConsumer(owner, ring);
    this.rings.push({ name: ringName, ring });
    const worker = new ConsumerWorker(this.urls.consumer, owner, {
      joined: (i) => this.onJoined(i),
      member: (i, member, epoch) => this.pipeline.setMember(i, member, epoch),
      rebalancing: () => void this.commitRound(),
      revoking: (i, partitions, at, done) =>
        void this.pipeline.revoke(i, partitions, at, this.consumers.get(i)?.worker.commit).finally(done),
      lag: (i, entries) => this.metrics.setLag(i, entries),
      broker: (i, connected) => this.health.broker(i, connected),
      stream: (i, failure, failures) => this.health.stream(i, failure, failures),
      // The topic check's verdict names a missing topic or an unreachable cluster best: it goes first.
      fatal: (failure) => (this.topicsChecked ? this.fatal(failure) : (this.consumerFatalBeforeCheck ??= failure)),
      crashed: (failure) => this.restartConsumer(owner, failure),
    });
    this.consumers.set(owner, { worker, ringName, slot });
    worker.send({ type: "init", owner, ring, settings: consumerSettings(config, this.client, owner, slot) });
  }

  /**
   * A consumer Worker crashed: its partitions' uncommitted work is dropped (it will be fetched again from the
   * committed offsets) and a new consumer joins the group in its place. Too many crashes in a minute is fatal.
   */
  private restartConsumer(owner: number, crash: Failure): void {
    const entry = this.consumers.get(owner);
    if (!entry || this.shuttingDown) return;
    const crashes = this.restarts.spend();
    if (crashes !== null) {
      this.fatal({ ...crash, message: `${crash.message} (${crashes} Worker crashes within a minute)` });
      return;
    }
    entry.worker.terminate();
    this.consumers.delete(owner);
    this.joined.delete(owner);
    this.health.forget(owner);
    this.metrics.setLag(owner, []);
    const ringAt = this.rings.findIndex((r) => r.name === entry.ringName);
    if (ringAt >= 0) this.rings.splice(ringAt, 1);
    const dropped = this.pipeline.detachConsumer(owner);
    this.metrics.workerRestarts.inc({ worker: "consumer" });
    this.log.error("consumer Worker crashed; starting a new one (its uncommitted records will be fetched again)", {
      consumer: owner,
      error: crash.message,
      droppedTasks: dropped,
    });
    this.startConsumer(entry.slot);
  }

  /**
   * Fetching starts once all consumers joined (one rebalance before any work instead of one in the middle) and
   * the topics are known to exist (nothing is fetched that could not be delivered).
   */
  private onJoined(owner: number): void {
    this.joined.add(owner);
    this.log.info("joined the group", { consumer: owner, groupId: this.config.groupId, joined: this.joined.size, of: this.consumers.size });
    if (this.fetching) this.consumers.get(owner)?.worker.send({ type: "go" });
    else this.startFetchingWhenReady();
  }

  private startFetchingWhenReady(): void {
    if (this.fetching || !this.topicsChecked || this.joined.size < this.consumers.size) return;
    this.fetching = true;
    for (const { worker } of this.consumers.values()) worker.send({ type: "go" });
  }

  /** First signal: graceful shutdown. Offsets stay at the last safe commit whatever happens. */
  async shutdown(signal: string, failure?: string): Promise<void> {
    if (this.shuttingDown) return;
    this.shuttingDown = true;
    const started = Date.now();
    this.log.info("shutting down: finishing in-flight work", {
      signal,
      inFlight: this.pipeline.inFlight,
      timeoutMs: this.config.shutdownTimeoutMs,
    });
    for (const { worker } of this.consumers.values()) worker.send({ type: "stop" });
    const timedOut = !(await within(this.pipeline.drained(), this.config.shutdownTimeoutMs));
    if (timedOut)
      this.log.warn("shutdown timeout reached; unfinished records stay uncommitted and will be processed again", {
        inFlight: this.pipeline.inFlight,
      });
    await this.commitRound();
    clearInterval(this.commitTimer);
    clearInterval(this.progressTimer);
    for (const { worker } of this.consumers.values()) worker.send({ type: "close" });
    this.pipeline.closeProducerRings();
    for (const producer of this.producers) producer.send({ type: "close" });
    if (timedOut) for (const producer of this.producers) producer.terminate();
    await within(Promise.all([...this.consumerWorkers(), ...(timedOut ? [] : this.producers)].map((w) => w.closed)), 10_000);
    for (const worker of [...this.consumerWorkers(), ...this.producers]) worker.terminate();
    // every record's span has ended by now: send what is queued (bounded)
    await this.spanExport?.close(SPAN_FLUSH_TIMEOUT_MS);
    this.reportProgress();
    this.log.info("stopped", { ms: Date.now() - started });
    this.endpoint?.stop();
    if (failure !== undefined) process.stderr.write(`processor: ${failure}\n`);
    this.resolveExit(timedOut || failure !== undefined ? EXIT_FATAL : EXIT_OK);
  }

  /**
   * The dead-letter guard tripped: stop fetching, commit what was finished before the record that tripped it
   * (nothing after it finishes any more), and exit non-zero so a bad deploy does not empty the input.
   */
  private halt(reason: string): void {
    if (this.fatalFailure !== null || this.shuttingDown) return;
    this.fatalFailure = { kind: "halted", message: reason, retriable: false };
    this.log.error("stopping: too many records failed", { error: reason });
    // The orderly shutdown: deliveries already under way complete their records, the group is left at once.
    void this.shutdown("dead-letter guard", reason);
  }

  /** A condition no retry fixes. Exits at once: uncommitted work is simply processed again after a restart. */
  fatal(failure: Failure): void {
    this.fatalFailure = failure;
    this.log.error("fatal", { error: failure.message, kind: failure.kind });
    process.stderr.write(`processor: ${failure.message}\n`);
    for (const worker of [...this.consumerWorkers(), ...this.producers]) worker.terminate();
    this.resolveExit(EXIT_FATAL);
  }

  private consumerWorkers(): ConsumerWorker[] {
    return [...this.consumers.values()].map((c) => c.worker);
  }

  private commitRound(): Promise<void> {
    // One round at a time; a round asked for while one runs waits for it, then runs again.
    const run = async (): Promise<void> => {
      await this.pipeline.commit((owner) => this.consumers.get(owner)?.worker.commit);
    };
    const next = (this.committing ?? Promise.resolve()).then(run, run);
    this.committing = next;
    void next.finally(() => {
      if (this.committing === next) this.committing = null;
    });
    return next;
  }

  private reportProgress(): void {
    this.log.info("progress", { ...this.pipeline.stats, inFlight: this.pipeline.inFlight, waitingOn: this.pipeline.blockedPartitions });
  }
}
