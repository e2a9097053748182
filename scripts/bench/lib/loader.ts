/**
 * The benchmark input: seed-format JSON records of about 200 bytes with unique ids, loaded once into a topic and then
 * drained by every contender. Shared by throughput.ts and compare.ts so both measure the same data.
 */
import { compatibilityPartitioner, Producer, type MessageToProduce } from "@platformatic/kafka";

export type Kind = "valid" | "invalid" | "bad-json" | "old-timestamp" | "bad-timestamp";
type Out = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

const LOAD_BATCH = 10_000;
const LOAD_IN_FLIGHT = 4;

/** Every 10th record is broken (three ways in turn) so the dead-letter path is used; of the rest, even indexes have long data ("valid"). */
export function kindOf(i: number, broken = true): Kind {
  if (broken && i % 10 === 9) return (["bad-json", "old-timestamp", "bad-timestamp"] as const)[Math.floor(i / 10) % 3]!;
  return i % 2 === 0 ? "valid" : "invalid";
}

const FILLER = "lorem ipsum dolor sit amet consectetur adipiscing elit sed do eiusmod tempor incididunt ut labore et dolore magna aliqua ".repeat(2);

/** One seed-format value of about 200 bytes; `id` must be unique. */
export function seedValue(id: string, kind: Kind, i: number, nowIso: string, oldIso: string): string {
  const long = `reading ${i % 9973} ${FILLER.slice(0, 90 + (i % 17))}`;
  switch (kind) {
    case "valid":
      return JSON.stringify({ id, timestamp: nowIso, data: long, status: "new" });
    case "invalid":
      return JSON.stringify({ id, timestamp: nowIso, data: `n/a ${i % 100}`, status: "new", note: FILLER.slice(0, 85 + (i % 17)) });
    case "bad-json":
      return `{"id":"${id}","timestamp":"${nowIso}","data":"${long}"`;
    case "old-timestamp":
      return JSON.stringify({ id, timestamp: oldIso, data: long, status: "new" });
    case "bad-timestamp":
      return JSON.stringify({ id, timestamp: new Date(nowIso).toUTCString(), data: long, status: "new" });
  }
}

export const recordId = (runId: string, i: number): string => `${runId}-${String(i).padStart(8, "0")}`;

/** How many of `count` records the seed rule sends to the output and to the dead-letter topic. */
export function expectedMix(count: number, broken = true): { outputs: number; dlq: number } {
  const dlq = broken ? Math.floor(count / 10) : 0;
  return { outputs: count - dlq, dlq };
}

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
  const inFlight = new Set<Promise<void>>();
  let bytes = 0;
  let lastReport = started;
  try {
    for (let from = 0; from < o.count; from += LOAD_BATCH) {
      const now = Date.now();
      const nowIso = new Date(now).toISOString();
      const oldIso = new Date(now - 25 * 3600_000).toISOString();
      const messages: Out[] = [];
      for (let i = from; i < Math.min(o.count, from + LOAD_BATCH); i++) {
        const value = Buffer.from(seedValue(recordId(o.runId, i), kindOf(i, o.broken ?? true), i, nowIso, oldIso));
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
