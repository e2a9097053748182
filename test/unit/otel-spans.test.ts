/**
 * Record spans without a network (src/observability/otel/record-spans.ts): parent, sampling, attributes, status and
 * the traceparent the record's outputs and dead-letter copy carry, which must name the exported span.
 */
import { describe, expect, test } from "bun:test";
import { SpanKind, SpanStatusCode } from "@opentelemetry/api";
import { AlwaysOnSampler, type ReadableSpan, TracerProvider } from "@opentelemetry/sdk-trace";
import { runHandler, type HandlerOutcome } from "../../src/handlers/run-handler.ts";
import { deadLetter } from "../../src/pipeline/dead-letter.ts";
import { QueuedInput } from "../../src/pipeline/input-record.ts";
import { RecordSpans } from "../../src/observability/otel/record-spans.ts";
import { continuedTraceparent } from "../../src/observability/trace-context.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";
const PARENT = "00f067aa0ba902b7";

/** RecordSpans over a real SDK tracer whose ended spans land in `ended`. */
function rig(sampleRatio = 1) {
  const ended: ReadableSpan[] = [];
  const provider = new TracerProvider({
    sampler: new AlwaysOnSampler(),
    spanProcessors: [
      {
        onStart: () => undefined,
        onEnd: (span) => void ended.push(span),
        forceFlush: async () => undefined,
        shutdown: async () => undefined,
      },
    ],
  });
  return { spans: new RecordSpans(provider.getTracer("test"), "group-1", sampleRatio), ended };
}

function input(headers: Array<[string, string]>, options: { key?: Uint8Array | null; value?: Uint8Array | null; offset?: number } = {}) {
  return new QueuedInput({
    kind: "record",
    ref: 0,
    topic: "in",
    partition: 3,
    offset: options.offset ?? 42,
    timestamp: 0,
    key: options.key === undefined ? utf8.encode("key-1") : options.key,
    value: options.value === undefined ? utf8.encode("v") : options.value,
    headers: headers.map(([n, v]) => [utf8.encode(n), utf8.encode(v)] as const),
  });
}

const traceparentOf = (headers: ReadonlyArray<readonly [string | Uint8Array, Uint8Array | null]>): string | undefined => {
  const found = headers.find(([n]) => (typeof n === "string" ? n : text.decode(n)) === "traceparent");
  return found?.[1] ? text.decode(found[1]) : undefined;
};

function outputHeaders(record: QueuedInput) {
  const outcome = runHandler(() => ({ value: "out" }), record, "out", 1000) as HandlerOutcome;
  if (outcome.kind !== "outputs") throw new Error(outcome.reason);
  return outcome.outputs[0]!.headers;
}

