/**
 * One group member inside a Worker: fetches records and writes them into its ring, writes an assignment frame
 * whenever the group hands it a new assignment, hands partitions being revoked to the main thread to finish and
 * commit before letting them go (commit on revoke), and commits the offsets the main thread asks for.
 *
 * Backpressure: the loop awaits ring space before pulling the next record, and the client's stream stops
 * fetching while it is not being read.
 *
 * Parts: assignment.ts (what this member owns), commit-floor.ts and offset-committer.ts (commits),
 * flow-control.ts (--max-uncommitted), lag-reporter.ts, ring-output.ts, patched-stream.ts (what the patched client
 * adds, see scripts/patches/@platformatic+kafka).
 */
import { Consumer, MessagesStreamFallbackModes, MessagesStreamModes } from "@platformatic/kafka";
import type { RingBuffers } from "../threads/byte-ring.ts";
import type { Logger } from "../observability/logger.ts";
import { AssignmentTracker, describePartitions, partitionsOf, type Assignments } from "./assignment.ts";
import { CommitFloor } from "./commit-floor.ts";
import { reportBrokerConnections } from "./connection-events.ts";
import { backoffMs, classify, describeError, sleep } from "./errors.ts";
import { PausedPartitions } from "./flow-control.ts";
import { watchGroupEvents } from "./group-events.ts";
import { groupMemberOptions } from "./group-options.ts";
import { LagReporter } from "./lag-reporter.ts";
import { OffsetCommitter } from "./offset-committer.ts";
import { assertPatched, type PartitionRef, type SerialMessage, type Stream } from "./patched-stream.ts";
import type { CommitOffset, ConsumerSettings, FromConsumer, GroupMember } from "../threads/messages.ts";
import { preciseNow, RingOutput } from "./ring-output.ts";

const PUBLISH_EVERY = 256;
/** Beyond --revoke-timeout, time for the main thread's commit of revoked partitions to come back. */
const REVOKE_COMMIT_GRACE_MS = 10_000;
/** How long a new stream waits for the client to finish a rejoin of its own (see untilMember). */
const MEMBER_WAIT_MS = 30_000;
export class ConsumerLoop {
  private readonly output: RingOutput;
  private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>;
  private stream: Stream | null = null;
  private readonly assignment = new AssignmentTracker();
  private readonly paused = new PausedPartitions();
  private readonly floor = new CommitFloor();
  private readonly committer: OffsetCommitter;
  private readonly lag: LagReporter;
  private readonly revokeWaiters = new Map<number, () => void>();
  private revokeRequests = 0;
  /** The member id the group gave at the last join: a new one means this member had been expelled. */
  private memberId: string | null = null;
  /** A stream whose buffered records are stale (fetched before an expulsion): read no more of it. */
  private discarded: Stream | null = null;
  private epoch = 0;
  /**
   * Exactly-once mode: the main thread aborted a transaction; the next stream's first frame says `refetched` with
   * the latest round asked for (null: none pending).
   */
  private refetchPending: number | null = null;
  /**
   * Since when the client has been rejoining its group (a rebalance event, until the join event), or null. A stream
   * closed meanwhile takes the connection the JoinGroup is waiting on with it, and a new one starts a second
   * JoinGroup: either can leave the rejoin hanging, and the group's rebalance with it, until the rebalance timeout.
   */
  private rebalancingSince: number | null = null;
  /** A refetch asked for during a rejoin: its stream is closed once the rejoin is done. */
  private closeAfterRejoin: ReturnType<typeof setTimeout> | null = null;
  /** Called by the join event: a refetch that waited for the rejoin goes ahead. */
  private whenRejoined: (() => void) | null = null;
  /** The group metadata last posted (exactly-once mode sends offsets with it). */
  private postedMember = "";
  private joined = false;
  private stopping = false;
  private readonly quietDisconnects: () => void;
  private written = 0;
  private finished: Promise<void> = Promise.resolve();
  /** Fetching waits until every consumer of this process has joined, so their first rebalance costs nothing. */
  private readonly released: Promise<void>;
  private release: () => void = () => undefined;
  private onStop: () => void = () => undefined;
  private readonly stopRequested = new Promise<void>((resolve) => (this.onStop = resolve));

