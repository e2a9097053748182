/**
 * Per-partition completion tracking for at-least-once commits.
 *
 * A partition is tracked for the consumer that owns it, and ownership comes only from assignment frames (and
 * revocations): a record of a partition arriving from any other consumer of the process, or after its partition
 * started being revoked, is stale and not tracked. Each tracked record gets a ticket naming the partition's
 * generation. The generation changes when ownership changes or when the owner rewinds the partition (a record at
 * or before one already seen: its stream was re-created and fetches again from the committed offset).
 * Completions carrying an old generation are ignored, so a result finished under a previous assignment can
 * never move a commit.
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
  readonly owner: number;
  /** Being taken away: no new records, the in-flight ones finish and are committed. */
  revoking: boolean;
  /**
   * Exactly-once mode, after an aborted transaction: the owner reads the partition again from its committed
   * offset; every record until its `refetched` assignment frame is stale.
   */
  refetching: boolean;
  offsets: PartitionOffsets;
  /** Highest commit point handed out by takeCommits (confirmed or not). */
  requested: number | null;
  /** Exactly-once mode: the commit point last committed in a transaction. */
  confirmed: number | null;
}

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export interface AssignResult {
  /** Partitions this owner took over from another consumer of the process: that consumer's work is stale. */
  readonly moved: string[];
  /** Partitions this owner no longer has. */
  readonly dropped: string[];
}

export type TrackResult = { readonly ticket: Ticket; readonly rewound: boolean } | null;

/** One string per partition, made once: a per-record key would be a new string to allocate and hash every time. */
const partitionKeys = new Map<string, string[]>();

export function partitionKey(topic: string, partition: number): string {
  let keys = partitionKeys.get(topic);
  if (keys === undefined) partitionKeys.set(topic, (keys = []));
  return (keys[partition] ??= `${topic}\u0000${partition}`);
}

export class OffsetTracker {
  private readonly partitions = new Map<string, PartitionEntry>();
  /** Per partition, the last revocation: a claim by the same consumer from before it is stale. */
  private readonly revocations = new Map<string, { readonly owner: number; readonly at: number }>();
  /**
   * Per partition, the latest claim or release read from any consumer's frames: a claim by another consumer
   * from before it is stale, whether that consumer still tracks the partition or not (frames are read late).
   */
  private readonly lastChange = new Map<string, { readonly owner: number; readonly at: number }>();
  private generations = 0;
  /**
   * Exactly-once mode: partitions dropped (or restarted) with records completed past their last committed offset.
   * Their outputs are in an open transaction that must not commit (see takeDirty).
   */
  private dirty: string[] = [];
  /**
   * Exactly-once mode: per consumer, the refetch round it was last asked for while its `refetched` frame for that
   * round is not read yet. Its partitions are stale until then, also those in frames read before it: they were
   * fetched before the refetch, from offsets the replay may already have committed past.
   */
  private readonly awaitingRefetch = new Map<number, number>();
  private refetchRounds = 0;

  constructor(private readonly exactlyOnce = false) {}

  /** Exactly-once mode: the partitions that left with uncommitted outputs since the last call. */
  takeDirty(): string[] {
    const dirty = this.dirty;
    this.dirty = [];
    return dirty;
  }

  /** Exactly-once mode: these commit points are committed (their transaction committed). */
  confirm(commits: readonly CommitRequest[]): void {
    for (const commit of commits) {
      const entry = this.partitions.get(partitionKey(commit.topic, commit.partition));
      if (entry !== undefined && entry.owner === commit.owner) entry.confirmed = Math.max(entry.confirmed ?? 0, commit.offset);
    }
  }

  /** An entry (or its offsets) is about to go: in exactly-once mode, outputs it released uncommitted doom the transaction. */
  private leaving(key: string, entry: PartitionEntry): void {
    const point = entry.offsets.commitPoint;
    if (this.exactlyOnce && point !== null && point !== entry.confirmed) this.dirty.push(key);
  }

