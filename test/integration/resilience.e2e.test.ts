/**
 * The compiled binary under the events a production processor lives through: slow handlers, crashes,
 * group members coming and going, graceful stops. Every input id must reach output or DLQ.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { committedOffsets, deleteTopics, endOffsets, produce, readAll, uniqueName, createTopicSet } from "../support/kafka.ts";
import { BINARY, buildBinary, eventually, startProcessor, topicArgs, type RunningProcessor } from "../support/processor.ts";
import { produceSeedCases } from "../support/seed-data.ts";
import { verify } from "../support/verify.ts";
import { sum } from "../../scripts/lib/stats.ts";

const root = resolve(import.meta.dir, "../..");
const created: string[] = [];

const topics = (prefix: string, partitions: number, configs: Record<string, string> = {}) =>
  createTopicSet(created, prefix, partitions, configs);

/** Topics with 6 partitions, `count` seed cases over `keys` keys produced into the input, and a fresh group id. */
async function seeded(prefix: string, count: number, keys: number) {
  const t = await topics(prefix, 6);
  const cases = await produceSeedCases(t.input, count, keys, 5000);
  return { t, cases, groupId: uniqueName("g") };
}

const producedCount = async (t: { output: string; dlq: string }) => sum(await endOffsets(t.output)) + sum(await endOffsets(t.dlq));

async function waitCommittedToEnd(groupId: string, input: string, timeoutMs = 90_000): Promise<boolean> {
  const ends = JSON.stringify(await endOffsets(input));
  return eventually(async () => JSON.stringify(await committedOffsets(groupId, input)) === ends, timeoutMs);
}

/** Fails with the processors' recent logs attached, so a failure here can be understood from CI output. */
function expectWithLogs(ok: boolean, ...processors: RunningProcessor[]): void {
  if (!ok)
    for (const p of processors)
      console.error(
        p
          .log()
          .split("\n")
          .filter((l) => !l.includes("dead-letter"))
          .slice(-40)
          .join("\n"),
      );
  expect(ok).toBe(true);
}

/** Saves full processor logs under .cache/test-logs (printed path) when a run went wrong, for a post-mortem. */
function keepLogs(name: string, processors: Record<string, RunningProcessor>): void {
  const dir = resolve(root, ".cache/test-logs");
  mkdirSync(dir, { recursive: true });
  for (const [role, p] of Object.entries(processors)) {
    const file = resolve(dir, `${name}-${Date.now()}-${role}.log`);
    writeFileSync(file, p.log());
    console.error(`processor log kept: ${file}`);
  }
}

async function stop(processor: RunningProcessor): Promise<number> {
  processor.process.kill("SIGTERM");
  return processor.exited();
}

beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

test("key ordering with a slow async handler: per-key order kept, far faster than one record at a time per partition", async () => {
  const t = await topics("order", 6);
  const COUNT = 6000;
  const KEYS = 600;
  const DELAY_MS = 20;
  await produce(
    t.input,
    Array.from({ length: COUNT }, (_, i) => ({ key: `key-${i % KEYS}`, value: `${Math.floor(i / KEYS)}` })),
  );
  const groupId = uniqueName("g");
  const processor = startProcessor(
    [
      ...topicArgs(t.input, t.output, groupId),
      "--handler",
      resolve(root, "test/fixtures/slow-handler.ts"),
      "--workers",
      "300",
      "--ordering",
      "key",
    ],
    { SLOW_HANDLER_MS: String(DELAY_MS) },
  );
  expect(await waitCommittedToEnd(groupId, t.input)).toBe(true);
  expect(await stop(processor)).toBe(0);

  const outputs = await readAll(t.output);
  expect(outputs).toHaveLength(COUNT);
  const lastByKey = new Map<string, number>();
  let violations = 0;
  for (const record of outputs.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const sequence = Number(record.value);
    if (sequence !== (lastByKey.get(record.key!) ?? -1) + 1) violations++;
    lastByKey.set(record.key!, sequence);
  }
  expect(violations).toBe(0);
  // One record at a time per partition would need COUNT * DELAY / partitions of handler time.
  const partitionBoundMs = (COUNT * DELAY_MS) / 6;
  const timestamps = outputs.map((r) => r.timestamp);
  const spanMs = Math.max(...timestamps) - Math.min(...timestamps);
  console.log(`key ordering: ${COUNT} records in ${spanMs} ms of output time; partition-bound would take ${partitionBoundMs} ms`);
  expect(spanMs).toBeLessThan(partitionBoundMs / 4);
}, 180_000);

