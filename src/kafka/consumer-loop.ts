/**
 * One group member inside a Worker: fetches records and writes them into its ring, writes an assignment frame
 * whenever the group hands it a new assignment, hands partitions being revoked to the main thread to finish and
 * commit before letting them go (commit on revoke), and commits the offsets the main thread asks for.
 *
 * Backpressure: the loop awaits ring space before pulling the next record, and the client's stream stops
 * fetching while it is not being read.
 *
 * Relies on scripts/patches/@platformatic+kafka: the `onPartitionsRevoked` hook, streams that keep the position of
 * partitions kept across a rebalance, and `assignmentSerial` to tell records buffered under an earlier assignment.
 */
import { Consumer, MessagesStream, MessagesStreamFallbackModes, MessagesStreamModes } from "@platformatic/kafka";
import { RingWriter, type RingBuffers } from "../ring/byte-ring.ts";
import { RecordEncoder } from "../ring/record-codec.ts";
import { partitionKey } from "../offsets/offset-tracker.ts";
import type { Logger } from "../observability/logger.ts";
import { baseClientOptions } from "./client-options.ts";
import { reportBrokerConnections } from "./connection-events.ts";
import { wireRecord, type RawMessage } from "./message-fields.ts";
import { backoffMs, describeError, fatalReason, sleep } from "./errors.ts";
import { ASSIGNMENT_FRAME, type AssignmentChange, type CommitOffset, type ConsumerSettings, type FromConsumer } from "./protocol.ts";

type Assignments = ReadonlyArray<{ topic: string; partitions: readonly number[] }>;

/** What the patched client adds to its stream and messages. */
type Stream = MessagesStream<Buffer, Buffer, Buffer, Buffer> & {
  assignmentSerial(topic: string, partition: number): number | undefined;
  pausePartitions(topic: string, partitions: readonly number[]): void;
  resumePartitions(topic: string, partitions: readonly number[]): void;
};
type SerialMessage = RawMessage & { readonly assignmentSerial?: number };

const PUBLISH_EVERY = 256;
const FETCH_MAX_BYTES = 2 << 20;
/** How long commits wait for the group's offsets after a join (see `floor`). */
const FLOOR_TIMEOUT_MS = 3_000;
const LAG_EVERY_MS = 5_000;
/** Beyond --revoke-timeout, time for the main thread's commit of revoked partitions to come back. */
const REVOKE_COMMIT_GRACE_MS = 10_000;
/** Classic protocol: cooperative-sticky first; round robin only so a group with older members can still form. */
const CLASSIC_PROTOCOLS = [
  { name: "cooperative-sticky", version: 3 },
  { name: "roundrobin", version: 1 },
];

/**
 * Fault injection for tests: PROCESSOR_FAULT_CRASH_CONSUMER="<consumer>:<records>" makes that consumer Worker
 * die with an uncaught error after writing that many records. Unset in production.
 */
function injectedCrashAfter(index: number): number {
  // Only in the test build (scripts/build.ts --test-faults). Release and default builds define
  // PROCESSOR_FAULT_INJECTION as false, so this returns -1 and the variable is not even read (the bundler drops
  // the rest); run from source it is undefined: off as well.
  if (typeof PROCESSOR_FAULT_INJECTION === "undefined" || !PROCESSOR_FAULT_INJECTION) return -1;
  const [consumer, records] = (process.env.PROCESSOR_FAULT_CRASH_CONSUMER ?? "").split(":").map(Number);
  return consumer === index && records !== undefined && records > 0 ? records : -1;
}
const textEncoder = new TextEncoder();

/** Wall-clock time with sub-millisecond resolution, comparable between the threads of a process. */
function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

function keysOf(assignments: Assignments): Set<string> {
  return new Set(assignments.flatMap(({ topic, partitions }) => partitions.map((p) => partitionKey(topic, p))));
}

function signatureOf(keys: Iterable<string>): string {
  return [...keys].sort().join(";");
}

