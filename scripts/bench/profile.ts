#!/usr/bin/env bun
/**
 * Where processor's time goes, per thread: drains a preloaded seed-format input once with PROCESSOR_PROFILE_DIR set
 * (src/observability/thread-profile.ts: every thread, main and each Worker, samples itself; `bun --cpu-prof` would
 * see only the main thread) and prints the CPU of each OS thread (/proc), then each JavaScript thread's heaviest
 * functions, self and inclusive, in µs per record.
 *
 *   node_modules/.bin/bun scripts/bench/profile.ts [--count 300000] [--out DIR] [--keep] [--top N]
 *     [--binary dist/processor] [--threads-only] [-- extra processor flags]
 *
 * --threads-only: no sampling (its cost stays out), only the CPU of each OS thread. --binary: run a compiled binary
 * instead of src/main.ts (its function names are minified).
 *
 * The profiles (JSON) stay in --out (default .cache/profile/<time>). Runs from source (src/main.ts), so the names
 * in the profiles are processor's own; the compiled binary runs the same code.
 */
import { mkdirSync, readdirSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { BenchKafka } from "./lib/kafka.ts";
import { loadSeedRecords } from "./lib/loader.ts";

const ROOT = resolve(import.meta.dir, "../..");
const { values, positionals } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    count: { type: "string", default: "300000" },
    out: { type: "string" },
    brokers: { type: "string", default: "127.0.0.1:9092" },
    keep: { type: "boolean", default: false },
    top: { type: "string", default: "15" },
    binary: { type: "string" },
    "threads-only": { type: "boolean", default: false },
  },
  allowPositionals: true,
});
const COUNT = Number(values.count);
const brokers = values.brokers.split(",");
const stamp = Date.now().toString(36);
const outDir = resolve(values.out ?? join(ROOT, ".cache/profile", stamp));
mkdirSync(outDir, { recursive: true });

const kafka = new BenchKafka(brokers);
const input = await kafka.createTopic(`profile-${stamp}-in`, 6);
const output = await kafka.createTopic(`profile-${stamp}-out`, 6);
const dlq = await kafka.createTopic(`profile-${stamp}-dlq`, 6);
const group = kafka.group(`profile-${stamp}`);
console.log(`loading ${COUNT} records into ${input}`);
await loadSeedRecords({ brokers, topic: input, runId: stamp, count: COUNT, keys: 10_000 });
const ends = await kafka.endOffsets(input);

const argv = [
  ...(values.binary ? [resolve(values.binary)] : [process.execPath, join(ROOT, "src/main.ts")]),
  "--brokers",
  values.brokers,
  "--input-topics",
  input,
  "--output-topic",
  output,
  "--dlq-topic",
  dlq,
  "--group-id",
  group,
  "--log-level",
  "error",
  ...positionals,
];
const started = performance.now();
const child = Bun.spawn(argv, {
  cwd: ROOT,
  stdout: "inherit",
  stderr: "inherit",
  env: {
    PATH: process.env.PATH ?? "",
    // runtime tuning under test (BUN_JSC_*, BUN_OPTIONS) passes through
    ...Object.fromEntries(
      Object.entries(process.env).filter(
        ([k]) =>
          k.startsWith("BUN_JSC_") ||
          k === "BUN_OPTIONS" ||
          k.startsWith("PROCESSOR_GC_") ||
          k.startsWith("MIMALLOC_") ||
          k === "PROCESSOR_HEAP_BOUND",
      ),
    ),
    ...(values["threads-only"] ? {} : { PROCESSOR_PROFILE_DIR: outDir }),
  },
});
let threads = new Map<string, number>();
let peakRss = 0;
for (;;) {
  await Bun.sleep(200);
  threads = threadCpu(child.pid) ?? threads;
  peakRss = Math.max(peakRss, rssOf(child.pid));
  const committed = await kafka.committed(group, input);
  if (ends.every((end, p) => end === 0 || (committed.get(p) ?? -1) >= end)) break;
  if (child.exitCode !== null) throw new Error(`processor exited early (${child.exitCode})`);
}
const seconds = (performance.now() - started) / 1000;
if (!values["threads-only"]) await Bun.sleep(1_500); // the threads rewrite their profiles every 1 s
child.kill("SIGTERM");
await child.exited;
console.log(
  `drained ${COUNT} records in ${seconds.toFixed(1)} s (process start → all committed), ${(COUNT / seconds).toFixed(0)} records/s, peak RSS ${(peakRss / 2 ** 20).toFixed(0)} MB`,
);
if (!values.keep) console.log(await kafka.cleanup());
await kafka.close();

