/** 3-broker cluster (RF 3, min.insync.replicas 2): SIGKILL of the busiest leader, then a rolling restart. */
import { signalNode, startBrokers } from "../brokers.ts";
import { chaosConfig, sleep, startWorking, type Scenario } from "./common.ts";

export const clusterScenario: Scenario = {
  name: "cluster",
  summary: "3 brokers, RF 3, min ISR 2: SIGKILL of the broker leading the most input partitions, then a rolling restart of all three",
  broker: "cluster",
  config: (quick) =>
    chaosConfig(quick, { replicas: 3, messages: [30_000, 200_000], rate: [1_000, 2_500], drainTimeoutMs: [180_000, 300_000] }),
  async body(ctx) {
    await startWorking(ctx, 0.2);
    const n = ctx.config.messages;
    const leaders = await ctx.admin.leaders(ctx.topics.input);
    const led = new Map<number, number>();
    for (const l of leaders) led.set(l, (led.get(l) ?? 0) + 1);
    const busiest = [...led.entries()].sort((a, b) => b[1] - a[1])[0]![0];
    const kill = ctx.fault(
      `SIGKILL of node ${busiest} (leader of ${led.get(busiest)} of ${leaders.length} input partitions), restarted after 10 s`,
      true,
    );
    await signalNode("cluster", busiest, "SIGKILL");
    await sleep(10_000);
    await startBrokers("cluster");
    kill.resumedAt = Date.now();
    await ctx.waitSent(n * 0.5);
    for (const node of [1, 2, 3]) {
      const restart = ctx.fault(`rolling restart: node ${node} (SIGTERM, controlled shutdown)`, true);
      await signalNode("cluster", node, "SIGTERM");
      await startBrokers("cluster");
      restart.resumedAt = Date.now();
      await sleep(5_000);
    }
  },
};
