/**
 * A handler that stalls longer than the session timeout. processor's consumer runs in its own Worker thread, so
 * heartbeats may go on during a stall: the scenario reports what the log says about the group (rebalances,
 * fencing), and the verifier checks that nothing was committed past the stalled record and nothing was lost.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { PROCESSOR_ARGS, type Scenario } from "./common.ts";

const fixture = resolve(import.meta.dir, "../fixtures/stall-handler.ts");
const STALL_MS = 60_000;
const HANDLER_TIMEOUT = "15s";

export const stallScenario: Scenario = {
  name: "stall",
  summary: `handler stalls ${STALL_MS / 1000} s on some records (session timeout 6 s); --handler-timeout ${HANDLER_TIMEOUT} ends each stall`,
  broker: "chaos",
  config: (quick) => ({
    partitions: 6,
    replicas: 1,
    messages: quick ? 10_000 : 100_000,
    rate: quick ? 1_000 : 2_500,
    brokenEvery: 50,
    processorArgs: [...PROCESSOR_ARGS, "--handler", fixture, "--handler-timeout", HANDLER_TIMEOUT],
    processorEnv: { STALL_EVERY: quick ? "4000" : "25000", STALL_MS: String(STALL_MS) },
    drainTimeoutMs: quick ? 180_000 : 300_000,
  }),
  async body(ctx) {
    ctx.fleet.start();
    const stallEvery = Number(ctx.config.processorEnv?.STALL_EVERY);
    ctx.notes.push(`stalled records: every ${stallEvery}th id (${Math.floor((ctx.config.messages - 1) / stallEvery)} stalls)`);
  },
  check(ctx) {
    // what the processes said about the group while handlers stalled
    let rebalances = 0;
    let timeouts = 0;
    let fenced = 0;
    for (let id = 0; id < ctx.fleet.started; id++) {
      const log = readFileSync(resolve(ctx.fleet.logDir, `processor-${id}.log`), "utf8");
      for (const line of log.split("\n")) {
        if (line.includes('"msg":"assignment changed"')) rebalances++;
        if (/timed out/i.test(line)) timeouts++;
        if (/fenc|illegal.generation|unknown.member|rebalance.in.progress/i.test(line)) fenced++;
      }
    }
    ctx.notes.push(`log: ${rebalances} "assignment changed" lines (the first is the initial join), ${fenced} lines about fencing/illegal generation/unknown member, ${timeouts} lines mentioning a handler time-out`);
  },
};
