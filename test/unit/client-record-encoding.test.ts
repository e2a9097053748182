/**
 * The client patch's record encoder (scripts/patches: protocol/records.js writes a batch's records into one buffer)
 * must give the bytes the client's own per-record Writer gives, and read back through the client's own reader.
 */
import { describe, expect, test } from "bun:test";
import { createRecord, createRecordsBatch, readRecordsBatch, Reader } from "@platformatic/kafka";
import { prng } from "../support/random.ts";

type Message = {
  topic: string;
  partition: number;
  key: Buffer | undefined | null;
  value: Buffer | null;
  headers: Map<Buffer, Buffer | null>;
  timestamp?: bigint;
};

/** Batch header: firstOffset 8, length 4, leader epoch 4, magic 1, crc 4, attributes 2, lastOffsetDelta 4, timestamps 16, producer id 8, epoch 2, sequence 4, count 4. */
const BATCH_HEADER_BYTES = 61;

function randomMessages(random: () => number, count: number): Message[] {
  const bytes = (max: number): Buffer => Buffer.from(Array.from({ length: Math.floor(random() * max) }, () => Math.floor(random() * 256)));
  // near now: a message without a timestamp is stamped with now
  const base = BigInt(Date.now());
  return Array.from({ length: count }, () => {
    const headers = new Map<Buffer, Buffer | null>();
    const headerCount = Math.floor(random() * 4);
    for (let h = 0; h < headerCount; h++) headers.set(Buffer.from(h % 2 ? "same" : `h${h}`), random() < 0.2 ? null : bytes(40));
    const r = random();
    return {
      topic: "t",
      partition: 0,
      key: r < 0.1 ? undefined : r < 0.2 ? null : bytes(300),
      // long values cross every varint length boundary up to 3 bytes
      value: random() < 0.05 ? null : bytes(random() < 0.1 ? 40_000 : 200),
      headers,
      // deltas around zero and negative (the client's own Writer gets deltas of 2^31 ms and more wrong: see below)
      ...(random() < 0.9 && { timestamp: base + BigInt(Math.floor((random() - 0.3) * 5000)) }),
    };
  });
}

describe("patched record batch encoding", () => {
  test("records section is byte-identical to the client's per-record Writer, over random batches", () => {
    const random = prng(2024);
    for (let round = 0; round < 200; round++) {
      const count = 1 + Math.floor(random() * (round < 20 ? 3 : 300));
      const messages = randomMessages(random, count);
      // createRecordsBatch stamps the messages without a timestamp (with now): the reference encodes those stamps
      const stamped = structuredClone(messages);
      const batch = createRecordsBatch(stamped as never).buffer;
      const first = stamped[0]!.timestamp!;
      const expected = Buffer.concat(stamped.map((m, i) => createRecord(m as never, i, first).buffer));
      expect(batch.subarray(BATCH_HEADER_BYTES).equals(expected)).toBe(true);
    }
  });

  test("reads back through the client's reader: keys, values, headers, timestamps, offset deltas", () => {
    const random = prng(7);
    // timestamps up to 100 days apart: the client's Writer zigzags 64-bit varints with `>> 31n` (not 63n), which
    // corrupts deltas of 2^31 ms (24.8 days) and more; the patched encoder writes them right
    const messages = randomMessages(random, 500).map((m, i) => ({
      ...m,
      timestamp: 1_700_000_000_000n + BigInt(i % 7 === 0 ? Math.floor((random() - 0.5) * 8.64e9 * 2) : i * 3 - 100),
    }));
    const batch = createRecordsBatch(structuredClone(messages) as never).buffer;
    const read = readRecordsBatch(Reader.from(batch));
    expect(read.records.length).toBe(messages.length);
    read.records.forEach((record, i) => {
      const m = messages[i]!;
      expect(record.offsetDelta).toBe(i);
      expect(BigInt(read.firstTimestamp) + BigInt(record.timestampDelta)).toBe(m.timestamp);
      const hex = (b: Uint8Array | null | undefined): string | null => (b == null ? null : Buffer.from(b).toString("hex"));
      // the reader gives a null key as an empty buffer
      expect(hex(record.key) || null).toBe(hex(m.key) || null);
      expect(hex(record.value)).toBe(hex(m.value));
      expect(record.headers.map(([k, v]) => [hex(k), hex(v)])).toEqual([...m.headers].map(([k, v]) => [hex(k), hex(v)]));
    });
  });
});
