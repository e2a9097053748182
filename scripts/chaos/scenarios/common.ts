/** Settings every scenario shares, and the shape of a scenario definition. */
import type { ScenarioContext, ScenarioConfig } from "../scenario.ts";
import type { ProcessorRun } from "../processes.ts";
import type { TopicRecord } from "../reader.ts";

/**
 * A short session timeout lets the group notice a SIGKILLed member within seconds instead of the default 30 s;
 * everything else is processor's defaults (commit interval 1 s, 16 workers, key ordering).
 */
export const PROCESSOR_ARGS = ["--log-level", "info", "--session-timeout", "6s", "--heartbeat-interval", "1s"] as const;

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  /** The brokers it runs against: the one-node `chaos` broker (the default) or the 3-node `cluster`. */
  readonly broker?: "chaos" | "cluster";
  config(quick: boolean): ScenarioSettings;
  body(ctx: ScenarioContext, quick: boolean): Promise<void>;
  check?(ctx: ScenarioContext, outputs: readonly TopicRecord[], deadLetters: readonly TopicRecord[]): void;
}

/** The settings most scenarios share: 6 partitions, 1 replica, every 50th record broken, PROCESSOR_ARGS. */
const DEFAULTS = { partitions: 6, replicas: 1, brokenEvery: 50 } as const;

export type ScenarioSettings = Omit<ScenarioConfig, "brokers" | "name">;

/** A number given as its --quick and its full value. */
export type QuickOrFull = number | readonly [quick: number, full: number];

type Own = Partial<Omit<ScenarioSettings, "messages" | "rate" | "drainTimeoutMs">> & {
  readonly messages: QuickOrFull;
  readonly rate: QuickOrFull;
  readonly drainTimeoutMs?: QuickOrFull;
};

/**
 * A scenario's settings from what sets it apart: `processorArgs` go after PROCESSOR_ARGS; the drain time-out is
 * 120 s with --quick, else 300 s, unless given. A [quick, full] pair stands for the value that --quick picks.
 */
export function chaosConfig(quick: boolean, own: Own): ScenarioSettings {
  const pick = (v: QuickOrFull): number => (typeof v === "number" ? v : quick ? v[0] : v[1]);
  const { processorArgs = [], messages, rate, drainTimeoutMs = [120_000, 300_000], ...rest } = own;
  return {
    ...DEFAULTS,
    ...rest,
    messages: pick(messages),
    rate: pick(rate),
    drainTimeoutMs: pick(drainTimeoutMs),
    processorArgs: [...PROCESSOR_ARGS, ...processorArgs],
  };
}

export const sleep = (ms: number) => Bun.sleep(ms);

/**
 * Starts one processor and waits until `sentShare` of the stream has gone out (0: no wait) and the processor has
 * landed something in output or DLQ (it really works), so the fault that follows hits a busy process.
 */
export async function startWorking(ctx: ScenarioContext, sentShare = 0): Promise<ProcessorRun> {
  const run = ctx.fleet.start();
  if (sentShare > 0) await ctx.waitSent(ctx.config.messages * sentShare);
  await waitLandedBeyond(ctx, 0);
  return run;
}

/** Waits until output+DLQ hold more than `than` records (a processor is really working), up to `timeoutMs`. */
export async function waitLandedBeyond(ctx: ScenarioContext, than: number, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await ctx.landedCount().catch(() => 0)) > than) return true;
    await sleep(100);
  }
  return false;
}