  /**
   * An assignment frame: `owner` owns exactly `partitions` from `claimedAt` on. A partition another consumer
   * claimed later stays with that consumer; one claimed earlier by another consumer moves to this one.
   * `refetchRound`: the frame starts the re-read asked for by that round of beginRefetch.
   */
  assign(owner: number, partitions: readonly PartitionRef[], claimedAt: number, refetchRound: number | null = null): AssignResult {
    // a frame for an older round than the one asked for last is one more frame read before the refetch
    const awaited = this.awaitingRefetch.get(owner);
    const refetched = refetchRound !== null && (awaited === undefined || refetchRound >= awaited);
    if (refetched) this.awaitingRefetch.delete(owner);
    const moved: string[] = [];
    const keep = new Set<string>();
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      const revoked = this.revocations.get(key);
      if (revoked !== undefined && revoked.owner === owner && revoked.at > claimedAt) continue;
      const last = this.lastChange.get(key);
      if (last !== undefined && last.owner !== owner && last.at > claimedAt) continue;
      this.lastChange.set(key, { owner, at: claimedAt });
      const entry = this.partitions.get(key);
      if (entry !== undefined && entry.owner === owner && !entry.revoking && !(refetched && entry.refetching)) {
        keep.add(key);
        continue;
      }
      if (entry !== undefined && entry.owner !== owner) moved.push(key);
      if (entry !== undefined) this.leaving(key, entry);
      this.partitions.set(key, this.newEntry(topic, partition, owner, this.awaitingRefetch.has(owner)));
      keep.add(key);
    }
    const dropped = this.dropOwned(owner, keep);
    for (const key of dropped) this.lastChange.set(key, { owner, at: claimedAt });
    return { moved, dropped };
  }

  private dropOwned(owner: number, keep: ReadonlySet<string>): string[] {
    const dropped: string[] = [];
    for (const [key, entry] of this.partitions) {
      if (entry.owner === owner && !keep.has(key)) {
        this.leaving(key, entry);
        this.partitions.delete(key);
        dropped.push(key);
      }
    }
    return dropped;
  }

  /**
   * Starts tracking a record of `owner`. Returns null for a stale record (its partition is not `owner`'s, or is
   * being revoked). `rewound: true` means the owner fetches the partition again from its committed offset: the
   * caller must drop that partition's older work (it will be delivered again).
   */
  track(topic: string, partition: number, offset: number, owner: number): TrackResult {
    const key = partitionKey(topic, partition);
    const entry = this.partitions.get(key);
    if (entry === undefined || entry.owner !== owner || entry.revoking || entry.refetching) return null;
    let rewound = false;
    if (offset <= entry.offsets.lastSeen) {
      rewound = true;
      this.leaving(key, entry);
      entry.offsets = new PartitionOffsets(++this.generations);
      entry.requested = null;
    }
    entry.offsets.add(offset);
    return { ticket: { partitionKey: key, generation: entry.offsets.generation, offset }, rewound };
  }

  /**
   * Marks `owner`'s partitions as being revoked (the consumer started giving them up at `at`); returns the keys
   * it really owned.
   */
  beginRevoke(owner: number, partitions: readonly PartitionRef[], at: number): string[] {
    const keys: string[] = [];
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      this.revocations.set(key, { owner, at });
      const entry = this.partitions.get(key);
      if (entry === undefined || entry.owner !== owner) continue;
      entry.revoking = true;
      keys.push(key);
    }
    return keys;
  }

  /**
   * Exactly-once mode, a transaction was aborted: every partition is read again from its committed offset. Until
   * its owner's `refetched` frame of this round, its records are stale, and nothing of it is in flight or
   * committable (results still on their way carry an old generation). `owners` are the consumers asked to re-read;
   * a partition one of them claims before that frame is stale too. Returns the keys and the round.
   */
  beginRefetch(owners: Iterable<number>): { keys: string[]; round: number } {
    this.dirty = [];
    const round = ++this.refetchRounds;
    for (const owner of owners) this.awaitingRefetch.set(owner, round);
    for (const entry of this.partitions.values()) {
      entry.refetching = true;
      entry.offsets = new PartitionOffsets(++this.generations);
      entry.requested = null;
    }
    return { keys: [...this.partitions.keys()], round };
  }

  /** Records of these partitions still in flight (tracked, not completed). */
  inFlightOf(keys: readonly string[]): number {
    let total = 0;
    for (const key of keys) total += this.partitions.get(key)?.offsets.inFlight ?? 0;
    return total;
  }

  /** Forgets revoked partitions still owned by `owner`; returns those forgotten. */
  release(owner: number, keys: readonly string[]): string[] {
    const released: string[] = [];
    for (const key of keys) {
      const entry = this.partitions.get(key);
      if (entry !== undefined && entry.owner === owner && entry.revoking) {
        this.leaving(key, entry);
        this.partitions.delete(key);
        released.push(key);
      }
    }
    return released;
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

  /** Forgets every partition owned by `owner` (its consumer is gone); returns their keys. */
  forgetOwner(owner: number): string[] {
    this.awaitingRefetch.delete(owner);
    return this.dropOwned(owner, new Set());
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

  /**
   * The commit points of these partitions, whether handed out before or not: a revocation sends them once more
   * behind any commit still on its way, so the last one before the partitions go is the newest.
   */
  takeCommitsFor(keys: readonly string[]): CommitRequest[] {
    const commits: CommitRequest[] = [];
    for (const key of keys) {
      const entry = this.partitions.get(key);
      const point = entry?.offsets.commitPoint ?? null;
      if (entry === undefined || point === null) continue;
      entry.requested = point;
      commits.push({ topic: entry.topic, partition: entry.partition, offset: point, owner: entry.owner });
    }
    return commits;
  }

  /** Whether any of these partitions has a commit point not yet handed out (or handed out and failed). */
  hasUncommitted(keys: readonly string[]): boolean {
    return keys.some((key) => {
      const entry = this.partitions.get(key);
      return entry !== undefined && entry.offsets.commitPoint !== null && entry.offsets.commitPoint !== entry.requested;
    });
  }

  /** A commit that failed must be asked for again on the next round. */
  retryCommit(commit: CommitRequest): void {
    const entry = this.partitions.get(partitionKey(commit.topic, commit.partition));
    if (entry && entry.owner === commit.owner && entry.requested === commit.offset) entry.requested = null;
  }

  /** Per partition: where commits stand and which record holds them back (for progress reports). */
  describe(): Array<{
    topic: string;
    partition: number;
    owner: number;
    commitPoint: number | null;
    oldestInFlight: number | null;
    inFlight: number;
    lastSeen: number;
    revoking: boolean;
  }> {
    return [...this.partitions.values()].map((e) => ({
      topic: e.topic,
      partition: e.partition,
      owner: e.owner,
      commitPoint: e.offsets.commitPoint,
      oldestInFlight: e.offsets.oldestInFlight,
      inFlight: e.offsets.inFlight,
      lastSeen: e.offsets.lastSeen,
      revoking: e.revoking,
    }));
  }

  /** Records of a partition received and not yet committable: in flight, or done behind one that is. */
  uncommitted(key: string): number {
    return this.partitions.get(key)?.offsets.inFlight ?? 0;
  }

  /** The consumer a partition is tracked for, or undefined. */
  ownerOf(key: string): number | undefined {
    return this.partitions.get(key)?.owner;
  }

  get inFlight(): number {
    let total = 0;
    for (const entry of this.partitions.values()) total += entry.offsets.inFlight;
    return total;
  }

  private newEntry(topic: string, partition: number, owner: number, refetching: boolean): PartitionEntry {
    return {
      topic,
      partition,
      owner,
      revoking: false,
      refetching,
      offsets: new PartitionOffsets(++this.generations),
      requested: null,
      confirmed: null,
    };
  }
}
