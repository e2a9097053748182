/**
 * The pipeline in exactly-once mode (--guarantee exactly-once), without a broker: transaction boundaries in the
 * producer rings, commits waiting for the group member, abort and replay, refused outputs dead-lettered on the
 * replay, and a retrying record holding back (only) its own partition's release.
 *
 * The rig: a real consumer ring carrying encoded assignment and record frames, a real Pipeline with two
 * producers, and a fake producer reading BOTH producer rings. It acknowledges outputs as it reads them (or
 * refuses those a test picks), models Kafka's transactions (outputs since the last control frame are open; a
 * commit makes them visible, a failed commit or an abort throws them away) and answers every control frame
 * through pipeline.transactionEnded. A transaction holding a refused output fails to commit (the producer's doom).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Pipeline, type PipelineObserver, type PipelineSettings } from "../../src/pipeline/pipeline.ts";
import type { TransactionOutcome } from "../../src/threads/messages.ts";
import { createRing, RingReader, RingWriter, type RingBuffers } from "../../src/threads/byte-ring.ts";
import { decodeRecordAt, RecordEncoder, type DecodedRecord, type WireRecord } from "../../src/threads/record-codec.ts";
import type { AssignmentChange, GroupMember, TransactionControl } from "../../src/threads/messages.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { PermanentError, type Handler, type HandlerResult, type InputRecord } from "../../src/handlers/types.ts";
import { tick, within } from "../support/async.ts";
import { prng } from "../support/random.ts";
import { pipelineSettings } from "../support/pipeline-settings.ts";

const IN = "in";
const DLQ = "out.dlq";
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");
const MEMBER: GroupMember = { groupId: "g", generationId: 1, memberId: "m", groupInstanceId: null, coordinatorId: 1 };

const BASE = pipelineSettings({ concurrency: 8, guarantee: "exactly-once", retries: 0, producers: 2 });

/** The outbox's routing hash (FNV-1a), only to pick two input partitions that go to different producers. */
function producerOf(partition: number, producers = 2): number {
  const text = `${IN}\u0000${partition}`;
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return (hash >>> 0) % producers;
}
const PA = 0;
const PB = [1, 2, 3, 4, 5, 6, 7, 8, 9].find((p) => producerOf(p) !== producerOf(PA)) ?? 1;

function header(frame: DecodedRecord, name: string): string | undefined {
  const found = frame.headers.find(([n]) => fromUtf8.decode(n) === name);
  return found === undefined || found[1] === null ? undefined : fromUtf8.decode(found[1]);
}

/** What an output frame stands for: `<partition>:<offset>:<n>` for the handlers here, `dlq:<p>:<o>:<kind>` for a copy. */
function labelOf(frame: DecodedRecord): string {
  if (frame.topic === DLQ) {
    return `dlq:${header(frame, "x-processor-source-partition")}:${header(frame, "x-processor-source-offset")}:${header(frame, "x-processor-error-kind")}`;
  }
  return frame.value === null ? "<null>" : fromUtf8.decode(frame.value);
}
const partitionOfLabel = (label: string): number => Number(label.startsWith("dlq:") ? label.split(":")[1] : label.split(":")[0]);

/** Outputs per record: one, two for every third offset (a record's outputs are all in or all out). */
const outputsOf = (partition: number, offset: number): string[] =>
  offset % 3 === 0 ? [`${partition}:${offset}:0`, `${partition}:${offset}:1`] : [`${partition}:${offset}:0`];
const handlerResult = (record: InputRecord): HandlerResult => outputsOf(record.partition, record.offset).map((value) => ({ value }));

interface Out {
  readonly ring: number;
  readonly id: number;
  readonly frame: DecodedRecord;
  readonly label: string;
  state: "open" | "delivered" | "rejected";
}

interface Control {
  readonly ring: number;
  readonly ref: number;
  readonly control: TransactionControl;
  /** Outputs in this ring since the previous control frame. */
  readonly before: Out[];
  outcome: TransactionOutcome | null;
}

type RingEvent = { readonly kind: "output"; readonly out: Out } | { readonly kind: "control"; readonly ctl: Control };

const DOOMED: TransactionOutcome = { committed: false, failure: { kind: "transaction", message: "x", retriable: true } };

