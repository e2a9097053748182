#!/usr/bin/env bun
/**
 * The baseline processor is compared against: a plain single-threaded @platformatic/kafka loop on Bun, with no
 * Workers, that does at-least-once the simple way:
 *
 *   repeat: take a batch from the consumer stream (up to 1000 records, or fewer if the stream's buffer runs
 *   empty) → run the seed rule on each record (a PermanentError sends the original record to the DLQ, with the
 *   same x-processor-* headers processor adds) → `await producer.send()` the whole batch (idempotent, acks=all,
 *   compatibilityPartitioner, Buffers) → `await consumer.commit()` the batch's last offset + 1 for each partition.
 *
 *   bun scripts/bench/plain-loop.ts --brokers 127.0.0.1:9092 --input IN --output OUT --dlq DLQ --group G [--batch 1000] [--follow]
 *
 * The input must already be loaded: the end offsets are read at start, and the loop exits by itself once it has
 * committed up to them. It then prints one JSON line on stdout: {"records", "ms", "records/s", …}.
 * --follow never exits by itself (it runs until SIGTERM): for compare.ts, which feeds it records while it runs.
 */
import {
  Admin,
  compatibilityPartitioner,
  Consumer,
  MessagesStreamFallbackModes,
  MessagesStreamModes,
  Producer,
  type MessageToProduce,
} from "@platformatic/kafka";
import { parseArgs } from "node:util";
import { sum } from "../lib/stats.ts";
import { CONTENDER_OPTIONS, contenderTopics } from "./lib/contender-args.ts";
import { deadLetter } from "../../src/pipeline/dead-letter.ts";
import { seedRule } from "../../src/handlers/seed-rule.ts";
import {
  isPermanent,
  type Bytes,
  type HandlerResult,
  type HeaderName,
  type HeaderValue,
  type InputRecord,
  type OutputRecord,
} from "../../src/handlers/types.ts";
import { wireRecord, type RawMessage } from "../../src/kafka/message-fields.ts";
import { decodeName } from "../../src/threads/record-codec.ts";
type OutMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

const startedAt = performance.now();

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    ...CONTENDER_OPTIONS,
    batch: { type: "string", default: "1000" },
    follow: { type: "boolean", default: false },
  },
});

const { brokers, input, output, dlq, group: groupId } = contenderTopics("plain-loop", values);
const batchSize = Number(values.batch);
if (!Number.isInteger(batchSize) || batchSize < 1) {
  console.error("plain-loop: --batch must be a positive integer");
  process.exit(2);
}

const asBuffer = (bytes: Bytes): Buffer => (Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
const toBuffer = (value: string | Bytes): Buffer => (typeof value === "string" ? Buffer.from(value) : asBuffer(value));

async function readEndOffsets(topic: string): Promise<number[]> {
  const admin = new Admin({ clientId: "plain-loop-admin", bootstrapBrokers: brokers });
  try {
    const meta = await admin.metadata({ topics: [topic] });
    const partitions = meta.topics.get(topic)?.partitionsCount ?? 0;
    if (partitions === 0) throw new Error(`topic ${topic} has no partitions (does it exist?)`);
    const result = await admin.listOffsets({
      topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, timestamp: -1n })) }],
    });
    const offsets = new Array<number>(partitions).fill(0);
    for (const p of result[0]?.partitions ?? []) offsets[p.partitionIndex] = Number(p.offset);
    return offsets;
  } finally {
    await admin.close().catch(() => undefined);
  }
}

function headersOf(input: ReadonlyArray<readonly [HeaderName, HeaderValue]> | Readonly<Record<string, HeaderValue>>): Map<Buffer, Buffer> {
  const entries: ReadonlyArray<readonly [HeaderName, HeaderValue]> = Array.isArray(input)
    ? (input as ReadonlyArray<readonly [HeaderName, HeaderValue]>)
    : Object.entries(input as Readonly<Record<string, HeaderValue>>);
  return new Map(entries.map(([name, value]) => [toBuffer(name), value === null ? (null as unknown as Buffer) : toBuffer(value)]));
}

/** One handler output → a message to produce (omitted key/headers/topic default to the input's / --output). */
function toMessage(out: OutputRecord, record: InputRecord, message: RawMessage): OutMessage {
  const key = out.key === undefined ? message.key : out.key === null ? undefined : toBuffer(out.key);
  return {
    topic: out.topic ?? output,
    key: key ?? undefined,
    value: out.value === null ? undefined : toBuffer(out.value),
    headers: out.headers === undefined ? headersOf(record.rawHeaders) : headersOf(out.headers),
  };
}

