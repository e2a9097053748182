/**
 * Span export (--otel-endpoint) through the compiled binary and the real broker, against a small OTLP/HTTP receiver
 * started here (Bun.serve, the exporter's JSON). One span per record with its topic, partition, offset, attempts and
 * outcome; an incoming traceparent is the span's parent; each output's and dead-letter copy's traceparent (read
 * back with kcat) names the exported span. With the receiver down, every record still arrives.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { createTopicSet, deleteTopics, produce, uniqueName } from "../support/kafka.ts";
import { readExact, type ExactReadRecord } from "../support/kcat.ts";
import { buildBinary, startProcessor, topicArgs, waitCommittedToEnd } from "../support/processor.ts";

const root = resolve(import.meta.dir, "../..");
const created: string[] = [];
beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const PARENT_SPAN = "b7ad6b7169203331";
const UNSAMPLED_TRACE = "4bf92f3577b34da6a3ce929d0e0e4736";

type AttributeValue = string | number | boolean;
interface ReceivedSpan {
  readonly traceId: string;
  readonly spanId: string;
  readonly parentSpanId: string | undefined;
  readonly name: string;
  readonly kind: number;
  readonly status: { readonly code?: number; readonly message?: string };
  readonly attributes: Record<string, AttributeValue>;
  readonly resource: Record<string, AttributeValue>;
}

interface OtlpKeyValue {
  key: string;
  value: { stringValue?: string; intValue?: number | string; boolValue?: boolean; doubleValue?: number };
}
interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  status?: { code?: number; message?: string };
  attributes?: OtlpKeyValue[];
}
interface OtlpRequest {
  resourceSpans: Array<{ resource?: { attributes?: OtlpKeyValue[] }; scopeSpans: Array<{ spans: OtlpSpan[] }> }>;
}

function attributeMap(list: readonly OtlpKeyValue[] | undefined): Record<string, AttributeValue> {
  const map: Record<string, AttributeValue> = {};
  for (const { key, value } of list ?? []) {
    if (value.stringValue !== undefined) map[key] = value.stringValue;
    else if (value.intValue !== undefined) map[key] = Number(value.intValue);
    else if (value.boolValue !== undefined) map[key] = value.boolValue;
    else if (value.doubleValue !== undefined) map[key] = value.doubleValue;
  }
  return map;
}

/** An OTLP/HTTP traces receiver: keeps every span it is sent (JSON), answers 200. */
function startReceiver() {
  const spans: ReceivedSpan[] = [];
  let requests = 0;
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(request) {
      if (request.method !== "POST" || new URL(request.url).pathname !== "/v1/traces") return new Response("not found", { status: 404 });
      if (!(request.headers.get("content-type") ?? "").includes("application/json")) return new Response("JSON only", { status: 415 });
      requests++;
      const body = (await request.json()) as OtlpRequest;
      for (const resourceSpans of body.resourceSpans) {
        const resource = attributeMap(resourceSpans.resource?.attributes);
        for (const scope of resourceSpans.scopeSpans)
          for (const s of scope.spans)
            spans.push({
              traceId: s.traceId,
              spanId: s.spanId,
              parentSpanId: s.parentSpanId === "" ? undefined : s.parentSpanId,
              name: s.name,
              kind: s.kind,
              status: s.status ?? {},
              attributes: attributeMap(s.attributes),
              resource,
            });
      }
      return Response.json({});
    },
  });
  return { url: `http://127.0.0.1:${server.port}/v1/traces`, spans, requests: () => requests, stop: () => server.stop(true) };
}

const headerOf = (r: ExactReadRecord, name: string): string | undefined => r.headers.find(([n]) => n.toString() === name)?.[1]?.toString();
const byKey = (records: readonly ExactReadRecord[], key: string): ExactReadRecord => {
  const found = records.find((r) => r.key?.toString() === key);
  if (found === undefined) throw new Error(`no record with key ${key}`);
  return found;
};

