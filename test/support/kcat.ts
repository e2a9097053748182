/**
 * An independent reader for byte-exact checks: kcat (librdkafka), not the client the processor itself uses.
 * `kcat -J` writes every string (key, payload, header names and values) as raw bytes inside a JSON string, so a
 * non-UTF-8 header name survives; null and empty stay apart ("key":null vs "key":""; a null header value is
 * `null` in the headers array). Its output is parsed here byte by byte, strings as Buffers.
 */
import { kcatConsume } from "../../scripts/lib/kcat.ts";
import { BROKERS } from "./kafka.ts";

export interface ExactReadRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** In wire order; names as raw bytes; a null value stays null. */
  readonly headers: ReadonlyArray<readonly [Buffer, Buffer | null]>;
}

export interface SizeRecord {
  readonly partition: number;
  readonly offset: number;
  /** -1: null. */
  readonly keySize: number;
  /** -1: null. */
  readonly valueSize: number;
  /** The key as text (the records this is used for have plain ASCII keys without tabs or newlines). */
  readonly key: string;
}

const kcat = (topic: string, format: readonly string[]): Promise<Buffer> => kcatConsume(BROKERS, topic, format);

/** Every record of `topic` (all partitions, beginning to the end at the time of the read), byte-exact. */
export async function readExact(topic: string): Promise<ExactReadRecord[]> {
  const out = await kcat(topic, ["-J"]);
  const records: ExactReadRecord[] = [];
  let start = 0;
  while (start < out.length) {
    let end = out.indexOf(0x0a, start); // strings escape newlines: one record per line
    if (end < 0) end = out.length;
    if (end > start) records.push(toRecord(new JsonBytes(out.subarray(start, end)).parse()));
    start = end + 1;
  }
  return records.sort((a, b) => a.partition - b.partition || a.offset - b.offset);
}

/** Partition, offset, key and value sizes of every record, without moving the payloads through JSON. */
export async function readSizes(topic: string): Promise<SizeRecord[]> {
  const out = (await kcat(topic, ["-f", "%p\\t%o\\t%K\\t%S\\t%k\\n"])).toString("latin1");
  return out
    .split("\n")
    .filter((line) => line.length > 0)
    .map((line) => {
      const [partition, offset, keySize, valueSize, ...key] = line.split("\t");
      return {
        partition: Number(partition),
        offset: Number(offset),
        keySize: Number(keySize),
        valueSize: Number(valueSize),
        key: key.join("\t"),
      };
    });
}

type JsonValue = null | boolean | number | Buffer | JsonValue[] | { [key: string]: JsonValue };

function toRecord(parsed: JsonValue): ExactReadRecord {
  if (parsed === null || typeof parsed !== "object" || Buffer.isBuffer(parsed) || Array.isArray(parsed))
    throw new Error("kcat -J: not an object");
  const bytesOrNull = (v: JsonValue | undefined, what: string): Buffer | null => {
    if (v === null || v === undefined) return null;
    if (!Buffer.isBuffer(v)) throw new Error(`kcat -J: ${what} is not a string`);
    return v;
  };
  const flat = (parsed.headers ?? []) as JsonValue[];
  if (!Array.isArray(flat) || flat.length % 2 !== 0) throw new Error("kcat -J: headers are not name/value pairs");
  const headers: Array<readonly [Buffer, Buffer | null]> = [];
  for (let i = 0; i < flat.length; i += 2)
    headers.push([bytesOrNull(flat[i], "a header name") ?? Buffer.alloc(0), bytesOrNull(flat[i + 1], "a header value")]);
  return {
    partition: parsed.partition as number,
    offset: parsed.offset as number,
    key: bytesOrNull(parsed.key, "the key"),
    value: bytesOrNull(parsed.payload, "the payload"),
    headers,
  };
}

/** JSON whose strings are byte strings (kcat copies bytes >= 0x80 as they are): strings parse to Buffers. */
class JsonBytes {
  private at = 0;
  constructor(private readonly bytes: Buffer) {}

  parse(): JsonValue {
    const value = this.value();
    this.space();
    if (this.at !== this.bytes.length) throw this.fail("trailing bytes");
    return value;
  }

  private fail(what: string): Error {
    return new Error(`kcat -J: ${what} at byte ${this.at} of ${this.bytes.length}`);
  }