class Rig {
  readonly pipeline: Pipeline;
  readonly events: RingEvent[][] = [];
  readonly outputs: Out[] = [];
  readonly controls: Control[] = [];
  /** What a read_committed reader of the output topics sees, in ring order per producer. */
  readonly visible: string[][] = [];
  /** The consumers asked to read again (consumer 0 only here), and the round each was asked for. */
  readonly refetches: number[] = [];
  refetchRound: number | null = null;
  readonly fatal: string[] = [];
  readonly halts: string[] = [];
  readonly handled: string[] = [];
  /** Picks outputs the fake producer refuses (the reason), as it reads them. */
  refuse: (out: Out) => string | null = () => null;
  /** How the fake producer answers a commit (default: commits unless the transaction holds a refused output). */
  answerCommit: (ctl: Control) => TransactionOutcome = (ctl) =>
    ctl.before.some((o) => o.state === "rejected") ? DOOMED : { committed: true };
  private readonly open: Out[][] = [];
  private readonly readers: RingReader[];
  private readonly consumer: { ring: RingBuffers; writer: RingWriter };
  private readonly encoder = new RecordEncoder();
  private epoch = 0;
  private ts = 10;
  private pumping = true;
  private readonly pump: Promise<void>;

  constructor(handler: Handler, settings: Partial<PipelineSettings> = {}) {
    const observer: PipelineObserver = {
      handlerSeconds: () => undefined,
      commitSeconds: () => undefined,
      halted: (reason) => this.halts.push(reason),
      fatal: (reason) => this.fatal.push(reason),
      refetch: (owner, round) => {
        this.refetches.push(owner);
        this.refetchRound = round;
      },
      partitionFlow: () => undefined,
    };
    const counting: Handler = (record) => {
      this.handled.push(`${record.partition}@${record.offset}`);
      return handler(record);
    };
    this.pipeline = new Pipeline({ ...BASE, ...settings }, counting, log, observer);
    this.readers = this.pipeline.producerRings.map((ring) => new RingReader(ring));
    for (let i = 0; i < this.readers.length; i++) {
      this.events.push([]);
      this.open.push([]);
      this.visible.push([]);
    }
    const ring = createRing(256 * 1024);
    this.consumer = { ring, writer: new RingWriter(ring) };
    this.pipeline.attachConsumer(0, ring);
    this.pump = this.runPump();
  }

  member(): void {
    this.pipeline.setMember(0, MEMBER, 0);
  }

  /** An assignment frame: consumer 0 owns exactly these partitions (`refetched`: read again for that refetch round). */
  claim(partitions: readonly number[], refetched: number | null = null): Promise<void> {
    const change: AssignmentChange = {
      partitions: partitions.map((partition) => ({ topic: IN, partition })),
      ...(refetched !== null && { refetched }),
    };
    return this.write([
      {
        kind: "assignment",
        ref: ++this.epoch,
        topic: "",
        partition: -1,
        offset: 0,
        timestamp: this.ts++,
        key: null,
        value: utf8.encode(JSON.stringify(change)),
        headers: [],
      },
    ]);
  }

  /** Records `from` until before `to` of a partition; keys `k0`..`k<keys-1>` in turn. */
  send(partition: number, from: number, to: number, keys = 3): Promise<void> {
    const records: WireRecord[] = [];
    for (let offset = from; offset < to; offset++) {
      records.push({
        kind: "record",
        ref: this.epoch,
        topic: IN,
        partition,
        offset,
        timestamp: 1_700_000_000_000 + offset,
        key: utf8.encode(`k${offset % keys}`),
        value: utf8.encode(`v${partition}:${offset}`),
        headers: [["h", utf8.encode("1")]],
      });
    }
    return this.write(records);
  }

  private async write(records: readonly WireRecord[]): Promise<void> {
    const { writer } = this.consumer;
    const writes = records.map((record) => writer.write(this.encoder.encode(record).slice()));
    writer.publish();
    await Promise.all(writes);
    writer.publish();
  }

  commit(): Promise<void> {
    return within(
      this.pipeline.commit(() => undefined),
      2000,
      "commit round",
    );
  }

  commits(): Control[] {
    return this.controls.filter((c) => c.control.type === "commit");
  }

  /** The offset a partition is committed at (the last commit that succeeded), 0 before any. */
  committed(partition: number): number {
    let at = 0;
    for (const ctl of this.commits()) {
      if (ctl.outcome?.committed !== true || ctl.control.type !== "commit") continue;
      for (const group of ctl.control.groups) for (const o of group.offsets) if (o.partition === partition) at = o.offset;
    }
    return at;
  }

