/** Calls a handler once and turns whatever it does (returns, throws, hangs) into a plain outcome. */
import {
  isPermanent,
  type BatchHandler,
  type BatchResult,
  type Bytes,
  type Handler,
  type HandlerResult,
  type HeaderName,
  type HeaderValue,
  type InputRecord,
  type OutputRecord,
} from "./types.ts";
import { illegalTopicName } from "../kafka/topic-name.ts";
import { withTraceContext } from "../observability/trace-context.ts";

export interface ResolvedOutput {
  topic: string;
  key: Bytes | null;
  value: Bytes | null;
  headers: ReadonlyArray<readonly [HeaderName, Bytes | null]>;
}

export type HandlerOutcome =
  | { readonly kind: "outputs"; readonly outputs: ResolvedOutput[] }
  | { readonly kind: "failed"; readonly reason: string; readonly permanent: boolean };

const encoder = new TextEncoder();

function toBytes(value: string | Bytes): Bytes {
  return typeof value === "string" ? encoder.encode(value) : value;
}

class WrongResult extends Error {}

function isBytesOrString(value: unknown): value is string | Bytes {
  return typeof value === "string" || value instanceof Uint8Array;
}

/** The output's headers (the input's when the handler gave none), with the record's trace context continued. */
function resolveHeaders(headers: OutputRecord["headers"], input: InputRecord): ReadonlyArray<readonly [HeaderName, Bytes | null]> {
  if (headers === undefined) return withTraceContext(input.rawHeaders, input);
  const entries: ReadonlyArray<readonly [HeaderName, HeaderValue]> = Array.isArray(headers)
    ? (headers as ReadonlyArray<readonly [HeaderName, HeaderValue]>)
    : Object.entries(headers as Readonly<Record<string, HeaderValue>>);
  const resolved = entries.map((entry) => {
    if (!Array.isArray(entry) || !isBytesOrString(entry[0]) || (entry[1] !== null && !isBytesOrString(entry[1]))) {
      throw new WrongResult("a header must be [name: string | Uint8Array, value: string | Uint8Array | null]");
    }
    return [entry[0], entry[1] === null ? null : toBytes(entry[1])] as const;
  });
  return withTraceContext(resolved, input);
}

function resolveOutput(output: unknown, input: InputRecord, defaultTopic: string): ResolvedOutput {
  if (typeof output !== "object" || output === null || Array.isArray(output) || output instanceof Uint8Array) {
    throw new WrongResult(`expected an output record object, got ${describe(output)}`);
  }
  const record = output as OutputRecord;
  if (record.value !== null && !isBytesOrString(record.value)) {
    throw new WrongResult(`output value must be a string, Uint8Array or null, got ${describe(record.value)}`);
  }
  if (record.key !== undefined && record.key !== null && !isBytesOrString(record.key)) {
    throw new WrongResult(`output key must be a string, Uint8Array or null, got ${describe(record.key)}`);
  }
  if (record.topic !== undefined) {
    if (typeof record.topic !== "string" || record.topic.length === 0) throw new WrongResult(`output topic must be a non-empty string`);
    const illegal = illegalTopicName(record.topic);
    if (illegal !== null) throw new WrongResult(illegal);
  }
  return {
    topic: record.topic ?? defaultTopic,
    key: record.key === undefined ? input.key : record.key === null ? null : toBytes(record.key),
    value: record.value === null ? null : toBytes(record.value),
    headers: resolveHeaders(record.headers, input),
  };
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  return typeof value;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) return `${error.name}: ${error.message}`;
  try {
    return `thrown ${typeof error}: ${typeof error === "string" ? error : JSON.stringify(error)}`;
  } catch {
    return `thrown ${typeof error}`;
  }
}

/**
 * Calls the handler once. A synchronous handler gets a synchronous outcome (no promise per record on the hot
 * path); an asynchronous one is raced against `timeoutMs`.
 */
export function runHandler(
  handler: Handler,
  input: InputRecord,
  defaultTopic: string,
  timeoutMs: number,
): HandlerOutcome | Promise<HandlerOutcome> {
  let result: HandlerResult | Promise<HandlerResult>;
  try {
    result = handler(input);
  } catch (error) {
    return failure(error);
  }
  if (!(result instanceof Promise)) return settle(result, input, defaultTopic);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`handler timed out after ${timeoutMs} ms`)), timeoutMs);
  });
  return Promise.race([result, timeout])
    .then((value) => settle(value, input, defaultTopic), failure)
    .finally(() => clearTimeout(timer));
}

