/**
 * The pipeline in batch mode (--batch-size 16), without a broker: real consumer rings with encoded assignment and
 * record frames, a real Pipeline given a handler module's both forms, a fake producer that reads the producer ring
 * and acknowledges delivery ids only when the test says so, and a commit port that records every request.
 *
 * Checks: every record's output (or dead-letter copy) is written exactly once, per-key order of outputs, batches of
 * at most 16 with one record per key, offsets committed only after delivery, and a retriable Error in one slot
 * retried for that record alone (attempt 2) until it succeeds.
 */
import { describe, expect, test } from "bun:test";
import { Pipeline, type PipelineObserver, type PipelineSettings } from "../../src/pipeline/pipeline.ts";
import { createRing, RingWriter, type RingBuffers } from "../../src/threads/byte-ring.ts";
import { RecordEncoder, type DecodedRecord, type WireRecord } from "../../src/threads/record-codec.ts";
import { createLogger } from "../../src/observability/logger.ts";
import {
  PermanentError,
  type BatchHandler,
  type BatchResult,
  type Handler,
  type Handlers,
  type InputRecord,
} from "../../src/handlers/types.ts";
import { assignmentFrame } from "../support/frames.ts";
import { tick, within } from "../support/async.ts";
import { ProducerSide, type Out } from "../support/producer-side.ts";
import { prng } from "../support/random.ts";
import { pipelineSettings } from "../support/pipeline-settings.ts";

const IN = "in";
const OUT = "out";
const DLQ = "out.dlq";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");
const bytes = (t: string): Uint8Array => utf8.encode(t);
const text = (b: Uint8Array | null): string => (b === null ? "<null>" : fromUtf8.decode(b));

const SETTINGS = pipelineSettings({ batchSize: 16, retries: 3 });

interface Rec {
  readonly offset: number;
  readonly partition: number;
  readonly key: string;
  readonly value: string;
}

class Rig {
  readonly pipeline: Pipeline;
  readonly commits: Array<{ partition: number; offset: number }> = [];
  readonly fatal: string[] = [];
  private ring: RingBuffers | null = null;
  private writer: RingWriter | null = null;
  private readonly encoder = new RecordEncoder();
  private readonly producerSide: ProducerSide;
  private epoch = 0;

  constructor(handlers: Handlers, settings: Partial<PipelineSettings> = {}) {
    const observer: PipelineObserver = {
      handlerSeconds: () => undefined,
      commitSeconds: () => undefined,
      halted: () => undefined,
      fatal: (reason) => this.fatal.push(reason),
      refetch: () => undefined,
      partitionFlow: () => undefined,
    };
    this.pipeline = new Pipeline({ ...SETTINGS, ...settings }, handlers, log, observer);
    this.producerSide = new ProducerSide(this.pipeline);
  }

  attach(): void {
    this.ring = createRing(256 * 1024);
    this.writer = new RingWriter(this.ring);
    this.pipeline.attachConsumer(0, this.ring);
  }

  claim(partitions: readonly number[]): Promise<void> {
    return this.write([assignmentFrame(++this.epoch, IN, partitions, 10)]);
  }

  send(records: readonly Rec[]): Promise<void> {
    return this.write(
      records.map((r) => ({
        kind: "record" as const,
        ref: this.epoch,
        topic: IN,
        partition: r.partition,
        offset: r.offset,
        timestamp: 1_700_000_000_000 + r.offset,
        key: bytes(r.key),
        value: bytes(r.value),
        headers: [[bytes("src"), bytes(`${r.partition}/${r.offset}`)]],
      })),
    );
  }

  private async write(records: readonly WireRecord[]): Promise<void> {
    const writer = this.writer!;
    const writes = records.map((record) => writer.write(this.encoder.encode(record).slice()));
    writer.publish();
    await Promise.all(writes);
    writer.publish();
  }

  get outputs(): Out[] {
    return this.producerSide.outputs;
  }

  readProducer(): void {
    this.producerSide.read();
  }

  to(topic: string): Out[] {
    return this.producerSide.to(topic);
  }

  /** The fake producer acknowledges the open outputs `which` picks. */
  deliver(which?: (o: Out) => boolean): number {
    return this.producerSide.deliver(which);
  }

