/** The fields processor keeps of a consumed @platformatic/kafka message (raw bytes, no deserialisation). */
import type { Message } from "@platformatic/kafka";

export type RawMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export interface MessageFields {
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  headers: Array<readonly [string, Uint8Array]>;
}

export function messageFields(message: RawMessage): MessageFields {
  return {
    topic: message.topic,
    partition: message.partition,
    offset: Number(message.offset),
    timestamp: Number(message.timestamp),
    key: message.key ?? null,
    value: message.value ?? null,
    headers: message.headerEntries.map(([name, value]) => [name.toString("utf8"), value ?? new Uint8Array(0)] as const),
  };
}
