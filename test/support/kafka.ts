/** Test helpers against the real broker: unique topics, producing seed data, reading topics to their end. */
import { Admin, Consumer, MessagesStreamModes, Producer } from "@platformatic/kafka";
import { endOffsets as endOffsetsWith } from "../../scripts/lib/end-offsets.ts";

export const BROKERS = (process.env.PROCESSOR_TEST_BROKERS ?? "127.0.0.1:9092").split(",");

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: "processor-test-admin", bootstrapBrokers: BROKERS });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

export async function createTopics(names: readonly string[], partitions: number, configs: Record<string, string> = {}): Promise<void> {
  await withAdmin((admin) =>
    admin.createTopics({ topics: [...names], partitions, replicas: 1, configs: Object.entries(configs).map(([name, value]) => ({ name, value })) }),
  );
}

/** Input, output and dead-letter topics with unique names, recorded in `created` for the suite's cleanup. */
export async function createTopicSet(created: string[], prefix: string, partitions: number, configs: Record<string, string> = {}): Promise<{ input: string; output: string; dlq: string }> {
  const input = uniqueName(`${prefix}-in`);
  const output = uniqueName(`${prefix}-out`);
  const dlq = `${output}.dlq`;
  created.push(input, output, dlq);
  await createTopics([input, output, dlq], partitions, configs);
  return { input, output, dlq };
}

export async function deleteTopics(names: readonly string[]): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics({ topics: [...names] })).catch(() => undefined);
}

export interface SeedRecord {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
}

export async function produce(topic: string, records: readonly SeedRecord[], batch = 2000): Promise<void> {
  const producer = new Producer({ clientId: "processor-test-producer", bootstrapBrokers: BROKERS, idempotent: true, retries: 5 });
  try {
    for (let i = 0; i < records.length; i += batch) {
      await producer.send({
        messages: records.slice(i, i + batch).map((r) => ({
          topic,
          key: r.key === null ? undefined : Buffer.from(r.key),
          value: Buffer.from(r.value),
          headers: new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
        })),
      });
    }
  } finally {
    await producer.close();
  }
}

/** A record exactly as bytes: null key/value and repeated header names allowed. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Array<[string, Buffer]>;
}

export async function produceRaw(topic: string, records: readonly RawRecord[]): Promise<void> {
  const producer = new Producer({ clientId: "processor-test-producer", bootstrapBrokers: BROKERS, idempotent: true, retries: 5 });
  try {
    // one record per request: a few are megabytes large
    for (const r of records) {
      await producer.send({
        messages: [{ topic, partition: 0, key: r.key ?? undefined, value: r.value ?? undefined, headers: new Map((r.headers ?? []).map(([k, v]) => [Buffer.from(k), v])) }],
      });
    }
  } finally {
    await producer.close();
  }
}

export interface ReadRecord {
  partition: number;
  timestamp: number;
  offset: number;
  key: string | null;
  value: string | null;
  /** The value's bytes as stored (value is their lossy UTF-8 reading). */
  valueBytes: Buffer | null;
  headers: Record<string, string>;
  headerCount: number;
}

/** End offsets per partition (high watermark). */
export function endOffsets(topic: string): Promise<number[]> {
  return withAdmin((admin) => endOffsetsWith(admin, topic));
}

export async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  return withAdmin(async (admin) => {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const partitions = group?.topics.find((t) => t.name === topic)?.partitions ?? [];
    const offsets: number[] = [];
    for (const p of partitions) offsets[p.partitionIndex] = Number(p.committedOffset);
    return offsets;
  });
}

/** Reads a topic from the beginning up to its current end offsets (no group). */
export async function readAll(topic: string): Promise<ReadRecord[]> {
  const ends = await endOffsets(topic);
  const total = ends.reduce((a, b) => a + b, 0);
  const records: ReadRecord[] = [];
  if (total === 0) return records;
  const consumer = new Consumer({ clientId: "processor-test-reader", groupId: uniqueName("reader"), bootstrapBrokers: BROKERS, autocommit: false, maxWaitTime: 200 });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  const seen = new Array<number>(ends.length).fill(0);
  try {
    for await (const message of stream) {
      if (Number(message.offset) >= (ends[message.partition] ?? 0)) continue;
      records.push({
        partition: message.partition,
        timestamp: Number(message.timestamp),
        offset: Number(message.offset),
        key: message.key ? message.key.toString() : null,
        value: message.value ? message.value.toString() : null,
        valueBytes: message.value ?? null,
        headers: Object.fromEntries(message.headerEntries.map(([k, v]) => [k.toString(), v?.toString() ?? ""])),
        headerCount: message.headerEntries.length,
      });
      seen[message.partition] = Number(message.offset) + 1;
      if (seen.every((s, p) => s >= (ends[p] ?? 0))) break;
    }
  } finally {
    await stream.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
  }
  return records;
}
