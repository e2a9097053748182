/**
 * The one generator of seed-format input ({id, timestamp, data, status}, about 200 bytes a value) for the
 * benchmarks, the chaos stream, the demo and the integration tests. Each caller keeps its own share of broken
 * records (`brokenEvery`), so its figures stay comparable with earlier runs: the benchmarks every 10th, the demo
 * every 20th, the chaos scenarios every 50th, the tests every 10th.
 */
export type Kind = "valid" | "invalid" | "bad-json" | "old-timestamp" | "bad-timestamp";

export interface SeedMix {
  /** Every n-th record (indexes n-1, 2n-1, …) is broken, three ways in turn; 0 = none. */
  readonly brokenEvery: number;
  /** Of the rest, every n-th (indexes n-1, 2n-1, …) has short data (status "invalid"); default 2: the odd indexes. */
  readonly shortEvery?: number;
}

const BROKEN = ["bad-json", "old-timestamp", "bad-timestamp"] as const;

export function kindOf(i: number, mix: SeedMix): Kind {
  const { brokenEvery, shortEvery = 2 } = mix;
  if (brokenEvery > 0 && i % brokenEvery === brokenEvery - 1) return BROKEN[Math.floor(i / brokenEvery) % 3]!;
  return i % shortEvery === shortEvery - 1 ? "invalid" : "valid";
}

/** Whether the seed rule sends a record of this kind to the dead-letter topic. */
export const isBroken = (kind: Kind): boolean => kind !== "valid" && kind !== "invalid";

/** The timestamps of one batch of values: now, 25 hours ago (rejected as old) and now in RFC 1123 (not RFC 3339). */
export interface SeedClock {
  readonly nowIso: string;
  readonly oldIso: string;
  readonly nowRfc1123: string;
}

export function seedClock(now = Date.now()): SeedClock {
  return {
    nowIso: new Date(now).toISOString(),
    oldIso: new Date(now - 25 * 3600_000).toISOString(),
    nowRfc1123: new Date(now).toUTCString(),
  };
}

const FILLER =
  "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ".repeat(2);

/** One seed-format value of about 200 bytes; `id` must be unique. */
export function seedValue(id: string, kind: Kind, i: number, clock: SeedClock): string {
  const long = `reading ${i % 9973} ${FILLER.slice(0, 90 + (i % 17))}`;
  switch (kind) {
    case "valid":
      return JSON.stringify({ id, timestamp: clock.nowIso, data: long, status: "new" });
    case "invalid":
      return JSON.stringify({ id, timestamp: clock.nowIso, data: `n/a ${i % 100}`, status: "new", note: FILLER.slice(0, 85 + (i % 17)) });
    case "bad-json":
      return `{"id":"${id}","timestamp":"${clock.nowIso}","data":"${long}"`;
    case "old-timestamp":
      return JSON.stringify({ id, timestamp: clock.oldIso, data: long, status: "new" });
    case "bad-timestamp":
      return JSON.stringify({ id, timestamp: clock.nowRfc1123, data: long, status: "new" });
  }
}

/** How many of the first `count` records are of each kind. */
export function kindCounts(count: number, mix: SeedMix): Record<Kind, number> {
  const counts: Record<Kind, number> = { valid: 0, invalid: 0, "bad-json": 0, "old-timestamp": 0, "bad-timestamp": 0 };
  for (let i = 0; i < count; i++) counts[kindOf(i, mix)]++;
  return counts;
}

/** How many of `count` records the seed rule sends to the output and to the dead-letter topic. */
export function expectedMix(count: number, mix: SeedMix): { outputs: number; dlq: number } {
  const dlq = mix.brokenEvery > 0 ? Math.floor(count / mix.brokenEvery) : 0;
  return { outputs: count - dlq, dlq };
}
