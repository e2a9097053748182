/**
 * The contenders of compare.ts and the command line each one runs. Every transforming contender consumes the input
 * in its own consumer group, applies the seed rule, produces to its own output and dead-letter topics and commits
 * only after the produce is acked (at-least-once); it runs until killed unless `exitsByItself`. The exactly-once
 * contenders (`exactlyOnce`) instead commit outputs and input offsets together in Kafka transactions: the harness reads
 * their outputs read_committed and counts them done when the group's committed offsets reach the input's end.
 */
import { join } from "node:path";

export type Family = "processor" | "plain" | "streams" | "kafkajs" | "go" | "kcat" | "perf-producer" | "perf-consumer";

export interface Contender {
  readonly name: string;
  readonly label: string;
  readonly family: Family;
  /** applies the seed rule (kcat and the perf tools do not) */
  readonly transforms: boolean;
  /** extra arguments for the family's command */
  readonly args: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  /** the tests (T1…T4) it takes part in when --contenders does not name it; T5 comes from T1 */
  readonly tests: readonly string[];
  /** transactional (exactly-once): outputs are read read_committed, done = input offsets committed + no open transaction */
  readonly exactlyOnce?: boolean;
  /** the contender's commit interval, for the report */
  readonly commitInterval?: string;
}

export interface Paths {
  root: string;
  binary: string;
  kafkajsBundle: string;
  streamsDir: string;
  goBinary: string;
  /** URL of the OTLP sink compare.ts started (scripts/bench/otlp-sink.ts), when a contender needs one */
  otlpSink?: string;
}

/** Stands in a contender's args for the OTLP sink's URL (see Paths.otlpSink). */
export const OTLP_SINK = "{otlp-sink}";

/** Whether the contender exports spans to the harness's OTLP sink. */
export const needsOtlpSink = (c: Contender): boolean => c.args.includes(OTLP_SINK);

export interface Endpoints {
  brokers: string;
  input: string;
  output: string;
  dlq: string;
  group: string;
  /** records the perf tools write or read */
  count: number;
  recordSize: number;
}

const STREAMS_HEAP = ["-Xms64m", "-Xmx256m"];
export const STREAMS_JVM = `${STREAMS_HEAP.join(" ")} -XX:+UseSerialGC`;

const proc = (name: string, label: string, args: string[], tests = ["T1", "T3"]): Contender => ({
  name,
  label: `processor ${label}`.trim(),
  family: "processor",
  transforms: true,
  args,
  tests,
  commitInterval: "1 s (--commit-interval default)",
});

/** Kafka Streams' processing.guarantee for exactly-once, the 7th argument of bench.SeedStreams. */
export const STREAMS_EOS = "exactly_once_v2";

