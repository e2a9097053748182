/**
 * process-record alone: the decision for one record (outputs, retry, dead-letter copy, halt, drop) and for an
 * internal error, with a real QueuedInput, real handlers and no rings, scheduler or broker.
 */
import { describe, expect, test } from "bun:test";
import { QueuedInput } from "../../src/pipeline/input-record.ts";
import { RecordProcessor, INTERNAL_ATTEMPTS, type ProcessSettings, type RecordOutcome } from "../../src/pipeline/process-record.ts";
import { newStats, type RecordWork } from "../../src/pipeline/types.ts";
import type { Task } from "../../src/scheduler/scheduler.ts";
import type { Ticket } from "../../src/offsets/offset-tracker.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { PermanentError, type Handler } from "../../src/handlers/types.ts";
import type { ResolvedOutput } from "../../src/handlers/run-handler.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");

const SETTINGS: ProcessSettings = {
  retries: 3,
  retryBackoffMs: 100,
  retryBackoffMaxMs: 250,
  handlerTimeoutMs: 1000,
  outputTopic: "out",
  dlqTopic: "out.dlq",
  dlqWindow: 100,
  dlqMaxConsecutive: 0,
};

function taskOf(offset = 7, attempt = 1): Task<RecordWork> {
  const input = new QueuedInput({
    kind: "record",
    ref: 0,
    topic: "in",
    partition: 2,
    offset,
    timestamp: 1_700_000_000_000,
    key: utf8.encode("k"),
    value: utf8.encode(`v${offset}`),
    headers: [[utf8.encode("h"), utf8.encode("x")]],
  });
  const ticket: Ticket = { partitionKey: "in\u00002", generation: 1, offset };
  return {
    id: offset,
    payload: { input, ticket, bytes: 100, internalFailures: 0, internalReason: null },
    lane: null,
    partitionKey: ticket.partitionKey,
    attempt,
    cancelled: false,
  };
}

function rig(handler: Handler, settings: Partial<ProcessSettings> = {}) {
  const stats = newStats();
  const timings: number[] = [];
  let current = true;
  const processor = new RecordProcessor(
    { ...SETTINGS, ...settings },
    handler,
    stats,
    log,
    { handlerSeconds: (s) => timings.push(s) },
    () => current,
  );
  return {
    processor,
    stats,
    timings,
    revoke: () => (current = false),
    /** The decision, and whether it came synchronously. */
    decide(task: Task<RecordWork>): { outcome: RecordOutcome | Promise<RecordOutcome>; sync: boolean } {
      const outcome = processor.process(task, (_, o) => o);
      return { outcome, sync: !(outcome instanceof Promise) };
    },
  };
}

const header = (copy: ResolvedOutput, name: string): string | undefined => {
  const found = copy.headers.find(([n]) => n === `x-processor-${name}`);
  return found?.[1] ? fromUtf8.decode(found[1]) : undefined;
};

