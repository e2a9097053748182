#!/usr/bin/env bun
/**
 * Side-by-side benchmark (issue 5): processor against what people use instead, and against the broker's ceiling,
 * over the same data on the same broker in one run.
 *
 *   scripts/bench/compare.sh [FLAGS]            (runs scripts/bootstrap.sh, then this)
 *   node_modules/.bin/bun scripts/bench/compare.ts [FLAGS]
 *
 * Flags:
 *   --count N          T1 input records (default 1,000,000)
 *   --runs N           T1 repetitions, contenders take turns, medians reported (default 3); T2–T4 run once
 *   --tests LIST       T1,T2,T3,T4,T5 (default all; T5 comes from the T1 runs, so T5 alone runs T1)
 *   --contenders LIST  names (default: each test's usual set, below); a named contender joins every selected test it fits
 *   --quick            small T2–T4: rates 1k,5k for 5 s, T3 backlog = --count, T4 2,000 records
 *   --keep             keep the topics and groups (default: deleted at the end)
 *   --no-build         reuse dist/processor-bench, .cache/bench/kafkajs-contender.mjs, .cache/bench/streams,
 *                      .cache/bench/go-contender
 *   --t3-count N (2,000,000)  --t4-count N (20,000)  --rates LIST (1000,5000,20000)  --seconds N (15)
 *   --brokers LIST (127.0.0.1:9092; the local broker is started by scripts/kafka/start.sh only for that address)
 *   --report FILE (BENCHMARKS.md)  --svg-dir DIR (docs/bench)  --json FILE (raw results, for tests)
 *   --binary PATH (dist/processor-bench: where the processor binary is built; a test builds its own elsewhere)
 *   --log-level L (info: processor's default, which logs a warn line per dead-lettered record)
 *
 * Contenders (name: what runs; tests by default):
 *   perf-producer            kafka-producer-perf-test writing --count records of the input's average size, acks=all (T1)
 *   perf-consumer            kafka-consumer-perf-test reading the T1 input (T1)
 *   kcat                     kcat -C -G group -e | kcat -P: passthrough, no transform; commits by librdkafka auto-commit
 *                            every 1 s of what it handed to stdout, so NOT at-least-once; exits at the end of the input,
 *                            because kcat -P produces the tail of an open pipe only at EOF (T1, T3)
 *   streams                  Kafka Streams, 1 stream thread, at_least_once, commit.interval.ms 1000, JVM -Xms64m -Xmx256m (T1, T2, T3)
 *   streams-eos              Kafka Streams, 1 stream thread, processing.guarantee=exactly_once_v2, commit.interval.ms
 *                            left at Streams' exactly-once default (100 ms) (T1, T2)
 *   streams-t2               the same with 2 stream threads (only when named)
 *   kafkajs                  KafkaJS 2 eachBatch on Node: produce the chunk, await the ack, commit (T1, T2, T3)
 *   go                       scripts/bench/contenders/go: franz-go, records spread over goroutine lanes by key, async
 *                            idempotent produce (acks=all, linger 5 ms), commits the acked prefix every 1 s (T1, T2, T3)
 *   plain                    scripts/bench/plain-loop.ts: one @platformatic/kafka consumer+producer loop on Bun (T1, T2, T3)
 *   processor                dist/processor-bench with its defaults (T1, T2, T3)
 *   processor-eos            the same with --guarantee exactly-once --transactional-id <its group> (a transaction per
 *                            --commit-interval, default 1 s) (T1, T2)
 *   processor-eos-100ms      the same with --commit-interval 100ms, Streams' exactly-once default (only when named)
 *   processor-c2-p2-w64, processor-none-w64, processor-partition-w64   other configurations (T1, T3)
 *   processor-batch          --batch-size 256: batch mode with the seed rule's batch form (T1)
 *   processor-otel           --otel-endpoint to a local OTLP sink (scripts/bench/otlp-sink.ts, its own process, started
 *                            and stopped here): a span per record exported (only when named)
 *   processor-otel-10pct     the same with --otel-sample-ratio 0.1 (only when named)
 *   processor-slow           --handler test/fixtures/slow-handler.ts (SLOW_HANDLER_MS=20) --workers 2048, key ordering (T4)
 *   kafkajs-slow             KafkaJS with a 20 ms await per record, in order per partition, 6 partitions at once (T4)
 *
 * Tests:
 *   T1 drain --count preloaded records (seed-format JSON ~200 B, unique ids, 10,000 keys, 10% broken → DLQ,
 *      6 partitions, loaded once) until all are produced AND the group's committed offsets reach the input's end
 *      offsets (polled every 200 ms). records/s = records / (first output → done); CPU s / 1M = user+sys of the
 *      contender's whole process tree (/proc, children included) at that moment; peak RSS = highest sampled sum of the
 *      tree's RSS. The perf tools report their own rate.
 *   T2 end-to-end latency at fixed rates: a paced producer (in this process) writes valid records stamped "now" into a
 *      fresh topic; the output topic has message.timestamp.type=LogAppendTime; latency = append time − create time,
 *      p50/p99/max per rate, each rate for --seconds after a warm-up.
 *   T3 RSS of the tree every 500 ms while draining --t3-count records: peak, and "steady" = median of the middle
 *      50% of the samples; the series is charted.
 *   T4 --t4-count valid records, 10,000 keys, handler awaiting 20 ms per record: processor in key ordering vs a
 *      partition-bound consumer.
 *   T5 process start → first output record seen, from the T1 runs.
 *
 * Exactly-once contenders (processor-eos, streams-eos): their outputs are read read_committed. T1 is done when the
 * group's committed offsets reach the input's end offsets and no transaction is open on the outputs (transaction
 * markers take offsets, so output end offsets are no record count); out+dlq is counted with kcat read_committed.
 * T2 latency is to the commit: the first poll (every 10 ms) of the output's read_committed end offsets that covers the
 * record − its create time; the append-time p99 is shown too. The report puts them next to processor and streams,
 * with the ratios processor-eos / processor and processor-eos / streams-eos.
 *
 * Writes --report (machine, versions, settings, this command, tables, Goals) and SVG charts into --svg-dir; prints the
 * tables. Every topic and group it creates is named bench-<time>-… and deleted at the end unless --keep.
 */
import { mkdirSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { parseArgs } from "node:util";
import { buildBinary, buildGo, buildKafkajs, buildStreams, built } from "./lib/build.ts";
import { CONTENDERS, contenderByName, needsBuild, needsOtlpSink, STREAMS_JVM, type Contender, type Paths } from "./lib/contenders.ts";
import { drain, type DrainResult } from "./lib/drain.ts";
import { BenchKafka } from "./lib/kafka.ts";
import { latency } from "./lib/latency.ts";
import { machineFacts } from "./lib/machine.ts";
import {
  goals,
  eosTable,
  goalsTable,
  memRows,
  t1Chart,
  t1Rows,
  t1Table,
  t2Table,
  t3Chart,
  t3Table,
  t4Table,
  t5Table,
  type Results,
} from "./lib/report.ts";
import { expectedMix } from "../lib/seed-data.ts";
import { benchMix, loadSeedRecords } from "./lib/loader.ts";
import { start, stopAll } from "./lib/spawn.ts";
import { fmt, sum } from "../lib/stats.ts";

const ROOT = resolve(import.meta.dir, "../..");
const TESTS = ["T1", "T2", "T3", "T4", "T5"] as const;
type Test = (typeof TESTS)[number];

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    count: { type: "string", default: "1000000" },
    runs: { type: "string", default: "3" },
    tests: { type: "string", default: TESTS.join(",") },
    contenders: { type: "string" },
    quick: { type: "boolean", default: false },
    keep: { type: "boolean", default: false },
    "no-build": { type: "boolean", default: false },
    "t3-count": { type: "string" },
    "t4-count": { type: "string" },
    rates: { type: "string" },
    seconds: { type: "string" },
    brokers: { type: "string", default: "127.0.0.1:9092" },
    report: { type: "string", default: "BENCHMARKS.md" },
    "svg-dir": { type: "string", default: "docs/bench" },
    json: { type: "string" },
    binary: { type: "string", default: "dist/processor-bench" },
    "log-level": { type: "string", default: "info" },
    help: { type: "boolean", short: "h", default: false },
  },
});

if (values.help) {
  const doc = /\/\*\*([\s\S]*?)\*\//.exec(await Bun.file(import.meta.path).text())?.[1] ?? "";
  console.log(doc.replace(/^ \* ?/gm, "").trim());
  process.exit(0);
}

function fail(message: string): never {
  console.error(`compare: ${message}`);
  process.exit(2);
}

