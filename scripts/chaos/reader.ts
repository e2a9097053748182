/**
 * Reads a topic from the beginning to the end offsets it has when the read starts, keeping only what the verifier
 * needs per record (partition, offset, key, id, timestamp), so a million-record run fits in memory.
 */
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import { withAdmin } from "../lib/kafka-admin.ts";
import { appendTimes } from "./append-times.ts";
import { recordId } from "./record-id.ts";

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly id: string | null;
  /** With `appendTime`: when the broker appended it (LogAppendTime topics); otherwise the record's own timestamp. */
  readonly timestamp: number;
  /** Value of the x-processor-error header (dead-letter records), else null. */
  readonly error: string | null;
}

export async function readTopic(brokers: readonly string[], topic: string, options: { appendTime?: boolean } = {}): Promise<TopicRecord[]> {
  const ends = await withAdmin(brokers, "processor-chaos-reader", (admin) => admin.endOffsets(topic));
  const appended = options.appendTime ? await appendTimes(brokers, topic, ends) : null;
  const records: TopicRecord[] = [];
  if (ends.every((e) => e === 0)) return records;
  const groupId = `chaos-reader-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = new Consumer({
    clientId: "processor-chaos-reader",
    groupId,
    bootstrapBrokers: [...brokers],
    autocommit: false,
    maxWaitTime: 200,
    maxBytes: 8 * 1024 * 1024,
  });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
  const next = ends.map(() => 0);
  const done = () => next.every((n, p) => n >= (ends[p] ?? 0));
  try {
    if (!done()) {
      for await (const message of stream) {
        const offset = Number(message.offset);
        if (offset >= (ends[message.partition] ?? 0)) continue;
        let error: string | null = null;
        let header: string | null = null;
        for (const [k, v] of message.headerEntries) {
          const name = k.toString();
          if (name === "x-chaos-id") header = v?.toString() ?? null;
          else if (name === "x-processor-error") error = v?.toString() ?? null;
        }
        records.push({
          partition: message.partition,
          offset,
          key: message.key && message.key.length > 0 ? message.key.toString() : null,
          id: recordId(message.value ?? null, header),
          timestamp: appended === null ? Number(message.timestamp) : (appended.get(message.partition)?.[offset] ?? Number.NaN),
          error,
        });
        next[message.partition] = offset + 1;
        if (done()) break;
      }
    }
  } finally {
    await stream.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
    // the reader's own group (no offsets: autocommit is off) would otherwise stay on the broker
    await withAdmin(brokers, "processor-chaos-reader", (admin) => admin.deleteGroup(groupId)).catch(() => undefined);
  }
  return records;
}