test("one span per record: parent, attributes, attempts and outcome; outputs and dead-letter copies name it", async () => {
  const receiver = startReceiver();
  try {
    const t = await createTopicSet(created, "otel", 2);
    const groupId = uniqueName("g");
    const sampled = { traceparent: `00-${TRACE}-${PARENT_SPAN}-01`, tracestate: "congo=t61rcWkgMzE" };
    await produce(t.input, [
      { key: "ok", value: "ok", headers: sampled },
      { key: "once", value: "fail-once", headers: sampled },
      { key: "permanent", value: "permanent", headers: sampled },
      { key: "always", value: "fail-always" },
      { key: "plain", value: "plain" },
      { key: "unsampled", value: "unsampled", headers: { traceparent: `00-${UNSAMPLED_TRACE}-${PARENT_SPAN}-00` } },
    ]);
    const processor = startProcessor([
      ...topicArgs(t.input, t.output, groupId),
      "--handler",
      resolve(root, "test/fixtures/flaky-handler.ts"),
      "--retries",
      "2",
      "--retry-backoff",
      "20ms",
      "--otel-endpoint",
      receiver.url,
      "--otel-service-name",
      "processor-e2e",
    ]);
    expect(await waitCommittedToEnd(processor, groupId, t.input, 60_000)).toBe(true);
    processor.process.kill("SIGTERM");
    expect(await processor.exited()).toBe(0); // graceful shutdown flushed the queued spans

    const inputs = await readExact(t.input);
    const outputs = await readExact(t.output);
    const copies = await readExact(t.dlq);
    // the unsampled record has no span: five spans for six records
    expect(receiver.spans).toHaveLength(5);
    const spanOf = (key: string): ReceivedSpan => {
      const input = byKey(inputs, key);
      const matching = receiver.spans.filter(
        (s) =>
          s.attributes["messaging.destination.partition.id"] === String(input.partition) &&
          s.attributes["messaging.kafka.offset"] === input.offset,
      );
      expect(matching).toHaveLength(1);
      return matching[0]!;
    };
    const expected: Record<string, { attempts: number; outcome: string; errorType?: string; traced: boolean }> = {
      ok: { attempts: 1, outcome: "produced", traced: true },
      once: { attempts: 2, outcome: "produced", traced: true },
      permanent: { attempts: 1, outcome: "dead-lettered", errorType: "permanent", traced: true },
      always: { attempts: 3, outcome: "dead-lettered", errorType: "retries-exhausted", traced: false },
      plain: { attempts: 1, outcome: "produced", traced: false },
    };
    for (const [key, want] of Object.entries(expected)) {
      const span = spanOf(key);
      expect(span.name).toBe(`process ${t.input}`);
      expect(span.kind).toBe(5); // CONSUMER
      expect(span.resource["service.name"]).toBe("processor-e2e");
      expect(span.attributes).toMatchObject({
        "messaging.system": "kafka",
        "messaging.operation.type": "process",
        "messaging.destination.name": t.input,
        "messaging.consumer.group.name": groupId,
        "messaging.kafka.message.key": key,
        "processor.attempts": want.attempts,
        "processor.outcome": want.outcome,
      });
      if (want.traced) {
        expect(span.traceId).toBe(TRACE);
        expect(span.parentSpanId).toBe(PARENT_SPAN);
      } else {
        expect(span.traceId).toMatch(/^[0-9a-f]{32}$/);
        expect(span.traceId).not.toBe(TRACE);
        expect(span.parentSpanId).toBeUndefined();
      }
      if (want.errorType === undefined) {
        expect(span.status.code ?? 0).not.toBe(2);
      } else {
        expect(span.status.code).toBe(2); // ERROR
        expect(span.status.message).toBeTruthy();
        expect(span.attributes["error.type"]).toBe(want.errorType);
      }
      // what the record wrote names this very span as its parent
      const written = want.outcome === "produced" ? byKey(outputs, key) : byKey(copies, key);
      expect(headerOf(written, "traceparent")).toBe(`00-${span.traceId}-${span.spanId}-01`);
      if (want.traced) expect(headerOf(written, "tracestate")).toBe("congo=t61rcWkgMzE");
    }
    // an unsampled incoming trace goes on as without export (new span id, flags kept), with nothing exported
    const [version, trace, span, flags] = (headerOf(byKey(outputs, "unsampled"), "traceparent") ?? "").split("-");
    expect([version, trace, flags]).toEqual(["00", UNSAMPLED_TRACE, "00"]);
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(receiver.spans.some((s) => s.traceId === UNSAMPLED_TRACE || s.spanId === span)).toBe(false);
  } finally {
    receiver.stop();
  }
}, 120_000);

test("with the OTLP receiver down, every record still arrives and the process stops cleanly", async () => {
  // a port nobody listens on: a receiver started and stopped
  const gone = startReceiver();
  gone.stop();
  const t = await createTopicSet(created, "otel-down", 2);
  const groupId = uniqueName("g");
  const count = 500;
  const now = new Date().toISOString();
  await produce(
    t.input,
    Array.from({ length: count }, (_, i) => ({
      key: `k${i}`,
      value: JSON.stringify({ id: `r${i}`, timestamp: now, data: "longer than ten", status: "" }),
      ...(i % 2 === 0 && { headers: { traceparent: `00-${TRACE}-${PARENT_SPAN}-01` } }),
    })),
  );
  const processor = startProcessor([...topicArgs(t.input, t.output, groupId), "--otel-endpoint", gone.url]);
  expect(await waitCommittedToEnd(processor, groupId, t.input, 60_000)).toBe(true);
  // the exporter retries a refused connection within its 10 s timeout, then the batch counts as failed
  await processor.waitForLog("span export failed", 30_000);
  const stopping = Date.now();
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);
  expect(Date.now() - stopping).toBeLessThan(15_000);
  const outputs = await readExact(t.output);
  expect(outputs).toHaveLength(count);
  // outputs still carry processor's span ids (the spans themselves are lost)
  expect(outputs.filter((r) => headerOf(r, "traceparent") !== undefined)).toHaveLength(count);
}, 120_000);
