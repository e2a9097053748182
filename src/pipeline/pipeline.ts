/**
 * The main thread's half of processor: records come in from the consumer rings (intake), run through the
 * handler (process-record decides what becomes of each) and go out through the producer rings (outbox);
 * acknowledgements flow back and move the commit points. An offset is committed only when every output of its
 * record (or its dead-letter copy) is in Kafka.
 *
 * Exactly-once mode: finished records are released in partition order (ReleaseGate), each partition's outputs go
 * to one producer, and commits end that producer's transaction with the offsets (Transactions). A transaction
 * that does not commit aborts everything open and replays it from the committed offsets (abortAndReplay).
 */
import type { RingBuffers } from "../threads/byte-ring.ts";
import type { Task, TaskOutcome } from "../scheduler/scheduler.ts";
import { OffsetTracker } from "../offsets/offset-tracker.ts";
import type { Handler, Handlers, InputRecord } from "../handlers/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { RecordTracing } from "../observability/otel/record-tracing.ts";
import type { GroupMember, TransactionOutcome } from "../threads/messages.ts";
import { Commits } from "./commits.ts";
import { Intake, type RevokeCommits } from "./intake.ts";
import { Outbox, type DeadLetterCopy, type PreparedRecord } from "./outbox.ts";
import type { ResolvedOutput } from "../handlers/run-handler.ts";
import type { Ticket } from "../offsets/offset-tracker.ts";
import { ReleaseGate } from "./release-gate.ts";
import { Transactions } from "./transactions.ts";
import { RecordProcessor, type RecordOutcome } from "./process-record.ts";
import {
  NO_OBSERVER,
  logSafe,
  newStats,
  type CommitPort,
  type PipelineObserver,
  type PipelineSettings,
  type PipelineStats,
  type RecordWork,
} from "./types.ts";

export type { CommitPort, Ordering, PipelineObserver, PipelineSettings, PipelineStats } from "./types.ts";

export class Pipeline {
  readonly stats: PipelineStats = newStats();
  private readonly commits: Commits;
  private readonly intake: Intake;
  private readonly processor: RecordProcessor;
  private readonly outbox: Outbox;
  private readonly tracker: OffsetTracker;
  /** Exactly-once mode only (null otherwise). */
  private readonly gate: ReleaseGate | null;
  private readonly transactions: Transactions | null;
  private readonly idleWaiters: Array<() => void> = [];
  /** Bound once: handed to the processor for every record. */
  private readonly act = (task: Task<RecordWork>, outcome: RecordOutcome): TaskOutcome | Promise<TaskOutcome> => this.actOn(task, outcome);

  constructor(
    settings: PipelineSettings,
    handler: Handler | Handlers,
    private readonly log: Logger,
    private readonly observer: PipelineObserver = NO_OBSERVER,
    /** Span export (--otel-endpoint); null when off. */
    private readonly tracing: RecordTracing | null = null,
  ) {
    const exactlyOnce = settings.guarantee === "exactly-once";
    const tracker = new OffsetTracker(exactlyOnce);
    this.tracker = tracker;
    this.gate = exactlyOnce ? new ReleaseGate() : null;
    this.commits = new Commits(tracker, this.stats, observer, log);
    this.transactions = exactlyOnce
      ? new Transactions(tracker, this.stats, observer, {
          producerOfPartition: (key) => this.outbox.producerOfPartition(key),
          endTransaction: (index, control) => this.outbox.endTransaction(index, control),
          abortAndReplay: (reason) => this.abortAndReplay(reason),
          assignmentEpoch: (owner) => this.intake.assignmentEpoch(owner),
        })
      : null;
    const transactions = this.transactions;
    const revokeCommits: RevokeCommits = transactions === null ? this.commits : { revoked: () => transactions.round() };
    this.intake = new Intake(
      settings,
      tracker,
      revokeCommits,
      this.stats,
      log,
      observer,
      {
        execute: (task) => this.processor.process(task, this.act),
        executeBatch: (tasks) => this.processor.processBatch(tasks, this.act),
        onExecuteError: (task, error) => this.onInternalError(task, error),
        settled: () => this.notifyIdle(),
      },
      this.gate,
    );
    const handlers: Handlers = typeof handler === "function" ? { record: handler, batch: null } : handler;
    if (settings.batchSize > 1 && handlers.batch === null)
      throw new Error("batch mode (--batch-size > 1) needs a handler with a batch form");
    this.processor = new RecordProcessor(
      settings,
      handlers.record,
      this.stats,
      log,
      observer,
      (ticket) => tracker.isCurrent(ticket),
      settings.batchSize > 1 ? handlers.batch : null,
      tracing,
    );
    this.outbox = new Outbox(
      settings,
      this.stats,
      log,
      observer,
      {
        // exactly-once mode: a record completes when it is released into its transaction (see release)
        complete: (ticket) => (exactlyOnce ? undefined : tracker.complete(ticket)),
        progressed: () => {
          this.intake.progressed();
          this.notifyIdle();
        },
      },
      tracing,
    );
  }