export const CONTENDERS: readonly Contender[] = [
  {
    name: "perf-producer",
    label: "broker ceiling: kafka-producer-perf-test (write only)",
    family: "perf-producer",
    transforms: false,
    args: [],
    tests: ["T1"],
  },
  {
    name: "perf-consumer",
    label: "broker ceiling: kafka-consumer-perf-test (read only)",
    family: "perf-consumer",
    transforms: false,
    args: [],
    tests: ["T1"],
  },
  {
    name: "kcat",
    label: "kcat -C -G -e | kcat -P (passthrough, no transform)",
    family: "kcat",
    transforms: false,
    args: [],
    tests: ["T1", "T3"],
  },
  {
    name: "streams",
    label: "Kafka Streams (1 stream thread)",
    family: "streams",
    transforms: true,
    args: ["1"],
    tests: ["T1", "T2", "T3"],
    commitInterval: "1 s (commit.interval.ms=1000)",
  },
  {
    name: "streams-eos",
    label: `Kafka Streams ${STREAMS_EOS} (1 stream thread)`,
    family: "streams",
    transforms: true,
    args: ["1", STREAMS_EOS],
    tests: ["T1", "T2"],
    exactlyOnce: true,
    commitInterval: "100 ms (Streams' exactly-once default)",
  },
  {
    name: "streams-t2",
    label: "Kafka Streams (2 stream threads)",
    family: "streams",
    transforms: true,
    args: ["2"],
    tests: [],
    commitInterval: "1 s (commit.interval.ms=1000)",
  },
  {
    name: "go",
    label: "Go processor on franz-go (key lanes, async produce, commit of the acked prefix)",
    family: "go",
    transforms: true,
    args: [],
    tests: ["T1", "T2", "T3"],
    commitInterval: "1 s",
  },
  { name: "kafkajs", label: "KafkaJS eachBatch (Node)", family: "kafkajs", transforms: true, args: [], tests: ["T1", "T2", "T3"] },
  {
    name: "plain",
    label: "plain @platformatic/kafka loop (Bun, 1 thread)",
    family: "plain",
    transforms: true,
    args: [],
    tests: ["T1", "T2", "T3"],
  },
  proc("processor", "(defaults: -c 1 -p 1 -w 16, key)", [], ["T1", "T2", "T3"]),
  {
    ...proc("processor-eos", "--guarantee exactly-once (defaults otherwise)", ["--guarantee", "exactly-once"], ["T1", "T2"]),
    exactlyOnce: true,
    commitInterval: "1 s (--commit-interval default: one transaction per second)",
  },
  {
    ...proc(
      "processor-eos-100ms",
      "--guarantee exactly-once --commit-interval 100ms",
      ["--guarantee", "exactly-once", "--commit-interval", "100ms"],
      [],
    ),
    exactlyOnce: true,
    commitInterval: "100 ms (--commit-interval 100ms, Streams' exactly-once default)",
  },
  proc("processor-batch", "--batch-size 256 (the seed rule's batch form)", ["--batch-size", "256"], ["T1"]),
  proc("processor-otel", "--otel-endpoint <local sink> (a span per record)", ["--otel-endpoint", OTLP_SINK], []),
  proc(
    "processor-otel-10pct",
    "--otel-endpoint <local sink> --otel-sample-ratio 0.1",
    ["--otel-endpoint", OTLP_SINK, "--otel-sample-ratio", "0.1"],
    [],
  ),
  proc("processor-c2-p2-w64", "-c 2 -p 2 -w 64", ["--consumers", "2", "--producers", "2", "--workers", "64"]),
  proc("processor-none-w64", "--ordering none -w 64", ["--ordering", "none", "--workers", "64"]),
  proc("processor-partition-w64", "--ordering partition -w 64", ["--ordering", "partition", "--workers", "64"]),
  {
    name: "processor-slow",
    label: "processor slow handler, key ordering, -w 2048",
    family: "processor",
    transforms: true,
    args: ["--handler", "test/fixtures/slow-handler.ts", "--workers", "2048", "--ordering", "key"],
    env: { SLOW_HANDLER_MS: "20" },
    tests: ["T4"],
  },
  {
    name: "kafkajs-slow",
    label: "KafkaJS slow handler, partition-bound (6 partitions concurrently)",
    family: "kafkajs",
    transforms: true,
    args: ["--slow-ms", "20", "--concurrency", "6", "--chunk", "50"],
    tests: ["T4"],
  },
];

export function contenderByName(name: string): Contender | undefined {
  return CONTENDERS.find((c) => c.name === name);
}

/** Processes a family needs built before it can run. */
export const needsBuild = (family: Family): "binary" | "kafkajs" | "streams" | "go" | null =>
  family === "processor" ? "binary" : family === "kafkajs" ? "kafkajs" : family === "streams" ? "streams" : family === "go" ? "go" : null;

