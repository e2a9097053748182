/** What the pipeline's parts share: its settings, what it reports, its counters and the work one record is. */
import type { CommitOffset } from "../threads/messages.ts";
import type { Failure } from "../kafka/errors.ts";
import type { Ticket } from "../offsets/offset-tracker.ts";
import { logSafeText } from "../observability/logger.ts";
import type { DeadLetterGuardSettings } from "./dead-letter-guard.ts";
import type { QueuedInput } from "./input-record.ts";

export type Ordering = "key" | "partition" | "none";
export type Guarantee = "at-least-once" | "exactly-once";

export interface PipelineSettings extends DeadLetterGuardSettings {
  /** Handler calls at once (--workers). */
  readonly concurrency: number;
  readonly pickUp: number;
  /** Batch mode when > 1: records per call of the handler's batch form. */
  readonly batchSize: number;
  /** Batch mode: longest wait of a smaller batch for more records. */
  readonly batchWaitMs: number;
  readonly ordering: Ordering;
  readonly guarantee: Guarantee;
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
  /**
   * Exactly-once mode, after an abort: consumer `owner` reads its partitions again from the committed offsets; its
   * `refetched` frame names `round` (or a later one).
   */
  refetch(owner: number, round: number): void;
}

export const NO_OBSERVER: PipelineObserver = {
  handlerSeconds: () => undefined,
  commitSeconds: () => undefined,
  halted: () => undefined,
  fatal: () => undefined,
  partitionFlow: () => undefined,
  refetch: () => undefined,
};

/** How the pipeline asks a consumer Worker to commit. */
/** `failure` set: these offsets (all but `committed`) were not committed and are asked for again next round. */
export type CommitPort = (offsets: readonly CommitOffset[]) => Promise<{ committed: readonly CommitOffset[]; failure?: Failure }>;

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
  /** Exactly-once mode: transactions committed, and aborts (each replays what was not committed). */
  transactionsCommitted: number;
  transactionsAborted: number;
}

export function newStats(): PipelineStats {
  return {
    consumed: 0,
    failed: 0,
    produced: 0,
    deadLettered: 0,
    filtered: 0,
    retried: 0,
    committedOffsets: 0,
    assignmentChanges: 0,
    staleDropped: 0,
    internalErrors: 0,
    transactionsCommitted: 0,
    transactionsAborted: 0,
  };
}

/** One record as a scheduler task carries it. */
export interface RecordWork {
  readonly input: QueuedInput;
  readonly ticket: Ticket;
  /** Ring bytes it counts against the intake's back-pressure limit until it settles. */
  readonly bytes: number;
  /** Times processor itself failed on this record (a bug); after INTERNAL_ATTEMPTS it is dead-lettered. */
  internalFailures: number;
  internalReason: string | null;
}

/** Reasons can quote record payloads: logs keep the start of them (the dead-letter header keeps more). */
export const logSafe = (text: string): string => logSafeText(text, 512);
