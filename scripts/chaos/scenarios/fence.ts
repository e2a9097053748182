/**
 * A stall the group does notice: a whole process frozen (SIGSTOP) longer than the session timeout while a second
 * process is in the group, so the frozen member is expelled and the other takes its partitions; then it is thawed
 * (SIGCONT) and finds itself fenced. Nothing may be committed under its stale generation: the verifier's commit
 * checks (past unproduced, regressions) and the duplicate count show whether it was.
 */
import { chaosConfig, sleep, waitLandedBeyond, type Scenario } from "./common.ts";

const FREEZE_MS = 15_000;
/**
 * What a thawed member holds and may still process and produce before its first heartbeat tells it that it was
 * fenced: its consumer ring (4 MiB, the default --ring-size) plus one fetch response (2 MiB), in records of at
 * least ~200 bytes as framed. Producers without transactions cannot be fenced, so this work lands as duplicates;
 * the exactly-once mode (transactions) is what removes it.
 */
const ZOMBIE_WINDOW = Math.ceil((6 * 1024 * 1024) / 200);

export const fenceScenario: Scenario = {
  name: "fence",
  summary: `two processes; one frozen (SIGSTOP) for ${FREEZE_MS / 1000} s (session timeout 6 s, rebalance timeout 10 s), the other takes its partitions, then the frozen one is thawed (SIGCONT)`,
  config: (quick) =>
    chaosConfig(quick, { messages: [40_000, 150_000], rate: [1_000, 2_000], processorArgs: ["--rebalance-timeout", "10s"] }),
  async body(ctx, quick) {
    const frozen = ctx.fleet.start();
    ctx.fleet.start();
    await waitLandedBeyond(ctx, 0);
    const rounds = quick ? 1 : 3;
    // exactly-once: the thawed member's transaction cannot commit (its group generation is stale): no window
    const exactlyOnce = ctx.guarantee === "exactly-once";
    if (!exactlyOnce)
      ctx.notes.push(
        `the bound adds ${ZOMBIE_WINDOW.toLocaleString("en-US")} records per thaw: what the frozen member had already fetched (ring + one fetch) and may still produce before it learns it was fenced; a non-transactional producer cannot be fenced`,
      );
    for (let round = 0; round < rounds; round++) {
      await ctx.waitSent((ctx.config.messages * (round + 1)) / (rounds + 2));
      const fault = ctx.fault(`process ${frozen.id} frozen (SIGSTOP) for ${FREEZE_MS / 1000} s, then thawed`, true);
      frozen.child.kill("SIGSTOP");
      await sleep(FREEZE_MS);
      frozen.child.kill("SIGCONT");
      fault.resumedAt = Date.now();
      if (!exactlyOnce) fault.zombieWindow = ZOMBIE_WINDOW;
      await sleep(5_000);
    }
  },
};
