/** UTF-8 as Go reads and counts it, where that differs from what TextDecoder / String#length give. */

/** Decodes bytes that are not valid UTF-8: each byte that does not start a valid sequence is U+FFFD (utf8.DecodeRune). */
export function decodeLikeGo(bytes: Uint8Array): string {
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
    if (
      c >= 0xf0 &&
      c <= 0xf4 &&
      c1 >= (c === 0xf0 ? 0x90 : 0x80) &&
      c1 <= (c === 0xf4 ? 0x8f : 0xbf) &&
      c2 >= 0x80 &&
      c2 <= 0xbf &&
      c3 >= 0x80 &&
      c3 <= 0xbf
    ) {
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

/** Whether the first byte after JSON white space can start a JSON value. */
export function startsJsonValue(bytes: Uint8Array): boolean {
  let i = 0;
  while (i < bytes.length && (bytes[i] === 0x20 || bytes[i] === 0x0a || bytes[i] === 0x0d || bytes[i] === 0x09)) i++;
  const c = bytes[i];
  return (
    c === 0x7b ||
    c === 0x5b ||
    c === 0x22 ||
    c === 0x74 ||
    c === 0x66 ||
    c === 0x6e ||
    c === 0x2d ||
    (c !== undefined && c >= 0x30 && c <= 0x39)
  );
}

/** Go's len() of the string's UTF-8 encoding (a lone surrogate counts as the 3 bytes of U+FFFD). */
export function utf8Length(value: string): number {
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
