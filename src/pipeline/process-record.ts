/**
 * What becomes of one record: runs the handler and decides between its outputs, a retry, a dead-letter copy,
 * halting (the dead-letter guard tripped) and dropping it (stale). It returns that decision and writes nothing:
 * the pipeline acts on it. It counts and logs what it decided.
 */
import { runBatchHandler, runHandler, errorText, type HandlerOutcome, type ResolvedOutput } from "../handlers/run-handler.ts";
import type { BatchHandler, Handler, InputRecord } from "../handlers/types.ts";
import type { Task } from "../scheduler/scheduler.ts";
import type { Ticket } from "../offsets/offset-tracker.ts";
import { backoffMs } from "../kafka/errors.ts";
import type { Logger } from "../observability/logger.ts";
import { LogLimiter } from "../observability/log-limiter.ts";
import type { RecordTracing } from "../observability/otel/record-tracing.ts";
import { deadLetter, type DeadLetterKind } from "./dead-letter.ts";
import { DeadLetterGuard } from "./dead-letter-guard.ts";
import { logSafe, type PipelineObserver, type PipelineSettings, type PipelineStats, type RecordWork } from "./types.ts";

/** The handler's outputs (none: filtered). The handler's own outcome object, so success allocates nothing more. */
export type EmitOutcome = Extract<HandlerOutcome, { kind: "outputs" }>;
/** Run the record again later. Shaped as the scheduler's retry, so it is handed on as it is. */
export interface RetryOutcome {
  readonly kind: "retry";
  readonly delayMs: number;
}
export interface DeadLetterOutcome {
  readonly kind: "dead-letter";
  readonly copy: ResolvedOutput;
  readonly reason: string;
  readonly deadLetterKind: DeadLetterKind;
}
/** This record tripped the dead-letter guard: it is neither written nor committed, and nothing finishes any more. */
export interface HaltOutcome {
  readonly kind: "halt";
  readonly reason: string;
}
/** Stale (revoked, rewound, or after the guard tripped): the record will be delivered again, or never counts. */
export interface DropOutcome {
  readonly kind: "drop";
}
export type RecordOutcome = EmitOutcome | RetryOutcome | DeadLetterOutcome | HaltOutcome | DropOutcome;
/** Even the dead-letter copy could not be written: stop before the record's offset can ever be committed. */
export interface FatalOutcome {
  readonly kind: "fatal";
  readonly reason: string;
}
export type InternalErrorOutcome = RetryOutcome | FatalOutcome | DropOutcome;

/** Internal failures of one record before it goes to the dead-letter topic (kind internal). */
export const INTERNAL_ATTEMPTS = 3;
/** Wait before an internal retry, per failure so far (250, then 500 ms); the last retry is the dead-letter copy. */
const INTERNAL_RETRY_STEP_MS = 250;
export const DROP: DropOutcome = { kind: "drop" };

export type ProcessSettings = Pick<
  PipelineSettings,
  | "retries"
  | "retryBackoffMs"
  | "retryBackoffMaxMs"
  | "handlerTimeoutMs"
  | "outputTopic"
  | "dlqTopic"
  | "dlqMaxRatio"
  | "dlqWindow"
  | "dlqMaxConsecutive"
>;

export class RecordProcessor {
  readonly guard: DeadLetterGuard;
  /** A flood of bad records is summed up, not logged line by line. */
  private readonly deadLetterLog: LogLimiter;

  constructor(
    private readonly settings: ProcessSettings,
    private readonly handler: Handler,
    private readonly stats: PipelineStats,
    private readonly log: Logger,
    private readonly observer: Pick<PipelineObserver, "handlerSeconds">,
    /** False once the record's partition was revoked or re-fetched. */
    private readonly isCurrent: (ticket: Ticket) => boolean,
    /** Batch mode (--batch-size > 1): the handler's batch form, used by processBatch. */
    private readonly batchHandler: BatchHandler | null = null,
    /** Span export (--otel-endpoint); null when off. */
    private readonly tracing: RecordTracing | null = null,
  ) {
    this.guard = new DeadLetterGuard(settings);
    this.deadLetterLog = new LogLimiter(log, "records sent to the dead-letter topic");
  }

