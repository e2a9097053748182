/**
 * A handler that stalls longer than the session timeout. processor's consumer runs in its own Worker thread, so
 * heartbeats may go on during a stall: the scenario reports what the log says about the group (rebalances,
 * fencing), and the verifier checks that nothing was committed past the stalled record and nothing was lost.
 */
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { chaosConfig, type Scenario } from "./common.ts";

const fixture = resolve(import.meta.dir, "../fixtures/stall-handler.ts");
const STALL_MS = 60_000;
const HANDLER_TIMEOUT = "15s";

export const stallScenario: Scenario = {
  name: "stall",
  summary: `handler stalls ${STALL_MS / 1000} s on some records (session timeout 6 s, rebalance timeout 10 s); --handler-timeout ${HANDLER_TIMEOUT} ends each stall`,
  config: (quick) =>
    chaosConfig(quick, {
      messages: [10_000, 100_000],
      rate: [1_000, 2_500],
      // the stall outlasts both the session timeout and the rebalance timeout
      processorArgs: ["--rebalance-timeout", "10s", "--handler", fixture, "--handler-timeout", HANDLER_TIMEOUT],
      processorEnv: { STALL_EVERY: quick ? "4000" : "25000", STALL_MS: String(STALL_MS) },
      drainTimeoutMs: [180_000, 300_000],
    }),
  async body(ctx) {
    ctx.fleet.start();
    const stallEvery = Number(ctx.config.processorEnv?.STALL_EVERY);
    ctx.notes.push(`stalled records: every ${stallEvery}th id (${Math.floor((ctx.config.messages - 1) / stallEvery)} stalls)`);
  },
  check(ctx) {
    // what the processes said about the group while handlers stalled
    let rebalances = 0;
    let fenced = 0;
    let retried = 0;
    for (let id = 0; id < ctx.fleet.started; id++) {
      const log = readFileSync(resolve(ctx.fleet.logDir, `processor-${id}.log`), "utf8");
      let lastRetried = 0;
      for (const line of log.split("\n")) {
        if (line.includes('"msg":"assignment changed"')) rebalances++;
        if (/fenc|illegal.generation|unknown.member|rebalance.in.progress/i.test(line)) fenced++;
        const match = /"retried":(\d+)/.exec(line);
        if (match !== null) lastRetried = Number(match[1]);
      }
      retried += lastRetried;
    }
    ctx.notes.push(
      `processor log: ${rebalances} "assignment changed" line(s) (the first is the initial join), ${fenced} line(s) about fencing, illegal generation or unknown member; ${retried} handler attempt(s) retried (each stall ended by --handler-timeout, then the retry went through)`,
    );
  },
};
