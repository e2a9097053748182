import { describe, expect, test } from "bun:test";
import { OffsetTracker, partitionKey, type Ticket } from "../../src/offsets/offset-tracker.ts";

const P0 = { topic: "t", partition: 0 };
const P1 = { topic: "t", partition: 1 };

function ticket(tracker: OffsetTracker, offset: number, owner = 0, partition = 0): Ticket {
  const tracked = tracker.track("t", partition, offset, owner);
  if (tracked === null) throw new Error(`offset ${offset} was not tracked`);
  return tracked.ticket;
}

describe("offset tracker", () => {
  test("commits only the contiguous completed prefix, with gaps in offsets", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    const tickets = [10, 11, 13, 14, 20].map((o) => ticket(tracker, o));
    expect(tracker.takeCommits()).toEqual([]);
    tracker.complete(tickets[1]!);
    tracker.complete(tickets[2]!);
    expect(tracker.takeCommits()).toEqual([]); // 10 still in flight
    tracker.complete(tickets[0]!);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 14, owner: 0 }]);
    expect(tracker.takeCommits()).toEqual([]); // nothing moved
    tracker.complete(tickets[4]!);
    tracker.complete(tickets[3]!);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 21, owner: 0 }]);
    expect(tracker.inFlight).toBe(0);
  });

  test("partitions are independent and batched into one round", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0, P1], 1);
    tracker.assign(1, [{ topic: "u", partition: 0 }], 1);
    const a = ticket(tracker, 5, 0, 0);
    const b = ticket(tracker, 7, 0, 1);
    const c = tracker.track("u", 0, 1, 1)!.ticket;
    for (const t of [a, b, c]) tracker.complete(t);
    expect(tracker.takeCommits()).toEqual([
      { topic: "t", partition: 0, offset: 6, owner: 0 },
      { topic: "t", partition: 1, offset: 8, owner: 0 },
      { topic: "u", partition: 0, offset: 2, owner: 1 },
    ]);
  });

  test("records of a partition the consumer was not assigned are stale and not tracked", () => {
    const tracker = new OffsetTracker();
    expect(tracker.track("t", 0, 1, 0)).toBeNull();
    tracker.assign(0, [P0], 1);
    expect(tracker.track("t", 0, 1, 1)).toBeNull(); // another consumer of the process
    expect(tracker.track("t", 0, 1, 0)).not.toBeNull();
  });

  test("ownership moves only with assignment frames, and a later claim wins whatever order frames are read in", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0, P1], 10);
    const old = ticket(tracker, 100, 0);
    // consumer 1 was given partition 0 at time 20 (after consumer 0 had it): it moves, consumer 0's work is stale
    expect(tracker.assign(1, [P0], 20)).toEqual({ moved: [partitionKey("t", 0)], dropped: [] });
    expect(tracker.isCurrent(old)).toBe(false);
    expect(tracker.complete(old)).toBe(false);
    // a stale record of consumer 0 (still in its ring) neither takes the partition back nor gets tracked
    expect(tracker.track("t", 0, 101, 0)).toBeNull();
    // consumer 0's older frame (time 15), read late, still naming partition 0: consumer 1 keeps it
    expect(tracker.assign(0, [P0, P1], 15)).toEqual({ moved: [], dropped: [] });
    expect(tracker.track("t", 0, 50, 1)).not.toBeNull();
    expect(tracker.track("t", 0, 102, 0)).toBeNull();
    // consumer 0's newer frame without partition 1 drops only what it owned
    expect(tracker.assign(0, [], 30)).toEqual({ moved: [], dropped: [partitionKey("t", 1)] });
    expect(tracker.describe().map((p) => [p.partition, p.owner])).toEqual([[0, 1]]);
  });

  test("a rewind by the owner starts a new generation; old completions cannot move the new commit point", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    const old = [100, 101, 102].map((o) => ticket(tracker, o));
    tracker.complete(old[0]!);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 101, owner: 0 }]);
    const again = tracker.track("t", 0, 101, 0)!;
    expect(again.rewound).toBe(true);
    expect(tracker.complete(old[2]!)).toBe(false);
    expect(tracker.takeCommits()).toEqual([]);
    tracker.complete(again.ticket);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 102, owner: 0 }]);
  });

  test("revoking: no new records, in-flight ones finish and commit, then the partition is released", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0, P1], 1);
    const inFlight = [1, 2].map((o) => ticket(tracker, o));
    ticket(tracker, 7, 0, 1);
    expect(tracker.beginRevoke(0, [P0, { topic: "t", partition: 9 }], 5)).toEqual([partitionKey("t", 0)]);
    expect(tracker.track("t", 0, 3, 0)).toBeNull();
    expect(tracker.inFlightOf([partitionKey("t", 0)])).toBe(2);
    for (const t of inFlight) tracker.complete(t);
    expect(tracker.inFlightOf([partitionKey("t", 0)])).toBe(0);
    expect(tracker.hasUncommitted([partitionKey("t", 0)])).toBe(true);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 3, owner: 0 }]);
    expect(tracker.hasUncommitted([partitionKey("t", 0)])).toBe(false);
    expect(tracker.release(0, [partitionKey("t", 0)])).toEqual([partitionKey("t", 0)]);
    expect(tracker.describe().map((p) => p.partition)).toEqual([1]);
  });

  test("a claim older than the same consumer's revocation is stale; a newer one starts afresh", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    const before = ticket(tracker, 40);
    tracker.beginRevoke(0, [P0], 10);
    tracker.release(0, [partitionKey("t", 0)]);
    expect(tracker.assign(0, [P0], 5).dropped).toEqual([]);
    expect(tracker.track("t", 0, 41, 0)).toBeNull();
    tracker.assign(0, [P0], 12);
    expect(tracker.complete(before)).toBe(false);
    expect(tracker.track("t", 0, 30, 0)!.rewound).toBe(false); // fetched again from the committed offset
  });

  test("a consumer re-claiming a partition it is still revoking starts a new generation", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    const old = ticket(tracker, 5);
    tracker.beginRevoke(0, [P0], 2);
    tracker.assign(0, [P0], 3);
    expect(tracker.complete(old)).toBe(false);
    expect(tracker.release(0, [partitionKey("t", 0)])).toEqual([]); // the new claim is not being revoked
  });

  test("forgetOwner drops everything a gone consumer owned", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    tracker.assign(1, [P1], 1);
    ticket(tracker, 1, 0, 0);
    expect(tracker.forgetOwner(0)).toEqual([partitionKey("t", 0)]);
    expect(tracker.describe().map((p) => p.owner)).toEqual([1]);
  });

  test("a failed commit is asked for again, unless the partition moved meanwhile", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    tracker.complete(ticket(tracker, 1));
    const [commit] = tracker.takeCommits();
    tracker.retryCommit(commit!);
    expect(tracker.takeCommits()).toEqual([commit!]);
    tracker.assign(1, [P0], 2);
    tracker.retryCommit(commit!);
    expect(tracker.takeCommits()).toEqual([]);
  });

  test("duplicate completion is ignored; long runs compact without losing position", () => {
    const tracker = new OffsetTracker();
    tracker.assign(0, [P0], 1);
    const tickets = Array.from({ length: 20_000 }, (_, i) => ticket(tracker, i));
    for (const t of tickets.slice(0, 15_000)) expect(tracker.complete(t)).toBe(true);
    expect(tracker.complete(tickets[0]!)).toBe(false);
    expect(tracker.takeCommits()[0]!.offset).toBe(15_000);
    for (const t of tickets.slice(15_000).reverse()) tracker.complete(t);
    expect(tracker.takeCommits()[0]!.offset).toBe(20_000);
  });
});

