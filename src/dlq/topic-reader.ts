/**
 * Reads a topic once: from where a group stopped (or the beginning) to the end offsets it had when the read
 * began. read_committed, so records of aborted or still open transactions are never seen; the end is the last
 * stable offset. A record appended after the read began is left for the next read.
 */
import { Admin, Consumer, FetchIsolationLevels, MessagesStreamModes, type Message, type MessagesStream } from "@platformatic/kafka";
import { baseClientOptions } from "../kafka/client-options.ts";
import { classify } from "../kafka/errors.ts";
import type { ClientSettings } from "../threads/messages.ts";

type BufferMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface ReadRange {
  /** Per partition: the first offset to read and the end (exclusive). */
  readonly start: readonly number[];
  readonly end: readonly number[];
}

export class TopicNotFoundError extends Error {}

/** How many records (offsets, to be exact: markers of transactions count too) lie between start and end. */
export function rangeSize(range: ReadRange): number {
  return range.end.reduce((sum, end, p) => sum + Math.max(0, end - (range.start[p] ?? 0)), 0);
}

async function listOffsets(admin: Admin, topic: string, partitions: number, timestamp: bigint): Promise<number[]> {
  const result = await admin.listOffsets({
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, timestamp })) }],
  });
  const offsets = new Array<number>(partitions).fill(0);
  for (const p of result[0]?.partitions ?? []) offsets[p.partitionIndex] = Number(p.offset);
  return offsets;
}

/** The range to read: from the group's committed offsets (`resumeGroup`) or the earliest ones, to the stable end. */
export async function planRead(settings: ClientSettings, topic: string, resumeGroup: string | null): Promise<ReadRange> {
  const admin = new Admin({ ...baseClientOptions(settings, "dlq-admin"), retries: 3 });
  try {
    const metadata = await admin.metadata({ topics: [topic] }).catch((error: unknown) => {
      throw classify(error).kind === "unknown-topic" ? new TopicNotFoundError(`topic not found: ${topic}`) : error;
    });
    const partitions = metadata.topics.get(topic)?.partitionsCount ?? 0;
    if (partitions === 0) throw new TopicNotFoundError(`topic not found: ${topic}`);
    const [earliest, end] = await Promise.all([listOffsets(admin, topic, partitions, -2n), listOffsets(admin, topic, partitions, -1n)]);
    const start = [...earliest];
    if (resumeGroup !== null) {
      const [group] = await admin.listConsumerGroupOffsets({ groups: [resumeGroup] });
      for (const p of group?.topics.find((t) => t.name === topic)?.partitions ?? []) {
        const committed = Number(p.committedOffset);
        // a commit below the earliest offset points at deleted records (retention): start at what is left
        if (committed >= 0) start[p.partitionIndex] = Math.max(committed, earliest[p.partitionIndex] ?? 0);
      }
    }
    return { start, end };
  } finally {
    await admin.close().catch(() => undefined);
  }
}

/** A consumer group nobody joins, used only to keep a position (an admin commit, as `kafka-consumer-groups` does). */
export class GroupPosition {
  private readonly admin: Admin;

  constructor(
    settings: ClientSettings,
    private readonly groupId: string,
    private readonly topic: string,
  ) {
    this.admin = new Admin({ ...baseClientOptions(settings, "dlq-admin"), retries: 5 });
  }

  /** Stores `offsets` (partition → next offset to read). Refused while members of the group are active. */
  async store(offsets: ReadonlyMap<number, number>): Promise<void> {
    if (offsets.size === 0) return;
    await this.admin.alterConsumerGroupOffsets({
      groupId: this.groupId,
      topics: [{ name: this.topic, partitionOffsets: [...offsets].map(([partition, offset]) => ({ partition, offset: BigInt(offset) })) }],
    });
  }

  close(): Promise<void> {
    return this.admin.close().catch(() => undefined);
  }
}

/**
 * Streams the records of `range` in offset order per partition. The reading consumer is a member of a group of its
 * own (removed on close): a read joins no group anyone else uses, and a killed read leaves no member behind that a
 * rerun would have to wait out. The caller's work on a record finishes before the next is handed over.
 */
export class TopicReader {
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private readonly groupId = `processor-dlq-reader-${Date.now().toString(36)}-${process.pid}-${Math.random().toString(36).slice(2, 8)}`;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | null = null;

  constructor(
    private readonly settings: ClientSettings,
    private readonly topic: string,
    private readonly range: ReadRange,
  ) {
    this.consumer = new Consumer({
      ...baseClientOptions(settings, "dlq-reader"),
      groupId: this.groupId,
      autocommit: false,
      maxWaitTime: 200,
      maxBytes: 4 * 1024 * 1024,
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
  }

  async *records(): AsyncGenerator<BufferMessage> {
    const { start, end } = this.range;
    const next = [...start];
    const finished = () => next.every((n, p) => n >= (end[p] ?? 0));
    if (finished()) return;
    const stream = await this.consumer.consume({
      topics: [this.topic],
      mode: MessagesStreamModes.MANUAL,
      offsets: start.map((offset, partition) => ({ topic: this.topic, partition, offset: BigInt(offset) })),
      isolationLevel: FetchIsolationLevels.READ_COMMITTED,
    });
    this.stream = stream;
    // A partition may end in transaction markers, which are never delivered: the read is also over once the
    // fetch position passed every end and nothing is left in the stream's buffer.
    const position = (p: number) => Number(stream.offsetsToFetch.get(`${this.topic}:${p}`) ?? 0);
    const timer = setInterval(() => {
      if (stream.readableLength === 0 && end.every((e, p) => (next[p] ?? 0) >= e || position(p) >= e)) void stream.close();
    }, 100);
    try {
      for await (const message of stream as AsyncIterable<BufferMessage>) {
        const offset = Number(message.offset);
        if (offset < (next[message.partition] ?? 0) || offset >= (end[message.partition] ?? 0)) continue;
        next[message.partition] = offset + 1;
        yield message;
        if (finished()) break;
      }
    } finally {
      clearInterval(timer);
    }
  }

  async close(): Promise<void> {
    await this.stream?.close().catch(() => undefined);
    await this.consumer.close(true).catch(() => undefined);
    if (this.stream !== null) await deleteGroup(this.settings, this.groupId);
  }
}

/** Removes a group that only served one read (it holds no offsets worth keeping). */
export async function deleteGroup(settings: ClientSettings, groupId: string): Promise<void> {
  const admin = new Admin({ ...baseClientOptions(settings, "dlq-admin"), retries: 3 });
  try {
    await admin.deleteGroups({ groups: [groupId] });
  } catch {
    // best effort: an empty group without offsets is removed by the broker anyway
  } finally {
    await admin.close().catch(() => undefined);
  }
}
