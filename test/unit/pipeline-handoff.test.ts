/**
 * The pipeline seam, without a broker: real consumer rings carrying real encoded record and assignment frames,
 * a real Pipeline, a small handler, a fake producer that reads the producer ring and acknowledges delivery ids
 * only when a test says so, and commit ports that record every request and answer it.
 *
 * The handoff tests run every read order of two consumers' rings and check, at every commit request and every
 * handler call, against a model of who owns the partition given the assignment frames read so far.
 */
import { describe, expect, test } from "bun:test";
import { Pipeline, type CommitPort, type Ordering, type PipelineSettings } from "../../src/pipeline/pipeline.ts";
import { createRing, RingReader, RingWriter, ringUsage, type RingBuffers } from "../../src/threads/byte-ring.ts";
import { decodeRecordAt, RecordEncoder } from "../../src/threads/record-codec.ts";
import type { CommitOffset } from "../../src/threads/messages.ts";
import type { Failure } from "../../src/kafka/errors.ts";
import { createLogger } from "../../src/observability/logger.ts";
import type { Handler, OutputRecord } from "../../src/handlers/types.ts";
import { assignmentFrame } from "../support/frames.ts";
import { tick, within } from "../support/async.ts";
import { prng } from "../support/random.ts";
import { pipelineSettings } from "../support/pipeline-settings.ts";

const TOPIC = "in";
const P = 0; // the partition that moves
const Q = 1; // a partition consumer A keeps throughout
const A = 0;
const B = 1;
const NAMES = ["A", "B"];

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");

/** What every input record carries in its value (and its output copies): consumer, partition, offset, sequence. */
interface Tag {
  readonly c: number;
  readonly p: number;
  readonly o: number;
  /** The consumer's n-th claim (or re-fetch) of the partition: one sequence of offsets. */
  readonly s: number;
}
const tagKey = (t: Tag): string => `${t.c}/${t.p}/${t.o}/${t.s}`;

type HandlerMode = "sync" | "async" | "gated";

interface Output {
  readonly id: number;
  readonly tag: Tag;
  delivered: boolean;
  /** The scenario step during which the fake producer read it. */
  readonly step: number;
}

interface CommitCall {
  readonly owner: number;
  readonly partition: number;
  readonly offset: number;
  /** Answered without error. */
  readonly ok: boolean;
  /** What the test was doing when the request came (e.g. "revoke"). */
  readonly phase: string;
}

function settingsFor(ordering: Ordering, revokeTimeoutMs: number): PipelineSettings {
  return pipelineSettings({ concurrency: 8, ordering, retries: 0, retryBackoffMaxMs: 1, revokeTimeoutMs });
}

/** A Pipeline with consumer rings, a fake producer and recording commit ports. */
class Rig {
  readonly pipeline: Pipeline;
  readonly outputs: Output[] = [];
  /** Every handler call, in order. */
  readonly handled: Tag[] = [];
  readonly commits: CommitCall[] = [];
  /** What the group holds per partition (the last commit answered without error). */
  readonly groupCommitted = new Map<number, number>();
  readonly deliveredKeys = new Set<string>();
  step = 0;
  phase = "round";
  onHandle: (tag: Tag) => void = () => undefined;
  onCommit: (owner: number, offset: CommitOffset) => void = () => undefined;
  /** Overrides the port's answer (default: everything committed). */
  answer: (owner: number, offsets: readonly CommitOffset[]) => { committed: readonly CommitOffset[]; failure?: Failure } | undefined = () =>
    undefined;
  private readonly consumers = new Map<number, { ring: RingBuffers; writer: RingWriter }>();
  private readonly encoder = new RecordEncoder();
  private readonly producer: RingReader;
  private readonly gate: Array<{ tag: Tag; step: number; open: () => void }> = [];
  /** Called for every output the fake producer reads. */
  onOutput: (tag: Tag) => void = () => undefined;
  private timers = 0;
  private epoch = 0;

