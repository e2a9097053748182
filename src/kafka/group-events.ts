/** The client's group events a consumer loop reacts to, in one place (with the logging they always get). */
import type { Consumer } from "@platformatic/kafka";
import type { Logger } from "../observability/logger.ts";
import { describeError } from "./errors.ts";

export interface GroupEventHandlers {
  /** A (re)join finished; `memberId` is the id the group gave. */
  joined(memberId: string | null): void;
  /** KIP-848 changes assignments in heartbeats, without a join event. */
  heartbeat(): void;
  /** The client finished a revocation (commit on revoke already ran). */
  revoked(): void;
  rebalancing(): void;
}

export function watchGroupEvents(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, log: Logger, on: GroupEventHandlers): void {
  consumer.on("error", (error: unknown) => log.warn("consumer group error; rejoining", { error: describeError(error) }));
  consumer.on("consumer:group:revoke:error", (event: { error?: unknown }) =>
    log.warn("revoking partitions failed", { error: describeError(event.error) }),
  );
  consumer.on("consumer:group:join", () => on.joined(consumer.memberId ?? null));
  consumer.on("consumer:heartbeat:end", () => on.heartbeat());
  consumer.on("consumer:group:revoked", () => on.revoked());
  consumer.on("consumer:group:rebalance", () => {
    log.info("group rebalancing");
    on.rebalancing();
  });
}
