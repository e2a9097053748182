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
 */
import { PermanentError, type Handler, type InputRecord, type OutputRecord } from "./types.ts";

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

export interface SeedMessage {
  id: string;
  timestamp: string;
  data: string;
  status: "valid" | "invalid";
}

const MAX_DEPTH = 10_000; // encoding/json's maxNestingDepth
const DAY_SECONDS = 24 * 60 * 60;

const fatalDecoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

// ---- Scanner state. The rule is synchronous, so one set of scratch per module instance (per worker) is enough.

const ID = 0;
const TIMESTAMP = 1;
const DATA = 2;
const STATUS = 3;
const FIELD_NAMES = ["id", "timestamp", "data", "status"] as const;
/** The four names as Go folds them (upper-case ASCII). */
const FOLDED_NAMES = ["ID", "TIMESTAMP", "DATA", "STATUS"] as const;

/** Plain characters a string scan reads one by one before it jumps to the next special one with STRING_STOP. */
const PLAIN_RUN = 24;
const STRING_STOP = /[\x00-\x1f"\\]/g;

/** Whether the text came from a JS string (it may hold lone surrogates) rather than decoded bytes. */
let fromString = false;
const fieldValues: [string, string, string, string] = ["", "", "", ""];
const fieldSet: [boolean, boolean, boolean, boolean] = [false, false, false, false];
let typeError: string | null = null;
/** Open containers by depth: 1 = object, 0 = array. */
const containers = new Uint8Array(MAX_DEPTH + 2);

const SYNTAX = "value is not valid JSON";

// Scanner functions take the text and a position and return the position after what they read, or -1 for a
// syntax error. charCodeAt past the end is NaN, which matches nothing; the hot loops still check the end (reading
// past it is slow).

function skipSpace(s: string, p: number): number {
  const n = s.length;
  while (p < n) {
    const c = s.charCodeAt(p);
    if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) p++;
    else return p;
  }
  return p;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}

/**
 * Skips the string whose opening quote is at p. Returns 2 × (the position after the closing quote) + 1 if the
 * string has escapes (+ 0 if not), or -1.
 */
function scanString(s: string, p: number): number {
  const n = s.length;
  let escaped = 0;
  p++;
  for (;;) {
    // plain characters one by one for a while, then let the regex engine find the next special one
    const limit = p + PLAIN_RUN < n ? p + PLAIN_RUN : n;
    let c = 0;
    while (p < limit && (c = s.charCodeAt(p)) >= 0x20 && c !== 0x22 && c !== 0x5c) p++;
    if (p === limit) {
      if (p >= n) return -1;
      STRING_STOP.lastIndex = p;
      if (!STRING_STOP.test(s)) return -1;
      p = STRING_STOP.lastIndex - 1;
      c = s.charCodeAt(p);
    }
    if (c === 0x22) return (p + 1) * 2 + escaped;
    if (c !== 0x5c) return -1; // a control character
    escaped = 1;
    const e = s.charCodeAt(p + 1);
    if (e === 0x75) {
      if (hexValue(s.charCodeAt(p + 2)) < 0 || hexValue(s.charCodeAt(p + 3)) < 0 || hexValue(s.charCodeAt(p + 4)) < 0 || hexValue(s.charCodeAt(p + 5)) < 0) return -1;
      p += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      p += 2;
    } else {
      return -1;
    }
  }
}

function hex4(s: string, p: number): number {
  return (hexValue(s.charCodeAt(p)) << 12) | (hexValue(s.charCodeAt(p + 1)) << 8) | (hexValue(s.charCodeAt(p + 2)) << 4) | hexValue(s.charCodeAt(p + 3));
}

/** The content [from, to) of a valid string literal with escapes resolved as Go's unquote does. */
function unquote(source: string, from: number, to: number): string {
  const s = source.slice(from, to); // bounds every search below to this string
  const n = s.length;
  let out = "";
  let run = 0;
  let p = 0;
  for (;;) {
    p = s.indexOf("\\", p);
    if (p < 0) break;
    if (p > run) out += s.slice(run, p);
    const e = s.charCodeAt(p + 1);
    if (e === 0x75) {
      const r = hex4(s, p + 2);
      p += 6;
      if (r >= 0xd800 && r <= 0xdfff) {
        // a valid pair is a high surrogate escape followed by a low one; anything else is U+FFFD
        const r2 = r <= 0xdbff && p + 6 <= n && s.charCodeAt(p) === 0x5c && s.charCodeAt(p + 1) === 0x75 ? hex4(s, p + 2) : -1;
        if (r2 >= 0xdc00 && r2 <= 0xdfff) {
          out += String.fromCharCode(r, r2);
          p += 6;
        } else {
          out += "\ufffd";
        }
      } else {
        out += String.fromCharCode(r);
      }
    } else {
      out += e === 0x62 ? "\b" : e === 0x66 ? "\f" : e === 0x6e ? "\n" : e === 0x72 ? "\r" : e === 0x74 ? "\t" : String.fromCharCode(e);
      p += 2;
    }
    run = p;
  }
  return run === 0 ? s : out + s.slice(run);
}

