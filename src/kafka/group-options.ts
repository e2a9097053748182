/** The group member's client options, from its settings. */
import type { ConsumerOptions } from "@platformatic/kafka";
import { baseClientOptions } from "./client-options.ts";
import type { ConsumerSettings } from "../threads/messages.ts";

const FETCH_MAX_BYTES = 2 << 20;
/** Classic protocol: cooperative-sticky first; round robin only so a group with older members can still form. */
const CLASSIC_PROTOCOLS = [
  { name: "cooperative-sticky", version: 3 },
  { name: "roundrobin", version: 1 },
];

export type OnPartitionsRevoked = (revoked: Array<{ topic: string; partitions: number[] }>) => Promise<void>;

export function groupMemberOptions(
  settings: ConsumerSettings,
  owner: number,
  onPartitionsRevoked: OnPartitionsRevoked,
): ConsumerOptions<Buffer, Buffer, Buffer, Buffer> {
  return {
    ...baseClientOptions(settings, `consumer-${owner}`),
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
  };
}
