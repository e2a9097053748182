/** Reliability settings: retries, offsets, shutdown and the dead-letter guards. Entries in --help order. */
import { boolean, duration, integer, oneOf, ratio, transactionalIdPrefix } from "../value-types.ts";
import { derived, optional, type Setting, withDefault } from "./define.ts";

export const reliabilitySettings = {
  guarantee: withDefault(
    {
      flag: "guarantee",
      env: ["PROCESSOR_GUARANTEE"],
      group: "Reliability",
      description:
        "at-least-once: offsets are committed once outputs are in Kafka (a crash replays, so outputs may repeat). exactly-once: outputs, dead-letter copies and input offsets are committed together in Kafka transactions every --commit-interval; read the outputs with isolation.level=read_committed. Kafka to Kafka only: a handler's side effects elsewhere stay at-least-once.",
      type: oneOf(["at-least-once", "exactly-once"]),
    },
    "at-least-once",
  ),
  transactionalId: derived(
    {
      flag: "transactional-id",
      env: ["PROCESSOR_TRANSACTIONAL_ID"],
      group: "Reliability",
      description:
        "exactly-once: prefix of the producers' transactional ids (producer n uses <prefix>-<n>). A process restarted with the same prefix aborts what its crashed predecessor left open at once; two running processes must never share one.",
      type: transactionalIdPrefix(),
    },
    "<group-id>-<group-instance-id> with --group-instance-id, else <group-id>-<random>: a crashed process's open transaction then waits for --transaction-timeout",
  ),
  transactionTimeoutMs: withDefault(
    {
      flag: "transaction-timeout",
      env: ["PROCESSOR_TRANSACTION_TIMEOUT"],
      group: "Reliability",
      description:
        "exactly-once: the broker aborts a transaction left open this long (a crashed or frozen process); also the producers' request timeout. More than --commit-interval (1s..15m).",
      type: duration(1000, 900_000),
    },
    "10s",
  ),
  autoOffsetStore: withDefault(
    {
      flag: "auto-offset-store",
      env: ["KAFKA_AUTO_OFFSET_STORE"],
      group: "Reliability",
      description: "Store offsets as soon as messages are consumed, not after they are produced: faster, but may lose messages on a crash.",
      type: boolean(),
      warn: (on) =>
        on
          ? "--auto-offset-store is on: offsets are stored as messages are consumed (faster), so messages still in flight may be lost on a crash"
          : undefined,
    },
    "false",
  ),
  retries: withDefault(
    {
      flag: "retries",
      env: ["PROCESSOR_RETRIES"],
      group: "Reliability",
      description: "Extra handler attempts after the first (0..1000).",
      type: integer(0, 1000),
    },
    "3",
  ),
  retryBackoffMs: withDefault(
    {
      flag: "retry-backoff",
      env: ["PROCESSOR_RETRY_BACKOFF"],
      group: "Reliability",
      description: "Initial retry backoff (exponential, with jitter).",
      type: duration(1),
    },
    "200ms",
  ),
  retryBackoffMaxMs: withDefault(
    {
      flag: "retry-backoff-max",
      env: ["PROCESSOR_RETRY_BACKOFF_MAX"],
      group: "Reliability",
      description: "Maximum retry backoff (>= --retry-backoff).",
      type: duration(1),
    },
    "30s",
  ),
  shutdownTimeoutMs: withDefault(
    {
      flag: "shutdown-timeout",
      env: ["PROCESSOR_SHUTDOWN_TIMEOUT"],
      group: "Reliability",
      description: "Time allowed to drain in-flight work on shutdown.",
      type: duration(),
    },
    "30s",
  ),
  watchdogMs: withDefault(
    {
      flag: "watchdog",
      env: ["PROCESSOR_WATCHDOG"],
      group: "Reliability",
      description:
        "Kill the process when its main thread has not run for this long (a handler blocking synchronously), so the group reassigns its partitions (>= 1s).",
      type: duration(1000),
    },
    "60s",
  ),
  dlqMaxRatio: optional({
    flag: "dlq-max-ratio",
    env: ["PROCESSOR_DLQ_MAX_RATIO"],
    group: "Reliability",
    description:
      "Stop (exit 1, nothing further committed) when more than this share of the last --dlq-window records went to the dead-letter topic, e.g. 0.5 or 50%. Off when unset.",
    type: ratio(),
  }),
  dlqWindow: withDefault(
    {
      flag: "dlq-window",
      env: ["PROCESSOR_DLQ_WINDOW"],
      group: "Reliability",
      description: "How many of the latest finished records --dlq-max-ratio looks at (10..1000000).",
      type: integer(10, 1_000_000),
    },
    "1000",
  ),
  dlqMaxConsecutive: withDefault(
    {
      flag: "dlq-max-consecutive",
      env: ["PROCESSOR_DLQ_MAX_CONSECUTIVE"],
      group: "Reliability",
      description: "Stop (exit 1, nothing further committed) when this many records in a row went to the dead-letter topic; 0 = off.",
      type: integer(0),
    },
    "0",
  ),
  maxUncommitted: withDefault(
    {
      flag: "max-uncommitted",
      env: ["PROCESSOR_MAX_UNCOMMITTED"],
      group: "Reliability",
      description:
        "Per partition: records received but not yet committable (in flight, or done behind one still in flight) at which that partition stops being fetched until it is down to half; bounds memory and what a crash replays when one record keeps retrying.",
      type: integer(1),
    },
    "10000",
  ),
  commitIntervalMs: withDefault(
    {
      flag: "commit-interval",
      env: ["PROCESSOR_COMMIT_INTERVAL"],
      group: "Reliability",
      description: "How often stored offsets are committed (>= 10ms).",
      type: duration(10),
    },
    "1s",
  ),
} as const satisfies Record<string, Setting>;