function int(name: string, text: string): number {
  const n = Number(text.replaceAll("_", ""));
  if (!Number.isInteger(n) || n < 1) fail(`--${name} must be a positive integer, got ${JSON.stringify(text)}`);
  return n;
}

const QUICK = values.quick;
const COUNT = int("count", values.count);
const RUNS = int("runs", values.runs);
const T3_COUNT = values["t3-count"] ? int("t3-count", values["t3-count"]) : QUICK ? COUNT : 2_000_000;
const T4_COUNT = values["t4-count"] ? int("t4-count", values["t4-count"]) : QUICK ? 2_000 : 20_000;
const RATES = (values.rates ?? (QUICK ? "1000,5000" : "1000,5000,20000")).split(",").map((r) => int("rates", r));
const SECONDS = values.seconds ? int("seconds", values.seconds) : QUICK ? 5 : 15;
const BROKERS = values.brokers.split(",").filter(Boolean);
const LOCAL = BROKERS.length === 1 && /^(127\.0\.0\.1|localhost):9092$/.test(BROKERS[0]!);
const KEYS = 10_000;
const PARTITIONS = 6;

const tests = new Set<Test>();
for (const t of values.tests
  .split(",")
  .map((s) => s.trim().toUpperCase())
  .filter(Boolean)) {
  if (!(TESTS as readonly string[]).includes(t)) fail(`unknown test ${t} (known: ${TESTS.join(",")})`);
  tests.add(t as Test);
}
if (tests.has("T5")) tests.add("T1"); // T5 is measured by the T1 runs

/** Whether a contender can take part in a test at all. */
function fits(c: Contender, t: Test): boolean {
  const slow = c.name.endsWith("-slow");
  if (t === "T4") return slow;
  if (slow) return false;
  if (t === "T2") return c.family !== "perf-producer" && c.family !== "perf-consumer" && c.family !== "kcat";
  if (t === "T3") return c.family !== "perf-producer" && c.family !== "perf-consumer";
  return true;
}

let named: Contender[] | null = null;
if (values.contenders !== undefined) {
  named = values.contenders
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean)
    .map((n) => contenderByName(n) ?? fail(`unknown contender ${n} (known: ${CONTENDERS.map((c) => c.name).join(", ")})`));
}
const inTest = (t: Test): Contender[] =>
  tests.has(t) ? (named ?? CONTENDERS.filter((c) => c.tests.includes(t))).filter((c) => fits(c, t)) : [];
const PLAN = { T1: inTest("T1"), T2: inTest("T2"), T3: inTest("T3"), T4: inTest("T4") };
const ALL = [...new Set([...PLAN.T1, ...PLAN.T2, ...PLAN.T3, ...PLAN.T4])];
if (ALL.length === 0) fail("no contender fits the selected tests");

const paths: Paths = {
  root: ROOT,
  binary: resolve(ROOT, values.binary),
  kafkajsBundle: join(ROOT, ".cache/bench/kafkajs-contender.mjs"),
  streamsDir: join(ROOT, ".cache/bench/streams"),
  goBinary: join(ROOT, ".cache/bench/go-contender"),
};
const say = (line = ""): void => void process.stdout.write(`${line}\n`);
const secs = (ms: number): string => (ms / 1000).toFixed(1);

const prefix = `bench-${Date.now().toString(36)}`;
const logDir = join(tmpdir(), prefix);
mkdirSync(logDir, { recursive: true });
const kafka = new BenchKafka(BROKERS);
let finished = false;

async function cleanup(): Promise<void> {
  if (finished) return;
  finished = true;
  await stopAll();
  if (values.keep) say(`kept topics ${kafka.topics.join(", ")} and groups ${kafka.groups.join(", ")}`);
  else say(await kafka.cleanup());
  await kafka.close();
}
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.on(signal, () => {
    say(`\n${signal}: stopping`);
    void cleanup().finally(() => process.exit(130));
  });
}

