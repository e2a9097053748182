/** The pure pieces split out of the consumer loop: assignment tracking, flow control, lag entries, faults. */
import { afterEach, describe, expect, test } from "bun:test";
import { AssignmentTracker, keysOf, signatureOf } from "../../src/kafka/assignment.ts";
import { consumerFaults } from "../../src/kafka/fault-injection.ts";
import { PausedPartitions } from "../../src/kafka/flow-control.ts";
import { lagEntries } from "../../src/kafka/lag-reporter.ts";
import type { SerialMessage, Stream } from "../../src/kafka/patched-stream.ts";

/** A stream stub: the assignment serial per partition, and the pause/resume calls it got. */
function fakeStream(serials: Record<string, number> = {}) {
  const calls: string[] = [];
  const stream = {
    assignmentSerial: (topic: string, partition: number) => serials[`${topic}/${partition}`],
    pausePartitions: (topic: string, partitions: readonly number[]) => calls.push(`pause ${topic}/${partitions.join(",")}`),
    resumePartitions: (topic: string, partitions: readonly number[]) => calls.push(`resume ${topic}/${partitions.join(",")}`),
  } as unknown as Stream;
  return { stream, calls, serials };
}

const message = (partition: number, assignmentSerial: number | undefined) =>
  ({ topic: "t", partition, assignmentSerial }) as unknown as SerialMessage;

describe("assignment tracker", () => {
  test("an assignment is a change once; the same one again is not", () => {
    const tracker = new AssignmentTracker();
    expect(tracker.changed([{ topic: "t", partitions: [1, 0] }])).toEqual([{ topic: "t", partitions: [1, 0] }]);
    expect(tracker.owns("t", 0) && tracker.owns("t", 1)).toBe(true);
    expect(tracker.changed([{ topic: "t", partitions: [0, 1] }])).toBeNull();
    expect(tracker.describe()).toBe("t/0,t/1");
  });

  test("the first assignment, even an empty one, is passed on; after a reset the same one is a change again", () => {
    const tracker = new AssignmentTracker();
    expect(tracker.changed(null)).toEqual([]);
    expect(tracker.changed([{ topic: "t", partitions: [0] }])).not.toBeNull();
    tracker.reset();
    expect(tracker.size).toBe(0);
    expect(tracker.changed([{ topic: "t", partitions: [0] }])).toEqual([{ topic: "t", partitions: [0] }]);
  });

  test("partitions being revoked are no longer owned but still committable, and not part of the assignment", () => {
    const tracker = new AssignmentTracker();
    tracker.changed([{ topic: "t", partitions: [0, 1, 2] }]);
    const { stream } = fakeStream({ "t/1": 4 });
    const handed = tracker.beginRevoke([{ topic: "t", partitions: [1, 7] }], stream);
    expect(handed).toEqual([{ topic: "t", partition: 1 }]); // 7 was never owned
    expect(tracker.owns("t", 1)).toBe(false);
    expect(tracker.committable("t", 1)).toBe(true);
    // the client still lists it until the revocation is done: no change
    expect(tracker.changed([{ topic: "t", partitions: [0, 1, 2] }])).toBeNull();
    tracker.endRevoke(handed);
    expect(tracker.committable("t", 1)).toBe(false);
  });

  test("revoking nothing owned changes nothing", () => {
    const tracker = new AssignmentTracker();
    tracker.changed([{ topic: "t", partitions: [0] }]);
    expect(tracker.beginRevoke([{ topic: "t", partitions: [3] }], null)).toEqual([]);
    expect(tracker.changed([{ topic: "t", partitions: [0] }])).toBeNull();
  });

  test("a partition revoked and given back: records buffered before carry the old serial and are stale", () => {
    const tracker = new AssignmentTracker();
    tracker.changed([{ topic: "t", partitions: [0] }]);
    const { stream, serials } = fakeStream({ "t/0": 1 });
    expect(tracker.fetchedUnderCurrent(stream, message(0, 1))).toBe(true);
    tracker.endRevoke(tracker.beginRevoke([{ topic: "t", partitions: [0] }], stream));
    // given back under the same serial (the client has not moved on yet): still stale
    expect(tracker.changed([{ topic: "t", partitions: [0] }])).not.toBeNull();
    expect(tracker.fetchedUnderCurrent(stream, message(0, 1))).toBe(false);
    serials["t/0"] = 2;
    expect(tracker.fetchedUnderCurrent(stream, message(0, 1))).toBe(false);
    expect(tracker.fetchedUnderCurrent(stream, message(0, 2))).toBe(true);
    // a new stream after the revocation does not carry the old one's stale serials
    const fresh = fakeStream({ "t/0": 1 });
    expect(tracker.fetchedUnderCurrent(fresh.stream, message(0, 1))).toBe(true);
  });

  test("keys and signatures do not depend on order", () => {
    expect(
      signatureOf(
        keysOf([
          { topic: "a", partitions: [2, 1] },
          { topic: "b", partitions: [0] },
        ]),
      ),
    ).toBe(
      signatureOf(
        keysOf([
          { topic: "b", partitions: [0] },
          { topic: "a", partitions: [1, 2] },
        ]),
      ),
    );
  });
});