  get producerRings(): RingBuffers[] {
    return this.outbox.producerRings;
  }

  /** Reads a consumer Worker's ring until it closes (or the consumer is detached). */
  attachConsumer(owner: number, ring: RingBuffers): void {
    this.intake.attachConsumer(owner, ring);
  }

  /**
   * Forgets a consumer that is gone (its Worker crashed): its ring is no longer read and its partitions'
   * queued work and offset tracking are dropped. Nothing of it was committed past its completed prefix, so
   * whoever gets those partitions next starts from a safe place. Returns the number of tasks dropped.
   */
  detachConsumer(owner: number): number {
    this.transactions?.forgetOwner(owner);
    return this.intake.detachConsumer(owner);
  }

  /** Exactly-once mode: consumer `owner`'s group metadata, which its partitions' offsets are committed with. */
  setMember(owner: number, member: GroupMember, epoch: number): void {
    this.transactions?.setMember(owner, member, epoch);
  }

  /** Exactly-once mode: a producer reported how the transaction a control frame ended came out. */
  transactionEnded(ref: number, outcome: TransactionOutcome): void {
    this.outbox.transactionEnded(ref, outcome);
  }

  /** Commit on revoke: consumer `owner` holds these partitions until this resolves (see Intake.revoke). */
  revoke(
    owner: number,
    partitions: ReadonlyArray<{ topic: string; partition: number }>,
    at: number,
    port: CommitPort | undefined,
  ): Promise<void> {
    return this.intake.revoke(owner, partitions, at, port);
  }

  /** Producer acknowledgements: each id is one output now safely in Kafka. */
  delivered(ids: Uint32Array): void {
    this.outbox.delivered(ids);
  }

  /** Kafka refused one output for good: a dead-letter copy (or a stub of it) goes in its place. */
  rejected(id: number, reason: string): void {
    this.outbox.rejected(id, reason);
  }

  /** One commit round: every partition whose contiguous completed prefix moved, batched per consumer. */
  commit(portOf: (owner: number) => CommitPort | undefined): Promise<void> {
    return this.transactions?.round() ?? this.commits.round(portOf);
  }

  /** Resolves when every consumer ring closed and all its records are processed and delivered. */
  async drained(): Promise<void> {
    await this.intake.consumersClosed();
    while (this.inFlight > 0) {
      await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
    }
  }

  /** Lets the producer Workers finish: they exit after delivering what is in their rings. */
  closeProducerRings(): void {
    this.outbox.close();
  }

  get inFlight(): number {
    return this.intake.scheduler.size + this.outbox.pending;
  }

  /** Partitions whose commit point is held back by a record, for the progress report. */
  get blockedPartitions(): string {
    return this.intake.blockedPartitions;
  }

  /** Flow-control figures for metrics. */
  uncommittedByPartition(): Array<{ topic: string; partition: number; uncommitted: number }> {
    return this.intake.uncommittedByPartition();
  }

  get flow(): { pausedPartitions: number; uncommitted: number; bufferedBytes: number } {
    return this.intake.flow;
  }