test("partition ordering: each input partition is processed and produced strictly in offset order", async () => {
  const t = await topics("porder", 3);
  await produce(
    t.input,
    Array.from({ length: 3000 }, (_, i) => ({ key: `k${i % 97}`, value: `${i}` })),
  );
  const groupId = uniqueName("g");
  const processor = startProcessor([
    ...topicArgs(t.input, t.output, groupId),
    "--handler",
    resolve(root, "test/fixtures/partition-tag-handler.ts"),
    "--ordering",
    "partition",
    "--workers",
    "64",
  ]);
  expect(await waitCommittedToEnd(groupId, t.input)).toBe(true);
  expect(await stop(processor)).toBe(0);
  const outputs = await readAll(t.output);
  expect(outputs).toHaveLength(3000);
  const lastBySource = new Map<string, number>();
  let violations = 0;
  for (const record of outputs.sort((a, b) => a.partition - b.partition || a.offset - b.offset)) {
    const sourceOffset = Number(record.value);
    if (sourceOffset <= (lastBySource.get(record.key!) ?? -1)) violations++;
    lastBySource.set(record.key!, sourceOffset);
  }
  expect(lastBySource.size).toBe(3);
  expect(violations).toBe(0);
}, 120_000);

test("SIGKILL three times mid-stream, restarting each time: nothing lost, duplicates within what was produced but not committed", async () => {
  const { t, cases, groupId } = await seeded("kill", 60_000, 500);
  // a small ring keeps the read-ahead small, so the kill really lands mid-stream; a short session timeout lets
  // the group notice the dead member quickly
  const args = [
    ...topicArgs(t.input, t.output, groupId),
    "--workers",
    "32",
    "--ring-size",
    "256KiB",
    "--session-timeout",
    "6s",
    "--heartbeat-interval",
    "1s",
  ];
  let duplicateBound = 0;
  const kills: string[] = [];
  for (const killAt of [12_000, 28_000, 44_000]) {
    const victim = startProcessor(args);
    expectWithLogs(await eventually(async () => (await producedCount(t)) >= killAt, 90_000, 50), victim);
    victim.process.kill("SIGKILL");
    expect(await victim.exited()).not.toBe(0);
    const produced = await producedCount(t);
    const committed = sum((await committedOffsets(groupId, t.input)).map((o) => Math.max(0, o ?? 0)));
    expect(committed).toBeLessThan(cases.length);
    // only records produced but not yet committed at a kill can come out twice
    duplicateBound += produced - committed;
    kills.push(`${produced} produced/${committed} committed`);
  }

  const last = startProcessor(args);
  expectWithLogs(await waitCommittedToEnd(groupId, t.input), last);
  expect(await stop(last)).toBe(0);
  const verdict = await verify(cases, t.output, t.dlq);
  console.log(`SIGKILL x3 (${kills.join("; ")}): lost ${verdict.lost.length}, duplicates ${verdict.duplicates} (bound ${duplicateBound})`);
  expect(verdict.lost).toEqual([]);
  expect(verdict.misplaced).toEqual([]);
  expect(verdict.duplicates).toBeLessThanOrEqual(duplicateBound);
}, 300_000);