  labels(which: (o: Out) => boolean = () => true): string[] {
    return this.outputs.filter(which).map((o) => o.label);
  }

  /** Polls until `condition` holds. */
  async until(condition: () => boolean, what: string, ms = 2000): Promise<void> {
    const deadline = performance.now() + ms;
    for (;;) {
      if (condition()) return;
      if (performance.now() > deadline) {
        throw new Error(
          `${what}: not within ${ms} ms (inFlight ${this.pipeline.inFlight}, outputs ${this.outputs.length}, controls ${this.controls.length}, handled ${this.handled.length}, fatal ${this.fatal.join("; ")})`,
        );
      }
      await tick();
    }
  }

  async idle(turns = 20): Promise<void> {
    for (let i = 0; i < turns; i++) await tick();
  }

  async close(): Promise<void> {
    await this.consumer.writer.close();
    await within(this.pipeline.drained(), 1000, "pipeline drained").catch(() => undefined);
    this.pumping = false;
    await this.pump;
    this.pipeline.closeProducerRings();
  }

  private async runPump(): Promise<void> {
    while (this.pumping) {
      this.read();
      await tick();
    }
  }

  /** The fake producer: reads both rings in order, acknowledging or refusing outputs and ending transactions. */
  private read(): void {
    for (let ring = 0; ring < this.readers.length; ring++) {
      const reader = this.readers[ring]!;
      for (;;) {
        const frames: DecodedRecord[] = [];
        const n = reader.drainBatch(1 << 22, (batch, start) =>
          frames.push(decodeRecordAt(batch, new DataView(batch.buffer, batch.byteOffset, batch.byteLength), start)),
        );
        reader.release();
        for (const frame of frames) this.onFrame(ring, frame);
        if (n === 0) break;
      }
    }
  }

  private onFrame(ring: number, frame: DecodedRecord): void {
    if (frame.kind === "output") {
      const out: Out = { ring, id: frame.ref, frame, label: labelOf(frame), state: "open" };
      this.outputs.push(out);
      this.events[ring]!.push({ kind: "output", out });
      this.open[ring]!.push(out);
      const reason = this.refuse(out);
      if (reason === null) {
        out.state = "delivered";
        this.pipeline.delivered(Uint32Array.of(out.id));
      } else {
        out.state = "rejected";
        this.pipeline.rejected(out.id, reason);
      }
      return;
    }
    expect(frame.kind).toBe("control");
    const control = JSON.parse(fromUtf8.decode(frame.value!)) as TransactionControl;
    const ctl: Control = { ring, ref: frame.ref, control, before: this.open[ring]!.splice(0), outcome: null };
    this.controls.push(ctl);
    this.events[ring]!.push({ kind: "control", ctl });
    if (control.type === "commit") {
      ctl.outcome = this.answerCommit(ctl);
      if (ctl.outcome.committed) this.visible[ring]!.push(...ctl.before.filter((o) => o.state !== "rejected").map((o) => o.label));
    } else {
      ctl.outcome = { committed: true };
    }
    this.pipeline.transactionEnded(ctl.ref, ctl.outcome);
  }
}

let rig: Rig | null = null;
afterEach(async () => {
  await rig?.close();
  rig = null;
});

/**
 * The transaction invariant over everything the fake producer read: the outputs in front of each commit frame
 * (since the previous control frame of its ring) are exactly those of the records from the partition's last
 * committed offset up to the offset this commit names, for every partition it names, and nothing of any other
 * partition. Committed offsets only move forward, every partition's outputs are in one ring, and each commit
 * carries the group member.
 */
