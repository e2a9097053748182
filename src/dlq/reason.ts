/**
 * Groups dead-letter reasons that differ only in the values they quote: numbers, ids, timestamps and quoted
 * strings become placeholders, so "offset 1234 …" and "offset 99 …" count as one reason.
 */
const MAX_LENGTH = 160;

const RULES: ReadonlyArray<readonly [RegExp, string]> = [
  [/"(?:[^"\\]|\\.)*"/g, '"…"'],
  [/'(?:[^'\\]|\\.)*'/g, "'…'"],
  [/\b\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?/gi, "<time>"],
  [/\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{1,2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} (?:GMT|UTC|[+-]\d{4})/g, "<time>"],
  [/\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi, "<id>"],
  // hex ids and tokens mixing letters and digits (order-7f3a9c, abc123def)
  [/\b(?=[\w-]*\d)(?=[\w-]*[a-z])[\w-]{6,}\b/gi, "<id>"],
  [/-?\b\d+(?:[.,]\d+)*\b/g, "<n>"],
  // a single word after the last colon is the offending value (timestamp is not RFC 3339: yesterday)
  [/: (?!<\w+>$)\S+$/, ": …"],
];

/** Reasons repeat: each distinct one is normalised once (up to this many kept). */
const CACHE_LIMIT = 10_000;
const cache = new Map<string, string>();

export function normalizeReason(reason: string | null): string {
  if (reason === null) return "(no reason header)";
  let normal = cache.get(reason);
  if (normal === undefined) {
    normal = normalize(reason);
    if (cache.size < CACHE_LIMIT) cache.set(reason, normal);
  }
  return normal;
}

function normalize(reason: string): string {
  let text = reason.split("\n", 1)[0] ?? "";
  for (const [pattern, replacement] of RULES) text = text.replace(pattern, replacement);
  text = text.replace(/\s+/g, " ").trim();
  if (text === "") return "(empty reason)";
  return text.length > MAX_LENGTH ? `${text.slice(0, MAX_LENGTH - 1)}…` : text;
}
