#!/usr/bin/env bun
/**
 * Throughput benchmark: the compiled processor binary against a plain single-threaded loop (plain-loop.ts).
 *
 *   node_modules/.bin/bun scripts/bench/throughput.ts --count 1000000 [--runs 1] [--configs LIST]
 *       [--brokers 127.0.0.1:9092] [--partitions 6] [--timeout SECONDS] [--log-level info] [--keep] [--no-build]
 *
 * 1. starts the local broker (scripts/kafka/start.sh reuses a running one; skipped for other --brokers) and builds
 *    dist/processor-bench (--no-build reuses the one there);
 * 2. creates one input topic (--partitions, default 6) and loads --count seed-format JSON records into it once
 *    (~200 bytes, unique ids, 10,000 distinct keys, 10% broken so the dead-letter path is used, timestamp now);
 * 3. runs every contender over that same input, each with its own consumer group and its own output and
 *    dead-letter topics. Contenders (--configs, comma separated, default all of these):
 *      plain        scripts/bench/plain-loop.ts (the baseline)
 *      default      dist/processor-bench --consumers 1 --producers 1 --workers 16
 *      c2-p2-w64    dist/processor-bench --consumers 2 --producers 2 --workers 64
 *      none-w64     dist/processor-bench --ordering none --workers 64
 *      NAME=FLAGS   dist/processor-bench FLAGS (space separated), e.g. "w128=--workers 128"
 *    The binary runs with --log-level (default info, processor's default: it logs one warn line per dead-lettered
 *    record) unless FLAGS name their own; its log goes to $TMPDIR/<run id>/<contender>-r<run>.log.
 *    The committed offsets of the contender's group are polled every 200 ms until they reach the input's end
 *    offsets; the binary then gets SIGTERM (the plain loop exits by itself). With --runs N the contenders take
 *    turns N times and the table shows medians;
 * 4. prints a markdown table and writes it, with machine info and per-run details, to
 *    scripts/bench/last-throughput.md; deletes its topics and groups (unless --keep).
 *
 * Columns: start-up s = process start → first output record seen; seconds = first output → every input offset
 * committed; records/s = records / seconds; from start = records / (process start → all committed);
 * CPU s / 1M = user+sys CPU of the whole process (all its threads, start-up and shutdown included, from
 * getrusage) per million records; peak RSS = the process's maximum resident set; out+dlq = records in its
 * output + dead-letter topics afterwards (at-least-once: ≥ records, more means duplicates).
 */
import { Admin } from "@platformatic/kafka";
import type { Subprocess } from "bun";
import { mkdirSync, openSync, closeSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem, tmpdir } from "node:os";
import { join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { endOffsets as endOffsetsOf } from "../lib/end-offsets.ts";
import { expectedMix, loadSeedRecords } from "./lib/seed-data.ts";

const ROOT = resolve(import.meta.dir, "../..");
const BINARY = join(ROOT, "dist/processor-bench");
const REPORT = join(ROOT, "scripts/bench/last-throughput.md");
const POLL_MS = 200;
const KEYS = 10_000;

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    count: { type: "string", default: "1000000" },
    runs: { type: "string", default: "1" },
    configs: { type: "string", default: "plain,default,c2-p2-w64,none-w64" },
    brokers: { type: "string", default: "127.0.0.1:9092" },
    partitions: { type: "string", default: "6" },
    timeout: { type: "string" },
    "log-level": { type: "string", default: "info" },
    keep: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  const source = readFileSync(import.meta.path, "utf8");
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(source)?.[1] ?? "";
  console.log(doc.replace(/^ \* ?/gm, "").trim());
  process.exit(0);
}

