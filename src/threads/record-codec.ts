/**
 * Binary framing for the rings. One layout serves both directions, and a kind byte says what a frame is:
 * - `record` consumer → main: a consumed record (ref = the consumer's assignment epoch);
 * - `assignment` consumer → main: the consumer's whole assignment from now on (JSON AssignmentChange in the value,
 *   timestamp = when it was claimed, ref = the epoch it starts);
 * - `output` main → producer: a record to produce (ref = delivery id, partition -1 = the partitioner chooses);
 * - `control` main → producer, exactly-once mode: end the transaction here (JSON TransactionControl in the value,
 *   ref = its request id). Its place in the ring is the transaction boundary: outputs before it are in, after it out.
 *
 * Layout (little endian): kind u8 | ref u32 | partition i32 | offset f64 | timestamp f64 | topic (u16 len + utf8)
 * | key (i32 len, -1 = null) | value (i32 len, -1 = null) | header count u32 | headers (u32 name len + bytes,
 * i32 value len + bytes, -1 = null).
 * Header names travel as the bytes Kafka had (not necessarily UTF-8, up to Kafka's own limits) so records pass
 * through byte-exact; topic names are at most 249 ASCII characters in Kafka, so 16 bits are plenty.
 * Offsets and timestamps travel as f64: exact below 2^53, which no real offset or epoch-ms reaches.
 */

export type FrameKind = "record" | "assignment" | "output" | "control";
const KIND_CODES: Readonly<Record<FrameKind, number>> = { record: 0, assignment: 1, output: 2, control: 3 };
const KINDS: readonly FrameKind[] = ["record", "assignment", "output", "control"];

/** Whether a frame whose first byte this is is a control frame (ring readers stop a batch there). */
export const isControlFrame = (firstByte: number): boolean => firstByte === KIND_CODES.control;

export interface WireRecord {
  kind: FrameKind;
  /** What it refers to depends on the kind (see above). */
  ref: number;
  topic: string;
  partition: number;
  offset: number;
  timestamp: number;
  key: Uint8Array | null;
  value: Uint8Array | null;
  /** Names as raw bytes (what Kafka had) or text (encoded as UTF-8); a value may be null. */
  headers: ReadonlyArray<readonly [Uint8Array | string, Uint8Array | null]>;
}

/** A decoded record: header names are always the raw bytes. */
export interface DecodedRecord extends WireRecord {
  headers: Array<readonly [Uint8Array, Uint8Array | null]>;
}

/** Longest topic name a frame can carry (Kafka's own limit is 249). */
export const MAX_TOPIC_NAME_BYTES = 0xffff;

const encoder = new TextEncoder();
const decoder = new TextDecoder();
const FIXED_BYTES = 1 + 4 + 4 + 8 + 8 + 2 + 4 + 4 + 4;

export class RecordEncoder {
  private scratch = new Uint8Array(64 * 1024);
  private view = new DataView(this.scratch.buffer);
  private readonly names = new Map<string, Uint8Array>();

  /** Encodes into an internal buffer; the returned view is valid until the next call. */
  encode(record: WireRecord): Uint8Array {
    const topic = this.nameBytes(record.topic);
    if (topic.length > MAX_TOPIC_NAME_BYTES) throw new RangeError(`topic name longer than ${MAX_TOPIC_NAME_BYTES} bytes`);
    let size = FIXED_BYTES + topic.length + (record.key?.length ?? 0) + (record.value?.length ?? 0);
    const headerNames: Uint8Array[] = [];
    for (const [name, value] of record.headers) {
      const bytes = typeof name === "string" ? this.nameBytes(name) : name;
      headerNames.push(bytes);
      size += 4 + bytes.length + 4 + (value?.length ?? 0);
    }
    this.ensure(size);
    const v = this.view;
    const b = this.scratch;
    b[0] = KIND_CODES[record.kind];
    v.setUint32(1, record.ref >>> 0, true);
    v.setInt32(5, record.partition, true);
    v.setFloat64(9, record.offset, true);
    v.setFloat64(17, record.timestamp, true);
    let at = 25;
    v.setUint16(at, topic.length, true);
    b.set(topic, at + 2);
    at += 2 + topic.length;
    at = this.putBytes(at, record.key);
    at = this.putBytes(at, record.value);
    v.setUint32(at, record.headers.length, true);
    at += 4;
    for (let i = 0; i < headerNames.length; i++) {
      const name = headerNames[i]!;
      v.setUint32(at, name.length, true);
      b.set(name, at + 4);
      at += 4 + name.length;
      at = this.putBytes(at, record.headers[i]![1]);
    }
    return b.subarray(0, at);
  }