/** Go's fold of one UTF-16 unit as far as it matters for ASCII names: a-z, ſ (U+017F) and K (U+212A). */
function fold(c: number): number {
  if (c >= 0x61 && c <= 0x7a) return c - 0x20;
  if (c === 0x17f) return 0x53;
  if (c === 0x212a) return 0x4b;
  return c;
}

function foldedEquals(s: string, from: number, name: string): boolean {
  for (let i = 0; i < name.length; i++) if (fold(s.charCodeAt(from + i)) !== name.charCodeAt(i)) return false;
  return true;
}

/** Which field the key [from, to) names, or -1. */
function fieldOf(s: string, from: number, to: number, escaped: boolean): number {
  if (escaped) {
    s = unquote(s, from, to);
    from = 0;
    to = s.length;
  }
  switch (to - from) {
    case 2:
      return foldedEquals(s, from, FOLDED_NAMES[ID]) ? ID : -1;
    case 9:
      return foldedEquals(s, from, FOLDED_NAMES[TIMESTAMP]) ? TIMESTAMP : -1;
    case 4:
      return foldedEquals(s, from, FOLDED_NAMES[DATA]) ? DATA : -1;
    case 6:
      return foldedEquals(s, from, FOLDED_NAMES[STATUS]) ? STATUS : -1;
    default:
      return -1;
  }
}

function isDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x39;
}

function scanNumber(s: string, p: number): number {
  if (s.charCodeAt(p) === 0x2d) p++;
  const first = s.charCodeAt(p);
  if (first === 0x30) p++;
  else if (first >= 0x31 && first <= 0x39) {
    p++;
    while (isDigit(s.charCodeAt(p))) p++;
  } else return -1;
  if (s.charCodeAt(p) === 0x2e) {
    p++;
    if (!isDigit(s.charCodeAt(p))) return -1;
    while (isDigit(s.charCodeAt(p))) p++;
  }
  const e = s.charCodeAt(p);
  if (e === 0x65 || e === 0x45) {
    p++;
    const sign = s.charCodeAt(p);
    if (sign === 0x2b || sign === 0x2d) p++;
    if (!isDigit(s.charCodeAt(p))) return -1;
    while (isDigit(s.charCodeAt(p))) p++;
  }
  return p;
}

function scanLiteral(s: string, p: number, word: string): number {
  return s.startsWith(word, p) ? p + word.length : -1;
}

/** Skips `"key"`, the colon and the spaces around it. */
function skipKey(s: string, p: number): number {
  if (s.charCodeAt(p) !== 0x22) return -1;
  const r = scanString(s, p);
  if (r < 0) return -1;
  p = skipSpace(s, r >> 1);
  if (s.charCodeAt(p) !== 0x3a) return -1;
  return skipSpace(s, p + 1);
}

/** Skips one value at p (spaces before it skipped) inside `base` open containers. */
function skipValue(s: string, p: number, base: number): number {
  let depth = base;
  for (;;) {
    // a value starts at p
    const c = s.charCodeAt(p);
    if (c === 0x7b || c === 0x5b) {
      if (++depth > MAX_DEPTH) return -1;
      const object = c === 0x7b;
      containers[depth] = object ? 1 : 0;
      p = skipSpace(s, p + 1);
      if (s.charCodeAt(p) === (object ? 0x7d : 0x5d)) {
        p++;
        depth--;
      } else {
        if (object && (p = skipKey(s, p)) < 0) return -1;
        continue;
      }
    } else if (c === 0x22) {
      const r = scanString(s, p);
      if (r < 0) return -1;
      p = r >> 1;
    } else if (c === 0x74) {
      if ((p = scanLiteral(s, p, "true")) < 0) return -1;
    } else if (c === 0x66) {
      if ((p = scanLiteral(s, p, "false")) < 0) return -1;
    } else if (c === 0x6e) {
      if ((p = scanLiteral(s, p, "null")) < 0) return -1;
    } else if ((p = scanNumber(s, p)) < 0) {
      return -1;
    }
    // after a value: close containers until one continues with ","
    for (;;) {
      if (depth === base) return p;
      p = skipSpace(s, p);
      const d = s.charCodeAt(p);
      const object = containers[depth] === 1;
      if (d === 0x2c) {
        p = skipSpace(s, p + 1);
        if (object && (p = skipKey(s, p)) < 0) return -1;
        break;
      }
      if (d !== (object ? 0x7d : 0x5d)) return -1;
      p++;
      depth--;
    }
  }
}

