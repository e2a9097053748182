/**
 * Harness smoke test: the real broker, @platformatic/kafka under Bun, and kcat as an independent client agree.
 */
import { afterAll, expect, test } from "bun:test";
import { Consumer, MessagesStreamModes } from "@platformatic/kafka";
import { sum } from "../../scripts/lib/stats.ts";
import { BROKERS, committedOffsets, createTopics, deleteTopics, endOffsets, produce, uniqueName } from "../support/kafka.ts";

const topic = uniqueName("smoke");
const groupId = uniqueName("smoke-group");
const COUNT = 10_000;
const PARTITIONS = 6;

afterAll(() => deleteTopics([topic]));

test("10,000 keyed records: produced, consumed in a group and committed, read again by kcat", async () => {
  await createTopics([topic], PARTITIONS);
  // key k<n>: sequence numbers of one key must come back in order within its partition
  await produce(
    topic,
    Array.from({ length: COUNT }, (_, i) => ({ key: `k${i % 97}`, value: `${i}` })),
  );

  const ends = await endOffsets(topic);
  expect(sum(ends)).toBe(COUNT);
  expect(ends.filter((n) => n > 0).length).toBe(PARTITIONS); // keys spread over every partition

  const consumer = new Consumer({ clientId: "smoke", groupId, bootstrapBrokers: BROKERS, autocommit: false, maxWaitTime: 200 });
  const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: "earliest" });
  const lastOffset = new Array<number>(PARTITIONS).fill(-1);
  const lastValueByKey = new Map<string, number>();
  let received = 0;
  let orderViolations = 0;
  for await (const message of stream) {
    const partition = message.partition;
    const offset = Number(message.offset);
    if (offset !== lastOffset[partition]! + 1) orderViolations++;
    lastOffset[partition] = offset;
    const key = message.key!.toString();
    const value = Number(message.value!.toString());
    if ((lastValueByKey.get(key) ?? -1) >= value) orderViolations++;
    lastValueByKey.set(key, value);
    if (++received === COUNT) break;
  }
  await consumer.commit({
    offsets: lastOffset.map((offset, partition) => ({ topic, partition, offset: BigInt(offset + 1), leaderEpoch: -1 })),
  });
  await consumer.close(true);
  expect(received).toBe(COUNT);
  expect(orderViolations).toBe(0);
  expect(await committedOffsets(groupId, topic)).toEqual(ends);

  const kcat = Bun.spawnSync(["kcat", "-b", BROKERS[0]!, "-C", "-t", topic, "-e", "-q", "-f", "%p %o %k %s\\n"], { stderr: "pipe" });
  expect(kcat.exitCode).toBe(0);
  const lines = kcat.stdout.toString().trim().split("\n");
  expect(lines.length).toBe(COUNT);
  const perPartition = new Map<number, number[]>();
  for (const line of lines) {
    const [p, o] = line.split(" ").map(Number) as [number, number];
    perPartition.set(p, [...(perPartition.get(p) ?? []), o]);
  }
  for (const [p, offsets] of perPartition) {
    expect(offsets).toEqual(Array.from({ length: ends[p]! }, (_, i) => i));
  }
}, 120_000);
