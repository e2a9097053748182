/** Frames a test rig writes into a consumer ring, the way the consumer Worker writes them. */
import type { AssignmentChange } from "../../src/threads/messages.ts";
import type { WireRecord } from "../../src/threads/record-codec.ts";

/** An assignment frame (number `ref`): from `ts` on, the ring's consumer owns exactly `partitions` of `topic`. */
export function assignmentFrame(ref: number, topic: string, partitions: readonly number[], ts: number): WireRecord {
  const change: AssignmentChange = { partitions: partitions.map((partition) => ({ topic, partition })) };
  return {
    ref,
    topic: "",
    kind: "assignment",
    partition: -1,
    offset: 0,
    timestamp: ts,
    key: null,
    value: new TextEncoder().encode(JSON.stringify(change)),
    headers: [],
  };
}
