/**
 * `processor dlq stats` and `processor dlq replay` through the compiled binary against the real broker: a
 * dead-letter topic written by processor itself, counted and replayed, checked against kcat's read of the same
 * topics; a large synthetic one replayed through a Ctrl-C and a SIGKILL, resumed by its consumer group.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BROKERS,
  committedOffsets,
  createTopics,
  createTopicSet,
  deleteTopics,
  endOffsets,
  produceExact,
  uniqueName,
  type ExactRecord,
} from "../support/kafka.ts";
import { readExact, sameBytes, type ExactReadRecord } from "../support/kcat.ts";
import { BINARY, buildBinary, startProcessor, topicArgs, waitCommittedToEnd } from "../support/processor.ts";
import { produceSeedCases } from "../support/seed-data.ts";
import { sum } from "../../scripts/lib/stats.ts";

const created: string[] = [];
beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

function dlqCommand(...args: string[]) {
  return Bun.spawn([BINARY, "dlq", ...args, "--brokers", BROKERS.join(",")], {
    cwd: "/tmp",
    env: { PATH: process.env.PATH ?? "" },
    stdout: "pipe",
    stderr: "pipe",
  });
}

async function dlq(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const child = dlqCommand(...args);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, stdout, stderr };
}

const header = (r: ExactReadRecord, name: string): string | undefined => r.headers.find(([n]) => n.toString() === name)?.[1]?.toString();
const where = (r: ExactReadRecord, topic: string) => `${topic}/${r.partition}/${r.offset}`;

function countBy<T>(items: readonly T[], key: (item: T) => string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const item of items) counts[key(item)] = (counts[key(item)] ?? 0) + 1;
  return counts;
}

const asCounts = (rows: Array<{ name: string; count: number }>) => Object.fromEntries(rows.map((r) => [r.name, r.count]));

test("stats counts what processor dead-lettered; replay re-produces the originals, filtered, limited and resumed", async () => {
  const t = await createTopicSet(created, "dlqtool", 3);
  const target = uniqueName("dlqtool-replayed");
  created.push(target);
  await createTopics([target], 3);
  await produceSeedCases(t.input, 900, 50);
  const groupId = uniqueName("g");
  const processor = startProcessor(topicArgs(t.input, t.output, groupId));
  expect(await waitCommittedToEnd(processor, groupId, t.input, 60_000)).toBe(true);
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);

  // the independent view of the dead-letter topic
  const deadLetters = await readExact(t.dlq);
  expect(deadLetters.length).toBe(90);

  const stats = await dlq("stats", "--topic", t.dlq, "--json");
  expect(stats.stderr).toBe("");
  expect(stats.code).toBe(0);
  const summary = JSON.parse(stats.stdout);
  expect(summary.records).toBe(deadLetters.length);
  expect(asCounts(summary.byKind)).toEqual(countBy(deadLetters, (r) => header(r, "x-processor-error-kind") ?? "(none)"));
  expect(asCounts(summary.bySource)).toEqual(
    countBy(deadLetters, (r) => `${header(r, "x-processor-source-topic")}/${header(r, "x-processor-source-partition")}`),
  );
  expect(sum(summary.byReason.map((r: { count: number }) => r.count))).toBe(deadLetters.length);
  // the seed input breaks records three ways; their values differ, their normalised reasons do not
  expect(summary.byReason.length).toBeLessThanOrEqual(4);
  const failedAt = deadLetters.map((r) => Date.parse(header(r, "x-processor-failed-at")!)).sort((a, b) => a - b);
  expect([summary.firstFailedAt, summary.lastFailedAt]).toEqual([
    new Date(failedAt[0]!).toISOString(),
    new Date(failedAt.at(-1)!).toISOString(),
  ]);

  // the table, with the topic taken from a run's config file as the run derives it (<output-topic>.dlq)
  const configFile = join(mkdtempSync(join(tmpdir(), "dlq-tools-")), "processor.yaml");
  writeFileSync(configFile, `input-topics: [${t.input}]\noutput-topic: ${t.output}\nworkers: 4\n`);
  const table = await dlq("stats", "--config", configFile);
  expect(table.code).toBe(0);
  expect(table.stdout).toContain(`dead-letter topic ${t.dlq}: 90 records in 3 partitions`);
  expect(table.stdout).toContain("by error kind:");
  expect(table.stdout).toContain("by reason:");

  // replay what one reason selects: first a dry run, then 7 with --limit, then the rest; a rerun finds nothing new
  const reason = "timestamp is older than 24 hours";
  const selected = deadLetters.filter((r) => header(r, "x-processor-error")!.includes(reason));
  expect(selected.length).toBe(30);
  const replayGroup = uniqueName("replay");

  const dry = await dlq("replay", "--from", t.dlq, "--to", target, "--reason", reason, "--group", replayGroup, "--dry-run", "--json");
  expect(dry.code).toBe(0);
  expect(JSON.parse(dry.stdout)).toMatchObject({ replayed: selected.length, read: 90, notMatching: 90 - selected.length, dryRun: true });
  expect(sum(await endOffsets(target))).toBe(0);
  expect((await committedOffsets(replayGroup, t.dlq)).filter((o) => o !== undefined)).toEqual([]);

  const first = await dlq("replay", "--from", t.dlq, "--to", target, "--reason", reason, "--group", replayGroup, "--limit", "7");
  expect(first.code).toBe(0);
  expect(first.stdout).toContain(`replayed 7 records from ${t.dlq} to ${target}`);
  expect(first.stdout).toContain("stopped at --limit");
  expect(sum(await endOffsets(target))).toBe(7);

  const rest = await dlq("replay", "--from", t.dlq, "--to", target, "--reason", reason, "--group", replayGroup, "--json");
  expect(rest.code).toBe(0);
  expect(JSON.parse(rest.stdout)).toMatchObject({ replayed: selected.length - 7, stoppedBy: "end" });
  const again = await dlq("replay", "--from", t.dlq, "--to", target, "--reason", reason, "--group", replayGroup, "--json");
  expect(JSON.parse(again.stdout)).toMatchObject({ replayed: 0, read: 0 });
  expect(await committedOffsets(replayGroup, t.dlq)).toEqual(await endOffsets(t.dlq));

  // every selected record exactly once, with its original key, value and headers and where it came from
  const replayed = await readExact(target);
  expect(replayed.length).toBe(selected.length);
  const byOrigin = new Map(replayed.map((r) => [header(r, "x-processor-replayed-from"), r]));
  expect(byOrigin.size).toBe(selected.length);
  for (const original of selected) {
    const copy = byOrigin.get(where(original, t.dlq));
    expect(copy).toBeDefined();
    expect(sameBytes(copy!.key, original.key)).toBe(true);
    expect(sameBytes(copy!.value, original.value)).toBe(true);
    const names = copy!.headers.map(([n]) => n.toString());
    expect(names.filter((n) => n.startsWith("x-processor-"))).toEqual(["x-processor-replayed-from"]);
    expect(header(copy!, "test-id")).toBe(header(original, "test-id"));
    expect(names).toEqual([
      ...original.headers.map(([n]) => n.toString()).filter((n) => !n.startsWith("x-processor-")),
      "x-processor-replayed-from",
    ]);
  }

  // a missing target is one line and exit 1
  const missing = await dlq("replay", "--from", t.dlq, "--to", uniqueName("no-such-topic"));
  expect(missing.code).toBe(1);
  expect(missing.stderr).toContain("topic not found");
  expect(missing.stderr.trim().split("\n")).toHaveLength(1);
}, 180_000);

/** A dead-letter topic as processor writes it, without running processor: `count` records over 2 partitions. */
function syntheticDeadLetters(count: number, partition: number): ExactRecord[] {
  return Array.from({ length: count }, (_, i) => ({
    partition,
    key: Buffer.from(`k${i % 97}`),
    value: Buffer.from(`{"n":${i},"p":${partition}}`),
    headers: [
      ["origin-id", Buffer.from(`${partition}-${i}`)],
      ["x-processor-error", Buffer.from(i % 3 === 0 ? `lookup ${i} timed out` : "invalid JSON")],
      ["x-processor-error-kind", Buffer.from(i % 3 === 0 ? "retries-exhausted" : "permanent")],
      ["x-processor-source-topic", Buffer.from("orders")],
      ["x-processor-source-partition", Buffer.from(String(partition))],
      ["x-processor-source-offset", Buffer.from(String(i))],
      ["x-processor-failed-at", Buffer.from(new Date().toISOString())],
    ],
  }));
}

