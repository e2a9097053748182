/**
 * `processor dlq stats|replay`: tools for the dead-letter topic. Connection settings (brokers, TLS, SASL, --config
 * file, their env variables) are processor's own options, resolved by the same loader; the subcommands add theirs.
 */
import yargs from "yargs";
import { loadConfig, PROGRAM } from "../config/index.ts";
import { isValidTopicName } from "../config/parse-values.ts";
import { clientSecurity } from "../kafka/client-options.ts";
import { describeError } from "../kafka/errors.ts";
import { checkTopics } from "../kafka/topic-check.ts";
import type { ClientSettings } from "../threads/messages.ts";
import { runReplay, type ReplayReport } from "./replay-command.ts";
import { parseTimeBound, type ReplayFilter } from "./replay-filter.ts";
import { runStats } from "./stats-command.ts";
import { TopicNotFoundError } from "./topic-reader.ts";

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;
const EXIT_INTERRUPTED = 130;

// Stand-ins for the topics a processor run needs and these tools do not: what is derived from them is ignored.
const UNSET_INPUT = "__processor_dlq_tool_input";
const UNSET_OUTPUT = "__processor_dlq_tool_output";

const CONNECTION_HELP = `Connection: every processor option and its env variable applies (--brokers / KAFKA_SERVERS, --tls-*,
--sasl-*, --client-id, --config FILE), and --dlq-topic / --output-topic name the dead-letter topic as
for a run (default <output-topic>.dlq). See processor --help.`;

const HELP = {
  dlq: `Usage: ${PROGRAM} dlq <command> [options]

Tools for the dead-letter topic.

Commands:
  stats    count the dead-letter records by error kind, reason, source and time
  replay   re-produce dead-letter records (their original key, value and headers) to a topic

Run ${PROGRAM} dlq <command> --help for a command's options.`,
  stats: `Usage: ${PROGRAM} dlq stats [--topic DLQ] [--json] [connection options]

Reads the dead-letter topic once (read_committed, up to its end when the read starts) and prints counts by
x-processor-error-kind, by reason (numbers, ids, times and quoted values stripped), by source topic/partition,
and the time range of the failures. A progress line is shown on a terminal.

Options:
  --topic DLQ   the dead-letter topic (default: the configured one, see below)
  --json        print the counts as JSON
  -h, --help    show this help

${CONNECTION_HELP}`,
  replay: `Usage: ${PROGRAM} dlq replay --to TOPIC [--from DLQ] [--reason REGEX] [--since TIME] [--until TIME]
                          [--limit N] [--dry-run] [--group ID] [--json] [connection options]

Re-produces dead-letter records to TOPIC, at-least-once: the original key, value and headers (every
x-processor-* header removed) plus x-processor-replayed-from: <dlq>/<partition>/<offset>. Records are
read in the order they were dead-lettered per partition. After each batch Kafka acknowledged, the
replay's position is stored in a consumer group (committed the way kafka-consumer-groups --reset-offsets
does: no consumer joins it), so a replay that was interrupted (Ctrl-C, a crash) continues where it stopped
when run again, and one that finished starts after what it already replayed. A crash repeats at most the
batch in flight. Run one replay per group at a time. Stubs (dead-letter copies whose value was left out
because it was too large) cannot be replayed: they are counted and skipped.

Options:
  --to TOPIC       where to produce (required; must exist, must not be the dead-letter topic)
  --from DLQ       the dead-letter topic (default: the configured one, see below)
  --reason REGEX   only records whose x-processor-error matches (JavaScript regular expression)
  --since TIME     only records that failed at or after TIME: RFC 3339 (2026-11-30T08:00:00Z), a date, or
                   an age (30m, 6h, 2d)
  --until TIME     only records that failed before TIME (same forms)
  --limit N        replay at most N records, then stop (a next run continues after them)
  --dry-run        count what would be replayed; produce and commit nothing
  --group ID       the group keeping the replay's position (default processor-dlq-replay.<from>.<to>)
  --json           print the outcome as JSON
  -h, --help       show this help

Records that do not match the filters are passed over and the position moves past them too.

${CONNECTION_HELP}`,
} as const;

type Out = { write(text: string): unknown };

interface Io {
  readonly stdout: Out;
  readonly stderr: Out;
}

class UsageError extends Error {}

