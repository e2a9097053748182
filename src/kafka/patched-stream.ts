/**
 * What scripts/patches/@platformatic+kafka adds to the client's stream and messages: the `onPartitionsRevoked`
 * hook, streams that keep the position of partitions kept across a rebalance, per-partition pause and resume,
 * and `assignmentSerial` to tell records buffered under an earlier assignment.
 */
import { MessagesStream } from "@platformatic/kafka";
import type { RawMessage } from "./message-fields.ts";

export type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer> & {
  assignmentSerial(topic: string, partition: number): number | undefined;
  pausePartitions(topic: string, partitions: readonly number[]): void;
  resumePartitions(topic: string, partitions: readonly number[]): void;
};

export type SerialMessage = RawMessage & { readonly assignmentSerial?: number };

export interface PartitionRef {
  readonly topic: string;
  readonly partition: number;
}

export function assertPatched(): void {
  if (typeof (MessagesStream.prototype as unknown as Partial<Stream>).assignmentSerial !== "function") {
    throw new Error("@platformatic/kafka is not patched (scripts/patches): run npm install (or scripts/bootstrap.sh) again");
  }
}
