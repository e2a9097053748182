/**
 * ReleaseGate (exactly-once mode): a finished record is released only once every earlier record of its partition
 * was, partitions are independent, and records of a forgotten partition or an old generation never run.
 */
import { describe, expect, test } from "bun:test";
import { ReleaseGate } from "../../src/pipeline/release-gate.ts";
import type { Ticket } from "../../src/offsets/offset-tracker.ts";
import { prng } from "../support/random.ts";

const ticket = (partitionKey: string, offset: number, generation = 1): Ticket => ({ partitionKey, generation, offset });

function shuffled<T>(items: readonly T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe("ReleaseGate", () => {
  test("out-of-order finishes are released strictly in offset order per partition; partitions are independent", () => {
    const gate = new ReleaseGate();
    const released: string[] = [];
    // offsets with gaps (compaction, transaction markers)
    const a = [3, 4, 7, 8, 20];
    const b = [0, 1, 2];
    for (const offset of a) gate.expect(ticket("a", offset));
    for (const offset of b) gate.expect(ticket("b", offset));
    const finish = (key: string, offset: number) =>
      expect(gate.finish(ticket(key, offset), () => released.push(`${key}${offset}`))).toBe(true);

    finish("a", 8);
    finish("a", 4);
    expect(released).toEqual([]);
    expect(gate.waiting).toBe(2);
    finish("b", 0); // partition b does not wait for a
    expect(released).toEqual(["b0"]);
    finish("b", 2);
    expect(gate.waiting).toBe(3);
    finish("a", 3); // releases 3 and 4, 8 still waits for 7
    expect(released).toEqual(["b0", "a3", "a4"]);
    expect(gate.waiting).toBe(2);
    finish("a", 20);
    finish("b", 1);
    expect(released).toEqual(["b0", "a3", "a4", "b1", "b2"]);
    finish("a", 7);
    expect(released).toEqual(["b0", "a3", "a4", "b1", "b2", "a7", "a8", "a20"]);
    expect(gate.waiting).toBe(0);
  });

  test("a record finished for a forgotten partition, an old generation or an unknown partition returns false and never runs", () => {
    const gate = new ReleaseGate();
    let ran = 0;
    const release = () => ran++;
    gate.expect(ticket("p", 0));
    gate.expect(ticket("p", 1));
    expect(gate.finish(ticket("p", 1), release)).toBe(true);
    expect(gate.waiting).toBe(1);
    gate.forget("p");
    expect(gate.waiting).toBe(0);
    expect(gate.finish(ticket("p", 0), release)).toBe(false);
    expect(gate.finish(ticket("unknown", 0), release)).toBe(false);
    expect(ran).toBe(0);

    // the partition restarts under generation 2: generation 1's records are stale
    gate.expect(ticket("p", 0, 2));
    expect(gate.finish(ticket("p", 0, 1), release)).toBe(false);
    expect(ran).toBe(0);
    expect(gate.finish(ticket("p", 0, 2), release)).toBe(true);
    expect(ran).toBe(1);

    // expect() with a new generation replaces the old queue and what waited in it
    gate.expect(ticket("q", 0, 1));
    gate.expect(ticket("q", 1, 1));
    expect(gate.finish(ticket("q", 1, 1), release)).toBe(true);
    gate.expect(ticket("q", 0, 5));
    expect(gate.waiting).toBe(0);
    expect(gate.finish(ticket("q", 0, 1), release)).toBe(false);
    expect(ran).toBe(1);

    // clear() forgets everything
    gate.expect(ticket("r", 0));
    gate.clear();
    expect(gate.finish(ticket("r", 0), release)).toBe(false);
    expect(ran).toBe(1);
  });

  test("a release runs once, and a release that finishes another record of its partition keeps the order", () => {
    const gate = new ReleaseGate();
    const released: number[] = [];
    for (const offset of [0, 1, 2]) gate.expect(ticket("p", offset));
    gate.finish(ticket("p", 2), () => released.push(2));
    gate.finish(ticket("p", 0), () => {
      released.push(0);
      // finishing record 1 from inside a release (a synchronous handler path): it runs right after 0, then 2
      gate.finish(ticket("p", 1), () => released.push(1));
    });
    expect(released).toEqual([0, 1, 2]);
    expect(gate.waiting).toBe(0);
  });

  test("10,000 records per partition finished in a seeded random order: released in offset order, past compaction", () => {
    for (const seed of [1, 42, 2024]) {
      const random = prng(seed);
      const gate = new ReleaseGate();
      const keys = ["x", "y"];
      const offsetsOf = new Map<string, number[]>();
      for (const key of keys) {
        const offsets: number[] = [];
        let offset = key === "x" ? 0 : 1_000_000;
        for (let i = 0; i < 10_000; i++) {
          offset += 1 + (random() < 0.1 ? Math.floor(random() * 5) : 0); // some gaps
          offsets.push(offset);
        }
        offsetsOf.set(key, offsets);
      }
      // arrival interleaves the partitions
      for (let i = 0; i < 10_000; i++) for (const key of keys) gate.expect(ticket(key, offsetsOf.get(key)![i]!));

      const released = new Map<string, number[]>(keys.map((key) => [key, []]));
      const all = keys.flatMap((key) => offsetsOf.get(key)!.map((offset) => ({ key, offset })));
      let maxWaiting = 0;
      for (const { key, offset } of shuffled(all, random)) {
        const ok = gate.finish(ticket(key, offset), () => released.get(key)!.push(offset));
        if (!ok) throw new Error(`seed ${seed}: ${key}@${offset} refused`);
        maxWaiting = Math.max(maxWaiting, gate.waiting);
        // every released prefix is exactly the first n offsets
        const list = released.get(key)!;
        const expected = offsetsOf.get(key)!;
        if (list.length > 0 && list.at(-1) !== expected[list.length - 1]) throw new Error(`seed ${seed}: ${key} released out of order`);
      }
      for (const key of keys) expect(released.get(key)).toEqual(offsetsOf.get(key)!);
      expect(gate.waiting).toBe(0);
      expect(maxWaiting).toBeGreaterThan(100);

      // after compaction the gate keeps working: more records of the same generation
      const lastX = offsetsOf.get("x")!.at(-1)!;
      gate.expect(ticket("x", lastX + 1));
      gate.expect(ticket("x", lastX + 2));
      const after: number[] = [];
      gate.finish(ticket("x", lastX + 2), () => after.push(lastX + 2));
      expect(after).toEqual([]);
      gate.finish(ticket("x", lastX + 1), () => after.push(lastX + 1));
      expect(after).toEqual([lastX + 1, lastX + 2]);
    }
  });

  test("compaction in the middle of a long run with a record held back keeps the held records and the order", () => {
    const gate = new ReleaseGate();
    const released: number[] = [];
    const n = 9000;
    const held = 6000;
    for (let offset = 0; offset < n; offset++) gate.expect(ticket("p", offset));
    // 0..5999 released in order (the queue compacts once more than 4096 and over half of it are released), 6000 held
    for (let offset = 0; offset < held; offset++) gate.finish(ticket("p", offset), () => released.push(offset));
    for (let offset = n - 1; offset > held; offset--) gate.finish(ticket("p", offset), () => released.push(offset));
    expect(released.length).toBe(held);
    expect(gate.waiting).toBe(n - held - 1);
    gate.finish(ticket("p", held), () => released.push(held));
    expect(released).toEqual(Array.from({ length: n }, (_, i) => i));
    expect(gate.waiting).toBe(0);
    // and after it, more records of the partition
    gate.expect(ticket("p", n + 5));
    gate.finish(ticket("p", n + 5), () => released.push(n + 5));
    expect(released.at(-1)).toBe(n + 5);
  });
});
