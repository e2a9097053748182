/**
 * What every scenario shares: its own topics and group, the background stream, the commit sampler, the fleet of
 * processor processes, fault bookkeeping, the final drain, the verdict and the clean-up. A scenario only says
 * which faults to inject and when (its `body`).
 */
import { writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { KafkaAdmin } from "../lib/kafka-admin.ts";
import { sum } from "../lib/stats.ts";
import { CommitSampler } from "./commit-sampler.ts";
import { ProcessorFleet, type UnexpectedExit } from "./processes.ts";
import { readTopic, type TopicRecord } from "./reader.ts";
import { startStream, type StreamHandle } from "./stream-producer.ts";
import { LandingIndex, landings, verify, type Guarantee, type History, type LandedRecord, type Verdict } from "./verifier.ts";
import { attributeDuplicates, findStalls, snapshots, type EventKind, type Stall } from "./churn-figures.ts";

export interface Fault {
  readonly label: string;
  /** When the fault was injected. */
  readonly at: number;
  /** When it was over (process restarted, broker back, topic re-created). */
  resumedAt: number;
  /** Committed offsets right after the fault, when the runner could read them (exact in-flight window). */
  committed: Map<number, number> | null;
  /** Whether a re-delivery of uncommitted work is expected (process or member gone). */
  readonly redelivers: boolean;
  /**
   * Work a fenced member may still do after it resumes and before it learns it was fenced (records it had
   * already fetched): added to the bound, with the reason in the scenario's notes.
   */
  zombieWindow?: number;
  /** Membership events of the churn scenarios: a member joined, left (SIGTERM) or was SIGKILLed (and replaced). */
  kind?: EventKind;
  /** Until when a stall is expected after this fault (a SIGKILL: its replacement's join + the session timeout). */
  exemptUntil?: number;
}

export interface ScenarioConfig {
  readonly name: string;
  /**
   * The delivery guarantee processor runs with (default at-least-once). exactly-once: every process gets
   * --guarantee exactly-once and a transactional id of its fleet slot, and any duplicate fails the run.
   */
  readonly guarantee?: Guarantee;
  readonly brokers: readonly string[];
  readonly partitions: number;
  readonly replicas: number;
  readonly messages: number;
  readonly rate: number;
  /** Records sent unpaced at the start, before the stream paces to `rate` (default 0). */
  readonly burst?: number;
  readonly brokenEvery: number;
  readonly processorArgs: readonly string[];
  readonly processorEnv?: Record<string, string>;
  readonly topicConfigs?: Record<string, string>;
  readonly drainTimeoutMs: number;
  /** Group-churn figures: stall check, duplicate attribution per membership event, graceful duplicate allowance. */
  readonly churn?: ChurnConfig;
}

export interface ChurnConfig {
  /** A partition with lag whose committed offset stands still longer than this (kill windows left out) fails the scenario. */
  readonly stallLimitMs: number;
  /** Duplicates allowed for graceful events (joins, SIGTERM leaves), as a share of the records sent; added to the bound. */
  readonly gracefulDuplicateShare: number;
}

export interface ChurnFigures {
  readonly joins: number;
  readonly leaves: number;
  readonly kills: number;
  /** Records: gracefulDuplicateShare of the records sent (part of duplicateBound). */
  readonly gracefulAllowance: number;
  /** The kill windows' part of duplicateBound. */
  readonly killBound: number;
  /** Duplicates charged to the latest membership event before they landed. */
  readonly duplicatesAfter: { readonly before: number; readonly join: number; readonly leave: number; readonly kill: number };
  readonly stallLimitMs: number;
  readonly longestStall: Stall | null;
  /** The longest stall with the kill windows left out: what the limit applies to. */
  readonly longestCountedStall: Stall | null;
  readonly stallExceeded: boolean;
  /** Kill windows left out of the stall check: [from, to] ms since the epoch. */
  readonly exemptWindows: ReadonlyArray<readonly [number, number]>;
  /** When the scenario started (ms since the epoch), to show stall times relative to it. */
  readonly startedAt: number;
  /** Processes that had not exited LEAVE timeout after SIGTERM and were SIGKILLed: a failed graceful leave. */
  readonly hungLeaves: readonly number[];
}

export interface Topics {
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
}

export class ScenarioContext {
  readonly faults: Fault[] = [];
  readonly notes: string[] = [];
  /** Output records read before a deliberate topic deletion (the verifier must still count them). */
  readonly savedOutputs: TopicRecord[] = [];
  /** Churn scenarios: ids of processes SIGKILLed because a SIGTERM did not end them in time. */
  readonly hungLeaves: number[] = [];
  stream!: StreamHandle;
  readonly startedAt = Date.now();
  /** Churn scenarios: when the first member had its partitions (the stall check starts then at the latest). */
  stallCheckFrom: number | undefined;

  constructor(
    readonly config: ScenarioConfig,
    readonly topics: Topics,
    readonly groupId: string,
    readonly admin: KafkaAdmin,
    readonly fleet: ProcessorFleet,
    readonly sampler: CommitSampler,
  ) {}

  /** The delivery guarantee of this run. */
  get guarantee(): Guarantee {
    return this.config.guarantee ?? "at-least-once";
  }

  log(message: string): void {
    const seconds = ((Date.now() - this.startedAt) / 1000).toFixed(1);
    console.log(`[chaos ${this.config.name} ${this.guarantee} +${seconds}s] ${message}`);
  }

  /** Records a fault; the caller sets resumedAt when it is over. */
  fault(label: string, redelivers: boolean): Fault {
    const f: Fault = { label, at: Date.now(), resumedAt: Date.now(), committed: null, redelivers };
    this.faults.push(f);
    this.log(`fault: ${label}`);
    return f;
  }

  /** Waits until the stream has sent `count` records (or has finished). */
  async waitSent(count: number): Promise<void> {
    while (this.stream.sent() < Math.min(count, this.config.messages)) await Bun.sleep(20);
  }

  async landedCount(): Promise<number> {
    const [out, dlq] = await Promise.all([this.admin.endOffsets(this.topics.output), this.admin.endOffsets(this.topics.dlq)]);
    return sum(out) + sum(dlq);
  }
}

export interface ScenarioResult {
  readonly name: string;
  /** The guarantee processor ran with: at-least-once allows duplicates up to duplicateBound, exactly-once none. */
  readonly guarantee: Guarantee;
  readonly verdict: Verdict;
  /** The longest time from the end of a fault to the next commit progress, ms (null: no fault). */
  readonly recoveryMs: number | null;
  /** Sum over faults that re-deliver of records landed but not committed at the fault. */
  readonly duplicateBound: number;
  readonly faults: number;
  readonly processesStarted: number;
  readonly unexpectedExits: readonly UnexpectedExit[];
  readonly drained: boolean;
  readonly notes: readonly string[];
  readonly durationMs: number;
  readonly streamErrors: number;
  readonly commitSamples: number;
  /** Only for the churn scenarios. */
  readonly churn?: ChurnFigures;
}

const unique = (prefix: string) => `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 7)}`;

/**
 * How long the final read waits for open transactions of output and DLQ to end (exactly-once): longer than
 * processor's --transaction-timeout (10 s), after which the broker aborts what a SIGKILLed process left open.
 */
const STABLE_WAIT_MS = 30_000;

/** Where a run's processor logs go: `<scenario>/`, or `<scenario>-exactly-once/` for an exactly-once run. */
export function logDirName(config: Pick<ScenarioConfig, "name" | "guarantee">): string {
  return (config.guarantee ?? "at-least-once") === "at-least-once" ? config.name : `${config.name}-${config.guarantee}`;
}

/** Output and DLQ are stamped by the broker on append: the verifier reads landing times from them. */
export const APPEND_TIME = { "message.timestamp.type": "LogAppendTime" };

export async function runScenario(
  config: ScenarioConfig,
  binary: string,
  logRoot: string,
  body: (ctx: ScenarioContext) => Promise<void>,
  check?: (ctx: ScenarioContext, outputs: readonly TopicRecord[], deadLetters: readonly TopicRecord[]) => void,
): Promise<ScenarioResult> {
  const admin = new KafkaAdmin(config.brokers, "processor-chaos-admin", { timeout: 5000, retries: 1 });
  const output = unique(`chaos-${config.name}-out`);
  const t: Topics = { input: unique(`chaos-${config.name}-in`), output, dlq: `${output}.dlq` };
  const groupId = unique(`chaos-${config.name}-g`);
  const guarantee = config.guarantee ?? "at-least-once";
  // the topics and the group go whatever happens (a scenario that throws, a failed read): the next run starts clean
  try {
    await admin.createTopics([t.input], config.partitions, config.replicas, config.topicConfigs ?? {});
    await admin.createTopics([t.output, t.dlq], config.partitions, config.replicas, { ...APPEND_TIME, ...(config.topicConfigs ?? {}) });
    const txPrefix = guarantee === "exactly-once" ? unique(`chaos-${config.name}-tx`) : undefined;
    return await measure(config, binary, logRoot, body, check, admin, t, groupId, txPrefix);
  } finally {
    await admin.deleteTopics([t.input, t.output, t.dlq]);
    // a SIGKILLed member stays in the group until its session times out (a group with members cannot be deleted)
    await admin.deleteGroup(groupId, 20_000);
    await admin.close();
  }
}

async function measure(
  config: ScenarioConfig,
  binary: string,
  logRoot: string,
  body: (ctx: ScenarioContext) => Promise<void>,
  check: ((ctx: ScenarioContext, outputs: readonly TopicRecord[], deadLetters: readonly TopicRecord[]) => void) | undefined,
  admin: KafkaAdmin,
  t: Topics,
  groupId: string,
  transactionalIdPrefix: string | undefined,
): Promise<ScenarioResult> {
  const fleet = new ProcessorFleet(
    binary,
    [
      "--brokers",
      config.brokers.join(","),
      "--input-topics",
      t.input,
      "--output-topic",
      t.output,
      "--dlq-topic",
      t.dlq,
      "--group-id",
      groupId,
      ...config.processorArgs,
    ],
    resolve(logRoot, logDirName(config)),
    {
      ...(config.processorEnv === undefined ? {} : { env: config.processorEnv }),
      ...(transactionalIdPrefix === undefined ? {} : { transactionalIdPrefix }),
    },
  );
  const sampler = new CommitSampler(admin, groupId, t.input);
  sampler.trackEnds = config.churn !== undefined;
  const ctx = new ScenarioContext(config, t, groupId, admin, fleet, sampler);
  const started = Date.now();
  ctx.stream = startStream({
    brokers: config.brokers,
    topic: t.input,
    total: config.messages,
    rate: config.rate,
    keys: 1000,
    runId: unique("id"),
    brokenEvery: config.brokenEvery,
    ...(config.burst === undefined ? {} : { burst: config.burst }),
  });
  sampler.start();
  let drained = false;
  try {
    await body(ctx);
    await ctx.stream.finished;
    if (fleet.live.size === 0) {
      ctx.notes.push("no processor was running after the scenario's faults; one was started to drain");
      fleet.start();
    }
    drained = await drain(ctx);
    if (!drained)
      ctx.notes.push(
        `did not drain within ${Math.round(config.drainTimeoutMs / 1000)} s (committed ${sum((await admin.committed(groupId, t.input).catch(() => new Map<number, number>())).values())} of ${sum(await admin.endOffsets(t.input))})`,
      );
    await fleet.stopAll();
  } finally {
    await ctx.stream.stop();
    await fleet.stopAll(5_000);
    await sampler.stop();
  }
  ctx.log("reading topics");
  if (transactionalIdPrefix !== undefined)
    ctx.notes.push(
      `exactly-once: processes ran with --guarantee exactly-once --transactional-id ${transactionalIdPrefix}-s<slot> (a restart after a SIGKILL reuses its slot); topics read read_committed`,
    );
  const note = (message: string) => void ctx.notes.push(message);
  const [inputs, outputs, deadLetters] = await Promise.all([
    readTopic(config.brokers, t.input, { note }),
    readTopic(config.brokers, t.output, { appendTime: true, stableWaitMs: STABLE_WAIT_MS, note }),
    readTopic(config.brokers, t.dlq, { appendTime: true, stableWaitMs: STABLE_WAIT_MS, note }),
  ]);
  const unstamped = [...outputs, ...deadLetters].filter((r) => Number.isNaN(r.timestamp)).length;
  if (unstamped > 0)
    ctx.notes.push(`${unstamped} output/DLQ records without a readable append time (treated as never landed by the commit check)`);
  const allOutputs = [...ctx.savedOutputs, ...outputs];
  const landed = (r: TopicRecord, partitionShift: number): LandedRecord => ({
    id: r.id,
    partition: r.partition + partitionShift,
    offset: r.offset,
    appendTime: r.timestamp,
  });
  // outputs saved before a topic deletion come first in Kafka's order: give them their own partition numbers
  const shift = config.partitions;
  const history: History = {
    inputs: inputs.map((r) => ({ partition: r.partition, offset: r.offset, key: r.key, id: r.id })),
    outputs: [...ctx.savedOutputs.map((r) => landed(r, 0)), ...outputs.map((r) => landed(r, ctx.savedOutputs.length > 0 ? shift : 0))],
    deadLetters: deadLetters.map((r) => landed(r, 0)),
    commits: sampler.samples,
  };
  const verdict = verify(history);
  check?.(ctx, allOutputs, deadLetters);
  const index = new LandingIndex(history.inputs, landings(history.outputs, history.deadLetters).first);
  const recoveredAt = ctx.faults.map((f) => recoveryTime(f, sampler.totals));
  let duplicateBound = 0;
  ctx.faults.forEach((f, i) => {
    if (!f.redelivers) return;
    // a vanished process: its in-flight window at the moment of death is exact (nobody commits for it after)
    // (landings up to the restart count: produce requests already on the wire at the kill may land a little later)
    if (f.committed !== null) duplicateBound += index.landedButUncommitted(f.resumedAt, f.committed);
    // a broker or topic failure: the re-delivery (a rebalance, a re-fetch from the committed offset) happens
    // some time before commits resume, so take the largest window seen until then
    else duplicateBound += peakInFlight(index, sampler, f.at, Math.min(recoveredAt[i] ?? Date.now(), Date.now()));
    duplicateBound += f.zombieWindow ?? 0;
  });
  const churn =
    config.churn === undefined
      ? undefined
      : churnFigures(ctx, config.churn, sampler, inputs, [...outputs, ...deadLetters], verdict, duplicateBound, started);
  if (churn !== undefined) duplicateBound += churn.gracefulAllowance;
  const result: ScenarioResult = {
    name: config.name,
    guarantee: ctx.guarantee,
    verdict,
    recoveryMs: worstRecovery(ctx.faults, recoveredAt),
    duplicateBound,
    faults: ctx.faults.length,
    processesStarted: fleet.started,
    unexpectedExits: fleet.unexpected,
    drained,
    notes: ctx.notes,
    durationMs: Date.now() - started,
    streamErrors: ctx.stream.errors(),
    commitSamples: sampler.samples.length,
    ...(churn === undefined ? {} : { churn }),
  };
  return result;
}

/** Waits until the group has committed the input topic's end offsets. */
async function drain(ctx: ScenarioContext): Promise<boolean> {
  const deadline = Date.now() + ctx.config.drainTimeoutMs;
  while (Date.now() < deadline) {
    try {
      const ends = await ctx.admin.endOffsets(ctx.topics.input);
      const committed = await ctx.admin.committed(ctx.groupId, ctx.topics.input);
      if (ends.every((e, p) => (committed.get(p) ?? 0) >= e)) return true;
    } catch {
      // broker busy or restarting: try again
    }
    await Bun.sleep(500);
  }
  return false;
}

/**
 * When commits progressed after a fault was over: the first sample after its end whose committed total exceeds
 * every total seen up to its end. null: no progress after it, because nothing was left to commit (the fault came
 * after the group had committed everything) or because commits never resumed, which the drain reports.
 */
export function recoveryTime(f: Fault, totals: ReadonlyArray<readonly [number, number]>): number | null {
  let before = 0;
  for (const [time, total] of totals) if (time <= f.resumedAt) before = Math.max(before, total);
  return totals.find(([time, total]) => time > f.resumedAt && total > before)?.[0] ?? null;
}

function worstRecovery(faults: readonly Fault[], recoveredAt: ReadonlyArray<number | null>): number | null {
  let worst: number | null = null;
  faults.forEach((f, i) => {
    const at = recoveredAt[i];
    if (at === null || at === undefined) return;
    worst = Math.max(worst ?? 0, at - f.resumedAt);
  });
  return worst;
}

/** The largest landed-but-uncommitted window at the fault and at up to 20 commit samples until `until`. */
function peakInFlight(index: LandingIndex, sampler: CommitSampler, from: number, until: number): number {
  const times = [from, ...sampler.totals.map(([t]) => t).filter((t) => t > from && t <= until)];
  const step = Math.max(1, Math.ceil(times.length / 20));
  let peak = 0;
  for (let i = 0; i < times.length; i += step) peak = Math.max(peak, index.landedButUncommitted(times[i]!, sampler.committedAt(times[i]!)));
  const last = times.at(-1)!;
  return Math.max(peak, index.landedButUncommitted(last, sampler.committedAt(last)));
}

function churnFigures(
  ctx: ScenarioContext,
  config: ChurnConfig,
  sampler: CommitSampler,
  inputs: readonly TopicRecord[],
  landed: readonly TopicRecord[],
  verdict: Verdict,
  killBound: number,
  startedAt: number,
): ChurnFigures {
  const events = ctx.faults.filter((f) => f.kind !== undefined);
  const count = (kind: string) => events.filter((f) => f.kind === kind).length;
  const sentTimes = new Map<string, number>();
  for (const r of inputs) if (r.id !== null) sentTimes.set(r.id, (sentTimes.get(r.id) ?? 0) + 1);
  const attribution = attributeDuplicates(
    sentTimes,
    landed.map((r) => ({ id: r.id, time: r.timestamp })),
    events.map((f) => ({ at: f.at, kind: f.kind!, ...(f.exemptUntil === undefined ? {} : { until: f.exemptUntil }) })),
  );
  const exemptWindows = ctx.faults.filter((f) => f.exemptUntil !== undefined).map((f) => [f.at, f.exemptUntil!] as const);
  const commits = snapshots(
    sampler.samples,
    sampler.totals.map(([t]) => t),
  );
  const stalls = findStalls(commits, sampler.endSamples, ctx.config.partitions, exemptWindows, ctx.stallCheckFrom);
  // the raw samples the stall check used, to look at a stall closer than the report does
  writeFileSync(
    resolve(ctx.fleet.logDir, "commit-samples.json"),
    JSON.stringify({
      startedAt,
      stallCheckFrom: ctx.stallCheckFrom ?? null,
      exemptWindows,
      events: events.map((f) => ({ at: f.at, kind: f.kind, label: f.label })),
      commits: commits.map((c) => ({ time: c.time, committed: Object.fromEntries(c.committed) })),
      ends: sampler.endSamples,
    }),
  );
  return {
    joins: count("join"),
    leaves: count("leave"),
    kills: count("kill"),
    gracefulAllowance: Math.floor(verdict.sent * config.gracefulDuplicateShare),
    killBound,
    duplicatesAfter: { before: attribution.before, join: attribution.join, leave: attribution.leave, kill: attribution.kill },
    stallLimitMs: config.stallLimitMs,
    longestStall: stalls.longest,
    longestCountedStall: stalls.longestCounted,
    stallExceeded: (stalls.longestCounted?.countedMs ?? 0) > config.stallLimitMs,
    exemptWindows,
    startedAt,
    hungLeaves: ctx.hungLeaves,
  };
}
