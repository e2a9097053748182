#!/usr/bin/env bun
/**
 * Kafka side of scripts/demo.sh, one subcommand per step (each prints a few lines for the user):
 *
 *   bun scripts/demo/demo.ts create  --in T --out T --dlq T [--partitions 6]
 *   bun scripts/demo/demo.ts produce --topic T --count N
 *   bun scripts/demo/demo.ts wait    --topics OUT,DLQ --target N [--timeout 120] [--pid PID]
 *   bun scripts/demo/demo.ts report  --in T --out T --dlq T --group G --count N
 *   bun scripts/demo/demo.ts delete  --topics A,B,C [--groups G,...]
 *
 * --brokers (default 127.0.0.1:9092) on every subcommand.
 */
import { Consumer, MessagesStreamModes, Producer } from "@platformatic/kafka";
import { parseArgs } from "node:util";
import { withAdmin as withAdminOf, type KafkaAdmin } from "../lib/kafka-admin.ts";
import { kindCounts, kindOf, seedClock, seedValue, type SeedClock, type SeedMix } from "../lib/seed-data.ts";
import { sum } from "../lib/stats.ts";

const { positionals, values } = parseArgs({
  args: Bun.argv.slice(2),
  allowPositionals: true,
  options: {
    brokers: { type: "string", default: "127.0.0.1:9092" },
    metrics: { type: "string" },
    in: { type: "string" },
    out: { type: "string" },
    dlq: { type: "string" },
    topic: { type: "string" },
    topics: { type: "string" },
    groups: { type: "string" },
    group: { type: "string" },
    partitions: { type: "string", default: "6" },
    count: { type: "string" },
    target: { type: "string" },
    timeout: { type: "string", default: "120" },
    pid: { type: "string" },
  },
});

const BROKERS = values.brokers.split(",");
const list = (text: string | undefined): string[] => (text ?? "").split(",").filter(Boolean);
const need = (name: keyof typeof values): string => {
  const value = values[name];
  if (typeof value !== "string" || value === "") throw new Error(`missing --${name}`);
  return value;
};
const int = (name: keyof typeof values): number => {
  const n = Number(need(name));
  if (!Number.isInteger(n) || n < 0) throw new Error(`--${name} must be a whole number`);
  return n;
};
const fmt = (n: number): string => n.toLocaleString("en-US");
const say = (line = ""): void => void process.stdout.write(`${line}\n`);

const withAdmin = <T>(work: (admin: KafkaAdmin) => Promise<T>): Promise<T> =>
  withAdminOf(BROKERS, "processor-demo-admin", work, { retries: 3 });

// ── the input mix ─────────────────────────────────────────────────────────────────────────────
/** Every 20th record is broken (5%, three ways in turn); of the rest every 5th has short data ("invalid"). */
const DEMO_MIX: SeedMix = { brokenEvery: 20, shortEvery: 5 };

function seedMessage(i: number, clock: SeedClock): { key: string; value: string } {
  return { key: `device-${i % 500}`, value: seedValue(`evt-${String(i).padStart(6, "0")}`, kindOf(i, DEMO_MIX), i, clock) };
}

const expectedMix = (count: number) => kindCounts(count, DEMO_MIX);

// ── subcommands ───────────────────────────────────────────────────────────────────────────────
async function create(): Promise<void> {
  const partitions = int("partitions");
  const [input, output, dlq] = [need("in"), need("out"), need("dlq")];
  await withAdmin(async (admin) => {
    await admin.createTopics([input], partitions);
    await admin.createTopics([output], partitions);
    await admin.createTopics([dlq], 1);
  });
  say(`  ${input} (${partitions} partitions), ${output} (${partitions} partitions), ${dlq} (1 partition)`);
}

async function produce(): Promise<void> {
  const topic = need("topic");
  const count = int("count");
  const started = performance.now();
  const clock = seedClock();
  const producer = new Producer({ clientId: "processor-demo-producer", bootstrapBrokers: BROKERS, idempotent: true, retries: 5 });
  const headers = new Map([[Buffer.from("source"), Buffer.from("processor-demo")]]);
  try {
    const batch = 2000;
    for (let i = 0; i < count; i += batch) {
      const messages = [];
      for (let j = i; j < Math.min(count, i + batch); j++) {
        const { key, value } = seedMessage(j, clock);
        messages.push({ topic, key: Buffer.from(key), value: Buffer.from(value), headers });
      }
      await producer.send({ messages });
    }
  } finally {
    await producer.close();
  }
  const mix = expectedMix(count);
  const secs = (performance.now() - started) / 1000;
  say(
    `  ${fmt(count)} records in ${secs.toFixed(2)}s: ${fmt(mix.valid)} valid data, ${fmt(mix.invalid)} short data, ` +
      `${fmt(mix["bad-json"] + mix["old-timestamp"] + mix["bad-timestamp"])} broken ` +
      `(${fmt(mix["bad-json"])} malformed JSON, ${fmt(mix["old-timestamp"])} older than 24h, ${fmt(mix["bad-timestamp"])} non-RFC 3339 timestamp)`,
  );
  say(`  e.g. ${seedMessage(1, clock).value}`);
}

