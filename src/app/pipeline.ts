/**
 * The main thread's half of processor: records come in from the consumer rings, become scheduler tasks, run
 * through the handler, and go out through the producer rings; acknowledgements flow back and move the commit
 * points. An offset is committed only when every output of its record (or its dead-letter copy) is in Kafka.
 */
import { createRing, RingReader, RingWriter, type RingBuffers } from "../ring/byte-ring.ts";
import { decodeRecordAt, RecordEncoder, type DecodedRecord } from "../ring/record-codec.ts";
import { Scheduler, type Task, type TaskOutcome } from "../scheduler/scheduler.ts";
import { OffsetTracker, partitionKey, type CommitRequest, type Ticket } from "../offsets/offset-tracker.ts";
import { runHandler, errorText, type HandlerOutcome, type ResolvedOutput } from "../handlers/run-handler.ts";
import type { Handler, InputRecord } from "../handlers/types.ts";
import { ASSIGNMENT_FRAME, type AssignmentChange, type CommitOffset } from "../kafka/protocol.ts";
import { backoffMs } from "../kafka/errors.ts";
import { logSafeText, type Logger } from "../observability/logger.ts";
import { deadLetter, deadLetterStub, type DeadLetterKind } from "./dead-letter.ts";
import { QueuedInput } from "./input-record.ts";
import { DeadLetterGuard, type DeadLetterGuardSettings } from "./dead-letter-guard.ts";

export type Ordering = "key" | "partition" | "none";

export interface PipelineSettings extends DeadLetterGuardSettings {
  readonly workers: number;
  readonly pickUp: number;
  readonly ordering: Ordering;
  readonly retries: number;
  readonly retryBackoffMs: number;
  readonly retryBackoffMaxMs: number;
  readonly handlerTimeoutMs: number;
  readonly outputTopic: string;
  readonly dlqTopic: string;
  readonly autoOffsetStore: boolean;
  readonly ringBytes: number;
  readonly producers: number;
  /** How long partitions being revoked may take to finish their in-flight records. */
  readonly revokeTimeoutMs: number;
  /** Per partition, records received and not yet committable at which its fetching pauses. */
  readonly maxUncommitted: number;
}

/** Timings the pipeline reports as they happen (metrics). */
export interface PipelineObserver {
  handlerSeconds(seconds: number): void;
  commitSeconds(seconds: number): void;
  /** The dead-letter guard tripped: the pipeline has stopped finishing records. */
  halted(reason: string): void;
  /** A record can be written nowhere: stop before its offset could ever be committed. */
  fatal(reason: string): void;
  /** Flow control: stop (or start again) fetching these partitions of consumer `owner`. */
  partitionFlow(owner: number, partitions: ReadonlyArray<{ topic: string; partition: number }>, paused: boolean): void;
}

const NO_OBSERVER: PipelineObserver = { handlerSeconds: () => undefined, commitSeconds: () => undefined, halted: () => undefined, fatal: () => undefined, partitionFlow: () => undefined };

/** How the pipeline asks a consumer Worker to commit. */
export type CommitPort = (offsets: readonly CommitOffset[]) => Promise<{ committed: readonly CommitOffset[]; error?: string }>;

interface RecordWork {
  readonly input: QueuedInput;
  readonly ticket: Ticket;
  readonly bytes: number;
  /** Times processor itself failed on this record (a bug); after INTERNAL_ATTEMPTS it is dead-lettered. */
  internalFailures: number;
  internalReason: string | null;
}

interface PendingDelivery {
  readonly ticket: Ticket;
  remaining: number;
  /** Kept until Kafka has every output: an output it refuses turns into a dead-letter copy of this input. */
  readonly input: InputRecord;
  /** An output was refused and the record's input is on its way to the dead-letter topic (once per record). */
  deadLettered: boolean;
  /** Writing its outputs failed half way (an internal error): the record runs again, these deliveries do not count. */
  abandoned: boolean;
}