function checkTransactions(r: Rig, expected: (partition: number, offset: number, ctl: Control) => string[]): void {
  const committedAt = new Map<number, number>();
  const ringOf = new Map<number, number>();
  for (const out of r.outputs) {
    const partition = partitionOfLabel(out.label);
    const ring = ringOf.get(partition) ?? out.ring;
    if (ring !== out.ring) throw new Error(`partition ${partition}: outputs in rings ${ring} and ${out.ring}`);
    ringOf.set(partition, ring);
  }
  for (const ctl of r.controls) {
    if (ctl.control.type !== "commit") continue;
    const offsets = new Map<number, number>();
    for (const group of ctl.control.groups) {
      expect(group.member).toEqual(MEMBER);
      for (const o of group.offsets) {
        expect(o.topic).toBe(IN);
        offsets.set(o.partition, o.offset);
      }
    }
    const want: string[] = [];
    for (const [partition, offset] of offsets) {
      const from = committedAt.get(partition) ?? 0;
      if (offset <= from) throw new Error(`commit ${ctl.ref} moves partition ${partition} back from ${from} to ${offset}`);
      const ring = ringOf.get(partition);
      if (ring !== undefined && ring !== ctl.ring)
        throw new Error(`partition ${partition} committed by producer ${ctl.ring}, its outputs are in ${ring}`);
      for (let o = from; o < offset; o++) want.push(...expected(partition, o, ctl));
    }
    const got = ctl.before.map((o) => o.label);
    const sort = (list: string[]) => [...list].sort();
    if (JSON.stringify(sort(got)) !== JSON.stringify(sort(want))) {
      throw new Error(
        `commit ${ctl.ref} (producer ${ctl.ring}, ${JSON.stringify([...offsets])}): holds ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`,
      );
    }
    if (ctl.outcome?.committed === true) for (const [partition, offset] of offsets) committedAt.set(partition, offset);
  }
}

/** What read_committed consumers of the output topics saw, over both producers. */
const visible = (r: Rig): string[] => r.visible.flat();
const sorted = (list: readonly string[]): string[] => [...list].sort();
const allOutputs = (partition: number, from: number, to: number): string[] => {
  const list: string[] = [];
  for (let o = from; o < to; o++) list.push(...outputsOf(partition, o));
  return list;
};

/** A handler whose every call waits until the test resolves it (by `<partition>@<offset>`). */
function controlled(): { handler: Handler; pending: Map<string, () => void> } {
  const pending = new Map<string, () => void>();
  const handler: Handler = (record) =>
    new Promise<HandlerResult>((resolve) => pending.set(`${record.partition}@${record.offset}`, () => resolve(handlerResult(record))));
  return { handler, pending };
}

describe("exactly-once: transaction boundaries", () => {
  test("each commit frame closes exactly a prefix of each partition: records finished out of order, commits at arbitrary points", async () => {
    for (const seed of [7, 99, 12345]) {
      const random = prng(seed);
      const { handler, pending } = controlled();
      const r = new Rig(handler);
      rig = r;
      r.member();
      const N = 60;
      await r.claim([PA, PB]);
      await r.send(PA, 0, N, 5);
      await r.send(PB, 0, N, 4);
      let resolved = 0;
      while (resolved < 2 * N) {
        await r.until(() => pending.size > 0, `seed ${seed}: a handler call waiting (${resolved} resolved)`);
        const keys = [...pending.keys()];
        const key = keys[Math.floor(random() * keys.length)]!;
        pending.get(key)!();
        pending.delete(key);
        resolved++;
        await tick();
        if (random() < 0.15) await r.commit();
      }
      await r.until(() => r.pipeline.inFlight === 0, `seed ${seed}: everything released`);
      await r.commit();
      expect(r.fatal).toEqual([]);
      expect(r.commits().length).toBeGreaterThan(2);
      checkTransactions(r, outputsOf);
      expect(r.committed(PA)).toBe(N);
      expect(r.committed(PB)).toBe(N);
      expect(sorted(visible(r))).toEqual(sorted([...allOutputs(PA, 0, N), ...allOutputs(PB, 0, N)]));
      // within one partition, outputs are in offset order in their ring
      for (const partition of [PA, PB]) {
        const order = r.labels((o) => partitionOfLabel(o.label) === partition).map((l) => Number(l.split(":")[1]));
        expect(order).toEqual([...order].sort((a, b) => a - b));
      }
      expect(r.pipeline.stats.transactionsCommitted).toBe(r.commits().length);
      expect(r.pipeline.stats.transactionsAborted).toBe(0);
      await r.close();
      rig = null;
    }
  });

  test("a commit waits for the group member: none without it, the next round after setMember commits", async () => {
    const r = new Rig(handlerResult);
    rig = r;
    await r.claim([PA, PB]);
    await r.send(PA, 0, 5);
    await r.send(PB, 0, 3);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 5).length + allOutputs(PB, 0, 3).length, "outputs written");
    await r.commit();
    await r.commit();
    await r.idle();
    expect(r.controls).toEqual([]);
    expect(r.pipeline.stats.transactionsCommitted).toBe(0);
    expect(r.pipeline.stats.committedOffsets).toBe(0);

    r.member();
    await r.commit();
    expect(r.commits().length).toBe(2); // one per producer
    expect(r.committed(PA)).toBe(5);
    expect(r.committed(PB)).toBe(3);
    expect(r.pipeline.stats.transactionsCommitted).toBe(2);
    expect(r.pipeline.stats.committedOffsets).toBe(2);
    checkTransactions(r, outputsOf);
    // nothing new: no empty transaction
    await r.commit();
    expect(r.commits().length).toBe(2);
  });
});