  constructor(opts: { ordering: Ordering; handler: HandlerMode; revokeTimeoutMs?: number }) {
    const handler: Handler = (record) => {
      const tag = JSON.parse(fromUtf8.decode(record.value ?? new Uint8Array(0))) as Tag;
      this.handled.push(tag);
      this.onHandle(tag);
      const output: OutputRecord = { value: record.value };
      if (opts.handler === "sync") return output;
      if (opts.handler === "async") {
        this.timers++;
        // resolves a few turns of the event loop later, later records sometimes first
        let hops = 1 + ((tag.o * 7 + tag.c) % 3);
        return new Promise((resolve) => {
          const hop = (): void => {
            if (--hops > 0) return void setImmediate(hop);
            this.timers--;
            resolve(output);
          };
          setImmediate(hop);
        });
      }
      return new Promise((resolve) => this.gate.push({ tag, step: this.step, open: () => resolve(output) }));
    };
    this.pipeline = new Pipeline(settingsFor(opts.ordering, opts.revokeTimeoutMs ?? 50), handler, log);
    this.producer = new RingReader(this.pipeline.producerRings[0]!);
  }

  consumer(owner: number): void {
    const ring = createRing(64 * 1024);
    this.consumers.set(owner, { ring, writer: new RingWriter(ring) });
    this.pipeline.attachConsumer(owner, ring);
  }

  /** An assignment frame: from `ts` on, `owner` owns exactly `partitions`. */
  writeClaim(owner: number, partitions: readonly number[], ts: number): void {
    this.write(owner, assignmentFrame(++this.epoch, TOPIC, partitions, ts));
  }

  writeRecords(owner: number, partition: number, offsets: readonly number[], s: number): void {
    for (const o of offsets) {
      const tag: Tag = { c: owner, p: partition, o, s };
      this.write(owner, {
        kind: "record",
        ref: this.epoch,
        topic: TOPIC,
        partition,
        offset: o,
        timestamp: 1,
        key: utf8.encode(`k${o % 3}`),
        value: utf8.encode(JSON.stringify(tag)),
        headers: [],
      });
    }
  }

  private write(owner: number, record: Parameters<RecordEncoder["encode"]>[0]): void {
    const consumer = this.consumers.get(owner)!;
    if (!consumer.writer.tryWrite(this.encoder.encode(record))) throw new Error("consumer ring full");
    consumer.writer.publish();
  }

  /** Reads the producer ring: every output frame the pipeline wrote so far. */
  readProducer(): void {
    this.producer.drainBatch(1 << 20, (batch, start) => {
      const frame = decodeRecordAt(batch, new DataView(batch.buffer, batch.byteOffset, batch.byteLength), start);
      const tag = JSON.parse(fromUtf8.decode(frame.value ?? new Uint8Array(0))) as Tag;
      this.outputs.push({ id: frame.ref, tag, delivered: false, step: this.step });
      this.onOutput(tag);
    });
    this.producer.release();
  }

  get undelivered(): Output[] {
    return this.outputs.filter((o) => !o.delivered);
  }

  /**
   * Waits until the pipeline read every consumer frame and has nothing left to do but wait for deliveries (or
   * for gated handler calls, or tasks queued behind them).
   */
  async settle(): Promise<void> {
    const deadline = Date.now() + 1500;
    let last = "";
    let stable = 0;
    for (;;) {
      this.readProducer();
      const ringsRead = [...this.consumers.values()].every((c) => ringUsage(c.ring).used === 0);
      if (ringsRead && this.timers === 0) {
        if (this.pipeline.inFlight === this.undelivered.length + this.gate.length) return;
        const signature = `${this.pipeline.inFlight}/${this.outputs.length}/${this.handled.length}`;
        stable = signature === last ? stable + 1 : 0;
        last = signature;
        if (this.gate.length > 0 && stable >= 10) return;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `pipeline did not settle: inFlight ${this.pipeline.inFlight}, undelivered ${this.undelivered.length}, gated ${this.gate.length}, rings read ${ringsRead}`,
        );
      }
      await tick();
    }
  }

  /** Lets gated handler calls matching `which` return. */
  open(which: (tag: Tag, step: number) => boolean): number {
    const opening = this.gate.filter((g) => which(g.tag, g.step));
    for (const g of opening) this.gate.splice(this.gate.indexOf(g), 1);
    for (const g of opening) g.open();
    return opening.length;
  }

  /** Opens matching gated calls until none is left (tasks queued behind them in a lane get their turn). */
  async openAll(which: (tag: Tag) => boolean): Promise<void> {
    for (let i = 0; i < 100; i++) {
      await this.settle();
      if (this.open(which) === 0) return;
    }
  }

  /** The fake producer acknowledges these outputs (in the given order). */
  deliver(which: (o: Output) => boolean, reverse = false): number {
    this.readProducer();
    const chosen = this.undelivered.filter(which);
    if (reverse) chosen.reverse();
    for (const o of chosen) {
      o.delivered = true;
      this.deliveredKeys.add(tagKey(o.tag));
    }
    if (chosen.length > 0) this.pipeline.delivered(Uint32Array.from(chosen.map((o) => o.id)));
    return chosen.length;
  }

  /** One commit round through the recording ports. */
  commit(): Promise<void> {
    return this.pipeline.commit((owner) => (this.consumers.has(owner) ? this.port(owner) : undefined));
  }

  /** The port a revocation commits through: the owner's, marking its commits as the revoke's. */
  revokePort(owner: number, onCall: () => void = () => undefined): CommitPort {
    return async (offsets) => {
      onCall();
      this.phase = "revoke";
      const result = await this.port(owner)(offsets);
      this.phase = "round";
      return result;
    };
  }

  private port(owner: number): CommitPort {
    return async (offsets) => {
      const answer = this.answer(owner, offsets);
      const ok = answer === undefined || answer.failure === undefined;
      for (const o of offsets) {
        this.onCommit(owner, o);
        this.commits.push({ owner, partition: o.partition, offset: o.offset, ok, phase: this.phase });
        if (ok) this.groupCommitted.set(o.partition, o.offset);
      }
      return answer ?? { committed: offsets };
    };
  }

  /** Commit requests for one partition through one consumer. */
  commitsOf(owner: number, partition: number, onlyOk = true): number[] {
    return this.commits.filter((c) => c.owner === owner && c.partition === partition && (c.ok || !onlyOk)).map((c) => c.offset);
  }

  handledOf(partition: number, s?: number): number[] {
    return this.handled.filter((t) => t.p === partition && (s === undefined || t.s === s)).map((t) => t.o);
  }

  /** Releases everything and lets the drain loops end. */
  async close(): Promise<void> {
    this.open(() => true);
    for (const { writer } of this.consumers.values()) writer.close();
    for (let i = 0; i < 50 && this.pipeline.inFlight > 0; i++) {
      this.deliver(() => true);
      await tick();
    }
    await within(this.pipeline.drained(), 1000, "pipeline drained");
  }
}

