/** Processing settings: worker pool, ordering, handler and the default rule's opt-in checks. Entries in --help order. */
import { boolean, duration, integer, nonEmptyString, oneOf } from "../value-types.ts";
import { derived, optional, type Setting, withDefault } from "./define.ts";

export const processingSettings = {
  concurrency: withDefault(
    {
      flag: "workers",
      aliases: ["w"],
      env: ["WORKER_POOL", "PROCESSOR_WORKERS"],
      group: "Processing",
      description: "Max concurrently running handler tasks (1..100000).",
      type: integer(1, 100_000),
    },
    "16",
  ),
  pickUp: derived(
    {
      flag: "pick-up",
      env: ["TASKS_PICK_UP"],
      group: "Processing",
      description: "Free worker slots needed before pulling the next batch (1..workers).",
      type: integer(1, 100_000),
    },
    "max(1, floor(workers/3))",
  ),
  consumers: withDefault(
    {
      flag: "consumers",
      aliases: ["c"],
      env: ["CONSUMERS_COUNT"],
      group: "Processing",
      description: "Number of Kafka consumers (1..64).",
      type: integer(1, 64),
    },
    "1",
  ),
  producers: withDefault(
    {
      flag: "producers",
      aliases: ["p"],
      env: ["PRODUCERS_COUNT"],
      group: "Processing",
      description: "Number of Kafka producers (1..64).",
      type: integer(1, 64),
    },
    "1",
  ),
  ordering: withDefault(
    {
      flag: "ordering",
      env: ["PROCESSOR_ORDERING"],
      group: "Processing",
      description: "Ordering guarantee: key (per message key) | partition | none.",
      type: oneOf(["key", "partition", "none"]),
    },
    "key",
  ),
  handler: optional({
    flag: "handler",
    env: ["PROCESSOR_HANDLER"],
    group: "Processing",
    description: "Path of the handler module.",
    type: nonEmptyString(),
  }),
  seedRejectFutureMs: optional({
    flag: "seed-reject-future",
    env: ["PROCESSOR_SEED_REJECT_FUTURE"],
    group: "Processing",
    description:
      "Default rule only: also reject timestamps more than this far in the future, e.g. 5m (the seed accepts them). Off when unset.",
    type: duration(0),
  }),
  seedStrictUtf8: withDefault(
    {
      flag: "seed-strict-utf8",
      env: ["PROCESSOR_SEED_STRICT_UTF8"],
      group: "Processing",
      description: "Default rule only: reject values that are not valid UTF-8 (the seed decodes bad bytes inside strings as U+FFFD).",
      type: boolean(),
    },
    "false",
  ),
  seedRequireFields: withDefault(
    {
      flag: "seed-require-fields",
      env: ["PROCESSOR_SEED_REQUIRE_FIELDS"],
      group: "Processing",
      description: "Default rule only: reject a missing or null id or data (the seed takes them as empty).",
      type: boolean(),
    },
    "false",
  ),
  batchSize: withDefault(
    {
      flag: "batch-size",
      env: ["PROCESSOR_BATCH_SIZE"],
      group: "Processing",
      description:
        "Batch mode when > 1: the handler's `batch` export gets up to this many records per call (at most one per ordering lane; --workers is raised to at least this). 1 = one call per record.",
      type: integer(1, 100_000),
    },
    "1",
  ),
  batchWaitMs: withDefault(
    {
      flag: "batch-wait",
      env: ["PROCESSOR_BATCH_WAIT"],
      group: "Processing",
      description: "Batch mode: how long a batch smaller than --batch-size may wait for more records before it runs (0 = never waits).",
      type: duration(0),
    },
    "0ms",
  ),
  handlerTimeoutMs: withDefault(
    {
      flag: "handler-timeout",
      env: ["PROCESSOR_HANDLER_TIMEOUT"],
      group: "Processing",
      description: "Time limit for one handler attempt.",
      type: duration(),
    },
    "30s",
  ),
} as const satisfies Record<string, Setting>;
