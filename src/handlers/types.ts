/**
 * The contract between processor and a handler module. A handler module (loaded with `--handler file.ts`)
 * exports `default` (or `handler`): a function from one input record to zero, one or many output records.
 */

export type Bytes = Uint8Array;

export interface InputRecord {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  /** Record timestamp, milliseconds since the epoch. */
  readonly timestamp: number;
  readonly key: Bytes | null;
  readonly value: Bytes | null;
  /** Header names as text (bytes that are not UTF-8 show as U+FFFD); a null value is a header without a value. */
  readonly headers: ReadonlyArray<readonly [string, Bytes | null]>;
  /** The same headers with each name as the exact bytes Kafka had: use these to pass headers on byte-exact. */
  readonly rawHeaders: ReadonlyArray<readonly [Bytes, Bytes | null]>;
  /** 1 on the first call, 2 on the first retry, … */
  readonly attempt: number;
}

export type HeaderValue = string | Bytes | null;
/** Text is written as UTF-8; bytes as they are. */
export type HeaderName = string | Bytes;

export interface OutputRecord {
  readonly value: string | Bytes | null;
  /** Omitted: keep the input's key. */
  readonly key?: string | Bytes | null;
  /** Omitted: keep the input's headers, byte-exact. */
  readonly headers?: ReadonlyArray<readonly [HeaderName, HeaderValue]> | Readonly<Record<string, HeaderValue>>;
  /** Omitted: the configured output topic. */
  readonly topic?: string;
}

/** null filters the record out (its offset still counts as done); an array fans out. */
export type HandlerResult = OutputRecord | ReadonlyArray<OutputRecord> | null;

export type Handler = (record: InputRecord) => HandlerResult | Promise<HandlerResult>;

/**
 * Batch form (export `batch`): one result per record, in order, with the same rules as a Handler's; an Error in a
 * record's place fails that record alone (a PermanentError sends it to the dead-letter topic at once). A batch that
 * throws, or gives the wrong number of results, is split and called again until the failing records are alone.
 */
export type BatchResult = ReadonlyArray<HandlerResult | Error>;
export type BatchHandler = (records: readonly InputRecord[]) => BatchResult | Promise<BatchResult>;

/** What a handler module provides: the per-record form, the batch form, or both. */
export interface Handlers {
  readonly record: Handler;
  readonly batch: BatchHandler | null;
}

/**
 * Throw this (or any error with `permanent: true`) for input that no retry can fix: the record goes to the
 * dead-letter topic at once.
 */
export class PermanentError extends Error {
  readonly permanent = true;
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "PermanentError";
  }
}

export function isPermanent(error: unknown): boolean {
  return typeof error === "object" && error !== null && (error as { permanent?: unknown }).permanent === true;
}
