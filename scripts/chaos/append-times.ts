import { kcatConsume } from "../lib/kcat.ts";

/**
 * Broker append times of a LogAppendTime topic, read with kcat. @platformatic/kafka reports each record's own
 * (producer) timestamp and ignores the batch's LogAppendTime flag, so it cannot tell when a record landed;
 * librdkafka (kcat) does. Read read_committed (set explicitly, as the reader does): offsets of aborted transactions
 * and commit/abort markers get no time. Returns, per partition, the append time of each offset (NaN where none was read).
 */
export async function appendTimes(brokers: readonly string[], topic: string, ends: readonly number[]): Promise<Map<number, Float64Array>> {
  const result = new Map<number, Float64Array>();
  ends.forEach((end, p) => {
    result.set(p, new Float64Array(end).fill(Number.NaN));
  });
  if (ends.every((e) => e === 0)) return result;
  const text = (await kcatConsume(brokers, topic, ["-X", "isolation.level=read_committed", "-f", "%p %o %T\\n"])).toString();
  for (const line of text.split("\n")) {
    if (line === "") continue;
    const [p, o, t] = line.split(" ").map(Number);
    const times = result.get(p!);
    if (times !== undefined && o! < times.length) times[o!] = t!;
  }
  return result;
}
