/** Numeric value types: integers, shares, durations and byte sizes, each with its range in the error message. */
import { formatBytes, formatDuration, isPowerOfTwo, parseByteSize, parseDuration, parseInteger } from "../parse-values.ts";
import { custom, fail, ok, rangeText, type ValueType } from "./define.ts";

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

/** "0.2" or "20%" as a number (NaN when it is neither); the range is the caller's. */
function parseShare(raw: string): number {
  const text = raw.trim();
  if (text === "" || text === "%") return Number.NaN;
  const percent = text.endsWith("%");
  return Number(percent ? text.slice(0, -1) : text) / (percent ? 100 : 1);
}

/** A share: "0.2", "20%"; strictly above 0 and at most 1. */
export function ratio(): ValueType<number> {
  return {
    schema: custom((raw) => {
      const n = parseShare(raw);
      if (!Number.isFinite(n) || n <= 0 || n > 1) return fail("expected a share above 0 and at most 1, like 0.2 or 20%");
      return ok(n);
    }),
  };
}

/** A share from 0 to 1 inclusive: "0", "0.25", "25%", "1". */
export function fraction(): ValueType<number> {
  return {
    schema: custom((raw) => {
      const n = parseShare(raw);
      if (!Number.isFinite(n) || n < 0 || n > 1) return fail("expected a share from 0 to 1, like 0.1 or 10%");
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
