/**
 * Batch handlers: runBatchHandler (results in order, per-slot errors, splitting a failing call down to the failing
 * records, async rejection and time-out), the seed rule's batch form against its per-record form, and loadHandler
 * with modules that export `batch`.
 */
import { describe, expect, test } from "bun:test";
import { resolve } from "node:path";
import { runBatchHandler, type HandlerOutcome } from "../../src/handlers/run-handler.ts";
import { createSeedBatchRule, createSeedRule, type SeedRuleOptions } from "../../src/handlers/seed-rule.ts";
import { HandlerLoadError, loadHandler } from "../../src/handlers/load-handler.ts";
import { PermanentError, type BatchHandler, type BatchResult, type InputRecord } from "../../src/handlers/types.ts";
import { kindOf, seedClock, seedValue } from "../../scripts/lib/seed-data.ts";
import { seedRuleCorpus } from "../differential/corpus.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const root = resolve(import.meta.dir, "../..");
const fixture = (name: string) => resolve(root, "test/fixtures", name);
const NOW = Date.parse("2026-11-26T12:00:00Z");

function record(value: string | Uint8Array | null, offset = 0): InputRecord {
  return {
    topic: "in",
    partition: 0,
    offset,
    timestamp: NOW,
    key: encoder.encode(`k${offset}`),
    value: value === null ? null : typeof value === "string" ? encoder.encode(value) : value,
    headers: [["h", encoder.encode("v")]],
    rawHeaders: [[encoder.encode("h"), encoder.encode("v")]],
    attempt: 1,
  };
}
const records = (values: readonly string[]): InputRecord[] => values.map((v, i) => record(v, i));
const textOf = (r: InputRecord): string => (r.value === null ? "" : decoder.decode(r.value));

/** Each outcome as text: the output values, or `failed(permanent?): reason`. */
function summary(outcomes: readonly HandlerOutcome[]): string[] {
  return outcomes.map((o) =>
    o.kind === "outputs"
      ? o.outputs.map((out) => (out.value === null ? "<null>" : decoder.decode(out.value))).join("|")
      : `failed(${o.permanent ? "permanent" : "retry"}): ${o.reason}`,
  );
}

function sync(result: HandlerOutcome[] | Promise<HandlerOutcome[]>): HandlerOutcome[] {
  if (result instanceof Promise) throw new Error("expected a synchronous answer");
  return result;
}

/** A batch handler that counts its calls and the sizes it was called with. */
function counted(body: BatchHandler): BatchHandler & { calls: number[] } {
  const calls: number[] = [];
  const wrapped = ((inputs: readonly InputRecord[]) => {
    calls.push(inputs.length);
    return body(inputs);
  }) as BatchHandler & { calls: number[] };
  wrapped.calls = calls;
  return wrapped;
}

