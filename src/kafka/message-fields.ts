/** The fields processor keeps of a consumed @platformatic/kafka message (raw bytes, no deserialisation). */
import type { Message } from "@platformatic/kafka";
import type { DecodedRecord } from "../threads/record-codec.ts";

const EMPTY = new Uint8Array(0);

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** The ring record of a consumed message, built in one go (this runs once per consumed record). */
export function wireRecord(message: RawMessage, ref: number): DecodedRecord {
  return {
    kind: "record",
    ref,
    topic: message.topic,
    partition: message.partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    // names stay the bytes Kafka had (they need not be UTF-8); a null header value stays null
    headers: message.headerEntries.map(([name, value]) => [name ?? EMPTY, value ?? null] as const),
  };
}
