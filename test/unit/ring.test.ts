import { describe, expect, test } from "bun:test";
import { createRing, RingReader, RingWriter } from "../../src/threads/byte-ring.ts";
import { decodeRecord, RecordEncoder, type WireRecord } from "../../src/threads/record-codec.ts";

const bytes = (n: number, seed = 0): Uint8Array => Uint8Array.from({ length: n }, (_, i) => (i * 31 + seed) & 0xff);

function drain(reader: RingReader): Uint8Array[] {
  const frames: Uint8Array[] = [];
  for (let frame = reader.poll(); frame; frame = reader.poll()) frames.push(frame);
  reader.release();
  return frames;
}

describe("byte ring", () => {
  test("rejects a capacity that is not a power of two", () => {
    expect(() => createRing(1000)).toThrow(/power of two/);
  });

  test("empty ring yields nothing; frames appear only after publish", () => {
    const ring = createRing(256);
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    expect(reader.poll()).toBeNull();
    expect(writer.tryWrite(bytes(10))).toBe(true);
    expect(reader.poll()).toBeNull();
    writer.publish();
    expect(reader.poll()).toEqual(bytes(10));
    expect(reader.poll()).toBeNull();
  });

  test("full ring refuses a frame until the reader releases space", () => {
    const ring = createRing(64);
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    expect(writer.tryWrite(bytes(28, 1))).toBe(true); // 32 bytes with length
    expect(writer.tryWrite(bytes(28, 2))).toBe(true); // 64: full
    expect(writer.free()).toBe(0);
    expect(writer.tryWrite(bytes(1))).toBe(false);
    writer.publish();
    expect(reader.poll()).toEqual(bytes(28, 1));
    expect(writer.tryWrite(bytes(1))).toBe(false); // not released yet
    reader.release();
    expect(writer.tryWrite(bytes(1, 3))).toBe(true);
    writer.publish();
    expect(drain(reader)).toEqual([bytes(28, 2), bytes(1, 3)]);
  });

  test("frames wrap around the end of the buffer, including the length prefix", () => {
    const ring = createRing(64);
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    const seen: Uint8Array[] = [];
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 200; i++) {
      const frame = bytes(1 + ((i * 7) % 40), i);
      if (!writer.tryWrite(frame)) {
        writer.publish();
        seen.push(...drain(reader));
        expect(writer.tryWrite(frame)).toBe(true);
      }
      sent.push(frame);
    }
    writer.publish();
    seen.push(...drain(reader));
    expect(seen).toEqual(sent);
  });

  test("u32 position counters survive wrapping past 2^32", () => {
    const ring = createRing(64);
    const control = new Int32Array(ring.control);
    control[0] = -8; // 2^32 - 8 as u32: write position just below the wrap
    control[16] = -8;
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    for (let i = 0; i < 5; i++) {
      expect(writer.tryWrite(bytes(20, i))).toBe(true);
      writer.publish();
      expect(drain(reader)).toEqual([bytes(20, i)]);
    }
  });

  test("a frame larger than the whole ring streams through it", async () => {
    const ring = createRing(1024);
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    const big = bytes(100_000, 9);
    const writing = writer.write(big).then(async () => {
      await writer.write(bytes(5, 1));
      writer.publish();
    });
    const frames: Uint8Array[] = [];
    while (frames.length < 2) {
      await reader.waitForData(50);
      frames.push(...drain(reader));
    }
    await writing;
    expect(frames[0]!.length).toBe(100_000);
    expect(frames[0]).toEqual(big);
    expect(frames[1]).toEqual(bytes(5, 1));
  });

  test("drainBatch hands out every complete frame with one copy, across the wrap, and oversized ones alone", async () => {
    const ring = createRing(128);
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    const take = (max = 1 << 20) => {
      const frames: Uint8Array[] = [];
      reader.drainBatch(max, (batch, start, end) => frames.push(batch.slice(start, end)));
      reader.release();
      return frames;
    };
    for (let round = 0; round < 20; round++) {
      const sent = [bytes(10 + round, round), bytes(30, round + 1), bytes(5, round + 2)];
      for (const frame of sent) expect(writer.tryWrite(frame)).toBe(true);
      writer.publish();
      expect(take()).toEqual(sent);
    }
    expect(writer.tryWrite(bytes(20, 1))).toBe(true);
    expect(writer.tryWrite(bytes(20, 2))).toBe(true);
    writer.publish();
    expect(take(10)).toEqual([bytes(20, 1)]); // stops once maxBytes is reached
    expect(take()).toEqual([bytes(20, 2)]);
    const big = bytes(1000, 3);
    const writing = writer.write(big);
    const frames: Uint8Array[] = [];
    while (frames.length === 0) {
      await reader.waitForData(20);
      frames.push(...take());
    }
    await writing;
    expect(frames).toEqual([big]);
  });

  test("close lets the reader finish after draining", () => {
    const ring = createRing(256);
    const writer = new RingWriter(ring);
    const reader = new RingReader(ring);
    writer.tryWrite(bytes(3));
    writer.close();
    expect(reader.finished).toBe(false);
    expect(drain(reader)).toHaveLength(1);
    expect(reader.finished).toBe(true);
  });

  test("a writer in one Worker and a reader in another move 200k frames in order, 5 MB records included", async () => {
    const ring = createRing(64 * 1024);
    const count = 200_000;
    const done = new SharedArrayBuffer(8);
    const writerWorker = new Worker(new URL("./fixtures/ring-writer-worker.ts", import.meta.url));
    const readerWorker = new Worker(new URL("./fixtures/ring-reader-worker.ts", import.meta.url));
    const result = new Promise<{ count: number; checksum: number; bigFrames: number; ordered: boolean }>((resolve, reject) => {
      readerWorker.onmessage = (event: MessageEvent) => resolve(event.data);
      readerWorker.onerror = (event) => reject(new Error(event.message));
      writerWorker.onerror = (event) => reject(new Error(event.message));
    });
    readerWorker.postMessage({ ring, count });
    writerWorker.postMessage({ ring, count, done });
    const summary = await result;
    writerWorker.terminate();
    readerWorker.terminate();
    expect(summary.ordered).toBe(true);
    expect(summary.count).toBe(count);
    expect(summary.bigFrames).toBe(2);
    // checksum of the sequence numbers 0..count-1
    expect(summary.checksum).toBe((count * (count - 1)) / 2);
  }, 60_000);
});

