/** The dead-letter copy of a record: its original key, value and headers, plus headers saying why. */
import type { InputRecord } from "../handlers/types.ts";
import type { ResolvedOutput } from "../handlers/run-handler.ts";

export const DLQ_HEADER_PREFIX = "x-processor-";
const encoder = new TextEncoder();
const MAX_REASON_BYTES = 4096;

export function deadLetter(input: InputRecord, dlqTopic: string, reason: string, attempts: number, permanent: boolean): ResolvedOutput {
  const why: Array<readonly [string, string]> = [
    ["error", reason.length > MAX_REASON_BYTES ? `${reason.slice(0, MAX_REASON_BYTES)}…` : reason],
    ["error-kind", permanent ? "permanent" : "retries-exhausted"],
    ["attempts", String(attempts)],
    ["source-topic", input.topic],
    ["source-partition", String(input.partition)],
    ["source-offset", String(input.offset)],
    ["source-timestamp", String(input.timestamp)],
    ["failed-at", new Date().toISOString()],
  ];
  return {
    topic: dlqTopic,
    key: input.key,
    value: input.value,
    headers: [...input.headers, ...why.map(([name, value]) => [`${DLQ_HEADER_PREFIX}${name}`, encoder.encode(value)] as const)],
  };
}
