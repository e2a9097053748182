/**
 * Consumer-group churn: one long-lived processor drains the input while other members with the same flags join
 * and leave. churn-c1/c2/c4 (--consumers 1, 2, 4) use graceful events only: six joins, each member leaving with
 * SIGTERM once it has really joined (its consumers logged their partitions) and worked 1–3 s more, two of them
 * overlapping. churn-mixed (--consumers 2) mixes joins and SIGTERM leaves with three SIGKILLs, each followed by a
 * replacement.
 *
 * The input: the first half goes in as fast as the stream producer can, so the long-lived member starts with a backlog
 * to drain (the situation of draining a large input through churn: full fetch rings, large in-flight windows at
 * each rebalance); the other half follows at a steady rate that lasts through the churn, so every event happens while
 * records are flowing whatever the processor's speed (a fast processor drains 300k sooner than six joins can happen:
 * each takes ~5 s or more until the new process holds partitions). The notes give the lag (input end minus
 * committed) at each event.
 */
import { readFileSync } from "node:fs";
import type { ProcessorRun } from "../processes.ts";
import type { ScenarioContext } from "../scenario.ts";
import { sum } from "../../lib/stats.ts";
import { chaosConfig, sleep, waitLandedBeyond, type Scenario } from "./common.ts";

/** --session-timeout in PROCESSOR_ARGS. */
const SESSION_TIMEOUT_MS = 6_000;
const STALL_LIMIT_MS = 10_000;
const GRACEFUL_DUPLICATE_SHARE = 0.001;
/** How long a new member may take to get partitions before the runner goes on without (noted). */
const JOIN_TIMEOUT_MS = 45_000;
/**
 * --shutdown-timeout (30 s) plus the Workers' 10 s close, plus a margin; then SIGKILL. The event stays a graceful
 * leave (its duplicates get no kill bound) and the hang is a problem of the scenario.
 */
const LEAVE_TIMEOUT_MS = 50_000;
const PARTITIONS = 12;

const messages = (quick: boolean) => (quick ? 30_000 : 300_000);
/** Share of the input sent unpaced at the start: the backlog. */
const BURST_SHARE = 0.5;
/**
 * The paced rest of the stream lasts this long: through the steps below. A join takes 5–15 s until the new process
 * holds partitions (start-up and cooperative rebalance rounds on 2 busy cores), plus 1–3 s of work and the leave; a
 * SIGKILL costs the session timeout and a rebalance before its replacement holds partitions.
 */
const tailSeconds = (quick: boolean, mixed: boolean) => (mixed ? 110 : 80) - (quick ? 10 : 0);

interface Step {
  readonly run: (churn: Churn) => Promise<void>;
}

/** The membership actions of a churn scenario, with their bookkeeping (faults, lag at each event, notes). */
class Churn {
  private readonly events: string[] = [];
  private slowestLeaveMs = 0;
  main!: ProcessorRun;

  constructor(
    readonly ctx: ScenarioContext,
    readonly consumers: number,
  ) {}

  /** Lag (input end minus committed, all partitions) at the latest samples. */
  private lag(): number | null {
    const ends = this.ctx.sampler.endSamples.reduce<{ time: number; ends: number[] } | null>(
      (a, b) => (a === null || b.time > a.time ? b : a),
      null,
    );
    const committed = this.ctx.sampler.totals.at(-1);
    if (ends === null || committed === undefined) return null;
    return sum(ends.ends) - committed[1];
  }

  private record(label: string): void {
    const lag = this.lag();
    const seconds = ((Date.now() - this.ctx.startedAt) / 1000).toFixed(1);
    const streamDone = this.ctx.stream.sent() >= this.ctx.config.messages ? ", stream done" : "";
    this.events.push(`+${seconds}s ${label} (lag ${lag === null ? "?" : lag.toLocaleString("en-US")}${streamDone})`);
  }