describe("record codec", () => {
  test("round-trips every field, nulls and headers", () => {
    const encoder = new RecordEncoder();
    const utf8 = new TextEncoder();
    const record: WireRecord = {
      kind: "output",
      ref: 4_000_000_000,
      topic: "orders.v1",
      partition: 5,
      offset: 2 ** 40 + 3,
      timestamp: 1_764_000_000_123,
      key: utf8.encode("k-1"),
      value: bytes(300),
      headers: [
        ["trace", bytes(4)],
        ["empty", new Uint8Array(0)],
        ["ünïcode", bytes(2)],
        ["null-value", null],
      ],
    };
    const decoded = decodeRecord(encoder.encode(record).slice());
    expect(decoded).toEqual({ ...record, headers: record.headers.map(([name, value]) => [utf8.encode(name as string), value]) });
    expect(decoded.headers[3]![1]).toBeNull();
    const nulls: WireRecord = { ...record, key: null, value: null, headers: [], partition: -1 };
    expect(decodeRecord(encoder.encode(nulls).slice())).toEqual({ ...nulls, headers: [] });
  });

  test("header names travel as raw bytes of any length, and any number of headers", () => {
    const encoder = new RecordEncoder();
    const notUtf8 = new Uint8Array([0xff, 0xfe, 0x80, 0x41]);
    const longName = bytes(70_000, 3);
    const many: Array<readonly [Uint8Array, Uint8Array | null]> = Array.from(
      { length: 100_001 },
      (_, i) => [new Uint8Array([i & 0xff, i >> 8, i >> 16]), i % 3 === 0 ? null : new Uint8Array([i & 0xff])] as const,
    );
    const headers = [[notUtf8, new Uint8Array(0)] as const, [longName, null] as const, ...many];
    const decoded = decodeRecord(
      encoder
        .encode({ kind: "record", ref: 1, topic: "t", partition: 0, offset: 0, timestamp: 0, key: new Uint8Array(0), value: null, headers })
        .slice(),
    );
    expect(decoded.headers.length).toBe(headers.length);
    expect(decoded.headers).toEqual(headers);
    expect(decoded.key).toEqual(new Uint8Array(0));
    expect(decoded.value).toBeNull();
  });

  test("every frame kind round-trips; an unknown kind byte is refused, not misread", () => {
    const encoder = new RecordEncoder();
    for (const kind of ["record", "assignment", "output"] as const) {
      const frame = encoder
        .encode({ kind, ref: 7, topic: "t", partition: 1, offset: 2, timestamp: 3, key: null, value: null, headers: [] })
        .slice();
      expect(decodeRecord(frame).kind).toBe(kind);
    }
    const bad = encoder
      .encode({ kind: "record", ref: 7, topic: "t", partition: 1, offset: 2, timestamp: 3, key: null, value: null, headers: [] })
      .slice();
    bad[0] = 9;
    expect(() => decodeRecord(bad)).toThrow(/unknown frame kind 9/);
  });

  test("grows for a 5 MB value", () => {
    const encoder = new RecordEncoder();
    const value = bytes(5 * 1024 * 1024, 7);
    const decoded = decodeRecord(
      encoder.encode({ kind: "record", ref: 1, topic: "t", partition: 0, offset: 0, timestamp: 0, key: null, value, headers: [] }).slice(),
    );
    expect(decoded.value).toEqual(value);
  });
});
