/**
 * Commit batching: every partition whose contiguous completed prefix moved is committed through the consumer
 * that owns it, one request per consumer per round. A refused commit is handed back to the tracker, so the next
 * round asks again.
 */
import type { OffsetTracker, CommitRequest } from "../offsets/offset-tracker.ts";
import type { Logger } from "../observability/logger.ts";
import type { CommitPort, PipelineObserver, PipelineStats } from "./types.ts";

export class Commits {
  constructor(
    private readonly tracker: OffsetTracker,
    private readonly stats: PipelineStats,
    private readonly observer: PipelineObserver,
    private readonly log: Logger,
  ) {}

  /** One commit round over every consumer. */
  async round(portOf: (owner: number) => CommitPort | undefined): Promise<void> {
    const byOwner = new Map<number, CommitRequest[]>();
    for (const request of this.tracker.takeCommits()) {
      const list = byOwner.get(request.owner) ?? [];
      list.push(request);
      byOwner.set(request.owner, list);
    }
    await Promise.all(
      [...byOwner].map(async ([owner, requests]) => {
        const port = portOf(owner);
        if (!port) return;
        const started = performance.now();
        const result = await port(requests);
        this.observer.commitSeconds((performance.now() - started) / 1000);
        this.stats.committedOffsets += result.committed.length;
        if (result.failure !== undefined) {
          // a commit racing a rebalance is refused for its generation: expected, and retried under the new one
          const raced = result.failure.kind === "rebalance";
          this.log[raced ? "info" : "warn"]("commit failed; will retry", {
            consumer: owner,
            error: result.failure.message,
            kind: result.failure.kind,
            partitions: requests.length,
          });
          for (const request of requests) this.tracker.retryCommit(request);
        }
      }),
    );
  }

  /**
   * Commits what is finished of partitions being revoked from `owner`, through that consumer alone: a round
   * through every consumer could wait behind another consumer's JoinGroup, which waits for this revocation.
   */
  async revoked(owner: number, keys: readonly string[], port: CommitPort | undefined): Promise<void> {
    await this.commitKeys(owner, keys, port);
    // a commit refused (the group moving on) is asked for once more while the partitions are ours
    if (this.tracker.hasUncommitted(keys)) await this.commitKeys(owner, keys, port);
  }

  private async commitKeys(owner: number, keys: readonly string[], port: CommitPort | undefined): Promise<void> {
    const requests = this.tracker.takeCommitsFor(keys);
    if (requests.length === 0 || port === undefined) return;
    const result = await port(requests);
    this.stats.committedOffsets += result.committed.length;
    if (result.failure === undefined) return;
    this.log.info("commit of revoked partitions failed", { consumer: owner, error: result.failure.message, kind: result.failure.kind });
    for (const request of requests) this.tracker.retryCommit(request);
  }
}
