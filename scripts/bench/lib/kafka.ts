/** The benchmarks' Kafka bookkeeping: the topics and groups they create (deleted afterwards), on the shared admin wrapper. */
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