describe("runBatchHandler", () => {
  test("results come back in order, one outcome per record, with the input's key and headers kept", () => {
    const handler = counted((inputs) => inputs.map((r) => ({ value: `${textOf(r)}!` })));
    const outcomes = sync(runBatchHandler(handler, records(["a", "b", "c", "d"]), "out", 1000));
    expect(summary(outcomes)).toEqual(["a!", "b!", "c!", "d!"]);
    expect(handler.calls).toEqual([4]);
    const first = outcomes[0]!;
    if (first.kind !== "outputs") throw new Error("expected outputs");
    expect(first.outputs[0]!.topic).toBe("out");
    expect(decoder.decode(first.outputs[0]!.key!)).toBe("k0");
    expect(first.outputs[0]!.headers.map(([n]) => decoder.decode(n as Uint8Array))).toEqual(["h"]);
  });

  test("null filters, an array fans out, a topic is kept", () => {
    const handler: BatchHandler = (inputs) =>
      inputs.map((r, i) => (i === 0 ? null : i === 1 ? [{ value: "x" }, { value: "y" }] : { value: textOf(r), topic: "elsewhere" }));
    const outcomes = sync(runBatchHandler(handler, records(["a", "b", "c"]), "out", 1000));
    expect(summary(outcomes)).toEqual(["", "x|y", "c"]);
    expect(outcomes[2]!.kind === "outputs" && outcomes[2]!.outputs[0]!.topic).toBe("elsewhere");
  });

  test("an Error in a record's place fails only that record: PermanentError (or permanent: true) is permanent, a plain Error is retriable", () => {
    const handler = counted((inputs) =>
      inputs.map((r) => {
        const v = textOf(r);
        if (v === "perm") return new PermanentError("cannot ever work");
        if (v === "flagged") return Object.assign(new Error("flagged"), { permanent: true });
        if (v === "retry") return new Error("try again");
        return { value: v };
      }),
    );
    const outcomes = sync(runBatchHandler(handler, records(["ok1", "perm", "ok2", "retry", "flagged", "ok3"]), "out", 1000));
    expect(summary(outcomes)).toEqual([
      "ok1",
      "failed(permanent): PermanentError: cannot ever work",
      "ok2",
      "failed(retry): Error: try again",
      "failed(permanent): Error: flagged",
      "ok3",
    ]);
    expect(handler.calls).toEqual([6]); // no split: the batch itself succeeded
  });

  test("a result of the wrong type in one slot fails that record alone, permanently", () => {
    const handler: BatchHandler = (inputs) => inputs.map((r) => (textOf(r) === "odd" ? (42 as unknown as null) : { value: textOf(r) }));
    const outcomes = sync(runBatchHandler(handler, records(["a", "odd", "b"]), "out", 1000));
    expect(outcomes[0]!.kind).toBe("outputs");
    expect(outcomes[1]).toMatchObject({ kind: "failed", permanent: true });
    expect((outcomes[1] as { reason: string }).reason).toStartWith("handler returned a wrong type");
    expect(outcomes[2]!.kind).toBe("outputs");
  });

  for (const n of [2, 5, 16, 37, 64]) {
    for (const at of new Set([0, Math.floor(n / 2), n - 1])) {
      test(`a batch of ${n} that throws for one poison record (at ${at}): only that record fails, in ≤ 2·⌈log2 n⌉+1 calls`, () => {
        const values = Array.from({ length: n }, (_, i) => (i === at ? "poison" : `v${i}`));
        const handler = counted((inputs) => {
          if (inputs.some((r) => textOf(r) === "poison")) throw new Error("poison somewhere in here");
          return inputs.map((r) => ({ value: textOf(r) }));
        });
        const outcomes = sync(runBatchHandler(handler, records(values), "out", 1000));
        expect(summary(outcomes)).toEqual(values.map((v) => (v === "poison" ? "failed(retry): Error: poison somewhere in here" : v)));
        expect(handler.calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(n)) + 1);
        expect(handler.calls[0]).toBe(n);
        expect(handler.calls.filter((size) => size === 1).length).toBeGreaterThanOrEqual(1);
      });
    }
  }

  test("three poison records among 37: exactly those fail (permanently when thrown as PermanentError), calls bounded per poison", () => {
    const n = 37;
    const poisoned = new Set([3, 17, 30]);
    const values = Array.from({ length: n }, (_, i) => (poisoned.has(i) ? `poison-${i}` : `v${i}`));
    const handler = counted((inputs) => {
      const bad = inputs.find((r) => textOf(r).startsWith("poison"));
      if (bad) throw new PermanentError(`bad ${textOf(bad)}`);
      return inputs.map((r) => ({ value: textOf(r) }));
    });
    const outcomes = sync(runBatchHandler(handler, records(values), "out", 1000));
    expect(summary(outcomes)).toEqual(values.map((v) => (v.startsWith("poison") ? `failed(permanent): PermanentError: bad ${v}` : v)));
    expect(handler.calls.length).toBeLessThanOrEqual(poisoned.size * (2 * Math.ceil(Math.log2(n)) + 1));
    // each record's last call was its own success or its failure alone: the sizes handed down sum to the work done
    expect(handler.calls.filter((size) => size === 1).length).toBeGreaterThanOrEqual(poisoned.size);
  });

  test("wrong number of results splits the batch; a single record that still gets the wrong count fails permanently", () => {
    // answers a batch of more than one with one result too few
    const shortByOne = counted((inputs) => {
      const all = inputs.map((r) => ({ value: textOf(r) }));
      return inputs.length > 1 ? all.slice(1) : all;
    });
    const values = ["a", "b", "c", "d", "e"];
    expect(summary(sync(runBatchHandler(shortByOne, records(values), "out", 1000)))).toEqual(values);
    expect(shortByOne.calls.filter((s) => s === 1).length).toBe(5); // split down to single records
    expect(shortByOne.calls[0]).toBe(5);

    // not an array at all, whatever the size
    const notArray = counted(() => ({ value: "x" }) as unknown as BatchResult);
    const outcomes = sync(runBatchHandler(notArray, records(["a", "b", "c"]), "out", 1000));
    expect(outcomes.length).toBe(3);
    for (const o of outcomes) {
      expect(o).toMatchObject({ kind: "failed", permanent: true });
      expect((o as { reason: string }).reason).toContain("handler returned a wrong type: a batch of 1 records needs as many results");
    }
    expect(notArray.calls).toEqual([3, 1, 2, 1, 1]);

    // too many results
    const tooMany = counted((inputs) => [...inputs.map((r) => ({ value: textOf(r) })), { value: "extra" }]);
    const extra = sync(runBatchHandler(tooMany, records(["a", "b"]), "out", 1000));
    expect(summary(extra).every((s) => s.startsWith("failed(permanent): handler returned a wrong type"))).toBe(true);
  });

  test("an async batch that rejects is split like a throwing one; the answer is a promise", async () => {
    const handler = counted(async (inputs) => {
      await Promise.resolve();
      if (inputs.some((r) => textOf(r) === "poison")) throw new Error("async poison");
      return inputs.map((r) => ({ value: textOf(r) }));
    });
    const values = Array.from({ length: 20 }, (_, i) => (i === 13 ? "poison" : `v${i}`));
    const result = runBatchHandler(handler, records(values), "out", 1000);
    expect(result).toBeInstanceOf(Promise);
    expect(summary(await result)).toEqual(values.map((v) => (v === "poison" ? "failed(retry): Error: async poison" : v)));
    expect(handler.calls.length).toBeLessThanOrEqual(2 * Math.ceil(Math.log2(20)) + 1);
  });

  test("a batch that is async when large and sync when small still answers in order", async () => {
    const handler: BatchHandler = (inputs) => {
      if (inputs.some((r) => textOf(r) === "poison")) {
        if (inputs.length > 2) return Promise.reject(new Error("big async failure"));
        throw new Error("small sync failure");
      }
      const results = inputs.map((r) => ({ value: textOf(r) }));
      return inputs.length > 3 ? Promise.resolve(results) : results;
    };
    const values = ["a", "b", "c", "poison", "e", "f", "g", "h", "i"];
    expect(summary(await runBatchHandler(handler, records(values), "out", 1000))).toEqual(
      values.map((v) => (v === "poison" ? "failed(retry): Error: small sync failure" : v)),
    );
  });

  test("an async batch past the time-out fails all of its records (retriable), without splitting", async () => {
    const handler = counted((inputs) =>
      inputs.some((r) => textOf(r) === "hang")
        ? new Promise<BatchResult>(() => undefined)
        : Promise.resolve(inputs.map((r) => ({ value: textOf(r) }))),
    );
    const started = performance.now();
    const outcomes = await runBatchHandler(handler, records(["a", "hang", "c", "d"]), "out", 40);
    expect(performance.now() - started).toBeGreaterThanOrEqual(35);
    expect(handler.calls).toEqual([4]);
    expect(outcomes.length).toBe(4);
    for (const o of outcomes) {
      expect(o).toMatchObject({ kind: "failed", permanent: false });
      expect((o as { reason: string }).reason).toContain("batch handler timed out after 40 ms (4 records)");
    }
  });

  test("a synchronous handler gets a synchronous answer even when it has to split", () => {
    const handler: BatchHandler = (inputs) => {
      if (inputs.length > 1) throw new Error("one at a time please");
      return [{ value: textOf(inputs[0]!) }];
    };
    const result = runBatchHandler(handler, records(["a", "b", "c"]), "out", 1000);
    expect(Array.isArray(result)).toBe(true);
    expect(summary(sync(result))).toEqual(["a", "b", "c"]);
  });
});

