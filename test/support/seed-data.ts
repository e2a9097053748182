/** Seed-format input ({id, timestamp, data, status}) with a known mix of valid, invalid and broken records. */
import type { SeedRecord } from "./kafka.ts";

export type Expected = "valid" | "invalid" | "dlq";

export interface SeedCase {
  readonly id: string;
  readonly record: SeedRecord;
  readonly expected: Expected;
}

/** Every 10th record is broken in one of several ways; the rest alternate long (valid) and short (invalid) data. */
export function seedCases(count: number, keys: number, runId: string): SeedCase[] {
  const now = new Date().toISOString();
  const old = new Date(Date.now() - 25 * 3600_000).toISOString();
  return Array.from({ length: count }, (_, i) => {
    const id = `${runId}-${i}`;
    const key = `key-${i % keys}`;
    if (i % 10 === 9) {
      const broken = [
        `{"id":"${id}","timestamp":"${now}","data":`, // truncated JSON
        JSON.stringify({ id, timestamp: old, data: "old enough to be rejected", status: "" }),
        JSON.stringify({ id, timestamp: "yesterday", data: "not a timestamp", status: "" }),
      ][Math.floor(i / 10) % 3]!;
      return { id, record: { key, value: broken, headers: { "test-id": id } }, expected: "dlq" as const };
    }
    const valid = i % 2 === 0;
    const data = valid ? `payload number ${i}` : `short${i % 10}`;
    return { id, record: { key, value: JSON.stringify({ id, timestamp: now, data, status: "" }), headers: { "test-id": id } }, expected: valid ? ("valid" as const) : ("invalid" as const) };
  });
}
