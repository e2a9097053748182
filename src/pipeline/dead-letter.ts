/** The dead-letter copy of a record: its original key, value and headers (byte-exact), plus headers saying why. */
import type { InputRecord } from "../handlers/types.ts";
import type { ResolvedOutput } from "../handlers/run-handler.ts";
import { withTraceContext } from "../observability/trace-context.ts";

export const DLQ_HEADER_PREFIX = "x-processor-";
const encoder = new TextEncoder();
const MAX_REASON_BYTES = 4096;

/**
 * permanent: the handler said no retry can help; retries-exhausted: it kept failing; internal: processor itself
 * failed on the record (a bug, reported); output-refused: Kafka refused an output (size, missing topic).
 */
export type DeadLetterKind = "permanent" | "retries-exhausted" | "internal" | "output-refused";

export function deadLetter(input: InputRecord, dlqTopic: string, reason: string, attempts: number, kind: DeadLetterKind): ResolvedOutput {
  return {
    topic: dlqTopic,
    key: input.key,
    value: input.value,
    headers: [...withTraceContext(input.rawHeaders, input), ...whyHeaders(input, reason, attempts, kind)],
  };
}

/**
 * What goes to the dead-letter topic when even the full copy was refused (an input larger than the dead-letter
 * topic allows): the reasons and where the original is, without its value and headers.
 */
export function deadLetterStub(
  input: InputRecord,
  dlqTopic: string,
  reason: string,
  attempts: number,
  kind: DeadLetterKind,
): ResolvedOutput {
  const key = input.key !== null && input.key.length <= 64 * 1024 ? input.key : null;
  const why = whyHeaders(input, reason, attempts, kind);
  why.push([
    `${DLQ_HEADER_PREFIX}truncated`,
    encoder.encode(
      "value, headers (and a key over 64 KiB) left out: the full copy was too large for the dead-letter topic; the original is at the source topic/partition/offset",
    ),
  ]);
  return { topic: dlqTopic, key, value: null, headers: [...withTraceContext([], input), ...why] };
}

function whyHeaders(input: InputRecord, reason: string, attempts: number, kind: DeadLetterKind): Array<readonly [string, Uint8Array]> {
  const why: Array<readonly [string, string]> = [
    ["error", reason.length > MAX_REASON_BYTES ? `${reason.slice(0, MAX_REASON_BYTES)}…` : reason],
    ["error-kind", kind],
    ["attempts", String(attempts)],
    ["source-topic", input.topic],
    ["source-partition", String(input.partition)],
    ["source-offset", String(input.offset)],
    ["source-timestamp", String(input.timestamp)],
    ["failed-at", new Date().toISOString()],
  ];
  return why.map(([name, value]) => [`${DLQ_HEADER_PREFIX}${name}`, encoder.encode(value)] as const);
}
