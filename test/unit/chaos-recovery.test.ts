/** Recovery time of a chaos fault, from the sampled committed totals. */
import { expect, test } from "bun:test";
import { recoveryTime, type Fault } from "../../scripts/chaos/scenario.ts";

const fault = (at: number, resumedAt: number): Fault => ({ label: "f", at, resumedAt, committed: null, redelivers: true });

test("the first commit beyond everything seen until the fault ended", () => {
  const totals: Array<[number, number]> = [
    [100, 10],
    [200, 20],
    [300, 20],
    [400, 25],
    [500, 30],
  ];
  expect(recoveryTime(fault(150, 250), totals)).toBe(400);
});

test("commits that moved during the fault do not count as recovery", () => {
  // work produced before an output topic was deleted is committed while it is gone (t=300); recovery is t=500
  const totals: Array<[number, number]> = [
    [100, 10],
    [300, 40],
    [400, 40],
    [500, 41],
  ];
  expect(recoveryTime(fault(200, 350), totals)).toBe(500);
});

test("none when no commit progressed after the fault", () => {
  expect(
    recoveryTime(fault(150, 250), [
      [100, 10],
      [300, 10],
      [400, 10],
    ]),
  ).toBeNull();
});