test("a crashed consumer Worker is replaced in the same process: nothing lost, the restart is counted", async () => {
  const { t, cases, groupId } = await seeded("crash", 20_000, 200);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  // the dead member stays in the group until its session times out: keep that short
  const processor = startProcessor(
    [...topicArgs(t.input, t.output, groupId), "--metrics-port", String(port), "--session-timeout", "6s", "--heartbeat-interval", "1s"],
    { PROCESSOR_FAULT_CRASH_CONSUMER: "0:3000" },
  );
  expectWithLogs(await waitCommittedToEnd(groupId, t.input), processor);
  const metrics = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  expect(metrics).toContain('processor_worker_restarts_total{worker="consumer"} 1');
  expect(processor.log()).toContain("consumer Worker crashed; starting a new one");
  expect(await stop(processor)).toBe(0);
  const verdict = await verify(cases, t.output, t.dlq);
  console.log(`consumer crash: lost ${verdict.lost.length}, duplicates ${verdict.duplicates}`);
  expect(verdict.lost).toEqual([]);
  expect(verdict.misplaced).toEqual([]);
}, 120_000);

/** Resolves when the processor logged a non-empty assignment of `topic` (an empty one comes first under cooperative rebalancing). */
const waitForPartitions = (processor: RunningProcessor, topic: string) => processor.waitForLog(`"partitions":"${topic}/`, 60_000);

for (const consumers of [1, 2]) {
  test(`a second process (--consumers ${consumers}) joins mid-stream, takes partitions and leaves again: nothing lost, no partition stalls, duplicates under 1%`, async () => {
    const { t, cases, groupId } = await seeded("join", 60_000, 500);
    // few workers, so the work lasts through the join and the leave
    const args = [
      ...topicArgs(t.input, t.output, groupId),
      "--workers",
      "4",
      "--pick-up",
      "1",
      "--consumers",
      String(consumers),
      "--heartbeat-interval",
      "500ms",
    ];
    const first = startProcessor(args);
    expect(await eventually(async () => (await producedCount(t)) >= 5_000, 60_000, 50)).toBe(true);
    const second = startProcessor(args);
    await waitForPartitions(second, t.input);
    expectWithLogs(await eventually(async () => (await producedCount(t)) >= 20_000, 60_000, 50), first, second);
    expect(await stop(second)).toBe(0);
    expectWithLogs(await waitCommittedToEnd(groupId, t.input), first, second);
    expect(await stop(first)).toBe(0);
    const verdict = await verify(cases, t.output, t.dlq);
    console.log(`join/leave (--consumers ${consumers}): lost ${verdict.lost.length}, duplicates ${verdict.duplicates}`);
    if (verdict.lost.length > 0 || verdict.duplicates > cases.length / 100) keepLogs(`join-leave-c${consumers}`, { first, second });
    expect(verdict.lost).toEqual([]);
    expect(verdict.misplaced).toEqual([]);
    expect(verdict.wrongStatus).toEqual([]);
    // graceful group changes hand partitions over at their committed progress (commit on revoke)
    expect(verdict.duplicates).toBeLessThanOrEqual(cases.length / 100);
  }, 240_000);
}

