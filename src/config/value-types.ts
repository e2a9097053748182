/**
 * Value types: zod schemas turning one raw string (from a flag or an env
 * variable) into a typed value, with error messages written for humans.
 * The loader appends `, got "<raw>"` to every message.
 */
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
