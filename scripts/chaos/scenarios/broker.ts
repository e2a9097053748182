/** The one-node chaos broker restarted cleanly, then SIGKILLed, while one processor runs on. */
import { signalNode, startBrokers, stopBrokers } from "../brokers.ts";
import { chaosConfig, sleep, startWorking, type Scenario } from "./common.ts";

export const brokerScenario: Scenario = {
  name: "broker",
  summary: "one-node broker stopped cleanly and restarted, later SIGKILLed and restarted; processor left alone",
  config: (quick) => chaosConfig(quick, { messages: [20_000, 200_000], rate: [1_500, 4_000] }),
  async body(ctx) {
    await startWorking(ctx, 0.3);
    const n = ctx.config.messages;
    const clean = ctx.fault("broker stopped (SIGTERM, controlled shutdown) for 3 s", true);
    await stopBrokers("chaos");
    await sleep(3_000);
    await startBrokers("chaos");
    clean.resumedAt = Date.now();
    await ctx.waitSent(n * 0.65);
    const killed = ctx.fault("broker SIGKILLed, restarted after 3 s", true);
    await signalNode("chaos", 1, "SIGKILL");
    await sleep(3_000);
    await startBrokers("chaos");
    killed.resumedAt = Date.now();
  },
};
