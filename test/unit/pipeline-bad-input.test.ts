/**
 * The pipeline against input and failures that are not the handler's ordinary successes, without a broker:
 * internal errors (processor itself failing on a record), outputs Kafka refuses, byte-exact pass-through of odd
 * records, --max-uncommitted flow control, and the bytes held by records that wait (retries) or are cancelled.
 *
 * The rig: real consumer rings carrying encoded assignment and record frames, a real Pipeline, a fake producer
 * that reads the producer ring and acknowledges (or refuses) delivery ids only when a test says so, and a commit
 * port that records every request. Internal errors are injected by patching RecordEncoder.prototype.encode
 * (restored after every test); the rig's own frames are encoded with the original.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Pipeline, type PipelineObserver, type PipelineSettings } from "../../src/pipeline/pipeline.ts";
import { createRing, RingWriter, type RingBuffers } from "../../src/threads/byte-ring.ts";
import { RecordEncoder, type DecodedRecord, type WireRecord } from "../../src/threads/record-codec.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { PermanentError, type Handler, type InputRecord } from "../../src/handlers/types.ts";
import { assignmentFrame } from "../support/frames.ts";
import { tick, within } from "../support/async.ts";
import { ProducerSide, type Out } from "../support/producer-side.ts";
import { pipelineSettings } from "../support/pipeline-settings.ts";

const IN = "in";
const OUT = "out";
const DLQ = "out.dlq";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");
const bytes = (text: string): Uint8Array => utf8.encode(text);
const text = (b: Uint8Array | null): string | null => (b === null ? null : fromUtf8.decode(b));

const realSetTimeout = globalThis.setTimeout;
const realEncode = RecordEncoder.prototype.encode;

afterEach(() => {
  RecordEncoder.prototype.encode = realEncode;
  globalThis.setTimeout = realSetTimeout;
});

/** Makes the pipeline's encoder throw (an internal error) for the frames `when` picks. */
function failEncoding(when: (record: WireRecord) => boolean): void {
  RecordEncoder.prototype.encode = function (this: RecordEncoder, record: WireRecord): Uint8Array {
    if (when(record)) throw new Error(`injected encoding failure (topic ${record.topic})`);
    return realEncode.call(this, record);
  };
}

/**
 * processor waits 250 ms, then 500 ms between internal retries (fixed, not from settings): shrink exactly those
 * delays so a test does not take 3/4 s. Nothing else in these tests uses them.
 */
function fastInternalRetries(): void {
  const patched = (fn: () => void, ms?: number, ...args: unknown[]) => realSetTimeout(fn, ms === 250 || ms === 500 ? 1 : ms, ...args);
  globalThis.setTimeout = patched as unknown as typeof setTimeout;
}

const includes = (value: Uint8Array | null, part: string): boolean => value !== null && fromUtf8.decode(value).includes(part);
const startsWith = (value: Uint8Array | null, part: string): boolean => value !== null && fromUtf8.decode(value).startsWith(part);

const BASE = pipelineSettings({ concurrency: 8, retries: 0 });

interface Rec {
  readonly offset: number;
  readonly partition?: number;
  /** Default `k<offset>`. */
  readonly key?: Uint8Array | null;
  /** Default `v<offset>`. */
  readonly value?: Uint8Array | null;
  readonly headers?: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>;
}

class Rig {
  readonly pipeline: Pipeline;
  readonly commits: Array<{ owner: number; partition: number; offset: number }> = [];
  readonly fatal: string[] = [];
  readonly flows: Array<{ owner: number; partition: number; paused: boolean; consumed: number }> = [];
  private readonly consumers = new Map<number, { ring: RingBuffers; writer: RingWriter }>();
  private readonly encoder = new RecordEncoder();
  private readonly producerSide: ProducerSide;
  private epoch = 0;
  private closed = false;

  constructor(handler: Handler, settings: Partial<PipelineSettings> = {}) {
    const observer: PipelineObserver = {
      handlerSeconds: () => undefined,
      commitSeconds: () => undefined,
      halted: () => undefined,
      fatal: (reason) => this.fatal.push(reason),
      refetch: () => undefined,
      partitionFlow: (owner, partitions, paused) => {
        for (const p of partitions) this.flows.push({ owner, partition: p.partition, paused, consumed: this.pipeline.stats.consumed });
      },
    };
    this.pipeline = new Pipeline({ ...BASE, ...settings }, handler, log, observer);
    this.producerSide = new ProducerSide(this.pipeline);
  }

  consumer(owner = 0): void {
    const ring = createRing(64 * 1024);
    this.consumers.set(owner, { ring, writer: new RingWriter(ring) });
    this.pipeline.attachConsumer(owner, ring);
  }

  /** An assignment frame: from `ts` on, `owner` owns exactly `partitions` of the input topic. */
  claim(owner: number, partitions: readonly number[], ts: number): Promise<void> {
    return this.write(owner, [assignmentFrame(++this.epoch, IN, partitions, ts)]);
  }

  /** Records, all published at once (the pipeline reads them in one batch when they fit the ring). */
  send(owner: number, records: readonly Rec[]): Promise<void> {
    return this.write(
      owner,
      records.map((r) => ({
        kind: "record" as const,
        ref: this.epoch,
        topic: IN,
        partition: r.partition ?? 0,
        offset: r.offset,
        timestamp: 1_700_000_000_000 + r.offset,
        key: r.key === undefined ? bytes(`k${r.offset}`) : r.key,
        value: r.value === undefined ? bytes(`v${r.offset}`) : r.value,
        headers: r.headers ?? [],
      })),
    );
  }

  private async write(owner: number, records: readonly WireRecord[]): Promise<void> {
    const { writer } = this.consumers.get(owner)!;
    const writes = records.map((record) => writer.write(realEncode.call(this.encoder, record).slice()));
    writer.publish();
    await Promise.all(writes);
    writer.publish();
  }

