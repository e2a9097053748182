/**
 * The Kafka administration the scripts and tests need (chaos runs, benchmarks, the demo, the integration tests),
 * against any broker set: topics (with configs such as the append-time stamping the chaos verifier relies on),
 * groups, committed and end offsets, leaders, topic configs. The underlying Admin is created on first use and
 * rebuilt after an error, because a broker restart can leave it unusable.
 */
import { Admin, ConfigResourceTypes, FetchIsolationLevels, IncrementalAlterConfigOperationTypes } from "@platformatic/kafka";

/** Which end of a partition: the high watermark, or the last stable offset (below the first open transaction). */
export type Isolation = "read_uncommitted" | "read_committed";

export interface AdminOptions {
  /** Request time-out, ms (the client's default when absent). */
  readonly timeout?: number;
  readonly retries?: number;
}

export class KafkaAdmin {
  private admin: Admin | null = null;

  constructor(
    readonly brokers: readonly string[],
    private readonly clientId = "processor-admin",
    private readonly options: AdminOptions = {},
  ) {}

  /** Runs `work` with the Admin; on an error the Admin is closed (the next call builds a new one) and the error rethrown. */
  async use<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
    this.admin ??= new Admin({ clientId: this.clientId, bootstrapBrokers: [...this.brokers], ...this.options });
    try {
      return await work(this.admin);
    } catch (error) {
      const broken = this.admin;
      this.admin = null;
      await broken?.close().catch(() => undefined);
      throw error;
    }
  }

  createTopics(names: readonly string[], partitions: number, replicas = 1, configs: Record<string, string> = {}): Promise<unknown> {
    return this.use((admin) =>
      admin.createTopics({
        topics: [...names],
        partitions,
        replicas,
        configs: Object.entries(configs).map(([name, value]) => ({ name, value })),
      }),
    );
  }

  /** Best effort: topics that are gone already (or a broker that refuses) are no error. */
  async deleteTopics(names: readonly string[]): Promise<void> {
    if (names.length > 0) await this.use((admin) => admin.deleteTopics({ topics: [...names] })).catch(() => undefined);
  }

  /**
   * Deletes a group; whether it is gone (false: the broker refused, e.g. NON_EMPTY_GROUP while a member is still in
   * it). A SIGKILLed member stays in its group until its session times out, so it tries again for up to `retryMs`.
   */
  async deleteGroup(groupId: string, retryMs = 0): Promise<boolean> {
    const deadline = Date.now() + retryMs;
    for (;;) {
      const gone = await this.use((admin) => admin.deleteGroups({ groups: [groupId] })).then(() => true, groupNotFound);
      if (gone || Date.now() >= deadline) return gone;
      await Bun.sleep(1_000);
    }
  }

  /** End offset of every partition of `topic`: the high watermark, or read_committed the last stable offset. */
  endOffsets(topic: string, isolation: Isolation = "read_uncommitted"): Promise<number[]> {
    return this.use((admin) => endOffsets(admin, topic, isolation));
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
    await this.use((admin) =>
      admin.incrementalAlterConfigs({ resources: [{ resourceType: ConfigResourceTypes.TOPIC, resourceName: topic, configs: [config] }] }),
    );
  }

  async listTopics(): Promise<string[]> {
    return this.use((admin) => admin.listTopics());
  }

  async topicExists(topic: string): Promise<boolean> {
    return (await this.listTopics()).includes(topic);
  }

  async close(): Promise<void> {
    await this.admin?.close().catch(() => undefined);
    this.admin = null;
  }
}

/** A short-lived KafkaAdmin for `work`, closed afterwards. */
export async function withAdmin<T>(
  brokers: readonly string[],
  clientId: string,
  work: (admin: KafkaAdmin) => Promise<T>,
  options: AdminOptions = {},
): Promise<T> {
  const admin = new KafkaAdmin(brokers, clientId, options);
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/** End offsets of every partition of a topic (high watermarks, or last stable offsets), with a plain Admin. */
export async function endOffsets(admin: Admin, topic: string, isolation: Isolation = "read_uncommitted"): Promise<number[]> {
  const meta = await admin.metadata({ topics: [topic] });
  const partitions = meta.topics.get(topic)?.partitionsCount ?? 0;
  const result = await admin.listOffsets({
    isolationLevel: isolation === "read_committed" ? FetchIsolationLevels.READ_COMMITTED : FetchIsolationLevels.READ_UNCOMMITTED,
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, timestamp: -1n })) }],
  });
  const offsets = new Array<number>(partitions).fill(0);
  for (const p of result[0]?.partitions ?? []) offsets[p.partitionIndex] = Number(p.offset);
  return offsets;
}

/** A failed group deletion: true when the group did not exist (GROUP_ID_NOT_FOUND, 69), i.e. it is gone anyway. */
function groupNotFound(error: unknown): boolean {
  const inner = (error as { errors?: Array<{ response?: { results?: Array<{ errorCode?: number }> } }> }).errors ?? [];
  const codes = inner.flatMap((e) => e.response?.results?.map((r) => r.errorCode) ?? []);
  return codes.length > 0 && codes.every((c) => c === 69);
}
