/**
 * T2, end-to-end latency at fixed input rates. A paced producer (in the harness process) writes valid seed records
 * whose create timestamp is "now" and whose id carries that same time; the contender's output topic uses
 * message.timestamp.type=LogAppendTime, so for each output record latency = its append time − the create time in its
 * id. Every rate runs for `seconds`, after the contender has caught up with the previous one.
 */
import { launchContender, type LaunchOptions } from "./launch.ts";
import { seedClock, seedValue } from "../../lib/seed-data.ts";
import { benchProducer } from "./loader.ts";
import { percentile, sum } from "../../lib/stats.ts";

const TICK_MS = 5;
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
  p50: number;
  p99: number;
  max: number;
}

export interface LatencyResult {
  contender: string;
  rates: RateResult[];
  log: string;
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

export async function latency(o: LatencyOptions): Promise<LatencyResult> {
  const { kafka } = o;
  const input = await kafka.createTopic(`${o.tag}-in`, 6);
  const { output, dlq, log, run } = await launchContender(
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
  const produced = async (): Promise<number> => sum(await kafka.endOffsets(output)) + sum(await kafka.endOffsets(dlq));
  const waitForOutput = async (target: number, ms: number): Promise<void> => {
    const until = performance.now() + ms;
    while ((await produced()) < target) {
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
    await Promise.all(inFlight);
    await producer.close().catch(() => undefined);
    await run.stop(5000);
  }

  const latencies = await readLatencies(kafka.brokers.join(","), output);
  return {
    contender: o.contender.name,
    log,
    rates: phases.map((ph) => {
      const list = (latencies.get(ph.rate) ?? []).sort((a, b) => a - b);
      return {
        rate: ph.rate,
        sent: ph.to - ph.from,
        received: list.length,
        achieved: (ph.to - ph.from) / (ph.ms / 1000),
        p50: percentile(list, 50),
        p99: percentile(list, 99),
        max: list.at(-1) ?? Number.NaN,
      };
    }),
  };
}

/** Latencies (ms) of every measured output record by rate, read with kcat: "<append time> <value>" per line. */
async function readLatencies(brokers: string, topic: string): Promise<Map<number, number[]>> {
  const child = Bun.spawn(["kcat", "-q", "-C", "-b", brokers, "-t", topic, "-o", "beginning", "-e", "-f", "%T %s\\n"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`kcat reading ${topic} failed: ${err.trim()}`);
  const byRate = new Map<number, number[]>();
  const seen = new Set<string>();
  for (const line of text.split("\n")) {
    const m = /^(\d+) .*"id":"r(\d+)-(\d+)-(\d+)"/.exec(line);
    if (!m) continue;
    // at-least-once: a duplicate counts once, with its first append time
    const key = `${m[2]}-${m[4]}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const rate = Number(m[2]);
    const list = byRate.get(rate) ?? [];
    list.push(Number(m[1]) - Number(m[3]));
    byRate.set(rate, list);
  }
  return byRate;
}
