/**
 * Loads the benchmark input: seed-format JSON records (scripts/lib/seed-data.ts) with unique ids, loaded once into a
 * topic and then drained by every contender.
 */
import { compatibilityPartitioner, Producer, type MessageToProduce } from "@platformatic/kafka";
import { kindOf, seedClock, seedValue, type SeedMix } from "../../lib/seed-data.ts";

type Out = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

const LOAD_BATCH = 10_000;
const LOAD_IN_FLIGHT = 4;

/** The benchmarks' share of broken records: every 10th, so the dead-letter path is used. */
export const BENCH_MIX: SeedMix = { brokenEvery: 10 };
const UNBROKEN: SeedMix = { brokenEvery: 0 };
export const benchMix = (broken: boolean): SeedMix => (broken ? BENCH_MIX : UNBROKEN);

export const recordId = (runId: string, i: number): string => `${runId}-${String(i).padStart(8, "0")}`;

/** The idempotent acks=all producer the loaders use (murmur2 keys → the same partitions as Java clients). */
export function benchProducer(brokers: readonly string[], clientId: string): Producer<Buffer, Buffer, Buffer, Buffer> {
  return new Producer<Buffer, Buffer, Buffer, Buffer>({
    clientId,
    bootstrapBrokers: [...brokers],
    idempotent: true,
    acks: -1,
    partitioner: compatibilityPartitioner,
    retries: 5,
  });
}

export interface LoadOptions {
  brokers: readonly string[];
  topic: string;
  runId: string;
  count: number;
  /** distinct keys, used round-robin */
  keys: number;
  /** include the 10% broken records (default true) */
  broken?: boolean;
  onProgress?: (loaded: number) => void;
}

/** Loads `count` records (timestamps = now) with a few batches in flight; returns the time taken and the value bytes. */
export async function loadSeedRecords(o: LoadOptions): Promise<{ ms: number; bytes: number }> {
  const started = performance.now();
  const producer = benchProducer(o.brokers, "processor-bench-loader");
  const header = new Map([[Buffer.from("bench-run"), Buffer.from(o.runId)]]);
  const keys = Array.from({ length: o.keys }, (_, k) => Buffer.from(`key-${k}`));
  const mix = benchMix(o.broken ?? true);
  const inFlight = new Set<Promise<void>>();
  let bytes = 0;
  let lastReport = started;
  try {
    for (let from = 0; from < o.count; from += LOAD_BATCH) {
      const clock = seedClock();
      const messages: Out[] = [];
      for (let i = from; i < Math.min(o.count, from + LOAD_BATCH); i++) {
        const value = Buffer.from(seedValue(recordId(o.runId, i), kindOf(i, mix), i, clock));
        bytes += value.length;
        messages.push({ topic: o.topic, key: keys[i % o.keys]!, value, headers: header });
      }
      const sending: Promise<void> = producer.send({ messages }).then(() => void inFlight.delete(sending));
      inFlight.add(sending);
      if (inFlight.size >= LOAD_IN_FLIGHT) await Promise.race(inFlight);
      if (o.onProgress && performance.now() - lastReport > 5000) {
        lastReport = performance.now();
        o.onProgress(from + messages.length);
      }
    }
    await Promise.all(inFlight);
  } finally {
    await producer.close().catch(() => undefined);
  }
  return { ms: performance.now() - started, bytes };
}