describe("paused partitions (--max-uncommitted)", () => {
  const owned = (topic: string, partition: number) => topic === "t" && partition < 2;
  /** Partition `partition` of topic "t". */
  const t = (partition: number) => ({ topic: "t", partition });

  test("pauses only owned partitions, once; resumes only paused ones", () => {
    const paused = new PausedPartitions();
    const { stream, calls } = fakeStream();
    expect(paused.set([t(0), t(5)], true, owned, stream)).toEqual([t(0)]);
    expect(paused.set([t(0)], true, owned, stream)).toEqual([]);
    expect(paused.set([t(1)], false, owned, stream)).toEqual([]);
    expect(paused.set([t(0)], false, owned, stream)).toEqual([t(0)]);
    expect(calls).toEqual(["pause t/0", "resume t/0"]);
  });

  test("a new stream starts with the paused partitions paused; partitions no longer owned are resumed and forgotten", () => {
    const paused = new PausedPartitions();
    paused.set([t(0), t(1)], true, owned, null);
    const { stream, calls } = fakeStream();
    paused.applyTo(stream);
    expect(calls).toEqual(["pause t/0", "pause t/1"]);
    paused.keepOnly((_topic, partition) => partition === 1, stream);
    expect(calls.slice(2)).toEqual(["resume t/0"]);
    const next = fakeStream();
    paused.applyTo(next.stream);
    expect(next.calls).toEqual(["pause t/1"]);
  });
});

test("lag entries: owned partitions with a known lag only", () => {
  const lag = new Map([
    ["t", [5n, -1n, 7n]],
    ["u", [1n]],
  ]);
  expect(lagEntries(lag, (topic, partition) => topic === "t" && partition !== 2)).toEqual([{ topic: "t", partition: 0, lag: 5 }]);
});

describe("fault injection", () => {
  const global = globalThis as { PROCESSOR_FAULT_INJECTION?: boolean };
  afterEach(() => delete global.PROCESSOR_FAULT_INJECTION);

  test("run from source (the constant undefined) nothing is injected, whatever the environment says", () => {
    expect(consumerFaults(0, { PROCESSOR_FAULT_CRASH_CONSUMER: "0:3000" })).toEqual({});
  });

  test("in the test build: only the named consumer, only a positive count", () => {
    global.PROCESSOR_FAULT_INJECTION = true;
    const env = { PROCESSOR_FAULT_CRASH_CONSUMER: "1:3000" };
    expect(consumerFaults(1, env)).toEqual({ faults: { crashAfterRecords: 3000 } });
    expect(consumerFaults(0, env)).toEqual({});
    expect(consumerFaults(1, { PROCESSOR_FAULT_CRASH_CONSUMER: "1:0" })).toEqual({});
    expect(consumerFaults(1, {})).toEqual({});
    global.PROCESSOR_FAULT_INJECTION = false;
    expect(consumerFaults(1, env)).toEqual({});
  });
});
