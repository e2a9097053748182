/**
 * A deterministic corpus for the seed-rule differential test (test/unit/seed-rule-differential.test.ts): Kafka
 * values that probe every place where Go's encoding/json + time.Parse(time.RFC3339) could disagree with the
 * TypeScript rule. Same seed and now: the same bytes, in the same order.
 *
 * Timestamps are made relative to `nowMs` and mostly land where a difference is visible: inside the 24-hour
 * window or in the future (a timestamp that parses and one that does not both reject when it is old).
 */
import { prng } from "../support/random.ts";

export interface CorpusCase {
  /** What the case probes (for failure messages). */
  readonly name: string;
  /** The Kafka value; null is a null value. */
  readonly value: Uint8Array | null;
}

export interface CorpusOptions {
  /** PRNG seed. */
  readonly seed?: number;
  /** Number of generated cases on top of the hand-written ones. */
  readonly generated?: number;
}

type Part = string | number[] | Uint8Array;

const encoder = new TextEncoder();
const DAY_MS = 24 * 60 * 60 * 1000;

function bytes(...parts: Part[]): Uint8Array {
  const chunks = parts.map((p) => (typeof p === "string" ? encoder.encode(p) : p instanceof Uint8Array ? p : Uint8Array.from(p)));
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

// ---- calendar helpers (proleptic Gregorian, UTC)

function civilFromDays(days: number): [number, number, number] {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return [era * 400 + yoe + (month <= 2 ? 1 : 0), month, day];
}

const pad = (n: number, width: number) => String(n).padStart(width, "0");

/** An instant: whole seconds since the epoch and nanoseconds. */
interface Instant {
  readonly seconds: number;
  readonly nanos: number;
}

function instantFromMs(ms: number, extraNanos = 0): Instant {
  const seconds = Math.floor(ms / 1000);
  let nanos = (ms - seconds * 1000) * 1_000_000 + extraNanos;
  let s = seconds;
  while (nanos < 0) {
    nanos += 1_000_000_000;
    s--;
  }
  while (nanos >= 1_000_000_000) {
    nanos -= 1_000_000_000;
    s++;
  }
  return { seconds: s, nanos };
}

interface Style {
  /** "Z", or [sign, hh, mm] of the written offset (hh up to 24 and mm up to 60 are accepted by Go). */
  readonly zone: "Z" | readonly ["+" | "-", number, number];
  /** Fraction separator and number of digits (0: none). */
  readonly fraction: readonly ["." | ",", number];
  /** Write the hour with one digit when it is below 10. */
  readonly shortHour: boolean;
}

/** RFC 3339 text for an instant in the given style (null when the wall year falls outside 0000-9999). */
function formatInstant(at: Instant, style: Style, random: () => number): string | null {
  const offsetSeconds = style.zone === "Z" ? 0 : (style.zone[0] === "-" ? -1 : 1) * (style.zone[1] * 3600 + style.zone[2] * 60);
  const wall = at.seconds + offsetSeconds;
  const days = Math.floor(wall / 86400);
  const secOfDay = wall - days * 86400;
  const [year, month, day] = civilFromDays(days);
  if (year < 0 || year > 9999) return null;
  const hour = Math.floor(secOfDay / 3600);
  const minute = Math.floor((secOfDay % 3600) / 60);
  const second = secOfDay % 60;
  let text = `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${style.shortHour && hour < 10 ? String(hour) : pad(hour, 2)}:${pad(minute, 2)}:${pad(second, 2)}`;
  const [sep, digits] = style.fraction;
  if (digits > 0) {
    let frac = pad(at.nanos, 9).slice(0, Math.min(9, digits));
    for (let i = 9; i < digits; i++) frac += String(Math.floor(random() * 10));
    text += sep + frac;
  }
  text += style.zone === "Z" ? "Z" : `${style.zone[0]}${pad(style.zone[1], 2)}:${pad(style.zone[2], 2)}`;
  return text;
}

// ---- building blocks

/** Byte sequences that are not valid UTF-8 (Go turns each bad byte into U+FFFD; WHATWG groups some). */
const BAD_UTF8: number[][] = [
  [0x80],
  [0xbf],
  [0xff],
  [0xfe],
  [0xf5],
  [0xf8, 0x88, 0x80, 0x80, 0x80],
  [0xc0, 0x80],
  [0xc1, 0xbf],
  [0xc2],
  [0xc3, 0x28],
  [0xdf],
  [0xe0, 0x80, 0x80],
  [0xe0, 0x9f, 0xbf],
  [0xe0, 0xa0],
  [0xe2, 0x82],
  [0xe2, 0x82, 0x41],
  [0xed, 0xa0, 0x80],
  [0xed, 0xbf, 0xbf],
  [0xef, 0xbf],
  [0xf0, 0x8f, 0xbf, 0xbf],
  [0xf0, 0x9f, 0x98],
  [0xf0, 0x9f],
  [0xf4, 0x90, 0x80, 0x80],
  [0xf4, 0x8f, 0xbf],
  [0x80, 0x80, 0x80],
  [0xc3, 0xa9, 0xa9],
  [0xe2, 0x28, 0xa1],
  [0xf1, 0x80, 0x80],
];

/** String content pieces with their byte weight after Go's decoding (for lengths around 10 bytes). */
const PIECES: Array<[Part, string]> = [
  ["a", "ascii"],
  ["Z", "ascii"],
  ["0", "ascii"],
  [" ", "space"],
  ["é", "2-byte"],
  ["ß", "2-byte"],
  ["€", "3-byte"],
  ["中", "3-byte"],
  ["😀", "4-byte"],
  ["\\n", "escape"],
  ["\\t", "escape"],
  ['\\"', "escape"],
  ["\\\\", "escape"],
  ["\\/", "escape"],
  ["\\b", "escape"],
  ["\\f", "escape"],
  ["\\r", "escape"],
  ["\\u0041", "u-escape"],
  ["\\u00e9", "u-escape 2"],
  ["\\u20AC", "u-escape 3"],
  ["\\u0000", "u-escape nul"],
  ["\\u001f", "u-escape ctl"],
  ["\\ud83d\\ude00", "surrogate pair"],
  ["\\uD83D\\uDE00", "surrogate pair upper"],
  ["\\ud800", "lone high"],
  ["\\udfff", "lone low"],
  ["\\udc00\\ud800", "reversed pair"],
  ["\\ud800\\u0041", "high then bmp"],
  ["\\ud800\\ud800", "high high"],
  ["\\ud800\\n", "high then escape"],
  ["<", "html"],
  [">", "html"],
  ["&", "html"],
  ["\u2028", "line sep"],
  ["\u2029", "para sep"],
  ["\u007f", "del"],
  ["\ufeff", "bom in string"],
  ["\ufffd", "replacement char"],
  ["ſ", "long s"],
  ["K", "kelvin"],
];

/** Pieces that make the string literal invalid JSON. */
const BAD_PIECES: Array<[Part, string]> = [
  ["\\x41", "bad escape x"],
  ["\\'", "bad escape quote"],
  ["\\U0041", "bad escape U"],
  ["\\u12", "short u"],
  ["\\u12g4", "bad hex"],
  ["\\", "lone backslash"],
  [[0x01], "raw control"],
  [[0x0a], "raw newline"],
  [[0x09], "raw tab"],
  [[0x00], "raw nul"],
  [[0x1f], "raw 0x1f"],
  ["\\a", "bad escape a"],
  ["\\ ", "bad escape space"],
];

const FIELDS = ["id", "timestamp", "data", "status"] as const;
type Field = (typeof FIELDS)[number];

const SPACE = ["", "", "", " ", "\n", "\t", "\r\n", "  ", " \t\r\n "];
const BAD_SPACE = ["\f", "\v", "\u00a0", "\u3000", "\u2028", "\ufeff", "\u0085"];

export function seedRuleCorpus(nowMs: number, options: CorpusOptions = {}): CorpusCase[] {
  const random = prng(options.seed ?? 0x5eed);
  const generated = options.generated ?? 20_000;
  const int = (lo: number, hi: number) => lo + Math.floor(random() * (hi - lo + 1));
  const chance = (p: number) => random() < p;
  const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
  const cases: CorpusCase[] = [];
  const add = (name: string, ...parts: Part[]) => cases.push({ name, value: bytes(...parts) });

  // ---- timestamps

  const goodStyle = (): Style => ({
    zone: chance(0.35)
      ? "Z"
      : [pick(["+", "-"] as const), pick([0, 0, 1, 2, 5, 9, 10, 12, 13, 14, 23, 24]), pick([0, 0, 0, 15, 30, 45, 59, 60])],
    fraction: chance(0.5) ? [".", 0] : [chance(0.75) ? "." : ",", pick([1, 2, 3, 3, 6, 9, 9, 10, 12, 20])],
    shortHour: chance(0.1),
  });

  /** An instant where a parse difference shows: the 24-hour edge, inside the window, or in the future. */
  const interestingInstant = (): Instant => {
    const r = random();
    if (r < 0.3) {
      // the 24-hour edge, to the millisecond and nanosecond
      const delta = pick([-5000, -2000, -1001, -1000, -999, -2, -1, 0, 0, 0, 1, 2, 999, 1000, 1001, 2000, 5000, 60_000, -60_000]);
      return instantFromMs(nowMs - DAY_MS + delta, pick([0, 0, 0, 1, -1, 999_999, -999_999, 500_000, 123]));
    }
    if (r < 0.6) return instantFromMs(nowMs - int(0, DAY_MS - 1), int(0, 999_999)); // inside the window
    if (r < 0.75) return instantFromMs(nowMs + int(0, 10 * DAY_MS), int(0, 999_999)); // near future
    if (r < 0.85) return instantFromMs(nowMs + int(0, 100) * 365 * DAY_MS + int(0, DAY_MS)); // far future
    if (r < 0.9) return instantFromMs(nowMs - int(1, 40) * DAY_MS); // old
    if (r < 0.95) return instantFromMs(Date.UTC(9999, 11, 31, 23, 59, 59) - int(0, 400) * DAY_MS); // year 9999
    return instantFromMs(Date.UTC(2000, 0, 1) - 2000 * 365 * DAY_MS - int(0, 400) * DAY_MS); // year 0000 area (always old)
  };

  const goodTimestamp = (): string => {
    for (;;) {
      const text = formatInstant(interestingInstant(), goodStyle(), random);
      if (text !== null) return text;
    }
  };

  /** Small edits that Go may or may not accept. */
  const mutateTimestamp = (ts: string): string => {
    const at = (i: number, s: string) => ts.slice(0, i) + s + ts.slice(i + 1);
    const m = int(0, 44);
    switch (m) {
      case 0:
        return ts.replace("T", "t");
      case 1:
        return ts.endsWith("Z") ? `${ts.slice(0, -1)}z` : `${ts}z`;
      case 2:
        return ts.replace("T", " ");
      case 3:
        return ts.replace(/:\d\d(?=[.,Z+-]|$)/, ""); // drop the seconds
      case 4:
        return ts.slice(2); // 2-digit year
      case 5:
        return `${at(5, "0").slice(0, 6)}0${ts.slice(7)}`; // month 00
      case 6:
        return `${ts.slice(0, 5)}13${ts.slice(7)}`;
      case 7:
        return ts.slice(0, 8) + pick(["00", "29", "30", "31", "32", "99"]) + ts.slice(10);
      case 8:
        return ts.replace(/T\d\d?:/, `T${pick(["24", "25", "99", "0", "7", "007"])}:`);
      case 9:
        return ts.replace(/T(\d\d?):\d\d:/, `T$1:${pick(["60", "61", "6", "5", "059"])}:`);
      case 10:
        return ts.replace(/:(\d\d)(?=[.,Z+-]|$)/, `:${pick(["60", "61", "6", "5", "059"])}`);
      case 11:
        return ts.replace(/([+-]\d\d):(\d\d)$/, "$1$2"); // +0100
      case 12:
        return ts.replace(
          /[+-]\d\d:\d\d$|Z$/,
          pick([
            "+01",
            "+1:00",
            "+01:0",
            "+01:000",
            "+001:00",
            "+01:00:00",
            "+0100",
            "UTC",
            "GMT",
            "+00:00Z",
            "Z+00:00",
            "ZZ",
            "",
            "-",
            "+",
            "+aa:bb",
          ]),
        );
      case 13:
        return ts.replace(
          /[+-]\d\d:\d\d$|Z$/,
          `${pick(["+", "-", "±", "−"])}${pad(pick([0, 1, 12, 23, 24, 25, 99]), 2)}:${pad(pick([0, 30, 59, 60, 61, 99]), 2)}`,
        );
      case 14:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1.");
      case 15:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1,");
      case 16:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1..5");
      case 17:
        return ts.replace(/(\d\d:\d\d:\d\d)/, `$1${pick([".", ","])}${"1234567890".repeat(int(1, 3))}`);
      case 18:
        return ts + pick([" ", "\n", "x", "0", "Z", ".5", "\u0000"]);
      case 19:
        return pick([" ", "\t", "+", "-", "0"]) + ts;
      case 20:
        return ts.replace(/\d/, pick(["０", "٠", "a", " "])); // a non-ASCII or non-digit
      case 21:
        return ts.slice(0, int(0, ts.length - 1)); // truncated
      case 22:
        return ts.slice(0, 10); // date only
      case 23:
        return ts.slice(11); // time only
      case 24:
        return ts.replace("-", "/");
      case 25:
        return ts.replace(/^(\d{4})/, pick(["+2026", "-2026", "02026", "226", "10000", "0000", "9999"]));
      case 26:
        return ts.replace("T", "T ");
      case 27:
        return ts.replace(/:/, "");
      case 28:
        return ts.toLowerCase();
      case 29:
        return ts.replace(/(\d\d:\d\d:\d\d)[.,]\d+/, "$1");
      case 30:
        return ts.replace("T", "\u0054\u0301"); // T + combining mark
      case 31:
        return ts.replace("Z", "\u017f");
      case 32:
        return ts.replace(/[+-]\d\d:\d\d$/, "Z");
      case 33:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1.0Z");
      case 34:
        return ts.replace(
          /([+-])(\d\d):(\d\d)$/,
          (_, s: string) => `${s}${pick(["24:00", "24:60", "00:60", "23:59", "24:59", "25:00", "00:61", "-1:00", " 1:00"])}`,
        );
      case 35:
        return ts.replace(/T(\d)(\d):/, (_, a: string, b: string) => (a === "0" ? `T${b}:` : `T${a}${b}:`)); // short hour
      case 36:
        return ts.replace(/\.\d+/, (f) => f.replace(".", ","));
      case 37:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1.-1");
      case 38:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1.+1");
      case 39:
        return ts.replace(/(\d\d:\d\d:\d\d)/, "$1.1e3");
      case 40:
        return ts.replace(/(\d\d:\d\d:\d\d)/, `$1.${"0".repeat(int(9, 30))}1`);
      case 41:
        return ts.replace(/-(\d\d)-/, "-$1--");
      case 42:
        return ts + ts;
      case 43:
        return ts.replace(/T(\d\d?):/, "T:");
      default:
        return ts.replace(/Z$/, "+00:00");
    }
  };

  /** Day-of-month checks that are visible: dates in the future (so a parse is accepted) in leap/non-leap years. */
  const calendarTimestamp = (): string => {
    const year = pick([2028, 2029, 2030, 2032, 2100, 2200, 2400, 2500, 9996, 9997, 9999, 4000, 4100]);
    const month = chance(0.4) ? 2 : int(1, 12);
    const day = pick([28, 29, 29, 30, 31, 1, 0, 32]);
    return `${pad(year, 4)}-${pad(month, 2)}-${pad(day, 2)}T${pad(int(0, 23), 2)}:${pad(int(0, 59), 2)}:${pad(int(0, 59), 2)}${pick(["Z", "+00:00", "-23:59", "+24:00", ".5Z"])}`;
  };

  const timestampText = (): string => {
    const r = random();
    if (r < 0.55) return goodTimestamp();
    if (r < 0.88) return mutateTimestamp(goodTimestamp());
    if (r < 0.95) return calendarTimestamp();
    return pick([
      "",
      " ",
      "now",
      "2026-11-26",
      "1764158400",
      "T",
      "Z",
      "0000-00-00T00:00:00Z",
      "9999-12-31T23:59:59Z",
      "9999-12-31T23:59:59.999999999+24:60",
      "0000-01-01T00:00:00-24:60",
    ]);
  };

  // ---- JSON pieces

  /** A JSON string literal (parts include the quotes). */
  const stringLiteral = (content: Part[]): Part[] => ['"', ...content, '"'];

  const textContent = (targetBytes: number, spice: number): { parts: Part[]; label: string } => {
    const parts: Part[] = [];
    const labels = new Set<string>();
    let size = 0;
    while (size < targetBytes) {
      if (chance(spice)) {
        if (chance(0.15)) {
          const bad = pick(BAD_UTF8);
          parts.push(bad);
          labels.add("bad-utf8");
          size += bad.length;
        } else if (chance(0.01)) {
          const [piece, label] = pick(BAD_PIECES);
          parts.push(piece);
          labels.add(label);
          size += 1;
        } else {
          const [piece, label] = pick(PIECES);
          parts.push(piece);
          labels.add(label);
          size += typeof piece === "string" ? Math.max(1, encoder.encode(piece).length) : piece.length;
        }
      } else {
        parts.push(String.fromCharCode(0x61 + int(0, 25)));
        size += 1;
      }
    }
    return { parts, label: [...labels].join("+") };
  };

  const number = () => pick(["0", "-0", "1", "12", "-1", "1.5", "1e3", "1E+3", "2.5e-3", "12345678901234567890", "1e400", "-0.0", "0.1"]);
  const badNumber = () =>
    pick(["01", "1.", ".5", "+1", "-", "1e", "1e+", "0x10", "NaN", "Infinity", "-Infinity", "1_000", "--1", "1.2.3", "00"]);

  /** Any JSON value (for unknown fields and non-string field values), up to a depth. */
  const anyValue = (depth: number): Part[] => {
    const r = random();
    if (depth <= 0 || r < 0.5) {
      return pick<() => Part[]>([
        () => [number()],
        () => [pick(["true", "false", "null"])],
        () => stringLiteral(textContent(int(0, 12), 0.3).parts),
      ])();
    }
    if (r < 0.75) {
      const out: Part[] = ["["];
      const n = int(0, 3);
      for (let i = 0; i < n; i++) out.push(...(i > 0 ? [","] : []), pick(SPACE), ...anyValue(depth - 1), pick(SPACE));
      out.push("]");
      return out;
    }
    const out: Part[] = ["{"];
    const n = int(0, 3);
    for (let i = 0; i < n; i++)
      out.push(
        ...(i > 0 ? [","] : []),
        pick(SPACE),
        ...stringLiteral([pick(["a", "id", "data", "", "x y", "timestamp", "\\u0041"])]),
        pick(SPACE),
        ":",
        pick(SPACE),
        ...anyValue(depth - 1),
      );
    out.push("}");
    return out;
  };

  /** A key that names `field` in some spelling, or nearly does. */
  const keyFor = (field: Field): { key: Part[]; label: string } => {
    const r = random();
    if (r < 0.55) return { key: [field], label: "exact" };
    if (r < 0.7) {
      // random case
      let k = "";
      for (const c of field) k += chance(0.5) ? c.toUpperCase() : c;
      return { key: [k], label: "case" };
    }
    if (r < 0.78 && field.includes("s"))
      return { key: [field.replace(/s/g, () => (chance(0.5) ? "ſ" : chance(0.5) ? "\\u017f" : "S"))], label: "long-s" };
    if (r < 0.86) {
      // an escaped letter
      const i = int(0, field.length - 1);
      const code = field.charCodeAt(i);
      const esc = `\\u${code.toString(16).padStart(4, "0")}`;
      return {
        key: [field.slice(0, i) + (chance(0.5) ? esc : esc.toUpperCase().replace("\\U", "\\u")) + field.slice(i + 1)],
        label: "escaped-letter",
      };
    }
    // near misses that must not match
    const miss = pick([
      `${field} `,
      ` ${field}`,
      `${field}s`,
      field.slice(1),
      field.replace("i", "ı"),
      field.replace("i", "İ"),
      field.replace("a", "а"), // Cyrillic а
      field.replace("t", "ｔ"),
      `${field}\\u0000`,
      field.toUpperCase().replace("I", "\u0130"),
      field.replace("s", "ß"),
      field.replace("d", "\u212a"),
    ]);
    if (chance(0.15)) return { key: [field.slice(0, 1), pick(BAD_UTF8), field.slice(1)], label: "bad-utf8-key" };
    return { key: [miss], label: "near-miss" };
  };

  type Kind = "string" | "null" | "number" | "bool" | "object" | "array" | "bad-string" | "bad-literal";

  const fieldValue = (field: Field, kind: Kind): Part[] => {
    switch (kind) {
      case "string":
        if (field === "timestamp") return stringLiteral([timestampText()]);
        if (field === "data") return stringLiteral(textContent(pick([0, 5, 8, 9, 10, 10, 10, 11, 11, 12, 13, 20, 30, 60]), 0.35).parts);
        return stringLiteral(textContent(int(0, 12), 0.2).parts);
      case "null":
        return ["null"];
      case "number":
        return [number()];
      case "bool":
        return [pick(["true", "false"])];
      case "object":
        return chance(0.5) ? ["{}"] : ['{"a":', ...anyValue(1), "}"];
      case "array":
        return chance(0.5) ? ["[]"] : ["[", ...anyValue(1), "]"];
      case "bad-string":
        return stringLiteral([...textContent(int(0, 6), 0.2).parts, pick(BAD_PIECES)[0]]);
      case "bad-literal":
        return [chance(0.5) ? badNumber() : pick(["nul", "NULL", "Null", "tru", "True", "nulll", "undefined", "'x'"])];
    }
  };

  const kindFor = (field: Field): Kind => {
    const r = random();
    const stringShare = field === "timestamp" ? 0.93 : 0.9;
    if (r < stringShare) return "string";
    if (r < stringShare + 0.04) return "null";
    return pick<Kind>(["number", "number", "bool", "object", "array", "bad-string", "bad-literal"]);
  };

  const messageParts = (): { parts: Part[]; labels: string[] } => {
    const labels: string[] = [];
    const members: Part[][] = [];
    for (const field of FIELDS) {
      const r = random();
      const absent = field === "timestamp" ? r < 0.02 : field === "status" ? r < 0.4 : r < 0.06;
      if (absent) {
        labels.push(`no-${field}`);
        continue;
      }
      const copies = chance(0.08) ? int(2, 3) : 1;
      for (let i = 0; i < copies; i++) {
        const { key, label } = keyFor(field);
        const kind = i === 0 || chance(0.5) ? kindFor(field) : pick<Kind>(["string", "null", "number"]);
        if (label !== "exact") labels.push(`${field}-key-${label}`);
        if (kind !== "string") labels.push(`${field}-${kind}`);
        if (copies > 1) labels.push(`${field}-dup`);
        members.push([...stringLiteral(key), pick(SPACE), ":", pick(SPACE), ...fieldValue(field, kind)]);
      }
    }
    const extras = chance(0.3) ? int(1, 3) : 0;
    for (let i = 0; i < extras; i++) {
      labels.push("extra");
      const key = pick([
        "extra",
        "Status2",
        "",
        "__proto__",
        "constructor",
        "ids",
        "DATA_",
        "tımestamp",
        "x".repeat(40),
        "\\u0000",
        "toString",
      ]);
      members.push([...stringLiteral([key]), pick(SPACE), ":", pick(SPACE), ...anyValue(3)]);
    }
    // shuffle
    for (let i = members.length - 1; i > 0; i--) {
      const j = int(0, i);
      [members[i], members[j]] = [members[j]!, members[i]!];
    }
    const parts: Part[] = [pick(SPACE), "{", pick(SPACE)];
    members.forEach((m, i) => {
      parts.push(...(i > 0 ? [pick(SPACE), ",", pick(SPACE)] : []), ...m);
    });
    parts.push(pick(SPACE), "}", pick(SPACE));
    return { parts, labels };
  };

  /** Structural damage to a whole message. */
  const damage = (value: Uint8Array): { value: Uint8Array; label: string } => {
    const m = int(0, 13);
    const n = value.length;
    const i = int(0, Math.max(0, n - 1));
    switch (m) {
      case 0:
        return { value: value.slice(0, i), label: "truncated" };
      case 1:
        return { value: bytes(value, pick([" x", "}", "{}", ",", "\u0000", "null", "0", "]", "\n\n", "/", "  \t"])), label: "trailing" };
      case 2:
        return { value: bytes(pick(BAD_UTF8), value), label: "bad-utf8-before" };
      case 3:
        return { value: bytes(value, pick(BAD_UTF8)), label: "bad-utf8-after" };
      case 4:
        return { value: bytes(value.slice(0, i), pick(BAD_UTF8), value.slice(i)), label: "bad-utf8-inserted" };
      case 5:
        return { value: bytes([0xef, 0xbb, 0xbf], value), label: "bom" };
      case 6:
        return { value: bytes(value.slice(0, i), pick(BAD_SPACE), value.slice(i)), label: "odd-space" };
      case 7:
        return { value: bytes(value.slice(0, i), value.slice(i + 1)), label: "byte-removed" };
      case 8: {
        const copy = value.slice();
        if (n > 0) copy[i] = int(0, 255);
        return { value: copy, label: "byte-replaced" };
      }
      case 9:
        return { value: bytes("[", value, "]"), label: "in-array" };
      case 10:
        return { value: bytes(value, value), label: "twice" };
      case 11: {
        const text = new TextDecoder().decode(value);
        return { value: encoder.encode(text.replace(/}\s*$/, ",}")), label: "trailing-comma" };
      }
      case 12: {
        const text = new TextDecoder().decode(value);
        return { value: encoder.encode(text.replace(/"/g, "'")), label: "single-quotes" };
      }
      default:
        return { value: bytes(value.slice(0, i), pick(['"', "\\", "{", "[", ":", ",", "\u0001"]), value.slice(i)), label: "char-inserted" };
    }
  };

  // ---- hand-written cases

  const ts = (offsetMs: number) => new Date(nowMs + offsetMs).toISOString();
  const fresh = ts(-3_600_000);
  const msg = (fields: string) => `{${fields}}`;
  cases.push({ name: "null value", value: null }, { name: "null value 2", value: null });
  for (const top of [
    "",
    " ",
    "\n",
    "null",
    " null ",
    "\tnull\n",
    "nul",
    "nullx",
    "null null",
    "[]",
    "[1]",
    "{}",
    '""',
    '"x"',
    "0",
    "-1",
    "1.5",
    "true",
    "false",
    "{",
    "}",
    "[",
    "]",
    ",",
    ":",
    "{}{}",
    "{} ",
    "{}x",
    "\u0000",
    '{"a":1}',
  ])
    add(`top-level ${JSON.stringify(top)}`, top);
  add("bom + object", [0xef, 0xbb, 0xbf], msg(`"timestamp":"${fresh}"`));
  add("plain valid", msg(`"id":"a","timestamp":"${fresh}","data":"0123456789x","status":""`));
  add("plain invalid", msg(`"id":"a","timestamp":"${fresh}","data":"0123456789","status":""`));
  add("numeric id", msg(`"id":1,"timestamp":"${fresh}","data":"0123456789x"`));
  add("status number", msg(`"timestamp":"${fresh}","status":5`));
  add("status null", msg(`"timestamp":"${fresh}","status":null`));
  add("data null after string", msg(`"timestamp":"${fresh}","data":"abcdefghijkl","data":null`));
  add("data number after string", msg(`"timestamp":"${fresh}","data":"abcdefghijkl","data":1`));
  add("data string after number", msg(`"timestamp":"${fresh}","data":1,"data":"abcdefghijkl"`));
  add("data DATA data", msg(`"timestamp":"${fresh}","data":"abc","DATA":"abcdefghijkl","data":"q"`));
  add("DATA after data", msg(`"timestamp":"${fresh}","data":"abcdefghijkl","DATA":"q"`));
  add("long-s status number", msg(`"timestamp":"${fresh}","ſtatus":5`));
  add("long-s escaped", msg(`"timestamp":"${fresh}","\\u017ftatus":5`));
  add("kelvin key", msg(`"timestamp":"${fresh}","\u212aey":5`));
  add("unknown nested", msg(`"timestamp":"${fresh}","x":{"a":[1,2,{"b":null}]},"data":"abcdefghijkl"`));
  add("unknown bad literal", msg(`"timestamp":"${fresh}","x":nul`));
  add("timestamp key twice", msg(`"timestamp":"2000-01-01T00:00:00Z","timestamp":"${fresh}"`));
  add("timestamp then null", msg(`"timestamp":"${fresh}","timestamp":null`));
  add("timestamp escaped", msg(`"timestamp":"${fresh.replace("T", "\\u0054")}"`));
  add("timestamp bad utf8", `{"timestamp":"`, [0xc3, 0x28], `"}`);
  add("poison invalid-utf8-in-json", '{"id":"u","timestamp":"', [0xc3, 0x28], '","data":"x"}');
  for (const t of [
    "2026-02-29T00:00:00Z",
    "2028-02-29T00:00:00Z",
    "2028-02-30T00:00:00Z",
    "2100-02-29T00:00:00Z",
    "2400-02-29T00:00:00Z",
    "0000-02-29T00:00:00Z",
    "9999-12-31T23:59:59Z",
    "9999-12-31T23:59:59+24:00",
    "9999-12-31T23:59:59-24:00",
    "9999-12-31T24:00:00Z",
  ]) {
    add(`calendar ${t}`, msg(`"timestamp":"${t}","data":"0123456789x"`));
  }
  // data lengths around 10 bytes
  for (const data of [
    "0123456789",
    "0123456789x",
    "éééé",
    "ééééé",
    "éééééa",
    "€€€",
    "€€€a",
    "€€€ab",
    "😀😀",
    "😀😀a",
    "😀😀ab",
    "😀😀abc",
    "\\ud800\\ud800\\ud800",
    "\\ud800\\ud800\\ud800\\ud800",
    "\\ud83d\\ude00\\ud83d\\ude00ab",
    "\\ud83d\\ude00\\ud83d\\ude00abc",
    "\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000\\u0000",
    "<<<<<>>>>>&",
  ]) {
    add(`data ${data}`, msg(`"timestamp":"${fresh}","data":"${data}"`));
  }
  for (const bad of BAD_UTF8) {
    add("data bad utf8 ×3", `{"timestamp":"${fresh}","data":"abc`, bad, bad, bad, `"}`);
    add("data bad utf8 + 8", `{"timestamp":"${fresh}","data":"12345678`, bad, `"}`);
    add("data bad utf8 + 9", `{"timestamp":"${fresh}","data":"123456789`, bad, `"}`);
    add("data bad utf8 + 10", `{"timestamp":"${fresh}","data":"1234567890`, bad, `"}`);
    add("bad utf8 outside", `{"timestamp":"${fresh}",`, bad, `"data":"x"}`);
    add("bad utf8 in key", `{"timestamp":"${fresh}","da`, bad, `ta":5}`);
    add("bad utf8 in unknown", `{"timestamp":"${fresh}","x`, bad, `":"`, bad, `"}`);
  }
  // long strings (the TS scanner reads the first characters one by one, then jumps with a regex)
  for (const at of [0, 1, 20, 23, 24, 25, 26, 40, 47, 48, 49, 100]) {
    for (const piece of ["\\n", "\\u00e9", "\\ud800", "\\x", "\u0001", "\u001f", '"', "é", "😀"]) {
      add(`long string, ${JSON.stringify(piece)} at ${at}`, `{"timestamp":"${fresh}","data":"${"a".repeat(at)}${piece}${"b".repeat(30)}"}`);
      add(
        `long key, ${JSON.stringify(piece)} at ${at}`,
        `{"timestamp":"${fresh}","${"k".repeat(at)}${piece}${"k".repeat(30)}":1,"data":"0123456789x"}`,
      );
    }
  }
  // nesting depth: encoding/json allows 10000 levels
  for (const depth of [9998, 9999, 10000, 10001]) {
    add(`depth ${depth + 1} arrays`, `{"timestamp":"${fresh}","data":"0123456789x","x":`, "[".repeat(depth), "]".repeat(depth), "}");
    add(
      `depth ${depth + 1} objects`,
      `{"timestamp":"${fresh}","data":"0123456789x","x":`,
      '{"a":'.repeat(depth - 1),
      "{}",
      "}".repeat(depth - 1),
      "}",
    );
    add(`top-level depth ${depth}`, "[".repeat(depth), "]".repeat(depth));
  }
  add("unclosed depth", `{"timestamp":"${fresh}","x":`, "[".repeat(20000));
  // big values
  for (const size of [65_536, 300_000]) {
    add(`big data ${size}`, msg(`"timestamp":"${fresh}","data":"${"d".repeat(size)}"`));
    add(`big unknown ${size}`, msg(`"timestamp":"${fresh}","x":"${"€".repeat(size / 3)}","data":"short"`));
  }
  add("big bad utf8", `{"timestamp":"${fresh}","data":"`, new Uint8Array(100_000).fill(0xff), '"}');
  add("big junk", new Uint8Array(100_000).fill(0xfe));

  // ---- generated cases

  for (let n = 0; n < generated; n++) {
    const { parts, labels } = messageParts();
    let value = bytes(...parts);
    if (chance(0.08)) {
      const hurt = damage(value);
      value = hurt.value;
      labels.push(hurt.label);
    }
    cases.push({ name: labels.length > 0 ? labels.join(", ") : "plain", value });
  }
  return cases;
}