  constructor(
    /** This consumer's owner id in the process (a restarted Worker gets a new one). */
    private readonly owner: number,
    ring: RingBuffers,
    private readonly settings: ConsumerSettings,
    private readonly post: (message: FromConsumer) => void,
    private readonly log: Logger,
  ) {
    assertPatched();
    this.output = new RingOutput(ring);
    this.released = new Promise((resolve) => (this.release = resolve));
    this.consumer = new Consumer(groupMemberOptions(settings, owner, (revoked) => this.onRevoke(revoked)));
    this.committer = new OffsetCommitter(
      this.consumer,
      this.floor,
      (topic, partition) => this.assignment.committable(topic, partition),
      post,
    );
    this.lag = new LagReporter(
      {
        active: () => this.joined && !this.stopping && this.assignment.size > 0,
        owns: (topic, partition) => this.assignment.owns(topic, partition),
        query: () => this.consumer.getLag({ topics: [...this.settings.topics] }),
      },
      post,
      log,
    );
    this.quietDisconnects = reportBrokerConnections(this.consumer, this.log, (connected) => this.post({ type: "broker", connected }));
    // The classic protocol announces every new assignment with a join event; KIP-848 changes it in heartbeats
    // without one, so the assignment is also compared after heartbeats, rebalances and revocations.
    watchGroupEvents(this.consumer, log, {
      joined: (memberId) => {
        this.rebalancingSince = null;
        if (this.memberId !== null && memberId !== this.memberId) this.restartAfterExpulsion();
        this.memberId = memberId;
        const rejoined = this.whenRejoined;
        this.whenRejoined = null;
        rejoined?.();
        // a new assignment reads the group's offsets itself; an unchanged one after a rejoin must too
        if (!this.syncAssignment()) this.loadFloor();
        // after the frames: the new metadata must not be used for what the member owned before
        this.postMember();
      },
      heartbeat: () => {
        this.syncAssignment();
        this.postMember();
      },
      // usually no change to pass on (the main thread already let the revoked partitions go): say what is left
      revoked: () => {
        if (!this.syncAssignment())
          this.log.info("partitions assigned", { epoch: this.epoch, partitions: this.assignment.describe(), afterRevoke: true });
      },
      rebalancing: () => {
        this.rebalancingSince ??= Date.now();
        this.postMember();
        this.post({ type: "rebalancing", owner: this.owner });
        setImmediate(() => this.syncAssignment());
      },
    });
  }

  start(): void {
    this.finished = this.run();
    this.lag.start();
  }

  /** Lets the fetch loop start reading (sent by the main thread once all its consumers joined). */
  go = (): void => this.release();

  /** Flow control from the main thread: partitions it holds too much uncommitted work of, or no longer does. */
  setPaused(partitions: readonly PartitionRef[], paused: boolean): void {
    const changed = this.paused.set(partitions, paused, (topic, partition) => this.assignment.owns(topic, partition), this.stream);
    if (changed.length === 0) return;
    this.log.info(paused ? "partitions paused: too many uncommitted records (--max-uncommitted)" : "partitions resumed", {
      partitions: describePartitions(changed),
    });
  }

  /** The main thread finished (or gave up on) the partitions of a `revoking` request. */
  revokeDone(requestId: number): void {
    this.revokeWaiters.get(requestId)?.();
  }

  /**
   * The group takes partitions away (the client holds them, paused, until this resolves). From now on their
   * records are stale here; the main thread lets their in-flight records finish, commits them and answers.
   */
  private async onRevoke(revoked: Assignments): Promise<void> {
    const partitions = this.assignment.beginRevoke(revoked, this.stream);
    if (partitions.length === 0) return;
    const at = preciseNow();
    const requestId = ++this.revokeRequests;
    const started = Date.now();
    const answered = new Promise<boolean>((resolve) => this.revokeWaiters.set(requestId, () => resolve(true)));
    this.post({ type: "revoking", requestId, at, partitions, member: this.member(), epoch: this.epoch });
    const done = await Promise.race([answered, sleep(this.settings.revokeTimeoutMs + REVOKE_COMMIT_GRACE_MS).then(() => false)]);
    this.revokeWaiters.delete(requestId);
    this.assignment.endRevoke(partitions);
    const names = describePartitions(partitions);
    if (done) this.log.info("partitions revoked after committing their finished records", { partitions: names, ms: Date.now() - started });
    else
      this.log.warn("partitions revoked without an answer from the main thread; their unfinished records go to the next owner", {
        partitions: names,
      });
  }

