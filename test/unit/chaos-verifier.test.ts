/** The chaos verifier must catch each planted fault and stay quiet on a clean history. */
import { expect, test } from "bun:test";
import {
  LandingIndex,
  landings,
  verify,
  type CommitSample,
  type History,
  type InputRecord,
  type LandedRecord,
} from "../../scripts/chaos/verifier.ts";

/** Six inputs on partition 0: keys a,b,a,b,a,b at offsets 0..5, ids i0..i5. */
const inputs: InputRecord[] = Array.from({ length: 6 }, (_, o) => ({ partition: 0, offset: o, key: o % 2 === 0 ? "a" : "b", id: `i${o}` }));

/** Outputs in the given id order, appended 10 ms apart from t=1000 (output partition 0). */
function outputsOf(ids: string[], start = 1000): LandedRecord[] {
  return ids.map((id, offset) => ({ id, partition: 0, offset, appendTime: start + offset * 10 }));
}

const clean = (): History => ({
  inputs,
  outputs: outputsOf(["i0", "i1", "i2", "i3", "i4", "i5"]),
  deadLetters: [],
  // committed 3 after i0..i2 landed (t=1020), 6 after everything (t=1050)
  commits: [
    { time: 1025, partition: 0, offset: 3 },
    { time: 1060, partition: 0, offset: 6 },
  ],
});

test("a clean history passes", () => {
  const v = verify(clean());
  expect(v).toMatchObject({
    sent: 6,
    produced: 6,
    deadLettered: 0,
    lost: [],
    duplicates: 0,
    orderViolations: [],
    commitPastUnproduced: [],
  });
  // offset 3 committed at 1025, 5 ms after i2 landed
  expect(v.closestCommitMs).toBe(5);
});

test("a DLQ landing counts as delivered", () => {
  const h = clean();
  const v = verify({
    ...h,
    outputs: h.outputs.filter((r) => r.id !== "i3"),
    deadLetters: [{ id: "i3", partition: 0, offset: 0, appendTime: 1030 }],
  });
  expect(v.lost).toEqual([]);
  expect(v.deadLettered).toBe(1);
  expect(v.commitPastUnproduced).toEqual([]);
});

test("a planted loss is reported", () => {
  const v = verify({ ...clean(), outputs: outputsOf(["i0", "i1", "i2", "i3", "i5"]), commits: [] });
  expect(v.lost).toEqual(["i4"]);
});

test("a planted duplicate is counted, across output and DLQ too", () => {
  const h = clean();
  const v = verify({
    ...h,
    outputs: outputsOf(["i0", "i1", "i2", "i3", "i4", "i5", "i2"]),
    deadLetters: [{ id: "i5", partition: 0, offset: 0, appendTime: 2000 }],
  });
  expect(v.duplicates).toBe(2);
  expect(v.lost).toEqual([]);
});

test("an id the input holds twice (a re-sent batch) may land twice without counting as a duplicate", () => {
  const h = clean();
  const v = verify({
    ...h,
    inputs: [...h.inputs, { partition: 0, offset: 6, key: "a", id: "i4" }],
    outputs: outputsOf(["i0", "i1", "i2", "i3", "i4", "i5", "i4"]),
    commits: [],
  });
  expect(v.duplicates).toBe(0);
  expect(verify({ ...h, outputs: outputsOf(["i0", "i1", "i2", "i3", "i4", "i5", "i4"]), commits: [] }).duplicates).toBe(1);
});

test("a planted reorder within a key is a violation; another key's interleaving is not", () => {
  // key a: i0 (offset 0), i4 (offset 4) before i2 (offset 2)
  const v = verify({ ...clean(), outputs: outputsOf(["i0", "i1", "i4", "i3", "i2", "i5"]), commits: [] });
  expect(v.orderViolations).toEqual([{ key: "a", id: "i2", inputOffset: 2, afterInputOffset: 4 }]);
});

test("re-delivery of an already-output prefix after a crash is not an order violation", () => {
  const v = verify({ ...clean(), outputs: outputsOf(["i0", "i1", "i2", "i3", "i0", "i1", "i2", "i3", "i4", "i5"]), commits: [] });
  expect(v.orderViolations).toEqual([]);
  expect(v.duplicates).toBe(4);
});

test("a new record after a re-delivered later one is still a violation", () => {
  // i2 had never been output when it came after i4
  const v = verify({ ...clean(), outputs: outputsOf(["i0", "i1", "i4", "i0", "i2", "i3", "i5"]), commits: [] });
  expect(v.orderViolations.map((o) => o.id)).toEqual(["i2"]);
});

test("a commit before the output landed (commit-before-produce) is caught, naming the unproduced offset", () => {
  // committed offset 3 observed at t=1015, but i2 (offset 2) only landed at t=1020
  const commits: CommitSample[] = [{ time: 1015, partition: 0, offset: 3 }];
  const v = verify({ ...clean(), commits }, { clockToleranceMs: 0 });
  expect(v.commitPastUnproduced).toEqual([{ sample: commits[0]!, unproducedOffset: 2, landedAt: 1020 }]);
  // within the clock tolerance it is not reported
  expect(verify({ ...clean(), commits }, { clockToleranceMs: 5 }).commitPastUnproduced).toEqual([]);
});

test("a committed offset going backwards (a stale member's commit) is a regression", () => {
  const commits: CommitSample[] = [
    { time: 1025, partition: 0, offset: 3 },
    { time: 1060, partition: 0, offset: 6 },
    { time: 1070, partition: 0, offset: 4 },
  ];
  expect(verify({ ...clean(), commits }).commitRegressions).toEqual([{ partition: 0, time: 1070, from: 6, to: 4 }]);
  expect(verify(clean()).commitRegressions).toEqual([]);
});

test("a commit past a record that never landed is caught (and the record is lost)", () => {
  const v = verify({ ...clean(), outputs: outputsOf(["i0", "i2", "i3", "i4", "i5"]), commits: [{ time: 5000, partition: 0, offset: 6 }] });
  expect(v.lost).toEqual(["i1"]);
  expect(v.commitPastUnproduced[0]).toMatchObject({ unproducedOffset: 1, landedAt: Number.POSITIVE_INFINITY });
});

test("the in-flight window counts records landed but not committed at a moment", () => {
  const h = clean();
  const index = new LandingIndex(h.inputs, landings(h.outputs, h.deadLetters).first);
  // at t=1030 i0..i3 had landed; with offset 1 committed, i1..i3 may come out again
  expect(index.landedButUncommitted(1030, new Map([[0, 1]]))).toBe(3);
  expect(index.landedButUncommitted(1030, new Map([[0, 6]]))).toBe(0);
});