async function wait(): Promise<void> {
  const topics = list(values.topics);
  const target = int("target");
  const deadline = Date.now() + int("timeout") * 1000;
  const pid = values.pid === undefined ? null : Number(values.pid);
  let lastReport = 0;
  await withAdmin(async (admin) => {
    for (;;) {
      const counts = await Promise.all(topics.map(async (t) => sum(await admin.endOffsets(t))));
      const total = sum(counts);
      const line = `  ${topics.map((t, i) => `${t}: ${fmt(counts[i]!)}`).join(", ")} (${fmt(total)}/${fmt(target)})`;
      if (total >= target) {
        say(line);
        return;
      }
      if (Date.now() - lastReport >= 1000) {
        say(values.metrics === undefined ? line : await liveLine(values.metrics, line));
        lastReport = Date.now();
      }
      if (pid !== null && !alive(pid)) throw new Error(`processor (pid ${pid}) exited before reaching ${fmt(target)} records`);
      if (Date.now() > deadline) throw new Error(`timed out after ${values.timeout}s with ${fmt(total)}/${fmt(target)} records`);
      await Bun.sleep(200);
    }
  });
}

/** Live figures from processor's own /metrics endpoint: rates in and out, lag, dead letters, in flight. */
let previous: { at: number; consumed: number; produced: number } | null = null;
async function liveLine(url: string, fallback: string): Promise<string> {
  let text: string;
  try {
    text = await (await fetch(url)).text();
  } catch {
    return `${fallback} (metrics endpoint not up yet)`;
  }
  const value = (name: string): number => {
    let total = 0;
    for (const line of text.split("\n")) if (line.startsWith(name)) total += Number(line.slice(line.lastIndexOf(" ") + 1));
    return total;
  };
  const now = Date.now();
  const consumed = value("processor_records_consumed_total ");
  const produced = value("processor_records_produced_total ");
  const seconds = previous === null ? 0 : (now - previous.at) / 1000;
  const rate = (n: number, before: number): string => (seconds > 0 ? `${fmt(Math.round((n - before) / seconds))}/s` : "-");
  const line = `  in ${rate(consumed, previous?.consumed ?? 0)}, out ${rate(produced, previous?.produced ?? 0)} | consumed ${fmt(consumed)}, produced ${fmt(produced)}, DLQ ${fmt(value("processor_records_dead_lettered_total "))}, lag ${fmt(value("processor_consumer_lag_records{"))}, in flight ${fmt(value("processor_records_in_flight "))}`;
  previous = { at: now, consumed, produced };
  return line;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

interface Read {
  topic: string;
  timestamp: number;
  value: string | null;
  headers: Map<string, string>;
}

/** Reads topics from the beginning up to their current end offsets. */
async function readAll(admin: KafkaAdmin, topics: readonly string[], groupId: string): Promise<Read[]> {
  const ends = new Map<string, number[]>();
  for (const t of topics) ends.set(t, await admin.endOffsets(t));
  const remaining = new Map<string, number>();
  for (const [t, e] of ends)
    e.forEach((end, p) => {
      if (end > 0) remaining.set(`${t}/${p}`, end);
    });
  const records: Read[] = [];
  if (remaining.size === 0) return records;
  const consumer = new Consumer({
    clientId: "processor-demo-reader",
    groupId,
    bootstrapBrokers: BROKERS,
    autocommit: false,
    maxWaitTime: 200,
  });
  const stream = await consumer.consume({ topics: [...topics], mode: MessagesStreamModes.EARLIEST });
  try {
    for await (const m of stream) {
      const key = `${m.topic}/${m.partition}`;
      const end = remaining.get(key);
      if (end === undefined || Number(m.offset) >= end) continue;
      records.push({
        topic: m.topic,
        timestamp: Number(m.timestamp),
        value: m.value ? m.value.toString() : null,
        headers: new Map(m.headerEntries.map(([k, v]) => [k.toString(), v?.toString() ?? ""])),
      });
      if (Number(m.offset) + 1 >= end) remaining.delete(key);
      if (remaining.size === 0) break;
    }
  } finally {
    await stream.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
  }
  return records;
}

/** Prints aligned columns; `align` has one letter per column: l(eft) or r(ight). */
function table(rows: ReadonlyArray<readonly string[]>, align: string, indent = "  "): void {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  for (const row of rows)
    say(
      indent +
        row
          .map((cell, c) => (align[c] === "r" ? cell.padStart(widths[c]!) : cell.padEnd(widths[c]!)))
          .join("  ")
          .trimEnd(),
    );
}

/** "PermanentError: timestamp is older than 24 hours: 2025-…" → "PermanentError: timestamp is older than 24 hours" */
const reasonClass = (reason: string): string => reason.split(": ").slice(0, 2).join(": ");

async function report(): Promise<void> {
  const [input, output, dlq, group] = [need("in"), need("out"), need("dlq"), need("group")];
  const count = int("count");
  const mix = expectedMix(count);
  const expectedDlq = mix["bad-json"] + mix["old-timestamp"] + mix["bad-timestamp"];
  await withAdmin(async (admin) => {
    const inputEnds = await admin.endOffsets(input);
    const records = await readAll(admin, [output, dlq], `${group}-report`);
    await admin.deleteGroup(`${group}-report`).catch(() => undefined);
    const outs = records.filter((r) => r.topic === output);
    const dead = records.filter((r) => r.topic === dlq);

    const status = new Map<string, number>();
    for (const r of outs) {
      let s = "(unparsable)";
      try {
        s = String((JSON.parse(r.value ?? "") as { status?: unknown }).status);
      } catch {}
      status.set(s, (status.get(s) ?? 0) + 1);
    }
    const reasons = new Map<string, number>();
    for (const r of dead) {
      const reason = reasonClass(r.headers.get("x-processor-error") ?? "(no x-processor-error header)");
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }

    say("Counts");
    const rows: string[][] = [
      ["", "topic", "got", "expected"],
      ["input", input, fmt(sum(inputEnds)), fmt(count)],
      ["output", output, fmt(outs.length), fmt(mix.valid + mix.invalid)],
      ...[...status]
        .sort((a, b) => b[1] - a[1])
        .map(([s, n]) => ["", `  status "${s}"`, fmt(n), fmt(s === "valid" ? mix.valid : s === "invalid" ? mix.invalid : 0)]),
      ["dlq", dlq, fmt(dead.length), fmt(expectedDlq)],
      ...[...reasons].sort((a, b) => b[1] - a[1]).map(([r, n]) => ["", `  ${r}`, fmt(n), ""]),
    ];
    table(rows, "llrr");
    const duplicates = outs.length + dead.length - count;
    if (duplicates > 0) say(`  (${fmt(duplicates)} more records out than in: at-least-once redelivery after a rebalance)`);

    say();
    say("Throughput");
    if (records.length > 1) {
      const ts = records.map((r) => r.timestamp);
      let first = Infinity;
      let last = -Infinity;
      for (const t of ts) {
        if (t < first) first = t;
        if (t > last) last = t;
      }
      const secs = Math.max(0.001, (last - first) / 1000);
      say(
        `  ${fmt(records.length)} records written to ${output} + ${dlq} between ${new Date(first).toISOString()} and ${new Date(last).toISOString()}`,
      );
      say(`  first to last: ${secs.toFixed(2)}s = ${fmt(Math.round(records.length / secs))} records/s`);
    } else {
      say("  (not enough records)");
    }

    say();
    say(`Committed offsets of group ${group} vs end offsets of ${input}`);
    const committed = await admin.committed(group, input);
    const offsetRows: string[][] = [["partition", "committed", "end", "lag"]];
    let lagTotal = 0;
    inputEnds.forEach((end, p) => {
      const c = committed.get(p);
      const lag = c === undefined || c < 0 ? end : end - c;
      lagTotal += lag;
      offsetRows.push([String(p), c === undefined || c < 0 ? "-" : fmt(c), fmt(end), fmt(lag)]);
    });
    offsetRows.push(["total", fmt(sum([...committed.values()].filter((c) => c >= 0))), fmt(sum(inputEnds)), fmt(lagTotal)]);
    table(offsetRows, "lrrr");
    say(
      lagTotal === 0
        ? "  every input offset is committed: a restart of the group would reprocess nothing"
        : `  ${fmt(lagTotal)} records not committed: a restart would process them again`,
    );
  });
}

async function remove(): Promise<void> {
  const topics = list(values.topics);
  const groups = list(values.groups);
  await withAdmin(async (admin) => {
    if (topics.length > 0) await admin.use((a) => a.deleteTopics({ topics }));
    for (const g of groups) await admin.deleteGroup(g).catch(() => undefined);
  });
  say(`  deleted ${topics.join(", ")}${groups.length > 0 ? ` and group ${groups.join(", ")}` : ""}`);
}

const commands: Record<string, () => Promise<void>> = { create, produce, wait, report, delete: remove };
const command = commands[positionals[0] ?? ""];
if (!command) {
  console.error(`usage: demo.ts ${Object.keys(commands).join("|")} [options]`);
  process.exit(2);
}
try {
  await command();
  process.exit(0);
} catch (error) {
  console.error(`demo: ${positionals[0]}: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
}