  /**
   * Exactly-once mode: the main thread aborted a transaction, so every owned partition is read again from the
   * group's committed offsets: the current stream is dropped and the next one starts with a `refetched` frame.
   */
  refetch(round: number): void {
    this.refetchPending = Math.max(round, this.refetchPending ?? round);
    this.log.info("reading the assigned partitions again from their committed offsets (a transaction was aborted)");
    if (this.rebalancingSince === null) {
      this.discardStream();
      return;
    }
    // not in the middle of a rejoin (see rebalancingSince): once it is done, or after MEMBER_WAIT_MS at the latest
    if (this.closeAfterRejoin !== null) return;
    const deadline = Math.max(0, this.rebalancingSince + MEMBER_WAIT_MS - Date.now());
    const close = (): void => {
      if (this.closeAfterRejoin === null) return;
      clearTimeout(this.closeAfterRejoin);
      this.closeAfterRejoin = null;
      this.discardStream();
    };
    this.closeAfterRejoin = setTimeout(close, deadline);
    this.whenRejoined = close;
  }

  /** Reads no more of the current stream (its buffered records are stale) and closes it; the run loop opens the next. */
  private discardStream(): void {
    if (this.stream === null || this.stream === this.discarded) return;
    this.discarded = this.stream;
    void this.stream.close().catch(() => undefined);
  }

  /** Where this member stands in its group, or null before it joined. */
  private member(): GroupMember | null {
    const { memberId, generationId, coordinatorId, groupInstanceId } = this.consumer;
    if (!memberId || coordinatorId === undefined || coordinatorId === null) return null;
    return { groupId: this.settings.groupId, generationId, memberId, groupInstanceId: groupInstanceId ?? null, coordinatorId };
  }

  private postMember(): void {
    const member = this.member();
    if (member === null) return;
    const text = JSON.stringify(member);
    if (text === this.postedMember) return;
    this.postedMember = text;
    this.post({ type: "member", member, epoch: this.epoch });
  }

  /** Commits offsets of partitions this member owns or is handing over (see OffsetCommitter). */
  commit(requestId: number, offsets: readonly CommitOffset[]): Promise<void> {
    return this.committer.commit(requestId, offsets);
  }

  /**
   * This member was expelled (its session expired: the process was frozen, say) and joined again. Other members
   * may have moved its partitions on meanwhile, even those it gets back, so everything fetched before is stale:
   * the main thread drops it (an empty assignment), this Worker stops reading the old stream, and the next one
   * starts from the committed offsets.
   */
  private restartAfterExpulsion(): void {
    this.log.warn("expelled from the group (session expired): dropping what was fetched, starting again from the committed offsets");
    this.assignment.reset();
    this.onAssignment([]);
    if (this.stream !== null) {
      this.discarded = this.stream;
      void this.stream.close().catch(() => undefined);
    }
  }

  /** Reads the group's committed offsets for the current assignment (see CommitFloor); commits wait for it. */
  private loadFloor(): void {
    this.floor.loadFor(this.consumer, (error) =>
      this.log.warn("could not read the group's committed offsets after joining", { error: describeError(error) }),
    );
  }

