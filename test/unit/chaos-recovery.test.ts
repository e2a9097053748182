/** Recovery time of a chaos fault, from the sampled committed totals. */
import { expect, test } from "bun:test";
import { recoveryTime, type Fault } from "../../scripts/chaos/scenario.ts";

const fault = (at: number, resumedAt: number): Fault => ({ label: "f", at, resumedAt, committed: null, redelivers: true });

/** Each case: the fault's [at, resumedAt], the sampled [time, committed total] pairs, and the expected recovery time. */
// biome-ignore format: one case a line reads as a table
const cases: Array<[string, [number, number], Array<[number, number]>, number | null]> = [
  ["the first commit beyond everything seen until the fault ended", [150, 250], [[100, 10], [200, 20], [300, 20], [400, 25], [500, 30]], 400],
  // work produced before an output topic was deleted is committed while it is gone (t=300); recovery is t=500
  ["commits that moved during the fault do not count as recovery", [200, 350], [[100, 10], [300, 40], [400, 40], [500, 41]], 500],
  ["none when no commit progressed after the fault", [150, 250], [[100, 10], [300, 10], [400, 10]], null],
];

test.each(cases)("%s", (_name, [at, resumedAt], totals, expected) => {
  expect(recoveryTime(fault(at, resumedAt), totals)).toBe(expected);
});
