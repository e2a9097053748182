/**
 * Broker trouble: the local broker is stopped and started again under a running processor. The processor keeps
 * going on its own, says so in its log, and loses nothing. Restarts the project's local broker (scripts/kafka).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { committedOffsets, createTopicSet, deleteTopics, endOffsets, produce, uniqueName } from "../support/kafka.ts";
import { localBroker } from "../support/local-broker.ts";
import { buildBinary, eventually, startProcessor, topicArgs } from "../support/processor.ts";
import { seedCases } from "../support/seed-data.ts";
import { verify } from "../support/verify.ts";
import { sum } from "../../scripts/lib/stats.ts";

const created: string[] = [];

beforeAll(() => buildBinary(), 120_000);
afterAll(async () => {
  localBroker("start"); // whatever happened, leave a running broker for the other tests
  await deleteTopics(created);
});

test("the broker restarts under a running processor: it reconnects by itself, reports it, loses nothing", async () => {
  const { input, output, dlq } = await createTopicSet(created, "restart", 3);
  const before = seedCases(5_000, 100, uniqueName("before"));
  const after = seedCases(5_000, 100, uniqueName("after"));
  await produce(
    input,
    before.map((c) => c.record),
  );
  const groupId = uniqueName("g");
  const processor = startProcessor(topicArgs(input, output, groupId));
  expect(await eventually(async () => sum(await endOffsets(output)) + sum(await endOffsets(dlq)) >= before.length, 60_000)).toBe(true);

  localBroker("stop");
  await Bun.sleep(3_000);
  expect(processor.process.exitCode).toBeNull(); // still running with the broker gone
  localBroker("start");
  await produce(
    input,
    after.map((c) => c.record),
  );

  const ends = JSON.stringify(await endOffsets(input));
  const caughtUp = await eventually(async () => JSON.stringify(await committedOffsets(groupId, input)) === ends, 90_000);
  if (!caughtUp) console.error(processor.log().slice(-3000));
  expect(caughtUp).toBe(true);
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);
  expect(processor.log()).toContain("lost the connection to a broker");

  const verdict = await verify([...before, ...after], output, dlq);
  console.log(`broker restart: lost ${verdict.lost.length}, duplicates ${verdict.duplicates}`);
  expect(verdict.lost).toEqual([]);
  expect(verdict.misplaced).toEqual([]);
}, 240_000);