export class ConsumerLoop {
  private readonly writer: RingWriter;
  private readonly encoder = new RecordEncoder();
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: Stream | null = null;
  /** Partitions whose records go to the main thread. */
  private assigned = new Set<string>();
  /** Partitions handed to the main thread to finish: still committable, no new records. */
  private readonly revoking = new Set<string>();
  /** Per revoked partition, the stream and assignment serial its stale records carry. */
  private readonly revokedSerials = new Map<string, { stream: Stream; serial: number | undefined }>();
  private readonly revokeWaiters = new Map<number, () => void>();
  private revokeRequests = 0;
  /**
   * Per partition, the offset the group had committed when this member last joined, raised by its own commits.
   * A member that was fenced (frozen past its session, say) and joins again must not commit its old, lower
   * progress over what the partition's owner committed meanwhile.
   */
  private readonly floor = new Map<string, number>();
  private floorLoaded: Promise<void> = Promise.resolve();
  /** Commits go out one at a time, so an older one can never land after a newer one. */
  private commitChain: Promise<void> = Promise.resolve();
  /** Ring writes that had to wait, in order: nothing else writes until they are done. */
  private writeChain: Promise<void> | null = null;
  /** The member id the group gave at the last join: a new one means this member had been expelled. */
  private memberId: string | null = null;
  /** A stream whose buffered records are stale (fetched before an expulsion): read no more of it. */
  private discarded: Stream | null = null;
  private assignmentSignature: string | null = null;
  /** Partitions the main thread paused (too much uncommitted work): left out of fetches until resumed. */
  private readonly paused = new Map<string, { topic: string; partition: number }>();
  private epoch = 0;
  private joined = false;
  private stopping = false;
  private readonly quietDisconnects: () => void;
  private lagTimer: ReturnType<typeof setInterval> | undefined;
  private written = 0;
  private finished: Promise<void> = Promise.resolve();
  /** Fetching waits until every consumer of this process has joined, so their first rebalance costs nothing. */
  private readonly released: Promise<void>;
  private release: () => void = () => undefined;
  private onStop: () => void = () => undefined;
  private readonly stopRequested = new Promise<void>((resolve) => (this.onStop = resolve));

  constructor(
    private readonly index: number,
    ring: RingBuffers,
    private readonly settings: ConsumerSettings,
    private readonly post: (message: FromConsumer) => void,
    private readonly log: Logger,
  ) {
    if (typeof (MessagesStream.prototype as unknown as Partial<Stream>).assignmentSerial !== "function") {
      throw new Error("@platformatic/kafka is not patched (scripts/patches): run npm install (or scripts/bootstrap.sh) again");
    }
    this.writer = new RingWriter(ring);
    this.released = new Promise((resolve) => (this.release = resolve));
    const onPartitionsRevoked = (revoked: Array<{ topic: string; partitions: number[] }>): Promise<void> => this.onRevoke(revoked);
    this.consumer = new Consumer({
      ...baseClientOptions(settings, `consumer-${index}`),
      groupId: settings.groupId,
      ...(settings.groupInstanceId !== undefined && { groupInstanceId: settings.groupInstanceId }),
      ...(settings.groupProtocol === "classic"
        ? {
            groupProtocol: "classic" as const,
            protocols: CLASSIC_PROTOCOLS,
            sessionTimeout: settings.sessionTimeoutMs,
            rebalanceTimeout: settings.rebalanceTimeoutMs,
            heartbeatInterval: settings.heartbeatIntervalMs,
            onPartitionsRevoked,
          }
        : { groupProtocol: "consumer" as const, rebalanceTimeout: settings.rebalanceTimeoutMs, onPartitionsRevoked }),
      autocommit: false,
      maxWaitTime: 200,
      // A fetch response is buffered whole however slowly it is read: keep it small so memory stays bounded.
      // Kafka still returns a record larger than this limit on its own (KIP-74).
      maxBytes: FETCH_MAX_BYTES,
      // Small per-partition slices so one response serves many partitions: with half the response each, two
      // partitions filled every fetch and the others waited their turn behind a backlog (10+ s without a commit).
      maxBytesPerPartition: FETCH_MAX_BYTES / 8,
      highWaterMark: 256,
    });
    this.quietDisconnects = reportBrokerConnections(this.consumer, this.log, (connected) => this.post({ type: "broker", connected }));
    this.consumer.on("error", (error: unknown) => this.log.warn("consumer group error; rejoining", { error: describeError(error) }));
    this.consumer.on("consumer:group:revoke:error", (event: { error?: unknown }) => this.log.warn("revoking partitions failed", { error: describeError(event.error) }));
    // The classic protocol announces every new assignment with a join event; KIP-848 changes it in heartbeats
    // without one, so the assignment is also compared after heartbeats, rebalances and revocations.
    this.consumer.on("consumer:group:join", () => {
      const memberId = this.consumer.memberId;
      if (this.memberId !== null && memberId !== this.memberId) this.restartAfterExpulsion();
      this.memberId = memberId;
      // a new assignment reads the group's offsets itself; an unchanged one after a rejoin must too
      if (!this.syncAssignment()) this.loadFloor();
    });
    this.consumer.on("consumer:heartbeat:end", () => this.syncAssignment());
    this.consumer.on("consumer:group:revoked", () => {
      // usually no change to pass on (the main thread already let the revoked partitions go): say what is left
      if (!this.syncAssignment()) this.log.info("partitions assigned", { epoch: this.epoch, partitions: [...this.assigned].map((k) => k.replace("\u0000", "/")).sort().join(","), afterRevoke: true });
    });
    this.consumer.on("consumer:group:rebalance", () => {
      this.log.info("group rebalancing");
      this.post({ type: "rebalancing", index: this.index });
      setImmediate(() => this.syncAssignment());
    });
  }

