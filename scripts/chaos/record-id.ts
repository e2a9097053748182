/**
 * The id that ties an input record to its output or dead-letter copies. The runner's records all carry it in an
 * x-chaos-id header (processor keeps headers), which wins because a poison value can hold a JSON `id` of its own
 * (e.g. one with invalid UTF-8 in it); records without the header fall back to the seed JSON `id`.
 */
const decoder = new TextDecoder("utf-8", { fatal: false });

export function recordId(value: Uint8Array | null, header: string | null): string | null {
  if (header !== null) return header;
  if (value !== null && value.length > 0 && value[0] === 0x7b /* { */) {
    try {
      const parsed: unknown = JSON.parse(decoder.decode(value));
      if (typeof parsed === "object" && parsed !== null && "id" in parsed && typeof parsed.id === "string") return parsed.id;
    } catch {
      // not JSON: no id
    }
  }
  return null;
}
