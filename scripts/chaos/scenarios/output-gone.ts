/**
 * The output topic deleted mid-stream and re-created (auto-creation is off). Deleting a topic also deletes the
 * outputs already in it, which the verifier must still count: so the processor is paused (SIGSTOP, shorter than
 * its session timeout) while the topic is read to its end and deleted, then resumed (SIGCONT) into a world
 * without its output topic. (Freezing writes with min.insync.replicas above the replication factor does not
 * work on Kafka 4.4: an acks=all produce to such a topic still succeeds.)
 */
import { readFileSync } from "node:fs";
import { readTopic } from "../reader.ts";
import { APPEND_TIME } from "../scenario.ts";
import { chaosConfig, sleep, startWorking, type Scenario } from "./common.ts";

const GONE_MS = 10_000;

export const outputGoneScenario: Scenario = {
  name: "output-gone",
  summary: `output topic deleted mid-stream, re-created ${GONE_MS / 1000} s later`,
  config: (quick) => chaosConfig(quick, { messages: [15_000, 100_000], rate: [1_000, 2_500] }),
  async body(ctx) {
    const first = await startWorking(ctx, 0.3);
    const { output } = ctx.topics;
    first.child.kill("SIGSTOP");
    await sleep(1_000); // produce requests already on the wire land or fail
    ctx.savedOutputs.push(
      ...(await readTopic(ctx.config.brokers, output, { appendTime: true, note: (m) => void ctx.notes.push(`before the deletion: ${m}`) })),
    );
    const gone = ctx.fault(
      `output topic deleted (${ctx.savedOutputs.length} outputs read first, processor paused meanwhile), re-created after ${GONE_MS / 1000} s`,
      true,
    );
    await ctx.admin.deleteTopics([output]);
    first.child.kill("SIGCONT");
    const committedAtDelete = await ctx.sampler.sampleNow();
    await sleep(GONE_MS);
    const committedBeforeRecreate = await ctx.sampler.sampleNow();
    const advanced = [...(committedBeforeRecreate ?? new Map<number, number>())].reduce(
      (n, [p, o]) => n + o - (committedAtDelete?.get(p) ?? 0),
      0,
    );
    ctx.notes.push(
      `while the output topic was gone the committed offsets advanced by ${advanced} in all (work produced before the deletion may still be committed; the commit check judges each sample)`,
    );
    ctx.notes.push(
      `first processor ${first.child.exitCode === null ? "was still running" : `had exited with code ${first.child.exitCode}`} when the topic came back`,
    );
    await ctx.admin.createTopics([output], ctx.config.partitions, ctx.config.replicas, APPEND_TIME);
    gone.resumedAt = Date.now();
    const log = readFileSync(first.logFile, "utf8").split("\n");
    const complaints = log.filter((l) => /"level":"(warn|error|fatal)"/.test(l) && !l.includes("dead-letter"));
    const sample = complaints.at(0);
    ctx.notes.push(
      `first processor logged ${complaints.length} warn/error/fatal lines by then${sample === undefined ? "" : `, e.g. ${sample.slice(0, 300)}`}`,
    );
    const last = log.filter((l) => l.startsWith("processor:")).at(-1);
    if (last !== undefined) ctx.notes.push(`its last stderr line: ${last}`);
  },
};
