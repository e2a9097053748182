/** W3C trace context continued on outputs and dead-letter copies (src/observability/trace-context.ts). */
import { describe, expect, test } from "bun:test";
import { runHandler, type HandlerOutcome } from "../../src/handlers/run-handler.ts";
import { QueuedInput } from "../../src/pipeline/input-record.ts";
import { deadLetter, deadLetterStub } from "../../src/pipeline/dead-letter.ts";
import { continuedTraceparent } from "../../src/observability/trace-context.ts";
import type { Handler } from "../../src/handlers/types.ts";

const utf8 = new TextEncoder();
const text = new TextDecoder();
const PARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

function input(headers: Array<[string, string | null]>): QueuedInput {
  return new QueuedInput({
    kind: "record",
    ref: 0,
    topic: "in",
    partition: 0,
    offset: 1,
    timestamp: 0,
    key: utf8.encode("k"),
    value: utf8.encode("v"),
    headers: headers.map(([n, v]) => [utf8.encode(n), v === null ? null : utf8.encode(v)] as const),
  });
}

function outputsOf(handler: Handler, record: QueuedInput): Array<Array<[string, string | null]>> {
  const outcome = runHandler(handler, record, "out", 1000) as HandlerOutcome;
  if (outcome.kind !== "outputs") throw new Error(outcome.reason);
  return outcome.outputs.map((o) =>
    o.headers.map(([n, v]) => [typeof n === "string" ? n : text.decode(n), v === null ? null : text.decode(v)] as [string, string | null]),
  );
}

const header = (headers: Array<[string, string | null]>, name: string) => headers.find(([n]) => n.toLowerCase() === name)?.[1];
const parts = (traceparent: string | null | undefined) => (traceparent ?? "").split("-");

describe("trace context", () => {
  test("outputs that keep the input's headers carry the same trace id and flags under processor's new span, tracestate kept", () => {
    const record = input([
      ["traceparent", PARENT],
      ["tracestate", "vendor=abc"],
      ["other", "x"],
    ]);
    const [a, b] = outputsOf(() => [{ value: "1" }, { value: "2" }], record);
    const [version, trace, span, flags] = parts(header(a!, "traceparent"));
    expect([version, trace, flags]).toEqual(["00", "4bf92f3577b34da6a3ce929d0e0e4736", "01"]);
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(span).not.toBe("00f067aa0ba902b7");
    // one span per record: every output (and the dead-letter copy) names the same one
    expect(header(b!, "traceparent")).toBe(header(a!, "traceparent"));
    expect(header(a!, "tracestate")).toBe("vendor=abc");
    expect(a!.map(([n]) => n)).toEqual(["traceparent", "tracestate", "other"]); // in place, order kept
    const copy = deadLetter(record, "dlq", "bad", 1, "permanent");
    expect(text.decode(copy.headers.find(([n]) => (typeof n === "string" ? n : text.decode(n)) === "traceparent")![1]!)).toBe(
      header(a!, "traceparent")!,
    );
  });

  test("a handler's own headers get processor's traceparent and the input's tracestate added; its own traceparent is kept", () => {
    const record = input([
      ["traceparent", PARENT],
      ["tracestate", "vendor=abc"],
    ]);
    const [added] = outputsOf(() => ({ value: "1", headers: { mine: "1" } }), record);
    expect(added!.map(([n]) => n)).toEqual(["mine", "traceparent", "tracestate"]);
    expect(parts(header(added!, "traceparent"))[1]).toBe("4bf92f3577b34da6a3ce929d0e0e4736");
    const own = "00-11111111111111111111111111111111-2222222222222222-00";
    const [kept] = outputsOf(() => ({ value: "1", headers: [["traceparent", own]] }), record);
    expect(kept).toEqual([["traceparent", own]]);
  });

  test("no traceparent, or an invalid one: every header stays as it was (the same array, nothing added)", () => {
    const plain = input([["other", "x"]]);
    const outcome = runHandler(() => ({ value: "1" }), plain, "out", 1000) as HandlerOutcome;
    expect(outcome.kind === "outputs" && outcome.outputs[0]!.headers).toBe(plain.rawHeaders);
    for (const bad of [
      "01-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01", // unknown version
      "00-00000000000000000000000000000000-00f067aa0ba902b7-01", // zero trace id
      "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01", // zero parent id
      "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01", // upper case
      "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7", // short
    ]) {
      const record = input([["traceparent", bad]]);
      expect(continuedTraceparent(record)).toBeNull();
      expect(outputsOf(() => ({ value: "1" }), record)).toEqual([[["traceparent", bad]]]);
    }
  });

  test("the dead-letter stub (value and headers left out) still carries the trace", () => {
    const record = input([["traceparent", PARENT]]);
    const stub = deadLetterStub(record, "dlq", "too large", 1, "output-refused");
    const names = stub.headers.map(([n]) => (typeof n === "string" ? n : text.decode(n)));
    expect(names[0]).toBe("traceparent");
    expect(names).not.toContain("tracestate");
  });
});
