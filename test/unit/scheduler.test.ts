import { describe, expect, test } from "bun:test";
import { LinkedList } from "../../src/scheduler/linked-list.ts";
import { Scheduler, type Task, type TaskOutcome } from "../../src/scheduler/scheduler.ts";

/** A task body the test finishes by hand. */
class Gate {
  readonly started: Array<Task<string>> = [];
  private readonly resolvers = new Map<Task<string>, (outcome: TaskOutcome) => void>();
  readonly execute = (task: Task<string>): Promise<TaskOutcome> => {
    this.started.push(task);
    return new Promise((resolve) => this.resolvers.set(task, resolve));
  };
  finish(payload: string, outcome: TaskOutcome = { kind: "done" }): void {
    const task = [...this.resolvers.keys()].find((t) => t.payload === payload);
    if (!task) throw new Error(`${payload} is not running`);
    this.resolvers.get(task)!(outcome);
    this.resolvers.delete(task);
  }
  get running(): string[] {
    return [...this.resolvers.keys()].map((t) => t.payload);
  }
}
const tick = () => new Promise((resolve) => setTimeout(resolve, 0));

describe("linked list", () => {
  test("push, unshift, shift and O(1) removal keep order", () => {
    const list = new LinkedList<number>();
    const nodes = [1, 2, 3, 4].map((n) => list.push(n));
    list.unshift(0);
    expect(list.remove(nodes[1]!)).toBe(true);
    expect(list.remove(nodes[1]!)).toBe(false);
    expect([...list]).toEqual([0, 1, 3, 4]);
    expect(list.removeWhere((n) => n % 2 === 1)).toEqual([1, 3]);
    expect(list.shift()).toBe(0);
    expect(list.shift()).toBe(4);
    expect(list.shift()).toBeUndefined();
    expect(list.size).toBe(0);
  });
});

describe("scheduler", () => {
  test("fills all slots when idle, then refills pick-up at a time", async () => {
    const gate = new Gate();
    const scheduler = new Scheduler<string>({ concurrency: 6, pickUp: 2, execute: gate.execute });
    for (let i = 0; i < 12; i++) scheduler.schedule(`t${i}`, null, "p0");
    await tick();
    expect(gate.running).toHaveLength(6);
    gate.finish("t0");
    await tick();
    expect(gate.running).toHaveLength(5); // one free slot is fewer than pick-up: wait
    gate.finish("t1");
    await tick();
    expect(gate.running).toHaveLength(6); // two free: pick two
    expect(gate.started.map((t) => t.payload)).toEqual(["t0", "t1", "t2", "t3", "t4", "t5", "t6", "t7"]);
    expect(scheduler.stats).toEqual({ pending: 4, running: 6, delayed: 0, waitingInLanes: 0 });
  });

  test("removing a group drops its pending, waiting and delayed tasks and cancels its running ones", async () => {
    const gate = new Gate();
    const scheduler = new Scheduler<string>({ concurrency: 1, pickUp: 1, execute: gate.execute });
    scheduler.schedule("a1", "a/k", "a");
    scheduler.schedule("a2", "a/k", "a"); // waits behind a1 in its lane
    scheduler.schedule("b1", null, "b");
    scheduler.schedule("a3", null, "a"); // pending
    await tick();
    expect(
      scheduler
        .removePartition("a")
        .map((t) => t.payload)
        .sort(),
    ).toEqual(["a2", "a3"]);
    expect(gate.started[0]!.cancelled).toBe(true);
    gate.finish("a1");
    await tick();
    expect(gate.running).toEqual(["b1"]);
    gate.finish("b1");
    await scheduler.whenIdle();
    expect(gate.started.map((t) => t.payload)).toEqual(["a1", "b1"]);
  });

  test("ordering lanes: same lane runs one at a time in order, other lanes in parallel", async () => {
    const gate = new Gate();
    const scheduler = new Scheduler<string>({ concurrency: 10, pickUp: 1, execute: gate.execute });
    for (const [payload, lane] of [
      ["x1", "x"],
      ["y1", "y"],
      ["x2", "x"],
      ["x3", "x"],
      ["y2", "y"],
    ] as const) {
      scheduler.schedule(payload, lane, "p");
    }
    await tick();
    expect(gate.running.sort()).toEqual(["x1", "y1"]);
    gate.finish("x1");
    await tick();
    expect(gate.running.sort()).toEqual(["x2", "y1"]);
    gate.finish("x2");
    gate.finish("y1");
    await tick();
    expect(gate.running.sort()).toEqual(["x3", "y2"]);
  });

  test("no lane (ordering none) runs everything in parallel up to the pool size", async () => {
    const gate = new Gate();
    const scheduler = new Scheduler<string>({ concurrency: 3, pickUp: 1, execute: gate.execute });
    for (let i = 0; i < 5; i++) scheduler.schedule(`n${i}`, null, "p");
    await tick();
    expect(gate.running).toEqual(["n0", "n1", "n2"]);
  });

  test("a retry frees its slot while it waits, but holds its lane", async () => {
    const gate = new Gate();
    const scheduler = new Scheduler<string>({ concurrency: 1, pickUp: 1, execute: gate.execute });
    scheduler.schedule("k1", "k", "p");
    scheduler.schedule("k2", "k", "p");
    scheduler.schedule("other", null, "p");
    await tick();
    gate.finish("k1", { kind: "retry", delayMs: 30 });
    await tick();
    expect(gate.running).toEqual(["other"]); // the slot went to another lane; k2 did not overtake k1
    expect(scheduler.stats.delayed).toBe(1);
    gate.finish("other");
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(gate.running).toEqual(["k1"]);
    expect(gate.started.filter((t) => t.payload === "k1").map((t) => t.attempt)).toEqual([2, 2]);
    gate.finish("k1");
    await tick();
    expect(gate.running).toEqual(["k2"]);
    gate.finish("k2");
    await scheduler.whenIdle();
    expect(scheduler.size).toBe(0);
  });

  test("an execute that throws is retried, not lost", async () => {
    let calls = 0;
    const scheduler = new Scheduler<string>({
      concurrency: 1,
      pickUp: 1,
      execute: async () => {
        calls++;
        if (calls === 1) throw new Error("bug");
        return { kind: "done" };
      },
      onExecuteError: () => ({ kind: "retry", delayMs: 1 }),
    });
    scheduler.schedule("x", null, "p");
    await scheduler.whenIdle();
    expect(calls).toBe(2);
  });

  test("rejects a pick-up larger than the pool", () => {
    expect(() => new Scheduler<string>({ concurrency: 2, pickUp: 3, execute: async () => ({ kind: "done" }) })).toThrow();
  });
});

describe("scheduler with synchronous tasks", () => {
  test("100,000 tasks finishing synchronously run in order per lane without deep recursion", async () => {
    const seen = new Map<string, number[]>();
    const scheduler = new Scheduler<number>({
      concurrency: 8,
      pickUp: 2,
      execute: (task) => {
        const list = seen.get(task.lane!) ?? [];
        list.push(task.payload);
        seen.set(task.lane!, list);
        return { kind: "done" };
      },
    });
    for (let i = 0; i < 100_000; i++) scheduler.schedule(i, `lane-${i % 7}`, "p");
    await scheduler.whenIdle();
    expect([...seen.values()].reduce((n, list) => n + list.length, 0)).toBe(100_000);
    for (const list of seen.values()) expect(list).toEqual([...list].sort((a, b) => a - b));
  });
});
