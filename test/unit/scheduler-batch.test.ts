/**
 * The scheduler's batch mode (`batch` option): batch sizes, one task per lane per batch, lane order across
 * batches, sync and promise outcomes, retries inside a batch, the batch wait timer, failing `execute`, and
 * removing a partition while a smaller batch waits.
 */
import { describe, expect, test } from "bun:test";
import { Scheduler, type Task, type TaskOutcome } from "../../src/scheduler/scheduler.ts";
import { prng } from "../support/random.ts";

const DONE: TaskOutcome = { kind: "done" };
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const tick = () => new Promise((resolve) => setImmediate(resolve));
/** Polls until `condition` holds (at most 2 s). */
async function waitFor(condition: () => boolean): Promise<void> {
  const deadline = performance.now() + 2000;
  while (!condition()) {
    if (performance.now() > deadline) throw new Error("condition not met within 2 s");
    await sleep(5);
  }
}

/** Batches the test finishes by hand, task by task. */
class BatchGate {
  readonly batches: Array<Array<Task<string>>> = [];
  private readonly resolvers = new Map<Task<string>, (outcome: TaskOutcome) => void>();
  readonly execute = (tasks: ReadonlyArray<Task<string>>): Array<Promise<TaskOutcome>> => {
    this.batches.push([...tasks]);
    return tasks.map((task) => new Promise<TaskOutcome>((resolve) => this.resolvers.set(task, resolve)));
  };
  finish(payload: string, outcome: TaskOutcome = DONE): void {
    const task = [...this.resolvers.keys()].find((t) => t.payload === payload);
    if (!task) throw new Error(`${payload} is not running`);
    this.resolvers.get(task)!(outcome);
    this.resolvers.delete(task);
  }
  get running(): string[] {
    return [...this.resolvers.keys()].map((t) => t.payload);
  }
  get sizes(): number[] {
    return this.batches.map((b) => b.length);
  }
  payloads(i: number): string[] {
    return this.batches[i]!.map((t) => t.payload);
  }
}

/** Checks lane order over everything started: per lane, payload numbers rise and each lane runs one at a time. */
function expectLaneOrder(started: ReadonlyArray<{ lane: string; n: number }>): void {
  const last = new Map<string, number>();
  for (const { lane, n } of started) {
    const before = last.get(lane) ?? -1;
    expect(n).toBeGreaterThan(before);
    last.set(lane, n);
  }
}