  /** Every output frame the pipeline wrote so far (frames larger than the ring are assembled). */
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

  /** Kafka refuses the open outputs `which` picks. */
  reject(which: (o: Out) => boolean, reason: string): number {
    return this.producerSide.reject(which, reason);
  }

  commit(): Promise<void> {
    return this.pipeline.commit((owner) =>
      this.consumers.has(owner)
        ? async (offsets) => {
            for (const o of offsets) this.commits.push({ owner, partition: o.partition, offset: o.offset });
            return { committed: offsets };
          }
        : undefined,
    );
  }

  /** The last offset committed for a partition (undefined: none). */
  committed(partition: number): number | undefined {
    return this.commits.filter((c) => c.partition === partition).at(-1)?.offset;
  }

  /** Polls (reading the producer ring) until `condition` holds. */
  async until(condition: () => boolean, what: string, ms = 1000): Promise<void> {
    const deadline = performance.now() + ms;
    for (;;) {
      this.readProducer();
      if (condition()) return;
      if (performance.now() > deadline) {
        const f = this.pipeline.flow;
        throw new Error(
          `${what}: not within ${ms} ms (inFlight ${this.pipeline.inFlight}, outputs ${this.outputs.length}, internalErrors ${this.pipeline.stats.internalErrors}, fatal ${this.fatal.length}, buffered ${f.bufferedBytes}, uncommitted ${f.uncommitted})`,
        );
      }
      await tick();
    }
  }

  /** A few turns of the event loop (for "nothing more happens" checks). */
  async idle(turns = 20): Promise<void> {
    for (let i = 0; i < turns; i++) {
      this.readProducer();
      await tick();
    }
  }

  /** Closes the consumer rings, acknowledges whatever is left and waits for drained(). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    for (const { writer } of this.consumers.values()) await writer.close();
    const deadline = performance.now() + 1000;
    while (this.pipeline.inFlight > 0 && performance.now() < deadline) {
      this.deliver();
      await tick();
    }
    await within(this.pipeline.drained(), 1000, "pipeline drained");
  }
}

function header(frame: DecodedRecord, name: string): string | undefined {
  const found = frame.headers.find(([n]) => fromUtf8.decode(n) === name);
  return found === undefined ? undefined : (text(found[1]) ?? "<null>");
}

function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

const show = (b: Uint8Array | null): string => (b === null ? "null" : b.length > 40 ? `<${b.length} bytes>` : `[${[...b].join(",")}]`);

/** The first difference between two header lists (names and values as bytes), or null. */
function headerDiff(
  actual: ReadonlyArray<readonly [Uint8Array | string, Uint8Array | null]>,
  expected: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>,
): string | null {
  if (actual.length !== expected.length) return `${actual.length} headers, expected ${expected.length}`;
  for (let i = 0; i < expected.length; i++) {
    const [name, value] = actual[i]!;
    const nameBytes = typeof name === "string" ? bytes(name) : name;
    if (!sameBytes(nameBytes, expected[i]![0])) return `header ${i}: name ${show(nameBytes)}, expected ${show(expected[i]![0])}`;
    if (!sameBytes(value, expected[i]![1])) return `header ${i}: value ${show(value)}, expected ${show(expected[i]![1])}`;
  }
  return null;
}

/** Key, value and headers of an output frame against the record it came from, byte for byte. */
function frameDiff(
  frame: DecodedRecord,
  rec: { key: Uint8Array | null; value: Uint8Array | null; headers: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]> },
): string | null {
  if (!sameBytes(frame.key, rec.key)) return `key ${show(frame.key)}, expected ${show(rec.key)}`;
  if (!sameBytes(frame.value, rec.value)) return `value ${show(frame.value)}, expected ${show(rec.value)}`;
  return headerDiff(frame.headers, rec.headers);
}

const passThrough: Handler = (record) => ({ value: record.value });

// ---------------------------------------------------------------------------------------------------------------
// 1. Internal errors
// ---------------------------------------------------------------------------------------------------------------

/** Framing a record's 2nd output (`b:...`) fails, the first `times` times. */
function failSecondOutput(times: number): void {
  let injected = 0;
  failEncoding((r) => r.topic === OUT && startsWith(r.value, "b:") && injected++ < times);
}

/** A handler that rejects every record with a PermanentError. */
const failsPermanently =
  (reason: string): Handler =>
  () => {
    throw new PermanentError(reason);
  };

/** A handler that returns two outputs per record: `a:<value>`, then `b:<value>`. */
const twoOutputs: Handler = (record) => [{ value: `a:${text(record.value)}` }, { value: `b:${text(record.value)}` }];

/** Attaches the rig's consumer, runs `body` on the rig, and closes it whatever happens. */
async function withRig(rig: Rig, body: (rig: Rig) => Promise<void>): Promise<void> {
  rig.consumer();
  try {
    await body(rig);
  } finally {
    await rig.close();
  }
}

/** Sends record 0 and waits for its first attempt to fail on the 2nd output; returns that attempt's 1st output, already in the producer ring. */
async function firstOutputOfFailedAttempt(rig: Rig) {
  await rig.claim(0, [0], 10);
  await rig.send(0, [{ offset: 0 }]);
  await rig.until(() => rig.pipeline.stats.internalErrors === 1 && rig.outputs.length >= 1, "first output of the failed attempt");
  return rig.outputs[0]!;
}