test("an interrupted replay resumes: Ctrl-C loses and repeats nothing, SIGKILL repeats at most the batch in flight", async () => {
  const from = uniqueName("dlqtool-big.dlq");
  const target = uniqueName("dlqtool-big-replayed");
  created.push(from, target);
  await createTopics([from, target], 2);
  const perPartition = 60_000;
  const t0 = performance.now();
  const lap = (what: string) => console.log(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  await produceExact(from, [...syntheticDeadLetters(perPartition, 0), ...syntheticDeadLetters(perPartition, 1)], 2_000);
  const total = 2 * perPartition;
  lap("produced");
  const group = uniqueName("replay");
  const replayedSoFar = async () => sum(await endOffsets(target));

  const interruptAfter = async (signal: "SIGINT" | "SIGKILL", atLeast: number) => {
    const child = dlqCommand("replay", "--from", from, "--to", target, "--group", group, "--json");
    const before = await replayedSoFar();
    while ((await replayedSoFar()) - before < atLeast && child.exitCode === null) await Bun.sleep(10);
    child.kill(signal);
    const [stdout, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
    return { stdout, code, signalled: child.signalCode };
  };

  // Ctrl-C: the batch in flight completes and is committed, the command says so and exits 130
  const interrupted = await interruptAfter("SIGINT", 5_000);
  expect(interrupted.code).toBe(130);
  const partial = JSON.parse(interrupted.stdout);
  expect(partial.stoppedBy).toBe("signal");
  expect(partial.replayed).toBeLessThan(total);
  expect(await replayedSoFar()).toBe(partial.replayed);
  expect(sum(await committedOffsets(group, from))).toBe(partial.replayed);

  // SIGKILL: whatever was produced but not yet committed is replayed again by the next run
  const killed = await interruptAfter("SIGKILL", 5_000);
  expect(killed.signalled).toBe("SIGKILL");
  const afterKill = await replayedSoFar();
  lap("killed");
  expect(afterKill).toBeLessThan(total);

  const finish = await dlq("replay", "--from", from, "--to", target, "--group", group, "--json");
  expect(finish.code).toBe(0);
  expect(JSON.parse(finish.stdout).stoppedBy).toBe("end");
  expect(await committedOffsets(group, from)).toEqual(await endOffsets(from));

  lap("finished");
  const copies = await readExact(target);
  lap("read back");
  const origins = countBy(copies, (r) => header(r, "x-processor-replayed-from") ?? "?");
  const distinct = Object.keys(origins).length;
  const duplicates = copies.length - distinct;
  console.log(`replayed ${copies.length} copies of ${total} records: ${distinct} distinct, ${duplicates} duplicates (after one SIGKILL)`);
  expect(distinct).toBe(total);
  for (let p = 0; p < 2; p++) for (let o = 0; o < perPartition; o++) expect(origins[`${from}/${p}/${o}`] ?? 0).toBeGreaterThan(0);
  // the run killed had at most one batch produced but not committed
  expect(duplicates).toBeLessThanOrEqual(500);
  // the stats of the same topic agree with what was produced
  const stats = JSON.parse((await dlq("stats", "--topic", from, "--json")).stdout);
  expect(stats.records).toBe(total);
  expect(asCounts(stats.byKind)).toEqual({ permanent: 80_000, "retries-exhausted": 40_000 });
  expect(asCounts(stats.byReason)).toEqual({ "invalid JSON": 80_000, "lookup <n> timed out": 40_000 });
}, 300_000);
