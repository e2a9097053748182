/**
 * Reads a topic from the beginning to the end offsets it has when the read starts, keeping only what the verifier
 * needs per record (partition, offset, key, id, timestamp), so a million-record run fits in memory.
 *
 * Always read_committed (set explicitly, not by relying on the client's default): records of aborted or still open
 * transactions are never counted, so the same reader serves the at-least-once and the exactly-once runs (a topic
 * written without transactions reads the same either way). The end of the read is the last stable offset (a
 * read_committed ListOffsets), after waiting a while for open transactions to end; and the read is over when the
 * consumer's fetch position reaches it, not when a record at end - 1 arrives: the last offsets of a transactional
 * topic are commit/abort markers, which are never delivered.
 */
import { Consumer, FetchIsolationLevels, MessagesStreamModes, type Message } from "@platformatic/kafka";
import { withAdmin, type KafkaAdmin } from "../lib/kafka-admin.ts";
import { appendTimes } from "./append-times.ts";
import { recordId } from "./record-id.ts";

export interface TopicRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  readonly id: string | null;
  /** With `appendTime`: when the broker appended it (LogAppendTime topics); otherwise the record's own timestamp. */
  readonly timestamp: number;
  /** Value of the x-processor-error header (dead-letter records), else null. */
  readonly error: string | null;
}

export interface ReadOptions {
  /** Take each record's broker append time (read with kcat, also read_committed). */
  readonly appendTime?: boolean;
  /**
   * How long to wait for open transactions to end (last stable offset = high watermark) before reading up to the
   * last stable offset anyway (default 0: do not wait). A SIGKILLed transactional producer's transaction stays open
   * until its successor fences it or the transaction times out.
   */
  readonly stableWaitMs?: number;
  /** Told what the read noticed: transactions still open at the read, aborted records the client delivered. */
  readonly note?: (message: string) => void;
  /** Give up when the fetch position has not moved for this long (default 60 s). */
  readonly idleTimeoutMs?: number;
}

/** Per partition: the high watermark and the last stable offset (read_committed end). */
async function listEnds(admin: KafkaAdmin, topic: string): Promise<{ high: number[]; stable: number[] }> {
  const [high, stable] = await Promise.all([admin.endOffsets(topic), admin.endOffsets(topic, "read_committed")]);
  return { high, stable };
}

/** The read_committed end offsets, once no transaction is open or after `waitMs`. */
export async function stableEnds(
  brokers: readonly string[],
  topic: string,
  waitMs = 0,
  note?: (message: string) => void,
): Promise<number[]> {
  return withAdmin(brokers, "processor-chaos-reader", async (admin) => {
    const started = Date.now();
    for (;;) {
      const { high, stable } = await listEnds(admin, topic);
      const open = high.reduce((n, h, p) => n + h - (stable[p] ?? 0), 0);
      if (open === 0) {
        if (Date.now() - started > 1_000)
          note?.(`${topic}: waited ${((Date.now() - started) / 1000).toFixed(1)} s for open transactions to end before reading`);
        return stable;
      }
      if (Date.now() - started >= waitMs) {
        note?.(
          `${topic}: ${open.toLocaleString("en-US")} offsets above the last stable offset (open transactions) ${waitMs > 0 ? `still after ${Math.round(waitMs / 1000)} s` : "at the read"}; read up to the last stable offset`,
        );
        return stable;
      }
      await Bun.sleep(500);
    }
  });
}