  commit(): Promise<void> {
    return this.pipeline.commit((owner) =>
      owner === 0
        ? async (offsets) => {
            for (const o of offsets) this.commits.push({ partition: o.partition, offset: o.offset });
            return { committed: offsets };
          }
        : undefined,
    );
  }

  committed(partition: number): number | undefined {
    return this.commits.filter((c) => c.partition === partition).at(-1)?.offset;
  }

  async until(condition: () => boolean, what: string, ms = 3000): Promise<void> {
    const deadline = performance.now() + ms;
    for (;;) {
      this.readProducer();
      if (condition()) return;
      if (performance.now() > deadline)
        throw new Error(
          `${what}: not within ${ms} ms (inFlight ${this.pipeline.inFlight}, outputs ${this.outputs.length}, fatal ${this.fatal})`,
        );
      await tick();
    }
  }

  async close(): Promise<void> {
    await this.writer?.close();
    const deadline = performance.now() + 2000;
    while (this.pipeline.inFlight > 0 && performance.now() < deadline) {
      this.deliver();
      await tick();
    }
    await within(this.pipeline.drained(), 2000, "pipeline drained");
  }
}

const header = (frame: DecodedRecord, name: string): string | undefined => {
  const found = frame.headers.find(([n]) => fromUtf8.decode(n) === name);
  return found === undefined ? undefined : text(found[1]);
};

/** A batch handler's record of its calls: each batch's records as `partition/offset#attempt`, and their keys. */
interface Calls {
  readonly batches: Array<Array<{ id: string; key: string; attempt: number }>>;
}

/**
 * The test's batch handler: `out:<value>` for each record; "bad…" gets a PermanentError in its slot; "flaky…" an Error
 * on attempt 1. `async` answers with a promise resolved after a random short delay.
 */
function batchHandler(calls: Calls, mode: "sync" | "async", random: () => number): BatchHandler {
  return (inputs: readonly InputRecord[]) => {
    calls.batches.push(inputs.map((r) => ({ id: `${r.partition}/${r.offset}`, key: text(r.key), attempt: r.attempt })));
    const results: BatchResult = inputs.map((r) => {
      const v = text(r.value);
      if (v.startsWith("bad")) return new PermanentError(`rejected ${v}`);
      if (v.startsWith("flaky") && r.attempt === 1) return new Error(`not yet ${v}`);
      return { value: `out:${v}` };
    });
    if (mode === "sync") return results;
    return new Promise((resolve) => setTimeout(() => resolve(results), Math.floor(random() * 3)));
  };
}

const perRecordMustNotRun: Handler = () => {
  throw new Error("the per-record form must not be called in batch mode");
};

/** `count` records over two partitions and `keys` keys; every 23rd is bad, record 40 (partition 0) is flaky. */
function corpus(count: number, keys: number): Rec[] {
  const next = [0, 0];
  return Array.from({ length: count }, (_, i) => {
    const partition = i % 2;
    const offset = next[partition]!++;
    const value = i === 40 ? `flaky-${i}` : i % 23 === 22 ? `bad-${i}` : `v-${i}`;
    return { partition, offset, key: `key-${i % keys}`, value };
  });
}

