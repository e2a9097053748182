/** A record of the dead-letter topic, read back: the original key, value and headers, and why it failed. */
import { DLQ_HEADER_PREFIX } from "../pipeline/dead-letter.ts";

export type HeaderEntry = readonly [Buffer, Buffer | null];

/** What the consumer hands over for one record (the fields used here). */
export interface RawRecord {
  readonly partition: number;
  readonly offset: bigint;
  readonly timestamp: bigint;
  readonly key: Buffer | null | undefined;
  readonly value: Buffer | null | undefined;
  readonly headerEntries: ReadonlyArray<readonly [Buffer | null | undefined, Buffer | null | undefined]>;
}

export interface DeadLetterRecord {
  readonly partition: number;
  readonly offset: number;
  /** The dead-letter record's own timestamp (ms): when it was produced. */
  readonly timestamp: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** The original record's headers, in order, without any `x-processor-*` header. */
  readonly originalHeaders: HeaderEntry[];
  readonly error: string | null;
  readonly kind: string | null;
  readonly attempts: number | null;
  readonly sourceTopic: string | null;
  readonly sourcePartition: number | null;
  readonly sourceOffset: number | null;
  /** x-processor-failed-at (ms), else the record's timestamp. */
  readonly failedAt: number;
  /** A stub: the full copy was too large for the topic, so value and headers were left out. */
  readonly truncated: boolean;
  /** The record carries none of processor's headers: not written by processor. */
  readonly foreign: boolean;
}

const EMPTY = Buffer.alloc(0);
const PREFIX = Buffer.from(DLQ_HEADER_PREFIX);

function integerOrNull(text: string | undefined): number | null {
  if (text === undefined || !/^-?\d+$/.test(text)) return null;
  return Number(text);
}

export function readDeadLetter(record: RawRecord): DeadLetterRecord {
  const why = new Map<string, string>();
  const originalHeaders: HeaderEntry[] = [];
  for (const [rawName, value] of record.headerEntries) {
    const name = rawName ?? EMPTY;
    if (name.length > PREFIX.length && PREFIX.compare(name, 0, PREFIX.length) === 0) {
      const field = name.toString("utf8", PREFIX.length);
      // the first of a repeated header wins: processor appends its own after the original headers
      if (!why.has(field)) why.set(field, value?.toString() ?? "");
    } else {
      originalHeaders.push([name, value ?? null]);
    }
  }
  const timestamp = Number(record.timestamp);
  const failedAt = Date.parse(why.get("failed-at") ?? "");
  return {
    partition: record.partition,
    offset: Number(record.offset),
    timestamp,
    key: record.key ?? null,
    value: record.value ?? null,
    originalHeaders,
    error: why.get("error") ?? null,
    kind: why.get("error-kind") ?? null,
    attempts: integerOrNull(why.get("attempts")),
    sourceTopic: why.get("source-topic") ?? null,
    sourcePartition: integerOrNull(why.get("source-partition")),
    sourceOffset: integerOrNull(why.get("source-offset")),
    failedAt: Number.isNaN(failedAt) ? timestamp : failedAt,
    truncated: why.has("truncated"),
    foreign: why.size === 0,
  };
}