test("static membership: a process restarted within the session timeout gets its partitions back without a rebalance", async () => {
  const { t, cases, groupId } = await seeded("static", 40_000, 500);
  const args = [
    ...topicArgs(t.input, t.output, groupId),
    "--workers",
    "2",
    "--pick-up",
    "1",
    "--session-timeout",
    "30s",
    "--heartbeat-interval",
    "1s",
  ];
  const a = startProcessor([...args, "--group-instance-id", "member-a"]);
  await waitForPartitions(a, t.input);
  const b = startProcessor([...args, "--group-instance-id", "member-b"]);
  await waitForPartitions(b, t.input);
  // settled: the partitions are split between the two
  const assigned = (p: RunningProcessor) =>
    p
      .log()
      .split("\n")
      .filter((l) => l.includes('"msg":"partitions assigned"'));
  const lastPartitions = (p: RunningProcessor) => JSON.parse(assigned(p).at(-1) ?? "{}").partitions as string | undefined;
  expectWithLogs(
    await eventually(async () => lastPartitions(a)?.split(",").length === 3 && lastPartitions(b)?.split(",").length === 3, 30_000),
    a,
    b,
  );
  const aRebalances = a.log().split('"msg":"group rebalancing"').length;
  const bPartitions = lastPartitions(b);
  expect(await stop(b)).toBe(0);
  const again = startProcessor([...args, "--group-instance-id", "member-b"]);
  await waitForPartitions(again, t.input);
  expect(lastPartitions(again)).toBe(bPartitions);
  expectWithLogs(await waitCommittedToEnd(groupId, t.input), a, again);
  // the other member never saw a rebalance: the restart moved nothing
  expect(a.log().split('"msg":"group rebalancing"').length).toBe(aRebalances);
  expect(await stop(a)).toBe(0);
  expect(await stop(again)).toBe(0);
  const verdict = await verify(cases, t.output, t.dlq);
  console.log(`static membership restart: lost ${verdict.lost.length}, duplicates ${verdict.duplicates}`);
  expect(verdict.lost).toEqual([]);
  expect(verdict.duplicates).toBeLessThanOrEqual(cases.length / 100);
}, 240_000);

test("SIGTERM mid-stream exits 0 within the timeout; a restart produces no duplicates", async () => {
  const { t, cases, groupId } = await seeded("term", 60_000, 500);
  const args = [...topicArgs(t.input, t.output, groupId), "--workers", "32", "--shutdown-timeout", "20s", "--ring-size", "256KiB"];
  const first = startProcessor(args);
  expect(await eventually(async () => (await producedCount(t)) >= 15_000, 60_000, 50)).toBe(true);
  const signalled = Date.now();
  first.process.kill("SIGTERM");
  expect(await first.exited()).toBe(0);
  const stopMs = Date.now() - signalled;
  expect(stopMs).toBeLessThan(20_000);
  expect(first.log()).toContain('"msg":"stopped"');
  expect(await producedCount(t)).toBeLessThan(cases.length); // the stop really came mid-stream

  const second = startProcessor(args);
  expect(await waitCommittedToEnd(groupId, t.input)).toBe(true);
  expect(await stop(second)).toBe(0);
  const verdict = await verify(cases, t.output, t.dlq);
  console.log(`SIGTERM: stopped in ${stopMs} ms; lost ${verdict.lost.length}, duplicates ${verdict.duplicates}`);
  expect(verdict.lost).toEqual([]);
  expect(verdict.duplicates).toBe(0);
}, 240_000);

test("SIGTERM while consumers are still joining the group exits 0 promptly", async () => {
  const t = await topics("early", 2);
  const processor = startProcessor([...topicArgs(t.input, t.output, uniqueName("g")), "--consumers", "2"]);
  await processor.waitForLog('"msg":"processor started"');
  const signalled = Date.now();
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);
  expect(Date.now() - signalled).toBeLessThan(15_000);
}, 60_000);

test("fatal broker problems exit non-zero with one clear line", async () => {
  const unreachable = Bun.spawnSync([BINARY, "--brokers", "127.0.0.1:1", "--input-topics", "a", "--output-topic", "b"], { stderr: "pipe" });
  expect(unreachable.exitCode).toBe(1);
  expect(unreachable.stderr.toString()).toContain("processor: cannot reach brokers 127.0.0.1:1");
  const unknownHost = Bun.spawnSync([BINARY, "--brokers", "no-such-host.invalid:9092", "--input-topics", "a", "--output-topic", "b"], {
    stderr: "pipe",
  });
  expect(unknownHost.exitCode).toBe(1);
  expect(unknownHost.stderr.toString()).toMatch(/processor: .*(not found|cannot reach)/);
}, 120_000);
