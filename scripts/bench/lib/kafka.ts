/** Admin helpers of the benchmarks: topics and groups they create (and delete afterwards), offsets they poll. */
import { Admin } from "@platformatic/kafka";
import { endOffsets } from "../../lib/end-offsets.ts";

export class BenchKafka {
  readonly admin: Admin;
  readonly topics: string[] = [];
  readonly groups: string[] = [];

  constructor(readonly brokers: readonly string[]) {
    this.admin = new Admin({ clientId: "processor-bench-admin", bootstrapBrokers: [...brokers], retries: 3 });
  }

  async createTopic(name: string, partitions: number, configs: Record<string, string> = {}): Promise<string> {
    await this.admin.createTopics({
      topics: [name],
      partitions,
      replicas: 1,
      configs: Object.entries(configs).map(([key, value]) => ({ name: key, value })),
    });
    this.topics.push(name);
    return name;
  }

  /** Remembers a group so cleanup() deletes it. */
  group(name: string): string {
    this.groups.push(name);
    return name;
  }

  endOffsets(topic: string): Promise<number[]> {
    return endOffsets(this.admin, topic);
  }

  async committed(group: string, topic: string): Promise<Map<number, number>> {
    const [offsets] = await this.admin.listConsumerGroupOffsets({ groups: [group] });
    const committed = new Map<number, number>();
    for (const p of offsets?.topics.find((t) => t.name === topic)?.partitions ?? []) committed.set(p.partitionIndex, Number(p.committedOffset));
    return committed;
  }

  /** Deletes every topic and group created so far (best effort: a group still shutting down may refuse). */
  async cleanup(): Promise<string> {
    const topics = this.topics.splice(0);
    const groups = this.groups.splice(0);
    if (topics.length > 0) await this.admin.deleteTopics({ topics }).catch(() => undefined);
    let groupsDeleted = 0;
    for (const group of groups) {
      // one by one: a single refusing group must not keep the others. A member killed a moment ago may still count
      // until the broker notices (non-empty group): retry for a while; a group that never committed does not exist.
      for (let attempt = 0; attempt < 10; attempt++) {
        const error = await this.admin.deleteGroups({ groups: [group] }).then(() => null, (e: unknown) => e);
        if (error === null) groupsDeleted++;
        if (error === null) break;
        if (!/NON_EMPTY|not empty|NonEmpty/i.test(describe(error))) {
          if (process.env.BENCH_DEBUG) console.error(`deleting group ${group}: ${describe(error)}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 1000));
      }
    }
    return `deleted ${topics.length} topics and ${groupsDeleted}/${groups.length} groups`;
  }

  close(): Promise<void> {
    return this.admin.close().catch(() => undefined);
  }
}

/** The message of an error and of the errors it wraps (the client nests the broker's error codes). */
function describe(error: unknown): string {
  if (!(error instanceof Error)) return String(error);
  const nested = (error as Error & { errors?: unknown[] }).errors ?? [];
  return [error.message, JSON.stringify(error), ...nested.map(describe)].join(" ");
}
