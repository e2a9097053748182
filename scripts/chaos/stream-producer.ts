/**
 * The continuous stream every scenario runs against: seed-format records (scripts/lib/seed-data.ts) with
 * unique ids, keyed over a fixed key space, sent in the background at a steady rate while faults happen.
 * Send failures (a broker down) are retried with the same records after a pause; whatever reached the input
 * topic is what the verifier counts as sent, so a failed batch that was in fact written is not a problem.
 */
import { Producer } from "@platformatic/kafka";
import { kindOf, seedClock, seedValue, type SeedMix } from "../lib/seed-data.ts";

export interface StreamOptions {
  readonly brokers: readonly string[];
  readonly topic: string;
  readonly total: number;
  /** Records per second (a target; the send latency can make it slower). */
  readonly rate: number;
  readonly keys: number;
  readonly runId: string;
  /** Every n-th record is broken (goes to the DLQ under the seed rule, three ways in turn); 0 = none. */
  readonly brokenEvery: number;
  /** The first `burst` records go out as fast as the producer can; the pacing to `rate` starts after them. */
  readonly burst?: number;
}

export interface StreamHandle {
  /** Resolves when all records were sent. */
  readonly finished: Promise<void>;
  sent(): number;
  /** Send errors seen (retried). */
  errors(): number;
  stop(): Promise<void>;
}

const BATCH = 500;

export function startStream(options: StreamOptions): StreamHandle {
  const producer = new Producer({
    clientId: "processor-chaos-stream",
    bootstrapBrokers: [...options.brokers],
    idempotent: true,
    retries: 3,
    timeout: 10_000,
  });
  let sent = 0;
  let errors = 0;
  let stopped = false;
  const burst = Math.min(options.burst ?? 0, options.total);
  let started = Date.now();
  const mix: SeedMix = { brokenEvery: options.brokenEvery };
  const finished = (async () => {
    while (!stopped && sent < options.total) {
      const n = Math.min(BATCH, options.total - sent);
      const clock = seedClock();
      const messages = Array.from({ length: n }, (_, j) => {
        const i = sent + j;
        const id = `${options.runId}-${i}`;
        return {
          topic: options.topic,
          key: Buffer.from(`key-${i % options.keys}`),
          value: Buffer.from(seedValue(id, kindOf(i, mix), i, clock)),
          headers: new Map([[Buffer.from("x-chaos-id"), Buffer.from(id)]]),
        };
      });
      try {
        await producer.send({ messages });
        sent += n;
      } catch {
        errors++;
        await Bun.sleep(500);
        continue;
      }
      if (sent <= burst) {
        started = Date.now();
        continue;
      }
      // pace to the target rate
      const due = started + ((sent - burst) / options.rate) * 1000;
      const wait = due - Date.now();
      if (wait > 0) await Bun.sleep(wait);
    }
  })().finally(() => producer.close().catch(() => undefined));
  return {
    finished,
    sent: () => sent,
    errors: () => errors,
    async stop() {
      stopped = true;
      await finished.catch(() => undefined);
    },
  };
}
