/** Test helpers against the real broker: unique topics, producing seed data, reading topics to their end. */
import { Consumer, MessagesStreamModes, Producer, type Message, type MessageToProduce } from "@platformatic/kafka";
import { withAdmin as withAdminOf, type Isolation, type KafkaAdmin } from "../../scripts/lib/kafka-admin.ts";
import { sum } from "../../scripts/lib/stats.ts";

export const BROKERS = (process.env.PROCESSOR_TEST_BROKERS ?? "127.0.0.1:9092").split(",");

export function uniqueName(prefix: string): string {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export function withAdmin<T>(work: (admin: KafkaAdmin) => Promise<T>): Promise<T> {
  return withAdminOf(BROKERS, "processor-test-admin", work);
}

export async function createTopics(names: readonly string[], partitions: number, configs: Record<string, string> = {}): Promise<void> {
  await withAdmin((admin) => admin.createTopics(names, partitions, 1, configs));
}

/** Input, output and dead-letter topics with unique names, recorded in `created` for the suite's cleanup. */
export async function createTopicSet(
  created: string[],
  prefix: string,
  partitions: number,
  configs: Record<string, string> = {},
): Promise<{ input: string; output: string; dlq: string }> {
  const input = uniqueName(`${prefix}-in`);
  const output = uniqueName(`${prefix}-out`);
  const dlq = `${output}.dlq`;
  created.push(input, output, dlq);
  await createTopics([input, output, dlq], partitions, configs);
  return { input, output, dlq };
}

export async function deleteTopics(names: readonly string[]): Promise<void> {
  await withAdmin((admin) => admin.deleteTopics(names));
}

export interface SeedRecord {
  key: string | null;
  value: string;
  headers?: Record<string, string>;
}

type Outgoing = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

/** Sends `messages` in order, `batch` per request, with an idempotent producer. */
async function send(messages: readonly Outgoing[], batch: number): Promise<void> {
  const producer = new Producer({ clientId: "processor-test-producer", bootstrapBrokers: BROKERS, idempotent: true, retries: 5 });
  try {
    for (let i = 0; i < messages.length; i += batch) await producer.send({ messages: messages.slice(i, i + batch) });
  } finally {
    await producer.close();
  }
}

export function produce(topic: string, records: readonly SeedRecord[], batch = 2000): Promise<void> {
  const messages = records.map((r) => ({
    topic,
    key: r.key === null ? undefined : Buffer.from(r.key),
    value: Buffer.from(r.value),
    headers: new Map(Object.entries(r.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
  }));
  return send(messages, batch);
}

/** A record exactly as bytes: null key/value and repeated header names allowed. */
export interface RawRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: Array<[string, Buffer]>;
}

/** One record per request (a few are megabytes large), all to partition 0. */
export function produceRaw(topic: string, records: readonly RawRecord[]): Promise<void> {
  return produceExact(topic, records);
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

/** End offsets per partition: high watermarks, or read_committed the last stable offsets. */
export function endOffsets(topic: string, isolation: Isolation = "read_uncommitted"): Promise<number[]> {
  return withAdmin((admin) => admin.endOffsets(topic, isolation));
}

/** Committed offsets indexed by partition (a partition without a commit is a hole). */
export async function committedOffsets(groupId: string, topic: string): Promise<number[]> {
  const offsets: number[] = [];
  for (const [p, offset] of await withAdmin((admin) => admin.committed(groupId, topic))) offsets[p] = offset;
  return offsets;
}

/** Reads a topic from the beginning up to its current end offsets (no group). */
export function readAll(topic: string): Promise<ReadRecord[]> {
  return readToEnd(topic, {}, (message) => ({
    partition: message.partition,
    timestamp: Number(message.timestamp),
    offset: Number(message.offset),
    key: message.key ? message.key.toString() : null,
    value: message.value ? message.value.toString() : null,
    valueBytes: message.value ?? null,
    headers: Object.fromEntries(message.headerEntries.map(([k, v]) => [k.toString(), v?.toString() ?? ""])),
    headerCount: message.headerEntries.length,
  }));
}

/** Reads `topic` from the beginning to the end offsets it has now, each message mapped by `map`, in arrival order. */
async function readToEnd<T>(
  topic: string,
  options: { maxBytes?: number },
  map: (message: Message<Buffer, Buffer, Buffer, Buffer>) => T,
): Promise<T[]> {
  const ends = await endOffsets(topic);
  const records: T[] = [];
  if (sum(ends) === 0) return records;
  const consumer = new Consumer({
    clientId: "processor-test-reader",
    groupId: uniqueName("reader"),
    bootstrapBrokers: BROKERS,
    autocommit: false,
    maxWaitTime: 200,
    ...options,
  });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  const seen = new Array<number>(ends.length).fill(0);
  try {
    for await (const message of stream) {
      if (Number(message.offset) >= (ends[message.partition] ?? 0)) continue;
      records.push(map(message));
      seen[message.partition] = Number(message.offset) + 1;
      if (seen.every((s, p) => s >= (ends[p] ?? 0))) break;
    }
  } finally {
    await stream.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
  }
  return records;
}

/**
 * A record exactly as bytes, down to the protocol's edges: header names as raw bytes (any length, not
 * necessarily UTF-8), null header values (-1 length on the wire), repeated names, and an optional partition.
 */
export interface ExactRecord {
  key: Buffer | null;
  value: Buffer | null;
  headers?: ReadonlyArray<readonly [Buffer | string, Buffer | null]>;
  /** Default 0. */
  partition?: number;
}

/** Produces records byte-exact, `batch` records per request (1 by default: some may be megabytes large). */
export function produceExact(topic: string, records: readonly ExactRecord[], batch = 1): Promise<void> {
  const messages = records.map((r) => ({
    topic,
    partition: r.partition ?? 0,
    key: r.key ?? undefined,
    value: r.value ?? undefined,
    // a fresh Buffer per name keeps repeated names apart; null values go out as null (length -1)
    headers: new Map((r.headers ?? []).map(([k, v]) => [Buffer.from(k), v as Buffer])),
  }));
  return send(messages, batch);
}

/** A record as its bytes, read with this project's Kafka client (see test/support/kcat.ts for the independent reader). */
export interface RawReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  readonly headers: ReadonlyArray<readonly [Buffer, Buffer | null]>;
}

/**
 * Reads a topic from the beginning to its current end offsets keeping every byte: header names as Buffers, null
 * header values as null. For what kcat cannot show: librdkafka drops all headers of a record with more than
 * 100,000 of them.
 */
export async function readAllRaw(topic: string): Promise<RawReadRecord[]> {
  const records = await readToEnd(topic, { maxBytes: 16 * 1024 * 1024 }, (message) => ({
    partition: message.partition,
    offset: Number(message.offset),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headerEntries.map(([k, v]) => [k, v ?? null] as const),
  }));
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}