function positiveInt(name: string, text: string): number {
  const n = Number(text.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < 1) {
    console.error(`throughput: --${name} must be a positive integer, got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return n;
}

const COUNT = positiveInt("count", values.count);
const RUNS = positiveInt("runs", values.runs);
const PARTITIONS = positiveInt("partitions", values.partitions);
const TIMEOUT_MS = (values.timeout === undefined ? Math.round(120 + COUNT / 2000) : positiveInt("timeout", values.timeout)) * 1000;
const BROKERS = values.brokers.split(",").filter(Boolean);
const BUILD = !values["no-build"];
const LOG_LEVEL = values["log-level"];
const LOCAL_BROKER = BROKERS.length === 1 && /^(127\.0\.0\.1|localhost):9092$/.test(BROKERS[0]!);

// ── contenders ────────────────────────────────────────────────────────────────────────────────
interface Contender {
  readonly name: string;
  readonly kind: "plain" | "binary";
  /** Extra flags for the binary. */
  readonly flags: readonly string[];
  readonly label: string;
}

const KNOWN: Record<string, Contender> = {
  plain: { name: "plain", kind: "plain", flags: [], label: "plain loop (1 thread, batch 1000)" },
  default: { name: "default", kind: "binary", flags: ["--consumers", "1", "--producers", "1", "--workers", "16"], label: "processor --consumers 1 --producers 1 --workers 16" },
  "c2-p2-w64": { name: "c2-p2-w64", kind: "binary", flags: ["--consumers", "2", "--producers", "2", "--workers", "64"], label: "processor --consumers 2 --producers 2 --workers 64" },
  "none-w64": { name: "none-w64", kind: "binary", flags: ["--ordering", "none", "--workers", "64"], label: "processor --ordering none --workers 64" },
};

function parseContenders(text: string): Contender[] {
  const list: Contender[] = [];
  for (const item of text.split(",").map((s) => s.trim()).filter(Boolean)) {
    const eq = item.indexOf("=");
    if (eq > 0) {
      const name = item.slice(0, eq);
      const flags = item.slice(eq + 1).split(/\s+/).filter(Boolean);
      if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`contender name ${JSON.stringify(name)} may use only letters, digits, - and _`);
      list.push({ name, kind: "binary", flags, label: `processor ${flags.join(" ")}`.trim() });
      continue;
    }
    const known = KNOWN[item];
    if (!known) throw new Error(`unknown contender ${JSON.stringify(item)} (known: ${Object.keys(KNOWN).join(", ")}, or NAME=FLAGS)`);
    list.push(known);
  }
  if (list.length === 0) throw new Error("--configs names no contender");
  if (new Set(list.map((c) => c.name)).size !== list.length) throw new Error("--configs names a contender twice");
  return list;
}

let CONTENDERS: Contender[];
try {
  CONTENDERS = parseContenders(values.configs);
} catch (error) {
  console.error(`throughput: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(2);
}

// ── small helpers ─────────────────────────────────────────────────────────────────────────────
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const fmt = (n: number): string => Math.round(n).toLocaleString("en-US");
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);
const secs = (ms: number): string => (ms / 1000).toFixed(2);
const median = (xs: readonly number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};

const admin = new Admin({ clientId: "processor-bench-admin", bootstrapBrokers: BROKERS, retries: 3 });

const endOffsets = (topic: string): Promise<number[]> => endOffsetsOf(admin, topic);

async function committedOffsets(group: string, topic: string): Promise<Map<number, number>> {
  const [offsets] = await admin.listConsumerGroupOffsets({ groups: [group] });
  const committed = new Map<number, number>();
  for (const p of offsets?.topics.find((t) => t.name === topic)?.partitions ?? []) committed.set(p.partitionIndex, Number(p.committedOffset));
  return committed;
}

async function run(command: readonly string[], what: string): Promise<string> {
  const child = Bun.spawn([...command], { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${what} failed (exit ${code}):\n${(out + err).trim().slice(-3000)}`);
  return (out + err).trim();
}

const CLK_TCK = Number((await run(["getconf", "CLK_TCK"], "getconf CLK_TCK").catch(() => "100")) || 100);

/** user+sys CPU seconds of a live process (all its threads), or null once it is gone. */
function procCpuSeconds(pid: number): number | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    // fields[0] is field 3 (state): utime is field 14, stime field 15
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK;
  } catch {
    return null;
  }
}

/** VmHWM (peak resident set) of a live process in bytes, or null once it is gone. */
function procPeakRss(pid: number): number | null {
  try {
    const match = /^VmHWM:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return match ? Number(match[1]) * 1024 : null;
  } catch {
    return null;
  }
}

// ── the input: lib/seed-data.ts, shared with compare.ts so both benchmarks drain the same data ──────

// ── running one contender ─────────────────────────────────────────────────────────────────────
interface RunResult {
  contender: string;
  run: number;
  records: number;
  /** ms from process start */
  firstOutputMs: number | null;
  allOutputMs: number | null;
  committedMs: number;
  exitMs: number;
  exitCode: number | null;
  cpuSeconds: number;
  cpuSecondsAtCommit: number | null;
  peakRssBytes: number;
  outputs: number;
  dlq: number;
  selfReport: string | null;
  log: string;
}

let current: Subprocess | null = null;
const createdTopics: string[] = [];
const createdGroups: string[] = [];

async function runContender(contender: Contender, runIndex: number, input: string, inputEnds: readonly number[], prefix: string, logDir: string): Promise<RunResult> {
  const tag = `${contender.name}-r${runIndex}`;
  const output = `${prefix}-${tag}-out`;
  const dlq = `${output}.dlq`;
  const group = `${prefix}-${tag}`;
  await admin.createTopics({ topics: [output], partitions: PARTITIONS, replicas: 1 });
  createdTopics.push(output);
  await admin.createTopics({ topics: [dlq], partitions: 1, replicas: 1 });
  createdTopics.push(dlq);
  createdGroups.push(group);

  const logPath = join(logDir, `${tag}.log`);
  const logFd = openSync(logPath, "w");
  const command =
    contender.kind === "plain"
      ? [process.execPath, join(ROOT, "scripts/bench/plain-loop.ts"), "--brokers", BROKERS.join(","), "--input", input, "--output", output, "--dlq", dlq, "--group", group]
      : [
          BINARY,
          ...["--brokers", BROKERS.join(","), "--input-topics", input, "--output-topic", output, "--dlq-topic", dlq, "--group-id", group],
          ...(contender.flags.some((f) => f === "--log-level" || f.startsWith("--log-level=")) ? [] : ["--log-level", LOG_LEVEL]),
          ...contender.flags,
        ];

  const target = sum(inputEnds);
  const started = performance.now();
  const child = Bun.spawn(command, {
    cwd: contender.kind === "plain" ? ROOT : tmpdir(),
    // only PATH/HOME: processor reads settings from the environment (WORKER_POOL, KAFKA_*, …)
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp" },
    stdin: "ignore",
    stdout: contender.kind === "plain" ? "pipe" : logFd,
    stderr: logFd,
  });
  current = child;
  const stdoutText = child.stdout instanceof ReadableStream ? new Response(child.stdout).text() : Promise.resolve("");
  let exitedAt: number | null = null;
  const exited = child.exited.then((code) => {
    exitedAt = performance.now();
    return code;
  });

  let firstOutputAt: number | null = null;
  let allOutputAt: number | null = null;
  let committedAt: number | null = null;
  let cpuAtCommit: number | null = null;
  let lastCpu: number | null = null;
  let peakRss = 0;
  const deadline = started + TIMEOUT_MS;
  try {
    for (;;) {
      const tick = performance.now();
      const [committed, outEnds, dlqEnds] = await Promise.all([committedOffsets(group, input), endOffsets(output), endOffsets(dlq)]);
      const now = performance.now();
      const produced = sum(outEnds) + sum(dlqEnds);
      if (firstOutputAt === null && produced > 0) firstOutputAt = now;
      if (allOutputAt === null && produced >= target) allOutputAt = now;
      const cpu = procCpuSeconds(child.pid);
      if (cpu !== null) lastCpu = cpu;
      peakRss = Math.max(peakRss, procPeakRss(child.pid) ?? 0);
      if (inputEnds.every((end, p) => end === 0 || (committed.get(p) ?? -1) >= end)) {
        // the plain loop exits right after its last commit: its exit is the better time stamp
        committedAt = exitedAt !== null && exitedAt < now ? exitedAt : now;
        cpuAtCommit = cpu ?? lastCpu;
        break;
      }
      if (exitedAt !== null && child.exitCode !== null && now - exitedAt > 1000) {
        throw new Error(`${tag} exited (code ${child.exitCode}) before committing everything: ${sum([...committed.values()].filter((c) => c > 0))}/${target} committed; log: ${logPath}`);
      }
      if (now > deadline) throw new Error(`${tag} timed out after ${secs(now - started)} s; log: ${logPath}`);
      await Promise.race([Bun.sleep(Math.max(0, POLL_MS - (now - tick))), exited]);
    }
    if (child.exitCode === null && contender.kind === "binary") child.kill("SIGTERM");
    const exitTimer = setTimeout(() => child.kill("SIGKILL"), contender.kind === "binary" ? 60_000 : 30_000);
    const code = await exited;
    clearTimeout(exitTimer);
    const usage = child.resourceUsage();
    const [outEnds, dlqEnds] = await Promise.all([endOffsets(output), endOffsets(dlq)]);
    const self = (await stdoutText).trim().split("\n").filter(Boolean).at(-1) ?? null;
    return {
      contender: contender.name,
      run: runIndex,
      records: target,
      firstOutputMs: firstOutputAt === null ? null : firstOutputAt - started,
      allOutputMs: allOutputAt === null ? null : allOutputAt - started,
      committedMs: committedAt - started,
      exitMs: (exitedAt ?? performance.now()) - started,
      exitCode: code,
      cpuSeconds: usage ? Number(usage.cpuTime.total) / 1e6 : (lastCpu ?? Number.NaN),
      cpuSecondsAtCommit: cpuAtCommit,
      peakRssBytes: Math.max(peakRss, usage?.maxRSS ?? 0),
      outputs: sum(outEnds),
      dlq: sum(dlqEnds),
      selfReport: contender.kind === "plain" ? self : null,
      log: logPath,
    };
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await child.exited;
    }
    closeSync(logFd);
    current = null;
  }
}

// ── report ────────────────────────────────────────────────────────────────────────────────────
interface Row {
  contender: Contender;
  runs: RunResult[];
  startupS: number | null;
  seconds: number;
  rate: number;
  rateFromStart: number;
  cpuPerMillion: number;
  peakRssMb: number;
  outPlusDlq: number;
}

function summarize(contender: Contender, runs: RunResult[]): Row {
  const windows = runs.map((r) => r.committedMs - (r.firstOutputMs ?? 0));
  const startups = runs.flatMap((r) => (r.firstOutputMs === null ? [] : [r.firstOutputMs]));
  return {
    contender,
    runs,
    startupS: startups.length === 0 ? null : median(startups) / 1000,
    seconds: median(windows) / 1000,
    rate: median(runs.map((r, i) => r.records / (windows[i]! / 1000))),
    rateFromStart: median(runs.map((r) => r.records / (r.committedMs / 1000))),
    cpuPerMillion: median(runs.map((r) => (r.cpuSeconds / r.records) * 1e6)),
    peakRssMb: median(runs.map((r) => r.peakRssBytes / 2 ** 20)),
    outPlusDlq: Math.min(...runs.map((r) => r.outputs + r.dlq)),
  };
}

function markdownTable(rows: readonly Row[]): string {
  const plain = rows.find((r) => r.contender.kind === "plain");
  const header = ["contender", "records", "start-up s", "seconds", "records/s", "records/s from start", "vs plain loop", "CPU s / 1M", "peak RSS MB", "out+dlq"];
  const align = ["---", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"];
  const lines = [`| ${header.join(" | ")} |`, `| ${align.join(" | ")} |`];
  for (const row of rows) {
    const records = row.runs[0]!.records;
    const cells = [
      row.contender.label,
      fmt(records),
      row.startupS === null ? "—" : row.startupS.toFixed(2),
      row.seconds.toFixed(2),
      fmt(row.rate),
      fmt(row.rateFromStart),
      plain ? `${(row.rate / plain.rate).toFixed(2)}×` : "—",
      row.cpuPerMillion.toFixed(1),
      row.peakRssMb.toFixed(0),
      `${fmt(row.outPlusDlq)}${row.outPlusDlq < records ? " (MISSING)" : row.outPlusDlq > records ? " (dups)" : ""}`,
    ];
    lines.push(`| ${cells.join(" | ")} |`);
  }
  return lines.join("\n");
}

function runDetails(results: readonly RunResult[]): string {
  const header = "| run | first output s | all out s | all committed s | exit s | exit code | CPU s (at commit / total) | peak RSS MB | outputs | dlq |";
  const lines = [header, "| --- | --: | --: | --: | --: | --: | --: | --: | --: | --: |"];
  for (const r of results) {
    lines.push(
      `| ${r.contender} #${r.run} | ${r.firstOutputMs === null ? "—" : secs(r.firstOutputMs)} | ${r.allOutputMs === null ? "—" : secs(r.allOutputMs)} | ${secs(r.committedMs)} | ${secs(r.exitMs)} | ${r.exitCode ?? "signal"} | ${r.cpuSecondsAtCommit === null ? "—" : r.cpuSecondsAtCommit.toFixed(2)} / ${r.cpuSeconds.toFixed(2)} | ${(r.peakRssBytes / 2 ** 20).toFixed(0)} | ${fmt(r.outputs)} | ${fmt(r.dlq)} |`,
    );
  }
  return lines.join("\n");
}

async function machineInfo(): Promise<string[]> {
  const kafkaVersion = await run(["bash", "-c", "source scripts/kafka/env.sh >/dev/null 2>&1; echo \"$KAFKA_VERSION\""], "kafka version").catch(() => "?");
  const clientVersion = (JSON.parse(readFileSync(join(ROOT, "node_modules/@platformatic/kafka/package.json"), "utf8")) as { version: string }).version;
  const head = await run(["git", "rev-parse", "--short", "HEAD"], "git").catch(() => "?");
  const dirty = await run(["git", "status", "--porcelain", "--", "src", "scripts/build.ts"], "git").catch(() => "");
  const nproc = await run(["nproc"], "nproc").catch(() => String(cpus().length));
  return [
    `- CPU: ${cpus()[0]?.model ?? "?"}, nproc ${nproc} (${cpus().length} online), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}`,
    `- load average at start: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (the machine is shared: other work skews the numbers)`,
    `- Bun ${Bun.version} (${Bun.revision.slice(0, 9)}), @platformatic/kafka ${clientVersion}, Kafka ${LOCAL_BROKER ? `${kafkaVersion} (scripts/kafka, single-node KRaft, ${BROKERS[0]})` : `at ${BROKERS.join(",")} (version not probed)`}`,
    `- processor: git ${head}${dirty === "" ? "" : " + uncommitted changes in src/"}, built to ${relative(ROOT, BINARY)}`,
  ];
}

// ── main ──────────────────────────────────────────────────────────────────────────────────────
const prefix = `bench-${Date.now().toString(36)}`;
const input = `${prefix}-in`;
const logDir = join(tmpdir(), prefix);
let cleaned = false;

async function cleanup(): Promise<void> {
  if (cleaned) return;
  cleaned = true;
  if (values.keep) {
    say(`kept topics ${createdTopics.join(", ")} and groups ${createdGroups.join(", ")}`);
  } else {
    if (createdTopics.length > 0) await admin.deleteTopics({ topics: [...createdTopics] }).catch((e: unknown) => say(`  (deleting topics failed: ${String(e)})`));
    if (createdGroups.length > 0) await admin.deleteGroups({ groups: [...createdGroups] }).catch(() => undefined);
    if (createdTopics.length > 0) say(`deleted ${createdTopics.length} topics and ${createdGroups.length} groups`);
  }
  await admin.close().catch(() => undefined);
}

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    say(`\n${signal}: stopping`);
    current?.kill("SIGKILL");
    void cleanup().finally(() => process.exit(130));
  });
}

