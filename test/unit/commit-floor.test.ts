import { describe, expect, test } from "bun:test";
import { CommitFloor, type GroupOffsets } from "../../src/kafka/commit-floor.ts";

const owns =
  (...partitions: number[]) =>
  (topic: string, partition: number) =>
    topic === "t" && partitions.includes(partition);
const at = (partition: number, offset: number) => ({ topic: "t", partition, offset });

describe("commit floor", () => {
  test("nothing known: every owned offset is sent, offsets of partitions not owned are dropped", () => {
    const floor = new CommitFloor();
    expect(floor.get("t", 0)).toBe(-1);
    const plan = floor.plan([at(0, 5), at(1, 7), at(2, 9)], owns(0, 1));
    expect(plan.owned).toEqual([at(0, 5), at(1, 7)]);
    expect(plan.covered).toEqual([]);
    expect(plan.toSend).toEqual([at(0, 5), at(1, 7)]);
  });

  test("offsets at or below the group's are covered, not sent; those above are sent", () => {
    const floor = new CommitFloor();
    floor.absorb(new Map([["t", [10n, 20n, 30n]]]));
    const plan = floor.plan([at(0, 9), at(1, 20), at(2, 31)], owns(0, 1, 2));
    expect(plan.covered).toEqual([at(0, 9), at(1, 20)]);
    expect(plan.toSend).toEqual([at(2, 31)]);
    expect(plan.owned).toEqual([at(0, 9), at(1, 20), at(2, 31)]);
  });

  test("a negative committed offset means none: it sets no floor", () => {
    const floor = new CommitFloor();
    floor.absorb(
      new Map([
        ["t", [-1n, 4n]],
        ["u", [7n]],
      ]),
    );
    expect(floor.get("t", 0)).toBe(-1);
    expect(floor.get("t", 1)).toBe(4);
    expect(floor.get("u", 0)).toBe(7);
  });

  test("raised by own commits, never lowered (neither by a commit nor by an older read of the group)", () => {
    const floor = new CommitFloor();
    floor.raise("t", 0, 50);
    floor.raise("t", 0, 40);
    expect(floor.get("t", 0)).toBe(50);
    floor.absorb(new Map([["t", [30n]]]));
    expect(floor.get("t", 0)).toBe(50);
    floor.absorb(new Map([["t", [60n]]]));
    expect(floor.get("t", 0)).toBe(60);
  });

  test("a member that rejoins after being fenced cannot commit its older progress over the owner's", async () => {
    const floor = new CommitFloor();
    floor.raise("t", 0, 100); // its own last commit before the freeze
    // meanwhile another member moved the partition on to 250; the rejoined member reads that after its join
    floor.load(
      async () => new Map([["t", [250n]]]),
      () => undefined,
    );
    await floor.ready();
    const plan = floor.plan([at(0, 180)], owns(0));
    expect(plan.toSend).toEqual([]);
    expect(plan.covered).toEqual([at(0, 180)]);
  });

  test("a load that does not answer is given up after its timeout and reported; commits go on", async () => {
    const floor = new CommitFloor();
    const errors: unknown[] = [];
    floor.load(
      () => new Promise<GroupOffsets>(() => undefined),
      (error) => errors.push(error),
      20,
    );
    const started = Date.now();
    await floor.ready();
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(String(errors[0])).toContain("no answer within 20 ms");
    expect(floor.plan([at(0, 1)], owns(0)).toSend).toEqual([at(0, 1)]);
  });

  test("a failed load is reported and leaves the floor as it was", async () => {
    const floor = new CommitFloor();
    floor.raise("t", 0, 3);
    const errors: unknown[] = [];
    floor.load(
      () => Promise.reject(new Error("coordinator not available")),
      (error) => errors.push(error),
    );
    await floor.ready();
    expect(errors).toHaveLength(1);
    expect(floor.get("t", 0)).toBe(3);
  });
});