function kindOf(c: number): string {
  return c === 0x7b ? "an object" : c === 0x5b ? "an array" : c === 0x74 || c === 0x66 ? "a bool" : "a number";
}

/** The top-level object whose "{" is at p: fills the fields. The position after it, or -1. */
function scanTopObject(s: string, p: number): number {
  p = skipSpace(s, p + 1);
  if (s.charCodeAt(p) === 0x7d) return p + 1;
  for (;;) {
    if (s.charCodeAt(p) !== 0x22) return -1;
    const keyStart = p + 1;
    const k = scanString(s, p);
    if (k < 0) return -1;
    p = k >> 1;
    const field = fieldOf(s, keyStart, p - 1, (k & 1) === 1);
    p = skipSpace(s, p);
    if (s.charCodeAt(p) !== 0x3a) return -1;
    p = skipSpace(s, p + 1);
    const c = s.charCodeAt(p);
    if (c === 0x22) {
      const valueStart = p + 1;
      const r = scanString(s, p);
      if (r < 0) return -1;
      p = r >> 1;
      if (field >= 0) {
        fieldValues[field] = (r & 1) === 0 ? s.slice(valueStart, p - 1) : unquote(s, valueStart, p - 1);
        fieldSet[field] = true;
      }
    } else if (c === 0x6e) {
      if ((p = scanLiteral(s, p, "null")) < 0) return -1; // null leaves the field as it was
    } else {
      if ((p = skipValue(s, p, 1)) < 0) return -1;
      if (field >= 0 && typeError === null) typeError = `${FIELD_NAMES[field]} is not a string (it is ${kindOf(c)})`;
    }
    p = skipSpace(s, p);
    const d = s.charCodeAt(p);
    if (d === 0x2c) {
      p = skipSpace(s, p + 1);
    } else if (d === 0x7d) {
      return p + 1;
    } else {
      return -1;
    }
  }
}

/** Unmarshals `s` into the field scratch as Go would. null, or why Unmarshal fails. */
function unmarshal(s: string, isString: boolean): string | null {
  fromString = isString;
  fieldValues[0] = fieldValues[1] = fieldValues[2] = fieldValues[3] = "";
  fieldSet[0] = fieldSet[1] = fieldSet[2] = fieldSet[3] = false;
  typeError = null;
  let p = skipSpace(s, 0);
  const c = s.charCodeAt(p);
  if (c === 0x7b) {
    p = scanTopObject(s, p);
  } else if (c === 0x6e) {
    p = scanLiteral(s, p, "null");
  } else {
    p = skipValue(s, p, 0);
    typeError = `value is not a JSON object (it is ${c === 0x22 ? "a string" : kindOf(c)})`;
  }
  if (p < 0 || skipSpace(s, p) !== s.length) return SYNTAX;
  return typeError;
}

// ---- UTF-8 as Go decodes it

