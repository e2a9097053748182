/**
 * The poison corpus injected into the running stream a few times, processed by the misbehaving handler of
 * test/fixtures/poison-handler.ts (which applies the seed rule to everything else). Every poison record must end
 * in the DLQ with an x-processor-error header, the controls in the output, and no process may exit on its own.
 */
import { resolve } from "node:path";
import { Producer } from "@platformatic/kafka";
import { poisonCorpus, type PoisonRecord } from "../poison-corpus.ts";
import { chaosConfig, startWorking, type Scenario } from "./common.ts";

const handler = resolve(import.meta.dir, "../../../test/fixtures/poison-handler.ts");
const injected: PoisonRecord[] = [];

export const poisonScenario: Scenario = {
  name: "poison",
  summary:
    "poison corpus (junk, null/empty values, null/empty keys, 1-2 MB values, bad UTF-8/fields/timestamps, many and large headers, protocol edges: a 70,000-byte header name, 70,000 headers, null header values, non-UTF-8 header names) and misbehaving handlers (throw, throw non-Errors, hang, wrong return types, a missing or illegal output topic), injected into the stream",
  config: (quick) =>
    chaosConfig(quick, {
      partitions: 3,
      messages: [5_000, 50_000],
      rate: [1_000, 2_500],
      processorArgs: ["--handler", handler, "--handler-timeout", "1s", "--retries", "1", "--retry-backoff", "10ms"],
      topicConfigs: { "max.message.bytes": String(8 * 1024 * 1024) },
    }),
  async body(ctx, quick) {
    injected.length = 0;
    await startWorking(ctx);
    const producer = new Producer({
      clientId: "processor-chaos-poison",
      bootstrapBrokers: [...ctx.config.brokers],
      idempotent: true,
      retries: 5,
    });
    try {
      const rounds = quick ? 1 : 3;
      for (let round = 0; round < rounds; round++) {
        await ctx.waitSent((ctx.config.messages * (round + 1)) / (rounds + 1));
        const corpus = poisonCorpus(String(round));
        for (const r of corpus) {
          // a fresh Buffer per name (repeated names stay apart); a null value goes out as null (length -1)
          await producer.send({
            messages: [
              {
                topic: ctx.topics.input,
                key: r.key ?? undefined,
                value: r.value ?? undefined,
                headers: new Map(r.headers.map(([k, v]) => [Buffer.from(k), v as Buffer])),
              },
            ],
          });
        }
        injected.push(...corpus);
        ctx.log(`injected poison round ${round} (${corpus.length} records)`);
      }
    } finally {
      await producer.close();
    }
  },
  check(ctx, outputs, deadLetters) {
    const dlqError = new Map<string, string | null>();
    for (const r of deadLetters) if (r.id !== null) dlqError.set(r.id, r.error);
    const outputIds = new Set(outputs.map((r) => r.id));
    const wrong: string[] = [];
    for (const r of injected) {
      const id = r.headers[0]![1]!.toString(); // x-chaos-id
      if (r.expect === "output") {
        if (!outputIds.has(id)) wrong.push(`${r.name}: not in the output`);
      } else if (!dlqError.has(id)) wrong.push(`${r.name}: not in the DLQ`);
      else if (!dlqError.get(id)) wrong.push(`${r.name}: DLQ copy without x-processor-error`);
    }
    const poison = injected.filter((r) => r.expect === "dlq").length;
    ctx.notes.push(
      `${injected.length} corpus records injected (${poison} poison, ${injected.length - poison} controls): ${wrong.length === 0 ? "every poison record is in the DLQ with an x-processor-error header, every control in the output" : `PROBLEMS: ${wrong.join("; ")}`}`,
    );
  },
};