/** The subcommand's own flags, and everything else (processor's options) left in order for the config loader. */
function splitArgs(args: readonly string[], strings: readonly string[], booleans: readonly string[]) {
  const parsed = yargs([...args])
    .parserConfiguration({
      "unknown-options-as-args": true,
      "duplicate-arguments-array": false,
      "parse-positional-numbers": false,
      "camel-case-expansion": false,
      "strip-aliased": true,
    })
    .help(false)
    .version(false)
    .options({
      ...Object.fromEntries(strings.map((name) => [name, { type: "string" as const }])),
      ...Object.fromEntries(booleans.map((name) => [name, { type: "boolean" as const }])),
      help: { type: "boolean" as const, alias: "h" },
    })
    .parseSync() as Record<string, unknown> & { _: Array<string | number> };
  const flag = (name: string): string | undefined => {
    const value = parsed[name];
    if (value === undefined) return undefined;
    if (typeof value !== "string" || value.trim() === "") throw new UsageError(`--${name} needs a value`);
    return value.trim();
  };
  return { parsed, flag, rest: parsed._.map(String) };
}

/** Processor's options → connection settings, and the dead-letter topic they configure (null: none given). */
function connection(rest: readonly string[], env: Readonly<Record<string, string | undefined>>, version: string) {
  const loaded = loadConfig(rest, env, version, { inputTopics: UNSET_INPUT, outputTopic: UNSET_OUTPUT });
  if (loaded.kind === "exit") return loaded;
  const { config } = loaded;
  const security = clientSecurity(config);
  const client: ClientSettings = {
    brokers: config.brokers,
    clientId: config.clientId,
    logLevel: config.logLevel,
    ...(security && { security }),
  };
  return { kind: "run" as const, client, configuredDlq: config.dlqTopic.startsWith(UNSET_OUTPUT) ? null : config.dlqTopic };
}

function topicOption(value: string | undefined, fallback: string | null, name: string): string {
  const topic = value ?? fallback;
  if (topic === null)
    throw new UsageError(`name the dead-letter topic: ${name} DLQ (or --dlq-topic, --output-topic, or a --config file that sets them)`);
  if (!isValidTopicName(topic)) throw new UsageError(`invalid ${name}: expected a Kafka topic name, got ${JSON.stringify(topic)}`);
  return topic;
}

function describeReplay(report: ReplayReport, from: string, to: string, dryRun: boolean, groupId: string): string {
  const n = (count: number) => count.toLocaleString("en-US");
  const skipped = [
    report.notMatching > 0 ? `${n(report.notMatching)} did not match` : "",
    report.stubs > 0
      ? `${n(report.stubs)} stubs skipped (value left out of the dead-letter copy; the original is at its source offset)`
      : "",
  ].filter(Boolean);
  const what = `${n(report.replayed)} record${report.replayed === 1 ? "" : "s"} from ${from} to ${to}`;
  const lines = [
    `${dryRun ? "dry run: would replay" : "replayed"} ${what} (read ${n(report.read)}${skipped.length > 0 ? `: ${skipped.join(", ")}` : ""})`,
  ];
  if (report.stoppedBy === "limit") lines.push("stopped at --limit; the same command continues after the last replayed record");
  if (report.stoppedBy === "signal") lines.push("interrupted; the same command continues where this one stopped");
  lines.push(
    dryRun
      ? `nothing produced or committed; group ${groupId} stays at ${report.resumeAt.map((o, p) => `${p}:${o}`).join(", ")}`
      : `group ${groupId} is at ${report.resumeAt.map((o, p) => `${p}:${o}`).join(", ")}`,
  );
  return `${lines.join("\n")}\n`;
}

async function stats(args: readonly string[], env: Readonly<Record<string, string | undefined>>, version: string, io: Io) {
  const { parsed, flag, rest } = splitArgs(args, ["topic"], ["json"]);
  if (parsed.help === true) {
    io.stdout.write(`${HELP.stats}\n`);
    return EXIT_OK;
  }
  const topicFlag = flag("topic");
  const resolved = connection(rest, env, version);
  if (resolved.kind === "exit") return printLoad(resolved, io);
  const topic = topicOption(topicFlag, resolved.configuredDlq, "--topic");
  await runStats({ client: resolved.client, topic, json: parsed.json === true, out: io.stdout });
  return EXIT_OK;
}

