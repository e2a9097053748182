/**
 * Per partition, the offset the group had committed when this member last joined, raised by its own commits.
 * A member that was fenced (frozen past its session, say) and joins again must not commit its old, lower
 * progress over what the partition's owner committed meanwhile. Pure bookkeeping: the reads come from outside.
 */
import type { Consumer } from "@platformatic/kafka";
import { partitionKey } from "../offsets/offset-tracker.ts";
import { sleep } from "./errors.ts";
import type { CommitOffset } from "../threads/messages.ts";

/** Committed offsets per topic, indexed by partition (negative: none), as the Kafka client returns them. */
export type GroupOffsets = ReadonlyMap<string, readonly bigint[]>;

/** How long commits wait for the group's offsets after a join (the read can stall while the group forms). */
export const FLOOR_TIMEOUT_MS = 3_000;

export interface CommitPlan {
  /** Requested offsets of partitions this member may commit. */
  readonly owned: readonly CommitOffset[];
  /** Of those, at or below the group's offset: nothing to send, the group already has them. */
  readonly covered: readonly CommitOffset[];
  /** The rest: what to send. */
  readonly toSend: readonly CommitOffset[];
}

export class CommitFloor {
  private readonly floor = new Map<string, number>();
  private loaded: Promise<void> = Promise.resolve();

  /** The group's offset for a partition as far as known; -1 when none. */
  get(topic: string, partition: number): number {
    return this.floor.get(partitionKey(topic, partition)) ?? -1;
  }

  /** Never lowers: an offset below the known one changes nothing. */
  raise(topic: string, partition: number, offset: number): void {
    const key = partitionKey(topic, partition);
    this.floor.set(key, Math.max(offset, this.floor.get(key) ?? -1));
  }

  /** Takes in the group's committed offsets (a negative one means none committed). */
  absorb(committed: GroupOffsets): void {
    for (const [topic, partitions] of committed) {
      partitions.forEach((offset, partition) => {
        if (offset >= 0n) this.raise(topic, partition, Number(offset));
      });
    }
  }

  /** Loads the floor of `consumer`'s current assignment (nothing to load without one). */
  loadFor(
    consumer: Pick<Consumer<Buffer, Buffer, Buffer, Buffer>, "assignments" | "listCommittedOffsets">,
    onError: (error: unknown) => void,
  ): void {
    const topics = (consumer.assignments ?? []).map(({ topic, partitions }) => ({ topic, partitions: [...partitions] }));
    if (topics.length === 0) return;
    this.load(() => consumer.listCommittedOffsets({ topics }), onError);
  }

  /**
   * Reads the group's offsets with `read` (given up after `timeoutMs`, reported to `onError`); commits wait for
   * it through `ready`.
   */
  load(read: () => Promise<GroupOffsets>, onError: (error: unknown) => void, timeoutMs = FLOOR_TIMEOUT_MS): void {
    this.loaded = (async () => {
      try {
        const timeout = sleep(timeoutMs).then(() => {
          throw new Error(`no answer within ${timeoutMs} ms`);
        });
        this.absorb(await Promise.race([read(), timeout]));
      } catch (error) {
        onError(error);
      }
    })();
  }

  /** Resolves once the last load is done (or given up). */
  ready(): Promise<void> {
    return this.loaded;
  }

  /** Splits a commit request: what this member may commit, what the group already has, what to send. */
  plan(offsets: readonly CommitOffset[], committable: (topic: string, partition: number) => boolean): CommitPlan {
    const owned = offsets.filter((o) => committable(o.topic, o.partition));
    const covered = owned.filter((o) => o.offset <= this.get(o.topic, o.partition));
    const toSend = owned.filter((o) => o.offset > this.get(o.topic, o.partition));
    return { owned, covered, toSend };
  }
}
