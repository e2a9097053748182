/**
 * json.Unmarshal(value, &msg) into the seed's struct { ID, Timestamp, Data, Status string }, exactly as Go's
 * encoding/json (v1) does it: which keys match, what null and duplicates do, which value types reject.
 *
 * The result lands in module scratch (fieldValues, fieldSet) instead of a new object per message: the rule is
 * synchronous, so one set per module instance (per worker) is enough, and the hot path allocates less.
 */
import { scanLiteral, scanString, skipSpace, skipValue, unquote } from "./json-syntax.ts";

export const ID = 0;
export const TIMESTAMP = 1;
export const DATA = 2;
export const STATUS = 3;
const FIELD_NAMES = ["id", "timestamp", "data", "status"] as const;
/** The four names as Go folds them (upper-case ASCII). */
const FOLDED_NAMES = ["ID", "TIMESTAMP", "DATA", "STATUS"] as const;

/** Each field's last string value ("" if none), by field index. */
export const fieldValues: [string, string, string, string] = ["", "", "", ""];
/** Whether the field was given as a string (not missing, not only null). */
export const fieldSet: [boolean, boolean, boolean, boolean] = [false, false, false, false];
let typeError: string | null = null;

export const SYNTAX = "value is not valid JSON";

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

/** Unmarshals `s` into fieldValues/fieldSet as Go would. null, or why Unmarshal fails (SYNTAX for a syntax error). */
export function unmarshal(s: string): string | null {
  forgetFieldValues();
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

/** Empties fieldValues (fieldSet stays readable), so the scratch keeps no part of the last value alive. */
export function forgetFieldValues(): void {
  fieldValues[0] = fieldValues[1] = fieldValues[2] = fieldValues[3] = "";
}