  /**
   * Decides the record and passes the decision to `then`: synchronously when the handler returns
   * synchronously (no promise per record), else once it settles (one promise).
   */
  process<R>(task: Task<RecordWork>, then: (task: Task<RecordWork>, outcome: RecordOutcome) => R): R | Promise<Awaited<R>> {
    if (this.isStale(task)) return then(task, DROP);
    const work = task.payload;
    this.tracing?.begin(work.input);
    if (work.internalFailures >= INTERNAL_ATTEMPTS) return then(task, this.deadLetterInternal(task));
    const started = performance.now();
    // internal failures are processor's, not the handler's: they do not use up its retries
    work.input.attempt = task.attempt - work.internalFailures;
    const outcome = runHandler(this.handler, work.input, this.settings.outputTopic, this.settings.handlerTimeoutMs);
    if (outcome instanceof Promise) {
      return outcome.then((o) => {
        this.observer.handlerSeconds((performance.now() - started) / 1000);
        return then(task, this.decide(task, o)) as Awaited<R>;
      });
    }
    this.observer.handlerSeconds((performance.now() - started) / 1000);
    return then(task, this.decide(task, outcome));
  }

  /**
   * Batch mode: decides a batch of records (at most one per ordering lane) with one call of the batch handler, and
   * passes each record's decision to `then`, in order. Each record is decided as `process` would: stale records are
   * dropped, retries and dead-lettering stay per record. Synchronous when the handler is.
   */
  processBatch<R>(
    tasks: ReadonlyArray<Task<RecordWork>>,
    then: (task: Task<RecordWork>, outcome: RecordOutcome) => R,
  ): Array<R | Promise<Awaited<R>>> {
    const results: Array<R | Promise<Awaited<R>>> = new Array(tasks.length);
    // what acting on one record throws concerns that record alone (the scheduler's onExecuteError), as in process()
    const act = (task: Task<RecordWork>, decideOne: () => RecordOutcome): R | Promise<Awaited<R>> => {
      try {
        return then(task, decideOne());
      } catch (error) {
        return Promise.reject(error);
      }
    };
    const live: number[] = [];
    const inputs: InputRecord[] = [];
    for (let i = 0; i < tasks.length; i++) {
      const task = tasks[i]!;
      const work = task.payload;
      if (this.isStale(task)) {
        results[i] = act(task, () => DROP);
        continue;
      }
      this.tracing?.begin(work.input);
      if (work.internalFailures >= INTERNAL_ATTEMPTS) results[i] = act(task, () => this.deadLetterInternal(task));
      else {
        work.input.attempt = task.attempt - work.internalFailures;
        live.push(i);
        inputs.push(work.input);
      }
    }
    if (live.length === 0) return results;
    const started = performance.now();
    const decideAll = (outcomes: readonly HandlerOutcome[]): Array<R | Promise<Awaited<R>>> => {
      // one call for the batch: each record's share of its time
      const seconds = (performance.now() - started) / 1000 / live.length;
      return live.map((i, j) => {
        this.observer.handlerSeconds(seconds);
        return act(tasks[i]!, () => this.decide(tasks[i]!, outcomes[j]!));
      });
    };
    const outcomes = runBatchHandler(this.batchHandler!, inputs, this.settings.outputTopic, this.settings.handlerTimeoutMs);
    if (!(outcomes instanceof Promise)) {
      const decided = decideAll(outcomes);
      for (let j = 0; j < live.length; j++) results[live[j]!] = decided[j]!;
      return results;
    }
    const decided = outcomes.then(decideAll);
    for (let j = 0; j < live.length; j++) results[live[j]!] = decided.then((all) => all[j] as Awaited<R> | PromiseLike<Awaited<R>>);
    return results;
  }

