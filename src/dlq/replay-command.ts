/**
 * `processor dlq replay`: re-produces dead-lettered records to a topic, at-least-once. Its consumer group stores
 * how far it got after every acknowledged batch, so an interrupted replay continues where it stopped.
 */
import { compatibilityPartitioner, Producer, type MessageToProduce } from "@platformatic/kafka";
import { baseClientOptions } from "../kafka/client-options.ts";
import type { ClientSettings } from "../threads/messages.ts";
import { readDeadLetter } from "./dead-letter-record.ts";
import { Progress } from "./progress.ts";
import { matches, replayHeaders, type ReplayFilter } from "./replay-filter.ts";
import { GroupPosition, planRead, rangeSize, TopicReader } from "./topic-reader.ts";

export interface ReplayOptions {
  readonly client: ClientSettings;
  readonly from: string;
  readonly to: string;
  readonly filter: ReplayFilter;
  /** Replay at most this many records. */
  readonly limit?: number;
  readonly dryRun: boolean;
  /** The group that stores the replay's position. */
  readonly groupId: string;
  /** Set to stop after the current batch (a signal). */
  readonly stopRequested: () => boolean;
}

export interface ReplayReport {
  /** Dead-letter records looked at in this run. */
  readonly read: number;
  readonly replayed: number;
  readonly notMatching: number;
  /** Stubs (the value was left out of the dead-letter copy): cannot be replayed. */
  readonly stubs: number;
  /** Where a next run starts, per partition (committed offsets; unchanged in a dry run). */
  readonly resumeAt: readonly number[];
  readonly stoppedBy: "end" | "limit" | "signal";
}

const BATCH_RECORDS = 500;
const BATCH_MS = 200;

export async function runReplay(options: ReplayOptions, onBatch?: (report: ReplayReport) => void): Promise<ReplayReport> {
  const { client, from, to, filter, dryRun } = options;
  const range = await planRead(client, from, options.groupId);
  const resumeAt = [...range.start];
  const reader = new TopicReader(client, from, range);
  // a dry run leaves the replay's position where it is
  const position = dryRun ? null : new GroupPosition(client, options.groupId, from);
  const producer = dryRun
    ? null
    : new Producer<Buffer, Buffer, Buffer, Buffer>({
        ...baseClientOptions(client, "dlq-replay"),
        idempotent: true,
        partitioner: compatibilityPartitioner,
      });
  const progress = new Progress(`${dryRun ? "checking" : "replaying"} ${from} → ${to}`, rangeSize(range));
  let read = 0;
  let replayed = 0;
  let notMatching = 0;
  let stubs = 0;
  let stoppedBy: ReplayReport["stoppedBy"] = "end";
  let pending: MessageToProduce<Buffer, Buffer, Buffer, Buffer>[] = [];
  let pendingOffsets = new Map<number, number>();
  let lastFlush = performance.now();
  const report = (): ReplayReport => ({ read, replayed, notMatching, stubs, resumeAt: [...resumeAt], stoppedBy });

  const flush = async () => {
    lastFlush = performance.now();
    if (producer !== null) {
      // the client retries with backoff; what still fails stops the replay before anything past it is committed
      if (pending.length > 0) await producer.send({ messages: pending });
      await position?.store(pendingOffsets);
    }
    for (const [partition, offset] of pendingOffsets) resumeAt[partition] = dryRun ? (range.start[partition] ?? 0) : offset;
    pending = [];
    pendingOffsets = new Map();
    onBatch?.(report());
  };

  try {
    for await (const message of reader.records()) {
      const record = readDeadLetter(message);
      read++;
      if (!matches(filter, record)) notMatching++;
      else if (record.truncated) stubs++;
      else {
        replayed++;
        pending.push({
          topic: to,
          key: record.key ?? undefined,
          value: record.value as Buffer,
          headers: new Map(replayHeaders(record, from).map(([name, value]) => [name, value as Buffer])),
        });
      }
      pendingOffsets.set(record.partition, record.offset + 1);
      progress.update(read, `${replayed.toLocaleString("en-US")} replayed`);
      if (pending.length >= BATCH_RECORDS || performance.now() - lastFlush >= BATCH_MS) await flush();
      if (options.stopRequested()) {
        stoppedBy = "signal";
        break;
      }
      if (options.limit !== undefined && replayed >= options.limit) {
        stoppedBy = "limit";
        break;
      }
    }
    await flush();
  } finally {
    progress.done();
    await reader.close();
    await producer?.close().catch(() => undefined);
    await position?.close();
  }
  return report();
}
