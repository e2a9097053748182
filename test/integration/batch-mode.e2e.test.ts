/**
 * Batch mode (--batch-size) end to end: the compiled binary with a handler module's `batch` export against the real
 * broker, the default seed rule's batch form, and the usage error for a module without a `batch` export. Results are
 * read back with kcat (test/support/kcat.ts), not with the client processor itself uses.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { committedOffsets, createTopicSet, deleteTopics, endOffsets, produce, uniqueName, type SeedRecord } from "../support/kafka.ts";
import { readExact, type ExactReadRecord } from "../support/kcat.ts";
import { BINARY, buildBinary, eventually, startProcessor, topicArgs } from "../support/processor.ts";
import { produceSeedCases } from "../support/seed-data.ts";
import { verify } from "../support/verify.ts";
import { expectedMix } from "../../scripts/lib/seed-data.ts";
import { sum } from "../../scripts/lib/stats.ts";

const root = resolve(import.meta.dir, "../..");
const created: string[] = [];

beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

/** Runs the binary until `expected` records are in output + DLQ and the group committed the input to its end, then SIGTERMs it. */
async function runUntilDone(
  args: string[],
  t: { input: string; output: string; dlq: string },
  expected: number,
  groupId = uniqueName("g"),
) {
  const processor = startProcessor([...topicArgs(t.input, t.output, groupId), ...args]);
  const inputEnds = await endOffsets(t.input);
  const done = await eventually(async () => {
    const produced = sum(await endOffsets(t.output)) + sum(await endOffsets(t.dlq));
    const committed = await committedOffsets(groupId, t.input);
    return produced >= expected && JSON.stringify(committed) === JSON.stringify(inputEnds);
  }, 90_000);
  processor.process.kill("SIGTERM");
  const code = await processor.exited();
  if (!done) console.error(processor.log().slice(-4000));
  expect(done).toBe(true);
  expect(code).toBe(0);
  // after the graceful stop, the committed offsets are still the input's end offsets
  expect(await committedOffsets(groupId, t.input)).toEqual(inputEnds);
  return processor;
}

const str = (b: Buffer | null): string | null => (b === null ? null : b.toString("utf8"));
function headerOf(r: ExactReadRecord, name: string): string | undefined {
  const found = r.headers.find(([n]) => n.toString("utf8") === name);
  return found === undefined ? undefined : (str(found[1]) ?? "<null>");
}