function deadLetterMessage(record: InputRecord, reason: string): OutMessage {
  const copy = deadLetter(record, dlq, reason, 1, "permanent");
  return {
    topic: copy.topic,
    key: copy.key === null ? undefined : asBuffer(copy.key),
    value: copy.value === null ? undefined : asBuffer(copy.value),
    headers: new Map(
      copy.headers.map(([name, value]) => [
        typeof name === "string" ? Buffer.from(name) : asBuffer(name),
        value === null ? (null as unknown as Buffer) : asBuffer(value),
      ]),
    ),
  };
}

let outputs = 0;
let deadLetters = 0;

function toInputRecord(message: RawMessage): InputRecord {
  const fields = wireRecord(message, 0);
  return {
    ...fields,
    rawHeaders: fields.headers,
    headers: fields.headers.map(([name, value]) => [decodeName(name), value] as const),
    attempt: 1,
  };
}

function appendResult(result: HandlerResult, record: InputRecord, message: RawMessage, into: OutMessage[]): void {
  if (result === null) return;
  const list: readonly OutputRecord[] = Array.isArray(result) ? (result as readonly OutputRecord[]) : [result as OutputRecord];
  for (const out of list) {
    into.push(toMessage(out, record, message));
    outputs++;
  }
}

function appendFailure(error: unknown, record: InputRecord, into: OutMessage[]): void {
  // The simple way has no retries: anything but a permanent failure stops the loop (the seed rule throws none).
  if (!isPermanent(error)) throw error;
  const reason = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  into.push(deadLetterMessage(record, reason));
  deadLetters++;
}

/**
 * Runs the seed rule on one record and appends what it produces (its outputs, or its dead-letter copy). Returns a
 * promise only for an async handler result, so the synchronous seed rule costs no extra microtask per record.
 */
function transform(message: RawMessage, into: OutMessage[]): Promise<void> | undefined {
  const record = toInputRecord(message);
  let returned: HandlerResult | Promise<HandlerResult>;
  try {
    returned = seedRule(record);
  } catch (error) {
    appendFailure(error, record, into);
    return undefined;
  }
  if (returned instanceof Promise) {
    return returned.then(
      (result) => appendResult(result, record, message, into),
      (error: unknown) => appendFailure(error, record, into),
    );
  }
  appendResult(returned, record, message, into);
  return undefined;
}

const ends = await readEndOffsets(input);
const total = sum(ends);
const committed = new Array<number>(ends.length).fill(-1);
const isDone = (): boolean => !values.follow && ends.every((end, p) => end === 0 || (committed[p] ?? -1) >= end);

const producer = new Producer<Buffer, Buffer, Buffer, Buffer>({
  clientId: "plain-loop-producer",
  bootstrapBrokers: brokers,
  idempotent: true,
  acks: -1,
  partitioner: compatibilityPartitioner,
  retries: 5,
});
const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
  clientId: "plain-loop-consumer",
  bootstrapBrokers: brokers,
  groupId,
  autocommit: false,
  maxWaitTime: 200,
});

let records = 0;
let firstRecordAt: number | null = null;
let lastCommitAt = performance.now();

async function handleBatch(batch: readonly RawMessage[]): Promise<void> {
  const messages: OutMessage[] = [];
  const last = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const message of batch) {
    const pending = transform(message, messages);
    if (pending !== undefined) await pending;
    last.set(`${message.topic}\u0000${message.partition}`, { topic: message.topic, partition: message.partition, offset: message.offset });
  }
  if (messages.length > 0) await producer.send({ messages });
  const offsets = [...last.values()].map((o) => ({ topic: o.topic, partition: o.partition, offset: o.offset + 1n, leaderEpoch: -1 }));
  await consumer.commit({ offsets });
  for (const o of offsets) if (o.topic === input) committed[o.partition] = Number(o.offset);
  records += batch.length;
  lastCommitAt = performance.now();
}

try {
  if (!isDone()) {
    const stream = await consumer.consume({
      topics: [input],
      mode: MessagesStreamModes.COMMITTED,
      fallbackMode: MessagesStreamFallbackModes.EARLIEST,
    });
    try {
      let batch: RawMessage[] = [];
      for await (const message of stream as AsyncIterable<RawMessage>) {
        firstRecordAt ??= performance.now();
        batch.push(message);
        if (batch.length < batchSize && stream.readableLength > 0) continue;
        const current = batch;
        batch = [];
        await handleBatch(current);
        if (isDone()) break;
      }
    } finally {
      await stream.close().catch(() => undefined);
    }
  }
} finally {
  await consumer.close(true).catch(() => undefined);
  await producer.close().catch(() => undefined);
}

const ms = lastCommitAt - (firstRecordAt ?? lastCommitAt);
console.log(
  JSON.stringify({
    records,
    inputEnd: total,
    ms: Math.round(ms),
    "records/s": ms > 0 ? Math.round((records / ms) * 1000) : null,
    msFromStart: Math.round(lastCommitAt - startedAt),
    outputs,
    dlq: deadLetters,
  }),
);
process.exit(0);