describe("process-record: handler outcomes", () => {
  test("success: one output to the default topic, decided synchronously, handler time observed", () => {
    const r = rig((record) => ({ value: record.value }));
    const { outcome, sync } = r.decide(taskOf());
    expect(sync).toBe(true);
    const o = outcome as RecordOutcome;
    expect(o.kind).toBe("outputs");
    if (o.kind !== "outputs") return;
    expect(o.outputs).toHaveLength(1);
    expect(o.outputs[0]!.topic).toBe("out");
    expect(fromUtf8.decode(o.outputs[0]!.value!)).toBe("v7");
    expect(r.timings).toHaveLength(1);
    expect(r.stats).toMatchObject({ failed: 0, filtered: 0, retried: 0, deadLettered: 0 });
  });

  test("filter: null is zero outputs and counted as filtered", () => {
    const r = rig(() => null);
    const o = r.decide(taskOf()).outcome as RecordOutcome;
    expect(o).toEqual({ kind: "outputs", outputs: [] });
    expect(r.stats.filtered).toBe(1);
  });

  test("fan-out: every output, in order, with its own topic", () => {
    const r = rig(() => [{ value: "a" }, { topic: "side", value: "b" }, { value: "c", key: "kk" }]);
    const o = r.decide(taskOf()).outcome as RecordOutcome;
    if (o.kind !== "outputs") throw new Error(o.kind);
    expect(o.outputs.map((x) => [x.topic, fromUtf8.decode(x.value!)])).toEqual([
      ["out", "a"],
      ["side", "b"],
      ["out", "c"],
    ]);
  });

  test("an asynchronous handler is decided once it settles (one promise)", async () => {
    const r = rig(async () => ({ value: "later" }));
    const { outcome, sync } = r.decide(taskOf());
    expect(sync).toBe(false);
    const o = await outcome;
    expect(o.kind).toBe("outputs");
    expect(r.timings).toHaveLength(1);
  });

  test("retry with backoff: attempts up to --retries retry with growing, capped delays", () => {
    const r = rig(() => {
      throw new Error("flaky");
    });
    const delays: number[] = [];
    for (let attempt = 1; attempt <= 3; attempt++) {
      const o = r.decide(taskOf(7, attempt)).outcome as RecordOutcome;
      if (o.kind !== "retry") throw new Error(o.kind);
      delays.push(o.delayMs);
    }
    // equal jitter: base·2^(n-1) capped at the max, between half of it and all of it
    expect(delays[0]).toBeGreaterThanOrEqual(50);
    expect(delays[0]).toBeLessThanOrEqual(100);
    expect(delays[1]).toBeGreaterThanOrEqual(100);
    expect(delays[1]).toBeLessThanOrEqual(200);
    expect(delays[2]).toBeGreaterThanOrEqual(125);
    expect(delays[2]).toBeLessThanOrEqual(250);
    expect(r.stats).toMatchObject({ failed: 3, retried: 3, deadLettered: 0 });
  });

  test("retries exhausted: the next attempt is a dead-letter copy with the input's bytes and the reasons", () => {
    const r = rig(() => {
      throw new Error("still broken");
    });
    const o = r.decide(taskOf(7, 4)).outcome as RecordOutcome;
    if (o.kind !== "dead-letter") throw new Error(o.kind);
    expect(o.deadLetterKind).toBe("retries-exhausted");
    expect(o.reason).toContain("still broken");
    expect(o.copy.topic).toBe("out.dlq");
    expect(fromUtf8.decode(o.copy.value!)).toBe("v7");
    expect(fromUtf8.decode(o.copy.key!)).toBe("k");
    expect(header(o.copy, "error-kind")).toBe("retries-exhausted");
    expect(header(o.copy, "attempts")).toBe("4");
    expect(header(o.copy, "source-offset")).toBe("7");
    expect(r.stats).toMatchObject({ failed: 1, retried: 0, deadLettered: 1 });
  });

  test("permanent: dead-lettered on the first attempt, retries left or not", () => {
    const r = rig(() => {
      throw new PermanentError("bad input");
    });
    const o = r.decide(taskOf()).outcome as RecordOutcome;
    if (o.kind !== "dead-letter") throw new Error(o.kind);
    expect(o.deadLetterKind).toBe("permanent");
    expect(header(o.copy, "attempts")).toBe("1");
  });

  test("wrong type: a handler returning something else is permanent", () => {
    const r = rig((() => 42) as unknown as Handler);
    const o = r.decide(taskOf()).outcome as RecordOutcome;
    if (o.kind !== "dead-letter") throw new Error(o.kind);
    expect(o.deadLetterKind).toBe("permanent");
    expect(o.reason).toContain("wrong type");
  });

  test("stale: a revoked or cancelled record is dropped without calling the handler", () => {
    let calls = 0;
    const r = rig(() => {
      calls++;
      return null;
    });
    const cancelled = taskOf();
    cancelled.cancelled = true;
    expect((r.decide(cancelled).outcome as RecordOutcome).kind).toBe("drop");
    r.revoke();
    expect((r.decide(taskOf()).outcome as RecordOutcome).kind).toBe("drop");
    expect(calls).toBe(0);
  });

  test("stale after the handler: revoked while an async handler ran, its result is dropped", async () => {
    let finish: () => void = () => undefined;
    const r = rig(() => new Promise((resolve) => (finish = () => resolve({ value: "x" }))));
    const { outcome } = r.decide(taskOf());
    r.revoke();
    finish();
    expect((await outcome).kind).toBe("drop");
  });
});

