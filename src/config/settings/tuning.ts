/** Tuning settings: ring buffer, message size and consumer group timings. Entries in --help order. */
import { GiB, KiB } from "../parse-values.ts";
import { byteSize, duration } from "../value-types.ts";
import { type Setting, withDefault } from "./define.ts";

export const tuningSettings = {
  ringBytes: withDefault(
    {
      flag: "ring-size",
      env: ["PROCESSOR_RING_SIZE"],
      group: "Tuning",
      description: "Ring buffer size; a power of two between 64KiB and 1GiB.",
      type: byteSize({ min: 64 * KiB, max: GiB, powerOfTwo: true }),
    },
    "4MiB",
  ),
  maxMessageBytes: withDefault(
    {
      flag: "max-message-bytes",
      env: ["PROCESSOR_MAX_MESSAGE_BYTES"],
      group: "Tuning",
      description:
        "Largest output record (key + value + headers) processor sends; a larger one is not sent and its input goes to the dead-letter topic (>= 1KiB). Kafka's own limit is the topic's max.message.bytes.",
      type: byteSize({ min: KiB }),
    },
    "16MiB",
  ),
  sessionTimeoutMs: withDefault(
    {
      flag: "session-timeout",
      env: ["PROCESSOR_SESSION_TIMEOUT"],
      group: "Tuning",
      description: "Consumer group session timeout.",
      type: duration(),
    },
    "30s",
  ),
  rebalanceTimeoutMs: withDefault(
    {
      flag: "rebalance-timeout",
      env: ["PROCESSOR_REBALANCE_TIMEOUT"],
      group: "Tuning",
      description: "Consumer group rebalance timeout.",
      type: duration(),
    },
    "60s",
  ),
  revokeTimeoutMs: withDefault(
    {
      flag: "revoke-timeout",
      env: ["PROCESSOR_REVOKE_TIMEOUT"],
      group: "Tuning",
      description:
        "How long partitions being taken away by a rebalance may finish their in-flight records before their progress is committed and they are released (< --rebalance-timeout).",
      type: duration(),
    },
    "5s",
  ),
  heartbeatIntervalMs: withDefault(
    {
      flag: "heartbeat-interval",
      env: ["PROCESSOR_HEARTBEAT_INTERVAL"],
      group: "Tuning",
      description: "Consumer heartbeat interval (< --session-timeout).",
      type: duration(),
    },
    "3s",
  ),
} as const satisfies Record<string, Setting>;
