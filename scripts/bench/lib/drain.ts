/**
 * One drain run (T1, T3, T4, and T5 as a by-product): a contender works through a preloaded input until every record
 * is produced and every input offset committed. The group's committed offsets and the output end offsets are polled
 * every POLL_MS; CPU and RSS of the contender's process tree are sampled on the same tick. An exactly-once contender
 * is done when its committed offsets reach the input's end and no transaction is open on its outputs; its outputs are
 * seen (first output) and counted (afterwards, with kcat) read_committed, since transaction markers take offsets.
 */
import { committedRecords } from "./kcat.ts";
import { launchContender, type LaunchOptions } from "./launch.ts";
import { sampleTree } from "./proc.ts";
import { sum } from "../../lib/stats.ts";

const POLL_MS = 200;
const RSS_EVERY_MS = 500;

export interface DrainOptions extends LaunchOptions {
  input: string;
  inputEnds: readonly number[];
  /** records the contender must produce (outputs + dead letters; all of them for a passthrough) */
  expectedOut: number;
  timeoutMs: number;
  recordSize: number;
}

export interface DrainResult {
  contender: string;
  records: number;
  /** ms from process start to the first output record seen */
  firstOutputMs: number | null;
  /** ms from process start to everything produced and committed */
  doneMs: number;
  /** records/s: first output → done (the perf tools: their own figure) */
  rate: number;
  cpuSeconds: number;
  peakRssBytes: number;
  /** [ms since start, RSS bytes] every RSS_EVERY_MS */
  rss: Array<[number, number]>;
  outputs: number;
  dlq: number;
  exitCode: number | null;
  log: string;
  note: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function drain(o: DrainOptions): Promise<DrainResult> {
  const { kafka, contender } = o;
  const records = sum(o.inputEnds);
  const { output, dlq, group, log, run } = await launchContender(o, o.input, { count: records, recordSize: o.recordSize });

  let firstOutputAt: number | null = null;
  let cpu = 0;
  let peakRss = 0;
  const rss: Array<[number, number]> = [];
  let lastRssAt = -Infinity;
  const sample = (now: number): void => {
    const s = sampleTree(run.child.pid);
    if (!s) return;
    cpu = s.cpuSeconds;
    peakRss = Math.max(peakRss, s.rssBytes);
    if (now - lastRssAt >= RSS_EVERY_MS) {
      lastRssAt = now;
      rss.push([now - run.started, s.rssBytes]);
    }
  };

  try {
    if (contender.family === "perf-producer" || contender.family === "perf-consumer") {
      // the broker's ceiling: the tool runs to the end by itself and reports its own rate
      for (;;) {
        sample(performance.now());
        if (run.exitedAt() !== null) break;
        if (performance.now() - run.started > o.timeoutMs) throw new Error(`${o.tag} timed out; log: ${log}`);
        await Promise.race([sleep(POLL_MS), run.exited]);
      }
      const code = await run.exited;
      const usage = run.child.resourceUsage();
      // wait4's rusage covers the tool and the JVM it waited for: the exact total after the last /proc sample
      if (usage) cpu = Math.max(cpu, Number(usage.cpuTime.total) / 1e6);
      const text = await Bun.file(log).text();
      const rate = contender.family === "perf-producer" ? perfProducerRate(text) : perfConsumerRate(text);
      if (code !== 0 || rate === null) throw new Error(`${o.tag} failed (exit ${code}); log: ${log}\n${text.slice(-1500)}`);
      const outEnds = contender.family === "perf-producer" ? await kafka.endOffsets(output) : [records];
      return {
        contender: contender.name,
        records,
        firstOutputMs: null,
        doneMs: (run.exitedAt() ?? performance.now()) - run.started,
        rate: rate.rate,
        cpuSeconds: cpu,
        peakRssBytes: peakRss,
        rss,
        outputs: sum(outEnds),
        dlq: 0,
        exitCode: code,
        log,
        note: rate.note,
      };
    }

    const deadline = run.started + o.timeoutMs;
    // kcat -P keeps the last few dozen lines of a stream in its stdin reader until more input arrives, so a kcat
    // pipe never writes the tail of a finite input: for it, "done" is also output that stopped growing for 3 s
    const tailCanStick = contender.family === "kcat";
    const eos = contender.exactlyOnce === true;
    let lastProduced = -1;
    let lastGrowthAt = run.started;
    for (;;) {
      const tick = performance.now();
      // read before the poll: a contender that ends by itself (the kcat pipe) must get one poll after its exit
      const exitedBefore = run.exitedAt() !== null;
      // exactly-once: `produced` is the outputs' read_committed end offsets, markers included, so it only tells
      // that committed output exists; done is `settled`
      const [committed, produced, settled] = eos
        ? await kafka.transactionsSettled(group, o.input, o.inputEnds, [output, dlq]).then((t) => [t.committed, t.stable, t.done] as const)
        : await Promise.all([kafka.committed(group, o.input), kafka.endOffsets(output), kafka.endOffsets(dlq)]).then(
            ([c, out, d]) => [c, sum(out) + sum(d), false] as const,
          );
      const now = performance.now();
      sample(now);
      if (firstOutputAt === null && produced > 0) firstOutputAt = now;
      if (produced > lastProduced) {
        lastProduced = produced;
        lastGrowthAt = now;
      }
      const allCommitted = o.inputEnds.every((end, p) => end === 0 || (committed.get(p) ?? -1) >= end);
      const stuck = tailCanStick && produced > 0 && now - lastGrowthAt > 3000;
      const progress = (): string =>
        eos
          ? `${sum(committed.values())}/${sum(o.inputEnds)} input offsets committed${allCommitted ? ", a transaction still open" : ""}`
          : `${produced}/${o.expectedOut} produced`;
      if (eos ? settled : allCommitted && (produced >= o.expectedOut || stuck)) {
        const end = eos || produced >= o.expectedOut ? now : lastGrowthAt;
        const doneMs = end - run.started;
        const endedByItself = run.exitedAt() !== null;
        await run.stop();
        // a contender that ended by itself (the kcat pipe at the end of its input) may have gone between samples:
        // wait4's rusage covers it and the children it reaped
        const usage = endedByItself ? run.child.resourceUsage() : undefined;
        if (usage) {
          cpu = Math.max(cpu, Number(usage.cpuTime.total) / 1e6);
          // the largest single process of the tree: a lower bound when no sample caught it alive
          peakRss = Math.max(peakRss, usage.maxRSS);
        }
        const brokers = kafka.brokers.join(",");
        const [outEnd, dlqEnd] = (await Promise.all([kafka.endOffsets(output), kafka.endOffsets(dlq)])).map(sum);
        const [outCount, dlqCount] = eos
          ? await Promise.all([committedRecords(brokers, output), committedRecords(brokers, dlq)])
          : [outEnd, dlqEnd];
        // every committed transaction leaves a marker in each partition it wrote: none at all means no transactions
        const untransactional = eos && outEnd! + dlqEnd! === outCount! + dlqCount!;
        // a tiny input can be done in the very poll that saw its first output: the poll interval is the resolution
        const window = Math.max(POLL_MS, end - (firstOutputAt ?? run.started)) / 1000;
        return {
          contender: contender.name,
          records,
          firstOutputMs: firstOutputAt === null ? null : firstOutputAt - run.started,
          doneMs,
          rate: records / window,
          cpuSeconds: cpu,
          peakRssBytes: peakRss,
          rss,
          outputs: outCount!,
          dlq: dlqCount!,
          exitCode: run.child.exitCode,
          log,
          note: eos
            ? [
                outCount! + dlqCount! < o.expectedOut ? `${o.expectedOut - outCount! - dlqCount!} records missing (read_committed)` : "",
                untransactional ? "NOT TRANSACTIONAL: no transaction markers in the outputs" : "",
              ]
                .filter(Boolean)
                .join("; ")
            : produced < o.expectedOut
              ? `${o.expectedOut - produced} records stuck in the pipe (timed to the last output)`
              : "",
        };
      }
      if (exitedBefore) throw new Error(`${o.tag} exited (code ${run.child.exitCode}) before finishing: ${progress()}; log: ${log}`);
      if (now > deadline)
        throw new Error(`${o.tag} timed out after ${((now - run.started) / 1000).toFixed(0)} s (${progress()}); log: ${log}`);
      await Promise.race([sleep(Math.max(0, POLL_MS - (now - tick))), run.exited]);
    }
  } finally {
    await run.stop(5000);
  }
}

/** "1000000 records sent, 254323.4 records/sec (48.51 MB/sec), 60.1 ms avg latency, …" */
function perfProducerRate(text: string): { rate: number; note: string } | null {
  const m = /(\d+) records sent, ([\d.]+) records\/sec \(([\d.]+) MB\/sec\), ([\d.]+) ms avg latency/.exec(
    text
      .split("\n")
      .filter((l) => l.includes("records sent"))
      .at(-1) ?? "",
  );
  return m ? { rate: Number(m[2]), note: `${m[3]} MB/s, ${m[4]} ms avg latency (tool's own figures)` } : null;
}

/** CSV: start.time, end.time, data.consumed.in.MB, MB.sec, data.consumed.in.nMsg, nMsg.sec, rebalance.time.ms, fetch.time.ms, fetch.MB.sec, fetch.nMsg.sec */
function perfConsumerRate(text: string): { rate: number; note: string } | null {
  const line = text.split("\n").find((l) => /^\d{4}-\d{2}-\d{2} .*,/.test(l));
  const f = line?.split(",").map((s) => s.trim());
  if (!f || f.length < 10) return null;
  return {
    rate: Number(f[9]),
    note: `${f[4]} records; fetch rate ${Number(f[9]).toFixed(0)}/s, with group join ${Number(f[5]).toFixed(0)}/s (tool's own figures)`,
  };
}