async function shell(argv: string[]): Promise<void> {
  const child = Bun.spawn(argv, { cwd: ROOT, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`${argv.join(" ")} failed (exit ${code}): ${(out + err).trim().slice(-2000)}`);
}

/** Loads a fresh input topic and checks its end offsets. */
async function input(name: string, count: number, broken: boolean): Promise<{ topic: string; ends: number[]; avgBytes: number }> {
  const topic = await kafka.createTopic(`${prefix}-${name}`, PARTITIONS);
  const loaded = await loadSeedRecords({
    brokers: BROKERS,
    topic,
    runId: `${prefix}-${name}`,
    count,
    keys: KEYS,
    broken,
    onProgress: (n) => say(`  loaded ${fmt(n)}/${fmt(count)}…`),
  });
  const ends = await kafka.endOffsets(topic);
  if (sum(ends) !== count) throw new Error(`${topic} holds ${sum(ends)} records, expected ${count}`);
  say(
    `load: ${fmt(count)} records into ${topic} in ${secs(loaded.ms)} s (${fmt(count / (loaded.ms / 1000))}/s, ${(loaded.bytes / count).toFixed(0)} B avg value)`,
  );
  return { topic, ends, avgBytes: Math.round(loaded.bytes / count) };
}

/** Starts scripts/bench/otlp-sink.ts in a process of its own (stopped with the contenders) and returns its URL. */
async function startOtlpSink(): Promise<string> {
  const log = join(logDir, "otlp-sink.log");
  const sink = start(
    { argv: [process.execPath, join(ROOT, "scripts/bench/otlp-sink.ts")], cwd: ROOT, env: { PATH: process.env.PATH ?? "" } },
    log,
  );
  const deadline = performance.now() + 10_000;
  for (;;) {
    const url = /listening (\S+)/.exec(await Bun.file(log).text())?.[1];
    if (url !== undefined) return url;
    if (sink.exitedAt() !== null || performance.now() > deadline) throw new Error(`the OTLP sink did not start; log: ${log}`);
    await Bun.sleep(50);
  }
}

const timeoutFor = (count: number, slow: boolean): number => (slow ? 120 + count / 100 : 120 + count / 2000) * 1000;
const results: Results = { t1: [], t2: [], t3: [], t4: [] };

function line(r: DrainResult): string {
  return `  ${fmt(r.rate)} records/s; first output ${r.firstOutputMs === null ? "—" : secs(r.firstOutputMs)} s; done ${secs(r.doneMs)} s; CPU ${r.cpuSeconds.toFixed(1)} s; peak RSS ${(r.peakRssBytes / 2 ** 20).toFixed(0)} MB; out ${fmt(r.outputs)} + dlq ${fmt(r.dlq)}${r.note ? `; ${r.note}` : ""}`;
}

async function drainAll(
  label: string,
  list: readonly Contender[],
  runs: number,
  source: { topic: string; ends: number[]; avgBytes: number },
  broken: boolean,
  into: DrainResult[],
): Promise<void> {
  const count = sum(source.ends);
  for (let r = 1; r <= runs; r++) {
    for (const c of list) {
      say(`${label} run ${r}/${runs}: ${c.label}`);
      const expectedOut = c.transforms ? sum(Object.values(expectedMix(count, benchMix(broken)))) : count;
      const result = await drain({
        kafka,
        contender: c,
        paths,
        input: source.topic,
        inputEnds: source.ends,
        expectedOut,
        tag: `${prefix}-${label.toLowerCase()}-${c.name}-r${r}`,
        logDir,
        logLevel: values["log-level"],
        timeoutMs: timeoutFor(count, c.name.endsWith("-slow")),
        recordSize: source.avgBytes,
      });
      into.push(result);
      say(line(result));
    }
  }
}

let exitCode = 0;
const startedAt = new Date();
const facts = await machineFacts(ROOT); // before the run, so the load average is the machine's, not ours
try {
  say(`compare: tests ${[...tests].join(",")}; T1 ${fmt(COUNT)} records × ${RUNS} run(s); logs in ${logDir}`);
  for (const t of ["T1", "T2", "T3", "T4"] as const) if (PLAN[t].length > 0) say(`  ${t}: ${PLAN[t].map((c) => c.name).join(", ")}`);
  if (LOCAL) {
    say("broker: scripts/kafka/start.sh");
    await shell(["bash", join(ROOT, "scripts/kafka/start.sh")]);
  }
  const have = built(paths);
  for (const what of new Set(ALL.map((c) => needsBuild(c.family)))) {
    if (what === null) continue;
    if (values["no-build"] && have[what]) continue;
    const started = performance.now();
    const text =
      what === "binary"
        ? await buildBinary(paths)
        : what === "kafkajs"
          ? await buildKafkajs(paths)
          : what === "go"
            ? await buildGo(paths)
            : await buildStreams(paths);
    say(`build ${what}: ${text.split("\n").at(-1)} (${secs(performance.now() - started)} s)`);
  }

  if (ALL.some(needsOtlpSink)) {
    paths.otlpSink = await startOtlpSink();
    say(`OTLP sink: ${paths.otlpSink} (scripts/bench/otlp-sink.ts, stopped at the end)`);
  }

  if (PLAN.T1.length > 0) {
    const source = await input("t1-in", COUNT, true);
    await drainAll("T1", PLAN.T1, RUNS, source, true, results.t1);
  }
  for (const c of PLAN.T2) {
    say(`T2: ${c.label} at ${RATES.map(fmt).join(", ")} msg/s, ${SECONDS} s each`);
    const r = await latency({
      kafka,
      contender: c,
      paths,
      rates: RATES,
      seconds: SECONDS,
      tag: `${prefix}-t2-${c.name}`,
      logDir,
      logLevel: values["log-level"],
    });
    results.t2.push(r);
    for (const x of r.rates)
      say(
        `  ${fmt(x.rate)}/s (achieved ${fmt(x.achieved)}): p50 ${fmt(x.p50)} ms, p99 ${fmt(x.p99)} ms, max ${fmt(x.max)} ms, ${fmt(x.received)}/${fmt(x.sent)} received`,
      );
  }
  if (PLAN.T3.length > 0) {
    const source = await input("t3-in", T3_COUNT, true);
    await drainAll("T3", PLAN.T3, 1, source, true, results.t3);
  }
  if (PLAN.T4.length > 0) {
    const source = await input("t4-in", T4_COUNT, false);
    await drainAll("T4", PLAN.T4, 1, source, false, results.t4);
  }

  // ── report ──
  const rows = t1Rows(ALL, results.t1);
  const mem = memRows(ALL, results.t3);
  const verdicts = goals(ALL, results);
  const sections: string[] = [];
  const svgDir = resolve(ROOT, values["svg-dir"]);
  const reportPath = resolve(ROOT, values.report);
  mkdirSync(svgDir, { recursive: true });
  mkdirSync(dirname(reportPath), { recursive: true });
  const link = (file: string): string => relative(dirname(reportPath), join(svgDir, file));
  if (rows.length > 0) {
    writeFileSync(join(svgDir, "t1-throughput.svg"), t1Chart(rows));
    sections.push(
      `## T1 — throughput draining ${fmt(COUNT)} preloaded records`,
      "",
      t1Table(rows),
      "",
      `![T1 records/s](${link("t1-throughput.svg")})`,
      "",
    );
  }
  if (results.t2.length > 0)
    sections.push(`## T2 — end-to-end latency at fixed input rates (${SECONDS} s per rate)`, "", t2Table(ALL, results.t2), "");
  const eos = eosTable(ALL, results);
  if (eos !== null)
    sections.push(
      "## Exactly-once: processor --guarantee exactly-once vs Kafka Streams exactly_once_v2",
      "",
      "Outputs read read_committed; T2 latency to the commit (when a read_committed reader can see the record). Each contender keeps its own default commit interval (first row): the commit interval bounds an exactly-once contender's latency.",
      "",
      eos,
      "",
    );
  if (mem.length > 0) {
    writeFileSync(join(svgDir, "t3-rss.svg"), t3Chart(mem));
    sections.push(
      `## T3 — memory while draining a ${fmt(T3_COUNT)} backlog`,
      "",
      t3Table(mem),
      "",
      `![T3 RSS over time](${link("t3-rss.svg")})`,
      "",
    );
  }
  if (results.t4.length > 0)
    sections.push(
      `## T4 — slow async handler (20 ms per record), ${fmt(T4_COUNT)} records, ${fmt(KEYS)} keys`,
      "",
      t4Table(ALL, results.t4),
      "",
    );
  if (rows.length > 0 && tests.has("T5")) sections.push("## T5 — start-up: process start → first output record", "", t5Table(rows), "");
  for (const s of sections) say(s);
  say(goalsTable(verdicts));

  const command = `scripts/bench/compare.sh ${Bun.argv.slice(2).join(" ")}`.trim();
  const report = [
    "# Benchmarks: processor side by side",
    "",
    `Generated by \`${command}\` (scripts/bench/compare.ts), ${startedAt.toISOString()} → ${new Date().toISOString()}. All figures below come from this one run.`,
    "",
    "## Machine, versions, settings",
    "",
    ...facts,
    `- T1 input: ${fmt(COUNT)} seed-format JSON records (~200 B values, unique ids, ${fmt(KEYS)} keys, 10% broken → dead-letter topic), ${PARTITIONS} partitions, loaded once; ${RUNS} run(s) per contender taking turns, medians shown; T2–T4 ran once per contender`,
    `- T2: rates ${RATES.map(fmt).join(", ")} msg/s, ${SECONDS} s each, after a warm-up; T3: ${fmt(T3_COUNT)} records; T4: ${fmt(T4_COUNT)} valid records, handler awaits 20 ms per record`,
    `- processor: dist/processor-bench built by scripts/build.ts, \`--log-level ${values["log-level"]}\`; plain loop: scripts/bench/plain-loop.ts on Bun; KafkaJS: scripts/bench/contenders/kafkajs.ts bundled for Node (idempotent producer, acks=all, chunks of 1000 produced then committed)`,
    `- Kafka Streams: scripts/bench/contenders/streams (JVM \`${STREAMS_JVM}\`), at_least_once, commit.interval.ms=1000 (its at_least_once default is 30 s), producer linger.ms=5, acks=all; dead letters via a branch`,
    "- exactly-once: processor-eos = processor `--guarantee exactly-once --transactional-id <its group>`, outputs, dead letters and input offsets in one Kafka transaction per `--commit-interval` (its default, 1 s); streams-eos = the Streams app with processing.guarantee=exactly_once_v2 and Streams' exactly-once default commit.interval.ms (100 ms), otherwise as above; the harness reads their outputs with isolation.level=read_committed",
    "- kcat: `kcat -C -G … -e | kcat -P …` passes records through untransformed; its consumer auto-commits (every 1 s, and at exit) offsets of records written to the pipe, not of records acked by the producer, so it is not at-least-once and its figures are an upper bound for a pipe. `-e` ends the pipe at the end of the input: kcat -P 1.7.1 holds the last records read from a pipe that stays open and produces them only at EOF",
    "- perf tools: kafka-producer-perf-test (`--throughput -1`, acks=all, records of the input's average size) and kafka-consumer-perf-test (the T1 input); their rates are their own figures (fetch rate for the consumer)",
    "- CPU s / 1M: user+sys seconds of the contender's whole process tree (children included, /proc) from start to the moment all was produced and committed, per million records; RSS: sum over the tree, sampled every 200–500 ms",
    "- the paced producer of T2 and the offset polling run in the harness process on the same 2 cores",
    "",
    "## Goals (issue 5), as ratios within this run",
    "",
    "processor's best T1 configuration stands for processor in the T1 ratios; T2 and T5 use its default configuration.",
    "",
    goalsTable(verdicts),
    "",
    ...sections,
    "## Columns",
    "",
    'records/s: records / (first output seen → every record produced and every input offset committed), polled every 200 ms; processor and Streams commit every 1 s, so their end is up to ~1.2 s late, which weighs on short runs (exactly-once: first committed output → offsets committed and no transaction open). T2 "readable at": append = the output record\'s log append time; commit = when a read_committed reader first could see it (exactly-once). vs processor: ratio to processor\'s default config. out+dlq: records in the contender\'s output and dead-letter topics afterwards (≥ records; more are at-least-once duplicates). T3 "steady": median of the middle 50% of the RSS samples; "last ¼ / second ¼": growth of RSS over the drain (≈1 = flat).',
    "",
  ].join("\n");
  writeFileSync(reportPath, report);
  say(`wrote ${relative(ROOT, reportPath)} and ${relative(ROOT, svgDir)}/*.svg`);
  if (values.json)
    writeFileSync(
      resolve(ROOT, values.json),
      JSON.stringify(
        {
          count: COUNT,
          runs: RUNS,
          rows: rows.map((r) => ({
            name: r.c.name,
            rate: r.rate,
            cpuPerM: r.cpuPerM,
            peakMb: r.peakMb,
            startupS: r.startupS,
            outPlusDlq: r.outPlusDlq,
          })),
          results,
          goals: verdicts,
        },
        null,
        2,
      ),
    );
} catch (error) {
  console.error(`compare: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  exitCode = 1;
} finally {
  await cleanup();
}
process.exit(exitCode);
