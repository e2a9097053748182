/** processor SIGKILLed at random moments of the stream and restarted each time. */
import { chaosConfig, waitLandedBeyond, type Scenario } from "./common.ts";

export const killScenario: Scenario = {
  name: "kill",
  summary: "processor SIGKILLed at random moments mid-stream, restarted each time",
  config: (quick) =>
    chaosConfig(quick, {
      messages: [30_000, 1_000_000],
      // slow enough that the stream outlasts the kills (each costs a restart and a session time-out)
      rate: [1_500, 4_000],
      drainTimeoutMs: [120_000, 900_000],
    }),
  async body(ctx, quick) {
    const kills = quick ? 3 : 20;
    const n = ctx.config.messages;
    // random moments, as stream positions between 5% and 95% of the run
    const moments = Array.from({ length: kills }, () => Math.floor(n * (0.05 + 0.9 * Math.random()))).sort((a, b) => a - b);
    let current = ctx.fleet.start();
    for (const moment of moments) {
      await ctx.waitSent(moment);
      // kill only a process that is really producing, so each kill lands inside a live in-flight window
      await waitLandedBeyond(ctx, await ctx.landedCount().catch(() => 0));
      const fault = ctx.fault(`SIGKILL at ${ctx.stream.sent()} sent`, true);
      await ctx.fleet.kill(current, "SIGKILL");
      fault.committed = await ctx.sampler.sampleNow();
      // in the same slot: exactly-once, the same transactional id, which fences the dead one's open transaction
      current = ctx.fleet.replace(current);
      fault.resumedAt = Date.now();
    }
  },
};