/** Builds a rig with a consumer for each of `owners`, runs `body` on it, and closes it whatever happens. */
async function withRig(
  opts: ConstructorParameters<typeof Rig>[0],
  owners: readonly number[],
  body: (rig: Rig) => Promise<void>,
): Promise<void> {
  const rig = new Rig(opts);
  for (const owner of owners) rig.consumer(owner);
  try {
    await body(rig);
  } finally {
    await rig.close();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Ownership model for the handoff scenarios
// ---------------------------------------------------------------------------------------------------------------

interface Frame {
  readonly owner: number;
  readonly ts: number;
  readonly partitions: readonly number[];
}

/**
 * Who owns a partition given the assignment frames read so far: a consumer's claim holds until a later frame of
 * the same consumer leaves the partition out, or another consumer claims it later (whatever the read order).
 */
class OwnershipModel {
  private readonly frames: Frame[] = [];
  private readonly latest = new Map<number, readonly number[]>();
  private readonly seq = new Map<string, number>();
  private readonly offsets = new Map<string, number[]>();

  claim(frame: Frame): void {
    const before = this.latest.get(frame.owner) ?? [];
    for (const partition of frame.partitions) {
      if (before.includes(partition)) continue; // kept: the same sequence goes on
      const key = `${frame.owner}/${partition}`;
      this.seq.set(key, (this.seq.get(key) ?? -1) + 1);
      this.offsets.set(key, []);
    }
    this.latest.set(frame.owner, frame.partitions);
    this.frames.push(frame);
  }

  ownerOf(partition: number): number | null {
    let owner: number | null = null;
    for (const f of this.frames) {
      if (!f.partitions.includes(partition)) continue;
      const superseded = this.frames.some(
        (g) => g.ts > f.ts && (g.owner === f.owner ? !g.partitions.includes(partition) : g.partitions.includes(partition)),
      );
      if (!superseded) owner = f.owner;
    }
    return owner;
  }

  seqOf(owner: number, partition: number): number {
    return this.seq.get(`${owner}/${partition}`) ?? 0;
  }

  /** Offsets the consumer wrote (and the pipeline read) of its current claim of the partition. */
  sequence(owner: number, partition: number): number[] {
    const key = `${owner}/${partition}`;
    let list = this.offsets.get(key);
    if (!list) this.offsets.set(key, (list = []));
    return list;
  }
}

type Batch =
  | { readonly partition: number; readonly offsets: readonly number[] }
  | { readonly partition: number; readonly fromCommitted: number };
type Event =
  | { readonly name: string; readonly owner: number; readonly kind: "claim"; readonly partitions: readonly number[]; readonly ts: number }
  | { readonly name: string; readonly owner: number; readonly kind: "records"; readonly batches: readonly Batch[] };

const claim = (name: string, owner: number, partitions: readonly number[], ts: number): Event => ({
  name,
  owner,
  kind: "claim",
  partitions,
  ts,
});
const records = (name: string, owner: number, ...batches: Batch[]): Event => ({ name, owner, kind: "records", batches });
const pRef = [{ topic: TOPIC, partition: P }];
const range = (from: number, count: number): number[] => Array.from({ length: count }, (_, i) => from + i);

/** Every merge of two sequences that keeps each one's order (the order each ring is written in). */
function interleavings<T>(a: readonly T[], b: readonly T[]): T[][] {
  if (a.length === 0) return [[...b]];
  if (b.length === 0) return [[...a]];
  return [...interleavings(a.slice(1), b).map((rest) => [a[0]!, ...rest]), ...interleavings(a, b.slice(1)).map((rest) => [b[0]!, ...rest])];
}

/** What the fake producer and the commit timer do after each event. */
type DeliveryPolicy = "eager" | "lagging" | "scrambled";

async function afterEvent(rig: Rig, policy: DeliveryPolicy, step: number, random: () => number): Promise<void> {
  // a gated handler finishes what it started one event earlier: handler calls stay in flight across an event
  if (rig.open((_, started) => started < step) > 0) await rig.settle();
  if (policy === "eager") {
    rig.deliver(() => true);
    await rig.commit();
  } else if (policy === "lagging") {
    // Outputs of this step stay undelivered across the next event (an ownership change, say); older ones are
    // acknowledged out of order, the odd offsets first, with a commit round in between.
    await rig.commit();
    rig.deliver((o) => o.step < step && o.tag.o % 2 === 1, true);
    await rig.commit();
    rig.deliver((o) => o.step < step, true);
    await rig.commit();
  } else {
    // about half of the undelivered outputs are acknowledged per step, in random order, in two commit rounds
    await rig.commit();
    rig.deliver(() => random() < 0.3, random() < 0.5);
    await rig.commit();
    rig.deliver(() => random() < 0.3, random() < 0.5);
    await rig.commit();
  }
  await rig.settle();
}

/** Runs one read order and returns what went wrong (empty when every invariant held). */
async function runOrder(
  order: readonly Event[],
  ordering: Ordering,
  handler: HandlerMode,
  policy: DeliveryPolicy,
  seed: number,
): Promise<string[]> {
  const label = `[${policy}${policy === "scrambled" ? ` seed ${seed}` : ""}] ${order.map((e) => e.name).join(" ")}`;
  const random = prng(seed);
  const problems: string[] = [];
  const model = new OwnershipModel();
  const rig = new Rig({ ordering, handler });
  rig.consumer(A);
  rig.consumer(B);
  const lastCommit = new Map<string, number>();
  let expectedStale = 0;
  const qOffsets: number[] = [];

  rig.onHandle = (tag) => {
    const owner = model.ownerOf(tag.p);
    if (owner !== tag.c || tag.s !== model.seqOf(tag.c, tag.p)) {
      problems.push(
        `${label}: handler got ${NAMES[tag.c]}'s record p${tag.p}@${tag.o} (claim ${tag.s}) while the owner is ${owner === null ? "nobody" : NAMES[owner]}`,
      );
    }
  };
  rig.onOutput = (tag) => {
    if (model.ownerOf(tag.p) !== tag.c || tag.s !== model.seqOf(tag.c, tag.p)) {
      problems.push(`${label}: output of ${NAMES[tag.c]}'s record p${tag.p}@${tag.o} produced after it went stale`);
    }
  };
  rig.onCommit = (owner, { partition, offset }) => {
    const current = model.ownerOf(partition);
    if (current !== owner) {
      problems.push(
        `${label}: commit p${partition}=${offset} requested through ${NAMES[owner]}, owner is ${current === null ? "nobody" : NAMES[current]}`,
      );
      return;
    }
    const s = model.seqOf(owner, partition);
    const sequence = model.sequence(owner, partition);
    const undelivered = sequence.filter((o) => !rig.deliveredKeys.has(tagKey({ c: owner, p: partition, o, s })));
    const bound = undelivered.length > 0 ? Math.min(...undelivered) : sequence.length > 0 ? Math.max(...sequence) + 1 : -1;
    if (offset > bound) {
      problems.push(
        `${label}: commit p${partition}=${offset} through ${NAMES[owner]} passes an offset whose output is not delivered (bound ${bound}; sequence ${sequence.join(",")}; undelivered ${undelivered.join(",")})`,
      );
    }
    const key = `${owner}/${partition}/${s}`;
    const previous = lastCommit.get(key);
    if (previous !== undefined && offset < previous)
      problems.push(`${label}: commit p${partition} through ${NAMES[owner]} went back from ${previous} to ${offset}`);
    lastCommit.set(key, offset);
  };

  try {
    for (const [step, event] of order.entries()) {
      rig.step = step;
      if (event.kind === "claim") {
        model.claim({ owner: event.owner, ts: event.ts, partitions: event.partitions });
        rig.writeClaim(event.owner, event.partitions, event.ts);
      } else {
        for (const batch of event.batches) {
          const offsets = "offsets" in batch ? batch.offsets : range(rig.groupCommitted.get(batch.partition) ?? 0, batch.fromCommitted);
          if (model.ownerOf(batch.partition) === event.owner) {
            model.sequence(event.owner, batch.partition).push(...offsets);
            if (batch.partition === Q) qOffsets.push(...offsets);
          } else {
            expectedStale += offsets.length;
          }
          rig.writeRecords(event.owner, batch.partition, offsets, model.seqOf(event.owner, batch.partition));
        }
      }
      await rig.settle();
      await afterEvent(rig, policy, step, random);
    }
    for (let round = 0; round < 3; round++) {
      await rig.openAll(() => true);
      rig.deliver(() => true);
      await rig.commit();
      await rig.settle();
    }

    if (rig.pipeline.stats.staleDropped !== expectedStale)
      problems.push(`${label}: staleDropped ${rig.pipeline.stats.staleDropped}, expected ${expectedStale}`);
    const owner = model.ownerOf(P);
    if (owner !== null) {
      const s = model.seqOf(owner, P);
      const sequence = model.sequence(owner, P);
      const handled = new Set(rig.handled.filter((t) => t.c === owner && t.p === P && t.s === s).map((t) => t.o));
      const missing = sequence.filter((o) => !handled.has(o) || !rig.deliveredKeys.has(tagKey({ c: owner, p: P, o, s })));
      if (missing.length > 0) problems.push(`${label}: ${NAMES[owner]}'s records of p${P} never produced: ${missing.join(",")}`);
      const commits = rig.commitsOf(owner, P);
      if (sequence.length > 0 && commits.at(-1) !== Math.max(...sequence) + 1) {
        problems.push(`${label}: last commit of p${P} through ${NAMES[owner]} is ${commits.at(-1)}, expected ${Math.max(...sequence) + 1}`);
      }
    }
    const qCommits = rig.commitsOf(A, Q);
    if (qCommits.at(-1) !== Math.max(...qOffsets) + 1)
      problems.push(`${label}: kept partition q committed to ${qCommits.at(-1)}, expected ${Math.max(...qOffsets) + 1}`);
  } catch (error) {
    problems.push(`${label}: ${String(error)}`);
  } finally {
    await rig.close();
  }
  return problems;
}

async function runAll(
  orders: readonly (readonly Event[])[],
  ordering: Ordering,
  handler: HandlerMode,
): Promise<{ runs: number; problems: string[] }> {
  const problems: string[] = [];
  let runs = 0;
  for (const policy of ["eager", "lagging", "scrambled"] as const) {
    for (const [i, order] of orders.entries()) {
      problems.push(...(await runOrder(order, ordering, handler, policy, i + 1)));
      runs++;
    }
  }
  return { runs, problems };
}

/**
 * A owns p (and q) from t=10, loses p at t=15 (its frame without p), B claims p at t=20 and fetches it from the
 * committed offset. A's ring still holds records of p fetched before the move.
 */
const HANDOFF_A: Event[] = [
  claim("A{p,q}@10", A, [P, Q], 10),
  records("A:p0-2,q0-1", A, { partition: P, offsets: range(0, 3) }, { partition: Q, offsets: range(0, 2) }),
  records("A:p3-5,q2-3", A, { partition: P, offsets: range(3, 3) }, { partition: Q, offsets: range(2, 2) }),
  claim("A{q}@15", A, [Q], 15),
  records("A:p6-7(stale),q4-5", A, { partition: P, offsets: range(6, 2) }, { partition: Q, offsets: range(4, 2) }),
];
const HANDOFF_B: Event[] = [claim("B{p}@20", B, [P], 20), records("B:p@committed+4", B, { partition: P, fromCommitted: 4 })];

/** p goes A → B → back to A: B gives it up at t=30, A claims it again at t=40 and fetches from the committed offset. */
const ROUND_TRIP_A: Event[] = [
  claim("A{p,q}@10", A, [P, Q], 10),
  records("A:p0-2,q0-1", A, { partition: P, offsets: range(0, 3) }, { partition: Q, offsets: range(0, 2) }),
  claim("A{q}@15", A, [Q], 15),
  records("A:p3-4(stale),q2", A, { partition: P, offsets: range(3, 2) }, { partition: Q, offsets: [2] }),
  claim("A{p,q}@40", A, [P, Q], 40),
  records("A:p@committed+3,q3-4", A, { partition: P, fromCommitted: 3 }, { partition: Q, offsets: range(3, 2) }),
];
const ROUND_TRIP_B: Event[] = [
  claim("B{p}@20", B, [P], 20),
  records("B:p@committed+4", B, { partition: P, fromCommitted: 4 }),
  claim("B{}@30", B, [], 30),
];

describe("handoff of a partition between two consumers of one process", () => {
  for (const ordering of ["key", "partition", "none"] as const) {
    for (const handler of ["sync", "async", "gated"] as const) {
      test(`A→B, every read order of the two rings: commits only through the owner, never past an undelivered output, never backwards; stale records dropped and counted; B's records produced and committed (ordering ${ordering}, ${handler} handler)`, async () => {
        const orders = interleavings(HANDOFF_A, HANDOFF_B);
        expect(orders.length).toBe(21);
        const { runs, problems } = await runAll(orders, ordering, handler);
        expect(runs).toBe(63);
        expect(problems.slice(0, 8)).toEqual([]);
      });

      test(`A→B→A, every read order of the two rings: the same invariants, and a claim older than another consumer's later claim stays stale even after that consumer gave the partition up (ordering ${ordering}, ${handler} handler)`, async () => {
        const orders = interleavings(ROUND_TRIP_A, ROUND_TRIP_B);
        expect(orders.length).toBe(84);
        const { problems } = await runAll(orders, ordering, handler);
        expect(problems.slice(0, 8)).toEqual([]);
      });
    }
  }
});

describe("claims read late", () => {
  test("B claimed p at t=20 and gave it up at t=30: A's claim from t=10, read only now, is stale — its records are dropped and nothing is committed through A", async () => {
    await withRig({ ordering: "partition", handler: "sync" }, [A, B], async (rig) => {
      rig.writeClaim(B, [P], 20);
      rig.writeRecords(B, P, range(0, 4), 0);
      await rig.settle();
      rig.deliver(() => true);
      await rig.commit();
      expect(rig.commitsOf(B, P)).toEqual([4]);
      rig.writeClaim(B, [], 30);
      await rig.settle();
      // A's ring was behind (say, full): its claim from t=10 and the records fetched under it are read now
      rig.writeClaim(A, [P, Q], 10);
      rig.writeRecords(A, P, range(0, 3), 0);
      rig.writeRecords(A, Q, range(0, 2), 0);
      await rig.settle();
      rig.deliver(() => true);
      await rig.commit();
      expect(rig.handled.filter((t) => t.c === A && t.p === P)).toEqual([]);
      expect(rig.pipeline.stats.staleDropped).toBe(3);
      expect(rig.commitsOf(A, P, false)).toEqual([]); // would move the group's offset back from 4 to 3
      expect(rig.commitsOf(A, Q)).toEqual([2]);
    });
  });

  test("a revoke that reaches the pipeline before the consumer's claim frame makes that older claim stale", async () => {
    await withRig({ ordering: "key", handler: "sync" }, [A], async (rig) => {
      let commitNowCalls = 0;
      await within(
        rig.pipeline.revoke(
          A,
          pRef,
          20,
          rig.revokePort(A, () => commitNowCalls++),
        ),
        1000,
        "revoke of a partition not tracked yet",
      );
      expect(commitNowCalls).toBe(0); // nothing of it was tracked
      rig.writeClaim(A, [P, Q], 10);
      rig.writeRecords(A, P, range(0, 3), 0);
      rig.writeRecords(A, Q, [0], 0);
      await rig.settle();
      rig.deliver(() => true);
      await rig.commit();
      expect(rig.pipeline.stats.staleDropped).toBe(3);
      expect(rig.handledOf(P)).toEqual([]);
      expect(rig.commitsOf(A, P, false)).toEqual([]);
      expect(rig.commitsOf(A, Q)).toEqual([1]);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Commit on revoke
// ---------------------------------------------------------------------------------------------------------------

describe("commit on revoke", () => {
  for (const ordering of ["partition", "key", "none"] as const) {
    test(`in-flight records finish and are committed by commitNow before revoke() resolves; later records of the partition are dropped; the kept partition keeps flowing (ordering ${ordering})`, async () => {
      await withRig({ ordering, handler: "gated", revokeTimeoutMs: 1500 }, [A], async (rig) => {
        rig.writeClaim(A, [P, Q], 10);
        rig.writeRecords(A, P, range(0, 5), 0);
        rig.writeRecords(A, Q, range(0, 2), 0);
        await rig.openAll((t) => t.p === P && t.o <= 2);
        await rig.openAll((t) => t.p === Q);
        await rig.settle();
        // p0-2 handled, outputs not yet delivered; p3-4 still in the handler (or queued behind it)
        expect(
          rig
            .handledOf(P)
            .filter((o) => o <= 2)
            .sort(),
        ).toEqual([0, 1, 2]);
        expect(
          rig.outputs
            .filter((o) => o.tag.p === P)
            .map((o) => o.tag.o)
            .sort(),
        ).toEqual([0, 1, 2]);

        const timeline: string[] = [];
        let resolved = false;
        const revoking = rig.pipeline
          .revoke(
            A,
            pRef,
            20,
            rig.revokePort(A, () => timeline.push("commitNow")),
          )
          .then(() => {
            resolved = true;
            timeline.push("resolved");
          });

        // records of p that arrive after the revoke started are stale; the kept partition q goes on
        rig.writeRecords(A, P, [5, 6], 0);
        rig.writeRecords(A, Q, [2, 3], 0);
        await rig.openAll((t) => t.p === Q);
        rig.deliver((o) => o.tag.p === Q);
        await rig.commit();
        await rig.settle();
        expect(rig.pipeline.stats.staleDropped).toBe(2);
        expect(rig.handledOf(P).filter((o) => o >= 5)).toEqual([]);
        expect(rig.commitsOf(A, Q).at(-1)).toBe(4);
        expect(resolved).toBe(false);

        rig.deliver((o) => o.tag.p === P);
        await rig.settle();
        expect(resolved).toBe(false); // p3-4 are still in flight

        await rig.openAll((t) => t.p === P && t.o <= 4);
        rig.deliver((o) => o.tag.p === P);
        await within(revoking, 1000, "revoke");

        const pCommits = rig.commits.filter((c) => c.partition === P);
        expect(pCommits.every((c) => c.owner === A)).toBe(true);
        expect(pCommits.at(-1)).toEqual({ owner: A, partition: P, offset: 5, ok: true, phase: "revoke" });
        expect(timeline).toEqual(["commitNow", "resolved"]);

        // released: nothing more of p is committed, later records of p are dropped
        rig.writeRecords(A, P, [7], 0);
        await rig.settle();
        await rig.commit();
        expect(rig.pipeline.stats.staleDropped).toBe(3);
        expect(rig.commits.filter((c) => c.partition === P).length).toBe(pCommits.length);
        expect(rig.handledOf(P).some((o) => o >= 5)).toBe(false);
      });
    });
  }

  test("deliveries held back past revokeTimeoutMs: revoke() resolves anyway and the commit stops before the undelivered record", async () => {
    await withRig({ ordering: "key", handler: "sync", revokeTimeoutMs: 40 }, [A], async (rig) => {
      rig.writeClaim(A, [P, Q], 10);
      rig.writeRecords(A, P, range(0, 5), 0);
      rig.writeRecords(A, Q, range(0, 2), 0);
      await rig.settle();
      rig.deliver((o) => o.tag.p === P && o.tag.o !== 2);
      let commitNowCalls = 0;
      const revoking = rig.pipeline.revoke(
        A,
        pRef,
        20,
        rig.revokePort(A, () => commitNowCalls++),
      );
      // the kept partition is processed and committed while the revoke waits
      rig.writeRecords(A, Q, [2], 0);
      await rig.settle();
      rig.deliver((o) => o.tag.p === Q);
      await rig.commit();
      expect(rig.commitsOf(A, Q).at(-1)).toBe(3);

      await within(revoking, 1000, "revoke past its timeout");
      expect(commitNowCalls).toBeGreaterThanOrEqual(1);
      const pCommits = rig.commitsOf(A, P);
      expect(pCommits.length).toBeGreaterThan(0);
      expect(Math.max(...pCommits)).toBe(2); // p2 was never delivered

      // p2's output arrives after the partition was released: no commit moves for p any more
      rig.writeRecords(A, P, [5], 0);
      await rig.settle();
      rig.deliver(() => true);
      await rig.commit();
      expect(rig.commitsOf(A, P, false)).toEqual(pCommits);
      expect(rig.pipeline.stats.staleDropped).toBe(1);
    });
  });

  test("a commit refused during the revoke (group rebalancing) is asked for again before revoke() resolves", async () => {
    await withRig({ ordering: "partition", handler: "sync", revokeTimeoutMs: 500 }, [A], async (rig) => {
      rig.writeClaim(A, [P], 10);
      rig.writeRecords(A, P, range(0, 4), 0);
      await rig.settle();
      let refused = 0;
      rig.answer = (_owner, offsets) => {
        if (refused > 0 || !offsets.some((o) => o.partition === P)) return undefined;
        refused++;
        return {
          committed: [],
          failure: { kind: "rebalance", message: "REBALANCE_IN_PROGRESS: the group is rebalancing", retriable: true },
        };
      };
      let resolved = false;
      const revoking = rig.pipeline.revoke(A, pRef, 20, rig.revokePort(A)).then(() => (resolved = true));
      await rig.settle();
      expect(resolved).toBe(false);
      rig.deliver(() => true);
      await within(revoking, 1000, "revoke");
      expect(rig.commits.filter((c) => c.partition === P)).toEqual([
        { owner: A, partition: P, offset: 4, ok: false, phase: "revoke" },
        { owner: A, partition: P, offset: 4, ok: true, phase: "revoke" },
      ]);
    });
  });
});

// ---------------------------------------------------------------------------------------------------------------
// Rewind by the owner
// ---------------------------------------------------------------------------------------------------------------

describe("a consumer rewinding a partition it still owns", () => {
  for (const handler of ["sync", "gated"] as const) {
    for (const ordering of ["partition", "key"] as const) {
      test(`re-fetching from the committed offset drops the older work; the commit restarts from the new sequence and never passes an unproduced record (${handler} handler, ordering ${ordering})`, async () => {
        await withRig({ ordering, handler }, [A], async (rig) => {
          rig.writeClaim(A, [P], 10);
          rig.writeRecords(A, P, range(0, 6), 0);
          await rig.openAll((t) => t.o <= 1);
          rig.deliver((o) => o.tag.o <= 1);
          await rig.commit();
          expect(rig.commitsOf(A, P)).toEqual([2]);
          if (handler === "sync") {
            rig.deliver((o) => o.tag.o === 3 || o.tag.o === 4);
            await rig.commit();
            expect(rig.commitsOf(A, P)).toEqual([2]); // p2 holds it back
          }

          // the consumer's stream was re-created: it fetches again from the committed offset
          const before = rig.commits.length;
          rig.writeRecords(A, P, range(2, 6), 1);
          await rig.settle();
          expect(rig.pipeline.stats.staleDropped).toBe(0);
          expect(rig.pipeline.stats.consumed).toBe(12);

          // the older work finishes late: it produces nothing (gated) or its acknowledgements move nothing
          await rig.openAll((t) => t.s === 0);
          const lateOld = rig.outputs.filter((o) => o.tag.s === 0 && o.tag.o >= 2).map((o) => o.tag.o);
          if (handler === "gated") expect(lateOld).toEqual([]);
          rig.deliver((o) => o.tag.s === 0);
          await rig.commit();
          expect(rig.commits.length).toBe(before);

          // the new sequence: everything but p2 delivered, then p2
          await rig.openAll((t) => t.s === 1);
          expect(rig.handledOf(P, 1).sort()).toEqual(range(2, 6));
          rig.deliver((o) => o.tag.s === 1 && o.tag.o !== 2, true);
          await rig.commit();
          expect(rig.commits.length).toBe(before);
          rig.deliver((o) => o.tag.s === 1);
          await rig.commit();
          expect(rig.commits.slice(before)).toEqual([{ owner: A, partition: P, offset: 8, ok: true, phase: "round" }]);
          // the older work ran at most once per record (nothing of it re-ran after the rewind)
          const oldRuns = rig.handledOf(P, 0);
          expect(new Set(oldRuns).size).toBe(oldRuns.length);
        });
      });
    }
  }
});