  /** Carries out the processor's decision; synchronous unless the producer ring is full. */
  private actOn(task: Task<RecordWork>, outcome: RecordOutcome): TaskOutcome | Promise<TaskOutcome> {
    let outputs: readonly ResolvedOutput[];
    let copy: DeadLetterCopy | undefined;
    switch (outcome.kind) {
      case "outputs":
        outputs = outcome.outputs;
        break;
      case "dead-letter":
        outputs = [outcome.copy];
        copy = { stub: false, reason: outcome.reason, kind: outcome.deadLetterKind };
        this.tracing?.deadLettered(task.payload.input, outcome.deadLetterKind, outcome.reason);
        break;
      case "retry":
        return this.waitForRetry(task, outcome);
      case "halt":
        this.tracing?.end(task.payload.input, "halted", outcome.reason);
        this.observer.halted(outcome.reason);
        return this.intake.done(task);
      case "drop":
        // stale (or after the dead-letter guard tripped): it never completes, so its offset is never committed
        this.tracing?.end(task.payload.input, "dropped");
        return this.intake.done(task);
    }
    const { input, ticket } = task.payload;
    const written =
      this.gate === null
        ? this.outbox.emit(ticket, input, task.lane ?? task.partitionKey, outputs, copy)
        : this.releaseInOrder(this.gate, ticket, input, this.outbox.prepare(ticket, input, outputs, copy));
    return written instanceof Promise ? written.then(() => this.intake.done(task)) : this.intake.done(task);
  }

  /**
   * Exactly-once mode: the record's frames were made (an error there is this record's internal error); they are
   * written, and the record completes, when every earlier record of its partition has been (ReleaseGate). Only a
   * record released at once waits for ring space; one released later has its frames queued in order.
   */
  private releaseInOrder(gate: ReleaseGate, ticket: Ticket, input: InputRecord, prepared: PreparedRecord | null): void | Promise<void> {
    let written: Promise<void> | undefined;
    gate.finish(ticket, () => {
      if (prepared !== null) written = this.outbox.write(prepared) ?? undefined;
      else this.tracing?.end(input, "filtered");
      this.tracker.complete(ticket);
      this.intake.progressed();
    });
    return written;
  }

  /**
   * Exactly-once mode: a transaction did not commit, so what was released since the last commit is gone. Every
   * partition is read again from its committed offset: work in flight is dropped, every producer aborts what
   * it has open (a control frame behind anything already in its ring), then every consumer re-reads.
   */
  private async abortAndReplay(reason: string): Promise<void> {
    this.stats.transactionsAborted++;
    const { keys, round } = this.tracker.beginRefetch(this.intake.owners);
    const dropped = this.intake.dropWork(keys);
    this.gate?.clear();
    this.outbox.forgetDeliveries();
    this.log.warn("transaction not committed: aborting, and processing everything since the last commit again", {
      error: logSafe(reason),
      partitions: keys.length,
      droppedTasks: dropped,
    });
    const aborts = await Promise.all(this.producerRings.map((_, index) => this.outbox.endTransaction(index, { type: "abort" })));
    const failed = aborts.find((outcome) => !outcome.committed && outcome.failure.kind !== "transaction");
    if (failed !== undefined && !failed.committed) this.observer.fatal(`could not abort a transaction: ${failed.failure.message}`);
    for (const owner of this.intake.owners) this.observer.refetch(owner, round);
  }

  private onInternalError(task: Task<RecordWork>, error: unknown): TaskOutcome {
    const outcome = this.processor.internalError(task, error);
    if (outcome.kind === "retry") return this.waitForRetry(task, outcome);
    if (outcome.kind === "fatal") this.observer.fatal(outcome.reason);
    else this.tracing?.end(task.payload.input, "dropped");
    return this.intake.done(task);
  }

  /** A record waiting for its retry keeps its own bytes, not the whole ring batch it was read with. */
  private waitForRetry(task: Task<RecordWork>, retry: TaskOutcome): TaskOutcome {
    if (task.attempt === 1) task.payload.input.detach();
    return retry;
  }

  private notifyIdle(): void {
    if (this.idleWaiters.length === 0 || this.inFlight > 0) return;
    for (const resolve of this.idleWaiters.splice(0)) resolve();
  }
}