  private space(): void {
    while (this.at < this.bytes.length && [0x20, 0x09, 0x0a, 0x0d].includes(this.bytes[this.at]!)) this.at++;
  }

  private value(): JsonValue {
    this.space();
    const c = this.bytes[this.at];
    if (c === 0x22) return this.string();
    if (c === 0x7b) return this.object();
    if (c === 0x5b) return this.array();
    for (const [word, value] of [
      ["null", null],
      ["true", true],
      ["false", false],
    ] as const) {
      if (this.bytes.subarray(this.at, this.at + word.length).toString("latin1") === word) {
        this.at += word.length;
        return value;
      }
    }
    const start = this.at;
    while (this.at < this.bytes.length && /[-+0-9.eE]/.test(String.fromCharCode(this.bytes[this.at]!))) this.at++;
    if (this.at === start) throw this.fail("unexpected byte");
    return Number(this.bytes.subarray(start, this.at).toString("latin1"));
  }

  private object(): { [key: string]: JsonValue } {
    this.at++;
    const result: { [key: string]: JsonValue } = {};
    this.space();
    if (this.bytes[this.at] === 0x7d) {
      this.at++;
      return result;
    }
    for (;;) {
      this.space();
      const key = this.string().toString("latin1");
      this.space();
      if (this.bytes[this.at++] !== 0x3a) throw this.fail("expected ':'");
      result[key] = this.value();
      this.space();
      const next = this.bytes[this.at++];
      if (next === 0x7d) return result;
      if (next !== 0x2c) throw this.fail("expected ',' or '}'");
    }
  }

  private array(): JsonValue[] {
    this.at++;
    const result: JsonValue[] = [];
    this.space();
    if (this.bytes[this.at] === 0x5d) {
      this.at++;
      return result;
    }
    for (;;) {
      result.push(this.value());
      this.space();
      const next = this.bytes[this.at++];
      if (next === 0x5d) return result;
      if (next !== 0x2c) throw this.fail("expected ',' or ']'");
    }
  }

  private string(): Buffer {
    if (this.bytes[this.at] !== 0x22) throw this.fail("expected a string");
    this.at++;
    const parts: Buffer[] = [];
    let run = this.at;
    for (;;) {
      if (this.at >= this.bytes.length) throw this.fail("unterminated string");
      const c = this.bytes[this.at]!;
      if (c === 0x22) {
        parts.push(this.bytes.subarray(run, this.at));
        this.at++;
        return parts.length === 1 ? Buffer.from(parts[0]!) : Buffer.concat(parts);
      }
      if (c !== 0x5c) {
        this.at++;
        continue;
      }
      parts.push(this.bytes.subarray(run, this.at));
      const e = this.bytes[this.at + 1];
      this.at += 2;
      const simple: Record<number, number> = { 34: 0x22, 92: 0x5c, 47: 0x2f, 98: 0x08, 102: 0x0c, 110: 0x0a, 114: 0x0d, 116: 0x09 };
      if (e !== undefined && simple[e] !== undefined) parts.push(Buffer.from([simple[e]!]));
      else if (e === 0x75) {
        const code = Number.parseInt(this.bytes.subarray(this.at, this.at + 4).toString("latin1"), 16);
        if (Number.isNaN(code)) throw this.fail("bad \\u escape");
        this.at += 4;
        // kcat escapes only control characters this way (\u0000-\u001f); anything else would be UTF-8 text
        parts.push(code < 0x80 ? Buffer.from([code]) : Buffer.from(String.fromCharCode(code), "utf8"));
      } else throw this.fail("bad escape");
      run = this.at;
    }
  }
}

/** Two header lists are the same bytes in the same order (null values stay null, names compared as bytes). */
export function sameHeaders(
  a: ReadonlyArray<readonly [Uint8Array | string, Uint8Array | null]>,
  b: ReadonlyArray<readonly [Uint8Array | string, Uint8Array | null]>,
): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const [an, av] = a[i]!;
    const [bn, bv] = b[i]!;
    if (!Buffer.from(an).equals(Buffer.from(bn))) return false;
    if (av === null || bv === null ? av !== bv : !Buffer.from(av).equals(Buffer.from(bv))) return false;
  }
  return true;
}

/** null and empty stay different. */
export function sameBytes(a: Uint8Array | null, b: Uint8Array | null): boolean {
  return a === null || b === null ? a === b : Buffer.from(a).equals(Buffer.from(b));
}
