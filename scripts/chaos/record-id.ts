/**
 * The id that ties an input record to its output or dead-letter copies: the seed JSON `id`, or the x-chaos-id
 * header for values that are not seed JSON (poison records). Pure, shared by the reader and the poison scenario.
 */
const decoder = new TextDecoder("utf-8", { fatal: false });

export function recordId(value: Uint8Array | null, header: string | null): string | null {
  if (value !== null && value.length > 0 && value[0] === 0x7b /* { */) {
    try {
      const parsed: unknown = JSON.parse(decoder.decode(value));
      if (typeof parsed === "object" && parsed !== null && "id" in parsed && typeof parsed.id === "string") return parsed.id;
    } catch {
      // not JSON: fall back to the header
    }
  }
  return header;
}