function rssOf(pid: number): number {
  try {
    const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

/** CPU seconds (user + system) per OS thread name of a process, from /proc. */
function threadCpu(pid: number): Map<string, number> | null {
  const tick = 100; // USER_HZ
  try {
    const result = new Map<string, number>();
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
      // the process's own thread is the main JavaScript thread, whatever the executable is called
      const name = tid === String(pid) ? "main" : stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const cpu = (Number(fields[11]) + Number(fields[12])) / tick;
      result.set(name, (result.get(name) ?? 0) + cpu);
    }
    return result;
  } catch {
    return null;
  }
}

const perRecord = (seconds: number): string => `${((seconds * 1e6) / COUNT).toFixed(2)} µs/record`;
const totalCpu = [...threads.values()].reduce((a, b) => a + b, 0);
console.log(`\n## CPU by OS thread (user+sys, whole run incl. start-up): ${totalCpu.toFixed(2)} s in all, ${perRecord(totalCpu)}`);
for (const [name, cpu] of [...threads].sort((a, b) => b[1] - a[1])) {
  if (cpu > 0.05) console.log(`${cpu.toFixed(2).padStart(8)} s  ${perRecord(cpu).padStart(16)}  ${name}`);
}

interface ThreadProfile {
  thread: string;
  interval: number;
  samples: number;
  self: Record<string, number>;
  total: Record<string, number>;
  stacks: Record<string, number>;
  peakHeap: number;
  heap: number;
}

/**
 * Stages of the data path, per thread kind: a sample counts for the first rule that matches a frame, going from the
 * innermost frame outwards (so a native `subarray` called by the ring decoder counts as ring decoding).
 */
type Rule = readonly [stage: string, matches: (frame: string) => boolean];
const file = (path: string) => (frame: string) => frame.includes(` ${path}`);
const fn = (names: readonly string[], path: string) => (frame: string) =>
  frame.includes(` ${path}`) && names.includes(frame.slice(0, frame.indexOf(" ")));
const STAGES: Record<string, readonly Rule[]> = {
  consumer: [
    ["record → consumer ring (frame encode, ring write)", (f) => file("src/kafka/ring-output.ts")(f) || file("src/threads/")(f)],
    [
      "client: fetch response decode (record batches)",
      (f) => ["records.js", "reader.js", "dynamic-buffer", "fetch-v"].some((x) => f.includes(x)),
    ],
    ["client: message objects (#pushRecords)", file("node_modules/@platformatic/kafka/dist/clients/consumer/messages-stream.js")],
    ["processor consumer loop (ownership, flow control)", file("src/")],
    ["client: fetch requests, network, rest of the client", file("node_modules/")],
  ],
  main: [
    ["handler (seed rule)", file("src/handlers/")],
    [
      "consumer ring → records (decode)",
      (f) =>
        fn(["decodeRecordAt", "readBytes", "decodeName", "decode"], "src/threads/record-codec.ts")(f) ||
        file("src/threads/ring-reader.ts")(f) ||
        file("src/pipeline/input-record.ts")(f),
    ],
    [
      "outputs → producer ring (frame encode, ring write)",
      (f) => file("src/threads/")(f) || fn(["encodeOutput", "encodeFrame", "framed"], "src/pipeline/outbox.ts")(f),
    ],
    ["dead-letter copies", file("src/pipeline/dead-letter.ts")],
    [
      "offset tracking and commits",
      (f) => file("src/offsets/")(f) || file("src/pipeline/commits.ts")(f) || file("src/kafka/commit-floor.ts")(f),
    ],
    ["scheduler (lanes, pool)", file("src/scheduler/")],
    ["acknowledgements (delivered ids)", (f) => fn(["delivered", "onDelivered"], "src/")(f) || file("src/threads/workers.ts")(f)],
    ["pipeline bookkeeping (intake, decisions, outbox)", file("src/pipeline/")],
    ["metrics, logging, supervisor", (f) => file("src/observability/")(f) || file("src/runtime/")(f)],
  ],
  producer: [
    ["producer ring → messages (decode)", (f) => file("src/threads/")(f) || fn(["takeBatch"], "src/kafka/producer-loop.ts")(f)],
    ["client: record batch encode", (f) => f.includes("protocol/records.js") || f.includes("crc32c")],
    ["client: partitioning (murmur2)", (f) => f.includes("murmur2") || f.includes("partitioners")],
    ["client: send path, request encode, network", file("node_modules/")],
    ["processor producer loop", file("src/")],
  ],
};

/** The sampler's own work (reading and writing its samples), kept apart from every thread's stages. */
const PROFILER: Rule = ["the profiler itself", (f) => f.includes("thread-profile.ts") || f.startsWith("samplingProfilerStackTraces ")];

function breakdown(p: ThreadProfile): Array<[string, number]> {
  const rules = [PROFILER, ...(STAGES[p.thread.replace(/-\d+$/, "")] ?? [])];
  const counts = new Map<string, number>();
  for (const [stack, n] of Object.entries(p.stacks ?? {})) {
    const frames = stack.split(" < ");
    let stage = "other (runtime, event loop, native)";
    outer: for (const frame of frames) {
      for (const [name, matches] of rules) {
        if (matches(frame)) {
          stage = name;
          break outer;
        }
      }
    }
    counts.set(stage, (counts.get(stage) ?? 0) + n);
  }
  return [...counts].sort((a, b) => b[1] - a[1]);
}
const TOP = Number(values.top);
for (const file of readdirSync(outDir).filter((f) => f.endsWith(".json"))) {
  const p = JSON.parse(readFileSync(join(outDir, file), "utf8")) as ThreadProfile;
  const busy = p.samples * p.interval;
  const mb = (b: number): string => `${(b / 2 ** 20).toFixed(0)} MB`;
  console.log(
    `\n## ${p.thread}: ${p.samples} samples = ${busy.toFixed(2)} s running JavaScript (${perRecord(busy)}), JS heap peak ${mb(p.peakHeap)}, last ${mb(p.heap)}`,
  );
  const show = (title: string, counts: Record<string, number>): void => {
    console.log(`### ${title}`);
    for (const [name, n] of Object.entries(counts)
      .sort((a, b) => b[1] - a[1])
      .slice(0, TOP)) {
      console.log(`${((100 * n) / p.samples).toFixed(1).padStart(6)}%  ${perRecord(n * p.interval).padStart(16)}  ${name}`);
    }
  };
  console.log("### stages (µs of JavaScript per record)");
  for (const [stage, n] of breakdown(p)) console.log(`${perRecord(n * p.interval).padStart(16)}  ${stage}`);
  const cpu = threads.get(p.thread);
  if (cpu !== undefined)
    console.log(`${perRecord(Math.max(0, cpu - busy)).padStart(16)}  not in JavaScript samples (GC, runtime, waiting on atomics)`);
  show("self", p.self);
  show("inclusive", p.total);
}
console.log(`\nprofiles in ${outDir}`);
