/**
 * A stall the group does notice: a whole process frozen (SIGSTOP) longer than the session timeout while a second
 * process is in the group, so the frozen member is expelled and the other takes its partitions; then it is thawed
 * (SIGCONT) and finds itself fenced. Nothing may be committed under its stale generation: the verifier's commit
 * checks (past unproduced, regressions) and the duplicate count show whether it was.
 */
import { PROCESSOR_ARGS, sleep, waitLandedBeyond, type Scenario } from "./common.ts";

const FREEZE_MS = 15_000;

export const fenceScenario: Scenario = {
  name: "fence",
  summary: `two processes; one frozen (SIGSTOP) for ${FREEZE_MS / 1000} s (session timeout 6 s, rebalance timeout 10 s), the other takes its partitions, then the frozen one is thawed (SIGCONT)`,
  broker: "chaos",
  config: (quick) => ({
    partitions: 6,
    replicas: 1,
    messages: quick ? 40_000 : 150_000,
    rate: quick ? 1_000 : 2_000,
    brokenEvery: 50,
    processorArgs: [...PROCESSOR_ARGS, "--rebalance-timeout", "10s"],
    drainTimeoutMs: quick ? 120_000 : 300_000,
  }),
  async body(ctx, quick) {
    const frozen = ctx.fleet.start();
    ctx.fleet.start();
    await waitLandedBeyond(ctx, 0);
    const rounds = quick ? 1 : 3;
    for (let round = 0; round < rounds; round++) {
      await ctx.waitSent((ctx.config.messages * (round + 1)) / (rounds + 2));
      const fault = ctx.fault(`process ${frozen.id} frozen (SIGSTOP) for ${FREEZE_MS / 1000} s, then thawed`, true);
      frozen.child.kill("SIGSTOP");
      await sleep(FREEZE_MS);
      frozen.child.kill("SIGCONT");
      fault.resumedAt = Date.now();
      await sleep(5_000);
    }
  },
};
