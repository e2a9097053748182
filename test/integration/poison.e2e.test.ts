/**
 * Poison input and a bad deploy: every malformed record and every misbehaving handler call ends in the
 * dead-letter topic with the reason, the process never crashes; the dead-letter guard stops a handler that
 * fails everything before it drains the input, and commits nothing past the record that tripped it.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { committedOffsets, createTopics, deleteTopics, endOffsets, produce, produceRaw, readAll, uniqueName, type RawRecord, type ReadRecord, createTopicSet } from "../support/kafka.ts";
import { buildBinary, eventually, startProcessor } from "../support/processor.ts";

const root = resolve(import.meta.dir, "../..");
const created: string[] = [];
const sum = (values: number[]) => values.reduce((a, b) => a + b, 0);
const BIG_TOPIC = { "max.message.bytes": String(8 * 1024 * 1024) };

beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

const topics = (prefix: string, partitions: number, configs: Record<string, string> = {}) => createTopicSet(created, prefix, partitions, configs);

interface PoisonCase {
  readonly name: string;
  readonly record: RawRecord;
  /** Where it must end: the output, or the DLQ with an x-processor-error containing this text. */
  readonly expect: { readonly place: "output" } | { readonly place: "dlq"; readonly reason: string };
}

const now = () => new Date().toISOString();
const json = (value: unknown) => Buffer.from(JSON.stringify(value));
const seed = (name: string, fields: Record<string, unknown> = {}) => json({ id: name, timestamp: now(), data: "long enough data", status: "", ...fields });

function poisonCorpus(): PoisonCase[] {
  const toOutput = { place: "output" } as const;
  const dlq = (reason: string) => ({ place: "dlq", reason }) as const;
  const junk = Buffer.alloc(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 7919 + 13) % 256; // deterministic binary, invalid UTF-8
  const cases: Array<[string, Buffer | null, PoisonCase["expect"], Partial<RawRecord>?]> = [
    ["valid", seed("valid"), toOutput],
    ["null-key", seed("null-key"), toOutput, { key: null }],
    ["malformed-json", Buffer.from('{"id": "m", "timestamp": '), dlq("not valid JSON")],
    ["binary-junk", junk, dlq("not valid UTF-8")],
    ["empty-value", Buffer.alloc(0), dlq("not valid JSON")],
    ["null-value", null, dlq("value is null")],
    ["invalid-utf8-in-json", Buffer.concat([Buffer.from('{"id":"u","timestamp":"'), Buffer.from([0xc3, 0x28]), Buffer.from('","data":"x"}')]), dlq("not valid UTF-8")],
    ["json-array", json([1, 2, 3]), dlq("not a JSON object")],
    ["json-string", json("hello"), dlq("not a JSON object")],
    ["json-null", Buffer.from("null"), dlq("not a JSON object")],
    ["id-object", seed("x", { id: { nested: true } }), dlq("id is missing")],
    ["timestamp-number", seed("timestamp-number", { timestamp: Date.now() }), dlq("timestamp is missing or not a string")],
    ["data-number", seed("data-number", { data: 12345678901234 }), dlq("data is missing")],
    ["missing-all", json({}), dlq("id is missing")],
    ["missing-data", json({ id: "d", timestamp: now() }), dlq("data is missing")],
    ["old-timestamp", seed("old", { timestamp: new Date(Date.now() - 49 * 3600_000).toISOString() }), dlq("older than 24 hours")],
    ["future-timestamp", seed("future", { timestamp: new Date(Date.now() + 24 * 3600_000).toISOString() }), dlq("in the future")],
    ["garbage-timestamp", seed("garbage", { timestamp: "yesterday at noon" }), dlq("not RFC 3339")],
    ["impossible-timestamp", seed("impossible", { timestamp: "2026-13-45T99:99:99Z" }), dlq("not RFC 3339")],
    ["big-valid", seed("big-valid", { data: "d".repeat(1_500_000) }), toOutput],
    ["big-junk", Buffer.alloc(2_200_000, 0xff), dlq("not valid UTF-8")],
    ["many-headers", seed("many-headers"), toOutput, { headers: Array.from({ length: 2000 }, (_, i) => [`h${i}`, Buffer.from(`v${i}`)] as [string, Buffer]) }],
    ["large-header", seed("large-header"), toOutput, { headers: [["big", Buffer.alloc(512 * 1024, 0x61)]] }],
    ["many-headers-bad", Buffer.from("{"), dlq("not valid JSON"), { headers: Array.from({ length: 500 }, (_, i) => ["same", Buffer.from(String(i))] as [string, Buffer]) }],
    // handlers that misbehave (test/fixtures/poison-handler.ts picks the behaviour by the first word)
    ["throw-error", Buffer.from("throw-error"), dlq("handler blew up")],
    ["throw-string", Buffer.from("throw-string"), dlq("a bare string")],
    ["throw-null", Buffer.from("throw-null"), dlq("null")],
    ["throw-undefined", Buffer.from("throw-undefined"), dlq("undefined")],
    ["throw-object", Buffer.from("throw-object"), dlq("not an Error")],
    ["reject-number", Buffer.from("reject-number"), dlq("7")],
    ["hang", Buffer.from("hang"), dlq("timed out")],
    ["return-number", Buffer.from("return-number"), dlq("wrong type")],
    ["return-string", Buffer.from("return-string"), dlq("wrong type")],
    ["return-bytes", Buffer.from("return-bytes"), dlq("wrong type")],
    ["return-bad-value", Buffer.from("return-bad-value"), dlq("wrong type")],
    ["return-bad-headers", Buffer.from("return-bad-headers"), dlq("wrong type")],
    ["return-bad-topic", Buffer.from("return-bad-topic"), dlq("wrong type")],
    ["resolve-undefined", Buffer.from("resolve-undefined"), dlq("wrong type")],
  ];
  return cases.map(([name, value, expectation, extra]) => ({
    name,
    expect: expectation,
    record: { key: extra?.key === null ? null : Buffer.from(`key-${name}`), value, headers: [["case", Buffer.from(name)], ...(extra?.headers ?? [])] },
  }));
}

