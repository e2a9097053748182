/**
 * Value types: zod schemas turning one raw string (from a flag or an env
 * variable) into a typed value, with error messages written for humans.
 * The loader appends `, got "<raw>"` to every message.
 */
import { readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { z } from 'zod';
import {
  formatBytes,
  formatDuration,
  isPowerOfTwo,
  isValidTopicName,
  parseBoolean,
  parseBroker,
  parseByteSize,
  parseDuration,
  parseInteger,
  parseList,
} from './parse-values.ts';

export interface ValueType<T> {
  /** Validates and converts the raw text. */
  readonly schema: z.ZodType<T, string>;
  /** What a bare `--flag` (no value) means; absent = the flag needs a value. */
  readonly bare?: string;
  /** What `--no-flag` means; absent = negation is an error. */
  readonly negated?: string;
}

/** Build a value type from a converter returning either a value or an error message. */
function custom<T>(convert: (raw: string) => { ok: true; value: T } | { ok: false; message: string }): z.ZodType<T, string> {
  return z.string().transform((raw, ctx): T => {
    const result = convert(raw);
    if (result.ok) return result.value;
    ctx.addIssue({ code: 'custom', message: result.message, input: raw });
    return z.NEVER;
  });
}

const ok = <T>(value: T) => ({ ok: true as const, value });
const fail = (message: string) => ({ ok: false as const, message });

function rangeText(min: number, max: number | undefined, show: (n: number) => string): string {
  return max === undefined ? `>= ${show(min)}` : `between ${show(min)} and ${show(max)}`;
}

export function integer(min: number, max?: number): ValueType<number> {
  const expected = `expected an integer ${rangeText(min, max, String)}`;
  return {
    schema: custom((raw) => {
      const n = parseInteger(raw);
      if (n === undefined || n < min || (max !== undefined && n > max)) return fail(expected);
      return ok(n);
    }),
  };
}

/** A share: "0.2", "20%"; strictly above 0 and at most 1. */
export function ratio(): ValueType<number> {
  return {
    schema: custom((raw) => {
      const text = raw.trim();
      const percent = text.endsWith('%');
      const n = Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
      if (text === '' || text === '%' || !Number.isFinite(n) || n <= 0 || n > 1) return fail('expected a share above 0 and at most 1, like 0.2 or 20%');
      return ok(n);
    }),
  };
}

/** Largest delay `setTimeout` honours (~24.8 days). */
export const MAX_DURATION_MS = 2_147_483_647;

export function duration(minMs = 1, maxMs = MAX_DURATION_MS): ValueType<number> {
  const shownMax = maxMs === MAX_DURATION_MS ? undefined : maxMs;
  const expected = `expected a duration ${rangeText(minMs, shownMax, formatDuration)} (e.g. 500ms, 30s, 2m, 1h, or integer milliseconds)`;
  return {
    schema: custom((raw) => {
      const ms = parseDuration(raw);
      if (ms === undefined || ms < minMs) return fail(expected);
      if (ms > maxMs) return fail(`expected a duration of at most ${formatDuration(maxMs)}`);
      return ok(ms);
    }),
  };
}

export function byteSize(opts: { min: number; max?: number; powerOfTwo?: boolean }): ValueType<number> {
  const { min, max, powerOfTwo = false } = opts;
  const range = rangeText(min, max, formatBytes);
  const expected = powerOfTwo
    ? `expected a power of two ${range} (e.g. 64KiB, 4MiB, 1GiB)`
    : `expected a byte size ${range} (e.g. 512KiB, 8MiB, 1GiB, 1MB, or integer bytes)`;
  return {
    schema: custom((raw) => {
      const bytes = parseByteSize(raw);
      if (bytes === undefined || bytes < min || (max !== undefined && bytes > max)) return fail(expected);
      if (powerOfTwo && !isPowerOfTwo(bytes)) return fail(expected);
      return ok(bytes);
    }),
  };
}

export function boolean(): ValueType<boolean> {
  return {
    bare: 'true',
    negated: 'false',
    schema: custom((raw) => {
      const b = parseBoolean(raw);
      return b === undefined ? fail('expected a boolean (true/false, 1/0, yes/no)') : ok(b);
    }),
  };
}

/** One of `values` (case-insensitive); `synonyms` map legacy spellings onto values. */
export function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
  synonyms: Readonly<Record<string, V[number]>> = {},
): ValueType<V[number]> {
  const lookup = new Map<string, V[number]>();
  for (const v of values) lookup.set(v.toLowerCase(), v);
  for (const [alias, v] of Object.entries(synonyms)) lookup.set(alias.toLowerCase(), v);
  return {
    schema: custom((raw) => {
      const v = lookup.get(raw.trim().toLowerCase());
      return v === undefined ? fail(`expected one of ${values.join('|')}`) : ok(v);
    }),
  };
}

export function nonEmptyString(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return s.length === 0 ? fail('expected a non-empty string') : ok(s);
    }),
  };
}

export function topic(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return isValidTopicName(s) ? ok(s) : fail('expected a Kafka topic name (1-249 chars of A-Z a-z 0-9 . _ -)');
    }),
  };
}

/** Kafka checks group.instance.id like a topic name; room is left for the `-<consumer>` suffix. */
export function groupInstanceId(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return isValidTopicName(s) && s.length <= 240 ? ok(s) : fail('expected a group instance id (1-240 chars of A-Z a-z 0-9 . _ -)');
    }),
  };
}

