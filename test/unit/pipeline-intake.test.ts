/**
 * The intake alone: real consumer rings carrying encoded assignment and record frames, a real offset tracker
 * and scheduler, and a runner that holds every task until the test finishes it. No handler, outbox or broker.
 */
import { describe, expect, test } from "bun:test";
import { Intake } from "../../src/pipeline/intake.ts";
import { Commits } from "../../src/pipeline/commits.ts";
import { newStats, type CommitPort, type PipelineSettings, type RecordWork } from "../../src/pipeline/types.ts";
import { OffsetTracker } from "../../src/offsets/offset-tracker.ts";
import { createRing, RingWriter } from "../../src/threads/byte-ring.ts";
import { RecordEncoder } from "../../src/threads/record-codec.ts";
import type { Task, TaskOutcome } from "../../src/scheduler/scheduler.ts";
import type { CommitOffset } from "../../src/threads/messages.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { tick, within } from "../support/async.ts";
import { pipelineSettings } from "../support/pipeline-settings.ts";

const T = "in";
const A = 0;
const B = 1;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

const SETTINGS = pipelineSettings({
  concurrency: 1,
  ordering: "partition",
  retries: 0,
  retryBackoffMaxMs: 1,
  handlerTimeoutMs: 1000,
  revokeTimeoutMs: 200,
});

class Rig {
  readonly stats = newStats();
  readonly tracker = new OffsetTracker();
  readonly intake: Intake;
  /** Tasks handed to the runner and not finished yet, in the order they started. */
  readonly running: Array<{ task: Task<RecordWork>; finish: () => void }> = [];
  readonly started: string[] = [];
  readonly flows: Array<{ owner: number; partition: number; paused: boolean }> = [];
  readonly commits: Array<{ owner: number; partition: number; offset: number }> = [];
  private readonly writers = new Map<number, RingWriter>();
  private readonly encoder = new RecordEncoder();

  constructor(settings: Partial<PipelineSettings> = {}) {
    const log = createLogger("silent");
    const observer = {
      handlerSeconds: () => undefined,
      commitSeconds: () => undefined,
      halted: () => undefined,
      fatal: () => undefined,
      refetch: () => undefined,
      partitionFlow: (owner: number, parts: ReadonlyArray<{ partition: number }>, paused: boolean) =>
        this.flows.push(...parts.map((p) => ({ owner, partition: p.partition, paused }))),
    };
    const commits = new Commits(this.tracker, this.stats, observer, log);
    this.intake = new Intake({ ...SETTINGS, ...settings }, this.tracker, commits, this.stats, log, observer, {
      execute: (task) => this.execute(task),
      onExecuteError: () => ({ kind: "done" }),
      settled: () => undefined,
    });
  }

  consumer(owner: number): void {
    const ring = createRing(1 << 20);
    this.writers.set(owner, new RingWriter(ring));
    this.intake.attachConsumer(owner, ring);
  }

  /** An assignment frame: `owner` holds exactly these partitions since `at`. */
  assign(owner: number, partitions: number[], at: number): void {
    const value = utf8.encode(JSON.stringify({ partitions: partitions.map((partition) => ({ topic: T, partition })) }));
    this.write(owner, { ref: 1, topic: "", kind: "assignment", partition: -1, offset: 0, timestamp: at, key: null, value, headers: [] });
  }

  records(owner: number, partition: number, offsets: number[], valueBytes = 8): void {
    for (const offset of offsets)
      this.write(owner, {
        kind: "record",
        ref: 1,
        topic: T,
        partition,
        offset,
        timestamp: 0,
        key: utf8.encode(`k${offset}`),
        value: utf8.encode(`${owner}/${partition}/${offset}/`.padEnd(valueBytes, ".")),
        headers: [],
      });
  }

  port(owner: number): CommitPort {
    return async (offsets: readonly CommitOffset[]) => {
      for (const o of offsets) this.commits.push({ owner, partition: o.partition, offset: o.offset });
      return { committed: offsets };
    };
  }

  /** Finishes the oldest running tasks (their records complete). */
  finish(count = 1): void {
    for (const { finish } of this.running.splice(0, count)) finish();
  }

  async until(condition: () => boolean, what: string): Promise<void> {
    await within(
      (async () => {
        while (!condition()) await tick();
      })(),
      2000,
      what,
    );
  }

  private write(owner: number, record: Parameters<RecordEncoder["encode"]>[0]): void {
    const writer = this.writers.get(owner)!;
    if (!writer.tryWrite(this.encoder.encode(record))) throw new Error("consumer ring full");
    writer.publish();
  }

  private execute(task: Task<RecordWork>): Promise<TaskOutcome> {
    const { partition, offset, value } = task.payload.input;
    this.started.push(`${fromUtf8.decode(value!).split("/")[0]}:${partition}@${offset}`);
    return new Promise((resolve) => {
      this.running.push({
        task,
        finish: () => {
          this.tracker.complete(task.payload.ticket);
          resolve(this.intake.done(task));
        },
      });
    });
  }
}