export async function readTopic(brokers: readonly string[], topic: string, options: ReadOptions = {}): Promise<TopicRecord[]> {
  const ends = await stableEnds(brokers, topic, options.stableWaitMs ?? 0, options.note);
  const appended = options.appendTime ? await appendTimes(brokers, topic, ends) : null;
  // the highest offset kcat read per partition (-1: none, or no kcat read)
  const kcatUpTo = ends.map((_, p) => {
    const times = appended?.get(p);
    if (times === undefined) return -1;
    let o = times.length - 1;
    while (o >= 0 && Number.isNaN(times[o]!)) o--;
    return o;
  });
  const records: TopicRecord[] = [];
  if (ends.every((e) => e === 0)) return records;
  const groupId = `chaos-reader-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
  const consumer = new Consumer({
    clientId: "processor-chaos-reader",
    groupId,
    bootstrapBrokers: [...brokers],
    autocommit: false,
    maxWaitTime: 200,
    maxBytes: 8 * 1024 * 1024,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  const stream = await consumer.consume({
    topics: [topic],
    mode: MessagesStreamModes.EARLIEST,
    isolationLevel: FetchIsolationLevels.READ_COMMITTED,
  });
  // the consumer's next fetch offset per partition: it moves past control batches (commit/abort markers) too. It
  // moves when a fetch response is parsed, in the same synchronous step that pushes the response's records into the
  // stream's buffer: the read is over once it reached the end offsets and the buffer is empty (every record emitted)
  const position = (p: number) => Number(stream.offsetsToFetch.get(`${topic}:${p}`) ?? 0);
  // (checked from a timer only: a 'data' handler runs inside that step, before the rest of the response is pushed)
  const next = ends.map(() => 0);
  const delivered = () => next.every((n, p) => n >= (ends[p] ?? 0));
  const done = () => delivered() || (stream.readableLength === 0 && ends.every((e, p) => e === 0 || position(p) >= e));
  let leaked = 0;
  try {
    await new Promise<void>((resolvePromise, reject) => {
      let last = ends.map(() => -1);
      let lastMove = Date.now();
      const idleMs = options.idleTimeoutMs ?? 60_000;
      const finish = (error?: Error) => {
        clearInterval(timer);
        stream.removeListener("data", onData);
        stream.removeListener("error", onError);
        if (error === undefined) resolvePromise();
        else reject(error);
      };
      // a fetch that brings only control batches delivers no message: poll the position too
      const timer = setInterval(() => {
        if (done()) return finish();
        const now = ends.map((_, p) => position(p));
        if (now.some((o, p) => o !== last[p])) {
          last = now;
          lastMove = Date.now();
        } else if (Date.now() - lastMove > idleMs)
          finish(
            new Error(
              `reading ${topic}: the fetch position stopped at ${now.join(",")} below the end offsets ${ends.join(",")} for ${idleMs / 1000} s`,
            ),
          );
      }, 50);
      const onError = (error: Error) => finish(error);
      const onData = (message: Message<Buffer, Buffer, Buffer, Buffer>) => {
        const offset = Number(message.offset);
        if (offset >= (ends[message.partition] ?? 0)) return delivered() ? finish() : undefined;
        const landedAt = appended === null ? Number(message.timestamp) : (appended.get(message.partition)?.[offset] ?? Number.NaN);
        // kcat (librdkafka, read_committed) skipped it although it read a later offset of the partition: it belongs
        // to an aborted transaction that this client failed to filter out
        if (Number.isNaN(landedAt) && offset < (kcatUpTo[message.partition] ?? -1)) {
          leaked++;
          return delivered() ? finish() : undefined;
        }
        let error: string | null = null;
        let header: string | null = null;
        for (const [k, v] of message.headerEntries) {
          const name = k.toString();
          if (name === "x-chaos-id") header = v?.toString() ?? null;
          else if (name === "x-processor-error") error = v?.toString() ?? null;
        }
        records.push({
          partition: message.partition,
          offset,
          key: message.key && message.key.length > 0 ? message.key.toString() : null,
          id: recordId(message.value ?? null, header),
          timestamp: landedAt,
          error,
        });
        next[message.partition] = offset + 1;
        if (delivered()) finish();
      };
      stream.on("data", onData);
      stream.on("error", onError);
    });
  } finally {
    await stream.close().catch(() => undefined);
    await consumer.close(true).catch(() => undefined);
    // the reader's own group (no offsets: autocommit is off) would otherwise stay on the broker
    await withAdmin(brokers, "processor-chaos-reader", (admin) => admin.deleteGroup(groupId)).catch(() => undefined);
  }
  if (leaked > 0)
    options.note?.(
      `${topic}: ${leaked.toLocaleString("en-US")} records delivered by @platformatic/kafka (read_committed) that kcat (read_committed) did not see, i.e. of aborted transactions: not counted`,
    );
  return records;
}
