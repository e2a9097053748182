/**
 * The main thread's half of processor: records come in from the consumer rings (intake), run through the
 * handler (process-record decides what becomes of each) and go out through the producer rings (outbox);
 * acknowledgements flow back and move the commit points. An offset is committed only when every output of its
 * record (or its dead-letter copy) is in Kafka.
 */
import type { RingBuffers } from "../threads/byte-ring.ts";
import type { Task, TaskOutcome } from "../scheduler/scheduler.ts";
import { OffsetTracker } from "../offsets/offset-tracker.ts";
import type { Handler } from "../handlers/types.ts";
import type { Logger } from "../observability/logger.ts";
import { Commits } from "./commits.ts";
import { Intake } from "./intake.ts";
import { Outbox } from "./outbox.ts";
import { RecordProcessor, type RecordOutcome } from "./process-record.ts";
import {
  NO_OBSERVER,
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
  private readonly idleWaiters: Array<() => void> = [];
  /** Bound once: handed to the processor for every record. */
  private readonly act = (task: Task<RecordWork>, outcome: RecordOutcome): TaskOutcome | Promise<TaskOutcome> => this.actOn(task, outcome);

  constructor(
    settings: PipelineSettings,
    handler: Handler,
    log: Logger,
    private readonly observer: PipelineObserver = NO_OBSERVER,
  ) {
    const tracker = new OffsetTracker();
    this.commits = new Commits(tracker, this.stats, observer, log);
    this.intake = new Intake(settings, tracker, this.commits, this.stats, log, observer, {
      execute: (task) => this.processor.process(task, this.act),
      onExecuteError: (task, error) => this.onInternalError(task, error),
      settled: () => this.notifyIdle(),
    });
    this.processor = new RecordProcessor(settings, handler, this.stats, log, observer, (ticket) => tracker.isCurrent(ticket));
    this.outbox = new Outbox(settings, this.stats, log, observer, {
      complete: (ticket) => tracker.complete(ticket),
      progressed: () => {
        this.intake.progressed();
        this.notifyIdle();
      },
    });
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
    return this.intake.detachConsumer(owner);
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
    return this.commits.round(portOf);
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
    const { input, ticket } = task.payload;
    let written: void | Promise<void>;
    switch (outcome.kind) {
      case "outputs":
        written = this.outbox.emit(ticket, input, task.lane ?? task.partitionKey, outcome.outputs);
        break;
      case "dead-letter":
        written = this.outbox.emit(ticket, input, task.lane ?? task.partitionKey, [outcome.copy], {
          stub: false,
          reason: outcome.reason,
          kind: outcome.deadLetterKind,
        });
        break;
      case "retry":
        return this.waitForRetry(task, outcome);
      case "halt":
        this.observer.halted(outcome.reason);
        return this.intake.done(task);
      case "drop":
        return this.intake.done(task);
    }
    return written instanceof Promise ? written.then(() => this.intake.done(task)) : this.intake.done(task);
  }

  private onInternalError(task: Task<RecordWork>, error: unknown): TaskOutcome {
    const outcome = this.processor.internalError(task, error);
    if (outcome.kind === "retry") return this.waitForRetry(task, outcome);
    if (outcome.kind === "fatal") this.observer.fatal(outcome.reason);
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
