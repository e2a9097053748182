/**
 * Records in: consumer rings are read into the offset tracker and the scheduler, held back when too much is
 * buffered, and kept in step with the group: assignment frames, re-fetches (rewinds), revocations (commit on
 * revoke), consumers that are gone, and --max-uncommitted flow control.
 */
import { RingReader, type RingBuffers } from "../threads/byte-ring.ts";
import { decodeRecordAt, type DecodedRecord } from "../threads/record-codec.ts";
import { Scheduler, type Task, type TaskOutcome } from "../scheduler/scheduler.ts";
import { partitionKey, type OffsetTracker } from "../offsets/offset-tracker.ts";
import type { AssignmentChange } from "../threads/messages.ts";
import type { Logger } from "../observability/logger.ts";
import { QueuedInput } from "./input-record.ts";
import type { ReleaseGate } from "./release-gate.ts";
import type { CommitPort, PipelineObserver, PipelineSettings, PipelineStats, RecordWork } from "./types.ts";

/** Commit on revoke: commits what is finished of these partitions of `owner` before they go. */
export interface RevokeCommits {
  revoked(owner: number, keys: readonly string[], port: CommitPort | undefined): Promise<void>;
}

/** What runs the scheduled records (the rest of the pipeline). */
export interface IntakeRunner {
  /** May finish synchronously: the scheduler then allocates no promise for the record. */
  execute(task: Task<RecordWork>): TaskOutcome | Promise<TaskOutcome>;
  /** Batch mode (--batch-size > 1): runs tasks together, one outcome each. */
  executeBatch?(tasks: ReadonlyArray<Task<RecordWork>>): ReadonlyArray<TaskOutcome | Promise<TaskOutcome>>;
  onExecuteError(task: Task<RecordWork>, error: unknown): TaskOutcome;
  /** A task settled or queued work was dropped: the pipeline may have gone idle. */
  settled(): void;
}

type PartitionRef = { readonly topic: string; readonly partition: number };

const DONE: TaskOutcome = { kind: "done" };
/** Records taken from a consumer ring per turn of the event loop. */
const BATCH_BYTES = 256 * 1024;
const latin1 = new TextDecoder("latin1");
const utf8 = new TextDecoder();

export class Intake {
  readonly scheduler: Scheduler<RecordWork>;
  private bufferedBytes = 0;
  private readonly maxBufferedRecords: number;
  private readonly maxBufferedBytes: number;
  private intakeWaiters: Array<() => void> = [];
  private lastBatch: Uint8Array | null = null;
  private lastView: DataView | null = null;
  private readonly drains: Array<Promise<void>> = [];
  private readonly detached = new Set<number>();
  private readonly attached = new Set<number>();
  /** Per consumer, the epoch of the last assignment frame read from its ring. */
  private readonly epochs = new Map<number, number>();
  /** Revocations waiting for their partitions' in-flight records to finish. */
  private revokeWaiters: Array<{ readonly keys: readonly string[]; readonly resolve: () => void }> = [];
  /** Partitions whose fetching is paused (--max-uncommitted), with the consumer that was asked. */
  private readonly paused = new Map<string, PartitionRef & { readonly owner: number }>();

  constructor(
    private readonly settings: PipelineSettings,
    readonly tracker: OffsetTracker,
    private readonly commits: RevokeCommits,
    private readonly stats: PipelineStats,
    private readonly log: Logger,
    private readonly observer: PipelineObserver,
    private readonly runner: IntakeRunner,
    /** Exactly-once mode: records are released in partition order (see ReleaseGate). */
    private readonly gate: ReleaseGate | null = null,
  ) {
    const { executeBatch } = runner;
    if (settings.batchSize > 1 && executeBatch === undefined) throw new Error("batch mode needs a runner that runs batches");
    // batch mode: a batch is at most what may run at once, so as many may
    const concurrency = Math.max(settings.concurrency, settings.batchSize);
    this.maxBufferedRecords = Math.max(4096, concurrency * 4);
    this.maxBufferedBytes = settings.ringBytes * 2;
    this.scheduler = new Scheduler<RecordWork>({
      concurrency,
      pickUp: settings.pickUp,
      execute: (task) => runner.execute(task),
      onExecuteError: (task, error) => runner.onExecuteError(task, error),
      onSettled: () => this.onSettled(),
      ...(settings.batchSize > 1 && {
        batch: { size: settings.batchSize, waitMs: settings.batchWaitMs, execute: (tasks) => executeBatch!.call(runner, tasks) },
      }),
    });
  }

  /** Reads a consumer Worker's ring until it closes (or the consumer is detached). */
  attachConsumer(owner: number, ring: RingBuffers): void {
    this.attached.add(owner);
    this.drains.push(this.drain(owner, new RingReader(ring)));
  }

  /** Resolves when every attached ring closed (or its consumer was detached) and was read to its end. */
  async consumersClosed(): Promise<void> {
    await Promise.all(this.drains);
  }

  /** The epoch of the last assignment frame read from consumer `owner`'s ring (-1 before any). */
  assignmentEpoch(owner: number): number {
    return this.epochs.get(owner) ?? -1;
  }

  /** Consumers whose rings are read. */
  get owners(): number[] {
    return [...this.attached].filter((owner) => !this.detached.has(owner));
  }

