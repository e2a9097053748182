/**
 * The @platformatic/kafka patch (scripts/patches) against the real broker: what processor's rebalance handling
 * relies on, checked on the client alone so a client upgrade that loses a piece of it fails here first.
 */
import { afterAll, expect, test } from "bun:test";
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes, Producer, type MessagesStream } from "@platformatic/kafka";
import { BROKERS, createTopics, deleteTopics, uniqueName } from "../support/kafka.ts";

const created: string[] = [];
afterAll(() => deleteTopics(created));

type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer>;

const COOPERATIVE = [{ name: "cooperative-sticky", version: 3 }];

function member(groupId: string): Consumer<Buffer, Buffer, Buffer, Buffer> {
  return new Consumer({
    clientId: uniqueName("patch-test"),
    groupId,
    bootstrapBrokers: BROKERS,
    autocommit: false,
    maxWaitTime: 100,
    sessionTimeout: 10_000,
    rebalanceTimeout: 20_000,
    heartbeatInterval: 300,
    groupProtocol: "classic",
    protocols: COOPERATIVE,
  });
}

const consume = (consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, topic: string): Promise<Stream> =>
  consumer.consume({ topics: [topic], mode: MessagesStreamModes.COMMITTED, fallbackMode: MessagesStreamFallbackModes.EARLIEST });

async function topicWith(partitions: number, perPartition: number): Promise<string> {
  const topic = uniqueName("patch");
  await createTopics([topic], partitions);
  created.push(topic);
  const producer = new Producer({ clientId: uniqueName("patch-producer"), bootstrapBrokers: BROKERS });
  try {
    for (let partition = 0; partition < partitions; partition++) {
      const messages = Array.from({ length: perPartition }, (_, i) => ({
        topic,
        partition,
        key: Buffer.from(`k${i}`),
        value: Buffer.from(`v${i}`),
      }));
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
  return topic;
}

const until = async (check: () => boolean, ms = 30_000): Promise<void> => {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline) throw new Error("timed out");
    await Bun.sleep(20);
  }
};

/** Reads until every partition in `want` reached `count` records; returns offsets seen per partition. */
async function readSome(stream: Stream, want: ReadonlySet<number>, count: number): Promise<Map<number, number[]>> {
  const seen = new Map<number, number[]>();
  for await (const message of stream) {
    const list = seen.get(message.partition) ?? [];
    list.push(Number(message.offset));
    seen.set(message.partition, list);
    if ([...want].every((p) => (seen.get(p)?.length ?? 0) >= count)) break;
  }
  return seen;
}

test("a stream nobody reads yet loses nothing when a revocation pauses and resumes it (no flowing mode)", async () => {
  const topic = await topicWith(4, 500);
  const groupId = uniqueName("g");
  const first = member(groupId);
  const stream = await consume(first, topic);
  await until(() => (first.assignments ?? []).flatMap((a) => a.partitions).length === 4);
  // a second member takes half: the first is paused for the revocation and resumed, all before anyone reads it
  const second = member(groupId);
  const other = await consume(second, topic);
  await until(
    () =>
      (first.assignments ?? []).flatMap((a) => a.partitions).length === 2 &&
      (second.assignments ?? []).flatMap((a) => a.partitions).length === 2,
  );
  await Bun.sleep(500);
  const kept = new Set((first.assignments ?? []).flatMap((a) => a.partitions));
  const seen = await readSome(stream, kept, 500);
  for (const partition of kept) expect(seen.get(partition)?.slice(0, 3)).toEqual([0, 1, 2]);
  await other.close();
  await stream.close();
  await Promise.all([first.close(true), second.close(true)]);
}, 60_000);

test("per-record tracing (consumer:receives) still fires for every record when someone subscribes, and records flow without", async () => {
  const { tracingChannel } = await import("node:diagnostics_channel");
  const topic = await topicWith(2, 150);
  const read = async (): Promise<number> => {
    const consumer = member(uniqueName("patch-trace"));
    const stream = await consume(consumer, topic);
    let count = 0;
    try {
      for await (const _ of stream) if (++count === 300) break;
    } finally {
      await stream.close().catch(() => undefined);
      await consumer.close(true).catch(() => undefined);
    }
    return count;
  };
  expect(await read()).toBe(300); // nobody listens: the patch skips the per-record context

  const channel = tracingChannel("plt:kafka:consumer:receives");
  const seen = { start: 0, asyncStart: 0, end: 0 };
  const handlers = {
    start: () => void seen.start++,
    end: () => void seen.end++,
    asyncStart: () => void seen.asyncStart++,
    asyncEnd: () => undefined,
    error: () => undefined,
  };
  channel.subscribe(handlers);
  try {
    expect(await read()).toBe(300);
  } finally {
    channel.unsubscribe(handlers);
  }
  expect(seen).toEqual({ start: 300, asyncStart: 300, end: 300 });
}, 60_000);
