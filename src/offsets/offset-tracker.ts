/**
 * Per-partition completion tracking for at-least-once commits.
 *
 * Each tracked record gets a ticket naming the partition's generation. A partition's generation changes when it
 * is revoked or when the consumer rewinds it (a record at or before one already seen: the group moved it and it
 * is being fetched again from the committed offset). Completions carrying an old generation are ignored, so a
 * result finished under a previous assignment can never move a commit.
 */
import { PartitionOffsets } from "./partition-offsets.ts";

export interface Ticket {
  readonly partitionKey: string;
  readonly generation: number;
  readonly offset: number;
}

export interface CommitRequest {
  readonly topic: string;
  readonly partition: number;
  /** Next offset to read: one past the last completed record. */
  readonly offset: number;
  readonly owner: number;
}

interface PartitionEntry {
  readonly topic: string;
  readonly partition: number;
  owner: number;
  offsets: PartitionOffsets;
  /** Highest commit point handed out by takeCommits (confirmed or not). */
  requested: number | null;
}

export function partitionKey(topic: string, partition: number): string {
  return `${topic}\u0000${partition}`;
}

export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionEntry>();
  private generations = 0;

  /**
   * Starts tracking a record. Returns the ticket and, when the record rewinds the partition, `rewound: true`:
   * the caller must drop that partition's older work (it will be delivered again).
   */
  track(topic: string, partition: number, offset: number, owner: number): { ticket: Ticket; rewound: boolean } {
    const key = partitionKey(topic, partition);
    let entry = this.partitions.get(key);
    let rewound = false;
    if (!entry) {
      entry = { topic, partition, owner, offsets: new PartitionOffsets(++this.generations), requested: null };
      this.partitions.set(key, entry);
    } else if (offset <= entry.offsets.lastSeen || entry.owner !== owner) {
      rewound = true;
      entry.owner = owner;
      entry.offsets = new PartitionOffsets(++this.generations);
      entry.requested = null;
    }
    entry.offsets.add(offset);
    return { ticket: { partitionKey: key, generation: entry.offsets.generation, offset }, rewound };
  }

  /** Records that a ticket's output (or its dead-letter copy) is safely in Kafka. */
  complete(ticket: Ticket): boolean {
    const entry = this.partitions.get(ticket.partitionKey);
    if (!entry || entry.offsets.generation !== ticket.generation) return false;
    return entry.offsets.complete(ticket.offset);
  }

  isCurrent(ticket: Ticket): boolean {
    return this.partitions.get(ticket.partitionKey)?.offsets.generation === ticket.generation;
  }

  /** Forgets a partition: its in-flight tickets become stale. */
  revoke(topic: string, partition: number): void {
    this.partitions.delete(partitionKey(topic, partition));
  }

  /** Forgets every partition owned by `owner` that is not in `keep` (keys from partitionKey). */
  retainOwned(owner: number, keep: ReadonlySet<string>): string[] {
    const dropped: string[] = [];
    for (const [key, entry] of this.partitions) {
      if (entry.owner === owner && !keep.has(key)) {
        this.partitions.delete(key);
        dropped.push(key);
      }
    }
    return dropped;
  }

  /** Commit points that moved since the last call, one per partition. */
  takeCommits(): CommitRequest[] {
    const commits: CommitRequest[] = [];
    for (const entry of this.partitions.values()) {
      const point = entry.offsets.commitPoint;
      if (point === null || point === entry.requested) continue;
      entry.requested = point;
      commits.push({ topic: entry.topic, partition: entry.partition, offset: point, owner: entry.owner });
    }
    return commits;
  }

  /** A commit that failed must be asked for again on the next round. */
  retryCommit(commit: CommitRequest): void {
    const entry = this.partitions.get(partitionKey(commit.topic, commit.partition));
    if (entry && entry.requested === commit.offset) entry.requested = null;
  }

  /** Per partition: where commits stand and which record holds them back (for progress reports). */
  describe(): Array<{ topic: string; partition: number; owner: number; commitPoint: number | null; oldestInFlight: number | null; inFlight: number; lastSeen: number }> {
    return [...this.partitions.values()].map((e) => ({
      topic: e.topic,
      partition: e.partition,
      owner: e.owner,
      commitPoint: e.offsets.commitPoint,
      oldestInFlight: e.offsets.oldestInFlight,
      inFlight: e.offsets.inFlight,
      lastSeen: e.offsets.lastSeen,
    }));
  }

  get inFlight(): number {
    let total = 0;
    for (const entry of this.partitions.values()) total += entry.offsets.inFlight;
    return total;
  }
}