/** A rig whose consumer A owns partition 0 and has sent records 0, 1 and 2, once the first of them is running. */
async function firstOfThreeRunning(settings?: Partial<PipelineSettings>): Promise<Rig> {
  const rig = new Rig(settings);
  rig.consumer(A);
  rig.assign(A, [0], 1);
  rig.records(A, 0, [0, 1, 2]);
  await rig.until(() => rig.running.length === 1 && rig.stats.consumed === 3, "first running");
  return rig;
}

describe("intake: records and assignment frames", () => {
  test("records of an assigned partition become tasks in order; others are dropped as stale", async () => {
    const rig = new Rig({ concurrency: 4, pickUp: 4 });
    rig.consumer(A);
    rig.assign(A, [0], 1);
    rig.records(A, 0, [0, 1, 2]);
    rig.records(A, 5, [0]); // not A's
    await rig.until(() => rig.stats.consumed === 3 && rig.stats.staleDropped === 1, "records read");
    await rig.until(() => rig.started.length === 1, "first task");
    // --ordering partition: one at a time per partition
    expect(rig.started).toEqual(["0:0@0"]);
    rig.finish();
    await rig.until(() => rig.started.length === 2, "second task");
    rig.finish();
    await rig.until(() => rig.started.length === 3, "third task");
    rig.finish();
    await rig.until(() => rig.intake.scheduler.size === 0, "idle");
    expect(rig.intake.flow.bufferedBytes).toBe(0);
    expect(rig.tracker.takeCommits().map((c) => c.offset)).toEqual([3]);
  });

  for (const order of ["older claim read first", "newer claim read first"] as const) {
    test(`a partition claimed by A (t=1) and then B (t=2) ends up with B: ${order}`, async () => {
      const rig = new Rig({ concurrency: 4, pickUp: 4 });
      rig.consumer(A);
      rig.consumer(B);
      const a = async (): Promise<void> => {
        rig.assign(A, [0, 1], 1);
        rig.records(A, 0, [0, 1]);
        await rig.until(() => rig.stats.assignmentChanges >= 1 && rig.stats.consumed + rig.stats.staleDropped >= 2, "A read");
      };
      const b = async (): Promise<void> => {
        rig.assign(B, [0], 2);
        rig.records(B, 0, [0]);
        await rig.until(() => rig.tracker.ownerOf(`${T}\u00000`) === B, "B read");
      };
      if (order === "older claim read first") {
        await a();
        await b();
      } else {
        await b();
        await a();
      }
      await rig.until(() => rig.stats.assignmentChanges === 2, "both frames");
      expect(rig.tracker.ownerOf(`${T}\u00000`)).toBe(B);
      expect(rig.tracker.ownerOf(`${T}\u00001`)).toBe(A);
      // A's records of partition 0: dropped as stale (read after B's claim) or removed with their group
      await tick();
      const aOf0 = rig.running.filter(
        ({ task }) =>
          task.payload.input.partition === 0 &&
          task.payload.input.value !== null &&
          fromUtf8.decode(task.payload.input.value).startsWith("0/"),
      );
      expect(aOf0.every(({ task }) => task.cancelled)).toBe(true);
      if (order === "newer claim read first") expect(rig.stats.staleDropped).toBe(2);
      // B's record of partition 0 runs once A's cancelled one gave the lane back
      while (rig.intake.scheduler.size > 0) {
        rig.finish(rig.running.length);
        await tick();
      }
      expect(rig.started).toContain("1:0@0");
      expect(rig.started.filter((s) => s.startsWith("0:0@"))).toEqual(order === "older claim read first" ? ["0:0@0"] : []);
    });
  }

  test("a dropping frame removes the partition's queued work and its running task is cancelled", async () => {
    const rig = await firstOfThreeRunning();
    rig.assign(A, [], 2);
    await rig.until(() => rig.stats.assignmentChanges === 2, "dropping frame");
    expect(rig.intake.scheduler.size).toBe(1); // only the running one
    expect(rig.running[0]!.task.cancelled).toBe(true);
    rig.finish();
    await rig.until(() => rig.intake.scheduler.size === 0, "settled");
    expect(rig.intake.flow.bufferedBytes).toBe(0);
  });
});

