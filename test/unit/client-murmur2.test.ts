/**
 * The client patch's murmur2 (32-bit integer arithmetic in place of BigInt) must give the partitions Java clients
 * give: Kafka's own test vectors, and a straightforward BigInt reference over random keys of every length.
 */
import { describe, expect, test } from "bun:test";
import { murmur2 } from "@platformatic/kafka";
import { prng } from "../support/random.ts";

/** Kafka's Utils.murmur2, literally, in BigInt with 32-bit wrap-around after every step. */
function reference(data: Uint8Array): number {
  const i32 = (x: bigint): bigint => BigInt.asIntN(32, x);
  const ushr = (x: bigint, bits: number): bigint => i32(BigInt(Number(BigInt.asUintN(32, x)) >>> bits));
  const m = 0x5bd1e995n;
  let h = i32(0x9747b28cn ^ BigInt(data.length));
  const whole = data.length - (data.length % 4);
  for (let i = 0; i < whole; i += 4) {
    let k = i32(BigInt(data[i]! | (data[i + 1]! << 8) | (data[i + 2]! << 16) | (data[i + 3]! << 24)));
    k = i32(k * m);
    k = i32(k ^ ushr(k, 24));
    k = i32(k * m);
    h = i32(i32(h * m) ^ k);
  }
  const rest = data.length % 4;
  if (rest >= 3) h = i32(h ^ (BigInt(data[whole + 2]!) << 16n));
  if (rest >= 2) h = i32(h ^ (BigInt(data[whole + 1]!) << 8n));
  if (rest >= 1) h = i32(i32(h ^ BigInt(data[whole]!)) * m);
  h = i32(h ^ ushr(h, 13));
  h = i32(h * m);
  h = i32(h ^ ushr(h, 15));
  return Number(h);
}

describe("patched murmur2", () => {
  test("Kafka's test vectors (UtilsTest.testMurmur2)", () => {
    const vectors: Array<[string, number]> = [
      ["21", -973932308],
      ["foobar", -790332482],
      ["a-little-bit-long-string", -985981536],
      ["a-little-bit-longer-string", -1486304829],
      ["lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8", -58897971],
      ["abc", 479470107],
    ];
    for (const [text, hash] of vectors) expect(murmur2(Buffer.from(text))).toBe(hash);
  });

  test("equals the BigInt reference over random keys of length 0–64", () => {
    const random = prng(99);
    for (let n = 0; n < 5_000; n++) {
      const key = Buffer.from(Array.from({ length: n % 65 }, () => Math.floor(random() * 256)));
      expect(murmur2(key)).toBe(reference(key));
    }
  });
});
