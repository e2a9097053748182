/**
 * The KafkaJS contender of scripts/bench/compare.ts: the seed transform in a KafkaJS `eachBatch` loop, on Node.
 * compare.ts bundles it for Node (`bun build --target node --packages external`) into .cache/bench/, so it runs
 * under `node` with kafkajs from node_modules, and reuses processor's seed rule for an identical transform.
 *
 *   node .cache/bench/kafkajs-contender.mjs --brokers B --input IN --output OUT --dlq DLQ --group G
 *       [--concurrency 1] [--chunk 1000] [--slow-ms 0]
 *
 * At-least-once: every --chunk records of a batch (and at its end) it sends the chunk's outputs and dead-letter copies
 * with one `sendBatch` (idempotent, acks=all), waits for the ack, then commits the chunk's last offset + 1.
 * --concurrency is KafkaJS's partitionsConsumedConcurrently (1 = its default). --slow-ms N replaces the seed rule with
 * an N ms await per record that passes the value through, processed in order within each partition: the
 * partition-bound consumer of T4. Runs until SIGTERM/SIGINT.
 */
import { parseArgs } from "node:util";
import { Kafka, logLevel, type Message } from "kafkajs";
import { validateSeedMessage } from "../../../src/handlers/seed-rule.ts";
import { CONTENDER_OPTIONS, contenderTopics } from "../lib/contender-args.ts";

const { values } = parseArgs({
  options: {
    ...CONTENDER_OPTIONS,
    concurrency: { type: "string", default: "1" },
    chunk: { type: "string", default: "1000" },
    "slow-ms": { type: "string", default: "0" },
  },
});

const { brokers, input, output, dlq, group: groupId } = contenderTopics("kafkajs-contender", values);
const concurrency = Number(values.concurrency);
const chunkSize = Number(values.chunk);
const slowMs = Number(values["slow-ms"]);
const decoder = new TextDecoder("utf-8", { fatal: true });
const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

/** The seed rule on one value: the output value, or the reason it belongs in the dead-letter topic. */
function transform(value: Buffer | null): { value: string } | { reason: string } {
  if (value === null) return { reason: "value is null" };
  try {
    return { value: JSON.stringify(validateSeedMessage(decoder.decode(value), Date.now())) };
  } catch (error) {
    return { reason: error instanceof Error ? error.message : String(error) };
  }
}

const kafka = new Kafka({ clientId: "bench-kafkajs", brokers, logLevel: logLevel.ERROR });
const producer = kafka.producer({ idempotent: true, maxInFlightRequests: 1 });
const consumer = kafka.consumer({ groupId, maxWaitTimeInMs: 200 });

await producer.connect();
await consumer.connect();
await consumer.subscribe({ topic: input, fromBeginning: true });

await consumer.run({
  autoCommit: false,
  eachBatchAutoResolve: false,
  partitionsConsumedConcurrently: concurrency,
  eachBatch: async ({ batch, resolveOffset, heartbeat, isRunning, isStale }) => {
    let outputs: Message[] = [];
    let deadLetters: Message[] = [];
    let last: string | null = null;
    const flush = async (): Promise<void> => {
      if (last === null) return;
      const topicMessages = [
        ...(outputs.length > 0 ? [{ topic: output, messages: outputs }] : []),
        ...(deadLetters.length > 0 ? [{ topic: dlq, messages: deadLetters }] : []),
      ];
      if (topicMessages.length > 0) await producer.sendBatch({ topicMessages, acks: -1 });
      // only after the ack: the committed offset never passes a record whose output is not written
      await consumer.commitOffsets([{ topic: batch.topic, partition: batch.partition, offset: (BigInt(last) + 1n).toString() }]);
      resolveOffset(last);
      outputs = [];
      deadLetters = [];
      last = null;
      await heartbeat();
    };
    for (const message of batch.messages) {
      if (!isRunning() || isStale()) break;
      if (slowMs > 0) {
        await sleep(slowMs);
        outputs.push({ key: message.key, value: message.value, headers: message.headers });
      } else {
        const result = transform(message.value);
        if ("value" in result) outputs.push({ key: message.key, value: result.value, headers: message.headers });
        else
          deadLetters.push({ key: message.key, value: message.value, headers: { ...message.headers, "x-processor-error": result.reason } });
      }
      last = message.offset;
      if (outputs.length + deadLetters.length >= chunkSize) await flush();
    }
    await flush();
  },
});

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.on(signal, () => {
    if (stopping) return;
    stopping = true;
    void consumer
      .disconnect()
      .then(() => producer.disconnect())
      .finally(() => process.exit(0));
  });
}