  private putBytes(at: number, bytes: Uint8Array | null): number {
    if (bytes === null) {
      this.view.setInt32(at, -1, true);
      return at + 4;
    }
    this.view.setInt32(at, bytes.length, true);
    this.scratch.set(bytes, at + 4);
    return at + 4 + bytes.length;
  }

  private nameBytes(name: string): Uint8Array {
    let bytes = this.names.get(name);
    if (!bytes) {
      bytes = encoder.encode(name);
      if (this.names.size < 10_000 && bytes.length <= 256) this.names.set(name, bytes);
    }
    return bytes;
  }

  private ensure(size: number): void {
    if (size <= this.scratch.length) return;
    let next = this.scratch.length;
    while (next < size) next *= 2;
    this.scratch = new Uint8Array(next);
    this.view = new DataView(this.scratch.buffer);
  }
}

/** Decodes a frame; key, value and header values are views into `frame` (no copy). */
export function decodeRecord(frame: Uint8Array): DecodedRecord {
  return decodeRecordAt(frame, new DataView(frame.buffer, frame.byteOffset, frame.byteLength), 0);
}

/** Decodes the frame starting at `start` of a batch, given one DataView over the whole batch. */
export function decodeRecordAt(batch: Uint8Array, view: DataView, start: number): DecodedRecord {
  const v = view;
  const kind = KINDS[batch[start]!];
  if (kind === undefined) throw new RangeError(`unknown frame kind ${batch[start]}`);
  const ref = v.getUint32(start + 1, true);
  const partition = v.getInt32(start + 5, true);
  const offset = v.getFloat64(start + 9, true);
  const timestamp = v.getFloat64(start + 17, true);
  let at = start + 25;
  const topicLength = v.getUint16(at, true);
  const topic = names.decode(batch, at + 2, topicLength);
  at += 2 + topicLength;
  const readBytes = (): Uint8Array | null => {
    const length = v.getInt32(at, true);
    at += 4;
    if (length < 0) return null;
    const bytes = batch.subarray(at, at + length);
    at += length;
    return bytes;
  };
  const key = readBytes();
  const value = readBytes();
  const headerCount = v.getUint32(at, true);
  at += 4;
  const headers: Array<readonly [Uint8Array, Uint8Array | null]> = new Array(headerCount);
  for (let i = 0; i < headerCount; i++) {
    const nameLength = v.getUint32(at, true);
    const name = batch.subarray(at + 4, at + 4 + nameLength);
    at += 4 + nameLength;
    headers[i] = [name, readBytes()];
  }
  return { kind, ref, topic, partition, offset, timestamp, key, value, headers };
}

/** A header name as text (invalid UTF-8 becomes U+FFFD: the raw bytes stay available to pass on exactly). */
export function decodeName(bytes: Uint8Array): string {
  return names.decode(bytes, 0, bytes.length);
}

/** Topic and header names repeat on nearly every record: remember the last few instead of decoding them. */
class NameCache {
  private readonly bytes: Uint8Array[] = [];
  private readonly strings: string[] = [];
  private next = 0;

  decode(source: Uint8Array, start: number, length: number): string {
    outer: for (let i = 0; i < this.bytes.length; i++) {
      const known = this.bytes[i]!;
      if (known.length !== length) continue;
      for (let j = 0; j < length; j++) if (known[j] !== source[start + j]) continue outer;
      return this.strings[i]!;
    }
    const text = decoder.decode(source.subarray(start, start + length));
    if (length <= 64) {
      this.bytes[this.next] = source.slice(start, start + length);
      this.strings[this.next] = text;
      this.next = (this.next + 1) % 8;
    }
    return text;
  }
}

const names = new NameCache();