  start(): void {
    this.finished = this.run();
    this.lagTimer = setInterval(() => void this.reportLag(), LAG_EVERY_MS);
  }

  private async reportLag(): Promise<void> {
    if (!this.joined || this.stopping || this.assigned.size === 0) return;
    try {
      const lag = await this.consumer.getLag({ topics: [...this.settings.topics] });
      const entries: Array<{ topic: string; partition: number; lag: number }> = [];
      for (const [topic, partitions] of lag) {
        partitions.forEach((value, partition) => {
          if (this.assigned.has(partitionKey(topic, partition)) && value >= 0n) entries.push({ topic, partition, lag: Number(value) });
        });
      }
      this.post({ type: "lag", entries });
    } catch (error) {
      this.log.debug("lag query failed", { error: describeError(error) });
    }
  }

  /** Lets the fetch loop start reading (sent by the main thread once all its consumers joined). */
  go(): void {
    this.release();
  }

  /** Flow control from the main thread: partitions it holds too much uncommitted work of, or no longer does. */
  setPaused(partitions: ReadonlyArray<{ topic: string; partition: number }>, paused: boolean): void {
    const changed: Array<{ topic: string; partition: number }> = [];
    for (const ref of partitions) {
      const key = partitionKey(ref.topic, ref.partition);
      if (paused && this.assigned.has(key) && !this.paused.has(key)) {
        this.paused.set(key, ref);
        changed.push(ref);
      } else if (!paused && this.paused.delete(key)) changed.push(ref);
    }
    if (changed.length === 0) return;
    this.applyFlow(this.stream, changed, paused);
    this.log.info(paused ? "partitions paused: too many uncommitted records (--max-uncommitted)" : "partitions resumed", { partitions: changed.map((p) => `${p.topic}/${p.partition}`).join(",") });
  }

  private applyFlow(stream: Stream | null, partitions: ReadonlyArray<{ topic: string; partition: number }>, paused: boolean): void {
    if (stream === null) return;
    for (const { topic, partition } of partitions) {
      if (paused) stream.pausePartitions(topic, [partition]);
      else stream.resumePartitions(topic, [partition]);
    }
  }

  /** The main thread finished (or gave up on) the partitions of a `revoking` request. */
  revokeDone(requestId: number): void {
    this.revokeWaiters.get(requestId)?.();
  }

