/** What consumer Worker `owner` (in slot `slot` of this process) is started with. */
import type { Config } from "../config/index.ts";
import { consumerFaults } from "../kafka/fault-injection.ts"; // test builds only
import type { ClientSettings, ConsumerSettings } from "../threads/messages.ts";

export function consumerSettings(config: Config, client: ClientSettings, owner: number, slot: number): ConsumerSettings {
  return {
    ...client,
    groupId: config.groupId,
    topics: config.inputTopics,
    offsetReset: config.offsetReset,
    groupProtocol: config.groupProtocol,
    // the slot, not the owner: a restarted Worker keeps its static member id
    ...(config.groupInstanceId !== undefined && { groupInstanceId: `${config.groupInstanceId}-${slot}` }),
    revokeTimeoutMs: config.revokeTimeoutMs,
    sessionTimeoutMs: config.sessionTimeoutMs,
    rebalanceTimeoutMs: config.rebalanceTimeoutMs,
    heartbeatIntervalMs: config.heartbeatIntervalMs,
    maxMessageBytes: config.maxMessageBytes,
    ...consumerFaults(owner),
  };
}
