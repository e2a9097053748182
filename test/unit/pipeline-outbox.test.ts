/**
 * The outbox alone: real producer rings read by a fake producer, no scheduler or broker. Delivery ids,
 * acknowledgements completing a record only when all its outputs are in, refusals turning into dead-letter
 * copies, stubs and finally a fatal stop, and outputs abandoned when framing fails half way.
 */
import { describe, expect, test } from "bun:test";
import { Outbox, type OutboxSettings } from "../../src/pipeline/outbox.ts";
import { QueuedInput } from "../../src/pipeline/input-record.ts";
import { newStats } from "../../src/pipeline/types.ts";
import { RingReader } from "../../src/threads/byte-ring.ts";
import { decodeRecordAt, type DecodedRecord } from "../../src/threads/record-codec.ts";
import type { Ticket } from "../../src/offsets/offset-tracker.ts";
import type { ResolvedOutput } from "../../src/handlers/run-handler.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { tick, within } from "../support/async.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");
const DLQ = "out.dlq";

const inputAt = (offset: number): QueuedInput =>
  new QueuedInput({
    kind: "record",
    ref: 0,
    topic: "in",
    partition: 0,
    offset,
    timestamp: 0,
    key: utf8.encode(`k${offset}`),
    value: utf8.encode(`v${offset}`),
    headers: [[utf8.encode("h"), utf8.encode("x")]],
  });
const ticketAt = (offset: number): Ticket => ({ partitionKey: "in\u00000", generation: 1, offset });
const out = (value: string, topic = "out"): ResolvedOutput => ({ topic, key: null, value: utf8.encode(value), headers: [] });
const header = (frame: DecodedRecord, name: string): string | undefined => {
  const found = frame.headers.find(([n]) => fromUtf8.decode(n) === `x-processor-${name}`);
  return found?.[1] ? fromUtf8.decode(found[1]) : undefined;
};

function rig(settings: Partial<OutboxSettings> = {}) {
  const stats = newStats();
  const completed: number[] = [];
  const fatal: string[] = [];
  let progressed = 0;
  const outbox = new Outbox(
    { producers: 1, ringBytes: 64 * 1024, dlqTopic: DLQ, guarantee: "at-least-once", ...settings },
    stats,
    log,
    { fatal: (reason) => fatal.push(reason) },
    {
      complete: (ticket) => completed.push(ticket.offset),
      progressed: () => progressed++,
    },
  );
  const readers = outbox.producerRings.map((ring) => new RingReader(ring));
  /** What the fake producers have read so far, per ring. */
  const frames: DecodedRecord[][] = readers.map(() => []);
  const read = (): DecodedRecord[] => {
    readers.forEach((reader, i) => {
      reader.drainBatch(1 << 22, (batch, start) =>
        frames[i]!.push(decodeRecordAt(batch, new DataView(batch.buffer, batch.byteOffset, batch.byteLength), start)),
      );
      reader.release();
    });
    return frames.flat();
  };
  return { outbox, stats, completed, fatal, read, frames, progressed: () => progressed };
}

describe("outbox: delivery ids and acknowledgements", () => {
  test("each output gets the next id; a record completes once all of its outputs are acknowledged", async () => {
    const r = rig();
    expect(r.outbox.emit(ticketAt(1), inputAt(1), "lane", [out("a"), out("b", "side"), out("c")])).toBeUndefined();
    expect(r.outbox.emit(ticketAt(2), inputAt(2), "lane", [out("d")])).toBeUndefined();
    expect(r.outbox.pending).toBe(4);
    await tick(); // published in one go after the current burst
    const frames = r.read();
    expect(frames.map((f) => [f.ref, f.topic, fromUtf8.decode(f.value!)])).toEqual([
      [1, "out", "a"],
      [2, "side", "b"],
      [3, "out", "c"],
      [4, "out", "d"],
    ]);

    r.outbox.delivered(Uint32Array.of(1, 4));
    expect(r.completed).toEqual([2]);
    r.outbox.delivered(Uint32Array.of(2, 99, 4)); // unknown and repeated ids are ignored
    expect(r.completed).toEqual([2]);
    r.outbox.delivered(Uint32Array.of(3));
    expect(r.completed).toEqual([2, 1]);
    expect(r.stats.produced).toBe(4);
    expect(r.outbox.pending).toBe(0);
    expect(r.progressed()).toBe(3);
  });

  test("a record without outputs (filtered) completes at once and writes nothing", async () => {
    const r = rig();
    r.outbox.emit(ticketAt(5), inputAt(5), "lane", []);
    expect(r.completed).toEqual([5]);
    await tick();
    expect(r.read()).toEqual([]);
  });

  test("the same route always goes to the same producer ring", async () => {
    const r = rig({ producers: 4 });
    for (let i = 0; i < 40; i++) r.outbox.emit(ticketAt(i), inputAt(i), `route-${i % 5}`, [out(`route-${i % 5}`)]);
    await tick();
    r.read();
    const ringsOf = new Map<string, Set<number>>();
    r.frames.forEach((frames, ring) => {
      for (const f of frames) {
        const route = fromUtf8.decode(f.value!);
        ringsOf.set(route, (ringsOf.get(route) ?? new Set()).add(ring));
      }
    });
    expect(ringsOf.size).toBe(5);
    for (const rings of ringsOf.values()) expect(rings.size).toBe(1);
    expect(r.frames.filter((f) => f.length > 0).length).toBeGreaterThan(1);
  });

  test("a full ring: emit waits for the producer (a promise) and finishes once it reads", async () => {
    const r = rig({ ringBytes: 4096 });
    const big = "x".repeat(3000);
    const written = r.outbox.emit(ticketAt(1), inputAt(1), "lane", [out(big), out(big), out("tail")]);
    expect(written).toBeInstanceOf(Promise);
    const frames: DecodedRecord[] = [];
    let done = false;
    void (written as Promise<void>).then(() => (done = true));
    while (!done || frames.length < 3) {
      await tick();
      frames.splice(0, frames.length, ...r.read());
    }
    expect(frames.map((f) => f.ref)).toEqual([1, 2, 3]);
    r.outbox.delivered(Uint32Array.of(1, 2, 3));
    expect(r.completed).toEqual([1]);
  });
});