describe("pipeline in batch mode", () => {
  for (const mode of ["sync", "async"] as const) {
    test(`${mode} batch handler: each record written once (output or dead-letter copy), per-key order, batches ≤ 16 with one record per key, commits only after delivery`, async () => {
      const random = prng(mode === "sync" ? 11 : 12);
      const calls: Calls = { batches: [] };
      const rig = new Rig({ record: perRecordMustNotRun, batch: batchHandler(calls, mode, random) });
      rig.attach();
      try {
        const records = corpus(300, 24);
        const bad = records.filter((r) => r.value.startsWith("bad"));
        await rig.claim([0, 1]);
        await rig.send(records);
        await rig.until(() => rig.to(OUT).length + rig.to(DLQ).length >= records.length, "every record written");
        await tick();
        rig.readProducer();

        // exactly once: outputs by source, dead-letter copies by source
        const outBySource = new Map<string, number>();
        for (const o of rig.to(OUT)) {
          const src = header(o.frame, "src")!;
          outBySource.set(src, (outBySource.get(src) ?? 0) + 1);
        }
        const good = records.filter((r) => !r.value.startsWith("bad"));
        expect(rig.to(OUT).length).toBe(good.length);
        for (const r of good) expect(outBySource.get(`${r.partition}/${r.offset}`)).toBe(1);
        expect(rig.to(DLQ).length).toBe(bad.length);
        expect(
          rig
            .to(DLQ)
            .map((o) => text(o.frame.value))
            .sort(),
        ).toEqual(bad.map((r) => r.value).sort());
        for (const o of rig.to(DLQ)) {
          expect(header(o.frame, "x-processor-error")).toBe(`PermanentError: rejected ${text(o.frame.value)}`);
          expect(header(o.frame, "x-processor-error-kind")).toBe("permanent");
        }
        // output values are the handler's, with the input's key kept
        for (const o of rig.to(OUT)) expect(text(o.frame.value)).toStartWith("out:");

        // per-key order of outputs (keys are per partition here: key i % 24 and partition i % 2)
        const lastOffset = new Map<string, number>();
        for (const o of rig.to(OUT)) {
          const [p, off] = header(o.frame, "src")!.split("/").map(Number) as [number, number];
          const lane = `${p}/${text(o.frame.key)}`;
          expect(off).toBeGreaterThan(lastOffset.get(lane) ?? -1);
          lastOffset.set(lane, off);
        }

        // batches: ≤ 16, one record per key, and real batching happened
        for (const b of calls.batches) {
          expect(b.length).toBeLessThanOrEqual(16);
          expect(new Set(b.map((r) => r.key)).size).toBe(b.length);
        }
        expect(Math.max(...calls.batches.map((b) => b.length))).toBeGreaterThan(1);
        // every record handled once, except the flaky one (twice: attempt 1 failed, attempt 2 alone for it)
        const handled = new Map<string, number[]>();
        for (const b of calls.batches) for (const r of b) handled.set(r.id, [...(handled.get(r.id) ?? []), r.attempt]);
        const flaky = records.find((r) => r.value.startsWith("flaky"))!;
        const flakyId = `${flaky.partition}/${flaky.offset}`;
        expect(handled.get(flakyId)).toEqual([1, 2]);
        for (const r of records)
          if (`${r.partition}/${r.offset}` !== flakyId) expect(handled.get(`${r.partition}/${r.offset}`)).toEqual([1]);
        const flakyOut = rig.to(OUT).filter((o) => header(o.frame, "src") === flakyId);
        expect(flakyOut.map((o) => text(o.frame.value))).toEqual([`out:${flaky.value}`]);

        // commits: nothing before delivery; a gap in delivery holds the partition's commit below it
        await rig.commit();
        expect(rig.committed(0)).toBeUndefined();
        expect(rig.committed(1)).toBeUndefined();
        const holdBack = rig.to(OUT).find((o) => header(o.frame, "src") === "0/50")!;
        rig.deliver((o) => o !== holdBack);
        await rig.commit();
        expect(rig.committed(0)).toBe(50);
        expect(rig.committed(1)).toBe(150);
        rig.deliver();
        await rig.commit();
        expect(rig.committed(0)).toBe(150);
        expect(rig.fatal).toEqual([]);
        expect(rig.pipeline.inFlight).toBe(0);
      } finally {
        await rig.close();
      }
    });
  }

  test("a retriable Error in one slot: only that record is retried (attempt 2), its key's later records wait for it, then it succeeds", async () => {
    const calls: Calls = { batches: [] };
    let failures = 0;
    const batch: BatchHandler = (inputs) => {
      calls.batches.push(inputs.map((r) => ({ id: `${r.partition}/${r.offset}`, key: text(r.key), attempt: r.attempt })));
      return inputs.map((r) => {
        if (text(r.value) === "flaky" && failures < 2) {
          failures++;
          return new Error("transient");
        }
        return { value: `out:${text(r.value)}` };
      });
    };
    const rig = new Rig({ record: perRecordMustNotRun, batch }, { retryBackoffMs: 20, retryBackoffMaxMs: 20 });
    rig.attach();
    try {
      await rig.claim([0]);
      await rig.send([
        { partition: 0, offset: 0, key: "a", value: "flaky" },
        { partition: 0, offset: 1, key: "b", value: "b0" },
        { partition: 0, offset: 2, key: "a", value: "a-after" },
        { partition: 0, offset: 3, key: "c", value: "c0" },
      ]);
      await rig.until(() => rig.to(OUT).length === 4, "all four outputs");
      expect(rig.to(OUT).map((o) => text(o.frame.value))).toEqual(["out:b0", "out:c0", "out:flaky", "out:a-after"]);
      const flakyRuns = calls.batches.flatMap((b) => b.filter((r) => r.id === "0/0").map((r) => r.attempt));
      expect(flakyRuns).toEqual([1, 2, 3]);
      // b and c ran once, in the first batch with the flaky record; a-after only after a succeeded
      expect(calls.batches[0]!.map((r) => r.id)).toEqual(["0/0", "0/1", "0/3"]);
      expect(
        calls.batches
          .flat()
          .filter((r) => r.id !== "0/0")
          .map((r) => `${r.id}#${r.attempt}`),
      ).toEqual(["0/1#1", "0/3#1", "0/2#1"]);
      const retryBatches = calls.batches.filter((b) => b.some((r) => r.id === "0/0" && r.attempt > 1));
      for (const b of retryBatches) expect(b.map((r) => r.id)).toEqual(["0/0"]);
      expect(rig.to(DLQ)).toEqual([]);
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(4);
    } finally {
      await rig.close();
    }
  });

  test("a batch that throws for one record is split: the others are written once, the record is retried and then dead-lettered", async () => {
    const sizes: number[] = [];
    const attempts = new Map<string, number[]>();
    const batch: BatchHandler = (inputs) => {
      sizes.push(inputs.length);
      for (const r of inputs) attempts.set(text(r.value), [...(attempts.get(text(r.value)) ?? []), r.attempt]);
      if (inputs.some((r) => text(r.value) === "explode")) throw new Error("exploded");
      return inputs.map((r) => ({ value: `out:${text(r.value)}` }));
    };
    const rig = new Rig({ record: perRecordMustNotRun, batch }, { retries: 1 });
    rig.attach();
    try {
      await rig.claim([0]);
      const records: Rec[] = Array.from({ length: 12 }, (_, i) => ({
        partition: 0,
        offset: i,
        key: `k${i}`,
        value: i === 5 ? "explode" : `v${i}`,
      }));
      await rig.send(records);
      await rig.until(() => rig.to(OUT).length === 11 && rig.to(DLQ).length === 1, "outputs and the dead-letter copy");
      expect(new Set(rig.to(OUT).map((o) => text(o.frame.value))).size).toBe(11);
      const copy = rig.to(DLQ)[0]!.frame;
      expect(text(copy.value)).toBe("explode");
      expect(header(copy, "x-processor-error")).toBe("Error: exploded");
      expect(header(copy, "x-processor-error-kind")).toBe("retries-exhausted");
      expect(header(copy, "x-processor-attempts")).toBe("2");
      expect(sizes[0]).toBe(12);
      // the split found the record within the first call: the others were never retried
      for (const [value, runs] of attempts) if (value !== "explode") expect(runs.every((a) => a === 1)).toBe(true);
      expect(attempts.get("explode")!.at(-1)).toBe(2);
      expect(Math.max(...sizes)).toBeLessThanOrEqual(16);
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(12);
    } finally {
      await rig.close();
    }
  });

  test("an async batch handler keeps getting full batches after the first (not one record per call)", async () => {
    // 256 records on 64 keys, a handler that answers each batch a moment later: 16 batches of 16 would do. With the
    // default --pick-up (smaller than --batch-size) the pool must not refill one record at a time while a finished
    // batch settles.
    const sizes: number[] = [];
    const batch: BatchHandler = (inputs) => {
      sizes.push(inputs.length);
      const results = inputs.map((r) => ({ value: `out:${text(r.value)}` }));
      return new Promise((resolve) => setTimeout(() => resolve(results), 1));
    };
    const rig = new Rig({ record: perRecordMustNotRun, batch }, { ordering: "key", concurrency: 4, pickUp: 1 });
    rig.attach();
    try {
      await rig.claim([0]);
      await rig.send(Array.from({ length: 256 }, (_, i) => ({ partition: 0, offset: i, key: `k${i % 64}`, value: `v${i}` })));
      await rig.until(() => rig.to(OUT).length === 256, "all outputs");
      expect(sizes.reduce((a, b) => a + b, 0)).toBe(256);
      expect(sizes.length).toBeLessThanOrEqual(48);
    } finally {
      await rig.close();
    }
  });

  test("batch mode without a batch form is refused", () => {
    expect(() => new Rig({ record: perRecordMustNotRun, batch: null })).toThrow("batch mode");
  });
});
