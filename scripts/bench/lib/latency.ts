/**
 * T2, end-to-end latency at fixed input rates. A paced producer (in the harness process) writes valid seed records
 * whose create timestamp is "now" and whose id carries that same time; the contender's output topic uses
 * message.timestamp.type=LogAppendTime, so for each output record latency = its append time − the create time in its
 * id. Every rate runs for `seconds`, after the contender has caught up with the previous one.
 *
 * An exactly-once contender's output becomes readable (read_committed) only when its transaction commits, well after
 * the append: for it the harness polls the output's read_committed end offsets (last stable offsets) every
 * STABLE_POLL_MS, and latency = the time a poll first showed the record's offset below that end − the create time
 * (the append-time figure is kept as `appendP50`/`appendP99`). Its output is read read_committed, and "caught up" is
 * its committed offsets at the input's end with no transaction open.
 */
import { kcatRead } from "./kcat.ts";
import { launchContender, type LaunchOptions } from "./launch.ts";
import { seedClock, seedValue } from "../../lib/seed-data.ts";
import { benchProducer } from "./loader.ts";
import { percentile, sum } from "../../lib/stats.ts";

const TICK_MS = 5;
const STABLE_POLL_MS = 10;
const KEYS = 10_000;

export interface LatencyOptions extends LaunchOptions {
  rates: readonly number[];
  seconds: number;
}

export interface RateResult {
  rate: number;
  sent: number;
  received: number;
  /** the rate the paced producer actually reached */
  achieved: number;
  /** create → readable: the append time, or for an exactly-once contender the commit seen by a read_committed reader */
  p50: number;
  p99: number;
  max: number;
  /** create → append time (= p50/p99 for at-least-once contenders) */
  appendP50: number;
  appendP99: number;
}