  /**
   * processor itself failed on a record (a bug, e.g. in encoding its outputs): counted and logged, retried a few
   * times, then (on its next run) dead-lettered with kind `internal`. Never retried forever, never lost.
   */
  internalError(task: Task<RecordWork>, error: unknown): InternalErrorOutcome {
    this.stats.internalErrors++;
    const work = task.payload;
    work.internalFailures++;
    work.internalReason = `internal error in processor: ${errorText(error)}`;
    if (task.cancelled) return DROP;
    const { topic, partition, offset } = work.input;
    if (work.internalFailures > INTERNAL_ATTEMPTS) {
      return { kind: "fatal", reason: `cannot process or dead-letter ${topic}/${partition}@${offset}: ${work.internalReason}` };
    }
    this.log.error("internal error while processing a record", {
      topic,
      partition,
      offset,
      error: logSafe(work.internalReason),
      failures: work.internalFailures,
      of: INTERNAL_ATTEMPTS,
    });
    return { kind: "retry", delayMs: work.internalFailures >= INTERNAL_ATTEMPTS ? 0 : INTERNAL_RETRY_STEP_MS * work.internalFailures };
  }

  /**
   * Revoked or rewound meanwhile: the record will be delivered again, so its result is not wanted. After the
   * dead-letter guard tripped nothing finishes any more, so no offset moves past the record that tripped it.
   */
  private isStale(task: Task<RecordWork>): boolean {
    return task.cancelled || this.guard.reason !== null || !this.isCurrent(task.payload.ticket);
  }

  private decide(task: Task<RecordWork>, outcome: HandlerOutcome): RecordOutcome {
    if (this.isStale(task)) return DROP;
    if (outcome.kind === "outputs") {
      const halt = this.feedGuard(false);
      if (halt !== null) return halt;
      if (outcome.outputs.length === 0) this.stats.filtered++;
      return outcome;
    }
    this.stats.failed++;
    const { input } = task.payload;
    const { topic, partition, offset, attempt } = input;
    if (!outcome.permanent && attempt <= this.settings.retries) {
      this.stats.retried++;
      const delayMs = backoffMs(attempt - 1, this.settings.retryBackoffMs, this.settings.retryBackoffMaxMs);
      if (this.log.enabled("debug")) {
        this.log.debug("handler failed; will retry", {
          topic,
          partition,
          offset,
          error: logSafe(outcome.reason),
          attempt,
          retryInMs: delayMs,
        });
      }
      return { kind: "retry", delayMs };
    }
    const halt = this.feedGuard(true);
    if (halt !== null) return halt;
    const kind: DeadLetterKind = outcome.permanent ? "permanent" : "retries-exhausted";
    if (this.deadLetterLog.allow()) {
      this.log.warn("record sent to the dead-letter topic", {
        topic,
        partition,
        offset,
        error: logSafe(outcome.reason),
        attempts: attempt,
        dlqTopic: this.settings.dlqTopic,
      });
    }
    this.stats.deadLettered++;
    return {
      kind: "dead-letter",
      copy: deadLetter(input, this.settings.dlqTopic, outcome.reason, attempt, kind),
      reason: outcome.reason,
      deadLetterKind: kind,
    };
  }

  /** The guard sees every finished record; the one that trips it halts the pipeline. */
  private feedGuard(deadLettered: boolean): HaltOutcome | null {
    if (!this.guard.enabled) return null;
    const reason = this.guard.record(deadLettered);
    return reason === null ? null : { kind: "halt", reason };
  }

  private deadLetterInternal(task: Task<RecordWork>): DeadLetterOutcome {
    const { input, internalReason } = task.payload;
    const reason = internalReason ?? "internal error in processor";
    const { topic, partition, offset } = input;
    if (this.deadLetterLog.allow()) {
      this.log.warn("record sent to the dead-letter topic", {
        topic,
        partition,
        offset,
        error: logSafe(reason),
        dlqTopic: this.settings.dlqTopic,
      });
    }
    this.stats.deadLettered++;
    return {
      kind: "dead-letter",
      copy: deadLetter(input, this.settings.dlqTopic, reason, task.attempt, "internal"),
      reason,
      deadLetterKind: "internal",
    };
  }
}
