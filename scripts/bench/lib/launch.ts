/** Starting one contender for one test (T1–T4) on its own output and dead-letter topics and its own group. */
import { join } from "node:path";
import { commandOf, type Contender, type Paths } from "./contenders.ts";
import type { BenchKafka } from "./kafka.ts";
import { start, type Running } from "./spawn.ts";

/** What every test needs to run a contender. */
export interface LaunchOptions {
  kafka: BenchKafka;
  contender: Contender;
  paths: Paths;
  /** names its topics, group and log */
  tag: string;
  logDir: string;
  logLevel: string;
}

export interface Launched {
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
  /** the contender's stdout+stderr */
  readonly log: string;
  readonly run: Running;
}

/**
 * Creates `<tag>-out` (6 partitions, `outputConfigs`), `<tag>-out.dlq` (1 partition) and the group `<tag>` (all
 * deleted by the kafka's cleanup()), then starts the contender on `input`. `count` and `recordSize` are for the perf
 * tools.
 */
export async function launchContender(
  o: LaunchOptions,
  input: string,
  perf: { count: number; recordSize: number },
  outputConfigs: Record<string, string> = {},
): Promise<Launched> {
  const { kafka } = o;
  const output = await kafka.createTopic(`${o.tag}-out`, 6, outputConfigs);
  const dlq = await kafka.createTopic(`${o.tag}-out.dlq`, 1);
  const group = kafka.group(o.tag);
  const log = join(o.logDir, `${o.tag}.log`);
  const run = start(
    commandOf(o.contender, { brokers: kafka.brokers.join(","), input, output, dlq, group, ...perf }, o.paths, o.logLevel),
    log,
  );
  return { output, dlq, group, log, run };
}
