/**
 * Exactly-once commits: every partition whose released prefix moved is committed by ending the transaction of
 * the producer that holds its outputs, with the offsets sent per consumer under that consumer's group metadata.
 * Rounds run one at a time (the timer's, a rebalance's, a revocation's). A transaction that does not commit
 * means what was released since the last commit is gone: the pipeline aborts everything open and reads every
 * partition again from its committed offsets (see Pipeline.abortAndReplay).
 */
import { partitionKey, type CommitRequest, type OffsetTracker } from "../offsets/offset-tracker.ts";
import type { CommitOffset, GroupMember, TransactionControl } from "../threads/messages.ts";
import type { TransactionOutcome } from "./outbox.ts";
import type { PipelineObserver, PipelineStats } from "./types.ts";

/** What the transactions need of the rest of the pipeline. */
export interface TransactionPorts {
  producerOfPartition(partitionKey: string): number;
  endTransaction(index: number, control: TransactionControl): Promise<TransactionOutcome>;
  /** A transaction did not commit: abort what is open and replay from the committed offsets. */
  abortAndReplay(reason: string): Promise<void>;
}

export class Transactions {
  private readonly members = new Map<number, GroupMember>();
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly tracker: OffsetTracker,
    private readonly stats: PipelineStats,
    private readonly observer: Pick<PipelineObserver, "commitSeconds">,
    private readonly ports: TransactionPorts,
  ) {}

  /** Consumer `owner`'s group metadata, as it last reported it. */
  setMember(owner: number, member: GroupMember): void {
    this.members.set(owner, member);
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
    const byProducer = new Map<number, Map<number, CommitRequest[]>>();
    for (const request of this.tracker.takeCommits()) {
      if (!this.members.has(request.owner)) {
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
        const groups = [...owners].map(([owner, requests]) => ({ member: this.members.get(owner)!, offsets: requests.map(offsetOf) }));
        const count = groups.reduce((sum, group) => sum + group.offsets.length, 0);
        return { index, count, outcome: await this.ports.endTransaction(index, { type: "commit", groups }) };
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