/** A dead-letter copy in flight: if Kafka refuses it too, what to send instead (or nothing left: fatal). */
interface DeadLetterCopy {
  readonly stub: boolean;
  readonly reason: string;
  readonly kind: DeadLetterKind;
}

/** Internal failures of one record before it goes to the dead-letter topic (kind internal). */
const INTERNAL_ATTEMPTS = 3;

export interface PipelineStats {
  consumed: number;
  /** Handler runs that failed, each attempt counted. */
  failed: number;
  produced: number;
  deadLettered: number;
  filtered: number;
  retried: number;
  committedOffsets: number;
  /** Assignment changes seen, summed over this process's consumers. */
  assignmentChanges: number;
  /** Records dropped as stale: their partition had moved to another consumer or was being revoked. */
  staleDropped: number;
  /** Times processor itself failed on a record (a bug): each is logged, retried, then dead-lettered. */
  internalErrors: number;
}

const DONE: TaskOutcome = { kind: "done" };
/** Reasons can quote record payloads: logs keep the start of them (the dead-letter header keeps more). */
const logSafe = (text: string): string => logSafeText(text, 512);
/** Records taken from a consumer ring per turn of the event loop. */
const BATCH_BYTES = 256 * 1024;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export class Pipeline {
  readonly stats: PipelineStats = { consumed: 0, failed: 0, produced: 0, deadLettered: 0, filtered: 0, retried: 0, committedOffsets: 0, assignmentChanges: 0, staleDropped: 0, internalErrors: 0 };
  readonly producerRings: RingBuffers[];
  private readonly producerWriters: RingWriter[];
  private readonly scheduler: Scheduler<RecordWork>;
  private readonly tracker = new OffsetTracker();
  private readonly encoder = new RecordEncoder();
  private readonly deliveries = new Map<number, PendingDelivery>();
  /** Delivery ids of dead-letter copies: if Kafka refuses one, a stub goes instead; if that too, nowhere is left. */
  private readonly deadLetterIds = new Map<number, DeadLetterCopy>();
  /** Partitions whose fetching is paused (--max-uncommitted), with the consumer that was asked. */
  private readonly paused = new Map<string, { readonly owner: number; readonly topic: string; readonly partition: number }>();
  private nextDeliveryId = 1;
  private bufferedBytes = 0;
  private readonly maxBufferedRecords: number;
  private readonly maxBufferedBytes: number;
  private intakeWaiters: Array<() => void> = [];
  private publishQueued = false;
  private lastBatch: Uint8Array | null = null;
  private lastView: DataView | null = null;
  private readonly drains: Array<Promise<void>> = [];
  private readonly detached = new Set<number>();
  private readonly idleWaiters: Array<() => void> = [];
  /** Revocations waiting for their partitions' in-flight records to finish. */
  private revokeWaiters: Array<{ readonly keys: readonly string[]; readonly resolve: () => void }> = [];
  private readonly guard: DeadLetterGuard;

  constructor(
    private readonly settings: PipelineSettings,
    private readonly handler: Handler,
    private readonly log: Logger,
    private readonly observer: PipelineObserver = NO_OBSERVER,
  ) {
    this.guard = new DeadLetterGuard(settings);
    this.producerRings = Array.from({ length: settings.producers }, () => createRing(settings.ringBytes));
    this.producerWriters = this.producerRings.map((ring) => new RingWriter(ring));
    this.maxBufferedRecords = Math.max(4096, settings.workers * 4);
    this.maxBufferedBytes = settings.ringBytes * 2;
    this.scheduler = new Scheduler<RecordWork>({
      workers: settings.workers,
      pickUp: settings.pickUp,
      execute: (task) => this.execute(task),
      onExecuteError: (task, error) => this.onInternalError(task, error),
      onSettled: () => this.onSettled(),
    });
  }

  /** Reads a consumer Worker's ring until it closes (or the consumer is detached). */
  attachConsumer(owner: number, ring: RingBuffers): void {
    this.drains.push(this.drain(owner, new RingReader(ring)));
  }

  /**
   * Forgets a consumer that is gone (its Worker crashed): its ring is no longer read and its partitions'
   * queued work and offset tracking are dropped. Nothing of it was committed past its completed prefix, so
   * whoever gets those partitions next starts from a safe place. Returns the number of tasks dropped.
   */
  detachConsumer(owner: number): number {
    this.detached.add(owner);
    let removed = 0;
    for (const key of this.tracker.forgetOwner(owner)) removed += this.removeGroup(key);
    return removed;
  }

  /**
   * Commit on revoke: the group takes these partitions from consumer `owner` (which holds them until this
   * resolves). Their records still in the ring are dropped as stale; those in flight may finish within
   * --revoke-timeout; then what is finished is committed through that consumer alone (`port`: a round through
   * every consumer could wait behind another consumer's JoinGroup, which waits for this revocation) and the rest
   * is dropped, for the next owner to fetch again from that commit.
   */
  async revoke(owner: number, partitions: ReadonlyArray<{ topic: string; partition: number }>, at: number, port: CommitPort | undefined): Promise<void> {
    const keys = this.tracker.beginRevoke(owner, partitions, at);
    if (keys.length === 0) return;
    const started = performance.now();
    const inFlight = this.tracker.inFlightOf(keys);
    const finished = await this.untilFinished(keys, this.settings.revokeTimeoutMs);
    const commitNow = async (): Promise<void> => {
      const requests = this.tracker.takeCommitsFor(keys);
      if (requests.length === 0 || port === undefined) return;
      const result = await port(requests);
      this.stats.committedOffsets += result.committed.length;
      if (result.error === undefined) return;
      this.log.info("commit of revoked partitions failed", { consumer: owner, error: result.error });
      for (const request of requests) this.tracker.retryCommit(request);
    };
    await commitNow();
    // a commit refused (the group moving on) is asked for once more while the partitions are ours
    if (this.tracker.hasUncommitted(keys)) await commitNow();
    let removed = 0;
    for (const key of this.tracker.release(owner, keys)) removed += this.removeGroup(key);
    const fields = { consumer: owner, partitions: keys.length, inFlightAtStart: inFlight, droppedTasks: removed, ms: Math.round(performance.now() - started) };
    if (finished) this.log.info("revoked partitions finished and committed", fields);
    else this.log.warn("revoke timeout reached: unfinished records of revoked partitions go to their next owner", fields);
  }

  private untilFinished(keys: readonly string[], timeoutMs: number): Promise<boolean> {
    if (this.tracker.inFlightOf(keys) === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const waiter = {
        keys,
        resolve: () => {
          clearTimeout(timer);
          resolve(true);
        },
      };
      const timer = setTimeout(() => {
        this.revokeWaiters = this.revokeWaiters.filter((w) => w !== waiter);
        resolve(false);
      }, timeoutMs);
      this.revokeWaiters.push(waiter);
    });
  }

  private notifyRevokeWaiters(): void {
    if (this.revokeWaiters.length === 0) return;
    const waiting = this.revokeWaiters;
    this.revokeWaiters = [];
    for (const waiter of waiting) {
      if (this.tracker.inFlightOf(waiter.keys) === 0) waiter.resolve();
      else this.revokeWaiters.push(waiter);
    }
  }

  /** Producer acknowledgements: each id is one output now safely in Kafka. */
  delivered(ids: Uint32Array): void {
    for (const id of ids) {
      const pending = this.deliveries.get(id);
      if (!pending) continue;
      this.deliveries.delete(id);
      this.deadLetterIds.delete(id);
      this.stats.produced++;
      if (--pending.remaining === 0 && !pending.abandoned) this.tracker.complete(pending.ticket);
    }
    this.resumeFlow();
    this.notifyIdle();
    this.notifyRevokeWaiters();
  }

  /**
   * Kafka refused one output for good (its size): the record's input goes to the dead-letter topic in its
   * place, and the record completes when that copy is in. A refused dead-letter copy is fatal: nothing of the
   * record could be stored, so its offset must never be committed.
   */
  rejected(id: number, reason: string): void {
    const pending = this.deliveries.get(id);
    if (!pending) return;
    this.deliveries.delete(id);
    const copyOf = this.deadLetterIds.get(id);
    this.deadLetterIds.delete(id);
    const { input } = pending;
    const { topic, partition, offset } = input;
    if (copyOf?.stub === true) {
      this.observer.fatal(`the dead-letter copy of ${topic}/${partition}@${offset} was refused even without its value and headers (${reason}); check the dead-letter topic ${this.settings.dlqTopic}`);
      return;
    }
    let copy;
    let copyKind: DeadLetterCopy;
    if (copyOf !== undefined) {
      // The input itself is too large for the dead-letter topic: send the reasons and where to find it.
      const why = `${copyOf.reason}; the full dead-letter copy was refused too (${reason})`;
      this.log.warn("dead-letter copy refused; sending it without the record's value and headers", { topic, partition, offset, error: logSafe(why) });
      copy = deadLetterStub(input, this.settings.dlqTopic, why, input.attempt, copyOf.kind);
      copyKind = { stub: true, reason: why, kind: copyOf.kind };
    } else if (pending.deadLettered || pending.abandoned) {
      // Another output of this record was refused already (its dead-letter copy stands for the record), or the
      // record runs again: this one is simply not coming.
      if (--pending.remaining === 0 && !pending.abandoned) this.tracker.complete(pending.ticket);
      this.resumeFlow();
      this.notifyIdle();
      this.notifyRevokeWaiters();
      return;
    } else {
      const why = `output refused by Kafka: ${reason}`;
      pending.deadLettered = true;
      this.log.warn("record sent to the dead-letter topic", { topic, partition, offset, error: logSafe(why), dlqTopic: this.settings.dlqTopic });
      this.stats.deadLettered++;
      copy = deadLetter(input, this.settings.dlqTopic, why, input.attempt, "output-refused");
      copyKind = { stub: false, reason: why, kind: "output-refused" };
    }
    let frame: Uint8Array;
    try {
      frame = this.encodeOutput(copy, pending, copyKind).slice();
    } catch (error) {
      this.observer.fatal(`cannot write the dead-letter copy of ${topic}/${partition}@${offset}: ${errorText(error)}`);
      return;
    }
    const writer = this.producerWriters[0]!;
    writer.write(frame).then(
      () => writer.publish(),
      // only after a shutdown that timed out closed the rings: the record stays uncommitted
      (error: unknown) => this.log.warn("dead-letter copy not written", { topic, partition, offset, error: errorText(error) }),
    );
  }

  /** One commit round: every partition whose contiguous completed prefix moved, batched per consumer. */
  async commit(portOf: (owner: number) => CommitPort | undefined): Promise<void> {
    const byOwner = new Map<number, CommitRequest[]>();
    for (const request of this.tracker.takeCommits()) {
      const list = byOwner.get(request.owner) ?? [];
      list.push(request);
      byOwner.set(request.owner, list);
    }
    await Promise.all(
      [...byOwner].map(async ([owner, requests]) => {
        const port = portOf(owner);
        if (!port) return;
        const started = performance.now();
        const result = await port(requests);
        this.observer.commitSeconds((performance.now() - started) / 1000);
        this.stats.committedOffsets += result.committed.length;
        if (result.error !== undefined) {
          // a commit racing a rebalance is refused for its generation: expected, and retried under the new one
          const raced = /generation|rebalanc/i.test(result.error);
          this.log[raced ? "info" : "warn"]("commit failed; will retry", { consumer: owner, error: result.error, partitions: requests.length });
          for (const request of requests) this.tracker.retryCommit(request);
        }
      }),
    );
  }

  /** Resolves when every consumer ring closed and all its records are processed and delivered. */
  async drained(): Promise<void> {
    await Promise.all(this.drains);
    while (this.scheduler.size > 0 || this.deliveries.size > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Lets the producer Workers finish: they exit after delivering what is in their rings. */
  closeProducerRings(): void {
    for (const writer of this.producerWriters) writer.close();
  }

  get inFlight(): number {
    return this.scheduler.size + this.deliveries.size;
  }

  /** Partitions whose commit point is held back by a record, for the progress report. */
  get blockedPartitions(): string {
    return this.tracker
      .describe()
      .filter((p) => p.oldestInFlight !== null)
      .map((p) => `${p.topic}/${p.partition}@${p.oldestInFlight}(${p.inFlight})`)
      .join(",");
  }

  private async drain(owner: number, reader: RingReader): Promise<void> {
    while (!reader.finished && !this.detached.has(owner)) {
      await reader.waitForData(500);
      while (this.scheduler.size >= this.maxBufferedRecords || this.bufferedBytes >= this.maxBufferedBytes) {
        await new Promise<void>((resolve) => this.intakeWaiters.push(resolve));
      }
      if (this.detached.has(owner)) return;
      const taken = reader.drainBatch(BATCH_BYTES, (batch, start, end) => {
        this.accept(owner, decodeRecordAt(batch, this.viewOf(batch), start), end - start);
      });
      reader.release();
      // While records keep coming, everything here runs as microtasks: give timers (commits) and Worker
      // messages (delivery reports) their turn after every batch.
      if (taken > 0) await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  private accept(owner: number, record: DecodedRecord, bytes: number): void {
    if (record.partition === ASSIGNMENT_FRAME) {
      this.onAssignment(owner, record);
      return;
    }
    const tracked = this.tracker.track(record.topic, record.partition, record.offset, owner);
    if (tracked === null) {
      this.stats.staleDropped++;
      return;
    }
    this.stats.consumed++;
    const { ticket, rewound } = tracked;
    if (rewound) {
      const removed = this.removeGroup(ticket.partitionKey);
      this.log.info("partition re-fetched from its committed offset; dropped its older work", { topic: record.topic, partition: record.partition, offset: record.offset, removed });
    }
    if (this.settings.autoOffsetStore) this.tracker.complete(ticket);
    this.bufferedBytes += bytes;
    this.scheduler.schedule({ input: new QueuedInput(record), ticket, bytes, internalFailures: 0, internalReason: null }, this.laneOf(record), ticket.partitionKey);
    this.limitUncommitted(owner, record.topic, record.partition, ticket.partitionKey);
  }

  /** --max-uncommitted: a partition holding that many records not yet committable stops being fetched. */
  private limitUncommitted(owner: number, topic: string, partition: number, key: string): void {
    if (this.tracker.uncommitted(key) < this.settings.maxUncommitted || this.paused.has(key)) return;
    this.paused.set(key, { owner, topic, partition });
    this.observer.partitionFlow(owner, [{ topic, partition }], true);
  }

  /** Paused partitions resume once they are down to half the limit (or no longer tracked here). */
  private resumeFlow(): void {
    if (this.paused.size === 0) return;
    const limit = this.settings.maxUncommitted;
    for (const [key, paused] of this.paused) {
      const tracked = this.tracker.ownerOf(key) === paused.owner;
      if (tracked && this.tracker.uncommitted(key) > limit / 2) continue;
      this.paused.delete(key);
      this.observer.partitionFlow(paused.owner, [{ topic: paused.topic, partition: paused.partition }], false);
    }
  }

  /** Flow-control figures for metrics. */
  get flow(): { pausedPartitions: number; uncommitted: number; bufferedBytes: number } {
    return { pausedPartitions: this.paused.size, uncommitted: this.tracker.inFlight, bufferedBytes: this.bufferedBytes };
  }

  private onAssignment(owner: number, record: DecodedRecord): void {
    const change = JSON.parse(utf8.decode(record.value ?? new Uint8Array(0))) as AssignmentChange;
    // the frame's timestamp is when the consumer was given these partitions
    const { moved, dropped } = this.tracker.assign(owner, change.partitions, record.timestamp);
    let removed = 0;
    for (const key of [...moved, ...dropped]) removed += this.removeGroup(key);
    this.stats.assignmentChanges++;
    this.log.info("assignment changed", { consumer: owner, epoch: record.ref, partitions: change.partitions.length, movedHere: moved.length, revoked: dropped.length, removedTasks: removed });
  }

  /** Drops a partition's queued work; returns how many tasks were removed. */
  private removeGroup(group: string): number {
    const removed = this.scheduler.removeGroup(group);
    for (const task of removed) this.bufferedBytes -= task.payload.bytes;
    this.onSettled();
    return removed.length;
  }

  /** One DataView per batch rather than one per record. */
  private viewOf(batch: Uint8Array): DataView {
    if (this.lastView === null || this.lastBatch !== batch) {
      this.lastBatch = batch;
      this.lastView = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
    }
    return this.lastView;
  }

  private laneOf(record: DecodedRecord): string | null {
    switch (this.settings.ordering) {
      case "none":
        return null;
      case "partition":
        return partitionKey(record.topic, record.partition);
      case "key":
        // Kafka promises no order for records without a key.
        return record.key === null ? null : `${partitionKey(record.topic, record.partition)}\u0000${latin1.decode(record.key)}`;
    }
  }

  /** Synchronous end to end when the handler is and the producer ring has room: no promise per record. */
  private execute(task: Task<RecordWork>): TaskOutcome | Promise<TaskOutcome> {
    if (this.isStale(task)) return this.settle(task);
    const { input } = task.payload;
    if (task.payload.internalFailures >= INTERNAL_ATTEMPTS) return this.deadLetterInternal(task);
    const started = performance.now();
    // internal failures are processor's, not the handler's: they do not use up its retries
    input.attempt = task.attempt - task.payload.internalFailures;
    const outcome = runHandler(this.handler, input, this.settings.outputTopic, this.settings.handlerTimeoutMs);
    if (outcome instanceof Promise) {
      return outcome.then((o) => {
        this.observer.handlerSeconds((performance.now() - started) / 1000);
        return this.afterHandler(task, o);
      });
    }
    this.observer.handlerSeconds((performance.now() - started) / 1000);
    return this.afterHandler(task, outcome);
  }

  /**
   * Revoked or rewound meanwhile: the record will be delivered again, so its result is not wanted. After the
   * dead-letter guard tripped nothing finishes any more, so no offset moves past the record that tripped it.
   */
  private isStale(task: Task<RecordWork>): boolean {
    return task.cancelled || this.guard.reason !== null || !this.tracker.isCurrent(task.payload.ticket);
  }

  /** Feeds the guard; true when this record trips it (the record is then neither dead-lettered nor committed). */
  private tripsGuard(deadLettered: boolean): boolean {
    if (!this.guard.enabled) return false;
    const reason = this.guard.record(deadLettered);
    if (reason === null) return false;
    this.observer.halted(reason);
    return true;
  }

  private afterHandler(task: Task<RecordWork>, outcome: HandlerOutcome): TaskOutcome | Promise<TaskOutcome> {
    if (this.isStale(task)) return this.settle(task);
    let emitted: void | Promise<void>;
    if (outcome.kind === "failed") this.stats.failed++;
    if (outcome.kind === "outputs") {
      if (this.tripsGuard(false)) return this.settle(task);
      if (outcome.outputs.length === 0) this.stats.filtered++;
      emitted = this.emit(task, outcome.outputs);
    } else if (!outcome.permanent && task.payload.input.attempt <= this.settings.retries) {
      this.stats.retried++;
      const { attempt } = task.payload.input;
      const delayMs = backoffMs(attempt - 1, this.settings.retryBackoffMs, this.settings.retryBackoffMaxMs);
      this.log.debug("handler failed; will retry", { ...this.where(task), error: logSafe(outcome.reason), attempt, retryInMs: delayMs });
      // a record waiting for its retry keeps its own bytes, not the whole batch it was read with
      if (task.attempt === 1) this.holdOwnBytes(task);
      return { kind: "retry", delayMs };
    } else {
      if (this.tripsGuard(true)) return this.settle(task);
      const { input } = task.payload;
      const kind: DeadLetterKind = outcome.permanent ? "permanent" : "retries-exhausted";
      this.log.warn("record sent to the dead-letter topic", { ...this.where(task), error: logSafe(outcome.reason), attempts: input.attempt, dlqTopic: this.settings.dlqTopic });
      this.stats.deadLettered++;
      emitted = this.emit(task, [deadLetter(input, this.settings.dlqTopic, outcome.reason, input.attempt, kind)], { stub: false, reason: outcome.reason, kind });
    }
    return emitted instanceof Promise ? emitted.then(() => this.settle(task)) : this.settle(task);
  }

  private settle(task: Task<RecordWork>): TaskOutcome {
    this.bufferedBytes -= task.payload.bytes;
    return DONE;
  }

  private holdOwnBytes(task: Task<RecordWork>): void {
    task.payload.input.detach();
  }

  /**
   * processor itself failed on a record (a bug, e.g. in encoding its outputs): logged and counted, retried a few
   * times, then the record goes to the dead-letter topic with kind `internal`. Never retried forever, never lost.
   */
  private onInternalError(task: Task<RecordWork>, error: unknown): TaskOutcome {
    this.stats.internalErrors++;
    const work = task.payload;
    work.internalFailures++;
    work.internalReason = `internal error in processor: ${errorText(error)}`;
    if (task.cancelled) return this.settle(task);
    if (work.internalFailures > INTERNAL_ATTEMPTS) {
      // even the dead-letter copy could not be written: stop before this offset can ever be committed
      this.observer.fatal(`cannot process or dead-letter ${task.payload.input.topic}/${task.payload.input.partition}@${task.payload.input.offset}: ${work.internalReason}`);
      return this.settle(task);
    }
    this.log.error("internal error while processing a record", { ...this.where(task), error: logSafe(work.internalReason), failures: work.internalFailures, of: INTERNAL_ATTEMPTS });
    if (task.attempt === 1) this.holdOwnBytes(task);
    return { kind: "retry", delayMs: work.internalFailures >= INTERNAL_ATTEMPTS ? 0 : 250 * work.internalFailures };
  }

  private deadLetterInternal(task: Task<RecordWork>): TaskOutcome | Promise<TaskOutcome> {
    const { input, internalReason } = task.payload;
    const reason = internalReason ?? "internal error in processor";
    this.log.warn("record sent to the dead-letter topic", { ...this.where(task), error: logSafe(reason), dlqTopic: this.settings.dlqTopic });
    this.stats.deadLettered++;
    const emitted = this.emit(task, [deadLetter(input, this.settings.dlqTopic, reason, task.attempt, "internal")], { stub: false, reason, kind: "internal" });
    return emitted instanceof Promise ? emitted.then(() => this.settle(task)) : this.settle(task);
  }

  /**
   * Hands outputs to a producer ring; the record is done when all of them are acknowledged. If framing one fails
   * (an internal error, thrown on to the scheduler) the outputs already written are delivered but do not count:
   * the record runs again.
   */
  private emit(task: Task<RecordWork>, outputs: readonly ResolvedOutput[], deadLetterCopy?: DeadLetterCopy): void | Promise<void> {
    const { ticket } = task.payload;
    if (outputs.length === 0) {
      this.tracker.complete(ticket);
      return;
    }
    const pending: PendingDelivery = { ticket, remaining: outputs.length, input: task.payload.input, deadLettered: deadLetterCopy !== undefined, abandoned: false };
    const writer = this.producerWriters[this.producerFor(task)]!;
    this.queuePublish();
    for (let i = 0; i < outputs.length; i++) {
      const frame = this.framed(outputs[i]!, pending, i, deadLetterCopy);
      // Ring full (or a large frame still streaming): wait for the producer, copying the frame first (the
      // encoder's buffer is reused).
      if (!writer.tryWrite(frame)) return this.emitSlowly(writer, frame.slice(), outputs, i + 1, pending, deadLetterCopy);
    }
  }

  /** `encodeOutput`, giving up the record's pending delivery if it throws (the outputs before `index` went out). */
  private framed(output: ResolvedOutput, pending: PendingDelivery, index: number, deadLetterCopy: DeadLetterCopy | undefined): Uint8Array {
    try {
      return this.encodeOutput(output, pending, deadLetterCopy);
    } catch (error) {
      this.abandon(pending);
      throw error;
    }
  }

  /** A record's outputs could not all be written: those that were no longer count (it runs again). */
  private abandon(pending: PendingDelivery): void {
    pending.abandoned = true;
    for (const [id, other] of this.deliveries) {
      if (other !== pending) continue;
      this.deliveries.delete(id);
      this.deadLetterIds.delete(id);
    }
  }

  /**
   * Frames an output under a new delivery id; valid until the next call (the encoder's buffer is reused). The id
   * is registered only once the frame exists: an output that cannot be framed leaves nothing waiting.
   */
  private encodeOutput(output: ResolvedOutput, pending: PendingDelivery, deadLetterCopy?: DeadLetterCopy): Uint8Array {
    const id = this.nextDeliveryId;
    const frame = this.encoder.encode({ ref: id, topic: output.topic, partition: -1, offset: 0, timestamp: 0, key: output.key, value: output.value, headers: output.headers });
    this.nextDeliveryId = id >= 0xffffffff ? 1 : id + 1;
    this.deliveries.set(id, pending);
    if (deadLetterCopy !== undefined) this.deadLetterIds.set(id, deadLetterCopy);
    return frame;
  }

  private async emitSlowly(writer: RingWriter, frame: Uint8Array, outputs: readonly ResolvedOutput[], from: number, pending: PendingDelivery, deadLetterCopy: DeadLetterCopy | undefined): Promise<void> {
    writer.publish();
    try {
      await writer.write(frame);
      for (let i = from; i < outputs.length; i++) {
        const next = this.framed(outputs[i]!, pending, i, deadLetterCopy);
        if (!writer.tryWrite(next)) await writer.write(next.slice());
      }
    } catch (error) {
      this.abandon(pending);
      throw error;
    }
    this.queuePublish();
  }

  /** Same lane → same producer, so per-key (or per-partition) order survives the hop to Kafka. */
  private producerFor(task: Task<RecordWork>): number {
    const count = this.producerWriters.length;
    if (count === 1) return 0;
    return hashString(task.lane ?? task.group) % count;
  }

  private queuePublish(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      for (const writer of this.producerWriters) writer.publish();
    });
  }

  private onSettled(): void {
    this.notifyRevokeWaiters();
    this.resumeFlow();
    if (this.intakeWaiters.length > 0 && this.scheduler.size < this.maxBufferedRecords && this.bufferedBytes < this.maxBufferedBytes) {
      const waiters = this.intakeWaiters;
      this.intakeWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.notifyIdle();
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || this.scheduler.size > 0 || this.deliveries.size > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private where(task: Task<RecordWork>): Record<string, string | number> {
    const { topic, partition, offset } = task.payload.input;
    return { topic, partition, offset };
  }
}