export function topicList(): ValueType<string[]> {
  return {
    schema: custom((raw) => {
      const topics = [...new Set(parseList(raw))];
      if (topics.length === 0) return fail('expected a non-empty list of topics (comma or space separated)');
      const bad = topics.find((t) => !isValidTopicName(t));
      if (bad !== undefined) return fail(`expected Kafka topic names (A-Z a-z 0-9 . _ -), "${bad}" is not one`);
      return ok(topics);
    }),
  };
}

export function brokerList(): ValueType<string[]> {
  return {
    schema: custom((raw) => {
      const items = parseList(raw);
      if (items.length === 0) return fail('expected a non-empty list of host:port (comma or space separated)');
      const brokers: string[] = [];
      for (const item of items) {
        const broker = parseBroker(item);
        if (broker === undefined) return fail(`expected a list of host:port (comma or space separated), "${item}" is not one`);
        if (!brokers.includes(broker)) brokers.push(broker);
      }
      return ok(brokers);
    }),
  };
}

/**
 * A value that must never be printed (a password, a private key): `String()`, JSON and `console.log` /
 * `Bun.inspect` show `<hidden>`. Only `reveal()` gives the text, at the one place that hands it to the client.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return '<hidden>';
  }
  toJSON(): string {
    return '<hidden>';
  }
  [Symbol.for('nodejs.util.inspect.custom')](): string {
    return 'Secret(<hidden>)';
  }
}

/** A file setting: the path as given, and what was read from it at load time. */
export interface FileValue<T> {
  readonly path: string;
  readonly contents: T;
}

/** Largest file a PEM or password file setting reads. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Reads a small text file; the error message names the problem, never the contents. */
function readSmallFile(path: string): { ok: true; value: string } | { ok: false; message: string } {
  if (path.length === 0) return fail('expected a file path');
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_FILE_BYTES) return fail(`expected a file of at most 1MiB, this one has ${bytes.length} bytes`);
    text = bytes.toString('utf8');
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return fail('no such file');
    if (code === 'EACCES' || code === 'EPERM') return fail('the file is not readable (permission denied)');
    if (code === 'EISDIR') return fail('expected a file, this is a directory');
    return fail(`the file cannot be read (${typeof code === 'string' ? code : 'unknown error'})`);
  }
  return ok(text);
}

/**
 * A PEM file, read at load time (so a missing or unreadable file is a usage error naming the flag).
 * `certificate`: one or more certificates (a CA bundle or a client certificate); `private key`: an
 * unencrypted private key, kept as a Secret.
 */
export function pemFile(kind: 'certificate'): ValueType<FileValue<string>>;
export function pemFile(kind: 'private key'): ValueType<FileValue<Secret>>;
export function pemFile(kind: 'certificate' | 'private key'): ValueType<FileValue<string>> | ValueType<FileValue<Secret>> {
  if (kind === 'certificate') {
    return {
      schema: custom((raw) => {
        const path = raw.trim();
        const read = readSmallFile(path);
        if (!read.ok) return read;
        if (!read.value.includes('-----BEGIN CERTIFICATE-----')) return fail('expected a PEM file with a certificate (-----BEGIN CERTIFICATE-----)');
        return ok({ path, contents: read.value });
      }),
    };
  }
  return {
    schema: custom((raw) => {
      const path = raw.trim();
      const read = readSmallFile(path);
      if (!read.ok) return read;
      if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(read.value)) {
        return fail('encrypted private keys are not supported (decrypt it: openssl pkey -in KEY -out PLAIN_KEY)');
      }
      if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(read.value)) return fail('expected a PEM file with a private key (-----BEGIN PRIVATE KEY-----)');
      return ok({ path, contents: new Secret(read.value) });
    }),
  };
}

/** A file holding one secret (e.g. a mounted Kubernetes secret): read at load time, trailing newlines dropped. */
export function secretFile(): ValueType<FileValue<Secret>> {
  return {
    schema: custom((raw) => {
      const path = raw.trim();
      const read = readSmallFile(path);
      if (!read.ok) return read;
      const text = read.value.replace(/[\r\n]+$/, '');
      if (text.length === 0) return fail('the file is empty');
      return ok({ path, contents: new Secret(text) });
    }),
  };
}

/** A secret given directly (flag or env), taken exactly as given. Error messages never contain it. */
export function secretText(): ValueType<Secret> {
  return {
    schema: custom((raw) => (raw.length === 0 ? fail('expected a non-empty value') : ok(new Secret(raw)))),
  };
}

/**
 * An address to listen on: an IPv4 or IPv6 address (`0.0.0.0`, `127.0.0.1`, `::`, `::1`, brackets allowed) or a
 * host name resolving to a local interface (`localhost`). The value is returned without brackets.
 */
export function listenHost(): ValueType<string> {
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return {
    schema: custom((raw) => {
      const text = raw.trim();
      const bare = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
      if (isIP(bare) !== 0) return ok(bare);
      const name = bare.replace(/\.$/, '');
      const labels = name.split('.');
      const isName = bare === text && name.length > 0 && name.length <= 253 && labels.every((l) => label.test(l)) && !labels.every((l) => /^\d+$/.test(l));
      return isName ? ok(name) : fail('expected an IP address or host name to listen on, e.g. 0.0.0.0 (all interfaces) or 127.0.0.1 (this host only)');
    }),
  };
}

/** A DNS host name (not an IP address), e.g. for TLS server name checks. */
export function hostName(): ValueType<string> {
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return {
    schema: custom((raw) => {
      const name = raw.trim().replace(/\.$/, '');
      const labels = name.split('.');
      if (name.length === 0 || name.length > 253 || !labels.every((l) => label.test(l))) {
        return fail('expected a DNS host name (letters, digits, - and .)');
      }
      if (labels.every((l) => /^\d+$/.test(l))) return fail('expected a DNS host name, not an IP address');
      return ok(name);
    }),
  };
}
