/** Rebalance storm: 1 -> 3 -> 1 processes, then random starts and kills (SIGKILL and SIGTERM) of 1-4 processes. */
import type { ProcessorRun } from "../processes.ts";
import { chaosConfig, sleep, startWorking, type Scenario } from "./common.ts";

const stormMs = (quick: boolean) => (quick ? 15_000 : 60_000);

export const stormScenario: Scenario = {
  name: "storm",
  summary: "1 -> 3 -> 1 processes, then random start/SIGKILL/SIGTERM of 1-4 processes every 0-2 s, then one process drains",
  config: (quick) =>
    chaosConfig(quick, {
      messages: [30_000, 200_000],
      // the stream lasts through the whole storm
      rate: Math.ceil((quick ? 30_000 : 200_000) / (stormMs(quick) / 1000 + 25)),
      drainTimeoutMs: [180_000, 300_000],
    }),
  async body(ctx, quick) {
    const active = () => [...ctx.fleet.live].filter((r) => r.signalled === null);
    const stopOne = (run: ProcessorRun, signal: "SIGKILL" | "SIGTERM") => {
      const fault = ctx.fault(`${signal} of process ${run.id} (${active().length} active)`, signal === "SIGKILL");
      // not awaited: a SIGTERMed process drains while the storm goes on
      void ctx.fleet.kill(run, signal);
      fault.resumedAt = Date.now();
    };
    await startWorking(ctx);
    await sleep(3_000);
    ctx.fleet.start();
    ctx.fleet.start();
    await sleep(10_000);
    for (const run of active().slice(1)) stopOne(run, "SIGTERM");
    await sleep(5_000);
    const end = Date.now() + stormMs(quick);
    while (Date.now() < end) {
      await sleep(Math.random() * 2_000);
      const target = 1 + Math.floor(Math.random() * 4);
      while (active().length < target) ctx.fleet.start();
      while (active().length > target) {
        const list = active();
        stopOne(list[Math.floor(Math.random() * list.length)]!, Math.random() < 0.5 ? "SIGKILL" : "SIGTERM");
      }
    }
    // one process drains everything
    for (const run of active().slice(1)) stopOne(run, "SIGTERM");
    if (active().length === 0) ctx.fleet.start();
  },
};