describe("internal errors (processor failing on a record)", () => {
  test("framing a record's output always fails: counted, tried 3 times, then dead-lettered with kind internal; its offset commits and the pipeline drains", async () => {
    fastInternalRetries();
    failEncoding((r) => r.topic === OUT && includes(r.value, "boom"));
    const calls: number[] = [];
    await withRig(
      new Rig((record) => {
        calls.push(record.offset);
        return { value: record.value };
      }),
      async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [
          { offset: 0, value: bytes("ok-0") },
          { offset: 1, value: bytes("boom-1"), headers: [[bytes("h"), bytes("x")]] },
          { offset: 2, value: bytes("ok-2") },
        ]);
        await rig.until(() => rig.to(DLQ).length === 1 && rig.to(OUT).length === 2, "dead-letter copy of the failing record");
        const copy = rig.to(DLQ)[0]!.frame;
        expect(text(copy.key)).toBe("k1");
        expect(text(copy.value)).toBe("boom-1");
        expect(header(copy, "h")).toBe("x");
        expect(header(copy, "x-processor-error-kind")).toBe("internal");
        expect(header(copy, "x-processor-error")).toStartWith("internal error in processor:");
        expect(header(copy, "x-processor-error")).toContain("injected encoding failure");
        expect(header(copy, "x-processor-source-offset")).toBe("1");
        expect(rig.pipeline.stats.internalErrors).toBe(3);
        expect(calls.filter((o) => o === 1).length).toBe(3);
        expect(rig.fatal).toEqual([]);
        await rig.commit();
        expect(rig.committed(0)).toBeUndefined(); // nothing acknowledged yet
        rig.deliver();
        await rig.commit();
        expect(rig.committed(0)).toBe(3);
        await rig.close();
        expect(rig.pipeline.inFlight).toBe(0);
        expect(rig.pipeline.flow.bufferedBytes).toBe(0);
      },
    );
  });

  for (const failures of [1, 2]) {
    test(`framing fails the first ${failures} time(s) only: the record runs again and its output goes out normally (no dead-letter copy)`, async () => {
      fastInternalRetries();
      let injected = 0;
      failEncoding((r) => r.topic === OUT && includes(r.value, "boom") && injected++ < failures);
      const attempts: number[] = [];
      await withRig(
        new Rig((record) => {
          if (includes(record.value, "boom")) attempts.push(record.attempt);
          return { value: record.value };
        }),
        async (rig) => {
          await rig.claim(0, [0], 10);
          await rig.send(0, [{ offset: 0 }, { offset: 1, value: bytes("boom") }, { offset: 2 }]);
          await rig.until(() => rig.to(OUT).length === 3, "all three outputs");
          expect(rig.to(OUT).map((o) => text(o.frame.value))).toContain("boom");
          expect(rig.to(DLQ)).toEqual([]);
          expect(rig.pipeline.stats.internalErrors).toBe(failures);
          // processor's own failures do not count as handler attempts (nor use up --retries)
          expect(attempts).toEqual(Array.from({ length: failures + 1 }, () => 1));
          rig.deliver();
          await rig.commit();
          expect(rig.committed(0)).toBe(3);
          await rig.close();
          expect(rig.pipeline.flow.bufferedBytes).toBe(0);
        },
      );
    });
  }

  test("the dead-letter copy cannot be framed either (a 4th failure): observer.fatal, and the offset is never committed", async () => {
    fastInternalRetries();
    failEncoding((r) => includes(r.value, "boom"));
    await withRig(new Rig(passThrough), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, [{ offset: 0, value: bytes("boom") }, { offset: 1 }]);
      await rig.until(() => rig.fatal.length > 0 && rig.to(OUT).length === 1, "fatal");
      expect(rig.fatal.length).toBe(1);
      expect(rig.fatal[0]).toContain(`${IN}/0@0`);
      expect(rig.fatal[0]).toContain("internal error in processor");
      expect(rig.pipeline.stats.internalErrors).toBe(4);
      expect(rig.to(DLQ)).toEqual([]);
      rig.deliver();
      await rig.commit();
      await rig.idle();
      await rig.commit();
      expect(rig.commits.filter((c) => c.partition === 0)).toEqual([]);
      await rig.close();
      expect(rig.pipeline.inFlight).toBe(0);
      expect(rig.pipeline.flow.bufferedBytes).toBe(0);
      expect(rig.fatal.length).toBe(1);
    });
  });

  test("two outputs, framing the 2nd fails once: the 1st is already in the producer ring, its acknowledgement does not complete the record; it runs again and drains", async () => {
    fastInternalRetries();
    failSecondOutput(1);
    await withRig(new Rig(twoOutputs), async (rig) => {
      const abandoned = await firstOutputOfFailedAttempt(rig);
      expect(text(abandoned.frame.value)).toBe("a:v0");
      rig.deliver((o) => o === abandoned);
      await rig.commit();
      expect(rig.committed(0)).toBeUndefined(); // its 2nd output never went out
      await rig.until(() => rig.outputs.length === 3, "the record's second run");
      expect(rig.outputs.map((o) => text(o.frame.value))).toEqual(["a:v0", "a:v0", "b:v0"]);
      await rig.commit();
      expect(rig.committed(0)).toBeUndefined();
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(1);
      expect(rig.pipeline.stats.internalErrors).toBe(1);
      await rig.close();
      expect(rig.pipeline.inFlight).toBe(0);
      expect(rig.pipeline.flow.bufferedBytes).toBe(0);
    });
  });

  test("two outputs, framing the 2nd fails once, and Kafka refuses the abandoned 1st output: no dead-letter copy for it (the record runs again anyway), and the record completes", async () => {
    fastInternalRetries();
    failSecondOutput(1);
    await withRig(new Rig(twoOutputs), async (rig) => {
      const abandoned = await firstOutputOfFailedAttempt(rig);
      rig.reject((o) => o === abandoned, "MESSAGE_TOO_LARGE");
      await rig.until(() => rig.to(OUT).length === 3, "the record's second run");
      await rig.idle();
      expect(rig.to(DLQ)).toEqual([]);
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(1);
      await rig.close();
      expect(rig.pipeline.inFlight).toBe(0);
    });
  });

  test("two outputs, framing the 2nd always fails: each attempt's 1st output is abandoned, then the record is dead-lettered (kind internal) and commits", async () => {
    fastInternalRetries();
    failSecondOutput(Number.POSITIVE_INFINITY);
    await withRig(new Rig(twoOutputs), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, [{ offset: 0 }]);
      await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
      expect(rig.to(OUT).map((o) => text(o.frame.value))).toEqual(["a:v0", "a:v0", "a:v0"]);
      rig.deliver((o) => o.frame.topic === OUT);
      await rig.commit();
      expect(rig.committed(0)).toBeUndefined();
      expect(header(rig.to(DLQ)[0]!.frame, "x-processor-error-kind")).toBe("internal");
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(1);
      await rig.close();
      expect(rig.pipeline.inFlight).toBe(0);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 2. Outputs Kafka refuses
// ---------------------------------------------------------------------------------------------------------------

describe("outputs refused by Kafka (pipeline.rejected)", () => {
  const odd: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]> = [
    [bytes("h"), bytes("x")],
    [Uint8Array.of(0xff, 0xfe), null],
  ];

  test("a refused output: the record's input goes to the dead-letter topic (kind output-refused, byte-exact); the record completes when that copy is acknowledged", async () => {
    await withRig(new Rig(passThrough), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, [{ offset: 0, headers: odd }, { offset: 1 }]);
      await rig.until(() => rig.to(OUT).length === 2, "outputs");
      expect(rig.reject((o) => o.frame.topic === OUT && text(o.frame.value) === "v0", "MESSAGE_TOO_LARGE: the record is too large")).toBe(
        1,
      );
      await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
      const copy = rig.to(DLQ)[0]!.frame;
      expect(frameDiff({ ...copy, headers: copy.headers.slice(0, 2) }, { key: bytes("k0"), value: bytes("v0"), headers: odd })).toBeNull();
      expect(copy.headers.slice(2).every(([n]) => fromUtf8.decode(n).startsWith("x-processor-"))).toBe(true);
      expect(header(copy, "x-processor-error-kind")).toBe("output-refused");
      expect(header(copy, "x-processor-error")).toContain("MESSAGE_TOO_LARGE: the record is too large");
      rig.deliver((o) => o.frame.topic === OUT);
      await rig.commit();
      expect(rig.committed(0)).toBeUndefined(); // offset 0 waits for its dead-letter copy
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(2);
    });
  });

  for (const keyBytes of [2, 70_000]) {
    test(`the dead-letter copy refused too: a stub goes instead (key ${keyBytes <= 65_536 ? "kept" : "over 64 KiB, dropped"}, value null, no original headers, x-processor-truncated); acknowledged, the record completes`, async () => {
      const key = new Uint8Array(keyBytes).fill(0x6b);
      await withRig(new Rig(passThrough), async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0, key, headers: odd }]);
        await rig.until(() => rig.to(OUT).length === 1, "output");
        rig.reject(() => true, "MESSAGE_TOO_LARGE: output");
        await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
        rig.reject(() => true, "MESSAGE_TOO_LARGE: copy");
        await rig.until(() => rig.to(DLQ).length === 2, "stub");
        const stub = rig.to(DLQ)[1]!.frame;
        expect(sameBytes(stub.key, keyBytes <= 64 * 1024 ? key : null)).toBe(true);
        expect(stub.value).toBeNull();
        expect(stub.headers.every(([n]) => fromUtf8.decode(n).startsWith("x-processor-"))).toBe(true);
        expect(header(stub, "x-processor-truncated")).toBeDefined();
        expect(header(stub, "x-processor-error-kind")).toBe("output-refused");
        expect(header(stub, "x-processor-error")).toContain("MESSAGE_TOO_LARGE: output");
        expect(header(stub, "x-processor-error")).toContain("MESSAGE_TOO_LARGE: copy");
        expect(rig.fatal).toEqual([]);
        await rig.commit();
        expect(rig.committed(0)).toBeUndefined();
        rig.deliver();
        await rig.commit();
        expect(rig.committed(0)).toBe(1);
      });
    });
  }

  test("the stub refused as well: observer.fatal, and the offset is never committed", async () => {
    await withRig(new Rig(passThrough), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, [{ offset: 0 }, { offset: 1 }]);
      await rig.until(() => rig.to(OUT).length === 2, "outputs");
      rig.reject((o) => text(o.frame.value) === "v0", "refused 1");
      await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
      rig.reject((o) => o.frame.topic === DLQ, "refused 2");
      await rig.until(() => rig.to(DLQ).length === 2, "stub");
      rig.reject((o) => o.frame.topic === DLQ, "refused 3");
      expect(rig.fatal.length).toBe(1);
      expect(rig.fatal[0]).toContain(`${IN}/0@0`);
      rig.deliver();
      await rig.commit();
      expect(rig.commits).toEqual([]);
      expect(rig.to(DLQ).length).toBe(2);
    });
  });

  test("a permanent failure's dead-letter copy refused: the stub keeps kind permanent", async () => {
    await withRig(new Rig(failsPermanently("bad input")), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, [{ offset: 0 }]);
      await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
      rig.reject(() => true, "too large");
      await rig.until(() => rig.to(DLQ).length === 2, "stub");
      const stub = rig.to(DLQ)[1]!.frame;
      expect(header(stub, "x-processor-error-kind")).toBe("permanent");
      expect(header(stub, "x-processor-truncated")).toBeDefined();
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(1);
    });
  });

  for (const order of ["both refused, then the copy acknowledged", "one refused, the copy acknowledged, then the other refused"] as const) {
    test(`a record with 2 outputs, ${order}: ONE dead-letter copy, and the record completes`, async () => {
      await withRig(new Rig(twoOutputs), async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0 }]);
        await rig.until(() => rig.to(OUT).length === 2, "outputs");
        if (order === "both refused, then the copy acknowledged") {
          rig.reject((o) => o.frame.topic === OUT, "UNKNOWN_TOPIC_OR_PARTITION");
          await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
          rig.deliver();
        } else {
          rig.reject((o) => text(o.frame.value) === "a:v0", "UNKNOWN_TOPIC_OR_PARTITION");
          await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
          rig.deliver((o) => o.frame.topic === DLQ);
          await rig.commit();
          expect(rig.committed(0)).toBeUndefined();
          rig.reject((o) => o.frame.topic === OUT, "UNKNOWN_TOPIC_OR_PARTITION");
        }
        await rig.idle();
        expect(rig.to(DLQ).length).toBe(1);
        expect(header(rig.to(DLQ)[0]!.frame, "x-processor-error-kind")).toBe("output-refused");
        await rig.commit();
        expect(rig.committed(0)).toBe(1);
        expect(rig.pipeline.inFlight).toBe(0);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 3. Byte-exact pass-through
// ---------------------------------------------------------------------------------------------------------------

describe("byte-exact pass-through", () => {
  const longName = new Uint8Array(70_000).map((_, i) => 0x80 + (i % 64)); // not UTF-8 either
  const weird: Rec[] = [
    { offset: 0, key: null, value: null, headers: [] },
    {
      offset: 1,
      key: new Uint8Array(0),
      value: new Uint8Array(0),
      headers: [
        [new Uint8Array(0), new Uint8Array(0)],
        [bytes("a"), null],
      ],
    },
    {
      offset: 2,
      key: Uint8Array.of(0, 255, 1),
      value: Uint8Array.of(0xc3, 0x28, 0, 0xff),
      headers: [
        [Uint8Array.of(0xff, 0xfe, 0x00), bytes("v")],
        [Uint8Array.of(0xc3, 0x28), null],
        [bytes("dup"), bytes("1")],
        [bytes("dup"), bytes("2")],
        [bytes("ünïcødé"), new Uint8Array(0)],
        [longName, bytes("big")],
        [bytes("bin"), Uint8Array.of(0, 0xff, 0x80)],
      ],
    },
  ];
  const full = (r: Rec) => ({
    key: r.key === undefined ? bytes(`k${r.offset}`) : r.key,
    value: r.value === undefined ? bytes(`v${r.offset}`) : r.value,
    headers: r.headers ?? [],
  });

  test("non-UTF-8, empty and 70,000-byte header names, null and empty header values, null and empty keys and values: outputs carry exactly the input's key, value and headers; the handler sees names as text and rawHeaders as bytes", async () => {
    const seen = new Map<number, { headers: InputRecord["headers"]; raw: InputRecord["rawHeaders"] }>();
    await withRig(
      new Rig(
        (record) => {
          seen.set(record.offset, { headers: record.headers, raw: record.rawHeaders });
          return { value: record.value };
        },
        { ordering: "partition" },
      ),
      async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, weird);
        await rig.until(() => rig.to(OUT).length === 3, "three outputs");
        for (const [i, r] of weird.entries()) {
          expect(`${i}: ${frameDiff(rig.to(OUT)[i]!.frame, full(r))}`).toBe(`${i}: null`);
          const handlerSaw = seen.get(r.offset)!;
          expect(`${i}: ${headerDiff(handlerSaw.raw, full(r).headers)}`).toBe(`${i}: null`);
          expect(handlerSaw.headers.map(([n]) => n)).toEqual(full(r).headers.map(([n]) => fromUtf8.decode(n)));
          expect(handlerSaw.headers.map(([, v]) => (v === null ? null : [...v]))).toEqual(
            full(r).headers.map(([, v]) => (v === null ? null : [...v])),
          );
        }
        expect(seen.get(2)!.headers[0]![0]).toBe("\uFFFD\uFFFD\u0000");
        rig.deliver();
        await rig.commit();
        expect(rig.committed(0)).toBe(3);
      },
    );
  });

  test("100,000 headers (some null, some empty values) pass through byte-exact", async () => {
    const headers: Array<readonly [Uint8Array, Uint8Array | null]> = Array.from(
      { length: 100_000 },
      (_, i) => [bytes(`h${i}`), i % 3 === 0 ? null : i % 3 === 1 ? new Uint8Array(0) : Uint8Array.of(i & 0xff)] as const,
    );
    await withRig(new Rig(passThrough), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, [{ offset: 0, headers }]);
      await rig.until(() => rig.to(OUT).length === 1, "output", 1500);
      expect(frameDiff(rig.to(OUT)[0]!.frame, full({ offset: 0, headers }))).toBeNull();
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(1);
    });
  });

  test("a dead-letter copy (PermanentError) keeps the raw headers byte-exact, followed by the x-processor-* headers", async () => {
    await withRig(new Rig(failsPermanently("no")), async (rig) => {
      await rig.claim(0, [0], 10);
      await rig.send(0, weird);
      await rig.until(() => rig.to(DLQ).length === 3, "dead-letter copies");
      for (const [i, r] of weird.entries()) {
        const copy = rig.to(DLQ)[i]!.frame;
        const own = full(r).headers.length;
        expect(`${i}: ${frameDiff({ ...copy, headers: copy.headers.slice(0, own) }, full(r))}`).toBe(`${i}: null`);
        const why = copy.headers.slice(own).map(([n]) => fromUtf8.decode(n));
        expect(why.length).toBeGreaterThan(0);
        expect(why.every((n) => n.startsWith("x-processor-"))).toBe(true);
        expect(header(copy, "x-processor-error-kind")).toBe("permanent");
      }
      rig.deliver();
      await rig.commit();
      expect(rig.committed(0)).toBe(3);
    });
  });

  test("headers a handler returns with Uint8Array names and null values pass through", async () => {
    await withRig(
      new Rig(() => ({
        value: "x",
        headers: [
          [Uint8Array.of(0xff), null],
          ["text", null],
          [new Uint8Array(0), "e"],
          [Uint8Array.of(0xc3, 0x28), Uint8Array.of(1, 2)],
        ],
      })),
      async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0 }]);
        await rig.until(() => rig.to(OUT).length === 1, "output");
        const expected: Array<readonly [Uint8Array, Uint8Array | null]> = [
          [Uint8Array.of(0xff), null],
          [bytes("text"), null],
          [new Uint8Array(0), bytes("e")],
          [Uint8Array.of(0xc3, 0x28), Uint8Array.of(1, 2)],
        ];
        expect(headerDiff(rig.to(OUT)[0]!.frame.headers, expected)).toBeNull();
      },
    );
  });

  for (const topic of ["bad topic!", "x".repeat(250), "..", "ünï"]) {
    test(`an output to the illegal topic ${JSON.stringify(topic.length > 20 ? `${topic.slice(0, 10)}…(${topic.length})` : topic)} goes to the dead-letter topic with kind permanent`, async () => {
      await withRig(new Rig((record) => [{ value: record.value }, { value: record.value, topic }]), async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0 }]);
        await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
        await rig.idle(5);
        expect(rig.outputs.length).toBe(1); // nothing to the configured topic, nothing to the illegal one
        const copy = rig.to(DLQ)[0]!.frame;
        expect(header(copy, "x-processor-error-kind")).toBe("permanent");
        expect(header(copy, "x-processor-error")).toContain("is not a legal Kafka topic name");
        rig.deliver();
        await rig.commit();
        expect(rig.committed(0)).toBe(1);
      });
    });
  }
});

