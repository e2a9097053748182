/** The record a handler sees, made from a ring frame without copying its bytes. */
import { decodeName, type DecodedRecord } from "../threads/record-codec.ts";
import type { Bytes, InputRecord } from "../handlers/types.ts";

export class QueuedInput implements InputRecord {
  /** Updated in place before each run (no copy per attempt). */
  attempt = 1;
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
  readonly timestamp: number;
  key: Bytes | null;
  value: Bytes | null;
  rawHeaders: ReadonlyArray<readonly [Bytes, Bytes | null]>;
  private named: ReadonlyArray<readonly [string, Bytes | null]> | null = null;

  constructor(record: DecodedRecord) {
    this.topic = record.topic;
    this.partition = record.partition;
    this.offset = record.offset;
    this.timestamp = record.timestamp;
    this.key = record.key;
    this.value = record.value;
    this.rawHeaders = record.headers;
  }

  /** Names decoded only when a handler asks: most never read headers. */
  get headers(): ReadonlyArray<readonly [string, Bytes | null]> {
    this.named ??= this.rawHeaders.map(([name, value]) => [decodeName(name), value] as const);
    return this.named;
  }

  /**
   * Key, value and headers are views into the batch the record was read with (up to 256 KiB shared by many
   * records). A record kept for long (retrying) takes copies, so it does not hold its whole batch in memory.
   */
  detach(): void {
    this.key = this.key?.slice() ?? null;
    this.value = this.value?.slice() ?? null;
    this.rawHeaders = this.rawHeaders.map(([name, value]) => [name.slice(), value?.slice() ?? null] as const);
    this.named = null;
  }

  /** Bytes this record holds of its own (what `detach` copies). */
  get ownBytes(): number {
    let bytes = (this.key?.length ?? 0) + (this.value?.length ?? 0);
    for (const [name, value] of this.rawHeaders) bytes += name.length + (value?.length ?? 0);
    return bytes;
  }
}
