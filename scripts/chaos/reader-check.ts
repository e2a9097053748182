/**
 * Self-check of the chaos reader on a topic written with transactions: `bun scripts/chaos/reader-check.ts
 * [--brokers HOST:PORT]` (default: the chaos broker, started if needed). It writes committed and aborted
 * transactions (the topic ends with commit/abort markers, one partition with an aborted transaction larger than
 * a fetch response, one with a transaction still open at the read) plus non-transactional records, then reads the
 * topic with readTopic, with and without append times, and checks that each read terminates, finds every committed
 * record once and no aborted or open one. Exit code 1 on a failed check.
 */
import { Producer } from "@platformatic/kafka";
import { BOOTSTRAP, startBrokers } from "./brokers.ts";
import { KafkaAdmin } from "../lib/kafka-admin.ts";
import { readTopic, type TopicRecord } from "./reader.ts";
import { APPEND_TIME } from "./scenario.ts";

const argv = process.argv.slice(2);
const brokersArg = argv.indexOf("--brokers");
const brokers = brokersArg >= 0 ? (argv[brokersArg + 1] ?? "").split(",") : BOOTSTRAP.chaos;
if (brokersArg < 0) await startBrokers("chaos");

const run = `${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;
const topic = `chaos-reader-check-${run}`;
const admin = new KafkaAdmin(brokers, "processor-chaos-reader-check", { timeout: 5000, retries: 1 });
const committed = new Set<string>();
const aborted = new Set<string>();
let failures = 0;
const check = (ok: boolean, what: string) => {
  console.log(`${ok ? "ok  " : "FAIL"} ${what}`);
  if (!ok) failures++;
};

type Msg = Parameters<Producer["send"]>[0]["messages"][number];
let n = 0;
/** `count` records for `partition`, their ids recorded in `into`; `size` bytes of padding each. */
function records(partition: number, count: number, into: Set<string>, size = 50): Msg[] {
  return Array.from({ length: count }, () => {
    const id = `${run}-${n++}`;
    into.add(id);
    return {
      topic,
      partition,
      key: Buffer.from(`k${n % 7}`),
      value: Buffer.from(JSON.stringify({ id, data: "x".repeat(size) })),
      headers: new Map([[Buffer.from("x-chaos-id"), Buffer.from(id)]]),
    };
  });
}

function transactional(suffix: string): Producer {
  return new Producer({
    clientId: "processor-chaos-reader-check",
    bootstrapBrokers: [...brokers],
    idempotent: true,
    transactionalId: `chaos-reader-check-${run}-${suffix}`,
    retries: 3,
  });
}

async function inTransaction(producer: Producer, messages: Msg[], outcome: "commit" | "abort"): Promise<void> {
  const tx = await producer.beginTransaction();
  // several sends per transaction: several batches
  for (let i = 0; i < messages.length; i += 500) await tx.send({ messages: messages.slice(i, i + 500) });
  await (outcome === "commit" ? tx.commit() : tx.abort());
}

async function timed<T>(what: string, work: Promise<T>, ms = 120_000): Promise<T | null> {
  const started = Date.now();
  const result = await Promise.race([work, Bun.sleep(ms).then(() => null)]);
  check(result !== null, `${what} terminated (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  return result;
}

function compare(label: string, read: readonly TopicRecord[], expected: ReadonlySet<string>): void {
  const seen = new Map<string, number>();
  for (const r of read) if (r.id !== null) seen.set(r.id, (seen.get(r.id) ?? 0) + 1);
  const missing = [...expected].filter((id) => !seen.has(id)).length;
  const twice = [...seen.values()].filter((c) => c > 1).length;
  const abortedRead = [...seen.keys()].filter((id) => aborted.has(id)).length;
  const unknown = [...seen.keys()].filter((id) => !expected.has(id) && !aborted.has(id)).length;
  check(
    missing === 0 && twice === 0 && abortedRead === 0 && unknown === 0,
    `${label}: ${read.length} records read, ${expected.size} committed expected: ${missing} missing, ${twice} read twice, ${abortedRead} aborted or open counted, ${unknown} unknown`,
  );
}

const a = transactional("a");
const b = transactional("b");
const c = transactional("c");
const plain = new Producer({ clientId: "processor-chaos-reader-check", bootstrapBrokers: [...brokers], idempotent: true, retries: 3 });
try {
  await admin.createTopics([topic], 4, 1, APPEND_TIME);
  // p0: commit, abort, commit, abort by the same producer (several aborted ranges of one producer id in a fetch
  // response), interleaved with another producer's commits; the partition ends with an abort marker
  await inTransaction(a, records(0, 300, committed), "commit");
  await inTransaction(a, records(0, 200, aborted), "abort");
  await inTransaction(b, records(0, 100, committed), "commit");
  await inTransaction(a, records(0, 300, committed), "commit");
  await inTransaction(a, records(0, 150, aborted), "abort");
  // p1: an aborted transaction larger than one fetch response (8 MiB), so its abort marker is in a later one; ends
  // with a commit marker
  await inTransaction(b, records(1, 10_000, aborted, 1_000), "abort");
  await inTransaction(b, records(1, 50, committed), "commit");
  // p2: non-transactional records only, many fetch responses' worth (a read must not end before all are delivered)
  for (let i = 0; i < 30; i++) await plain.send({ messages: records(2, 1_000, committed) });
  // p3: committed, then a transaction left open while the topic is read (a SIGKILLed producer's)
  await inTransaction(c, records(3, 80, committed), "commit");
  const open = await c.beginTransaction();
  await open.send({ messages: records(3, 40, aborted) });
  console.log(`wrote ${committed.size} committed and ${aborted.size} aborted or open records to ${topic}`);

  const notes: string[] = [];
  const note = (m: string) => void notes.push(m);
  const stamped = await timed(
    "read with append times, a transaction open",
    readTopic(brokers, topic, { appendTime: true, stableWaitMs: 2_000, note }),
  );
  if (stamped !== null) compare("read with append times, a transaction open", stamped, committed);
  check(
    notes.some((m) => m.includes("above the last stable offset")),
    `the open transaction was noted (${notes.join(" | ") || "no notes"})`,
  );
  check(stamped?.every((r) => !Number.isNaN(r.timestamp)) ?? false, "every record read has an append time");

  await open.abort();
  notes.length = 0;
  const bare = await timed("read without append times (the client's own read_committed filter)", readTopic(brokers, topic, { note }));
  // informational: whether @platformatic/kafka alone filters aborted records (the reader cross-checks with kcat
  // when it reads append times, which the runner does for output and DLQ)
  if (bare !== null) {
    const leaked = bare.filter((r) => r.id !== null && aborted.has(r.id));
    const byPartition = [0, 1, 2, 3].map((p) => `p${p} ${leaked.filter((r) => r.partition === p).length}`).join(", ");
    console.log(
      `info @platformatic/kafka read_committed alone delivered ${leaked.length} aborted records (${byPartition}; ${bare.length} read)`,
    );
  }
  notes.length = 0;
  const after = await timed(
    "read with append times after the abort",
    readTopic(brokers, topic, { appendTime: true, stableWaitMs: 10_000, note }),
  );
  if (after !== null) compare("read with append times after the abort", after, committed);
  if (notes.length > 0) console.log(`notes: ${notes.join(" | ")}`);
} finally {
  await Promise.all([a, b, c, plain].map((p) => p.close().catch(() => undefined)));
  await admin.deleteTopics([topic]);
  await admin.close();
}
console.log(failures === 0 ? "reader self-check passed" : `reader self-check: ${failures} check(s) FAILED`);
process.exit(failures === 0 ? 0 : 1);
