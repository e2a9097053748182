/**
 * User handler modules loaded by the compiled binary, retries and dead-lettering, and a 5 MB record.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import {
  committedOffsets,
  createTopics,
  deleteTopics,
  endOffsets,
  produce,
  readAll,
  uniqueName,
  createTopicSet,
} from "../support/kafka.ts";
import { buildBinary, eventually, startProcessor, topicArgs } from "../support/processor.ts";
import { sum } from "../../scripts/lib/stats.ts";

const root = resolve(import.meta.dir, "../..");
const created: string[] = [];

const topics = (prefix: string, partitions: number, configs: Record<string, string> = {}) =>
  createTopicSet(created, prefix, partitions, configs);

/** Runs the binary until `expected` records are in output + DLQ and all input offsets are committed, then SIGTERMs it. */
async function runUntilDone(
  args: string[],
  t: { input: string; output: string; dlq: string },
  expected: number,
  env: Record<string, string> = {},
  extraTopics: string[] = [],
) {
  const groupId = uniqueName("g");
  const processor = startProcessor([...topicArgs(t.input, t.output, groupId), ...args], env);
  const inputEnds = await endOffsets(t.input);
  const done = await eventually(async () => {
    const produced = sum(await endOffsets(t.output)) + sum(await endOffsets(t.dlq));
    let extra = 0;
    for (const topic of extraTopics) extra += sum(await endOffsets(topic));
    const committed = await committedOffsets(groupId, t.input);
    return produced + extra >= expected && JSON.stringify(committed) === JSON.stringify(inputEnds);
  }, 60_000);
  processor.process.kill("SIGTERM");
  const code = await processor.exited();
  if (!done) console.error(processor.log().slice(-3000));
  expect(done).toBe(true);
  expect(code).toBe(0);
  return processor;
}

beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

test("examples/enrich-handler.ts: fan-out to its own topic, filter, permanent error to DLQ, key and headers kept", async () => {
  const t = await topics("enrich", 3);
  const review = uniqueName("review");
  created.push(review);
  await createTopics([review], 1);
  await produce(t.input, [
    { key: "a", value: JSON.stringify({ type: "order", amount: 10 }), headers: { trace: "t1" } },
    { key: "b", value: JSON.stringify({ type: "order", amount: 5000 }), headers: { trace: "t2" } },
    { key: "c", value: JSON.stringify({ type: "heartbeat" }) },
    { key: "d", value: "not json at all", headers: { trace: "t4" } },
  ]);
  await runUntilDone(["--handler", resolve(root, "examples/enrich-handler.ts")], t, 3, { ENRICH_REVIEW_TOPIC: review }, [review]);

  const outputs = await readAll(t.output);
  expect(outputs.map((r) => r.key).sort()).toEqual(["a", "b"]);
  for (const r of outputs) {
    expect(r.headers["x-enriched"]).toBe("1");
    expect(r.headers.trace).toBe(r.key === "a" ? "t1" : "t2");
    expect(JSON.parse(r.value!).source).toStartWith(`${t.input}/`);
  }
  const reviewed = await readAll(review);
  expect(reviewed.map((r) => r.key)).toEqual(["b"]);
  const dead = await readAll(t.dlq);
  expect(dead).toHaveLength(1);
  expect(dead[0]!.key).toBe("d");
  expect(dead[0]!.value).toBe("not json at all");
  expect(dead[0]!.headers.trace).toBe("t4");
  expect(dead[0]!.headers["x-processor-error"]).toBe("PermanentError: value is not a JSON object");
  expect(dead[0]!.headers["x-processor-error-kind"]).toBe("permanent");
}, 120_000);

test("retries with backoff, then dead-letter with the reason; permanent and wrong-type results skip retries", async () => {
  const t = await topics("flaky", 2);
  await produce(t.input, [
    { key: "1", value: "ok" },
    { key: "2", value: "fail-once" },
    { key: "3", value: "fail-always" },
    { key: "4", value: "permanent" },
    { key: "5", value: "undefined" },
  ]);
  const processor = await runUntilDone(
    [
      "--handler",
      resolve(root, "test/fixtures/flaky-handler.ts"),
      "--retries",
      "2",
      "--retry-backoff",
      "20ms",
      "--workers",
      "1",
      "--pick-up",
      "1",
    ],
    t,
    5,
  );
  const outputs = Object.fromEntries((await readAll(t.output)).map((r) => [r.key, r.value]));
  expect(outputs).toEqual({ "1": "ok|attempt=1", "2": "fail-once|attempt=2" });
  const dead: Record<string, Record<string, string>> = Object.fromEntries((await readAll(t.dlq)).map((r) => [r.key, r.headers]));
  expect(Object.keys(dead).sort()).toEqual(["3", "4", "5"]);
  expect(dead["3"]!["x-processor-attempts"]).toBe("3");
  expect(dead["3"]!["x-processor-error-kind"]).toBe("retries-exhausted");
  expect(dead["3"]!["x-processor-error"]).toBe("Error: always failing: fail-always");
  expect(dead["4"]!["x-processor-attempts"]).toBe("1");
  expect(dead["4"]!["x-processor-error-kind"]).toBe("permanent");
  expect(dead["5"]!["x-processor-error"]).toContain("wrong type");
  for (const headers of Object.values(dead)) {
    expect(headers["x-processor-source-topic"]).toBe(t.input);
    expect(Number.isNaN(Date.parse(headers["x-processor-failed-at"]!))).toBe(false);
  }
  // record-level errors in the log carry topic/partition/offset
  const line = processor
    .log()
    .split("\n")
    .find((l) => l.includes("dead-letter"));
  expect(JSON.parse(line!)).toMatchObject({ topic: t.input, partition: expect.any(Number), offset: expect.any(Number) });
}, 120_000);

test("a 5 MB record passes through rings smaller than itself", async () => {
  const t = await topics("big", 1, { "max.message.bytes": String(12 * 1024 * 1024) });
  const big = "x".repeat(5 * 1024 * 1024);
  // one key: the big record must also keep its place in the key's order
  await produce(t.input, [
    { key: "k", value: "before" },
    { key: "k", value: big },
    { key: "k", value: "after" },
  ]);
  await runUntilDone(["--handler", resolve(root, "test/fixtures/flaky-handler.ts"), "--ring-size", "1MiB"], t, 3);
  const outputs = await readAll(t.output);
  expect(outputs.map((r) => r.value)).toEqual(["before|attempt=1", `${big}|attempt=1`, "after|attempt=1"]);
}, 120_000);