async function replay(args: readonly string[], env: Readonly<Record<string, string | undefined>>, version: string, io: Io) {
  const { parsed, flag, rest } = splitArgs(args, ["to", "from", "reason", "since", "until", "limit", "group"], ["dry-run", "json"]);
  if (parsed.help === true) {
    io.stdout.write(`${HELP.replay}\n`);
    return EXIT_OK;
  }
  const now = Date.now();
  const filter: { -readonly [K in keyof ReplayFilter]: ReplayFilter[K] } = {};
  const reason = flag("reason");
  if (reason !== undefined) {
    try {
      filter.reason = new RegExp(reason);
    } catch (error) {
      throw new UsageError(`invalid --reason: ${(error as Error).message}`);
    }
  }
  for (const name of ["since", "until"] as const) {
    const text = flag(name);
    if (text === undefined) continue;
    const at = parseTimeBound(text, now);
    if (typeof at !== "number") throw new UsageError(`invalid --${name}: ${at.error}`);
    filter[name] = at;
  }
  const limitText = flag("limit");
  const limit = limitText === undefined ? undefined : Number(limitText);
  if (limit !== undefined && (!Number.isInteger(limit) || limit < 1))
    throw new UsageError(`invalid --limit: expected a whole number >= 1, got ${limitText}`);
  const toFlag = flag("to");
  if (toFlag === undefined) throw new UsageError("dlq replay needs --to TOPIC (where to produce the records)");
  const fromFlag = flag("from");
  const groupFlag = flag("group");
  const resolved = connection(rest, env, version);
  if (resolved.kind === "exit") return printLoad(resolved, io);
  const from = topicOption(fromFlag, resolved.configuredDlq, "--from");
  const to = topicOption(toFlag, null, "--to");
  if (to === from) throw new UsageError("--to must differ from --from (replaying a dead-letter topic into itself)");
  const missing = await checkTopics(resolved.client, [to]);
  if (missing !== null) {
    io.stderr.write(`${PROGRAM}: dlq replay: ${missing.message}\n`);
    return EXIT_FAILED;
  }
  const groupId = groupFlag ?? `processor-dlq-replay.${from}.${to}`;
  const dryRun = parsed["dry-run"] === true;

  let signals = 0;
  const onSignal = () => {
    if (++signals > 1) process.exit(EXIT_INTERRUPTED);
    io.stderr.write(`${PROGRAM}: stopping after the current batch (again to stop at once: the batch is replayed again next time)\n`);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  try {
    const report = await runReplay({
      client: resolved.client,
      from,
      to,
      filter,
      ...(limit !== undefined && { limit }),
      dryRun,
      groupId,
      stopRequested: () => signals > 0,
    });
    io.stdout.write(
      parsed.json === true
        ? `${JSON.stringify({ from, to, group: groupId, dryRun, ...report }, null, 2)}\n`
        : describeReplay(report, from, to, dryRun, groupId),
    );
    return report.stoppedBy === "signal" ? EXIT_INTERRUPTED : EXIT_OK;
  } finally {
    process.off("SIGINT", onSignal);
    process.off("SIGTERM", onSignal);
  }
}

function printLoad(loaded: { code: 0 | 2; output: string }, io: Io): number {
  (loaded.code === 0 ? io.stdout : io.stderr).write(`${loaded.output}\n`);
  return loaded.code;
}

/** Runs `processor dlq ...`; `args` are the arguments after `dlq`. Returns the exit code. */
export async function runDlq(
  args: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
  io: Io = { stdout: process.stdout, stderr: process.stderr },
): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === undefined || command === "--help" || command === "-h" || command === "help") {
      (command === undefined ? io.stderr : io.stdout).write(`${HELP.dlq}\n`);
      return command === undefined ? EXIT_USAGE : EXIT_OK;
    }
    if (command === "stats") return await stats(rest, env, version, io);
    if (command === "replay") return await replay(rest, env, version, io);
    throw new UsageError(`unknown dlq command ${JSON.stringify(command)} (expected stats or replay; see ${PROGRAM} dlq --help)`);
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`${PROGRAM}: dlq ${command ?? ""}: ${error.message}\n`.replace("dlq : ", "dlq: "));
      return EXIT_USAGE;
    }
    const message = error instanceof TopicNotFoundError ? error.message : describeError(error);
    io.stderr.write(`${PROGRAM}: dlq ${command}: ${message}\n`);
    return EXIT_FAILED;
  }
}
