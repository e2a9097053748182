/**
 * The task pool: a pending queue (linked list, so a revoked partition's tasks can be removed), at most
 * `concurrency` tasks running, refilled `pickUp` at a time like the seed's scheduler, and lanes for ordering.
 *
 * A lane is a chain of tasks that must run one after another in arrival order (same key, or same partition);
 * only a lane's head is ever in the pending queue. A task asking for a retry gives its slot back while it
 * waits, but keeps its lane blocked so later tasks of the same lane cannot overtake it.
 *
 * Batch mode (`batch` set): tasks started together go to `batch.execute` in one call, up to `batch.size` of them.
 * Only lane heads are ever pending, so a batch holds at most one task per lane and order within a lane still holds.
 * Fewer than `batch.size` startable tasks wait up to `batch.waitMs` for more before they start as a smaller batch.
 */
import { LinkedList } from "./linked-list.ts";

export type TaskOutcome = { readonly kind: "done" } | { readonly kind: "retry"; readonly delayMs: number };

export interface Task<T> {
  readonly id: number;
  readonly payload: T;
  /** Tasks with the same lane run strictly in order; null = no ordering constraint. */
  readonly lane: string | null;
  /** What the task can be removed by (e.g. "topic/partition"). */
  readonly partitionKey: string;
  /** 1 on the first run, incremented on each retry. */
  attempt: number;
  /** Set when the task's partition was removed while it was running or waiting. */
  cancelled: boolean;
}

export interface SchedulerOptions<T> {
  readonly concurrency: number;
  readonly pickUp: number;
  /** May finish synchronously (a plain outcome) or later (a promise). */
  readonly execute: (task: Task<T>) => TaskOutcome | Promise<TaskOutcome>;
  /** Called when execute throws: a bug in the caller, reported rather than lost. Default: retry after 1 s. */
  readonly onExecuteError?: (task: Task<T>, error: unknown) => TaskOutcome;
  /** Called after every run of a task (done or retry), e.g. to resume intake held back by a size limit. */
  readonly onSettled?: () => void;
  /** Batch mode: run started tasks together (see above). One outcome per task, in order. */
  readonly batch?: {
    readonly size: number;
    readonly waitMs: number;
    readonly execute: (tasks: ReadonlyArray<Task<T>>) => ReadonlyArray<TaskOutcome | Promise<TaskOutcome>>;
  };
}

export interface SchedulerStats {
  readonly pending: number;
  readonly running: number;
  readonly delayed: number;
  readonly waitingInLanes: number;
}

interface LaneState<T> {
  readonly partitionKey: string;
  readonly waiting: LinkedList<Task<T>>;
}

export class Scheduler<T> {
  private readonly pending = new LinkedList<Task<T>>();
  private readonly lanes = new Map<string, LaneState<T>>();
  private readonly delayed = new Map<Task<T>, ReturnType<typeof setTimeout>>();
  private readonly runningTasks = new Set<Task<T>>();
  private waitingInLanes = 0;
  private nextId = 1;
  private pumpQueued = false;
  private pumping = false;
  /** The batch timer fired: start what is there even if smaller than a batch. */
  private flushing = false;
  private idleWaiters: Array<() => void> = [];
  /** Batch mode: a smaller batch waiting for more tasks until this timer fires. */
  private batchTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(private readonly options: SchedulerOptions<T>) {
    if (options.concurrency < 1 || options.pickUp < 1 || options.pickUp > options.concurrency) {
      throw new RangeError(`invalid pool: concurrency=${options.concurrency} pickUp=${options.pickUp}`);
    }
  }

  get stats(): SchedulerStats {
    return { pending: this.pending.size, running: this.runningTasks.size, delayed: this.delayed.size, waitingInLanes: this.waitingInLanes };
  }

  /** Tasks accepted and not finished: pending + running + delayed + waiting behind a lane head. */
  get size(): number {
    return this.pending.size + this.runningTasks.size + this.delayed.size + this.waitingInLanes;
  }

  schedule(payload: T, lane: string | null, partitionKey: string): Task<T> {
    const task: Task<T> = { id: this.nextId++, payload, lane, partitionKey, attempt: 1, cancelled: false };
    if (lane === null) {
      this.pending.push(task);
    } else {
      const state = this.lanes.get(lane);
      if (state) {
        state.waiting.push(task);
        this.waitingInLanes++;
      } else {
        this.lanes.set(lane, { partitionKey, waiting: new LinkedList() });
        this.pending.push(task);
      }
    }
    this.requestPump();
    return task;
  }

  /** Batches a burst of schedule() calls into one refill, so a burst fills the pool at once. */
  private requestPump(): void {
    if (this.pumpQueued) return;
    this.pumpQueued = true;
    queueMicrotask(() => {
      this.pumpQueued = false;
      this.pump();
    });
  }