describe("batch sizes and lanes", () => {
  for (const seed of [1, 2, 3, 4, 5]) {
    test(`random completion order (seed ${seed}): batches never exceed size, one task per lane per batch, lane order holds`, async () => {
      const random = prng(seed);
      const SIZE = 8;
      const LANES = 13;
      const COUNT = 400;
      const started: Array<{ lane: string; n: number; attempt: number }> = [];
      const laneRunning = new Set<string>();
      const overlaps: string[] = [];
      const batches: Array<Array<{ lane: string; n: number }>> = [];
      const waiting: Array<{ lane: string; resolve: () => void }> = [];
      const scheduler = new Scheduler<number>({
        concurrency: 16,
        pickUp: 3,
        execute: () => {
          throw new Error("per-task execute must not be called in batch mode");
        },
        batch: {
          size: SIZE,
          waitMs: 0,
          execute: (tasks) => {
            batches.push(tasks.map((t) => ({ lane: t.lane!, n: t.payload })));
            return tasks.map((task) => {
              const lane = task.lane!;
              if (laneRunning.has(lane)) overlaps.push(lane);
              laneRunning.add(lane);
              started.push({ lane, n: task.payload, attempt: task.attempt });
              // a third of them synchronously, the rest later in random order
              if (random() < 0.33) {
                laneRunning.delete(lane);
                return DONE;
              }
              return new Promise<TaskOutcome>((resolve) =>
                waiting.push({
                  lane,
                  resolve: () => {
                    laneRunning.delete(lane);
                    resolve(DONE);
                  },
                }),
              );
            });
          },
        },
      });
      for (let i = 0; i < COUNT; i++) scheduler.schedule(i, `lane-${Math.floor(random() * LANES)}`, "p");
      const idle = scheduler.whenIdle();
      let finished = false;
      void idle.then(() => (finished = true));
      for (let turns = 0; !finished && turns < 100_000; turns++) {
        await tick();
        // finish a random few of the running tasks, in random order
        for (let k = Math.ceil(random() * 4); k > 0 && waiting.length > 0; k--) {
          const [w] = waiting.splice(Math.floor(random() * waiting.length), 1);
          w!.resolve();
        }
      }
      await idle;
      expect(started.length).toBe(COUNT);
      expect(new Set(started.map((s) => s.n)).size).toBe(COUNT);
      expect(overlaps).toEqual([]);
      for (const batch of batches) {
        expect(batch.length).toBeGreaterThan(0);
        expect(batch.length).toBeLessThanOrEqual(SIZE);
        expect(new Set(batch.map((t) => t.lane)).size).toBe(batch.length);
      }
      expect(batches.some((b) => b.length > 1)).toBe(true);
      expectLaneOrder(started);
    });
  }

  test("synchronous outcomes: one full batch after another, lanes interleaved in order", async () => {
    const batches: number[][] = [];
    const scheduler = new Scheduler<number>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      batch: {
        size: 4,
        waitMs: 0,
        execute: (tasks) => {
          batches.push(tasks.map((t) => t.payload));
          return tasks.map(() => DONE);
        },
      },
    });
    // 4 lanes × 5 tasks, lane = n % 4
    for (let i = 0; i < 20; i++) scheduler.schedule(i, `l${i % 4}`, "p");
    await scheduler.whenIdle();
    expect(batches).toEqual([
      [0, 1, 2, 3],
      [4, 5, 6, 7],
      [8, 9, 10, 11],
      [12, 13, 14, 15],
      [16, 17, 18, 19],
    ]);
  });

  test("same lane only: every batch holds one task, in order", async () => {
    const batches: number[][] = [];
    const scheduler = new Scheduler<number>({
      concurrency: 8,
      pickUp: 1,
      execute: () => DONE,
      batch: {
        size: 8,
        waitMs: 0,
        execute: (tasks) => {
          batches.push(tasks.map((t) => t.payload));
          return tasks.map(() => Promise.resolve(DONE));
        },
      },
    });
    for (let i = 0; i < 6; i++) scheduler.schedule(i, "only", "p");
    await scheduler.whenIdle();
    expect(batches).toEqual([[0], [1], [2], [3], [4], [5]]);
  });

  test("promise outcomes: each task settles on its own promise, a finished lane's next task joins a later batch", async () => {
    const gate = new BatchGate();
    const scheduler = new Scheduler<string>({
      concurrency: 3,
      pickUp: 1,
      execute: () => DONE,
      batch: { size: 3, waitMs: 0, execute: gate.execute },
    });
    for (const [payload, lane] of [
      ["a1", "a"],
      ["b1", "b"],
      ["a2", "a"],
      ["c1", "c"],
      ["d1", "d"],
    ] as const)
      scheduler.schedule(payload, lane, "p");
    await tick();
    expect(gate.payloads(0)).toEqual(["a1", "b1", "c1"]); // a2 waits behind a1, not in the same batch
    gate.finish("b1");
    await tick();
    gate.finish("a1");
    await tick();
    // a whole batch is refilled at once: one or two free slots start nothing
    expect(gate.batches).toHaveLength(1);
    expect(gate.running.sort()).toEqual(["c1"]);
    gate.finish("c1");
    await tick();
    expect(gate.payloads(1)).toEqual(["d1", "a2"]); // a2 joined once a1 was done
    for (const p of ["d1", "a2"]) gate.finish(p);
    await scheduler.whenIdle();
    expect(scheduler.size).toBe(0);
  });

  test("an execute rejecting one task's promise fails only that task (onExecuteError)", async () => {
    const errors: string[] = [];
    const runs: string[] = [];
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      onExecuteError: (task) => {
        errors.push(task.payload);
        return DONE;
      },
      batch: {
        size: 4,
        waitMs: 0,
        execute: (tasks) =>
          tasks.map((t) => {
            runs.push(t.payload);
            return t.payload === "bad" ? Promise.reject(new Error("x")) : Promise.resolve(DONE);
          }),
      },
    });
    for (const p of ["ok1", "bad", "ok2"]) scheduler.schedule(p, p, "p");
    await scheduler.whenIdle();
    expect(errors).toEqual(["bad"]);
    expect(runs).toEqual(["ok1", "bad", "ok2"]);
  });

  test("async outcomes with pick-up smaller than the batch: after a full batch completes, the next batch is full again", async () => {
    // 64 independent tasks, size 8, every batch completes as a whole a moment later. Refilling `pickUp` at a time
    // while the rest of a finished batch is still settling would shrink every later batch to `pickUp` tasks.
    const sizes: number[] = [];
    const scheduler = new Scheduler<number>({
      concurrency: 8,
      pickUp: 2,
      execute: () => DONE,
      batch: {
        size: 8,
        waitMs: 0,
        execute: (tasks) => {
          sizes.push(tasks.length);
          const whole = new Promise<TaskOutcome>((resolve) => setTimeout(() => resolve(DONE), 1));
          return tasks.map(() => whole);
        },
      },
    });
    for (let i = 0; i < 64; i++) scheduler.schedule(i, null, "p");
    await scheduler.whenIdle();
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(64);
    expect(sizes.length).toBeLessThanOrEqual(10);
  });
});