  /**
   * The group takes partitions away (the client holds them, paused, until this resolves). From now on their
   * records are stale here; the main thread lets their in-flight records finish, commits them and answers.
   */
  private async onRevoke(revoked: ReadonlyArray<{ topic: string; partitions: readonly number[] }>): Promise<void> {
    const partitions = revoked
      .flatMap(({ topic, partitions: list }) => list.map((partition) => ({ topic, partition })))
      .filter(({ topic, partition }) => this.assigned.has(partitionKey(topic, partition)));
    if (partitions.length === 0) return;
    const at = preciseNow();
    for (const { topic, partition } of partitions) {
      const key = partitionKey(topic, partition);
      this.assigned.delete(key);
      this.revoking.add(key);
      if (this.stream !== null) this.revokedSerials.set(key, { stream: this.stream, serial: this.stream.assignmentSerial(topic, partition) });
    }
    // Whatever assignment holds them again is a change, and gets a frame of its own.
    this.assignmentSignature = signatureOf(this.assigned);
    const requestId = ++this.revokeRequests;
    const started = Date.now();
    const answered = new Promise<boolean>((resolve) => this.revokeWaiters.set(requestId, () => resolve(true)));
    this.post({ type: "revoking", requestId, at, partitions });
    const done = await Promise.race([answered, sleep(this.settings.revokeTimeoutMs + REVOKE_COMMIT_GRACE_MS).then(() => false)]);
    this.revokeWaiters.delete(requestId);
    for (const { topic, partition } of partitions) this.revoking.delete(partitionKey(topic, partition));
    const names = partitions.map((p) => `${p.topic}/${p.partition}`).join(",");
    if (done) this.log.info("partitions revoked after committing their finished records", { partitions: names, ms: Date.now() - started });
    else this.log.warn("partitions revoked without an answer from the main thread; their unfinished records go to the next owner", { partitions: names });
  }

  /**
   * Commits offsets of partitions this member owns (or is handing over), never below what the group already
   * holds for them, one request at a time. The client re-sends a commit the group refused once it has rejoined:
   * that is right after an ordinary rebalance for the partitions this member kept (nobody else owned them
   * meanwhile), and wrong after it was expelled (its session expired: another member may have moved them on),
   * so the re-sent request is trimmed accordingly.
   */
  commit(requestId: number, offsets: readonly CommitOffset[]): Promise<void> {
    const next = this.commitChain.then(() => this.commitNow(requestId, offsets));
    this.commitChain = next;
    return next;
  }

  private async commitNow(requestId: number, offsets: readonly CommitOffset[]): Promise<void> {
    await this.floorLoaded;
    const owned = offsets.filter((o) => this.committable(partitionKey(o.topic, o.partition)));
    // At or below the group's offset: nothing to send, and the group already has it.
    const covered = owned.filter((o) => o.offset <= (this.floor.get(partitionKey(o.topic, o.partition)) ?? -1));
    const toSend = owned.filter((o) => !covered.includes(o));
    if (toSend.length === 0) {
      this.post({ type: "commit-result", requestId, committed: covered });
      return;
    }
    const request = toSend.map((o) => ({ topic: o.topic, partition: o.partition, offset: BigInt(o.offset), leaderEpoch: -1 }));
    const { memberId } = this.consumer;
    const onRejoin = (): void => {
      if (this.consumer.memberId !== memberId) {
        request.length = 0;
        return;
      }
      const kept = keysOf(this.consumer.assignments ?? []);
      const stillOwned = request.filter((r) => kept.has(partitionKey(r.topic, r.partition)));
      request.splice(0, request.length, ...stillOwned);
    };
    this.consumer.on("consumer:group:join", onRejoin);
    try {
      await this.consumer.commit({ offsets: request });
      const sent = new Set(request.map((r) => partitionKey(r.topic, r.partition)));
      const committed = toSend.filter((o) => sent.has(partitionKey(o.topic, o.partition)));
      for (const o of committed) {
        const key = partitionKey(o.topic, o.partition);
        this.floor.set(key, Math.max(o.offset, this.floor.get(key) ?? -1));
      }
      if (committed.length < toSend.length) {
        this.post({ type: "commit-result", requestId, committed: [...covered, ...committed], error: "this member was expelled from the group or lost partitions during the commit; those offsets were not committed" });
        return;
      }
      this.post({ type: "commit-result", requestId, committed: owned });
    } catch (error) {
      this.post({ type: "commit-result", requestId, committed: covered, error: describeError(error) });
    } finally {
      this.consumer.off("consumer:group:join", onRejoin);
    }
  }