describe("exactly-once: partitions leaving with uncommitted outputs", () => {
  test("a partition dropped after its outputs were released but before they were committed: the next round aborts instead of committing them", async () => {
    const r = new Rig(handlerResult);
    rig = r;
    r.member();
    await r.claim([PA, PB]);
    await r.send(PA, 0, 5);
    await r.send(PB, 0, 3);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 5).length + allOutputs(PB, 0, 3).length, "first outputs written");
    await r.commit();
    expect(r.committed(PA)).toBe(5);
    await r.send(PA, 5, 8);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 8).length + allOutputs(PB, 0, 3).length, "more outputs written");
    // PA goes (another member took it) while its outputs 5..7 sit in the open transaction
    await r.claim([PB]);
    await r.idle();
    const commitsBefore = r.commits().length;
    await r.commit();
    await r.idle();
    expect(r.commits().length).toBe(commitsBefore);
    expect(r.controls.filter((c) => c.control.type === "abort").length).toBe(2);
    expect(r.pipeline.stats.transactionsAborted).toBe(1);
    expect(r.refetches).toContain(0);
    expect(r.committed(PA)).toBe(5);
  });

  test("group metadata reported for a later assignment frame than the intake has read is not used yet", async () => {
    const r = new Rig(handlerResult);
    rig = r;
    await r.claim([PA]);
    await r.send(PA, 0, 4);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 4).length, "outputs written");
    r.pipeline.setMember(0, MEMBER, 1_000);
    await r.commit();
    await r.idle();
    expect(r.controls).toEqual([]);
    r.pipeline.setMember(0, MEMBER, 0);
    await r.commit();
    expect(r.committed(PA)).toBe(4);
  });
});