const sh = (s: string): string => `'${s.replaceAll("'", `'\\''`)}'`;

export interface Command {
  argv: string[];
  cwd: string;
  env: Record<string, string>;
}

/** The command line of one contender over one set of topics. */
export function commandOf(c: Contender, e: Endpoints, p: Paths, logLevel: string): Command {
  // only PATH/HOME (+ the contender's own): processor reads settings from the environment (WORKER_POOL, KAFKA_*, …)
  const env: Record<string, string> = { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "/tmp", ...c.env };
  const io = ["--brokers", e.brokers];
  switch (c.family) {
    case "processor": {
      const args = c.args.map((a) => {
        if (a === OTLP_SINK) {
          if (p.otlpSink === undefined) throw new Error(`${c.name} needs the OTLP sink, and none was started`);
          return p.otlpSink;
        }
        return a.startsWith("test/") ? join(p.root, a) : a;
      });
      const hasLog = args.some((a) => a.startsWith("--log-level"));
      return {
        argv: [
          p.binary,
          ...io,
          "--input-topics",
          e.input,
          "--output-topic",
          e.output,
          "--dlq-topic",
          e.dlq,
          "--group-id",
          e.group,
          // the group is unique per run: so is the prefix of the transactional ids
          ...(c.exactlyOnce ? ["--transactional-id", e.group] : []),
          ...(hasLog ? [] : ["--log-level", logLevel]),
          ...args,
        ],
        cwd: p.root,
        env,
      };
    }
    case "plain":
      return {
        argv: [
          process.execPath,
          join(p.root, "scripts/bench/plain-loop.ts"),
          ...io,
          "--input",
          e.input,
          "--output",
          e.output,
          "--dlq",
          e.dlq,
          "--group",
          e.group,
          "--follow",
          ...c.args,
        ],
        cwd: p.root,
        env,
      };
    case "kafkajs":
      return {
        argv: ["node", p.kafkajsBundle, ...io, "--input", e.input, "--output", e.output, "--dlq", e.dlq, "--group", e.group, ...c.args],
        cwd: p.root,
        env,
      };
    case "streams":
      return {
        argv: [
          "java",
          ...STREAMS_JVM.split(" "),
          "-cp",
          `${join(p.streamsDir, "classes")}:${join(p.streamsDir, "libs")}/*`,
          "bench.SeedStreams",
          e.brokers,
          e.input,
          e.output,
          e.dlq,
          e.group,
          ...c.args,
        ],
        cwd: p.root,
        env: { ...env, JAVA_HOME: process.env.JAVA_HOME ?? "" },
      };
    case "go":
      return { argv: [p.goBinary, e.brokers, e.input, e.output, e.dlq, e.group, ...c.args], cwd: p.root, env };
    case "kcat": {
      // passthrough: key TAB value per line (the values are one-line JSON). -G commits with librdkafka's auto-commit
      // (every 1 s here) the offsets of records handed to stdout, not of records the second kcat got acked.
      // -u: unbuffered stdout, or the tail of the stream would wait in a stdio buffer forever.
      // -e: exit at the end of the input. kcat -P (1.7.1) holds the last records it read from a pipe that stays open
      // (85 of 3,000 in a test) and produces them only at EOF, so the pipe has to end for the drain to complete.
      const consume = `kcat -q -u -e -b ${sh(e.brokers)} -G ${sh(e.group)} -X auto.offset.reset=earliest -X auto.commit.interval.ms=1000 -f '%k\\t%s\\n' ${sh(e.input)}`;
      const produce = `kcat -q -b ${sh(e.brokers)} -P -t ${sh(e.output)} -K '\t' -X acks=all -X linger.ms=5`;
      return { argv: ["bash", "-c", `${consume} | ${produce}`], cwd: p.root, env };
    }
    case "perf-producer":
      return {
        argv: [
          "bash",
          join(p.root, "scripts/kafka/perf-producer.sh"),
          "--bootstrap-server",
          e.brokers,
          "--topic",
          e.output,
          "--num-records",
          String(e.count),
          "--record-size",
          String(e.recordSize),
          "--throughput",
          "-1",
          "--command-property",
          "acks=all",
        ],
        cwd: p.root,
        env,
      };
    case "perf-consumer":
      return {
        argv: [
          "bash",
          join(p.root, "scripts/kafka/perf-consumer.sh"),
          "--bootstrap-server",
          e.brokers,
          "--topic",
          e.input,
          "--num-records",
          String(e.count),
          "--group",
          e.group,
          "--timeout",
          "60000",
        ],
        cwd: p.root,
        env,
      };
  }
}
