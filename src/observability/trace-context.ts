/**
 * W3C trace context (https://www.w3.org/TR/trace-context/): an input record's `traceparent` header is continued on
 * its outputs and its dead-letter copy. They keep the trace id and the flags, and name processor's own span (one
 * per record, a new random span id) as their parent. `tracestate` travels on with them. An input without a valid
 * `traceparent` (version 00, lower-case hex, non-zero ids) leaves every header as it was.
 *
 * With span export on (--otel-endpoint), the exported span names the record's span instead (`continueAs`, called
 * before the handler runs), so a tracing backend links input, processor's span and downstream consumers; a sampled
 * record without a traceparent then starts a new trace, which its outputs carry.
 */
import type { Bytes, InputRecord } from "../handlers/types.ts";

const TRACEPARENT = "traceparent";
const TRACESTATE = "tracestate";
const ascii = new TextEncoder();
const latin1 = new TextDecoder("latin1");
const VALID = /^00-(?!0{32})[0-9a-f]{32}-(?!0{16})[0-9a-f]{16}-[0-9a-f]{2}$/;

/** The record's continued traceparent, made once per record (all its outputs name the same span). */
const continued = new WeakMap<InputRecord, Bytes>();

function nameIs(name: Bytes | string, expected: string): boolean {
  if (typeof name === "string") return name.toLowerCase() === expected;
  if (name.length !== expected.length) return false;
  for (let i = 0; i < name.length; i++) if ((name[i]! | 0x20) !== expected.charCodeAt(i)) return false;
  return true;
}

function headerValue(headers: ReadonlyArray<readonly [Bytes | string, Bytes | null]>, name: string): Bytes | null {
  for (const [n, v] of headers) if (nameIs(n, name)) return v;
  return null;
}

function newSpanId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  if (bytes.every((b) => b === 0)) bytes[7] = 1;
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}

/** An input's trace context, from a valid `traceparent` (and its `tracestate`, if any). */
export interface IncomingTraceContext {
  readonly traceId: string;
  readonly spanId: string;
  /** Two hex digits, as the input wrote them. */
  readonly flags: string;
  readonly sampled: boolean;
  readonly traceState: string | null;
}

function validTraceparent(input: InputRecord): string | null {
  const parent = headerValue(input.rawHeaders, TRACEPARENT);
  if (parent === null || parent.length !== 55) return null;
  const text = latin1.decode(parent);
  return VALID.test(text) ? text : null;
}

/** The input's trace context, or null when it carries no valid traceparent. */
export function incomingTraceContext(input: InputRecord): IncomingTraceContext | null {
  const text = validTraceparent(input);
  if (text === null) return null;
  const flags = text.slice(53);
  const state = headerValue(input.rawHeaders, TRACESTATE);
  return {
    traceId: text.slice(3, 35),
    spanId: text.slice(36, 52),
    flags,
    sampled: (Number.parseInt(flags, 16) & 1) === 1,
    traceState: state === null ? null : latin1.decode(state),
  };
}

/**
 * Names span `spanId` of trace `traceId` as the parent of this record's outputs and dead-letter copy (span export:
 * the span exported for the record). Called before any output is built.
 */
export function continueAs(input: InputRecord, traceId: string, spanId: string, flags: string): void {
  continued.set(input, ascii.encode(`00-${traceId}-${spanId}-${flags}`));
}

/** The traceparent processor's span gives this record's outputs, or null when the input carries none (valid). */
export function continuedTraceparent(input: InputRecord): Bytes | null {
  const known = continued.get(input);
  if (known !== undefined) return known;
  const text = validTraceparent(input);
  if (text === null) return null;
  const next = ascii.encode(`00-${text.slice(3, 35)}-${newSpanId()}-${text.slice(53)}`);
  continued.set(input, next);
  return next;
}

/**
 * `headers` (an output's or a dead-letter copy's) with the trace continued: the input's own traceparent passed on
 * is replaced by processor's; without any, processor's (and the input's tracestate) is added. A traceparent a
 * handler set itself is kept. The same array when there is nothing to continue.
 */
export function withTraceContext<N extends Bytes | string>(
  headers: ReadonlyArray<readonly [N, Bytes | null]>,
  input: InputRecord,
): ReadonlyArray<readonly [N | string, Bytes | null]> {
  const traceparent = continuedTraceparent(input);
  if (traceparent === null) return headers;
  const inputParent = headerValue(input.rawHeaders, TRACEPARENT);
  let found = false;
  const result: Array<readonly [N | string, Bytes | null]> = headers.map(([name, value]) => {
    if (!nameIs(name, TRACEPARENT)) return [name, value] as const;
    found = true;
    return value !== null && inputParent !== null && sameBytes(value, inputParent)
      ? ([name, traceparent] as const)
      : ([name, value] as const);
  });
  if (!found) {
    result.push([TRACEPARENT, traceparent]);
    const state = headerValue(input.rawHeaders, TRACESTATE);
    if (state !== null && headerValue(headers, TRACESTATE) === null) result.push([TRACESTATE, state]);
  }
  return result;
}

function sameBytes(a: Bytes, b: Bytes): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