describe("process-record: internal errors", () => {
  test("counted, retried after 250 then 500 ms, then dead-lettered with kind internal; once more is fatal", () => {
    const r = rig(() => ({ value: "fine" }));
    const task = taskOf();
    const delays: unknown[] = [];
    for (let i = 0; i < INTERNAL_ATTEMPTS; i++) delays.push(r.processor.internalError(task, new Error("encode broke")));
    expect(delays).toEqual([
      { kind: "retry", delayMs: 250 },
      { kind: "retry", delayMs: 500 },
      { kind: "retry", delayMs: 0 },
    ]);
    expect(r.stats.internalErrors).toBe(3);
    task.attempt = 4;
    const o = r.decide(task).outcome as RecordOutcome;
    if (o.kind !== "dead-letter") throw new Error(o.kind);
    expect(o.deadLetterKind).toBe("internal");
    expect(o.reason).toBe("internal error in processor: Error: encode broke");
    expect(header(o.copy, "attempts")).toBe("4");
    const fatal = r.processor.internalError(task, new Error("dead-letter encode broke"));
    expect(fatal.kind).toBe("fatal");
    expect(r.stats.internalErrors).toBe(4);
  });

  test("internal failures do not use up the handler's retries", () => {
    const attempts: number[] = [];
    const r = rig((record) => {
      attempts.push(record.attempt);
      return null;
    });
    const task = taskOf();
    r.processor.internalError(task, new Error("once"));
    task.attempt = 2;
    r.decide(task);
    expect(attempts).toEqual([1]);
  });

  test("a cancelled record's internal error is counted and dropped", () => {
    const r = rig(() => null);
    const task = taskOf();
    task.cancelled = true;
    expect(r.processor.internalError(task, new Error("x"))).toEqual({ kind: "drop" });
    expect(r.stats.internalErrors).toBe(1);
  });
});

describe("process-record: dead-letter guard", () => {
  test("the record that trips it halts (not dead-lettered); afterwards everything is dropped", () => {
    let fail = true;
    const r = rig(
      () => {
        if (fail) throw new PermanentError("no");
        return { value: "ok" };
      },
      { dlqMaxConsecutive: 2 },
    );
    expect((r.decide(taskOf(1)).outcome as RecordOutcome).kind).toBe("dead-letter");
    const tripped = r.decide(taskOf(2)).outcome as RecordOutcome;
    if (tripped.kind !== "halt") throw new Error(tripped.kind);
    expect(tripped.reason).toContain("2 records in a row");
    expect(r.stats.deadLettered).toBe(1);
    fail = false;
    expect((r.decide(taskOf(3)).outcome as RecordOutcome).kind).toBe("drop");
    expect(r.processor.guard.reason).toBe(tripped.reason);
  });

  test("a success resets the run; retries do not feed the guard", () => {
    let mode: "fail" | "ok" | "flaky" = "fail";
    const r = rig(
      () => {
        if (mode === "ok") return null;
        throw mode === "fail" ? new PermanentError("no") : new Error("flaky");
      },
      { dlqMaxConsecutive: 2 },
    );
    expect((r.decide(taskOf(1)).outcome as RecordOutcome).kind).toBe("dead-letter");
    mode = "ok";
    expect((r.decide(taskOf(2)).outcome as RecordOutcome).kind).toBe("outputs");
    mode = "flaky";
    expect((r.decide(taskOf(3)).outcome as RecordOutcome).kind).toBe("retry");
    mode = "fail";
    expect((r.decide(taskOf(4)).outcome as RecordOutcome).kind).toBe("dead-letter");
    expect((r.decide(taskOf(5)).outcome as RecordOutcome).kind).toBe("halt");
  });
});

describe("batch mode (processBatch)", () => {
  const batchRig = () =>
    new RecordProcessor(
      SETTINGS,
      () => null,
      newStats(),
      log,
      { handlerSeconds: () => undefined },
      () => true,
      (records) => records.map((r) => ({ value: `out-${r.offset}` })),
    );

  test("acting on one record throwing fails that record alone (a rejected outcome), not the batch", async () => {
    const acted: number[] = [];
    const results = batchRig().processBatch([taskOf(1), taskOf(2), taskOf(3)], (task, outcome) => {
      if (task.payload.input.offset === 2) throw new Error("cannot frame this output");
      acted.push(task.payload.input.offset);
      return outcome.kind;
    });
    expect(acted).toEqual([1, 3]);
    expect(results[0]).toBe("outputs");
    expect(results[2]).toBe("outputs");
    expect(results[1]).toBeInstanceOf(Promise);
    await expect(results[1] as Promise<unknown>).rejects.toThrow("cannot frame this output");
  });

  test("a stale record in a batch is dropped without calling the handler for it", () => {
    const seen: number[] = [];
    const processor = new RecordProcessor(
      SETTINGS,
      () => null,
      newStats(),
      log,
      { handlerSeconds: () => undefined },
      (ticket) => ticket.offset !== 5,
      (records) =>
        records.map((r) => {
          seen.push(r.offset);
          return null;
        }),
    );
    const kinds = processor.processBatch([taskOf(4), taskOf(5), taskOf(6)], (_, outcome) => outcome.kind);
    expect(kinds).toEqual(["outputs", "drop", "outputs"]);
    expect(seen).toEqual([4, 6]);
  });
});