let exitCode = 0;
try {
  mkdirSync(logDir, { recursive: true });
  say(`throughput: ${fmt(COUNT)} records, ${RUNS} run(s) of ${CONTENDERS.map((c) => c.name).join(", ")}; logs in ${logDir}`);

  if (LOCAL_BROKER) {
    say("broker: scripts/kafka/start.sh");
    await run(["bash", join(ROOT, "scripts/kafka/start.sh")], "scripts/kafka/start.sh");
  }
  if (BUILD && CONTENDERS.some((c) => c.kind === "binary")) {
    say(`build: ${await run([process.execPath, join(ROOT, "scripts/build.ts"), "--outfile", BINARY], "build")}`);
  }

  await admin.createTopics({ topics: [input], partitions: PARTITIONS, replicas: 1 });
  createdTopics.push(input);
  const loaded = await loadSeedRecords({ brokers: BROKERS, topic: input, runId: prefix, count: COUNT, keys: KEYS, onProgress: (n) => say(`  loaded ${fmt(n)}/${fmt(COUNT)}…`) });
  const inputEnds = await endOffsets(input);
  if (sum(inputEnds) !== COUNT) throw new Error(`the input holds ${sum(inputEnds)} records, expected ${COUNT}`);
  const mix = expectedMix(COUNT);
  say(
    `load: ${fmt(COUNT)} records (${(loaded.bytes / COUNT).toFixed(0)} B avg value, ${KEYS} keys, ${fmt(mix.dlq)} broken) into ${input} ` +
      `(${PARTITIONS} partitions: ${inputEnds.map(fmt).join(" ")}) in ${secs(loaded.ms)} s = ${fmt(COUNT / (loaded.ms / 1000))} records/s`,
  );

  const results: RunResult[] = [];
  for (let r = 1; r <= RUNS; r++) {
    for (const contender of CONTENDERS) {
      say(`run ${r}/${RUNS}: ${contender.label}`);
      const result = await runContender(contender, r, input, inputEnds, prefix, logDir);
      results.push(result);
      const window = result.committedMs - (result.firstOutputMs ?? 0);
      say(
        `  first output ${result.firstOutputMs === null ? "—" : secs(result.firstOutputMs)} s, all committed ${secs(result.committedMs)} s → ` +
          `${fmt(result.records / (window / 1000))} records/s; CPU ${result.cpuSeconds.toFixed(1)} s; peak RSS ${(result.peakRssBytes / 2 ** 20).toFixed(0)} MB; ` +
          `out ${fmt(result.outputs)} + dlq ${fmt(result.dlq)}${result.outputs !== mix.outputs || result.dlq !== mix.dlq ? ` (expected ${fmt(mix.outputs)} + ${fmt(mix.dlq)})` : ""}; exit ${result.exitCode}` +
          (result.selfReport ? `\n  self-report: ${result.selfReport}` : ""),
      );
    }
  }

  const rows = CONTENDERS.map((c) => summarize(c, results.filter((r) => r.contender === c.name)));
  const table = markdownTable(rows);
  say();
  say(table);
  say();
  const info = await machineInfo();
  const report = [
    `# Throughput: processor vs a plain loop`,
    "",
    `${new Date().toISOString()}, \`node_modules/.bin/bun scripts/bench/throughput.ts ${Bun.argv.slice(2).join(" ")}\``,
    "",
    ...info,
    `- input: ${fmt(COUNT)} seed-format JSON records (~${(loaded.bytes / COUNT).toFixed(0)} B values, ${KEYS} keys, ${fmt(mix.dlq)} broken → DLQ), ${PARTITIONS} partitions; loaded in ${secs(loaded.ms)} s`,
    `- each contender: its own consumer group and output/DLQ topics over the same input; ${RUNS} run(s)${RUNS > 1 ? ", medians shown" : ""}; the binary runs with \`--log-level ${LOG_LEVEL}\` unless its flags say otherwise`,
    "",
    table,
    "",
    "start-up s: process start → first output record seen (polled every 200 ms). seconds: first output → every input offset committed",
    "(the binary commits every `--commit-interval`, 1 s by default, so its end is up to ~1.2 s late). records/s = records / seconds;",
    "from start: records / (process start → all committed). vs plain loop: ratio of records/s. CPU s / 1M: user+sys CPU seconds of the",
    "whole process (every thread, start-up and shutdown included, from getrusage) per million records. peak RSS: max resident set.",
    "out+dlq: records in the contender's output + DLQ topics afterwards (must be ≥ records).",
    "",
    "## Runs",
    "",
    runDetails(results),
    "",
    ...results.filter((r) => r.selfReport).map((r) => `- ${r.contender} #${r.run} self-report: \`${r.selfReport}\``),
    "",
  ].join("\n");
  writeFileSync(REPORT, report);
  say(`wrote ${relative(ROOT, REPORT)}`);
} catch (error) {
  console.error(`throughput: ${error instanceof Error ? error.message : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