describe("offset tracker: refetch rounds (exactly-once)", () => {
  const tracks = (tracker: OffsetTracker, owner: number, partition: number, offset: number) =>
    tracker.track("t", partition, offset, owner) !== null;

  test("until its refetched frame of the round, an owner's partitions are stale, also those claimed in between", () => {
    const tracker = new OffsetTracker(true);
    tracker.assign(0, [P0], 1);
    expect(tracks(tracker, 0, 0, 0)).toBe(true);
    const { keys, round } = tracker.beginRefetch([0]);
    expect(keys).toEqual([partitionKey("t", 0)]);
    expect(tracks(tracker, 0, 0, 1)).toBe(false);
    tracker.assign(0, [P0, P1], 2); // a rebalance's frame, read before the refetched one
    expect(tracks(tracker, 0, 1, 0)).toBe(false);
    expect(tracker.takeCommits()).toEqual([]);
    tracker.assign(0, [P0, P1], 3, round);
    expect(tracks(tracker, 0, 0, 0)).toBe(true);
    expect(tracks(tracker, 0, 1, 0)).toBe(true);
  });

  test("two aborts before an owner's refetched frame: the frame for the first round does not end the second", () => {
    const tracker = new OffsetTracker(true);
    tracker.assign(0, [P0], 1);
    tracker.assign(1, [P1], 1);
    const first = tracker.beginRefetch([0, 1]).round;
    tracker.assign(1, [P1], 2, first);
    expect(tracks(tracker, 1, 1, 0)).toBe(true);
    const second = tracker.beginRefetch([0, 1]).round;
    expect(second).toBeGreaterThan(first);
    tracker.assign(0, [P0], 2, first); // consumer 0 had taken in only the first refetch when it wrote this frame
    expect(tracks(tracker, 0, 0, 0)).toBe(false);
    expect(tracks(tracker, 1, 1, 1)).toBe(false);
    tracker.assign(0, [P0], 3, second);
    tracker.assign(1, [P1], 3, second);
    expect(tracks(tracker, 0, 0, 0)).toBe(true);
    expect(tracks(tracker, 1, 1, 0)).toBe(true);
  });

  test("a consumer that is gone is not waited for: its next life starts fresh", () => {
    const tracker = new OffsetTracker(true);
    tracker.assign(0, [P0], 1);
    tracker.beginRefetch([0]);
    tracker.forgetOwner(0);
    tracker.assign(0, [P0], 2);
    expect(tracks(tracker, 0, 0, 0)).toBe(true);
  });
});
