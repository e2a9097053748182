/**
 * W3C trace context through the compiled binary and the real broker: an input's traceparent is continued on its output
 * and on its dead-letter copy (same trace id and flags, processor's own span id), tracestate kept; read back with kcat.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { createTopicSet, deleteTopics, produce, uniqueName } from "../support/kafka.ts";
import { readExact, type ExactReadRecord } from "../support/kcat.ts";
import { buildBinary, startProcessor, topicArgs, waitCommittedToEnd } from "../support/processor.ts";

const created: string[] = [];
beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

const TRACE = "0af7651916cd43dd8448eb211c80319c";
const headerOf = (r: ExactReadRecord, name: string): string | undefined => {
  const found = r.headers.find(([n]) => n.toString() === name);
  return found?.[1]?.toString();
};

test("traceparent is continued on the output and the dead-letter copy, tracestate kept", async () => {
  const t = await createTopicSet(created, "trace", 1);
  const groupId = uniqueName("g");
  const now = new Date().toISOString();
  const headers = { traceparent: `00-${TRACE}-b7ad6b7169203331-01`, tracestate: "congo=t61rcWkgMzE" };
  await produce(t.input, [
    { key: "k1", value: JSON.stringify({ id: "ok", timestamp: now, data: "longer than ten", status: "" }), headers },
    { key: "k2", value: "not json", headers },
    { key: "k3", value: JSON.stringify({ id: "plain", timestamp: now, data: "short", status: "" }) },
  ]);
  const processor = startProcessor(topicArgs(t.input, t.output, groupId));
  expect(await waitCommittedToEnd(processor, groupId, t.input, 60_000)).toBe(true);
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);

  const outputs = await readExact(t.output);
  const [copy] = await readExact(t.dlq);
  const traced = outputs.find((r) => r.key?.toString() === "k1")!;
  const plain = outputs.find((r) => r.key?.toString() === "k3")!;
  for (const record of [traced, copy!]) {
    const [version, trace, span, flags] = (headerOf(record, "traceparent") ?? "").split("-");
    expect([version, trace, flags]).toEqual(["00", TRACE, "01"]);
    expect(span).toMatch(/^[0-9a-f]{16}$/);
    expect(span).not.toBe("b7ad6b7169203331");
    expect(headerOf(record, "tracestate")).toBe("congo=t61rcWkgMzE");
  }
  // a record without trace context gets none
  expect(plain.headers.map(([n]) => n.toString())).not.toContain("traceparent");
});
