/** The fields processor keeps of a consumed @platformatic/kafka message (raw bytes, no deserialisation). */
import type { Message } from "@platformatic/kafka";
import type { WireRecord } from "../ring/record-codec.ts";

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

/** A ring record without its `ref` (which the consumer fills in). */
export type MessageFields = Omit<WireRecord, "ref">;

export function messageFields(message: RawMessage): MessageFields {
  return wireRecord(message, 0);
}

/** The ring record of a consumed message, built in one go (this runs once per consumed record). */
export function wireRecord(message: RawMessage, ref: number): WireRecord {
  return {
    ref,
    topic: message.topic,
    partition: message.partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headerEntries.map(([name, value]) => [name.toString("utf8"), value ?? new Uint8Array(0)] as const),
  };
}