  /** Stops fetching; records already in the ring are still processed and committed by the main thread. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.closeAfterRejoin !== null) clearTimeout(this.closeAfterRejoin);
    this.closeAfterRejoin = null;
    this.lag.stop();
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
        await this.untilMember();
        const stream = (await this.consumer.consume({
          topics: [...this.settings.topics],
          mode: MessagesStreamModes.COMMITTED,
          fallbackMode:
            this.settings.offsetReset === "earliest" ? MessagesStreamFallbackModes.EARLIEST : MessagesStreamFallbackModes.LATEST,
        })) as Stream;
        this.stream = stream;
        this.paused.applyTo(stream);
        this.postMember();
        if (this.refetchPending !== null) {
          const round = this.refetchPending;
          this.refetchPending = null;
          this.writeAssignment(this.assignment.owned(), round);
        }
        if (!this.joined) {
          this.joined = true;
          this.post({ type: "joined", owner: this.owner });
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
        const failure = classify(error);
        if (!failure.retriable) {
          this.post({ type: "fatal", failure });
          return;
        }
        if (!this.joined) {
          this.post({ type: "fatal", failure: { ...failure, message: `consumer ${this.owner}: cannot join group: ${failure.message}` } });
          return;
        }
        const delay = backoffMs(failures++, 250, 10_000);
        this.log.warn("consumer stream failed; retrying", { error: failure.message, kind: failure.kind, retryInMs: delay, failures });
        this.post({ type: "stream", failure, failures });
        await sleep(delay);
      }
    }
    await this.output.close();
  }

  /**
   * A member the group expelled has no member id until the client's own rejoin is done, and a member rejoining
   * (rebalancingSince) has a JoinGroup in flight: a stream asked for meanwhile would start a second JoinGroup next to
   * it (the member came out of that without partitions, or the rejoin hung).
   */
  private async untilMember(): Promise<void> {
    const deadline = Date.now() + MEMBER_WAIT_MS;
    const waiting = (): boolean => !this.consumer.memberId || this.rebalancingSince !== null;
    while (this.joined && !this.stopping && waiting() && Date.now() < deadline) await sleep(50);
  }

  private async pump(stream: Stream): Promise<void> {
    let sincePublish = 0;
    // Test fault injection (see fault-injection.ts). Release and default builds define PROCESSOR_FAULT_INJECTION
    // as false, so the bundler drops it; run from source it is undefined: off as well.
    const crashAfter = this.settings.faults?.crashAfterRecords ?? -1;
    for await (const message of stream as AsyncIterable<SerialMessage>) {
      if (stream === this.discarded) continue;
      if (!this.isCurrent(stream, message)) continue;
      const pending = this.output.writeRecord(message, this.epoch);
      if (pending !== undefined) await pending;
      if (typeof PROCESSOR_FAULT_INJECTION !== "undefined" && PROCESSOR_FAULT_INJECTION && ++this.written === crashAfter) {
        this.output.publish();
        setTimeout(() => {
          throw new Error(`injected fault: consumer ${this.owner} crashes after ${crashAfter} records`);
        });
      }
      if (++sincePublish >= PUBLISH_EVERY || stream.readableLength === 0) {
        this.output.publish();
        sincePublish = 0;
      }
    }
    this.output.publish();
    if (!this.stopping && stream === this.discarded) {
      // Dropped on purpose (expelled, or refetch): the next stream starts from the committed offsets. Only once this
      // one is closed: its close un-subscribes the topics, and a rejoin after a new stream subscribed them would
      // then ask the group for nothing.
      await stream.close().catch(() => undefined);
      return;
    }
    if (!this.stopping) throw new Error("message stream ended unexpectedly");
  }

  /**
   * Only records of partitions this member owns now, fetched under their current assignment, go on. The client
   * still delivers what it buffered before a partition was taken away (their new owner starts from the committed
   * offset, which none of them passed), and a partition revoked and given back starts again from its committed
   * offset (see AssignmentTracker.fetchedUnderCurrent).
   */
  private isCurrent(stream: Stream, message: SerialMessage): boolean {
    if (!this.assignment.owns(message.topic, message.partition)) {
      this.syncAssignment();
      if (!this.assignment.owns(message.topic, message.partition)) return false;
    }
    return this.assignment.fetchedUnderCurrent(stream, message);
  }

  /** Returns whether the assignment changed (and was passed on). Partitions being revoked do not count. */
  private syncAssignment(): boolean {
    const current = this.assignment.changed(this.consumer.assignments);
    if (current === null) return false;
    this.onAssignment(current);
    return true;
  }

  /** Passes the (already adopted) assignment on to the main thread as a frame. */
  private onAssignment(current: Assignments): void {
    this.loadFloor();
    this.paused.keepOnly((topic, partition) => this.assignment.owns(topic, partition), this.stream);
    this.writeAssignment(partitionsOf(current), null);
  }

  /** `refetched`: the refetch round this frame starts the re-read for, or null. */
  private writeAssignment(partitions: PartitionRef[], refetched: number | null): void {
    this.epoch++;
    this.log.info("partitions assigned", {
      epoch: this.epoch,
      partitions: describePartitions(partitions),
      ...(refetched !== null && { refetched }),
    });
    this.output.writeAssignment(this.epoch, refetched !== null ? { partitions, refetched } : { partitions });
  }
}