test("--batch-size 64 with a batch handler: every record once in output or DLQ, poison and exploding records dead-lettered, per-key order, batches of 2..64, offsets committed to the end", async () => {
  const t = await createTopicSet(created, "batch", 4);
  const runId = uniqueName("run");
  const COUNT = 2000;
  const KEYS = 150;
  const kindOf = (i: number): "poison" | "explode" | "ok" => (i % 97 === 13 ? "poison" : i === 500 || i === 1501 ? "explode" : "ok");
  const records: SeedRecord[] = Array.from({ length: COUNT }, (_, i) => ({
    key: `key-${i % KEYS}`,
    value: `${kindOf(i) === "ok" ? "value" : kindOf(i)} seq=${i} run=${runId}`,
    headers: { "test-id": `${runId}-${i}` },
  }));
  await produce(t.input, records);
  await runUntilDone(
    ["--handler", resolve(root, "test/fixtures/batch-handler.ts"), "--batch-size", "64", "--retries", "1", "--retry-backoff", "10ms"],
    t,
    COUNT,
  );

  const [outputs, dead] = await Promise.all([readExact(t.output), readExact(t.dlq)]);
  // every input id exactly once across output + DLQ
  const seen = new Map<string, number>();
  for (const r of [...outputs, ...dead]) {
    const id = headerOf(r, "test-id")!;
    seen.set(id, (seen.get(id) ?? 0) + 1);
  }
  const missing = records.map((r) => r.headers!["test-id"]!).filter((id) => !seen.has(id));
  const twice = [...seen].filter(([, n]) => n > 1).map(([id]) => id);
  expect(missing).toEqual([]);
  expect(twice).toEqual([]);
  expect(seen.size).toBe(COUNT);

  // the DLQ holds exactly the poison and exploding records, with the reason
  const badCount = records.filter((_, i) => kindOf(i) !== "ok").length;
  expect(dead.length).toBe(badCount);
  expect(outputs.length).toBe(COUNT - badCount);
  for (const r of dead) {
    const value = str(r.value)!;
    const seq = Number(/seq=(\d+)/.exec(value)![1]);
    const kind = kindOf(seq);
    expect(kind).not.toBe("ok");
    expect(headerOf(r, "x-processor-source-topic")).toBe(t.input);
    if (kind === "poison") {
      expect(headerOf(r, "x-processor-error")).toBe(`PermanentError: poison at offset ${headerOf(r, "x-processor-source-offset")}`);
      expect(headerOf(r, "x-processor-error-kind")).toBe("permanent");
      expect(headerOf(r, "x-processor-attempts")).toBe("1");
    } else {
      // thrown for its whole batch: split down to this record alone, retried once, then dead-lettered
      expect(headerOf(r, "x-processor-error")).toBe("Error: exploded in a batch of 1");
      expect(headerOf(r, "x-processor-error-kind")).toBe("retries-exhausted");
      expect(headerOf(r, "x-processor-attempts")).toBe("2");
    }
  }

  // outputs: from the batch form (never per-record), batch sizes within 1..64, some real batches
  const sizes = outputs.map((r) => headerOf(r, "x-batch-size")!);
  expect(sizes.filter((s) => !/^\d+$/.test(s))).toEqual([]);
  const numeric = sizes.map(Number);
  expect(Math.min(...numeric)).toBeGreaterThanOrEqual(1);
  expect(Math.max(...numeric)).toBeLessThanOrEqual(64);
  expect(numeric.filter((n) => n > 1).length).toBeGreaterThan(COUNT / 4);
  for (const r of outputs) expect(str(r.value)).toStartWith("value seq=");

  // per-key order in the output (a key's records share an output partition; readExact sorts by partition, offset)
  const lastSeq = new Map<string, number>();
  const outOfOrder: string[] = [];
  for (const r of outputs) {
    const key = str(r.key)!;
    const seq = Number(/seq=(\d+)/.exec(str(r.value)!)![1]);
    if (seq <= (lastSeq.get(key) ?? -1)) outOfOrder.push(`${key}: ${seq} after ${lastSeq.get(key)}`);
    lastSeq.set(key, seq);
  }
  expect(outOfOrder).toEqual([]);
  expect(lastSeq.size).toBe(KEYS);
}, 180_000);

test("the default seed rule with --batch-size 32: each seed record once, in the right place with the right status", async () => {
  const t = await createTopicSet(created, "batch-seed", 3);
  const COUNT = 3000;
  const cases = await produceSeedCases(t.input, COUNT, 60);
  await runUntilDone(["--batch-size", "32", "--batch-wait", "5ms"], t, COUNT);
  const verdict = await verify(cases, t.output, t.dlq);
  const expected = expectedMix(COUNT, { brokenEvery: 10 });
  expect(verdict.lost).toEqual([]);
  expect(verdict.duplicates).toBe(0);
  expect(verdict.misplaced).toEqual([]);
  expect(verdict.wrongStatus).toEqual([]);
  expect(verdict.outputs.length).toBe(expected.outputs);
  expect(verdict.deadLetters.length).toBe(expected.dlq);
  for (const r of verdict.deadLetters) {
    expect(r.headers["x-processor-error"]).toStartWith("PermanentError: ");
    expect(r.headers["x-processor-error-kind"]).toBe("permanent");
  }
}, 180_000);

test("batch mode with a handler module that has no batch export: exit 2, one line on stderr, before any connection", async () => {
  const handler = resolve(root, "test/fixtures/pass-through-handler.ts");
  for (const how of ["flag", "env"] as const) {
    const args = [
      "--input-topics",
      "batch-usage-in",
      "--output-topic",
      "batch-usage-out",
      "--brokers",
      "127.0.0.1:1",
      "--handler",
      handler,
    ];
    if (how === "flag") args.push("--batch-size", "8");
    const child = Bun.spawn([BINARY, ...args], {
      cwd: "/tmp",
      env: { PATH: process.env.PATH ?? "", ...(how === "env" && { PROCESSOR_BATCH_SIZE: "8" }) },
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), 30_000);
    const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    clearTimeout(timer);
    expect(code).toBe(2);
    expect(stdout).toBe("");
    const lines = stderr.split("\n").filter((line) => line.length > 0);
    expect(lines).toEqual([`processor: --handler ${handler} exports no "batch" function, which --batch-size greater than 1 needs`]);
  }
}, 60_000);