  /** Exactly-once mode, after an abort: drops the queued work of these partitions; returns how many tasks. */
  dropWork(keys: readonly string[]): number {
    let removed = 0;
    for (const key of keys) removed += this.removePartition(key);
    return removed;
  }

  /** Forgets a consumer that is gone; returns the number of its queued tasks dropped. */
  detachConsumer(owner: number): number {
    this.detached.add(owner);
    let removed = 0;
    for (const key of this.tracker.forgetOwner(owner)) removed += this.removePartition(key);
    return removed;
  }

  /**
   * Commit on revoke: records of these partitions still in the ring are dropped as stale; those in flight may
   * finish within --revoke-timeout; what is finished is committed through `port`, the rest is dropped for the
   * next owner to fetch again from that commit.
   */
  async revoke(owner: number, partitions: readonly PartitionRef[], at: number, port: CommitPort | undefined): Promise<void> {
    const keys = this.tracker.beginRevoke(owner, partitions, at);
    if (keys.length === 0) return;
    const started = performance.now();
    const inFlight = this.tracker.inFlightOf(keys);
    const finished = await this.untilFinished(keys, this.settings.revokeTimeoutMs);
    await this.commits.revoked(owner, keys, port);
    let removed = 0;
    for (const key of this.tracker.release(owner, keys)) removed += this.removePartition(key);
    const fields = {
      consumer: owner,
      partitions: keys.length,
      inFlightAtStart: inFlight,
      droppedTasks: removed,
      ms: Math.round(performance.now() - started),
    };
    if (finished) this.log.info("revoked partitions finished and committed", fields);
    else this.log.warn("revoke timeout reached: unfinished records of revoked partitions go to their next owner", fields);
  }

  /** A task is finished with (done, dropped or dead-lettered): its bytes no longer hold the intake back. */
  done(task: Task<RecordWork>): TaskOutcome {
    this.bufferedBytes -= task.payload.bytes;
    return DONE;
  }

  /** Outputs were acknowledged (or given up): commit points moved, so paused partitions and revocations may go on. */
  progressed(): void {
    this.resumeFlow();
    this.notifyRevokeWaiters();
  }

  /** Flow-control figures for metrics. */
  /** Per partition, records received and not yet committable (the figure --max-uncommitted limits). */
  uncommittedByPartition(): Array<{ topic: string; partition: number; uncommitted: number }> {
    return this.tracker.describe().map(({ topic, partition, inFlight }) => ({ topic, partition, uncommitted: inFlight }));
  }

  get flow(): { pausedPartitions: number; uncommitted: number; bufferedBytes: number } {
    return { pausedPartitions: this.paused.size, uncommitted: this.tracker.inFlight, bufferedBytes: this.bufferedBytes };
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
    if (record.kind === "assignment") {
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
      const removed = this.removePartition(ticket.partitionKey);
      this.log.info("partition re-fetched from its committed offset; dropped its older work", {
        topic: record.topic,
        partition: record.partition,
        offset: record.offset,
        removed,
      });
    }
    if (this.settings.autoOffsetStore) this.tracker.complete(ticket);
    this.gate?.expect(ticket);
    this.bufferedBytes += bytes;
    this.scheduler.schedule(
      { input: new QueuedInput(record), ticket, bytes, internalFailures: 0, internalReason: null },
      this.laneOf(record, ticket.partitionKey),
      ticket.partitionKey,
    );
    this.limitUncommitted(owner, record.topic, record.partition, ticket.partitionKey);
  }

  private onAssignment(owner: number, record: DecodedRecord): void {
    const change = JSON.parse(utf8.decode(record.value ?? new Uint8Array(0))) as AssignmentChange;
    // the frame's timestamp is when the consumer was given these partitions
    this.epochs.set(owner, record.ref);
    const refetched = change.refetched !== undefined;
    const { moved, dropped } = this.tracker.assign(owner, change.partitions, record.timestamp, change.refetched ?? null);
    let removed = 0;
    for (const key of [...moved, ...dropped]) removed += this.removePartition(key);
    if (refetched) for (const { topic, partition } of change.partitions) this.gate?.forget(partitionKey(topic, partition));
    this.stats.assignmentChanges++;
    this.log.info("assignment changed", {
      consumer: owner,
      epoch: record.ref,
      partitions: change.partitions.length,
      movedHere: moved.length,
      revoked: dropped.length,
      removedTasks: removed,
      ...(refetched && { refetched }),
    });
  }

  /** Drops a partition's queued work; returns how many tasks were removed. */
  private removePartition(partitionKey: string): number {
    this.gate?.forget(partitionKey);
    const removed = this.scheduler.removePartition(partitionKey);
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

  /** `partition`: the record's partitionKey (the tracker's, so no new string per record). */
  private laneOf(record: DecodedRecord, partition: string): string | null {
    switch (this.settings.ordering) {
      case "none":
        return null;
      case "partition":
        return partition;
      case "key":
        // Kafka promises no order for records without a key.
        return record.key === null ? null : `${partition}\u0000${latin1.decode(record.key)}`;
    }
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

  private onSettled(): void {
    this.notifyRevokeWaiters();
    this.resumeFlow();
    if (this.intakeWaiters.length > 0 && this.scheduler.size < this.maxBufferedRecords && this.bufferedBytes < this.maxBufferedBytes) {
      const waiters = this.intakeWaiters;
      this.intakeWaiters = [];
      for (const resolve of waiters) resolve();
    }
    this.runner.settled();
  }
}