test("poison corpus: every bad record and every misbehaving handler call lands in the DLQ with its reason; the process stays up", async () => {
  const t = await topics("poison", 1, BIG_TOPIC);
  const corpus = poisonCorpus();
  await produceRaw(t.input, corpus.map((c) => c.record));
  const groupId = uniqueName("g");
  const processor = startProcessor([
    "--input-topics", t.input, "--output-topic", t.output, "--group-id", groupId,
    "--handler", resolve(root, "test/fixtures/poison-handler.ts"), "--handler-timeout", "300ms", "--retries", "1", "--retry-backoff", "10ms",
  ]);
  const inputEnds = await endOffsets(t.input);
  const done = await eventually(async () => JSON.stringify(await committedOffsets(groupId, t.input)) === JSON.stringify(inputEnds), 60_000);
  if (!done) console.error(processor.log().slice(-4000));
  expect(done).toBe(true);
  expect(processor.process.exitCode).toBeNull(); // still running after all of it

  const [outputs, deadLetters] = await Promise.all([readAll(t.output), readAll(t.dlq)]);
  const byCase = new Map<string, Array<{ place: "output" | "dlq"; record: ReadRecord }>>();
  for (const [place, records] of [["output", outputs], ["dlq", deadLetters]] as const) {
    for (const record of records) {
      const name = record.headers["case"] ?? "<no case header>";
      byCase.set(name, [...(byCase.get(name) ?? []), { place, record }]);
    }
  }
  const problems: string[] = [];
  for (const c of corpus) {
    const landed = byCase.get(c.name) ?? [];
    if (landed.length !== 1) {
      problems.push(`${c.name}: landed ${landed.length} times`);
      continue;
    }
    const { place, record } = landed[0]!;
    if (place !== c.expect.place) problems.push(`${c.name}: in ${place}, expected ${c.expect.place} (${record.headers["x-processor-error"] ?? ""})`);
    if (c.expect.place === "dlq") {
      const error = record.headers["x-processor-error"] ?? "";
      if (!error.includes(c.expect.reason)) problems.push(`${c.name}: reason "${error}" lacks "${c.expect.reason}"`);
      if (!["permanent", "retries-exhausted"].includes(record.headers["x-processor-error-kind"] ?? "")) problems.push(`${c.name}: no error-kind header`);
      if (record.headers["x-processor-source-topic"] !== t.input) problems.push(`${c.name}: no source-topic header`);
      // the dead-letter copy keeps the original bytes, so nothing is lost even when the value is junk
      const original = c.record.value ?? Buffer.alloc(0);
      if (!(record.valueBytes ?? Buffer.alloc(0)).equals(original)) problems.push(`${c.name}: DLQ value differs from the input`);
    }
    if (record.headerCount < (c.record.headers?.length ?? 0)) problems.push(`${c.name}: headers dropped (${record.headerCount} < ${c.record.headers?.length})`);
    if (c.name === "null-key" && record.key !== null) problems.push("null-key: the output got a key");
  }
  const bigOut = outputs.find((r) => r.headers["case"] === "big-valid");
  if (bigOut && (JSON.parse(bigOut.value ?? "{}") as { status?: string; data?: string }).data?.length !== 1_500_000) problems.push("big-valid: data changed");
  expect(problems).toEqual([]);

  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);
  expect(processor.log()).not.toContain('"level":"fatal"');
}, 120_000);