  /** Removes every not-yet-running task of a partition (returned) and marks its running ones cancelled. */
  removePartition(partitionKey: string): Array<Task<T>> {
    const removed = this.pending.removeWhere((task) => task.partitionKey === partitionKey);
    for (const task of this.runningTasks) if (task.partitionKey === partitionKey) task.cancelled = true;
    for (const [task, timer] of this.delayed) {
      if (task.partitionKey !== partitionKey) continue;
      clearTimeout(timer);
      this.delayed.delete(task);
      removed.push(task);
    }
    for (const [lane, state] of this.lanes) {
      if (state.partitionKey !== partitionKey) continue;
      removed.push(...state.waiting);
      this.waitingInLanes -= state.waiting.size;
      this.lanes.delete(lane);
    }
    for (const task of removed) task.cancelled = true;
    this.notifyIfIdle();
    return removed;
  }

  /** Resolves when nothing is pending, running, delayed or waiting. */
  whenIdle(): Promise<void> {
    if (this.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts tasks when enough slots are free: all of them when idle, else in steps of `pickUp`. */
  private pump(): void {
    // A task finishing synchronously calls pump() again from inside this loop: the loop picks up its work.
    if (this.pumping) return;
    this.pumping = true;
    try {
      const { concurrency, pickUp, batch } = this.options;
      // batch mode refills a whole batch at a time: refilled by pick-up, a busy pool would shrink every batch to it
      const refill = batch === undefined ? pickUp : Math.max(pickUp, Math.min(batch.size, concurrency));
      while (this.pending.size > 0) {
        const running = this.runningTasks.size;
        const free = concurrency - running;
        if (free <= 0 || (running > 0 && free < refill)) return;
        if (batch === undefined) {
          const count = running === 0 ? free : pickUp;
          for (let i = 0; i < count && this.pending.size > 0; i++) this.start(this.pending.shift()!);
        } else if (!this.startBatch(Math.min(free, batch.size), batch)) {
          return;
        }
      }
    } finally {
      this.pumping = false;
    }
  }

  /** Batch mode: starts up to `room` pending tasks as one batch, or false while a smaller one waits for more. */
  private startBatch(room: number, batch: NonNullable<SchedulerOptions<T>["batch"]>): boolean {
    const count = Math.min(room, this.pending.size);
    if (count < batch.size && batch.waitMs > 0 && count < room) {
      this.batchTimer ??= setTimeout(() => {
        this.batchTimer = null;
        this.flushing = true;
        try {
          this.pump();
        } finally {
          this.flushing = false;
        }
      }, batch.waitMs);
      if (!this.flushing) return false;
    }
    if (this.batchTimer !== null) {
      clearTimeout(this.batchTimer);
      this.batchTimer = null;
    }
    const tasks: Array<Task<T>> = new Array(count);
    for (let i = 0; i < count; i++) {
      const task = this.pending.shift()!;
      this.runningTasks.add(task);
      tasks[i] = task;
    }
    let outcomes: ReadonlyArray<TaskOutcome | Promise<TaskOutcome>>;
    try {
      outcomes = batch.execute(tasks);
      if (outcomes.length !== count) throw new Error(`batch.execute gave ${outcomes.length} outcomes for ${count} tasks`);
    } catch (error) {
      outcomes = tasks.map((task) => this.failed(task, error));
    }
    for (let i = 0; i < count; i++) this.settle(tasks[i]!, outcomes[i]!);
    return true;
  }

  private failed(task: Task<T>, error: unknown): TaskOutcome {
    return this.options.onExecuteError?.(task, error) ?? { kind: "retry", delayMs: 1000 };
  }

  private start(task: Task<T>): void {
    this.runningTasks.add(task);
    let outcome: TaskOutcome | Promise<TaskOutcome>;
    try {
      outcome = this.options.execute(task);
    } catch (error) {
      outcome = this.failed(task, error);
    }
    this.settle(task, outcome);
  }

  private settle(task: Task<T>, outcome: TaskOutcome | Promise<TaskOutcome>): void {
    if (outcome instanceof Promise) {
      outcome.then(
        (result) => this.finish(task, result),
        (error: unknown) => this.finish(task, this.failed(task, error)),
      );
    } else {
      this.finish(task, outcome);
    }
  }

  private finish(task: Task<T>, outcome: TaskOutcome): void {
    this.runningTasks.delete(task);
    if (outcome.kind === "retry" && !task.cancelled) {
      task.attempt++;
      const timer = setTimeout(() => {
        this.delayed.delete(task);
        this.pending.unshift(task);
        this.pump();
      }, outcome.delayMs);
      this.delayed.set(task, timer);
    } else if (task.lane !== null && !task.cancelled) {
      this.advanceLane(task.lane);
    }
    this.pump();
    this.notifyIfIdle();
    this.options.onSettled?.();
  }

  private advanceLane(lane: string): void {
    const state = this.lanes.get(lane);
    if (!state) return;
    const next = state.waiting.shift();
    if (next === undefined) {
      this.lanes.delete(lane);
      return;
    }
    this.waitingInLanes--;
    this.pending.push(next);
  }

  private notifyIfIdle(): void {
    if (this.size !== 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