/** Decodes bytes that are not valid UTF-8: each byte that does not start a valid sequence is U+FFFD (utf8.DecodeRune). */
function decodeLikeGo(bytes: Uint8Array): string {
  const units = new Uint16Array(bytes.length);
  let w = 0;
  const n = bytes.length;
  for (let i = 0; i < n; ) {
    const c = bytes[i]!;
    if (c < 0x80) {
      units[w++] = c;
      i++;
      continue;
    }
    const c1 = i + 1 < n ? bytes[i + 1]! : -1;
    if (c >= 0xc2 && c <= 0xdf && c1 >= 0x80 && c1 <= 0xbf) {
      units[w++] = ((c & 0x1f) << 6) | (c1 & 0x3f);
      i += 2;
      continue;
    }
    const c2 = i + 2 < n ? bytes[i + 2]! : -1;
    if (c >= 0xe0 && c <= 0xef && c1 >= (c === 0xe0 ? 0xa0 : 0x80) && c1 <= (c === 0xed ? 0x9f : 0xbf) && c2 >= 0x80 && c2 <= 0xbf) {
      units[w++] = ((c & 0x0f) << 12) | ((c1 & 0x3f) << 6) | (c2 & 0x3f);
      i += 3;
      continue;
    }
    const c3 = i + 3 < n ? bytes[i + 3]! : -1;
    if (c >= 0xf0 && c <= 0xf4 && c1 >= (c === 0xf0 ? 0x90 : 0x80) && c1 <= (c === 0xf4 ? 0x8f : 0xbf) && c2 >= 0x80 && c2 <= 0xbf && c3 >= 0x80 && c3 <= 0xbf) {
      const cp = (((c & 0x07) << 18) | ((c1 & 0x3f) << 12) | ((c2 & 0x3f) << 6) | (c3 & 0x3f)) - 0x10000;
      units[w++] = 0xd800 + (cp >> 10);
      units[w++] = 0xdc00 + (cp & 0x3ff);
      i += 4;
      continue;
    }
    units[w++] = 0xfffd;
    i++;
  }
  let out = "";
  for (let i = 0; i < w; i += 8192) out += String.fromCharCode.apply(null, units.subarray(i, Math.min(w, i + 8192)) as unknown as number[]);
  return out;
}

const SYNTAX_NOT_UTF8 = `${SYNTAX} (and not valid UTF-8)`;

/** Whether the first byte after JSON white space can start a JSON value. */
function startsJsonValue(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  const c = bytes[i];
  return c === 0x7b || c === 0x5b || c === 0x22 || c === 0x74 || c === 0x66 || c === 0x6e || c === 0x2d || (c !== undefined && c >= 0x30 && c <= 0x39);
}

// ---- time.Parse(time.RFC3339, …)

let parsedSeconds = 0;
let parsedNanos = 0;

function digit(value: string, i: number): number {
  const c = value.charCodeAt(i);
  return c >= 0x30 && c <= 0x39 ? c - 0x30 : -1;
}

function two(value: string, i: number): number {
  const a = digit(value, i);
  const b = digit(value, i + 1);
  return a < 0 || b < 0 ? -1 : a * 10 + b;
}

function daysIn(month: number, year: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

/** Days from 1970-01-01 to a proleptic Gregorian date. */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const doy = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
}

/** Go's time.Parse(time.RFC3339, value): true and parsedSeconds/parsedNanos set, or false. */
function parseRfc3339(value: string): boolean {
  const n = value.length;
  if (n < 4) return false;
  const y0 = digit(value, 0);
  const y1 = digit(value, 1);
  const y2 = digit(value, 2);
  const y3 = digit(value, 3);
  if (y0 < 0 || y1 < 0 || y2 < 0 || y3 < 0) return false;
  const year = y0 * 1000 + y1 * 100 + y2 * 10 + y3;
  if (value.charCodeAt(4) !== 0x2d) return false;
  const month = two(value, 5);
  if (month < 1 || month > 12) return false;
  if (value.charCodeAt(7) !== 0x2d) return false;
  const day = two(value, 8);
  if (day < 0 || value.charCodeAt(10) !== 0x54) return false;
  // the hour may have one digit
  let p = 11;
  let hour = digit(value, p);
  if (hour < 0) return false;
  const h1 = digit(value, p + 1);
  if (h1 >= 0) {
    hour = hour * 10 + h1;
    p += 2;
  } else p += 1;
  if (hour > 23 || value.charCodeAt(p) !== 0x3a) return false;
  const minute = two(value, p + 1);
  if (minute < 0 || minute > 59 || value.charCodeAt(p + 3) !== 0x3a) return false;
  const second = two(value, p + 4);
  if (second < 0 || second > 59) return false;
  p += 6;
  let nanos = 0;
  const sep = value.charCodeAt(p);
  if ((sep === 0x2e || sep === 0x2c) && digit(value, p + 1) >= 0) {
    let q = p + 1;
    let count = 0;
    for (let d = digit(value, q); d >= 0; d = digit(value, ++q)) {
      if (count < 9) {
        nanos = nanos * 10 + d;
        count++;
      }
    }
    for (; count < 9; count++) nanos *= 10;
    p = q;
  }
  let offset = 0;
  if (value.charCodeAt(p) === 0x5a) {
    p++;
  } else {
    if (n - p < 6 || value.charCodeAt(p + 3) !== 0x3a) return false;
    const oh = two(value, p + 1);
    const om = two(value, p + 4);
    if (oh < 0 || om < 0 || oh > 24 || om > 60) return false;
    const sign = value.charCodeAt(p);
    if (sign === 0x2b) offset = (oh * 60 + om) * 60;
    else if (sign === 0x2d) offset = -(oh * 60 + om) * 60;
    else return false;
    p += 6;
  }
  if (p !== n) return false;
  if (day < 1 || day > daysIn(month, year)) return false;
  parsedSeconds = daysFromCivil(year, month, day) * DAY_SECONDS + hour * 3600 + minute * 60 + second - offset;
  parsedNanos = nanos;
  return true;
}

