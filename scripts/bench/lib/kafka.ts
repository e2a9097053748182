/** The benchmarks' Kafka bookkeeping: the topics and groups they create (deleted afterwards), on the shared admin wrapper. */
import { FetchIsolationLevels } from "@platformatic/kafka";
import { KafkaAdmin } from "../../lib/kafka-admin.ts";

export class BenchKafka extends KafkaAdmin {
  readonly topics: string[] = [];
  readonly groups: string[] = [];

  constructor(brokers: readonly string[]) {
    super(brokers, "processor-bench-admin", { retries: 3 });
  }

  /** Creates a topic (one replica) that cleanup() deletes. */
  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<string> {
    await this.createTopics([name], partitions, 1, configs);
    this.topics.push(name);
    return name;
  }

  private readonly partitionCounts = new Map<string, number>();

  /**
   * Last stable offset of every partition of `topic`: the end offset a read_committed consumer sees (before the first
   * open transaction; equal to the high watermark when none is open). Transaction markers take offsets too, so this
   * is no record count.
   */
  async stableOffsets(topic: string): Promise<number[]> {
    return this.use(async (admin) => {
      let partitions = this.partitionCounts.get(topic);
      if (partitions === undefined) {
        const meta = await admin.metadata({ topics: [topic] });
        partitions = meta.topics.get(topic)?.partitionsCount ?? 0;
        if (partitions > 0) this.partitionCounts.set(topic, partitions);
      }
      const result = await admin.listOffsets({
        topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, timestamp: -1n })) }],
        isolationLevel: FetchIsolationLevels.READ_COMMITTED,
      });
      const offsets = new Array<number>(partitions).fill(0);
      for (const p of result[0]?.partitions ?? []) offsets[p.partitionIndex] = Number(p.offset);
      return offsets;
    });
  }

  /**
   * An exactly-once contender is done with `input` when its group's committed offsets reach the input's end (offsets
   * commit in the same transaction as the outputs) and no transaction is open on its output topics (the commit
   * markers are written to every partition). `stable`: the sum of the outputs' read_committed end offsets (markers
   * included: it only tells whether committed output exists).
   */
  async transactionsSettled(
    group: string,
    input: string,
    inputEnds: readonly number[],
    outputs: readonly string[],
  ): Promise<{ done: boolean; allCommitted: boolean; committed: Map<number, number>; stable: number }> {
    const [committed, ...pairs] = await Promise.all([
      this.committed(group, input),
      ...outputs.map((t) => Promise.all([this.endOffsets(t), this.stableOffsets(t)])),
    ]);
    const allCommitted = inputEnds.every((end, p) => end === 0 || (committed.get(p) ?? -1) >= end);
    const noneOpen = pairs.every(([ends, stable]) => ends.every((end, p) => stable[p] === end));
    let stable = 0;
    for (const [, offsets] of pairs) for (const x of offsets) stable += x;
    return { done: allCommitted && noneOpen, allCommitted, committed, stable };
  }

  /** Remembers a group so cleanup() deletes it. */
  group(name: string): string {
    this.groups.push(name);
    return name;
  }

  /** Deletes every topic and group created so far (best effort: a group still shutting down may refuse). */
  async cleanup(): Promise<string> {
    const topics = this.topics.splice(0);
    const groups = this.groups.splice(0);
    await this.deleteTopics(topics);
    let groupsDeleted = 0;
    // one by one: a single refusing group must not keep the others. A member killed a moment ago may still count
    // until the broker notices (non-empty group): each is retried for a while.
    for (const group of groups) if (await this.deleteGroup(group, 10_000)) groupsDeleted++;
    return `deleted ${topics.length} topics and ${groupsDeleted}/${groups.length} groups`;
  }
}