  private committable(key: string): boolean {
    return this.assigned.has(key) || this.revoking.has(key);
  }

  /**
   * This member was expelled (its session expired: the process was frozen, say) and joined again. Other members
   * may have moved its partitions on meanwhile, even those it gets back, so everything fetched before is stale:
   * the main thread drops it (an empty assignment), this Worker stops reading the old stream, and the next one
   * starts from the committed offsets.
   */
  private restartAfterExpulsion(): void {
    this.log.warn("this member had been expelled from the group (session expired); dropping what it had fetched and starting again from the committed offsets");
    this.onAssignment([]);
    this.assignmentSignature = "";
    if (this.stream !== null) {
      this.discarded = this.stream;
      void this.stream.close().catch(() => undefined);
    }
  }

  /** Reads the group's committed offsets for the current assignment (see `floor`); commits wait for it. */
  private loadFloor(): void {
    const topics = (this.consumer.assignments ?? []).map(({ topic, partitions }) => ({ topic, partitions: [...partitions] }));
    if (topics.length === 0) return;
    this.floorLoaded = (async () => {
      try {
        // Commits wait for this: never for long (the request can stall while the group is still forming).
        const timeout = sleep(FLOOR_TIMEOUT_MS).then(() => {
          throw new Error(`no answer within ${FLOOR_TIMEOUT_MS} ms`);
        });
        const committed = await Promise.race([this.consumer.listCommittedOffsets({ topics }), timeout]);
        for (const [topic, partitions] of committed) {
          partitions.forEach((offset, partition) => {
            const key = partitionKey(topic, partition);
            if (offset >= 0n) this.floor.set(key, Math.max(Number(offset), this.floor.get(key) ?? -1));
          });
        }
      } catch (error) {
        this.log.warn("could not read the group's committed offsets after joining", { error: describeError(error) });
      }
    })();
  }

  /** Stops fetching; records already in the ring are still processed and committed by the main thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    clearInterval(this.lagTimer);
    this.quietDisconnects(); // closing the stream closes its fetch connections
    this.onStop();
    await this.stream?.close().catch(() => undefined);
    await this.finished;
  }

  async close(): Promise<void> {
    await this.stop();
    this.quietDisconnects();
    await this.consumer.close(true).catch((error: unknown) => this.log.warn("consumer close failed", { error: describeError(error) }));
  }

  private async run(): Promise<void> {
    let failures = 0;
    while (!this.stopping) {
      try {
        const stream = (await this.consumer.consume({
          topics: [...this.settings.topics],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode: this.settings.offsetReset === "earliest" ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
        })) as Stream;
        this.stream = stream;
        this.applyFlow(stream, [...this.paused.values()], true);
        if (!this.joined) {
          this.joined = true;
          this.post({ type: "joined", index: this.index });
          await Promise.race([this.released, this.stopRequested]);
        }
        if (failures > 0) this.post({ type: "stream", failure: null, failures: 0 });
        failures = 0;
        if (this.stopping) {
          // stop() came while this member was still joining: nothing was read, nothing to hand over
          await stream.close().catch(() => undefined);
          break;
        }
        await this.pump(stream);
      } catch (error) {
        if (this.stopping) break;
        const fatal = fatalReason(error);
        if (fatal !== null || !this.joined) {
          this.post({ type: "fatal", message: fatal ?? `consumer ${this.index}: cannot join group: ${describeError(error)}` });
          return;
        }
        const delay = backoffMs(failures++, 250, 10_000);
        this.log.warn("consumer stream failed; retrying", { error: describeError(error), retryInMs: delay, failures });
        this.post({ type: "stream", failure: describeError(error), failures });
        await sleep(delay);
      }
    }
    await this.writeChain;
    this.writer.close();
  }

  private async pump(stream: Stream): Promise<void> {
    let sincePublish = 0;
    const crashAfter = injectedCrashAfter(this.index);
    for await (const message of stream as AsyncIterable<SerialMessage>) {
      if (stream === this.discarded) continue;
      if (!this.isCurrent(stream, message)) continue;
      const pending = this.writeFrame(this.encoder.encode(wireRecord(message, this.epoch)));
      if (pending !== undefined) await pending;
      if (++this.written === crashAfter) {
        this.writer.publish();
        setTimeout(() => {
          throw new Error(`injected fault: consumer ${this.index} crashes after ${crashAfter} records`);
        });
      }
      if (++sincePublish >= PUBLISH_EVERY || stream.readableLength === 0) {
        this.writer.publish();
        sincePublish = 0;
      }
    }
    this.writer.publish();
    if (!this.stopping) throw new Error("message stream ended unexpectedly");
  }

  /**
   * Writes a frame now if nothing is waiting and it fits; otherwise queues a copy behind the waiting writes
   * (the encoder's buffer is reused) and returns the promise of its write. One writer at a time, in order.
   */
  private writeFrame(frame: Uint8Array): Promise<void> | undefined {
    if (this.writeChain === null && this.writer.tryWrite(frame)) return undefined;
    const copy = frame.slice();
    const next = (this.writeChain ?? Promise.resolve()).then(async () => {
      await this.writer.write(copy);
      this.writer.publish();
    });
    this.writeChain = next;
    void next.finally(() => {
      if (this.writeChain === next) this.writeChain = null;
    });
    return next;
  }

