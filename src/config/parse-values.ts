/**
 * Pure string → value parsers shared by CLI flags and environment variables.
 * Each parser returns `undefined` when the text is not valid; the caller
 * (the zod value types in value-types.ts) turns that into an error message.
 */

/** Split a list given as space- and/or comma-separated items; trims and drops empties. */
export function parseList(raw: string): string[] {
  return raw
    .split(/[\s,]+/)
    .map((item) => item.trim())
    .filter((item) => item.length > 0);
}

/** A plain base-10 integer (optional sign). Rejects floats, hex, `1e3`, and unsafe integers. */
export function parseInteger(raw: string): number | undefined {
  const text = raw.trim();
  if (!/^[+-]?\d+$/.test(text)) return undefined;
  const value = Number(text);
  return Number.isSafeInteger(value) ? value : undefined;
}

const TRUE_WORDS: ReadonlySet<string> = new Set(["true", "1", "yes"]);
const FALSE_WORDS: ReadonlySet<string> = new Set(["false", "0", "no"]);

/** `true/false/1/0/yes/no`, case-insensitive. */
export function parseBoolean(raw: string): boolean | undefined {
  const text = raw.trim().toLowerCase();
  if (TRUE_WORDS.has(text)) return true;
  if (FALSE_WORDS.has(text)) return false;
  return undefined;
}

const MS_PER: Readonly<Record<string, number>> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
};

/**
 * A duration → milliseconds. `500ms`, `30s`, `2m`, `1h`, `1.5s`, or a plain
 * integer (milliseconds). Units are case-insensitive; fractions are rounded
 * to the nearest millisecond.
 */
export function parseDuration(raw: string): number | undefined {
  return parseWithUnit(raw, MS_PER);
}

export const KiB = 1024;
export const MiB = 1024 * KiB;
export const GiB = 1024 * MiB;

const BYTES_PER: Readonly<Record<string, number>> = {
  b: 1,
  kb: 1_000,
  mb: 1_000_000,
  gb: 1_000_000_000,
  tb: 1_000_000_000_000,
  kib: KiB,
  mib: MiB,
  gib: GiB,
  tib: 1024 * GiB,
};

/**
 * A byte size → bytes. `512KiB`, `8MiB`, `1GiB` (binary), `1KB`, `1MB`
 * (decimal), `100B`, or a plain integer (bytes). Units are case-insensitive;
 * fractions (`1.5MiB`) are rounded to the nearest byte.
 */
export function parseByteSize(raw: string): number | undefined {
  return parseWithUnit(raw, BYTES_PER);
}

/** `<number><unit>` → number × the unit's factor, rounded; a bare integer is taken as is. */
function parseWithUnit(raw: string, factors: Readonly<Record<string, number>>): number | undefined {
  const match = /^(\d+(?:\.\d+)?)\s*([a-z]+)?$/i.exec(raw.trim());
  if (!match) return undefined;
  const [, digits = "", unitText] = match;
  if (unitText === undefined) return parseInteger(digits);
  const factor = factors[unitText.toLowerCase()];
  if (factor === undefined) return undefined;
  const value = Math.round(Number(digits) * factor);
  return Number.isSafeInteger(value) ? value : undefined;
}

export const DEFAULT_KAFKA_PORT = 9092;

/**
 * One broker address → `host:port`. A host alone gets `:9092`. IPv6 hosts
 * must be bracketed (`[::1]:9092`). Returns undefined when malformed.
 */
export function parseBroker(raw: string): string | undefined {
  const text = raw.trim();
  const match = /^(\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9_](?:[A-Za-z0-9_.-]*[A-Za-z0-9_])?)(?::(\d{1,5}))?$/.exec(text);
  if (!match) return undefined;
  const [, host = "", portText] = match;
  const port = portText === undefined ? DEFAULT_KAFKA_PORT : Number(portText);
  if (port < 1 || port > 65_535) return undefined;
  return `${host}:${port}`;
}

/** Legal Kafka topic name: 1..249 chars of `[A-Za-z0-9._-]`, not `.` or `..`. */
export function isValidTopicName(name: string): boolean {
  return /^[A-Za-z0-9._-]{1,249}$/.test(name) && name !== "." && name !== "..";
}

export function isPowerOfTwo(n: number): boolean {
  return Number.isSafeInteger(n) && n > 0 && 2 ** Math.round(Math.log2(n)) === n;
}

/** Human-readable duration for messages: 30000 → `30s`, 1500 → `1500ms`. */
export function formatDuration(ms: number): string {
  for (const unit of ["h", "m", "s"] as const) {
    const factor = MS_PER[unit] ?? 1;
    if (ms !== 0 && ms % factor === 0) return `${ms / factor}${unit}`;
  }
  return `${ms}ms`;
}

/** Human-readable byte size for messages: 4194304 → `4MiB`, 1000 → `1000B`. */
export function formatBytes(bytes: number): string {
  for (const [unit, factor] of [
    ["GiB", GiB],
    ["MiB", MiB],
    ["KiB", KiB],
  ] as const) {
    if (bytes !== 0 && bytes % factor === 0) return `${bytes / factor}${unit}`;
  }
  return `${bytes}B`;
}