describe("record spans", () => {
  test("a sampled incoming traceparent is the parent; outputs and the dead-letter copy name the exported span", () => {
    const { spans, ended } = rig(0); // parent-based: a sampled parent is exported whatever the ratio
    const record = input([
      ["traceparent", `00-${TRACE}-${PARENT}-01`],
      ["tracestate", "vendor=abc"],
    ]);
    spans.begin(record);
    const written = traceparentOf(outputHeaders(record));
    const copy = traceparentOf(deadLetter(record, "dlq", "bad", 1, "permanent").headers);
    spans.end(record, "produced");
    expect(ended).toHaveLength(1);
    const span = ended[0]!;
    expect(span.spanContext().traceId).toBe(TRACE);
    expect(span.parentSpanContext?.spanId).toBe(PARENT);
    expect(span.parentSpanContext?.isRemote).toBe(true);
    expect(span.spanContext().traceState?.serialize()).toBe("vendor=abc");
    expect(written).toBe(`00-${TRACE}-${span.spanContext().spanId}-01`);
    expect(copy).toBe(written);
    expect(span.kind).toBe(SpanKind.CONSUMER);
    expect(span.name).toBe("process in");
  });

  test("attributes follow the messaging conventions; attempts and outcome are set at the end", () => {
    const { spans, ended } = rig();
    const record = input([]);
    spans.begin(record);
    record.attempt = 3;
    spans.begin(record); // a retry: still the same span
    spans.end(record, "produced");
    expect(ended).toHaveLength(1);
    expect(ended[0]!.attributes).toEqual({
      "messaging.system": "kafka",
      "messaging.operation.type": "process",
      "messaging.operation.name": "process",
      "messaging.destination.name": "in",
      "messaging.destination.partition.id": "3",
      "messaging.kafka.offset": 42,
      "messaging.consumer.group.name": "group-1",
      "messaging.kafka.message.key": "key-1",
      "processor.attempts": 3,
      "processor.outcome": "produced",
    });
    expect(ended[0]!.status.code).toBe(SpanStatusCode.UNSET);
  });

  test("binary and large keys stay off the span; a tombstone says so", () => {
    const { spans, ended } = rig();
    const records = [
      input([], { key: new Uint8Array([0xff, 0xfe]), offset: 1 }),
      input([], { key: utf8.encode("k".repeat(65)), offset: 2 }),
      input([], { key: null, value: null, offset: 3 }),
    ];
    for (const record of records) {
      spans.begin(record);
      spans.end(record, "filtered");
    }
    for (const span of ended) expect(span.attributes["messaging.kafka.message.key"]).toBeUndefined();
    expect(ended.map((s) => s.attributes["messaging.kafka.message.tombstone"])).toEqual([undefined, undefined, true]);
  });

  test("dead-lettered: status ERROR with the reason, error.type is the dead-letter kind", () => {
    const { spans, ended } = rig();
    const record = input([]);
    spans.begin(record);
    spans.deadLettered(record, "retries-exhausted", "Error: boom\nsecond line");
    spans.end(record, "dead-lettered");
    const span = ended[0]!;
    expect(span.status).toEqual({ code: SpanStatusCode.ERROR, message: "Error: boom second line" });
    expect(span.attributes["error.type"]).toBe("retries-exhausted");
    expect(span.attributes["processor.outcome"]).toBe("dead-lettered");
  });

  test("the record that trips the dead-letter guard: outcome halted, status ERROR", () => {
    const { spans, ended } = rig();
    const record = input([]);
    spans.begin(record);
    spans.end(record, "halted", "too many records dead-lettered");
    expect(ended[0]!.status).toEqual({ code: SpanStatusCode.ERROR, message: "too many records dead-lettered" });
    expect(ended[0]!.attributes["processor.outcome"]).toBe("halted");
  });

  // an invalid traceparent counts as none: the new trace replaces it on the outputs
  test.each([
    ["without a traceparent", []],
    ["with an invalid traceparent", [["traceparent", `00-${"0".repeat(32)}-${PARENT}-01`]]],
  ] as const)("a sampled record %s starts a new trace, which its outputs carry", (_, headers) => {
    const { spans, ended } = rig(1);
    const record = input(headers.map(([k, v]) => [k, v]));
    spans.begin(record);
    const written = traceparentOf(outputHeaders(record));
    spans.end(record, "produced");
    const span = ended[0]!;
    expect(span.parentSpanContext).toBeUndefined();
    expect(written).toBe(`00-${span.spanContext().traceId}-${span.spanContext().spanId}-01`);
  });

  test("an unsampled record without a traceparent: no span, outputs untouched (as without export)", () => {
    const { spans, ended } = rig(0);
    const record = input([]);
    spans.begin(record);
    expect(continuedTraceparent(record)).toBeNull();
    expect(traceparentOf(outputHeaders(record))).toBeUndefined();
    spans.end(record, "produced");
    expect(ended).toHaveLength(0);
  });

  test("an unsampled incoming traceparent: no span exported; outputs keep its trace and flags under a new span id", () => {
    const { spans, ended } = rig(1);
    const record = input([["traceparent", `00-${TRACE}-${PARENT}-00`]]);
    spans.begin(record);
    const [version, trace, span, flags] = (traceparentOf(outputHeaders(record)) ?? "").split("-");
    expect([version, trace, flags]).toEqual(["00", TRACE, "00"]);
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(span).not.toBe(PARENT);
    spans.end(record, "produced");
    expect(ended).toHaveLength(0);
  });

  test("the sample ratio applies to records without a traceparent (roughly), decided once per record", () => {
    const { spans, ended } = rig(0.25);
    for (let i = 0; i < 4000; i++) {
      const record = input([], { offset: i });
      spans.begin(record);
      spans.end(record, "produced");
    }
    expect(ended.length).toBeGreaterThan(800);
    expect(ended.length).toBeLessThan(1200);
    // a retry's begin neither starts a second span nor samples again
    let draws = 0;
    const provider = new TracerProvider({ sampler: new AlwaysOnSampler() });
    const counted = new RecordSpans(provider.getTracer("test"), "g", 0.5, () => {
      draws++;
      return 0.9;
    });
    const record = input([]);
    counted.begin(record);
    counted.begin(record);
    expect(draws).toBe(1);
    expect(continuedTraceparent(record)).toBeNull();
  });

  test("ending a record that has no span does nothing", () => {
    const { spans, ended } = rig();
    spans.end(input([]), "dropped");
    spans.deadLettered(input([]), "internal", "x");
    expect(ended).toHaveLength(0);
  });
});