  /**
   * Waits until every consumer of `run` has logged a non-empty "partitions assigned" (it has really joined and
   * owns partitions). Returns when, or null on timeout or when the process ended.
   */
  async waitJoined(run: ProcessorRun, timeoutMs = JOIN_TIMEOUT_MS): Promise<number | null> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline && run.child.exitCode === null && run.child.signalCode === null) {
      if (assignedConsumers(run.logFile).size >= this.consumers) return Date.now();
      await sleep(100);
    }
    const ended = run.child.exitCode !== null || run.child.signalCode !== null;
    this.ctx.notes.push(
      `process ${run.id}: not every consumer logged a non-empty "partitions assigned" ${ended ? "before the process ended" : `within ${timeoutMs / 1000} s`} (${assignedConsumers(run.logFile).size} of ${this.consumers}); went on without`,
    );
    return null;
  }

  /** Starts the long-lived member and waits until it works; the stall check starts when it has its partitions. */
  async startMain(): Promise<void> {
    this.main = this.ctx.fleet.start();
    this.ctx.stallCheckFrom = (await this.waitJoined(this.main)) ?? Date.now();
    if (!(await waitLandedBeyond(this.ctx, 0, 30_000)))
      this.ctx.notes.push("nothing landed in output or DLQ within 30 s of the first member's start; the churn went on anyway");
  }

  /** A new member joins; returns once it has partitions. */
  async join(): Promise<ProcessorRun> {
    const run = this.ctx.fleet.start();
    const fault = this.ctx.fault(`join of process ${run.id}`, false);
    fault.kind = "join";
    this.record(`join #${run.id}`);
    fault.resumedAt = (await this.waitJoined(run)) ?? Date.now();
    return run;
  }

  /** Lets the members work for 1–3 s. */
  dwell(): Promise<void> {
    return sleep(1_000 + Math.random() * 2_000);
  }

  /** Graceful leave: SIGTERM, wait for the exit (SIGKILL after LEAVE_TIMEOUT_MS: a hung leave, a problem). */
  async leave(run: ProcessorRun): Promise<void> {
    const fault = this.ctx.fault(`SIGTERM of process ${run.id}`, false);
    fault.kind = "leave";
    this.record(`SIGTERM #${run.id}`);
    run.signalled = "SIGTERM";
    run.child.kill("SIGTERM");
    const exited = await Promise.race([run.child.exited.then(() => true), sleep(LEAVE_TIMEOUT_MS).then(() => false)]);
    if (!exited) {
      this.ctx.log(`process ${run.id} still running ${LEAVE_TIMEOUT_MS / 1000} s after SIGTERM: SIGKILL`);
      this.ctx.hungLeaves.push(run.id);
      await this.ctx.fleet.kill(run, "SIGKILL");
    } else {
      this.slowestLeaveMs = Math.max(this.slowestLeaveMs, Date.now() - fault.at);
    }
    if (exited && run.child.exitCode !== 0) {
      this.ctx.notes.push(`process ${run.id} exited with code ${run.child.exitCode} after SIGTERM (see its log)`);
    }
    fault.resumedAt = Date.now();
  }

  /**
   * SIGKILL while it produces, then a replacement (part of the same event). The stall check leaves out the window
   * up to the replacement's join plus the session timeout: the dead member holds its partitions until expelled.
   */
  async kill(run: ProcessorRun): Promise<ProcessorRun> {
    await waitLandedBeyond(this.ctx, await this.ctx.landedCount().catch(() => 0), 10_000);
    const fault = this.ctx.fault(`SIGKILL of process ${run.id}, replaced`, true);
    fault.kind = "kill";
    this.record(`SIGKILL #${run.id}`);
    await this.ctx.fleet.kill(run, "SIGKILL");
    fault.committed = await this.ctx.sampler.sampleNow();
    // in the killed member's slot: exactly-once, its transactional id, which aborts what it left open
    const replacement = this.ctx.fleet.replace(run);
    fault.resumedAt = Date.now();
    const joined = await this.waitJoined(replacement);
    fault.exemptUntil = (joined ?? Date.now()) + SESSION_TIMEOUT_MS;
    this.record(`replacement #${replacement.id} joined`);
    if (run === this.main) this.main = replacement;
    return replacement;
  }

  /**
   * Runs the steps: the first as soon as the long-lived member works (into the backlog), step i not before the paced
   * part of the stream is i/n·75% through (or right after step i-1 when that ran longer).
   */
  async runSteps(steps: readonly Step[]): Promise<void> {
    const { messages, burst = 0 } = this.ctx.config;
    for (let i = 0; i < steps.length; i++) {
      if (i > 0) await this.ctx.waitSent(Math.floor(burst + ((messages - burst) * 0.75 * i) / steps.length));
      await steps[i]!.run(this);
    }
    const { rate } = this.ctx.config;
    const late = this.events.filter((e) => e.includes("stream done")).length;
    const drained = this.events.filter((e) => / \(lag 0[,)]/.test(e)).length;
    this.ctx.notes.push(
      `stream: the first ${burst.toLocaleString("en-US")} records unpaced, the other ${(messages - burst).toLocaleString("en-US")} at ${rate.toLocaleString("en-US")}/s; ${this.events.length - late} of ${this.events.length} events before the stream ended, ${this.events.length - drained} with lag > 0 at the latest sample; slowest SIGTERM to exit: ${(this.slowestLeaveMs / 1000).toFixed(1)} s`,
    );
    this.ctx.notes.push(`events (time since start, lag = input end - committed at the latest sample): ${this.events.join("; ")}`);
  }
}