describe("createSeedBatchRule", () => {
  /** What the per-record rule does with a value: its output text, or the error it throws. */
  function perRecord(rule: ReturnType<typeof createSeedRule>, input: InputRecord): string {
    try {
      const out = rule(input) as { value: string | Uint8Array };
      return `out ${typeof out.value === "string" ? out.value : decoder.decode(out.value)}`;
    } catch (error) {
      const e = error as Error & { permanent?: boolean };
      return `${e.permanent === true ? "permanent" : "retriable"} ${e.name}: ${e.message}`;
    }
  }
  function inBatch(result: BatchResult[number]): string {
    if (result instanceof Error)
      return `${(result as { permanent?: boolean }).permanent === true ? "permanent" : "retriable"} ${result.name}: ${result.message}`;
    const out = result as { value: string | Uint8Array };
    return `out ${typeof out.value === "string" ? out.value : decoder.decode(out.value)}`;
  }

  function corpus(): InputRecord[] {
    const clock = seedClock(NOW);
    const generated = Array.from({ length: 300 }, (_, i) => seedValue(`id-${i}`, kindOf(i, { brokenEvery: 7 }), i, clock));
    const hand = [
      "not json",
      "",
      "[]",
      "null",
      '{"id":"x","timestamp":"2026-11-26T11:00:00Z","data":"0123456789x","status":"new"}',
      '{"id":"x","timestamp":"2026-11-24T11:00:00Z","data":"0123456789x","status":"new"}', // old
      '{"id":"x","timestamp":"Thu, 26 Nov 2026 11:00:00 GMT","data":"0123456789x"}', // bad timestamp
      '{"id":"x","timestamp":"2026-11-27T11:00:00Z","data":"short"}', // future
      '{"data":"no timestamp at all"}',
      '{"id":1,"timestamp":"2026-11-26T11:00:00Z"}',
    ];
    const all: Array<string | Uint8Array | null> = [...generated, ...hand, null, Uint8Array.from([0x7b, 0xff, 0xfe, 0x7d])];
    for (const c of seedRuleCorpus(NOW, { seed: 5, generated: 200 })) all.push(c.value);
    return all.map((v, i) => record(v, i));
  }

  const optionSets: SeedRuleOptions[] = [{}, { strictUtf8: true, requireFields: true }, { rejectFutureMs: 60_000 }];
  for (const options of optionSets) {
    test(`same outputs and rejections as createSeedRule over a mixed corpus (${JSON.stringify(options)})`, () => {
      const inputs = corpus();
      const rule = createSeedRule({ ...options, now: () => NOW });
      let clockReads = 0;
      const batchRule = createSeedBatchRule({
        ...options,
        now: () => {
          clockReads++;
          return NOW;
        },
      });
      const expected = inputs.map((r) => perRecord(rule, r));
      const results = batchRule(inputs);
      if (results instanceof Promise) throw new Error("the seed batch rule is synchronous");
      expect(results.length).toBe(inputs.length);
      expect(results.map(inBatch)).toEqual(expected);
      expect(clockReads).toBe(1); // one clock reading per batch
      // the corpus exercises all three: outputs, rejections, and both statuses
      expect(expected.some((e) => e.includes('"status":"valid"'))).toBe(true);
      expect(expected.some((e) => e.includes('"status":"invalid"'))).toBe(true);
      expect(expected.filter((e) => e.startsWith("permanent PermanentError")).length).toBeGreaterThan(20);
      expect(expected.some((e) => e.startsWith("retriable"))).toBe(false);
    });
  }

  test("through runBatchHandler: rejected records fail permanently and do not split the batch", () => {
    const inputs = corpus();
    let calls = 0;
    const batchRule = createSeedBatchRule({ now: () => NOW });
    const outcomes = sync(
      runBatchHandler(
        (rs) => {
          calls++;
          return batchRule(rs);
        },
        inputs,
        "out",
        1000,
      ),
    );
    expect(calls).toBe(1);
    const rule = createSeedRule({ now: () => NOW });
    outcomes.forEach((o, i) => {
      const expected = perRecord(rule, inputs[i]!);
      if (expected.startsWith("out ")) expect(summary([o])[0]).toBe(expected.slice(4));
      else expect(o).toMatchObject({ kind: "failed", permanent: true, reason: expected.slice("permanent ".length) });
    });
  });
});

