/**
 * Exactly-once mode: a record's outputs leave for the producer only once every earlier record of its partition
 * has left. Records still run in parallel (per key); only their release is in partition order, so what sits in
 * a producer's ring is always the outputs of a prefix of each partition, and a transaction can end at any point
 * with offsets that cover exactly what it holds. A record waiting for a retry therefore holds back the release
 * (not the processing) of the records after it in its partition, bounded by --max-uncommitted.
 */
import type { Ticket } from "../offsets/offset-tracker.ts";

/** Writes a finished record's outputs (or nothing) and marks it complete; runs once, in partition order. */
export type Release = () => void;

interface PartitionQueue {
  readonly generation: number;
  /** Offsets in arrival order; those before `head` are released. */
  offsets: number[];
  head: number;
  readonly finished: Map<number, Release>;
}

export class ReleaseGate {
  private readonly partitions = new Map<string, PartitionQueue>();

  /** A record was taken in: it gets its place in its partition's order. */
  expect(ticket: Ticket): void {
    let queue = this.partitions.get(ticket.partitionKey);
    if (queue === undefined || queue.generation !== ticket.generation) {
      queue = { generation: ticket.generation, offsets: [], head: 0, finished: new Map() };
      this.partitions.set(ticket.partitionKey, queue);
    }
    queue.offsets.push(ticket.offset);
  }

  /**
   * A record is finished: `release` runs now if every earlier record of its partition is released, else when
   * they are. Returns false for a record whose partition was forgotten or restarted (nothing will run).
   */
  finish(ticket: Ticket, release: Release): boolean {
    const queue = this.partitions.get(ticket.partitionKey);
    if (queue === undefined || queue.generation !== ticket.generation) return false;
    queue.finished.set(ticket.offset, release);
    this.flush(queue);
    return true;
  }

  /** Finished records waiting for an earlier one, over all partitions. */
  get waiting(): number {
    let total = 0;
    for (const queue of this.partitions.values()) total += queue.finished.size;
    return total;
  }

  /** The partition's records will never be released (revoked, restarted, or its consumer is gone). */
  forget(partitionKey: string): void {
    this.partitions.delete(partitionKey);
  }

  clear(): void {
    this.partitions.clear();
  }

  private flush(queue: PartitionQueue): void {
    for (;;) {
      const offset = queue.offsets[queue.head];
      if (offset === undefined) break;
      const release = queue.finished.get(offset);
      if (release === undefined) break;
      queue.finished.delete(offset);
      queue.head++;
      release();
    }
    const { head } = queue;
    if (head > 4096 && head * 2 > queue.offsets.length) {
      queue.offsets = queue.offsets.slice(head);
      queue.head = 0;
    }
  }
}