describe("retries inside a batch", () => {
  test("a retry outcome for one task delays only it, keeps its lane blocked, and it reruns with attempt 2", async () => {
    const gate = new BatchGate();
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      batch: { size: 4, waitMs: 0, execute: gate.execute },
    });
    scheduler.schedule("k1", "k", "p");
    scheduler.schedule("k2", "k", "p");
    scheduler.schedule("x1", "x", "p");
    scheduler.schedule("y1", "y", "p");
    await tick();
    expect(gate.payloads(0)).toEqual(["k1", "x1", "y1"]);
    gate.finish("k1", { kind: "retry", delayMs: 150 });
    gate.finish("x1");
    gate.finish("y1");
    await tick();
    expect(scheduler.stats).toEqual({ pending: 0, running: 0, delayed: 1, waitingInLanes: 1 });
    expect(gate.batches.length).toBe(1); // k2 did not overtake k1
    await sleep(30);
    expect(gate.batches.length).toBe(1); // still delayed
    for (let i = 0; i < 200 && gate.batches.length < 2; i++) await sleep(5);
    expect(gate.batches.length).toBe(2);
    expect(gate.payloads(1)).toEqual(["k1"]);
    expect(gate.batches[1]![0]!.attempt).toBe(2);
    gate.finish("k1");
    await tick();
    expect(gate.payloads(2)).toEqual(["k2"]);
    expect(gate.batches[2]![0]!.attempt).toBe(1);
    gate.finish("k2");
    await scheduler.whenIdle();
  });

  test("synchronous retry outcome in a batch: the others of its lane wait; the retried task runs again first", async () => {
    const order: string[] = [];
    let failed = false;
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      batch: {
        size: 4,
        waitMs: 0,
        execute: (tasks) =>
          tasks.map((t) => {
            order.push(`${t.payload}#${t.attempt}`);
            if (t.payload === "a1" && !failed) {
              failed = true;
              return { kind: "retry", delayMs: 5 };
            }
            return DONE;
          }),
      },
    });
    for (const [p, lane] of [
      ["a1", "a"],
      ["a2", "a"],
      ["b1", "b"],
      ["b2", "b"],
    ] as const)
      scheduler.schedule(p, lane, "p");
    await scheduler.whenIdle();
    expect(order.indexOf("a1#2")).toBeGreaterThan(order.indexOf("a1#1"));
    expect(order.indexOf("a2#1")).toBeGreaterThan(order.indexOf("a1#2"));
    expect(order.indexOf("b2#1")).toBeLessThan(order.indexOf("a1#2")); // lane b did not wait for a's retry
  });
});