export interface LatencyResult {
  contender: string;
  /** latency measured to the commit (read_committed), not to the append */
  toCommit: boolean;
  /** exactly-once: false when the output holds no transaction markers (it was not written in transactions) */
  transactional?: boolean;
  rates: RateResult[];
  log: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function latency(o: LatencyOptions): Promise<LatencyResult> {
  const { kafka } = o;
  const input = await kafka.createTopic(`${o.tag}-in`, 6);
  const eos = o.contender.exactlyOnce === true;
  const { output, dlq, group, log, run } = await launchContender(
    o,
    input,
    { count: 0, recordSize: 200 },
    { "message.timestamp.type": "LogAppendTime" },
  );
  const producer = benchProducer(kafka.brokers, "processor-bench-paced");
  const keys = Array.from({ length: KEYS }, (_, k) => Buffer.from(`key-${k}`));
  let sent = 0;
  const inFlight = new Set<Promise<void>>();
  let sendError: unknown = null;

  const sendNow = (prefix: string, n: number): void => {
    const now = Date.now();
    const clock = seedClock(now);
    const messages = [];
    for (let j = 0; j < n; j++, sent++) {
      const id = `${prefix}-${now}-${sent}`;
      messages.push({
        topic: input,
        key: keys[sent % KEYS]!,
        value: Buffer.from(seedValue(id, "valid", sent, clock)),
        timestamp: BigInt(now),
      });
    }
    const p: Promise<void> = producer.send({ messages }).then(
      () => void inFlight.delete(p),
      (error: unknown) => {
        sendError = error;
        inFlight.delete(p);
      },
    );
    inFlight.add(p);
  };
  // exactly-once: read_committed end offsets, markers included (only "some committed output exists" is meaningful)
  const produced = async (): Promise<number> =>
    eos
      ? sum(await kafka.stableOffsets(output)) + sum(await kafka.stableOffsets(dlq))
      : sum(await kafka.endOffsets(output)) + sum(await kafka.endOffsets(dlq));
  const caughtUp = async (target: number): Promise<boolean> =>
    eos ? (await kafka.transactionsSettled(group, input, await kafka.endOffsets(input), [output, dlq])).done : (await produced()) >= target;
  // exactly-once: per output partition, [read_committed end offset, Date.now() when a poll first showed it]
  const visible: Array<Array<[number, number]>> = [];
  let polling = eos;
  const poller = (async (): Promise<void> => {
    if (!eos) return;
    for (let last = !polling; ; last = !polling) {
      const offsets = await kafka.stableOffsets(output).catch(() => null);
      const now = Date.now();
      offsets?.forEach((end, p) => {
        const list = (visible[p] ??= []);
        if (end > (list.at(-1)?.[0] ?? 0)) list.push([end, now]);
      });
      if (last) break; // one more poll after the end: the last commit
      await sleep(STABLE_POLL_MS);
    }
  })();
  const waitForOutput = async (target: number, ms: number): Promise<void> => {
    const until = performance.now() + ms;
    while (!(await caughtUp(target))) {
      if (run.exitedAt() !== null) throw new Error(`${o.tag} exited (code ${run.child.exitCode}); log: ${log}`);
      if (performance.now() > until)
        throw new Error(`${o.tag}: only ${await produced()}/${target} outputs after ${ms / 1000} s; log: ${log}`);
      await sleep(200);
    }
  };

  const phases: Array<{ rate: number; from: number; to: number; ms: number }> = [];
  try {
    // warm-up: a trickle until the first output shows the contender has joined its group and is processing
    const warmUntil = performance.now() + 90_000;
    while ((await produced()) === 0) {
      if (performance.now() > warmUntil || run.exitedAt() !== null)
        throw new Error(`${o.tag} produced nothing during warm-up; log: ${log}`);
      sendNow("warm", 1);
      await sleep(100);
    }
    // then 2 s at a low rate so lazily initialised paths (producer connections to every partition leader) are warm
    for (let t = 0; t < 20; t++) {
      sendNow("warm", 5);
      await sleep(100);
    }
    await waitForOutput(sent, 30_000);

    for (const rate of o.rates) {
      const from = sent;
      const began = performance.now();
      let due = 0;
      while (performance.now() - began < o.seconds * 1000) {
        if (sendError !== null) throw sendError;
        const target = Math.floor(((performance.now() - began) / 1000) * rate);
        if (target > due) {
          sendNow(`r${rate}`, target - due);
          due = target;
        }
        await sleep(TICK_MS);
      }
      await Promise.all(inFlight);
      phases.push({ rate, from, to: sent, ms: performance.now() - began });
      await waitForOutput(sent, 60_000);
    }
  } finally {
    polling = false;
    await poller;
    await Promise.all(inFlight);
    await producer.close().catch(() => undefined);
    await run.stop(5000);
  }

  const { byRate: latencies, records } = await readLatencies(kafka.brokers.join(","), output, eos ? visible : null);
  // every committed transaction leaves a marker in each partition it wrote: none at all means no transactions
  const transactional = eos ? sum(await kafka.endOffsets(output)) > records : undefined;
  return {
    contender: o.contender.name,
    toCommit: eos,
    ...(transactional !== undefined && { transactional }),
    log,
    rates: phases.map((ph) => {
      const got = latencies.get(ph.rate) ?? { readable: [], append: [] };
      const list = got.readable.sort((a, b) => a - b);
      const append = got.append.sort((a, b) => a - b);
      return {
        rate: ph.rate,
        sent: ph.to - ph.from,
        received: list.length,
        achieved: (ph.to - ph.from) / (ph.ms / 1000),
        p50: percentile(list, 50),
        p99: percentile(list, 99),
        max: list.at(-1) ?? Number.NaN,
        appendP50: percentile(append, 50),
        appendP99: percentile(append, 99),
      };
    }),
  };
}

/**
 * Latencies (ms) of every measured output record by rate, read with kcat: "<append time> <partition> <offset> <value>"
 * per line. `visible` (exactly-once): read read_committed, and "readable" is when a poll first showed the record's
 * offset below its partition's read_committed end; otherwise readable = appended.
 */
async function readLatencies(
  brokers: string,
  topic: string,
  visible: ReadonlyArray<ReadonlyArray<[number, number]>> | null,
): Promise<{ byRate: Map<number, { readable: number[]; append: number[] }>; records: number }> {
  const text = await kcatRead(brokers, topic, "%T %p %o %s\\n", visible !== null);
  const byRate = new Map<number, { readable: number[]; append: number[] }>();
  const seen = new Set<string>();
  let records = 0;
  for (const line of text.split("\n")) {
    if (line !== "") records++;
    const m = /^(\d+) (\d+) (\d+) .*"id":"r(\d+)-(\d+)-(\d+)"/.exec(line);
    if (!m) continue;
    // at-least-once: a duplicate counts once, with its first append time
    const key = `${m[4]}-${m[6]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const rate = Number(m[4]);
    const created = Number(m[5]);
    const appended = Number(m[1]);
    const lists = byRate.get(rate) ?? { readable: [], append: [] };
    lists.append.push(appended - created);
    const readable = visible === null ? appended : visibleAt(visible[Number(m[2])] ?? [], Number(m[3]));
    if (Number.isFinite(readable)) lists.readable.push(readable - created);
    byRate.set(rate, lists);
  }
  return { byRate, records };
}

/** The first polled time at which `offset` was below the read_committed end (NaN when no poll showed it). */
function visibleAt(series: ReadonlyArray<[number, number]>, offset: number): number {
  let lo = 0;
  let hi = series.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (series[mid]![0] > offset) hi = mid;
    else lo = mid + 1;
  }
  return lo < series.length ? series[lo]![1] : Number.NaN;
}
