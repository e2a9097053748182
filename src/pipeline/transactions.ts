/**
 * Exactly-once commits: every partition whose released prefix moved is committed by ending the transaction of
 * the producer that holds its outputs, with the offsets sent per consumer under that consumer's group metadata.
 * Rounds run one at a time (the timer's, a rebalance's, a revocation's). A transaction that does not commit
 * means what was released since the last commit is gone: the pipeline aborts everything open and reads every
 * partition again from its committed offsets (see Pipeline.abortAndReplay).
 */
import { partitionKey, type CommitRequest, type OffsetTracker } from "../offsets/offset-tracker.ts";
import type { CommitOffset, GroupMember, TransactionControl, TransactionOutcome } from "../threads/messages.ts";
import type { PipelineObserver, PipelineStats } from "./types.ts";

/** What the transactions need of the rest of the pipeline. */
export interface TransactionPorts {
  producerOfPartition(partitionKey: string): number;
  endTransaction(index: number, control: TransactionControl): Promise<TransactionOutcome>;
  /** A transaction did not commit: abort what is open and replay from the committed offsets. */
  abortAndReplay(reason: string): Promise<void>;
  /** The last assignment frame of consumer `owner` the intake has read. */
  assignmentEpoch(owner: number): number;
}

export class Transactions {
  /** Per consumer: its group metadata, valid from its assignment frame `epoch` on. */
  private readonly members = new Map<number, { readonly member: GroupMember; readonly epoch: number }>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly tracker: OffsetTracker,
    private readonly stats: PipelineStats,
    private readonly observer: Pick<PipelineObserver, "commitSeconds">,
    private readonly ports: TransactionPorts,
  ) {}

  /**
   * Consumer `owner`'s group metadata, as it last reported it, valid once its ring has been read up to assignment
   * frame `epoch`: a member that rejoined (after an expulsion) must not commit partitions it owned before.
   */
  setMember(owner: number, member: GroupMember, epoch: number): void {
    this.members.set(owner, { member, epoch });
  }

  forgetOwner(owner: number): void {
    this.members.delete(owner);
  }

  /** One commit round; waits for a round already running, then runs. */
  round(): Promise<void> {
    const next = this.chain.then(
      () => this.commitOnce(),
      () => this.commitOnce(),
    );
    this.chain = next.catch(() => undefined);
    return next;
  }

  private async commitOnce(): Promise<void> {
    // a partition that left with outputs in an open transaction: committing it would commit them without offsets
    const dirty = this.tracker.takeDirty();
    if (dirty.length > 0) {
      await this.ports.abortAndReplay(`${dirty.length} partition(s) left or restarted with outputs not yet committed`);
      return;
    }
    const byProducer = new Map<number, Map<number, CommitRequest[]>>();
    for (const request of this.tracker.takeCommits()) {
      const known = this.members.get(request.owner);
      if (known === undefined || this.ports.assignmentEpoch(request.owner) < known.epoch) {
        this.tracker.retryCommit(request);
        continue;
      }
      const index = this.ports.producerOfPartition(partitionKey(request.topic, request.partition));
      const owners = byProducer.get(index) ?? new Map<number, CommitRequest[]>();
      const list = owners.get(request.owner) ?? [];
      list.push(request);
      owners.set(request.owner, list);
      byProducer.set(index, owners);
    }
    if (byProducer.size === 0) return;
    const started = performance.now();
    const outcomes = await Promise.all(
      [...byProducer].map(async ([index, owners]) => {
        const groups = [...owners].map(([owner, requests]) => ({
          member: this.members.get(owner)!.member,
          offsets: requests.map(offsetOf),
        }));
        const count = groups.reduce((sum, group) => sum + group.offsets.length, 0);
        const outcome = await this.ports.endTransaction(index, { type: "commit", groups });
        if (outcome.committed) this.tracker.confirm([...owners.values()].flat());
        return { index, count, outcome };
      }),
    );
    this.observer.commitSeconds((performance.now() - started) / 1000);
    let failure: string | null = null;
    for (const { index, count, outcome } of outcomes) {
      if (outcome.committed) {
        this.stats.committedOffsets += count;
        this.stats.transactionsCommitted++;
      } else {
        failure ??= `producer ${index}: ${outcome.failure.message}`;
      }
    }
    if (failure !== null) await this.ports.abortAndReplay(failure);
  }
}

const offsetOf = ({ topic, partition, offset }: CommitRequest): CommitOffset => ({ topic, partition, offset });
