/** Settings every scenario shares, and the shape of a scenario definition. */
import type { ScenarioContext, ScenarioConfig } from "../scenario.ts";
import type { TopicRecord } from "../reader.ts";

/**
 * A short session timeout lets the group notice a SIGKILLed member within seconds instead of the default 30 s;
 * everything else is processor's defaults (commit interval 1 s, 16 workers, key ordering).
 */
export const PROCESSOR_ARGS = ["--log-level", "info", "--session-timeout", "6s", "--heartbeat-interval", "1s"] as const;

export interface Scenario {
  readonly name: string;
  readonly summary: string;
  readonly broker: "chaos" | "cluster";
  config(quick: boolean): Omit<ScenarioConfig, "brokers" | "name">;
  body(ctx: ScenarioContext, quick: boolean): Promise<void>;
  check?(ctx: ScenarioContext, outputs: readonly TopicRecord[], deadLetters: readonly TopicRecord[]): void;
}

export const sleep = (ms: number) => Bun.sleep(ms);

/** Waits until output+DLQ hold more than `than` records (a processor is really working), up to `timeoutMs`. */
export async function waitLandedBeyond(ctx: ScenarioContext, than: number, timeoutMs = 60_000): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if ((await ctx.landedCount().catch(() => 0)) > than) return true;
    await sleep(100);
  }
  return false;
}