/** Consumer ids (the `consumer-N` components) whose log has a non-empty "partitions assigned". */
function assignedConsumers(logFile: string): Set<string> {
  const found = new Set<string>();
  let text = "";
  try {
    text = readFileSync(logFile, "utf8");
  } catch {
    return found;
  }
  for (const line of text.split("\n")) {
    if (!line.includes("partitions assigned")) continue;
    try {
      const entry = JSON.parse(line) as { component?: string; partitions?: unknown };
      if (
        typeof entry.partitions === "string"
          ? entry.partitions.length > 0
          : Array.isArray(entry.partitions)
            ? entry.partitions.length > 0
            : Number(entry.partitions) > 0
      )
        found.add(entry.component ?? "?");
    } catch {
      // a line cut while being written
    }
  }
  return found;
}

/** One member joins, works 1–3 s, leaves with SIGTERM. */
const cycle: Step = {
  async run(churn) {
    const run = await churn.join();
    await churn.dwell();
    await churn.leave(run);
  },
};

/** Two extra members overlap: A joins, B joins while A is in, A leaves, B leaves. */
const overlap: Step = {
  async run(churn) {
    const a = await churn.join();
    await churn.dwell();
    const b = await churn.join();
    await churn.dwell();
    await churn.leave(a);
    await churn.dwell();
    await churn.leave(b);
  },
};

function config(quick: boolean, consumers: number, mixed: boolean) {
  const burst = Math.round((messages(quick) * BURST_SHARE) / 500) * 500;
  return chaosConfig(quick, {
    partitions: PARTITIONS,
    messages: messages(quick),
    // a backlog first, then a steady stream that lasts through the churn, so every event lands mid-drain
    burst,
    rate: Math.ceil((messages(quick) - burst) / tailSeconds(quick, mixed)),
    processorArgs: ["--workers", "64", "--consumers", String(consumers), "--producers", "2"],
    drainTimeoutMs: [180_000, 420_000],
    churn: { stallLimitMs: STALL_LIMIT_MS, gracefulDuplicateShare: GRACEFUL_DUPLICATE_SHARE },
  });
}

function gracefulChurn(consumers: number): Scenario {
  return {
    name: `churn-c${consumers}`,
    summary: `one long-lived processor (--workers 64 --consumers ${consumers} --producers 2) drains ${PARTITIONS} partitions while six more members with the same flags join, each leaving with SIGTERM 1–3 s after it got partitions (two of them overlap); graceful events only`,
    config: (quick) => config(quick, consumers, false),
    async body(ctx) {
      const churn = new Churn(ctx, consumers);
      await churn.startMain();
      // six joins: 1, 1, 2 overlapping, 1, 1
      await churn.runSteps([cycle, cycle, overlap, cycle, cycle]);
    },
  };
}

export const churnC1Scenario = gracefulChurn(1);
export const churnC2Scenario = gracefulChurn(2);
export const churnC4Scenario = gracefulChurn(4);

export const churnMixedScenario: Scenario = {
  name: "churn-mixed",
  summary: `processors with --workers 64 --consumers 2 --producers 2 on ${PARTITIONS} partitions: joins and SIGTERM leaves mixed with three SIGKILLs (the long-lived member twice, an extra member once), each followed by a replacement`,
  config: (quick) => config(quick, 2, true),
  async body(ctx) {
    const churn = new Churn(ctx, 2);
    await churn.startMain();
    let b: ProcessorRun | null = null;
    let c: ProcessorRun | null = null;
    let d: ProcessorRun | null = null;
    await churn.runSteps([
      cycle,
      // B joins; the long-lived member is SIGKILLed while B is in, and replaced
      {
        async run(ch) {
          b = await ch.join();
          await ch.dwell();
          await ch.kill(ch.main);
        },
      },
      { run: async (ch) => ch.leave(b!) },
      // C and D overlap; C is SIGKILLed (replaced by C'), D leaves
      {
        async run(ch) {
          c = await ch.join();
          await ch.dwell();
          d = await ch.join();
          await ch.dwell();
          c = await ch.kill(c);
          await ch.dwell();
          await ch.leave(d);
        },
      },
      // the (replaced) long-lived member is SIGKILLed again
      { run: async (ch) => void (await ch.kill(ch.main)) },
      // one more join and leave, then C' leaves
      {
        async run(ch) {
          await cycle.run(ch);
          await ch.leave(c!);
        },
      },
    ]);
  },
};