describe("exactly-once: abort and replay", () => {
  test("a commit that fails aborts every producer, asks for a refetch, drops stale records, and the replay commits once", async () => {
    const r = new Rig(handlerResult);
    rig = r;
    r.member();
    await r.claim([PA, PB]);
    await r.send(PA, 0, 4);
    await r.send(PB, 0, 4);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 4).length + allOutputs(PB, 0, 4).length, "first outputs");
    await r.commit();
    expect(r.committed(PA)).toBe(4);
    expect(r.committed(PB)).toBe(4);

    await r.send(PA, 4, 10);
    await r.send(PB, 4, 7);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 10).length + allOutputs(PB, 0, 7).length, "second outputs");
    r.answerCommit = (ctl) => (ctl.ring === producerOf(PA) ? DOOMED : { committed: true });
    await r.commit();
    r.answerCommit = () => ({ committed: true });

    expect(r.pipeline.stats.transactionsAborted).toBe(1);
    const aborts = r.controls.filter((c) => c.control.type === "abort");
    expect(aborts.map((c) => c.ring).sort()).toEqual([0, 1]);
    expect(r.refetches).toEqual([0]);
    expect(r.fatal).toEqual([]);
    expect(r.committed(PA)).toBe(4); // the failed commit did not count
    const committedB = r.committed(PB); // the other producer's commit of that round went through
    expect(committedB).toBe(7);

    // records read before the refetched frame are stale: dropped, the handler never sees them
    const handledBefore = r.handled.length;
    const staleBefore = r.pipeline.stats.staleDropped;
    await r.send(PA, 10, 12);
    await r.send(PB, 7, 9);
    await r.until(() => r.pipeline.stats.staleDropped === staleBefore + 4, "stale records dropped");
    await r.idle();
    expect(r.handled.length).toBe(handledBefore);

    // the consumer re-reads from the committed offsets
    await r.claim([PA, PB], r.refetchRound);
    await r.send(PA, r.committed(PA), 12);
    await r.send(PB, committedB, 9);
    await r.until(() => r.pipeline.inFlight === 0 && r.handled.includes(`${PA}@11`) && r.handled.includes(`${PB}@8`), "replayed");
    await r.commit();
    expect(r.committed(PA)).toBe(12);
    expect(r.committed(PB)).toBe(9);
    expect(r.pipeline.stats.transactionsAborted).toBe(1);
    checkTransactions(r, outputsOf);
    // every record's outputs visible exactly once
    expect(sorted(visible(r))).toEqual(sorted([...allOutputs(PA, 0, 12), ...allOutputs(PB, 0, 9)]));
  });

  test("a partition claimed after the abort but before the refetched frame is stale too: the re-read from the older committed offset duplicates nothing", async () => {
    const r = new Rig(handlerResult);
    rig = r;
    r.member();
    await r.claim([PA]);
    await r.send(PA, 0, 4);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 4).length, "first outputs");
    await r.commit();
    expect(r.committed(PA)).toBe(4);
    await r.send(PA, 4, 6);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 6).length, "second outputs");
    r.answerCommit = () => DOOMED;
    await r.commit();
    r.answerCommit = () => ({ committed: true });
    expect(r.refetches).toEqual([0]);
    const round = r.refetchRound;
    expect(round).not.toBeNull();

    // The consumer was given PB in a rebalance before it took the refetch in: that frame and what it fetched come
    // first. PB has no committed offset, so the re-read starts it at 0 again whatever is committed meanwhile.
    const handledBefore = r.handled.length;
    const staleBefore = r.pipeline.stats.staleDropped;
    await r.claim([PA, PB]);
    await r.send(PB, 0, 5);
    await r.send(PA, 6, 8);
    await r.until(() => r.pipeline.stats.staleDropped === staleBefore + 7, "records before the refetched frame dropped");
    await r.commit();
    expect(r.handled.length).toBe(handledBefore);
    expect(r.committed(PB)).toBe(0);

    // an outdated refetched frame (an earlier round) does not end it either
    await r.claim([PA, PB], round! - 1);
    await r.send(PB, 0, 2);
    await r.until(() => r.pipeline.stats.staleDropped === staleBefore + 9, "records after an outdated refetched frame dropped");
    expect(r.handled.length).toBe(handledBefore);

    await r.claim([PA, PB], round);
    await r.send(PA, r.committed(PA), 8);
    await r.send(PB, 0, 5);
    await r.until(() => r.pipeline.inFlight === 0 && r.handled.includes(`${PA}@7`) && r.handled.includes(`${PB}@4`), "replayed");
    await r.commit();
    expect(r.committed(PA)).toBe(8);
    expect(r.committed(PB)).toBe(5);
    checkTransactions(r, outputsOf);
    expect(sorted(visible(r))).toEqual(sorted([...allOutputs(PA, 0, 8), ...allOutputs(PB, 0, 5)]));
  });

  test("an output Kafka refuses: the doomed commit aborts, and the replay writes the record's dead-letter copy instead", async () => {
    const r = new Rig(handlerResult);
    rig = r;
    r.member();
    r.refuse = (o) => (o.label === `${PA}:4:0` ? "too large" : null);
    await r.claim([PA, PB]);
    await r.send(PA, 0, 8);
    await r.send(PB, 0, 5);
    await r.until(() => r.outputs.length === allOutputs(PA, 0, 8).length + allOutputs(PB, 0, 5).length, "outputs written");
    expect(r.outputs.filter((o) => o.state === "rejected").map((o) => o.label)).toEqual([`${PA}:4:0`]);
    await r.commit();
    expect(r.pipeline.stats.transactionsAborted).toBe(1);
    expect(r.refetches).toEqual([0]);
    expect(r.committed(PA)).toBe(0);
    const committedB = r.committed(PB);

    const firstReplayOutput = r.outputs.length;
    r.refuse = () => null;
    await r.claim([PA, PB], r.refetchRound);
    await r.send(PA, 0, 8);
    await r.send(PB, committedB, 5);
    await r.until(() => r.pipeline.inFlight === 0 && r.handled.filter((h) => h === `${PA}@7`).length === 2, "replayed");
    await r.commit();
    expect(r.fatal).toEqual([]);
    expect(r.committed(PA)).toBe(8);
    expect(r.committed(PB)).toBe(5);

    const replayed = r.outputs.slice(firstReplayOutput);
    expect(replayed.map((o) => o.label)).not.toContain(`${PA}:4:0`);
    const copies = replayed.filter((o) => o.frame.topic === DLQ);
    expect(copies.map((o) => o.label)).toEqual([`dlq:${PA}:4:output-refused`]);
    const copy = copies[0]!;
    expect(copy.ring).toBe(producerOf(PA)); // in the transaction of its partition
    expect(header(copy.frame, "x-processor-error")).toContain("too large");
    expect(header(copy.frame, "h")).toBe("1"); // the input's own headers, kept
    expect(fromUtf8.decode(copy.frame.value!)).toBe(`v${PA}:4`);

    // the doomed transaction held the refused output; every later one holds the dead-letter copy in its place
    const expected = (partition: number, offset: number, ctl: Control) =>
      partition === PA && offset === 4 && ctl.outcome?.committed === true ? [`dlq:${PA}:4:output-refused`] : outputsOf(partition, offset);
    checkTransactions(r, expected);
    const want = [...allOutputs(PA, 0, 8).filter((l) => l !== `${PA}:4:0`), `dlq:${PA}:4:output-refused`, ...allOutputs(PB, 0, 5)];
    expect(sorted(visible(r))).toEqual(sorted(want));
  });
});