test("dead-letter guard: a handler failing every record stops the process (exit 1, one clear line) with nothing committed past the record that tripped it; a fixed deploy then processes the rest", async () => {
  const t = await topics("guard", 1);
  const good = (from: number, n: number) => Array.from({ length: n }, (_, i) => ({ key: `k${from + i}`, value: `ok-${from + i}` }));
  const failing = Array.from({ length: 200 }, (_, i) => ({ key: `k${100 + i}`, value: `fail-always-${100 + i}` }));
  await produce(t.input, [...good(0, 100), ...failing, ...good(300, 100)]);
  const groupId = uniqueName("g");
  const args = ["--input-topics", t.input, "--output-topic", t.output, "--group-id", groupId, "--ordering", "partition", "--retries", "0"];

  const bad = startProcessor([...args, "--handler", resolve(root, "test/fixtures/flaky-handler.ts"), "--dlq-max-consecutive", "20"]);
  expect(await bad.exited()).toBe(1);
  const lastLine = bad.log().trim().split("\n").at(-1) ?? "";
  expect(lastLine).toBe("processor: dead-letter guard: 20 records in a row failed (--dlq-max-consecutive 20)");
  // records 0..99 produced, 100..118 dead-lettered, 119 tripped the guard: the commit stops right before it
  expect(await committedOffsets(groupId, t.input)).toEqual([119]);
  expect(sum(await endOffsets(t.output))).toBe(100);
  expect(sum(await endOffsets(t.dlq))).toBe(19);

  // the fixed deploy (the seed rule would fail these plain-text values too, so a pass-through handler)
  const fixed = startProcessor([...args, "--handler", resolve(root, "test/fixtures/slow-handler.ts"), "--dlq-max-ratio", "0.5", "--dlq-window", "50"], { SLOW_HANDLER_MS: "0" });
  const done = await eventually(async () => JSON.stringify(await committedOffsets(groupId, t.input)) === JSON.stringify([400]), 60_000);
  fixed.process.kill("SIGTERM");
  expect(await fixed.exited()).toBe(0);
  expect(done).toBe(true);
  const outputs = await readAll(t.output);
  const values = new Set(outputs.map((r) => r.value));
  for (let i = 119; i < 300; i++) expect(values.has(`fail-always-${i}`)).toBe(true); // not lost: reprocessed
  expect(outputs.length).toBe(100 + 181 + 100);
}, 120_000);