/**
 * Calls a batch handler once for `inputs` (one outcome each, in order). A call that throws, rejects or gives the
 * wrong number of results is split in two and each half called again, down to single records, so only the records
 * that fail fail. A batch that outlives `timeoutMs` fails all of its records (each is retried on its own terms).
 * Synchronous handlers get a synchronous answer.
 */
export function runBatchHandler(
  batch: BatchHandler,
  inputs: readonly InputRecord[],
  defaultTopic: string,
  timeoutMs: number,
): HandlerOutcome[] | Promise<HandlerOutcome[]> {
  let result: BatchResult | Promise<BatchResult>;
  try {
    result = batch(inputs);
  } catch (error) {
    return splitAfter(error, batch, inputs, defaultTopic, timeoutMs);
  }
  if (!(result instanceof Promise)) return settleBatch(result, batch, inputs, defaultTopic, timeoutMs);
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timedOut = Symbol("timed out");
  const timeout = new Promise<typeof timedOut>((resolve) => {
    timer = setTimeout(() => resolve(timedOut), timeoutMs);
  });
  return Promise.race([result, timeout])
    .then(
      (value) =>
        value === timedOut
          ? inputs.map(() => failure(new Error(`batch handler timed out after ${timeoutMs} ms (${inputs.length} records)`)))
          : settleBatch(value, batch, inputs, defaultTopic, timeoutMs),
      (error: unknown) => splitAfter(error, batch, inputs, defaultTopic, timeoutMs),
    )
    .finally(() => clearTimeout(timer));
}

function settleBatch(
  results: BatchResult,
  batch: BatchHandler,
  inputs: readonly InputRecord[],
  defaultTopic: string,
  timeoutMs: number,
): HandlerOutcome[] | Promise<HandlerOutcome[]> {
  if (!Array.isArray(results) || results.length !== inputs.length) {
    const got = Array.isArray(results) ? `${results.length} results` : describe(results);
    return splitAfter(
      new WrongResult(`a batch of ${inputs.length} records needs as many results, got ${got}`),
      batch,
      inputs,
      defaultTopic,
      timeoutMs,
    );
  }
  const outcomes: HandlerOutcome[] = new Array(inputs.length);
  for (let i = 0; i < inputs.length; i++) {
    const result = results[i];
    outcomes[i] = result instanceof Error ? failure(result) : settle(result, inputs[i]!, defaultTopic);
  }
  return outcomes;
}

/** The whole call failed: a single record gets the failure, a larger batch is halved and each half tried again. */
function splitAfter(
  error: unknown,
  batch: BatchHandler,
  inputs: readonly InputRecord[],
  defaultTopic: string,
  timeoutMs: number,
): HandlerOutcome[] | Promise<HandlerOutcome[]> {
  if (inputs.length <= 1) return inputs.map(() => failure(error));
  const half = inputs.length >>> 1;
  const first = runBatchHandler(batch, inputs.slice(0, half), defaultTopic, timeoutMs);
  const second = runBatchHandler(batch, inputs.slice(half), defaultTopic, timeoutMs);
  if (!(first instanceof Promise) && !(second instanceof Promise)) return first.concat(second);
  return Promise.all([first, second]).then(([a, b]) => a.concat(b));
}

function settle(result: HandlerResult | undefined, input: InputRecord, defaultTopic: string): HandlerOutcome {
  try {
    if (result === null) return { kind: "outputs", outputs: [] };
    if (result === undefined) throw new WrongResult("got undefined (return null to filter a record out)");
    const list: readonly unknown[] = Array.isArray(result) ? result : [result];
    return { kind: "outputs", outputs: list.map((output) => resolveOutput(output, input, defaultTopic)) };
  } catch (error) {
    return failure(error);
  }
}

function failure(error: unknown): HandlerOutcome {
  if (error instanceof WrongResult) {
    return { kind: "failed", reason: `handler returned a wrong type: ${error.message}`, permanent: true };
  }
  return { kind: "failed", reason: errorText(error), permanent: isPermanent(error) };
}