describe("batch.waitMs", () => {
  test("a smaller batch waits for the timer, then starts as it is", async () => {
    const gate = new BatchGate();
    const scheduler = new Scheduler<string>({
      concurrency: 8,
      pickUp: 1,
      execute: () => DONE,
      batch: { size: 8, waitMs: 200, execute: gate.execute },
    });
    const t0 = performance.now();
    scheduler.schedule("a", "a", "p");
    scheduler.schedule("b", "b", "p");
    await tick();
    await sleep(30);
    expect(gate.batches).toEqual([]); // not started before the timer
    expect(scheduler.stats.pending).toBe(2);
    while (gate.batches.length === 0 && performance.now() - t0 < 1000) await sleep(5);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(195);
    expect(gate.payloads(0)).toEqual(["a", "b"]);
    gate.finish("a");
    gate.finish("b");
    await scheduler.whenIdle();
  });

  test("a waiting batch starts at once when enough tasks arrive", async () => {
    const gate = new BatchGate();
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      batch: { size: 4, waitMs: 5_000, execute: gate.execute },
    });
    scheduler.schedule("t0", "0", "p");
    scheduler.schedule("t1", "1", "p");
    await tick();
    expect(gate.batches).toEqual([]);
    scheduler.schedule("t2", "2", "p");
    await tick();
    expect(gate.batches).toEqual([]);
    const t0 = performance.now();
    scheduler.schedule("t3", "3", "p");
    await tick();
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(gate.payloads(0)).toEqual(["t0", "t1", "t2", "t3"]);
    for (const p of ["t0", "t1", "t2", "t3"]) gate.finish(p);
    await scheduler.whenIdle();
    // idle pool again, one task, size 4, wait 5 s: it waits for the timer again, until three more arrive
    scheduler.schedule("t4", "4", "p");
    await tick();
    expect(gate.batches.length).toBe(1);
    expect(scheduler.stats.pending).toBe(1);
    for (let i = 5; i < 8; i++) scheduler.schedule(`t${i}`, String(i), "p");
    await tick();
    expect(gate.payloads(1)).toEqual(["t4", "t5", "t6", "t7"]);
    for (const p of ["t4", "t5", "t6", "t7"]) gate.finish(p);
    await scheduler.whenIdle();
  });

  test("a same-lane successor does not count toward a waiting batch; the timer starts what there is", async () => {
    const gate = new BatchGate();
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      batch: { size: 4, waitMs: 40, execute: gate.execute },
    });
    for (let i = 0; i < 4; i++) scheduler.schedule(`k${i}`, "k", "p");
    const started = (n: number) => waitFor(() => gate.batches.length >= n);
    await started(1);
    for (let i = 0; i < 3; i++) {
      gate.finish(`k${i}`);
      await started(i + 2);
    }
    gate.finish("k3");
    await scheduler.whenIdle();
    expect(gate.batches.map((b) => b.map((t) => t.payload))).toEqual([["k0"], ["k1"], ["k2"], ["k3"]]);
  });

  test("removePartition of a pending task while its batch waits: the timer starts only the rest; removing all leaves it idle", async () => {
    const gate = new BatchGate();
    const scheduler = new Scheduler<string>({
      concurrency: 8,
      pickUp: 1,
      execute: () => DONE,
      batch: { size: 8, waitMs: 40, execute: gate.execute },
    });
    scheduler.schedule("a1", "a", "pa");
    scheduler.schedule("a2", "a", "pa"); // waits behind a1 in its lane
    scheduler.schedule("b1", "b", "pb");
    await tick();
    expect(gate.batches).toEqual([]);
    const removed = scheduler.removePartition("pa");
    expect(removed.map((t) => t.payload).sort()).toEqual(["a1", "a2"]);
    expect(removed.every((t) => t.cancelled)).toBe(true);
    await waitFor(() => gate.batches.length >= 1);
    expect(gate.batches.map((b) => b.map((t) => t.payload))).toEqual([["b1"]]);
    gate.finish("b1");
    await scheduler.whenIdle();

    // everything pending removed while the batch waits: idle at once, and the timer starts nothing later
    scheduler.schedule("c1", "c", "pc");
    await tick();
    const idle = scheduler.whenIdle();
    scheduler.removePartition("pc");
    await idle;
    await sleep(80);
    expect(gate.batches.length).toBe(1);
    expect(scheduler.size).toBe(0);
  });
});

describe("batch.execute failing", () => {
  test("execute throwing: onExecuteError for every task of the batch, and their retries keep their lanes", async () => {
    const failedFor: Array<[string, string]> = [];
    let calls = 0;
    const runs: string[][] = [];
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      onExecuteError: (task, error) => {
        failedFor.push([task.payload, (error as Error).message]);
        return { kind: "retry", delayMs: 5 };
      },
      batch: {
        size: 4,
        waitMs: 0,
        execute: (tasks) => {
          runs.push(tasks.map((t) => `${t.payload}#${t.attempt}`));
          if (calls++ === 0) throw new Error("execute bug");
          return tasks.map(() => DONE);
        },
      },
    });
    for (const [p, lane] of [
      ["a1", "a"],
      ["b1", "b"],
      ["a2", "a"],
      ["c1", "c"],
    ] as const)
      scheduler.schedule(p, lane, "p");
    await scheduler.whenIdle();
    expect(failedFor).toEqual([
      ["a1", "execute bug"],
      ["b1", "execute bug"],
      ["c1", "execute bug"],
    ]);
    expect(runs[0]).toEqual(["a1#1", "b1#1", "c1#1"]);
    const flat = runs.flat();
    expect(flat.filter((r) => r.endsWith("#2")).sort()).toEqual(["a1#2", "b1#2", "c1#2"]);
    expect(flat.indexOf("a2#1")).toBeGreaterThan(flat.indexOf("a1#2"));
  });

  test("execute returning the wrong number of outcomes counts as a failure of every task", async () => {
    const failedFor: string[] = [];
    const scheduler = new Scheduler<string>({
      concurrency: 4,
      pickUp: 1,
      execute: () => DONE,
      onExecuteError: (task, error) => {
        failedFor.push(`${task.payload}: ${(error as Error).message}`);
        return DONE;
      },
      batch: { size: 4, waitMs: 0, execute: (tasks) => tasks.slice(1).map(() => DONE) },
    });
    scheduler.schedule("x", "x", "p");
    scheduler.schedule("y", "y", "p");
    await scheduler.whenIdle();
    expect(failedFor).toEqual(["x: batch.execute gave 1 outcomes for 2 tasks", "y: batch.execute gave 1 outcomes for 2 tasks"]);
  });
});