test("an output too large for its topic: the input goes to the DLQ instead and the rest of its batch still goes out; if the DLQ refuses it too, the process stops before committing it", async () => {
  const input = uniqueName("large-in");
  const output = uniqueName("large-out");
  const roomyDlq = `${output}.dlq`;
  const tightDlq = uniqueName("large-tight-dlq");
  created.push(input, output, roomyDlq, tightDlq);
  await createTopics([input, roomyDlq], 1, BIG_TOPIC);
  await createTopics([output, tightDlq], 1, { "max.message.bytes": String(512 * 1024) });
  const small = (name: string): RawRecord => ({ key: Buffer.from(name), value: seed(name), headers: [["case", Buffer.from(name)]] });
  await produceRaw(input, [small("a"), small("b"), { key: Buffer.from("big"), value: seed("big", { data: "d".repeat(700_000) }), headers: [["case", Buffer.from("big")]] }, small("c"), small("d")]);

  const groupId = uniqueName("g");
  const processor = startProcessor(["--input-topics", input, "--output-topic", output, "--group-id", groupId, "--workers", "8"]);
  const done = await eventually(async () => JSON.stringify(await committedOffsets(groupId, input)) === "[5]", 60_000);
  if (!done) console.error(processor.log().slice(-4000));
  expect(done).toBe(true);
  expect(processor.process.exitCode).toBeNull();
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);
  const outputs = await readAll(output);
  expect(outputs.map((r) => r.headers["case"]).sort()).toEqual(["a", "b", "c", "d"]);
  const [copy, ...more] = await readAll(roomyDlq);
  expect(more).toEqual([]);
  expect(copy!.headers["case"]).toBe("big");
  expect(copy!.headers["x-processor-error"]).toContain("output refused by Kafka");
  expect(copy!.headers["x-processor-error"]).toContain("max.message.bytes");
  expect(copy!.valueBytes?.length).toBeGreaterThan(700_000);

  // nowhere to put it: a clear fatal line, and the commit stops right before the record (offset 2)
  const stuckGroup = uniqueName("g");
  const stuck = startProcessor(["--input-topics", input, "--output-topic", output, "--dlq-topic", tightDlq, "--group-id", stuckGroup, "--ordering", "partition"]);
  expect(await stuck.exited()).toBe(1);
  expect(stuck.log().trim().split("\n").at(-1)).toMatch(/^processor: the dead-letter copy of .+\/0@2 was refused too \(.+max\.message\.bytes.*\); raise the dead-letter topic's max\.message\.bytes$/);
  expect((await committedOffsets(stuckGroup, input))[0] ?? 0).toBeLessThanOrEqual(2);
}, 120_000);

test("a handler that blocks the main thread: the watchdog kills the process (the group then reassigns its partitions); nothing after the blocking record is committed", async () => {
  const t = await topics("block", 1);
  await produceRaw(t.input, [
    ...Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: seed(`before-${i}`) })),
    { key: Buffer.from("stuck"), value: Buffer.from("block") },
    ...Array.from({ length: 50 }, (_, i) => ({ key: Buffer.from(`k${i}`), value: seed(`after-${i}`) })),
  ]);
  const groupId = uniqueName("g");
  const started = Date.now();
  const processor = startProcessor([
    "--input-topics", t.input, "--output-topic", t.output, "--group-id", groupId, "--ordering", "partition",
    "--handler", resolve(root, "test/fixtures/poison-handler.ts"), "--watchdog", "3s",
  ]);
  const code = await processor.exited();
  expect(code === 137 || processor.process.signalCode === "SIGKILL").toBe(true);
  expect(Date.now() - started).toBeLessThan(30_000);
  expect(processor.log()).toContain("processor: the main thread has not run for ");
  // the 50 records before it may be committed, the blocking record (offset 50) and everything after it not
  expect((await committedOffsets(groupId, t.input))[0] ?? 0).toBeLessThanOrEqual(50);
  // records handled in the same turn as the blocking one may not have reached their producer: at most the 50
  expect(sum(await endOffsets(t.output))).toBeLessThanOrEqual(50);
}, 60_000);
