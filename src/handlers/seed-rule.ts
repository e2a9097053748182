/**
 * The default message rule: exactly the seed's Go service, which did
 *
 *     var msg struct{ ID, Timestamp, Data, Status string } // json tags "id", "timestamp", "data", "status"
 *     json.Unmarshal(value, &msg)                         // error: reject
 *     t, err := time.Parse(time.RFC3339, msg.Timestamp)   // error: reject
 *     time.Since(t) > 24*time.Hour                        // reject
 *     msg.Status = "valid" if len(msg.Data) > 10 (UTF-8 bytes) else "invalid"; json.Marshal(msg)
 *
 * A rejected record is a PermanentError (it goes to the dead-letter topic). Every decision matches Go's
 * encoding/json (v1) and time.Parse, proven by test/unit/seed-rule-differential.test.ts against a Go program
 * (test/differential/seed-rule-go). What that means in detail:
 * - JSON syntax as Go's scanner: nesting deeper than 10000 arrays/objects, trailing non-space, a byte order
 *   mark, a control character in a string, an invalid escape, invalid UTF-8 outside strings: reject.
 * - Invalid UTF-8 inside strings is accepted: each byte that does not start a valid sequence becomes U+FFFD
 *   (Go's rule, not the WHATWG decoder's); a \u escape of a lone surrogate becomes U+FFFD.
 * - Only a top-level object or `null` unmarshals; `null` leaves every field empty, so the empty timestamp fails.
 * - Keys match the four names case-insensitively with Unicode simple folding (e.g. "ſtatus", "DATA", "Id"),
 *   after unescaping; other keys are ignored, whatever their value. With duplicate keys the last string wins; a
 *   JSON null leaves the field as it was (empty, or the earlier value); a number, bool, object or array for any
 *   of the four (including "status") rejects, even if a later duplicate is a string.
 * - A missing id or data is "" (data "" is "invalid"). The id is always a string: a numeric id rejects.
 * - The timestamp follows Go's time.Parse(time.RFC3339): 4-digit year 0000-9999, 2-digit month/day (day checked
 *   against the month, leap years included), upper-case "T", hour of 1 or 2 digits, 2-digit minute and second
 *   (no leap second), an optional fraction after "." or "," with any number of digits (beyond 9 ignored), then
 *   "Z" or ±hh:mm with hh ≤ 24 and mm ≤ 60; nothing else (no lower-case t/z, no space, no missing seconds).
 * - Older than 24 h means now − t > 24 h to the nanosecond; timestamps in the future are accepted.
 * - The output is json.Marshal's bytes: fields in the order id, timestamp, data, status; <, >, &, U+2028 and
 *   U+2029 escaped as \u003c, \u003e, \u0026, \u2028, \u2029.
 *
 * - A null Kafka value rejects ("value is null"): Go's Unmarshal of nil bytes fails.
 *
 * Intentional differences from the seed:
 * - With the defaults, none in any decision or output byte. The reason of a rejection (the dead-letter header) is
 *   processor's own wording, not Go's error text.
 * - Opt-in checks, each off by default (see SeedRuleOptions): rejectFutureMs (reject timestamps too far in the
 *   future), strictUtf8 (reject values that are not valid UTF-8 instead of decoding bad bytes as U+FFFD),
 *   requireFields (reject a missing or null id or data instead of taking "").
 * - validateSeedMessage also takes a JS string: it is decided as its UTF-8 encoding would be (a lone surrogate in
 *   it counts as U+FFFD, as TextEncoder would write it).
 *
 * Layout: seed-rule/json-syntax.ts (Go's JSON scanner), seed-rule/go-json.ts (Unmarshal into the four fields),
 * seed-rule/go-utf8.ts (UTF-8 as Go decodes and counts it), seed-rule/go-time.ts (time.Parse RFC 3339),
 * seed-rule/marshal.ts (json.Marshal of the result); this file holds the rule itself and its options.
 */
import { PermanentError, type BatchHandler, type Handler, type InputRecord, type OutputRecord } from "./types.ts";
import { DATA, fieldSet, fieldValues, forgetFieldValues, ID, SYNTAX, TIMESTAMP, unmarshal } from "./seed-rule/go-json.ts";
import { DAY_SECONDS, parsedTime, parseRfc3339 } from "./seed-rule/go-time.ts";
import { decodeLikeGo, startsJsonValue, utf8Length } from "./seed-rule/go-utf8.ts";
import { serialiseSeedMessage, type SeedMessage } from "./seed-rule/marshal.ts";

export { serialiseSeedMessage, type SeedMessage };

