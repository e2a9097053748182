/**
 * JSON syntax exactly as Go's encoding/json scanner accepts it, over text already decoded to UTF-16.
 *
 * Scanner functions take the text and a position and return the position after what they read, or -1 for a
 * syntax error. charCodeAt past the end is NaN, which matches nothing; the hot loops still check the end (reading
 * past it is slow).
 */

/** encoding/json's maxNestingDepth. */
const MAX_DEPTH = 10_000;

/** Plain characters a string scan reads one by one before it jumps to the next special one with STRING_STOP. */
const PLAIN_RUN = 24;
// biome-ignore lint/suspicious/noControlCharactersInRegex: JSON forbids raw control characters inside strings
const STRING_STOP = /[\x00-\x1f"\\]/g;

/** Open containers by depth: 1 = object, 0 = array. Module scratch: the scan is synchronous. */
const containers = new Uint8Array(MAX_DEPTH + 2);

export function skipSpace(s: string, p: number): number {
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
export function scanString(s: string, p: number): number {
  const n = s.length;
  let escaped = 0;
  p++;
  for (;;) {
    // plain characters one by one for a while, then let the regex engine find the next special one
    const limit = Math.min(p + PLAIN_RUN, n);
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
      if (
        hexValue(s.charCodeAt(p + 2)) < 0 ||
        hexValue(s.charCodeAt(p + 3)) < 0 ||
        hexValue(s.charCodeAt(p + 4)) < 0 ||
        hexValue(s.charCodeAt(p + 5)) < 0
      )
        return -1;
      p += 6;
    } else if (e === 0x22 || e === 0x5c || e === 0x2f || e === 0x62 || e === 0x66 || e === 0x6e || e === 0x72 || e === 0x74) {
      p += 2;
    } else {
      return -1;
    }
  }
}

function hex4(s: string, p: number): number {
  return (
    (hexValue(s.charCodeAt(p)) << 12) |
    (hexValue(s.charCodeAt(p + 1)) << 8) |
    (hexValue(s.charCodeAt(p + 2)) << 4) |
    hexValue(s.charCodeAt(p + 3))
  );
}

/** The content [from, to) of a valid string literal with escapes resolved as Go's unquote does. */
export function unquote(source: string, from: number, to: number): string {
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

export function scanLiteral(s: string, p: number, word: string): number {
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
export function skipValue(s: string, p: number, base: number): number {
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