  /**
   * Only records of partitions this member owns now, fetched under their current assignment, go on. The client
   * still delivers what it buffered before a partition was taken away (their new owner starts from the committed
   * offset, which none of them passed), and a partition revoked and given back starts again from its committed
   * offset: records buffered before carry an older assignment serial.
   */
  private isCurrent(stream: Stream, message: SerialMessage): boolean {
    const key = partitionKey(message.topic, message.partition);
    if (!this.assigned.has(key)) {
      this.syncAssignment();
      if (!this.assigned.has(key)) return false;
    }
    const serial = message.assignmentSerial;
    if (serial !== stream.assignmentSerial(message.topic, message.partition)) return false;
    const revoked = this.revokedSerials.get(key);
    return revoked === undefined || revoked.stream !== stream || revoked.serial !== serial;
  }

  /**
   * Returns whether the assignment changed (and was passed on). Partitions being revoked do not count: the client
   * still lists them until the revocation is done.
   */
  private syncAssignment(): boolean {
    const current = (this.consumer.assignments ?? []).map(({ topic, partitions }) => ({
      topic,
      partitions: partitions.filter((p) => !this.revoking.has(partitionKey(topic, p))),
    }));
    const signature = signatureOf(keysOf(current));
    if (signature === this.assignmentSignature) return false;
    this.assignmentSignature = signature;
    this.onAssignment(current);
    return true;
  }

  private onAssignment(current: Assignments): void {
    this.loadFloor();
    this.assigned = keysOf(current);
    // a partition that comes back starts unpaused: the main thread dropped its work and counts afresh
    const unpaused = [...this.paused].filter(([key]) => !this.assigned.has(key));
    for (const [key] of unpaused) this.paused.delete(key);
    this.applyFlow(this.stream, unpaused.map(([, ref]) => ref), false);
    this.epoch++;
    const change: AssignmentChange = {
      partitions: current.flatMap(({ topic, partitions }) => partitions.map((partition) => ({ topic, partition }))),
    };
    this.log.info("partitions assigned", { epoch: this.epoch, partitions: change.partitions.map((p) => `${p.topic}/${p.partition}`).join(",") });
    const frame = this.encoder.encode({
      ref: this.epoch,
      topic: "",
      partition: ASSIGNMENT_FRAME,
      offset: 0,
      // the claim's time: the main thread orders claims of one partition by consumers of this process with it
      timestamp: preciseNow(),
      key: null,
      value: textEncoder.encode(JSON.stringify(change)),
      headers: [],
    });
    void this.writeFrame(frame);
    this.writer.publish();
  }
}