describe("outbox: refusals", () => {
  test("a refused output becomes a dead-letter copy of the input; the record completes when the copy and its other outputs are in", async () => {
    const r = rig();
    r.outbox.emit(ticketAt(3), inputAt(3), "lane", [out("a"), out("b")]);
    r.outbox.rejected(1, "MESSAGE_TOO_LARGE");
    expect(r.stats.deadLettered).toBe(1);
    await within(
      (async () => {
        while (r.read().length < 3) await tick();
      })(),
      1000,
      "dead-letter copy",
    );
    const copy = r.read()[2]!;
    expect(copy.ref).toBe(3);
    expect(copy.topic).toBe(DLQ);
    expect(fromUtf8.decode(copy.value!)).toBe("v3");
    expect(header(copy, "error-kind")).toBe("output-refused");
    expect(header(copy, "error")).toContain("MESSAGE_TOO_LARGE");
    r.outbox.delivered(Uint32Array.of(2));
    expect(r.completed).toEqual([]);
    r.outbox.delivered(Uint32Array.of(3));
    expect(r.completed).toEqual([3]);
  });

  test("a second refused output of the same record sends no second copy", async () => {
    const r = rig();
    r.outbox.emit(ticketAt(3), inputAt(3), "lane", [out("a"), out("b")]);
    r.outbox.rejected(1, "too large");
    r.outbox.rejected(2, "too large");
    await tick();
    expect(r.read().filter((f) => f.topic === DLQ)).toHaveLength(1);
    expect(r.stats.deadLettered).toBe(1);
    r.outbox.delivered(Uint32Array.of(3));
    expect(r.completed).toEqual([3]);
  });

  test("a refused copy becomes a stub without value and headers; a refused stub is fatal and nothing completes", async () => {
    const r = rig();
    r.outbox.emit(ticketAt(4), inputAt(4), "lane", [out("a")]);
    r.outbox.rejected(1, "output too large");
    await tick();
    r.outbox.rejected(2, "copy too large");
    await tick();
    const stub = r.read()[2]!;
    expect(stub.ref).toBe(3);
    expect(stub.topic).toBe(DLQ);
    expect(stub.value).toBeNull();
    expect(fromUtf8.decode(stub.key!)).toBe("k4");
    expect(header(stub, "error-kind")).toBe("output-refused");
    expect(header(stub, "error")).toContain("copy too large");
    expect(header(stub, "truncated")).toBeDefined();
    expect(header(stub, "source-offset")).toBe("4");
    expect(r.fatal).toEqual([]);
    r.outbox.rejected(3, "stub too large");
    expect(r.fatal).toHaveLength(1);
    expect(r.fatal[0]).toContain("in/0@4");
    expect(r.completed).toEqual([]);
  });

  test("a dead-letter copy the processor decided on goes straight to a stub when refused, keeping its kind", async () => {
    const r = rig();
    r.outbox.emit(ticketAt(6), inputAt(6), "lane", [out("copy", DLQ)], { stub: false, reason: "handler said no", kind: "permanent" });
    r.outbox.rejected(1, "too large");
    await tick();
    const stub = r.read()[1]!;
    expect(stub.value).toBeNull();
    expect(header(stub, "error-kind")).toBe("permanent");
    expect(header(stub, "error")).toContain("handler said no");
    expect(r.stats.deadLettered).toBe(0); // counted when the processor decided it
    r.outbox.delivered(Uint32Array.of(2));
    expect(r.completed).toEqual([6]);
  });
});

describe("outbox: abandoned outputs", () => {
  test("framing the 2nd output fails: the error is thrown on, the 1st output's acknowledgement no longer counts", async () => {
    const r = rig();
    expect(() => r.outbox.emit(ticketAt(7), inputAt(7), "lane", [out("a"), out("b", "t".repeat(70_000))])).toThrow(/topic name longer/);
    expect(r.outbox.pending).toBe(0);
    await tick();
    expect(r.read().map((f) => f.ref)).toEqual([1]);
    r.outbox.delivered(Uint32Array.of(1));
    expect(r.completed).toEqual([]);
    expect(r.stats.produced).toBe(0);
    // the record runs again under a new id (the output that could not be framed never took one)
    r.outbox.emit(ticketAt(7), inputAt(7), "lane", [out("a")]);
    await tick();
    expect(r.read().map((f) => f.ref)).toEqual([1, 2]);
    r.outbox.delivered(Uint32Array.of(2));
    expect(r.completed).toEqual([7]);
  });

  test("close ends the producer rings once read", async () => {
    const r = rig({ producers: 2 });
    r.outbox.emit(ticketAt(1), inputAt(1), "lane", [out("a")]);
    r.outbox.close();
    await tick();
    r.read();
    const readers = r.outbox.producerRings.map((ring) => new RingReader(ring));
    expect(readers.every((reader) => reader.finished)).toBe(true);
  });
});