// ---------------------------------------------------------------------------------------------------------------
// 4. --max-uncommitted
// ---------------------------------------------------------------------------------------------------------------

describe("--max-uncommitted flow control", () => {
  const P = 0;
  const Q = 1;

  test("a head record held back: the partition pauses at the 10th record, the ring's records keep counting, the consumer's other partition keeps flowing; released and acknowledged, it resumes and commits to 100", async () => {
    let release = false;
    const rig = new Rig(
      (record) => {
        if (record.partition === P && record.offset === 0 && !release) throw new Error("not yet");
        return { value: record.value };
      },
      { ordering: "none", maxUncommitted: 10, retries: 1_000_000, retryBackoffMs: 1, retryBackoffMaxMs: 2 },
    );
    rig.consumer();
    try {
      await rig.claim(0, [P, Q], 10);
      await rig.send(0, [
        ...Array.from({ length: 100 }, (_, o) => ({ offset: o, partition: P })),
        ...Array.from({ length: 5 }, (_, o) => ({ offset: o, partition: Q, value: bytes(`q${o}`) })),
      ]);
      await rig.until(() => rig.to(OUT).length === 99 + 5, "outputs of everything but p0");
      expect(rig.flows).toEqual([{ owner: 0, partition: P, paused: true, consumed: 10 }]);
      expect(rig.pipeline.stats.consumed).toBe(105);
      expect(rig.pipeline.flow).toMatchObject({ pausedPartitions: 1, uncommitted: 105 });

      // q keeps flowing, past the limit in total
      const ofQ = (o: Out): boolean => startsWith(o.frame.value, "q");
      expect(rig.deliver(ofQ)).toBe(5);
      await rig.commit();
      expect(rig.committed(Q)).toBe(5);
      await rig.send(
        0,
        Array.from({ length: 8 }, (_, i) => ({ offset: 5 + i, partition: Q, value: bytes(`q${5 + i}`) })),
      );
      await rig.until(() => rig.to(OUT).length === 99 + 13, "q's second batch");
      expect(rig.deliver(ofQ)).toBe(8);
      await rig.commit();
      expect(rig.committed(Q)).toBe(13);
      expect(rig.flows.filter((f) => f.partition === Q)).toEqual([]);

      // p: everything behind the head acknowledged, still 100 uncommitted, still paused
      rig.deliver();
      await rig.commit();
      expect(rig.committed(P)).toBeUndefined();
      expect(rig.pipeline.flow).toMatchObject({ pausedPartitions: 1, uncommitted: 100 });
      expect(rig.flows.length).toBe(1);
      expect(rig.pipeline.flow.bufferedBytes).toBeGreaterThan(0); // the head record

      release = true;
      await rig.until(() => rig.to(OUT).length === 99 + 13 + 1, "p0's output");
      rig.deliver();
      await rig.commit();
      expect(rig.committed(P)).toBe(100);
      expect(rig.flows).toEqual([
        { owner: 0, partition: P, paused: true, consumed: 10 },
        { owner: 0, partition: P, paused: false, consumed: 113 },
      ]);
      expect(rig.pipeline.flow).toEqual({ pausedPartitions: 0, uncommitted: 0, bufferedBytes: 0 });
    } finally {
      release = true;
      await rig.close();
    }
  });

  test("resumes once the partition is down to half the limit, not before", async () => {
    await withRig(new Rig(passThrough, { ordering: "none", maxUncommitted: 10 }), async (rig) => {
      await rig.claim(0, [P], 10);
      await rig.send(
        0,
        Array.from({ length: 10 }, (_, o) => ({ offset: o })),
      );
      await rig.until(() => rig.to(OUT).length === 10, "outputs");
      expect(rig.flows.map((f) => f.paused)).toEqual([true]);
      const byOffset = (o: number) => (out: Out) => text(out.frame.value) === `v${o}`;
      for (let o = 0; o < 4; o++) rig.deliver(byOffset(o));
      expect(rig.pipeline.flow.uncommitted).toBe(6);
      expect(rig.flows.map((f) => f.paused)).toEqual([true]);
      rig.deliver(byOffset(4));
      expect(rig.pipeline.flow.uncommitted).toBe(5);
      expect(rig.flows.map((f) => f.paused)).toEqual([true, false]);
      expect(rig.pipeline.flow.pausedPartitions).toBe(0);
    });
  });

  for (const how of ["detachConsumer", "an assignment frame without it"] as const) {
    test(`a paused partition no longer tracked for its consumer (${how}) is resumed`, async () => {
      let release = false;
      const rig = new Rig(
        (record) => {
          if (record.offset === 0 && !release) throw new Error("not yet");
          return { value: record.value };
        },
        { ordering: "none", maxUncommitted: 4, retries: 1_000_000 },
      );
      rig.consumer();
      try {
        await rig.claim(0, [P, Q], 10);
        await rig.send(
          0,
          Array.from({ length: 6 }, (_, o) => ({ offset: o })),
        );
        await rig.until(() => rig.flows.length === 1, "paused");
        if (how === "detachConsumer") rig.pipeline.detachConsumer(0);
        else await rig.claim(0, [Q], 20);
        await rig.until(() => rig.flows.length === 2, "resumed");
        expect(rig.flows.map((f) => [f.owner, f.partition, f.paused])).toEqual([
          [0, P, true],
          [0, P, false],
        ]);
        rig.deliver();
        await rig.until(() => rig.pipeline.inFlight === 0, "nothing in flight");
        expect(rig.pipeline.flow).toEqual({ pausedPartitions: 0, uncommitted: 0, bufferedBytes: 0 });
      } finally {
        release = true;
        await rig.close();
      }
    });
  }

  test("a paused partition whose last uncommittable record completes through pipeline.rejected() (its 2nd output refused after the dead-letter copy was acknowledged) is resumed", async () => {
    await withRig(
      new Rig(twoOutputs, {
        ordering: "none",
        maxUncommitted: 2,
      }),
      async (rig) => {
        await rig.claim(0, [P], 10);
        await rig.send(0, [{ offset: 0 }, { offset: 1 }]);
        await rig.until(() => rig.to(OUT).length === 4, "outputs");
        expect(rig.flows.map((f) => f.paused)).toEqual([true]);
        rig.reject((o) => text(o.frame.value) === "a:v0", "MESSAGE_TOO_LARGE");
        await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
        rig.deliver((o) => o.frame.topic === DLQ || includes(o.frame.value, "v1"));
        expect(rig.pipeline.flow.uncommitted).toBe(2); // offset 0 still waits for its 2nd output
        rig.reject((o) => text(o.frame.value) === "b:v0", "MESSAGE_TOO_LARGE");
        await rig.commit();
        expect(rig.committed(P)).toBe(2); // the record did complete
        expect(rig.pipeline.flow.uncommitted).toBe(0);
        await rig.idle();
        // nothing else will ever happen on this partition (its fetching is paused): the resume must come now
        expect(rig.flows.map((f) => f.paused)).toEqual([true, false]);
        expect(rig.pipeline.flow.pausedPartitions).toBe(0);
      },
    );
  });

  test("a revoke waiting for a record that completes through pipeline.rejected() resolves at once, not at --revoke-timeout", async () => {
    await withRig(new Rig(twoOutputs, { revokeTimeoutMs: 300 }), async (rig) => {
      await rig.claim(0, [P], 10);
      await rig.send(0, [{ offset: 0 }]);
      await rig.until(() => rig.to(OUT).length === 2, "outputs");
      rig.reject((o) => text(o.frame.value) === "a:v0", "MESSAGE_TOO_LARGE");
      await rig.until(() => rig.to(DLQ).length === 1, "dead-letter copy");
      rig.deliver((o) => o.frame.topic === DLQ);
      let resolved = false;
      const revoking = rig.pipeline
        .revoke(0, [{ topic: IN, partition: P }], 20, async (offsets) => {
          for (const o of offsets) rig.commits.push({ owner: 0, partition: o.partition, offset: o.offset });
          return { committed: offsets };
        })
        .then(() => (resolved = true));
      await rig.idle(3);
      expect(resolved).toBe(false);
      const started = performance.now();
      rig.reject((o) => text(o.frame.value) === "b:v0", "MESSAGE_TOO_LARGE");
      await within(revoking, 1000, "revoke");
      expect(rig.committed(P)).toBe(1);
      expect(performance.now() - started).toBeLessThan(150);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 5. A record waiting for a retry holds its own bytes
// ---------------------------------------------------------------------------------------------------------------

describe("a record waiting for a retry holds only its own bytes", () => {
  const others: Rec[] = Array.from({ length: 20 }, (_, i) => ({ offset: i + 1, value: new Uint8Array(1000).fill(0x61) }));

  test("after a retryable handler failure: on the second call key, value and headers no longer view the shared batch", async () => {
    const seenText: string[] = [];
    const views: Array<{
      attempt: number;
      value: number;
      valueBuffer: number;
      keyBuffer: number;
      nameBuffer: number;
      headerBuffer: number;
    }> = [];
    await withRig(
      new Rig(
        (record) => {
          if (record.offset === 0) {
            views.push({
              attempt: record.attempt,
              value: record.value!.byteLength,
              valueBuffer: record.value!.buffer.byteLength,
              keyBuffer: record.key!.buffer.byteLength,
              nameBuffer: record.rawHeaders[0]![0].buffer.byteLength,
              headerBuffer: record.rawHeaders[0]![1]!.buffer.byteLength,
            });
            seenText.push(`${text(record.value)}/${record.headers[0]![0]}`);
            if (record.attempt === 1) throw new Error("transient");
          }
          return { value: record.value };
        },
        { ordering: "none", retries: 3 },
      ),
      async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0, value: bytes("retry-me"), headers: [[bytes("hh"), bytes("hv")]] }, ...others]);
        await rig.until(() => rig.to(OUT).length === 21, "outputs");
        expect(seenText).toEqual(["retry-me/hh", "retry-me/hh"]);
        expect(views.length).toBe(2);
        expect(views[0]!.valueBuffer).toBeGreaterThan(10_000); // the batch it was read with
        expect(views[1]).toEqual({ attempt: 2, value: 8, valueBuffer: 8, keyBuffer: 2, nameBuffer: 2, headerBuffer: 2 });
        rig.deliver();
        await rig.commit();
        expect(rig.committed(0)).toBe(21);
      },
    );
  });

  test("after an internal error: on the second call the value no longer views the shared batch", async () => {
    fastInternalRetries();
    let injected = 0;
    failEncoding((r) => r.topic === OUT && includes(r.value, "retry-me") && injected++ < 1);
    const buffers: number[] = [];
    await withRig(
      new Rig(
        (record) => {
          if (record.offset === 0) buffers.push(record.value!.buffer.byteLength);
          return { value: record.value };
        },
        { ordering: "none" },
      ),
      async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0, value: bytes("retry-me") }, ...others]);
        await rig.until(() => rig.to(OUT).length === 21, "outputs");
        expect(buffers.length).toBe(2);
        expect(buffers[0]).toBeGreaterThan(10_000);
        expect(buffers[1]).toBe(8);
      },
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// 6. Cancelled tasks release their buffered bytes
// ---------------------------------------------------------------------------------------------------------------

describe("cancelled tasks release their buffered bytes", () => {
  for (const failing of ["retrying (handler error)", "failing internally", "running (handler not returned yet)"] as const) {
    for (const how of ["detachConsumer", "an assignment frame dropping the partition"] as const) {
      test(`a record ${failing}, its partition dropped by ${how}: bufferedBytes and inFlight back to 0`, async () => {
        const calls: number[] = [];
        const pendingCalls: Array<() => void> = [];
        if (failing === "failing internally") failEncoding((r) => r.topic === OUT && r.partition === -1 && includes(r.value, "stuck"));
        const rig = new Rig(
          (record) => {
            if (!includes(record.value, "stuck")) return { value: record.value };
            calls.push(record.attempt);
            if (failing === "retrying (handler error)") throw new Error("transient");
            if (failing === "running (handler not returned yet)")
              return new Promise((resolve) => pendingCalls.push(() => resolve({ value: record.value })));
            return { value: record.value };
          },
          { ordering: "partition", retries: 1_000_000, retryBackoffMs: 1, retryBackoffMaxMs: 2 },
        );
        rig.consumer();
        try {
          await rig.claim(0, [0, 1], 10);
          await rig.send(0, [{ offset: 0, value: bytes("stuck") }, { offset: 1 }, { offset: 0, partition: 1 }]);
          await rig.until(
            () => calls.length >= (failing === "retrying (handler error)" ? 2 : 1) && rig.to(OUT).length === 1,
            "the record failing",
          );
          rig.deliver();
          await rig.commit();
          expect(rig.committed(1)).toBe(1);
          expect(rig.pipeline.flow.bufferedBytes).toBeGreaterThan(0);
          expect(rig.pipeline.inFlight).toBe(2); // the stuck record and the one queued behind it
          if (how === "detachConsumer") rig.pipeline.detachConsumer(0);
          else await rig.claim(0, [1], 20);
          if (failing === "running (handler not returned yet)") {
            await rig.until(() => rig.pipeline.inFlight === 1, "queued record dropped");
            for (const resolve of pendingCalls.splice(0)) resolve();
          }
          await rig.until(() => rig.pipeline.inFlight === 0 && rig.pipeline.flow.bufferedBytes === 0, "bytes released");
          expect(rig.pipeline.flow).toEqual({ pausedPartitions: 0, uncommitted: 0, bufferedBytes: 0 });
          const runs = calls.length;
          await rig.idle();
          expect(rig.to(OUT).length).toBe(1); // the cancelled record produced nothing
          expect(calls.length).toBe(runs);
          expect(rig.to(DLQ)).toEqual([]);
        } finally {
          for (const resolve of pendingCalls.splice(0)) resolve();
          await rig.close();
        }
      });
    }
  }
});

describe("cancelled while its outputs wait for room in the producer ring", () => {
  test("the record's partition is dropped while its 1st output (larger than the ring) streams, then framing its 2nd output fails: no retry, no dead-letter copy, bytes released", async () => {
    failSecondOutput(Number.POSITIVE_INFINITY);
    const big = new Uint8Array(100_000).fill(0x61);
    let calls = 0;
    await withRig(
      new Rig(() => {
        calls++;
        return [{ value: big }, { value: "b:second" }];
      }),
      async (rig) => {
        await rig.claim(0, [0], 10);
        await rig.send(0, [{ offset: 0 }]);
        // the producer ring is not read: the 1st output waits for room
        for (let i = 0; i < 200 && calls === 0; i++) await tick();
        for (let i = 0; i < 5; i++) await tick();
        expect(calls).toBe(1);
        expect(rig.pipeline.stats.internalErrors).toBe(0);
        expect(rig.pipeline.flow.bufferedBytes).toBeGreaterThan(0);
        rig.pipeline.detachConsumer(0);
        await rig.until(
          () => rig.pipeline.stats.internalErrors === 1 && rig.outputs.length === 1,
          "the 1st output streamed, the 2nd failed",
        );
        expect(rig.pipeline.flow.bufferedBytes).toBe(0);
        rig.deliver();
        await rig.until(() => rig.pipeline.inFlight === 0, "nothing in flight");
        await rig.idle();
        expect(calls).toBe(1);
        expect(rig.to(DLQ)).toEqual([]);
        expect(rig.fatal).toEqual([]);
      },
    );
  });
});
