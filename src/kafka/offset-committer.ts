/**
 * Commits offsets of partitions this member owns (or is handing over), never below what the group already holds
 * for them (CommitFloor), one request at a time so an older one can never land after a newer one. The client
 * re-sends a commit the group refused once it has rejoined: that is right after an ordinary rebalance for the
 * partitions this member kept (nobody else owned them meanwhile), and wrong after it was expelled (its session
 * expired: another member may have moved them on), so the re-sent request is trimmed accordingly.
 */
import type { Consumer } from "@platformatic/kafka";
import { partitionKey } from "../offsets/offset-tracker.ts";
import { keysOf } from "./assignment.ts";
import type { CommitFloor } from "./commit-floor.ts";
import { classify, type Failure } from "./errors.ts";
import type { CommitOffset, FromConsumer } from "../threads/messages.ts";

const EXPELLED: Failure = {
  kind: "expelled",
  message: "this member was expelled from the group or lost partitions during the commit; those offsets were not committed",
  retriable: true,
};

export class OffsetCommitter {
  private chain: Promise<void> = Promise.resolve();

  constructor(
    private readonly consumer: Consumer<Buffer, Buffer, Buffer, Buffer>,
    private readonly floor: CommitFloor,
    private readonly committable: (topic: string, partition: number) => boolean,
    private readonly post: (message: FromConsumer) => void,
  ) {}

  commit(requestId: number, offsets: readonly CommitOffset[]): Promise<void> {
    const next = this.chain.then(() => this.commitNow(requestId, offsets));
    this.chain = next;
    return next;
  }

  private async commitNow(requestId: number, offsets: readonly CommitOffset[]): Promise<void> {
    await this.floor.ready();
    const { owned, covered, toSend } = this.floor.plan(offsets, this.committable);
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
      for (const o of committed) this.floor.raise(o.topic, o.partition, o.offset);
      if (committed.length < toSend.length) {
        this.post({ type: "commit-result", requestId, committed: [...covered, ...committed], failure: EXPELLED });
        return;
      }
      this.post({ type: "commit-result", requestId, committed: owned });
    } catch (error) {
      this.post({ type: "commit-result", requestId, committed: covered, failure: classify(error) });
    } finally {
      this.consumer.off("consumer:group:join", onRejoin);
    }
  }
}
