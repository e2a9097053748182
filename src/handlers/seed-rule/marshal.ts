/** json.Marshal of the seed's message struct, byte for byte. */

export interface SeedMessage {
  id: string;
  timestamp: string;
  data: string;
  status: "valid" | "invalid";
}

const HTML_UNSAFE = /[<>&\u2028\u2029]/;
const HTML_UNSAFE_ALL = /[<>&\u2028\u2029]/g;
const htmlEscape = (c: string): string =>
  c === "<" ? "\\u003c" : c === ">" ? "\\u003e" : c === "&" ? "\\u0026" : c === "\u2028" ? "\\u2028" : "\\u2029";

/** json.Marshal of the message: JSON.stringify plus Go's escaping of <, >, &, U+2028 and U+2029. */
export function serialiseSeedMessage(message: SeedMessage): string {
  // a fresh literal fixes the field order (id, timestamp, data, status) whatever the caller's object looks like
  const json = JSON.stringify({ id: message.id, timestamp: message.timestamp, data: message.data, status: message.status });
  return HTML_UNSAFE.test(json) ? json.replace(HTML_UNSAFE_ALL, htmlEscape) : json;
}