function utf8Length(value: string): number {
  let bytes = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c < 0x80) bytes += 1;
    else if (c < 0x800) bytes += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < value.length && (value.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      bytes += 4;
      i++;
    } else bytes += 3;
  }
  return bytes;
}

function wellFormed(value: string): string {
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

function check(value: string | Uint8Array | null, nowMs: number, options: ResolvedOptions): SeedMessage {
  if (value === null) throw new PermanentError("value is null");
  let source: string;
  let badUtf8 = false;
  if (typeof value === "string") {
    source = value;
  } else {
    try {
      source = fatalDecoder.decode(value);
    } catch {
      if (options.strictUtf8) throw new PermanentError("value is not valid UTF-8");
      badUtf8 = true;
      // junk that cannot start a JSON value fails without decoding it (binary values can be large)
      if (!startsJsonValue(value)) throw new PermanentError(SYNTAX_NOT_UTF8);
      source = decodeLikeGo(value);
    }
  }
  const error = unmarshal(source, typeof value === "string");
  if (error !== null) throw new PermanentError(error === SYNTAX && badUtf8 ? SYNTAX_NOT_UTF8 : error);
  const timestamp = wellFormed(fieldValues[TIMESTAMP]);
  const id = wellFormed(fieldValues[ID]);
  const data = wellFormed(fieldValues[DATA]);
  fieldValues[0] = fieldValues[1] = fieldValues[2] = fieldValues[3] = ""; // keep no part of this value alive
  if (!parseRfc3339(timestamp)) {
    throw new PermanentError(timestamp === "" ? "timestamp is missing, null or empty: not RFC 3339" : `timestamp is not RFC 3339: ${timestamp.slice(0, 64)}`);
  }
  // now.Sub(t) > 24h, to the nanosecond (now is whole milliseconds)
  const now = Math.floor(nowMs);
  const nowSeconds = Math.floor(now / 1000);
  const nowNanos = (now - nowSeconds * 1000) * 1_000_000;
  const ageSeconds = nowSeconds - parsedSeconds;
  if (ageSeconds > DAY_SECONDS || (ageSeconds === DAY_SECONDS && nowNanos > parsedNanos)) {
    throw new PermanentError(`timestamp is older than 24 hours: ${timestamp.slice(0, 64)}`);
  }
  if (options.rejectFutureMs !== null && -ageSeconds * 1000 + (parsedNanos - nowNanos) / 1_000_000 > options.rejectFutureMs) {
    throw new PermanentError(`timestamp is in the future: ${timestamp.slice(0, 64)}`);
  }
  if (options.requireFields) {
    if (!fieldSet[ID]) throw new PermanentError("id is missing or null");
    if (!fieldSet[DATA]) throw new PermanentError("data is missing or null");
  }
  return {
    id,
    timestamp,
    data,
    status: data.length > 10 || utf8Length(data) > 10 ? "valid" : "invalid",
  };
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_UNSAFE_ALL = /[<>&\u2028\u2029]/g;
const htmlEscape = (c: string): string => (c === "<" ? "\\u003c" : c === ">" ? "\\u003e" : c === "&" ? "\\u0026" : c === "\u2028" ? "\\u2028" : "\\u2029");

/** json.Marshal of the message: JSON.stringify plus Go's escaping of <, >, &, U+2028 and U+2029. */
export function serialiseSeedMessage(message: SeedMessage): string {
  const json = JSON.stringify({ id: message.id, timestamp: message.timestamp, data: message.data, status: message.status });
  return HTML_UNSAFE.test(json) ? json.replace(HTML_UNSAFE_ALL, htmlEscape) : json;
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

/** The seed's rule, exactly. */
export const seedRule: Handler = createSeedRule({});
