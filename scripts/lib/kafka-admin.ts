/**
 * The Kafka administration a chaos run needs, against any broker set (the chaos broker, the cluster or the shared
 * single broker): topics with the append-time stamping the verifier relies on, committed and end offsets, leaders.
 * One long-lived Admin per run; it is rebuilt after an error because a broker restart can leave it unusable.
 */
import { Admin, ConfigResourceTypes, IncrementalAlterConfigOperationTypes } from "@platformatic/kafka";
import { endOffsets } from "../lib/end-offsets.ts";

export class ChaosAdmin {
  private admin: Admin | null = null;

  constructor(readonly brokers: readonly string[]) {}

  private async use<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    this.admin ??= new Admin({ clientId: "processor-chaos-admin", bootstrapBrokers: [...this.brokers], timeout: 5000, retries: 1 });
    try {
      return await work(this.admin);
    } catch (error) {
      const broken = this.admin;
      this.admin = null;
      await broken.close().catch(() => undefined);
      throw error;
    }
  }

  /** Output and DLQ topics get LogAppendTime, so their record timestamps say when each one landed. */
  createTopics(names: readonly string[], partitions: number, replicas: number, configs: Record<string, string> = {}): Promise<unknown> {
    return this.use((admin) => admin.createTopics({ topics: [...names], partitions, replicas, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }));
  }

  async deleteTopics(names: readonly string[]): Promise<void> {
    await this.use((admin) => admin.deleteTopics({ topics: [...names] })).catch(() => undefined);
  }

  /** Whether the group is gone (false: the broker refused, e.g. NON_EMPTY_GROUP while a member is still in it). */
  async deleteGroup(groupId: string): Promise<boolean> {
    return this.use((admin) => admin.deleteGroups({ groups: [groupId] })).then(
      () => true,
      (error: unknown) => {
        // GROUP_ID_NOT_FOUND (69): gone already
        const inner = (error as { errors?: Array<{ response?: { results?: Array<{ errorCode?: number }> } }> }).errors ?? [];
        const codes = inner.flatMap((e) => e.response?.results?.map((r) => r.errorCode) ?? []);
        return codes.length > 0 && codes.every((c) => c === 69);
      },
    );
  }

  endOffsets(topic: string): Promise<number[]> {
    return this.use((admin) => endOffsets(admin, topic));
  }

  /** Committed offset per partition of `topic` (partitions without a commit are absent). */
  committed(groupId: string, topic: string): Promise<Map<number, number>> {
    return this.use(async (admin) => {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
      const result = new Map<number, number>();
      for (const p of group?.topics.find((t) => t.name === topic)?.partitions ?? []) {
        const offset = Number(p.committedOffset);
        if (offset >= 0) result.set(p.partitionIndex, offset);
      }
      return result;
    });
  }

  /** Leader broker id of each partition of `topic`. */
  leaders(topic: string): Promise<number[]> {
    return this.use(async (admin) => {
      const meta = await admin.metadata({ topics: [topic], forceUpdate: true });
      return (meta.topics.get(topic)?.partitions ?? []).map((p) => p.leader);
    });
  }

  /** Sets (or with null removes) one topic config. */
  async setTopicConfig(topic: string, name: string, value: string | null): Promise<void> {
    const config =
      value === null
        ? { name, configOperation: IncrementalAlterConfigOperationTypes.DELETE }
        : { name, configOperation: IncrementalAlterConfigOperationTypes.SET, value };
    await this.use((admin) => admin.incrementalAlterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [config] }] }));
  }

  async topicExists(topic: string): Promise<boolean> {
    return this.use(async (admin) => (await admin.listTopics()).includes(topic));
  }

  async close(): Promise<void> {
    await this.admin?.close().catch(() => undefined);
    this.admin = null;
  }
}

export const sum = (values: Iterable<number>): number => {
  let total = 0;
  for (const v of values) total += v;
  return total;
};
