/**
 * Which partitions this member owns, which it is handing over (commit on revoke), and whether a fetched record
 * still belongs to the current assignment. No I/O: the consumer loop feeds it the client's assignments.
 */
import { partitionKey } from "../offsets/offset-tracker.ts";
import type { PartitionRef, SerialMessage, Stream } from "./patched-stream.ts";

export type Assignments = ReadonlyArray<{ topic: string; partitions: readonly number[] }>;

export function keysOf(assignments: Assignments): Set<string> {
  return new Set(assignments.flatMap(({ topic, partitions }) => partitions.map((p) => partitionKey(topic, p))));
}

export function signatureOf(keys: Iterable<string>): string {
  return [...keys].sort().join(";");
}

export function partitionsOf(assignments: Assignments): PartitionRef[] {
  return assignments.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition })));
}

export const describePartitions = (partitions: readonly PartitionRef[]): string =>
  partitions.map((p) => `${p.topic}/${p.partition}`).join(",");

export class AssignmentTracker {
  /** Partitions whose records go to the main thread. */
  private assigned = new Set<string>();
  /** Partitions handed to the main thread to finish: still committable, no new records. */
  private readonly revoking = new Set<string>();
  /** Per revoked partition, the stream and assignment serial its stale records carry. */
  private readonly revokedSerials = new Map<string, { stream: Stream; serial: number | undefined }>();
  /** The assignment last passed on; null before the first. */
  private signature: string | null = null;

  get size(): number {
    return this.assigned.size;
  }

  owns(topic: string, partition: number): boolean {
    return this.assigned.has(partitionKey(topic, partition));
  }

  /** Owned, or being handed over: its finished records may still be committed. */
  committable(topic: string, partition: number): boolean {
    const key = partitionKey(topic, partition);
    return this.assigned.has(key) || this.revoking.has(key);
  }

  /** The owned partitions. */
  owned(): PartitionRef[] {
    return [...this.assigned].map((key) => {
      const at = key.indexOf("\u0000");
      return { topic: key.slice(0, at), partition: Number(key.slice(at + 1)) };
    });
  }

  /** The owned partitions, sorted, for logs. */
  describe(): string {
    return [...this.assigned]
      .map((k) => k.replace("\u0000", "/"))
      .sort()
      .join(",");
  }

  /**
   * The client's assignment without the partitions being revoked (it still lists them until the revocation is
   * done) if it differs from the one last passed on, else null. A returned assignment is adopted.
   */
  changed(clientAssignments: Assignments | null | undefined): Assignments | null {
    const current = (clientAssignments ?? []).map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.filter((p) => !this.revoking.has(partitionKey(topic, p))),
    }));
    const signature = signatureOf(keysOf(current));
    if (signature === this.signature) return null;
    this.signature = signature;
    this.assigned = keysOf(current);
    return current;
  }

  /** Forgets every partition (after an expulsion); the next client assignment, even the same, is a change. */
  reset(): void {
    this.assigned = new Set();
    this.signature = "";
  }

  /**
   * The group takes partitions away: those owned stop being owned (their records fetched on `stream` so far are
   * stale) but stay committable until `endRevoke`. Returns the owned ones.
   */
  beginRevoke(revoked: Assignments, stream: Stream | null): PartitionRef[] {
    const partitions = partitionsOf(revoked).filter(({ topic, partition }) => this.owns(topic, partition));
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      this.assigned.delete(key);
      this.revoking.add(key);
      if (stream !== null) this.revokedSerials.set(key, { stream, serial: stream.assignmentSerial(topic, partition) });
    }
    // Whatever assignment holds them again is a change, and gets a frame of its own.
    if (partitions.length > 0) this.signature = signatureOf(this.assigned);
    return partitions;
  }

  endRevoke(partitions: readonly PartitionRef[]): void {
    for (const { topic, partition } of partitions) this.revoking.delete(partitionKey(topic, partition));
  }

  /**
   * Whether a record of an owned partition was fetched under its current assignment: a partition revoked and
   * given back starts again from its committed offset, and records buffered before carry an older serial.
   */
  fetchedUnderCurrent(stream: Stream, message: SerialMessage): boolean {
    const serial = message.assignmentSerial;
    if (serial !== stream.assignmentSerial(message.topic, message.partition)) return false;
    const revoked = this.revokedSerials.get(partitionKey(message.topic, message.partition));
    return revoked === undefined || revoked.stream !== stream || revoked.serial !== serial;
  }
}