describe("intake: rewinds, back-pressure, flow control", () => {
  test("a re-fetch from an older offset drops the partition's older work and starts a new sequence", async () => {
    const rig = new Rig();
    rig.consumer(A);
    rig.assign(A, [0], 1);
    rig.records(A, 0, [10, 11, 12, 13]);
    await rig.until(() => rig.running.length === 1 && rig.stats.consumed === 4, "first running");
    const first = rig.running[0]!.task;
    rig.records(A, 0, [11, 12]); // the consumer fetches again from its committed offset
    await rig.until(() => rig.stats.consumed === 6, "re-fetch read");
    expect(first.cancelled).toBe(true);
    rig.finish();
    await rig.until(() => rig.started.length === 2, "next");
    expect(rig.started).toEqual(["0:0@10", "0:0@11"]);
    rig.finish();
    await rig.until(() => rig.started.length === 3, "last");
    rig.finish();
    await rig.until(() => rig.intake.scheduler.size === 0, "drained");
    expect(rig.tracker.takeCommits().map((c) => c.offset)).toEqual([13]);
  });

  test("back-pressure: reading stops at twice --ring-bytes buffered and goes on as records finish", async () => {
    const rig = new Rig({ ringBytes: 4096 }); // at most 8 KiB buffered
    rig.consumer(A);
    rig.assign(A, [0], 1);
    // one ring batch of 10 KiB is read whole; the next waits until enough of it finished
    rig.records(
      A,
      0,
      Array.from({ length: 10 }, (_, i) => i),
      1000,
    );
    await rig.until(() => rig.running.length === 1 && rig.stats.consumed === 10, "first batch");
    rig.records(
      A,
      0,
      Array.from({ length: 30 }, (_, i) => 10 + i),
      1000,
    );
    for (let i = 0; i < 5; i++) await tick();
    expect(rig.stats.consumed).toBe(10);
    expect(rig.intake.flow.bufferedBytes).toBeGreaterThanOrEqual(8192);
    // each record holds ~1 KiB: reading goes on once the buffered bytes are under 8 KiB
    let finished = 0;
    while (rig.stats.consumed === 10) {
      await rig.until(() => rig.running.length === 1, "running");
      rig.finish();
      finished++;
      for (let i = 0; i < 3; i++) await tick();
    }
    expect(finished).toBe(3);
    await rig.until(() => rig.stats.consumed === 40, "second batch");
    while (rig.started.length < 40) {
      rig.finish(rig.running.length);
      await tick();
    }
    rig.finish(rig.running.length);
    await rig.until(() => rig.stats.consumed === 40 && rig.intake.scheduler.size === 0, "all read");
    expect(rig.intake.flow.bufferedBytes).toBe(0);
  });

  test("--max-uncommitted pauses a partition once, and resumes it at half the limit", async () => {
    const rig = new Rig({ maxUncommitted: 4 });
    rig.consumer(A);
    rig.assign(A, [0, 1], 1);
    rig.records(A, 0, [0, 1, 2, 3, 4, 5]);
    rig.records(A, 1, [0]);
    await rig.until(() => rig.stats.consumed === 7, "read");
    expect(rig.flows).toEqual([{ owner: A, partition: 0, paused: true }]);
    expect(rig.intake.flow.pausedPartitions).toBe(1);
    // 6 received: resumed once at most 2 of them are not yet committable
    let finished = 0;
    while (rig.flows.length < 2) {
      await rig.until(() => rig.running.length > 0, "running");
      rig.finish();
      finished++;
      await tick();
    }
    expect(rig.tracker.uncommitted(`${T}\u00000`)).toBeLessThanOrEqual(2);
    expect(finished).toBeGreaterThanOrEqual(4);
    expect(rig.flows[1]).toEqual({ owner: A, partition: 0, paused: false });
    expect(rig.intake.flow.pausedPartitions).toBe(0);
    while (rig.intake.scheduler.size > 0) {
      rig.finish(rig.running.length);
      await tick();
    }
  });
});

describe("intake: revocation and detach", () => {
  test("commit on revoke: finished records are committed through the revoked consumer, the rest dropped", async () => {
    const rig = await firstOfThreeRunning({ revokeTimeoutMs: 30 });
    rig.finish();
    await rig.until(() => rig.running.length === 1 && rig.started.length === 2, "second running");
    const second = rig.running[0]!.task;
    await rig.intake.revoke(A, [{ topic: T, partition: 0 }], 10, rig.port(A));
    expect(rig.commits).toEqual([{ owner: A, partition: 0, offset: 1 }]);
    expect(rig.tracker.ownerOf(`${T}\u00000`)).toBeUndefined();
    expect(second.cancelled).toBe(true);
    rig.records(A, 0, [3]);
    await rig.until(() => rig.stats.staleDropped === 1, "stale after revoke");
    rig.finish();
  });

  test("a revocation waits for in-flight records that finish within --revoke-timeout", async () => {
    const rig = new Rig({ revokeTimeoutMs: 2000 });
    rig.consumer(A);
    rig.assign(A, [0], 1);
    rig.records(A, 0, [0, 1]);
    await rig.until(() => rig.running.length === 1 && rig.stats.consumed === 2, "first running");
    const revoked = rig.intake.revoke(A, [{ topic: T, partition: 0 }], 10, rig.port(A));
    rig.finish();
    await rig.until(() => rig.running.length === 1, "second running");
    rig.finish();
    await within(revoked, 1000, "revoke");
    expect(rig.commits).toEqual([{ owner: A, partition: 0, offset: 2 }]);
  });

  test("detach: a gone consumer's queued work is dropped and its ring no longer read", async () => {
    const rig = await firstOfThreeRunning();
    expect(rig.intake.detachConsumer(A)).toBe(2);
    rig.records(A, 0, [3]);
    await within(rig.intake.consumersClosed(), 2000, "drain loop ends");
    expect(rig.stats.consumed).toBe(3);
    rig.finish();
    await rig.until(() => rig.intake.scheduler.size === 0, "settled");
  });
});