describe("exactly-once: retries", () => {
  test("a retrying record holds back the release of later records of its partition only; then all are released in order", async () => {
    const second = new Map<string, () => void>();
    const handler: Handler = (record) => {
      if (record.partition === PA && record.offset === 2) {
        if (record.attempt === 1) throw new Error("flaky");
        return new Promise<HandlerResult>((resolve) => second.set("go", () => resolve(handlerResult(record))));
      }
      return handlerResult(record);
    };
    const r = new Rig(handler, { retries: 3, retryBackoffMs: 2, retryBackoffMaxMs: 4 });
    rig = r;
    r.member();
    await r.claim([PA, PB]);
    await r.send(PA, 0, 8, 8); // distinct keys: later records are processed meanwhile
    await r.send(PB, 0, 6);
    await r.until(
      () => second.has("go") && r.handled.includes(`${PA}@7`) && r.labels().length >= allOutputs(PB, 0, 6).length,
      "retry waiting",
    );
    await r.idle();
    expect(r.pipeline.stats.retried).toBe(1);
    // PA: 0 and 1 out, 2 retrying holds 3..7 back (already processed); PB: everything out
    expect(sorted(r.labels((o) => partitionOfLabel(o.label) === PA))).toEqual(sorted(allOutputs(PA, 0, 2)));
    expect(sorted(r.labels((o) => partitionOfLabel(o.label) === PB))).toEqual(sorted(allOutputs(PB, 0, 6)));
    await r.commit();
    expect(r.committed(PA)).toBe(2);
    expect(r.committed(PB)).toBe(6);

    second.get("go")!();
    await r.until(
      () => r.pipeline.inFlight === 0 && r.labels((o) => partitionOfLabel(o.label) === PA).length === allOutputs(PA, 0, 8).length,
      "released",
    );
    expect(r.labels((o) => partitionOfLabel(o.label) === PA)).toEqual(allOutputs(PA, 0, 8));
    await r.commit();
    expect(r.committed(PA)).toBe(8);
    checkTransactions(r, outputsOf);
    expect(r.fatal).toEqual([]);
  });
});

describe("exactly-once: dead-letter guard", () => {
  test("after the guard tripped, a record of another partition finishing later is not committed without its outputs", async () => {
    const { handler: waits, pending } = controlled();
    const handler: Handler = (record) => {
      if (record.partition === PA) throw new PermanentError("bad record");
      return waits(record);
    };
    const r = new Rig(handler, { dlqMaxConsecutive: 1 });
    rig = r;
    r.member();
    await r.claim([PA, PB]);
    await r.send(PB, 0, 2, 2);
    await r.until(() => pending.has(`${PB}@0`), "PB@0 running");
    await r.send(PA, 0, 1);
    await r.until(() => r.halts.length === 1, "guard tripped");
    // PB@0 and PB@1 finish after the trip: their results are not wanted (nothing finishes any more)
    for (const key of [`${PB}@0`, `${PB}@1`]) {
      await r.until(() => pending.has(key), `${key} running`);
      pending.get(key)!();
      pending.delete(key);
      await r.idle(5);
    }
    await r.idle();
    await r.commit(); // the shutdown's last commit round
    expect(r.labels((o) => partitionOfLabel(o.label) === PB)).toEqual([]);
    // committing PB past records whose outputs were never written would lose them
    expect(r.committed(PB)).toBe(0);
    expect(r.committed(PA)).toBe(0);
  });
});
