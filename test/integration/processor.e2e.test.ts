/**
 * The compiled binary against the real broker: the seed rule over 100,000 records, commits, shutdown.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { committedOffsets, createTopics, deleteTopics, endOffsets, uniqueName } from "../support/kafka.ts";
import { buildBinary, eventually, startProcessor, topicArgs, waitCommittedToEnd } from "../support/processor.ts";
import { produceSeedCases } from "../support/seed-data.ts";
import { verify } from "../support/verify.ts";
import { sum } from "../../scripts/lib/stats.ts";

const topics: string[] = [];
function topicSet(prefix: string) {
  const input = uniqueName(`${prefix}-in`);
  const output = uniqueName(`${prefix}-out`);
  const dlq = `${output}.dlq`;
  topics.push(input, output, dlq);
  return { input, output, dlq };
}

beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(topics));

describe("compiled binary, default handler", () => {
  test("100,000 records over 6 partitions: each id once in output or DLQ, statuses right, offsets committed to the end", async () => {
    const { input, output, dlq } = topicSet("e2e");
    await createTopics([input, output, dlq], 6);
    const cases = await produceSeedCases(input, 100_000, 1000, 5000);

    const started = Date.now();
    const groupId = uniqueName("g");
    const processor = startProcessor([...topicArgs(input, output, groupId), "--workers", "64", "--consumers", "2", "--producers", "2"]);
    const drained = await eventually(async () => sum(await endOffsets(output)) + sum(await endOffsets(dlq)) >= cases.length, 120_000);
    const elapsed = Date.now() - started;
    expect(drained).toBe(true);

    const inputEnds = await endOffsets(input);
    expect(sum(inputEnds)).toBe(cases.length);
    // commits run every 200 ms: once all is produced they must reach the end offsets without a shutdown
    expect(await eventually(async () => JSON.stringify(await committedOffsets(groupId, input)) === JSON.stringify(inputEnds), 10_000)).toBe(
      true,
    );
    processor.process.kill("SIGTERM");
    expect(await processor.exited()).toBe(0);
    expect(await committedOffsets(groupId, input)).toEqual(inputEnds);

    const verdict = await verify(cases, output, dlq);
    console.log(
      `e2e: ${cases.length} records in ${elapsed} ms (including start-up); outputs ${verdict.outputs.length}, dlq ${verdict.deadLetters.length}, duplicates ${verdict.duplicates}`,
    );
    expect(verdict.lost).toEqual([]);
    expect(verdict.duplicates).toBe(0);
    expect(verdict.misplaced).toEqual([]);
    expect(verdict.wrongStatus).toEqual([]);
    expect(verdict.deadLetters.length).toBe(cases.filter((c) => c.expected === "dlq").length);
    const reasons = new Set(verdict.deadLetters.map((r) => r.headers["x-processor-error"]?.split(":")[0]));
    expect([...reasons]).toEqual(["PermanentError"]);
    const sample = verdict.deadLetters[0]!;
    expect(sample.headers["x-processor-source-topic"]).toBe(input);
    expect(Number(sample.headers["x-processor-source-offset"])).toBeGreaterThanOrEqual(0);
    expect(sample.headers["x-processor-attempts"]).toBe("1");
    expect(sample.headers["x-processor-error-kind"]).toBe("permanent");
  }, 300_000);

  test("KIP-848 group protocol with two consumers: every record once, commits to the end", async () => {
    const { input, output, dlq } = topicSet("kip848");
    await createTopics([input, output, dlq], 6);
    const cases = await produceSeedCases(input, 20_000, 200, 5000);
    const groupId = uniqueName("g");
    const processor = startProcessor([...topicArgs(input, output, groupId), "--group-protocol", "consumer", "--consumers", "2"]);
    expect(await waitCommittedToEnd(processor, groupId, input, 90_000)).toBe(true);
    processor.process.kill("SIGTERM");
    expect(await processor.exited()).toBe(0);
    const verdict = await verify(cases, output, dlq);
    console.log(`KIP-848: lost ${verdict.lost.length}, duplicates ${verdict.duplicates}`);
    expect(verdict.lost).toEqual([]);
    expect(verdict.misplaced).toEqual([]);
  }, 180_000);

  test("KAFKA_AUTO_OFFSET_STORE=true keeps the seed's meaning with a warning, and still processes everything", async () => {
    const { input, output, dlq } = topicSet("autostore");
    await createTopics([input, output, dlq], 2);
    const cases = await produceSeedCases(input, 2_000, 50);
    const groupId = uniqueName("g");
    const processor = startProcessor(topicArgs(input, output, groupId), {
      KAFKA_AUTO_OFFSET_STORE: "true",
    });
    expect(await waitCommittedToEnd(processor, groupId, input, 60_000)).toBe(true);
    expect(await eventually(async () => sum(await endOffsets(output)) + sum(await endOffsets(dlq)) >= cases.length, 60_000)).toBe(true);
    processor.process.kill("SIGTERM");
    expect(await processor.exited()).toBe(0);
    const warning = processor
      .log()
      .split("\n")
      .find((line) => line.includes('"level":"warn"') && /crash/i.test(line));
    expect(warning).toBeDefined();
    expect((await verify(cases, output, dlq)).lost).toEqual([]);
  }, 120_000);
});
