/** Seed-format input (scripts/lib/seed-data.ts) with a known mix of valid, invalid and broken records. */
import { isBroken, kindOf, seedClock, seedValue, type SeedMix } from "../../scripts/lib/seed-data.ts";
import { produce, uniqueName, type SeedRecord } from "./kafka.ts";

export type Expected = "valid" | "invalid" | "dlq";

export interface SeedCase {
  readonly id: string;
  readonly record: SeedRecord;
  readonly expected: Expected;
}

/** The tests' share: every 10th record is broken (three ways in turn); the rest alternate long (valid) and short (invalid) data. */
const TEST_MIX: SeedMix = { brokenEvery: 10 };

export function seedCases(count: number, keys: number, runId: string): SeedCase[] {
  const clock = seedClock();
  return Array.from({ length: count }, (_, i) => {
    const id = `${runId}-${i}`;
    const kind = kindOf(i, TEST_MIX);
    const expected = isBroken(kind) ? "dlq" : (kind as Expected);
    return { id, record: { key: `key-${i % keys}`, value: seedValue(id, kind, i, clock), headers: { "test-id": id } }, expected };
  });
}

/** `count` seed cases over `keys` keys of a fresh run, produced into `topic` (`batch` records a request). */
export async function produceSeedCases(topic: string, count: number, keys: number, batch?: number): Promise<SeedCase[]> {
  const cases = seedCases(count, keys, uniqueName("run"));
  await produce(
    topic,
    cases.map((c) => c.record),
    batch,
  );
  return cases;
}