export interface SeedRuleOptions {
  /**
   * Reject a timestamp more than this many milliseconds in the future (clock skew guard). Off by default: the
   * seed accepted any future timestamp.
   */
  rejectFutureMs?: number;
  /**
   * Reject a value that is not valid UTF-8 ("value is not valid UTF-8"). Off by default: the seed accepted invalid
   * UTF-8 inside JSON strings and replaced it with U+FFFD.
   */
  strictUtf8?: boolean;
  /**
   * Reject a message whose id or data is missing or null. Off by default: the seed took them as "".
   */
  requireFields?: boolean;
  /** The clock, epoch milliseconds (for tests). Default Date.now. */
  now?: () => number;
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

const SYNTAX_NOT_UTF8 = `${SYNTAX} (and not valid UTF-8)`;

/** A field read from a JS string may hold lone surrogates; they become U+FFFD, as its UTF-8 encoding would have. */
function wellFormed(value: string, fromString: boolean): string {
  return fromString && !value.isWellFormed() ? value.toWellFormed() : value;
}

interface ResolvedOptions {
  readonly rejectFutureMs: number | null;
  readonly strictUtf8: boolean;
  readonly requireFields: boolean;
}

function resolveOptions(options: SeedRuleOptions): ResolvedOptions {
  const { rejectFutureMs, strictUtf8 = false, requireFields = false } = options;
  if (rejectFutureMs !== undefined && !(typeof rejectFutureMs === "number" && rejectFutureMs >= 0 && Number.isFinite(rejectFutureMs))) {
    throw new TypeError(`seed rule: rejectFutureMs must be a finite number >= 0, got ${String(rejectFutureMs)}`);
  }
  return { rejectFutureMs: rejectFutureMs ?? null, strictUtf8: strictUtf8 === true, requireFields: requireFields === true };
}

/**
 * A rejection: its stack would only point into this file, and taking it costs more than the rest of the check, on
 * what may be every record of a bad stream.
 */
function rejection(message: string): PermanentError {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return new PermanentError(message);
  } finally {
    Error.stackTraceLimit = limit;
  }
}

function check(value: string | Uint8Array | null, nowMs: number, options: ResolvedOptions): SeedMessage {
  if (value === null) throw rejection("value is null");
  const fromString = typeof value === "string";
  let source: string;
  let badUtf8 = false;
  if (typeof value === "string") {
    source = value;
  } else {
    try {
      source = fatalDecoder.decode(value);
    } catch {
      if (options.strictUtf8) throw rejection("value is not valid UTF-8");
      badUtf8 = true;
      // junk that cannot start a JSON value fails without decoding it (binary values can be large)
      if (!startsJsonValue(value)) throw rejection(SYNTAX_NOT_UTF8);
      source = decodeLikeGo(value);
    }
  }
  const error = unmarshal(source);
  if (error !== null) throw rejection(error === SYNTAX && badUtf8 ? SYNTAX_NOT_UTF8 : error);
  const timestamp = wellFormed(fieldValues[TIMESTAMP], fromString);
  const id = wellFormed(fieldValues[ID], fromString);
  const data = wellFormed(fieldValues[DATA], fromString);
  forgetFieldValues();
  if (!parseRfc3339(timestamp)) {
    throw rejection(
      timestamp === "" ? "timestamp is missing, null or empty: not RFC 3339" : `timestamp is not RFC 3339: ${timestamp.slice(0, 64)}`,
    );
  }
  // now.Sub(t) > 24h, to the nanosecond (now is whole milliseconds)
  const now = Math.floor(nowMs);
  const nowSeconds = Math.floor(now / 1000);
  const nowNanos = (now - nowSeconds * 1000) * 1_000_000;
  const ageSeconds = nowSeconds - parsedTime.seconds;
  if (ageSeconds > DAY_SECONDS || (ageSeconds === DAY_SECONDS && nowNanos > parsedTime.nanos)) {
    throw rejection(`timestamp is older than 24 hours: ${timestamp.slice(0, 64)}`);
  }
  if (options.rejectFutureMs !== null && -ageSeconds * 1000 + (parsedTime.nanos - nowNanos) / 1_000_000 > options.rejectFutureMs) {
    throw rejection(`timestamp is in the future: ${timestamp.slice(0, 64)}`);
  }
  if (options.requireFields) {
    if (!fieldSet[ID]) throw rejection("id is missing or null");
    if (!fieldSet[DATA]) throw rejection("data is missing or null");
  }
  return {
    id,
    timestamp,
    data,
    status: data.length > 10 || utf8Length(data) > 10 ? "valid" : "invalid",
  };
}

/**
 * Decides one value (bytes as Kafka has them, or text) at `now` (epoch ms): the message with its status, or a
 * PermanentError saying why it goes to the dead-letter topic.
 */
export function validateSeedMessage(value: string | Uint8Array | null, now: number, options: SeedRuleOptions = {}): SeedMessage {
  return check(value, now, resolveOptions(options));
}

export function createSeedRule(options: SeedRuleOptions = {}): Handler {
  const resolved = resolveOptions(options);
  const clock = options.now ?? Date.now;
  return (record: InputRecord): OutputRecord => ({ value: serialiseSeedMessage(check(record.value, clock(), resolved)) });
}

/**
 * The rule's batch form (--batch-size > 1): one clock reading per batch, and a rejected record's PermanentError in its
 * place instead of thrown, so one bad record does not split the batch.
 */
export function createSeedBatchRule(options: SeedRuleOptions = {}): BatchHandler {
  const resolved = resolveOptions(options);
  const clock = options.now ?? Date.now;
  return (records) => {
    const now = clock();
    return records.map((record) => {
      try {
        return { value: serialiseSeedMessage(check(record.value, now, resolved)) };
      } catch (error) {
        return error instanceof Error ? error : new PermanentError(String(error));
      }
    });
  };
}

/** The seed's rule, exactly. */
export const seedRule: Handler = createSeedRule({});