describe("loadHandler with batch exports", () => {
  test("the default rule provides both forms", async () => {
    const handlers = await loadHandler(undefined, {}, true);
    expect(typeof handlers.record).toBe("function");
    expect(typeof handlers.batch).toBe("function");
  });

  test("a batch-only module outside batch mode: one-record batches, an Error in the slot thrown as the record's failure", async () => {
    const handlers = await loadHandler(fixture("batch-only-handler.ts"), {}, false);
    expect(typeof handlers.batch).toBe("function");
    expect(handlers.record(record("hello"))).toEqual({ value: "HELLO" });
    expect(handlers.record(record("drop"))).toBeNull();
    expect(() => handlers.record(record("bad"))).toThrow(PermanentError);
    try {
      handlers.record(record("flaky"));
      throw new Error("expected a throw");
    } catch (error) {
      expect((error as Error).message).toBe("flaky record");
      expect((error as { permanent?: boolean }).permanent).toBeUndefined();
    }
    // one result too few for its one-record batch: a permanent failure
    try {
      handlers.record(record("wrong-count"));
      throw new Error("expected a throw");
    } catch (error) {
      expect((error as Error).message).toContain("batch handler must return one result per record, got 0");
      expect((error as { permanent?: boolean }).permanent).toBe(true);
    }
  });

  test("a batch-only module in batch mode: its batch form is used as it is", async () => {
    const handlers = await loadHandler(fixture("batch-only-handler.ts"), {}, true);
    const results = handlers.batch!(records(["a", "bad", "drop"])) as BatchResult;
    expect(results[0]).toEqual({ value: "A" });
    expect(results[1]).toBeInstanceOf(PermanentError);
    expect(results[2]).toBeNull();
  });

  test("a module with both forms: both are loaded", async () => {
    const handlers = await loadHandler(fixture("batch-handler.ts"), {}, true);
    const out = handlers.record(record("x")) as { headers: ReadonlyArray<readonly [unknown, unknown]> };
    expect(out.headers.at(-1)).toEqual(["x-batch-size", "per-record"]);
    const results = handlers.batch!(records(["a", "poison", "b"])) as BatchResult;
    expect(
      results.map((r) => (r instanceof Error ? r.name : (r as { headers: ReadonlyArray<readonly [unknown, unknown]> }).headers.at(-1))),
    ).toEqual([["x-batch-size", "3"], "PermanentError", ["x-batch-size", "3"]]);
  });

  test("a per-record-only module in batch mode: HandlerLoadError naming the missing batch export; fine outside batch mode", async () => {
    const path = fixture("pass-through-handler.ts");
    const loaded = await loadHandler(path, {}, false);
    expect(loaded.batch).toBeNull();
    const error = await loadHandler(path, {}, true).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HandlerLoadError);
    expect((error as Error).message).toContain('exports no "batch" function');
  });

  test("a batch export that is not a function: HandlerLoadError, in batch mode and out of it", async () => {
    for (const batchMode of [false, true]) {
      const error = await loadHandler(fixture("bad-batch-export-handler.ts"), {}, batchMode).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(HandlerLoadError);
      expect((error as Error).message).toContain('"batch" export must be a function');
    }
  });
});
