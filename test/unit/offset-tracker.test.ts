import { describe, expect, test } from "bun:test";
import { OffsetTracker, partitionKey } from "../../src/offsets/offset-tracker.ts";

describe("offset tracker", () => {
  test("commits only the contiguous completed prefix, with gaps in offsets", () => {
    const tracker = new OffsetTracker();
    const tickets = [10, 11, 13, 14, 20].map((o) => tracker.track("t", 0, o, 0).ticket);
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
    const a = tracker.track("t", 0, 5, 0).ticket;
    const b = tracker.track("t", 1, 7, 0).ticket;
    const c = tracker.track("u", 0, 1, 1).ticket;
    [a, b, c].forEach((t) => tracker.complete(t));
    expect(tracker.takeCommits()).toEqual([
      { topic: "t", partition: 0, offset: 6, owner: 0 },
      { topic: "t", partition: 1, offset: 8, owner: 0 },
      { topic: "u", partition: 0, offset: 2, owner: 1 },
    ]);
  });

  test("a revoked partition ignores late completions and commits nothing", () => {
    const tracker = new OffsetTracker();
    const ticket = tracker.track("t", 0, 1, 0).ticket;
    tracker.revoke("t", 0);
    expect(tracker.complete(ticket)).toBe(false);
    expect(tracker.isCurrent(ticket)).toBe(false);
    expect(tracker.takeCommits()).toEqual([]);
  });

  test("a rewind starts a new generation; old completions cannot move the new commit point", () => {
    const tracker = new OffsetTracker();
    const old = [100, 101, 102].map((o) => tracker.track("t", 0, o, 0).ticket);
    tracker.complete(old[0]!);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 101, owner: 0 }]);
    const again = tracker.track("t", 0, 101, 0);
    expect(again.rewound).toBe(true);
    expect(tracker.complete(old[2]!)).toBe(false);
    expect(tracker.takeCommits()).toEqual([]);
    tracker.complete(again.ticket);
    expect(tracker.takeCommits()).toEqual([{ topic: "t", partition: 0, offset: 102, owner: 0 }]);
  });

  test("moving to another consumer (owner) also starts a new generation", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, 1, 0);
    expect(tracker.track("t", 0, 2, 1).rewound).toBe(true);
  });

  test("retainOwned drops the owner's partitions that were not kept", () => {
    const tracker = new OffsetTracker();
    tracker.track("t", 0, 1, 0);
    tracker.track("t", 1, 1, 0);
    tracker.track("t", 2, 1, 1);
    expect(tracker.retainOwned(0, new Set([partitionKey("t", 1)]))).toEqual([partitionKey("t", 0)]);
    expect(tracker.inFlight).toBe(2);
  });

  test("a failed commit is asked for again", () => {
    const tracker = new OffsetTracker();
    tracker.complete(tracker.track("t", 0, 1, 0).ticket);
    const [commit] = tracker.takeCommits();
    tracker.retryCommit(commit!);
    expect(tracker.takeCommits()).toEqual([commit!]);
  });

  test("duplicate completion is ignored; long runs compact without losing position", () => {
    const tracker = new OffsetTracker();
    const tickets = Array.from({ length: 20_000 }, (_, i) => tracker.track("t", 0, i, 0).ticket);
    for (const t of tickets.slice(0, 15_000)) expect(tracker.complete(t)).toBe(true);
    expect(tracker.complete(tickets[0]!)).toBe(false);
    expect(tracker.takeCommits()[0]!.offset).toBe(15_000);
    for (const t of tickets.slice(15_000).reverse()) tracker.complete(t);
    expect(tracker.takeCommits()[0]!.offset).toBe(20_000);
  });
});
