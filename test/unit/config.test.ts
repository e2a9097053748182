import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, spyOn, test } from "bun:test";
import type { SecuritySettingKey } from "../../src/kafka/client-options.ts";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { baseClientOptions, clientSecurity } from "../../src/kafka/client-options.ts";
import {
  type Config,
  GiB,
  KiB,
  loadConfig,
  type LoadResult,
  MiB,
  parseBoolean,
  parseBroker,
  parseByteSize,
  parseDuration,
  parseInteger,
  parseList,
  type SettingKey,
  settingKeys,
  settings,
} from "../../src/config/index.ts";
import type { FileValue, Secret } from "../../src/config/value-types.ts";

type Env = Record<string, string | undefined>;

const VERSION = "9.8.7-test";
/** The two required settings, given by flag. */
const REQ = ["--input-topics", "in", "--output-topic", "out"] as const;
/** The two required settings, given by env. */
const REQ_ENV: Env = { KAFKA_CONSUMER_TOPICS: "in", KAFKA_CONSUMER_TOPIC: "out" };

function load(argv: readonly string[], env: Env = {}): LoadResult {
  return loadConfig(argv, env, VERSION);
}

function run(argv: readonly string[], env: Env = {}): { config: Config; warnings: string[] } {
  const result = load(argv, env);
  if (result.kind !== "run") throw new Error(`expected kind 'run', got exit ${result.code}: ${result.output}`);
  return result;
}

function cfg(argv: readonly string[], env: Env = {}): Config {
  return run(argv, env).config;
}

/** Asserts a usage error: kind 'exit', code 2, one line, prefixed; returns the line. */
function fails(argv: readonly string[], env: Env = {}): string {
  const result = load(argv, env);
  if (result.kind !== "exit") throw new Error(`expected an error, got config ${JSON.stringify(result.config)}`);
  expect(result.code).toBe(2);
  expect(result.output).not.toContain("\n");
  expect(result.output.startsWith("processor: ")).toBe(true);
  return result.output;
}

/** Asserts the error names the flag and the env variable. */
function failsNaming(argv: readonly string[], env: Env, flag: string, envName: string): string {
  const line = fails(argv, env);
  expect(line).toContain(flag);
  expect(line).toContain(envName);
  return line;
}

describe("defaults", () => {
  test("only the required settings given: everything else defaults", () => {
    expect(load([], REQ_ENV)).toEqual({
      kind: "run",
      warnings: [],
      config: {
        brokers: ["localhost:9092"],
        groupId: "processor",
        inputTopics: ["in"],
        outputTopic: "out",
        dlqTopic: "out.dlq",
        offsetReset: "earliest",
        autoOffsetStore: false,
        guarantee: "at-least-once",
        transactionalId: undefined,
        transactionTimeoutMs: 10_000,
        concurrency: 16,
        pickUp: 5,
        consumers: 1,
        producers: 1,
        ordering: "key",
        retries: 3,
        retryBackoffMs: 200,
        retryBackoffMaxMs: 30_000,
        handler: undefined,
        seedRejectFutureMs: undefined,
        seedStrictUtf8: false,
        seedRequireFields: false,
        batchSize: 1,
        batchWaitMs: 0,
        handlerTimeoutMs: 30_000,
        shutdownTimeoutMs: 30_000,
        commitIntervalMs: 1_000,
        maxUncommitted: 10_000,
        watchdogMs: 60_000,
        dlqMaxRatio: undefined,
        dlqWindow: 1000,
        dlqMaxConsecutive: 0,
        ringBytes: 4 * MiB,
        maxMessageBytes: 16 * MiB,
        clientId: "processor",
        groupProtocol: "classic",
        groupInstanceId: undefined,
        revokeTimeoutMs: 5_000,
        sessionTimeoutMs: 30_000,
        rebalanceTimeoutMs: 60_000,
        heartbeatIntervalMs: 3_000,
        logLevel: "info",
        metricsPort: 0,
        metricsHost: "0.0.0.0",
        otelEndpoint: undefined,
        otelServiceName: "processor",
        otelSampleRatio: 1,
        tls: false,
        tlsCaFile: undefined,
        tlsCertFile: undefined,
        tlsKeyFile: undefined,
        tlsServerName: undefined,
        saslMechanism: undefined,
        saslUsername: undefined,
        saslPassword: undefined,
        saslPasswordFile: undefined,
        saslOauthTokenFile: undefined,
        saslOauthTokenCommand: undefined,
      },
    });
  });

  test("Config is fully resolved (compile-time check)", () => {
    type Expected = {
      brokers: string[];
      groupId: string;
      inputTopics: string[];
      outputTopic: string;
      dlqTopic: string;
      offsetReset: "earliest" | "latest";
      autoOffsetStore: boolean;
      guarantee: "at-least-once" | "exactly-once";
      transactionalId: string | undefined;
      transactionTimeoutMs: number;
      concurrency: number;
      pickUp: number;
      batchSize: number;
      batchWaitMs: number;
      consumers: number;
      producers: number;
      ordering: "key" | "partition" | "none";
      retries: number;
      seedRejectFutureMs: number | undefined;
      seedStrictUtf8: boolean;
      seedRequireFields: boolean;
      retryBackoffMs: number;
      retryBackoffMaxMs: number;
      handler: string | undefined;
      handlerTimeoutMs: number;
      shutdownTimeoutMs: number;
      commitIntervalMs: number;
      maxUncommitted: number;
      watchdogMs: number;
      dlqMaxRatio: number | undefined;
      dlqWindow: number;
      dlqMaxConsecutive: number;
      ringBytes: number;
      maxMessageBytes: number;
      clientId: string;
      groupProtocol: "classic" | "consumer";
      groupInstanceId: string | undefined;
      revokeTimeoutMs: number;
      sessionTimeoutMs: number;
      rebalanceTimeoutMs: number;
      heartbeatIntervalMs: number;
      logLevel: "debug" | "info" | "warn" | "error" | "silent";
      metricsPort: number;
      metricsHost: string;
      otelEndpoint: string | undefined;
      otelServiceName: string;
      otelSampleRatio: number;
      tls: boolean;
      tlsCaFile: FileValue<string> | undefined;
      tlsCertFile: FileValue<string> | undefined;
      tlsKeyFile: FileValue<Secret> | undefined;
      tlsServerName: string | undefined;
      saslMechanism: "plain" | "scram-sha-256" | "scram-sha-512" | "oauthbearer" | undefined;
      saslUsername: string | undefined;
      saslPassword: Secret | undefined;
      saslPasswordFile: FileValue<Secret> | undefined;
      saslOauthTokenFile: string | undefined;
      saslOauthTokenCommand: Secret | undefined;
    };
    type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false;
    type OptionalKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? K : never }[keyof T];
    const same: Same<Config, Expected> = true;
    const onlyOptionalsMayBeUndefined: Same<
      OptionalKeys<Config>,
      "handler" | "dlqMaxRatio" | "groupInstanceId" | "transactionalId" | "seedRejectFutureMs" | "otelEndpoint" | SecurityKeys
    > = true;
    expect(same && onlyOptionalsMayBeUndefined).toBe(true);
  });

  test("every default in the table is itself valid (validated at module load)", () => {
    for (const key of settingKeys) {
      const s = settings[key];
      if (s.presence.kind === "default") expect(s.type.schema.safeParse(s.presence.raw).success).toBe(true);
    }
  });
});

describe("precedence: flag > env > default", () => {
  const cases: {
    kind: string;
    key: SettingKey;
    flag: string;
    env: string;
    flagValue: string;
    envValue: string;
    fromFlag: unknown;
    fromEnv: unknown;
    byDefault: unknown;
  }[] = [
    {
      kind: "int",
      key: "concurrency",
      flag: "--workers",
      env: "WORKER_POOL",
      flagValue: "7",
      envValue: "9",
      fromFlag: 7,
      fromEnv: 9,
      byDefault: 16,
    },
    {
      kind: "enum",
      key: "ordering",
      flag: "--ordering",
      env: "PROCESSOR_ORDERING",
      flagValue: "none",
      envValue: "partition",
      fromFlag: "none",
      fromEnv: "partition",
      byDefault: "key",
    },
    {
      kind: "list",
      key: "brokers",
      flag: "--brokers",
      env: "KAFKA_SERVERS",
      flagValue: "a:1,b:2",
      envValue: "c:3 d",
      fromFlag: ["a:1", "b:2"],
      fromEnv: ["c:3", "d:9092"],
      byDefault: ["localhost:9092"],
    },
    {
      kind: "duration",
      key: "retryBackoffMs",
      flag: "--retry-backoff",
      env: "PROCESSOR_RETRY_BACKOFF",
      flagValue: "2s",
      envValue: "750ms",
      fromFlag: 2_000,
      fromEnv: 750,
      byDefault: 200,
    },
    {
      kind: "bool",
      key: "autoOffsetStore",
      flag: "--auto-offset-store",
      env: "KAFKA_AUTO_OFFSET_STORE",
      flagValue: "false",
      envValue: "yes",
      fromFlag: false,
      fromEnv: true,
      byDefault: false,
    },
    {
      kind: "bool (inverse)",
      key: "autoOffsetStore",
      flag: "--auto-offset-store",
      env: "KAFKA_AUTO_OFFSET_STORE",
      flagValue: "true",
      envValue: "0",
      fromFlag: true,
      fromEnv: false,
      byDefault: false,
    },
    {
      kind: "size",
      key: "ringBytes",
      flag: "--ring-size",
      env: "PROCESSOR_RING_SIZE",
      flagValue: "64KiB",
      envValue: "1GiB",
      fromFlag: 64 * KiB,
      fromEnv: GiB,
      byDefault: 4 * MiB,
    },
    {
      kind: "string",
      key: "groupId",
      flag: "--group-id",
      env: "KAFKA_GROUP_ID",
      flagValue: "g-flag",
      envValue: "g-env",
      fromFlag: "g-flag",
      fromEnv: "g-env",
      byDefault: "processor",
    },
  ];

  for (const c of cases) {
    test(`${c.kind} (${c.flag} / ${c.env})`, () => {
      const env = { ...REQ_ENV, [c.env]: c.envValue };
      expect(cfg([c.flag, c.flagValue], env)[c.key] as unknown).toEqual(c.fromFlag);
      expect(cfg([`${c.flag}=${c.flagValue}`], env)[c.key] as unknown).toEqual(c.fromFlag);
      expect(cfg([], env)[c.key] as unknown).toEqual(c.fromEnv);
      expect(cfg([], REQ_ENV)[c.key] as unknown).toEqual(c.byDefault);
    });
  }

  test("required list: flag beats env", () => {
    const env = { KAFKA_CONSUMER_TOPICS: "e1 e2", KAFKA_CONSUMER_TOPIC: "out" };
    expect(cfg(["--input-topics", "f1,f2"], env).inputTopics).toEqual(["f1", "f2"]);
    expect(cfg([], env).inputTopics).toEqual(["e1", "e2"]);
  });

  test("empty env values count as unset", () => {
    expect(cfg([], { ...REQ_ENV, WORKER_POOL: "" }).concurrency).toBe(16);
    expect(cfg([], { ...REQ_ENV, WORKER_POOL: "   " }).concurrency).toBe(16);
    expect(cfg([], { ...REQ_ENV, WORKER_POOL: "", PROCESSOR_WORKERS: "8" }).concurrency).toBe(8);
    expect(cfg([], { ...REQ_ENV, KAFKA_SERVERS: "" }).brokers).toEqual(["localhost:9092"]);
    expect(cfg([], { ...REQ_ENV, KAFKA_AUTO_OFFSET_STORE: "" }).autoOffsetStore).toBe(false);
  });

  test("a flag beats an invalid env value (env is never looked at)", () => {
    expect(cfg(["--workers", "3"], { ...REQ_ENV, WORKER_POOL: "abc" }).concurrency).toBe(3);
  });

  test("the primary env name wins over the secondary one, with a warning if they differ", () => {
    const both = run([], { ...REQ_ENV, WORKER_POOL: "4", PROCESSOR_WORKERS: "8" });
    expect(both.config.concurrency).toBe(4);
    expect(both.warnings.join(" ")).toContain("WORKER_POOL");
    expect(both.warnings.join(" ")).toContain("PROCESSOR_WORKERS");
    expect(run([], { ...REQ_ENV, WORKER_POOL: "4", PROCESSOR_WORKERS: "4" }).warnings).toEqual([]);
  });

  test("secondary env names work alone", () => {
    const c = cfg([], {
      KAFKA_CONSUMER_TOPICS: "in",
      PROCESSOR_OUTPUT_TOPIC: "o2",
      PROCESSOR_BROKERS: "k1:1",
      PROCESSOR_WORKERS: "12",
      LOG_LEVEL: "debug",
    });
    expect(c.outputTopic).toBe("o2");
    expect(c.brokers).toEqual(["k1:1"]);
    expect(c.concurrency).toBe(12);
    expect(c.logLevel).toBe("debug");
    expect(cfg([], { ...REQ_ENV, PROCESSOR_LOG_LEVEL: "warn", LOG_LEVEL: "debug" }).logLevel).toBe("warn");
  });

  test("a flag given twice: the last one wins (also across aliases)", () => {
    expect(cfg([...REQ, "--workers", "2", "--workers", "3"]).concurrency).toBe(3);
    expect(cfg([...REQ, "-w", "2", "--workers", "3"]).concurrency).toBe(3);
    expect(cfg([...REQ, "--workers", "3", "-w", "2"]).concurrency).toBe(2);
    expect(cfg([...REQ, "--brokers", "a", "-b", "b"]).brokers).toEqual(["b:9092"]);
  });
});

describe("seed environment names", () => {
  test("KAFKA_SERVERS", () => {
    expect(cfg([], { ...REQ_ENV, KAFKA_SERVERS: "kafka-0:9092,kafka-1:9093" }).brokers).toEqual(["kafka-0:9092", "kafka-1:9093"]);
  });
  test("KAFKA_GROUP_ID", () => {
    expect(cfg([], { ...REQ_ENV, KAFKA_GROUP_ID: "seed-group" }).groupId).toBe("seed-group");
  });
  test("KAFKA_CONSUMER_TOPICS: space-separated", () => {
    expect(cfg([], { KAFKA_CONSUMER_TOPICS: "a b  c", KAFKA_CONSUMER_TOPIC: "out" }).inputTopics).toEqual(["a", "b", "c"]);
  });
  test("KAFKA_CONSUMER_TOPICS: comma-separated, mixed, trimmed, empties dropped", () => {
    expect(cfg([], { KAFKA_CONSUMER_TOPICS: "a,b,c", KAFKA_CONSUMER_TOPIC: "out" }).inputTopics).toEqual(["a", "b", "c"]);
    expect(cfg([], { KAFKA_CONSUMER_TOPICS: " a, b ,,c\n", KAFKA_CONSUMER_TOPIC: "out" }).inputTopics).toEqual(["a", "b", "c"]);
  });
  test("KAFKA_CONSUMER_TOPIC is the OUTPUT topic", () => {
    const c = cfg([], { KAFKA_CONSUMER_TOPICS: "in", KAFKA_CONSUMER_TOPIC: "results" });
    expect(c.outputTopic).toBe("results");
    expect(c.inputTopics).toEqual(["in"]);
  });
  test("KAFKA_OFFSET_RESET, including the legacy smallest/largest", () => {
    expect(cfg([], { ...REQ_ENV, KAFKA_OFFSET_RESET: "latest" }).offsetReset).toBe("latest");
    expect(cfg([], { ...REQ_ENV, KAFKA_OFFSET_RESET: "smallest" }).offsetReset).toBe("earliest");
    expect(cfg([], { ...REQ_ENV, KAFKA_OFFSET_RESET: "largest" }).offsetReset).toBe("latest");
    expect(cfg([], { ...REQ_ENV, KAFKA_OFFSET_RESET: "LATEST" }).offsetReset).toBe("latest");
  });
  test("KAFKA_AUTO_OFFSET_STORE (and its warning)", () => {
    const on = run([], { ...REQ_ENV, KAFKA_AUTO_OFFSET_STORE: "true" });
    expect(on.config.autoOffsetStore).toBe(true);
    expect(on.warnings).toHaveLength(1);
    expect(on.warnings[0]).toContain("may be lost on a crash");
    const off = run([], { ...REQ_ENV, KAFKA_AUTO_OFFSET_STORE: "false" });
    expect(off.config.autoOffsetStore).toBe(false);
    expect(off.warnings).toEqual([]);
  });
  test("WORKER_POOL", () => {
    expect(cfg([], { ...REQ_ENV, WORKER_POOL: "64" }).concurrency).toBe(64);
  });
  test("TASKS_PICK_UP", () => {
    expect(cfg([], { ...REQ_ENV, TASKS_PICK_UP: "7" }).pickUp).toBe(7);
  });
  test("CONSUMERS_COUNT", () => {
    expect(cfg([], { ...REQ_ENV, CONSUMERS_COUNT: "4" }).consumers).toBe(4);
  });
  test("PRODUCERS_COUNT", () => {
    expect(cfg([], { ...REQ_ENV, PRODUCERS_COUNT: "3" }).producers).toBe(3);
  });
  test("a full seed environment", () => {
    const c = cfg([], {
      KAFKA_SERVERS: "broker:29092",
      KAFKA_GROUP_ID: "g",
      KAFKA_CONSUMER_TOPICS: "in1 in2",
      KAFKA_CONSUMER_TOPIC: "out",
      KAFKA_OFFSET_RESET: "smallest",
      KAFKA_AUTO_OFFSET_STORE: "false",
      WORKER_POOL: "30",
      TASKS_PICK_UP: "10",
      CONSUMERS_COUNT: "2",
      PRODUCERS_COUNT: "2",
    });
    expect(c).toMatchObject({
      brokers: ["broker:29092"],
      groupId: "g",
      inputTopics: ["in1", "in2"],
      outputTopic: "out",
      dlqTopic: "out.dlq",
      offsetReset: "earliest",
      autoOffsetStore: false,
      concurrency: 30,
      pickUp: 10,
      consumers: 2,
      producers: 2,
    });
  });
});

describe("derived defaults", () => {
  test("dlqTopic defaults to <outputTopic>.dlq; explicit value wins", () => {
    expect(cfg(["--topics", "in", "--output-topic", "enriched"]).dlqTopic).toBe("enriched.dlq");
    expect(cfg([...REQ, "--dlq-topic", "dead"]).dlqTopic).toBe("dead");
    expect(cfg([], { ...REQ_ENV, PROCESSOR_DLQ_TOPIC: "dead-env" }).dlqTopic).toBe("dead-env");
  });

  test("pickUp defaults to max(1, floor(workers/3)); explicit value wins", () => {
    for (const [workers, pickUp] of [
      [1, 1],
      [2, 1],
      [3, 1],
      [5, 1],
      [6, 2],
      [16, 5],
      [30, 10],
      [100_000, 33_333],
    ] as const) {
      expect(cfg([...REQ, "--workers", String(workers)]).pickUp).toBe(pickUp);
    }
    expect(cfg([...REQ, "--workers", "8", "--pick-up", "8"]).pickUp).toBe(8);
    expect(cfg([...REQ, "--workers", "8", "--pick-up", "1"]).pickUp).toBe(1);
  });
});

describe("flag forms", () => {
  test("short aliases and --topics", () => {
    const c = cfg(["--topics", "t1,t2", "--output-topic", "o", "-b", "h1", "-w", "9", "-c", "2", "-p", "3"]);
    expect(c.inputTopics).toEqual(["t1", "t2"]);
    expect(c.brokers).toEqual(["h1:9092"]);
    expect(c.concurrency).toBe(9);
    expect(c.consumers).toBe(2);
    expect(c.producers).toBe(3);
  });

  test("boolean: bare flag = true, --no-flag = false, word values, case-insensitive", () => {
    expect(cfg([...REQ, "--auto-offset-store"]).autoOffsetStore).toBe(true);
    expect(cfg(["--auto-offset-store", ...REQ]).autoOffsetStore).toBe(true);
    expect(cfg([...REQ, "--no-auto-offset-store"], { KAFKA_AUTO_OFFSET_STORE: "yes" }).autoOffsetStore).toBe(false);
    for (const [text, value] of [
      ["true", true],
      ["YES", true],
      ["1", true],
      ["False", false],
      ["no", false],
      ["0", false],
    ] as const) {
      expect(cfg([...REQ, `--auto-offset-store=${text}`]).autoOffsetStore).toBe(value);
      expect(cfg([...REQ], { KAFKA_AUTO_OFFSET_STORE: text }).autoOffsetStore).toBe(value);
    }
  });

  test("durations and sizes in every unit", () => {
    const c = cfg([
      ...REQ,
      "--retry-backoff",
      "500ms",
      "--retry-backoff-max",
      "2m",
      "--handler-timeout",
      "1h",
      "--shutdown-timeout",
      "2500",
      "--commit-interval",
      "1.5s",
      "--max-message-bytes",
      "1MB",
      "--ring-size",
      "512KiB",
    ]);
    expect(c.retryBackoffMs).toBe(500);
    expect(c.retryBackoffMaxMs).toBe(120_000);
    expect(c.handlerTimeoutMs).toBe(3_600_000);
    expect(c.shutdownTimeoutMs).toBe(2_500);
    expect(c.commitIntervalMs).toBe(1_500);
    expect(c.maxMessageBytes).toBe(1_000_000);
    expect(c.ringBytes).toBe(512 * KiB);
  });

  test("enums accept every listed value", () => {
    for (const level of ["debug", "info", "warn", "error", "silent"] as const) {
      expect(cfg([...REQ, "--log-level", level]).logLevel).toBe(level);
    }
    expect(cfg([...REQ, "--group-protocol", "consumer"]).groupProtocol).toBe("consumer");
    expect(cfg([...REQ, "--group-instance-id", "pod-7"]).groupInstanceId).toBe("pod-7");
    expect(cfg([...REQ], { PROCESSOR_GROUP_INSTANCE_ID: "pod-8" }).groupInstanceId).toBe("pod-8");
    expect(cfg([...REQ, "--revoke-timeout", "2s"]).revokeTimeoutMs).toBe(2_000);
    expect(fails([...REQ, "--revoke-timeout", "60s"])).toContain("--revoke-timeout");
    expect(fails([...REQ, "--group-instance-id", "a b"])).toContain("--group-instance-id");
    expect(cfg([...REQ, "--ordering", "partition"]).ordering).toBe("partition");
  });

  test("handler is optional", () => {
    expect(cfg(REQ).handler).toBeUndefined();
    expect(cfg([...REQ, "--handler", "./h.ts"]).handler).toBe("./h.ts");
    expect(cfg(REQ, { PROCESSOR_HANDLER: "/x/h.js" }).handler).toBe("/x/h.js");
  });

  test('a value starting with "-" is taken as the value', () => {
    expect(fails([...REQ, "--retries", "-1"])).toContain('got "-1"');
  });
});

describe("errors: kind exit, code 2, one line naming the flag and the env var", () => {
  test("unknown flag", () => {
    expect(fails([...REQ, "--bogus"])).toContain("--bogus");
    expect(fails([...REQ, "--bogus=1"])).toContain("--bogus");
    expect(fails([...REQ, "-x"])).toContain("-x");
    const two = fails([...REQ, "--foo", "--bar", "1"]);
    expect(two).toContain("--foo");
    expect(two).toContain("--bar");
    expect(fails([...REQ, "--worker", "3"])).toContain("did you mean --workers?");
    expect(fails([...REQ, "--WORKER_POOL", "3"])).toContain("did you mean --workers?");
  });

  test("camelCase spelling of a flag is unknown", () => {
    expect(fails([...REQ, "--groupId", "g"])).toContain("--groupId");
  });

  test("unexpected positional argument", () => {
    expect(fails([...REQ, "stray"])).toContain('"stray"');
    expect(fails([...REQ, "--", "--workers", "3"])).toContain("unexpected argument");
  });

  test("bad number (flag and env)", () => {
    const viaFlag = failsNaming([...REQ, "--workers", "abc"], {}, "--workers", "WORKER_POOL");
    expect(viaFlag).toBe(
      'processor: invalid --workers (env WORKER_POOL, PROCESSOR_WORKERS): expected an integer between 1 and 100000, got "abc"',
    );
    const viaEnv = failsNaming([], { ...REQ_ENV, WORKER_POOL: "abc" }, "--workers", "WORKER_POOL");
    expect(viaEnv).toBe('processor: invalid --workers (env WORKER_POOL): expected an integer between 1 and 100000, got "abc"');
    expect(failsNaming([], { ...REQ_ENV, PROCESSOR_WORKERS: "1.5" }, "--workers", "PROCESSOR_WORKERS")).toContain('got "1.5"');
    failsNaming([...REQ, "--retries", "1e3"], {}, "--retries", "PROCESSOR_RETRIES");
    failsNaming([], { ...REQ_ENV, CONSUMERS_COUNT: "two" }, "--consumers", "CONSUMERS_COUNT");
  });

  test("workers < 1 (and > 100000)", () => {
    failsNaming([...REQ, "--workers", "0"], {}, "--workers", "WORKER_POOL");
    failsNaming([...REQ, "--workers", "-5"], {}, "--workers", "WORKER_POOL");
    failsNaming([...REQ, "--workers", "100001"], {}, "--workers", "WORKER_POOL");
  });

  test("other integer ranges", () => {
    failsNaming([...REQ, "--consumers", "65"], {}, "--consumers", "CONSUMERS_COUNT");
    failsNaming([...REQ, "--producers", "0"], {}, "--producers", "PRODUCERS_COUNT");
    failsNaming([...REQ, "--retries", "1001"], {}, "--retries", "PROCESSOR_RETRIES");
    failsNaming([...REQ, "--pick-up", "0"], {}, "--pick-up", "TASKS_PICK_UP");
  });

  test("pickUp > workers", () => {
    const line = failsNaming([...REQ, "--workers", "4", "--pick-up", "5"], {}, "--pick-up", "TASKS_PICK_UP");
    expect(line).toContain("--workers (4)");
    failsNaming([], { ...REQ_ENV, TASKS_PICK_UP: "17" }, "--pick-up", "TASKS_PICK_UP");
  });

  test("unknown ordering (and other enums)", () => {
    const line = failsNaming([...REQ, "--ordering", "random"], {}, "--ordering", "PROCESSOR_ORDERING");
    expect(line).toContain("key|partition|none");
    failsNaming([], { ...REQ_ENV, KAFKA_OFFSET_RESET: "beginning" }, "--offset-reset", "KAFKA_OFFSET_RESET");
    failsNaming([...REQ, "--log-level", "verbose"], {}, "--log-level", "PROCESSOR_LOG_LEVEL");
    failsNaming([], { ...REQ_ENV, LOG_LEVEL: "verbose" }, "--log-level", "LOG_LEVEL");
    failsNaming([...REQ, "--group-protocol", "new"], {}, "--group-protocol", "PROCESSOR_GROUP_PROTOCOL");
  });

  test("empty brokers", () => {
    failsNaming([...REQ, "--brokers", ""], {}, "--brokers", "KAFKA_SERVERS");
    failsNaming([...REQ, "--brokers", " , "], {}, "--brokers", "KAFKA_SERVERS");
    failsNaming([], { ...REQ_ENV, KAFKA_SERVERS: "," }, "--brokers", "KAFKA_SERVERS");
  });

  test("malformed broker", () => {
    failsNaming([...REQ, "--brokers", "host:99999"], {}, "--brokers", "KAFKA_SERVERS");
    failsNaming([...REQ, "--brokers", "a:1,:9092"], {}, "--brokers", "KAFKA_SERVERS");
    failsNaming([], { ...REQ_ENV, PROCESSOR_BROKERS: "http://x" }, "--brokers", "PROCESSOR_BROKERS");
  });

  test("missing input topics", () => {
    const line = failsNaming(["--output-topic", "out"], {}, "--input-topics", "KAFKA_CONSUMER_TOPICS");
    expect(line).toBe("processor: missing required --input-topics (env KAFKA_CONSUMER_TOPICS)");
    failsNaming(["--output-topic", "out"], { KAFKA_CONSUMER_TOPICS: "" }, "--input-topics", "KAFKA_CONSUMER_TOPICS");
    failsNaming(["--output-topic", "out", "--input-topics", ","], {}, "--input-topics", "KAFKA_CONSUMER_TOPICS");
  });

  test("missing output topic", () => {
    const line = failsNaming(["--input-topics", "in"], {}, "--output-topic", "KAFKA_CONSUMER_TOPIC");
    expect(line).toContain("missing required");
    expect(line).toContain("PROCESSOR_OUTPUT_TOPIC");
    failsNaming(["--input-topics", "in", "--output-topic", ""], {}, "--output-topic", "KAFKA_CONSUMER_TOPIC");
  });

  test("output == one of the inputs", () => {
    failsNaming(["--input-topics", "a,b", "--output-topic", "b"], {}, "--output-topic", "KAFKA_CONSUMER_TOPIC");
    failsNaming([], { KAFKA_CONSUMER_TOPICS: "a b", KAFKA_CONSUMER_TOPIC: "a" }, "--output-topic", "KAFKA_CONSUMER_TOPIC");
  });

  test("dlq topic equal to output or an input (explicit or derived)", () => {
    failsNaming([...REQ, "--dlq-topic", "out"], {}, "--dlq-topic", "PROCESSOR_DLQ_TOPIC");
    failsNaming([...REQ, "--dlq-topic", "in"], {}, "--dlq-topic", "PROCESSOR_DLQ_TOPIC");
    const derived = failsNaming(["--input-topics", "out.dlq", "--output-topic", "out"], {}, "--dlq-topic", "PROCESSOR_DLQ_TOPIC");
    expect(derived).toContain('"out.dlq"');
  });

  test("dead-letter guard: a share as a fraction or percent; bad values name the flag", () => {
    const config = (argv: string[]) => cfg([...REQ, ...argv]);
    expect(config(["--dlq-max-ratio", "0.25"]).dlqMaxRatio).toBe(0.25);
    expect(config(["--dlq-max-ratio", "50%"]).dlqMaxRatio).toBe(0.5);
    expect(config(["--dlq-max-ratio", "1", "--dlq-window", "200", "--dlq-max-consecutive", "7"])).toMatchObject({
      dlqMaxRatio: 1,
      dlqWindow: 200,
      dlqMaxConsecutive: 7,
    });
    for (const bad of ["0", "1.5", "-0.1", "120%", "half", "%"]) {
      expect(failsNaming([...REQ, "--dlq-max-ratio", bad], {}, "--dlq-max-ratio", "PROCESSOR_DLQ_MAX_RATIO")).toContain(`got "${bad}"`);
    }
    failsNaming([], { ...REQ_ENV, PROCESSOR_DLQ_WINDOW: "5" }, "--dlq-window", "PROCESSOR_DLQ_WINDOW");
    failsNaming([...REQ, "--dlq-max-consecutive", "-1"], {}, "--dlq-max-consecutive", "PROCESSOR_DLQ_MAX_CONSECUTIVE");
  });

  test("invalid topic name", () => {
    failsNaming(["--input-topics", "a,b/c", "--output-topic", "o"], {}, "--input-topics", "KAFKA_CONSUMER_TOPICS");
    failsNaming(["--input-topics", "a", "--output-topic", "o o"], {}, "--output-topic", "KAFKA_CONSUMER_TOPIC");
  });

  test("bad duration", () => {
    failsNaming([...REQ, "--retry-backoff", "5x"], {}, "--retry-backoff", "PROCESSOR_RETRY_BACKOFF");
    failsNaming([...REQ, "--retry-backoff", "0"], {}, "--retry-backoff", "PROCESSOR_RETRY_BACKOFF");
    failsNaming([], { ...REQ_ENV, PROCESSOR_HANDLER_TIMEOUT: "soon" }, "--handler-timeout", "PROCESSOR_HANDLER_TIMEOUT");
    failsNaming([...REQ, "--commit-interval", "5ms"], {}, "--commit-interval", "PROCESSOR_COMMIT_INTERVAL");
    failsNaming([...REQ, "--session-timeout", "30d"], {}, "--session-timeout", "PROCESSOR_SESSION_TIMEOUT");
    failsNaming([...REQ, "--shutdown-timeout", "1000h"], {}, "--shutdown-timeout", "PROCESSOR_SHUTDOWN_TIMEOUT");
  });

  test("retry backoff max < retry backoff", () => {
    failsNaming([...REQ, "--retry-backoff", "5s", "--retry-backoff-max", "1s"], {}, "--retry-backoff-max", "PROCESSOR_RETRY_BACKOFF_MAX");
  });

  test("ring size not a power of two (or out of range)", () => {
    const line = failsNaming([...REQ, "--ring-size", "3MiB"], {}, "--ring-size", "PROCESSOR_RING_SIZE");
    expect(line).toContain("power of two");
    expect(failsNaming([], { ...REQ_ENV, PROCESSOR_RING_SIZE: "100000" }, "--ring-size", "PROCESSOR_RING_SIZE")).toContain("power of two");
    failsNaming([...REQ, "--ring-size", "32KiB"], {}, "--ring-size", "PROCESSOR_RING_SIZE");
    failsNaming([...REQ, "--ring-size", "2GiB"], {}, "--ring-size", "PROCESSOR_RING_SIZE");
    failsNaming([...REQ, "--ring-size", "big"], {}, "--ring-size", "PROCESSOR_RING_SIZE");
  });

  test("max message bytes below 1KiB", () => {
    failsNaming([...REQ, "--max-message-bytes", "1000"], {}, "--max-message-bytes", "PROCESSOR_MAX_MESSAGE_BYTES");
  });

  test("heartbeat >= session timeout", () => {
    const equal = failsNaming([...REQ, "--heartbeat-interval", "30s"], {}, "--heartbeat-interval", "PROCESSOR_HEARTBEAT_INTERVAL");
    expect(equal).toContain("--session-timeout");
    const viaSession = failsNaming([...REQ, "--session-timeout", "2s"], {}, "--heartbeat-interval", "PROCESSOR_HEARTBEAT_INTERVAL");
    expect(viaSession).toContain('got default "3s"');
    failsNaming([], { ...REQ_ENV, PROCESSOR_HEARTBEAT_INTERVAL: "1m" }, "--heartbeat-interval", "PROCESSOR_HEARTBEAT_INTERVAL");
    expect(cfg([...REQ, "--heartbeat-interval", "29999"])).toMatchObject({ heartbeatIntervalMs: 29_999 });
  });

  test("bad boolean", () => {
    failsNaming([...REQ, "--auto-offset-store=maybe"], {}, "--auto-offset-store", "KAFKA_AUTO_OFFSET_STORE");
    failsNaming([], { ...REQ_ENV, KAFKA_AUTO_OFFSET_STORE: "on-ish" }, "--auto-offset-store", "KAFKA_AUTO_OFFSET_STORE");
  });

  test("a non-boolean flag without a value, or negated", () => {
    expect(failsNaming([...REQ, "--workers"], {}, "--workers", "WORKER_POOL")).toContain("missing value");
    expect(failsNaming(["--workers", ...REQ], {}, "--workers", "WORKER_POOL")).toContain("missing value");
    failsNaming([...REQ, "--no-workers"], {}, "--workers", "WORKER_POOL");
    failsNaming([...REQ, "--group-id", ""], {}, "--group-id", "KAFKA_GROUP_ID");
  });

  test("every setting rejects garbage from its flag and from each of its env names", () => {
    const stringLike = new Set<SettingKey>(["groupId", "clientId", "handler", "otelServiceName"]);
    for (const key of settingKeys) {
      if (stringLike.has(key)) continue;
      const s = settings[key];
      const bad = "!?";
      // Required settings keep a valid companion so the failure is the one under test.
      const base = key === "inputTopics" ? ["--output-topic", "out"] : key === "outputTopic" ? ["--input-topics", "in"] : [...REQ];
      failsNaming([...base, `--${s.flag}=${bad}`], {}, `--${s.flag}`, s.env[0]);
      for (const name of s.env) failsNaming(base, { [name]: bad }, `--${s.flag}`, name);
    }
  });

  test("the first invalid setting is reported (one line even with several problems)", () => {
    const line = fails(["--workers", "x", "--ordering", "y"]);
    expect(line.split("\n")).toHaveLength(1);
  });
});

describe("--help and --version", () => {
  function exitOutput(argv: readonly string[], env: Env = {}): string {
    const result = load(argv, env);
    if (result.kind !== "exit") throw new Error("expected exit");
    expect(result.code).toBe(0);
    return result.output;
  }

  test("--help lists every flag, alias and env name, grouped, with defaults", () => {
    const help = exitOutput(["--help"]);
    expect(help.startsWith("processor [options]")).toBe(true);
    for (const key of settingKeys) {
      const s = settings[key];
      expect(help).toContain(`--${s.flag}`);
      for (const alias of s.aliases ?? []) expect(help).toContain(alias.length === 1 ? `-${alias}` : `--${alias}`);
      for (const name of s.env) expect(help).toContain(name);
      if (s.presence.kind === "default") expect(help).toContain(`[default: ${s.presence.raw}]`);
    }
    for (const group of ["Kafka:", "Processing:", "Reliability:", "Tuning:", "Logging:"]) expect(help).toContain(group);
    expect(help.indexOf("Kafka:")).toBeLessThan(help.indexOf("Processing:"));
    expect(help.indexOf("Tuning:")).toBeLessThan(help.indexOf("Logging:"));
    expect(help).toContain("[env: WORKER_POOL, PROCESSOR_WORKERS] [default: 16]");
    expect(help).toContain("[env: KAFKA_CONSUMER_TOPICS] [required]");
    expect(help).toContain("[default: <output-topic>.dlq]");
    expect(help).toContain("--help");
    expect(help).toContain("--version");
  });

  test("-h works and help wins over invalid or missing input", () => {
    const help = exitOutput(["-h"]);
    expect(help).toContain("--workers");
    expect(exitOutput(["--workers", "abc", "--help"])).toBe(help);
    expect(exitOutput(["--bogus", "--help"], { WORKER_POOL: "x" })).toBe(help);
  });

  test("--version prints the version passed in", () => {
    expect(exitOutput(["--version"])).toBe(VERSION);
    expect(exitOutput(["-V"])).toBe(VERSION);
    expect(loadConfig(["--version"], {}, "1.0.0-other")).toEqual({ kind: "exit", code: 0, output: "1.0.0-other" });
  });
});

describe("side effects", () => {
  const spies: { mockRestore(): void }[] = [];
  const writes: string[] = [];
  beforeEach(() => {
    writes.length = 0;
    const record = (...args: unknown[]) => {
      writes.push(args.map(String).join(" "));
      return true;
    };
    spies.push(
      spyOn(process.stdout, "write").mockImplementation(record),
      spyOn(process.stderr, "write").mockImplementation(record),
      spyOn(console, "log").mockImplementation(record),
      spyOn(console, "error").mockImplementation(record),
      spyOn(console, "warn").mockImplementation(record),
      spyOn(console, "info").mockImplementation(record),
      spyOn(process, "exit").mockImplementation((() => {
        throw new Error("process.exit called");
      }) as typeof process.exit),
    );
  });
  afterEach(() => {
    for (const spy of spies.splice(0)) spy.mockRestore();
  });

  test("never prints and never exits, whatever the input", () => {
    for (const argv of [["--help"], ["--version"], ["--bogus"], ["--workers", "x"], ["stray"], [], [...REQ]]) {
      load(argv, { KAFKA_AUTO_OFFSET_STORE: "true" });
    }
    expect(writes).toEqual([]);
  });

  test("does not read process.argv or process.env", () => {
    const savedArgv = process.argv;
    process.argv = [...savedArgv, "--bogus", "--help"];
    process.env.WORKER_POOL = "abc";
    try {
      expect(cfg(REQ).concurrency).toBe(16);
    } finally {
      process.argv = savedArgv;
      delete process.env.WORKER_POOL;
    }
  });
});

describe("value parsers", () => {
  test("parseList", () => {
    expect(parseList("a b,c , ,d\te\n")).toEqual(["a", "b", "c", "d", "e"]);
    expect(parseList(" , ")).toEqual([]);
  });

  test("parseDuration", () => {
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("30s")).toBe(30_000);
    expect(parseDuration("2m")).toBe(120_000);
    expect(parseDuration("1h")).toBe(3_600_000);
    expect(parseDuration("250")).toBe(250);
    expect(parseDuration(" 10 S ")).toBe(10_000);
    expect(parseDuration("0.5s")).toBe(500);
    for (const bad of ["", "ms", "1.5", "-1s", "1d", "1e3", "10 seconds", "abc"]) expect(parseDuration(bad)).toBeUndefined();
  });

  test("parseByteSize", () => {
    expect(parseByteSize("512KiB")).toBe(512 * KiB);
    expect(parseByteSize("8MiB")).toBe(8 * MiB);
    expect(parseByteSize("1GiB")).toBe(GiB);
    expect(parseByteSize("1MB")).toBe(1_000_000);
    expect(parseByteSize("1kb")).toBe(1_000);
    expect(parseByteSize("100B")).toBe(100);
    expect(parseByteSize("4096")).toBe(4096);
    expect(parseByteSize("1.5KiB")).toBe(1536);
    for (const bad of ["", "MiB", "1.5", "-1", "4M", "lots"]) expect(parseByteSize(bad)).toBeUndefined();
  });

  test("parseBoolean", () => {
    for (const t of ["true", "TRUE", "1", "yes", "Yes"]) expect(parseBoolean(t)).toBe(true);
    for (const f of ["false", "False", "0", "no", "NO"]) expect(parseBoolean(f)).toBe(false);
    for (const bad of ["", "y", "on", "2"]) expect(parseBoolean(bad)).toBeUndefined();
  });

  test("parseInteger", () => {
    expect(parseInteger("42")).toBe(42);
    expect(parseInteger("-3")).toBe(-3);
    for (const bad of ["", "4.2", "0x10", "1e3", "9007199254740993", "ten"]) expect(parseInteger(bad)).toBeUndefined();
  });

  test("parseBroker", () => {
    expect(parseBroker("kafka")).toBe("kafka:9092");
    expect(parseBroker("kafka-0.kafka.svc:29092")).toBe("kafka-0.kafka.svc:29092");
    expect(parseBroker("10.0.0.1")).toBe("10.0.0.1:9092");
    expect(parseBroker("[::1]:9093")).toBe("[::1]:9093");
    expect(parseBroker("[::1]")).toBe("[::1]:9092");
    for (const bad of ["", ":9092", "host:", "host:0", "host:65536", "::1", "a b", "PLAINTEXT://h:1"])
      expect(parseBroker(bad)).toBeUndefined();
  });
});

// ── Security settings (TLS, SASL) ──────────────────────────────────────────────────────────────────

type SecurityKeys = SecuritySettingKey;

describe("security settings", () => {
  const PASSWORD = "hunter2-Pw-9f1c";
  let dir = "";
  const f = (name: string) => join(dir, name);
  const openssl = (...args: string[]) => {
    const run = Bun.spawnSync(["openssl", ...args], { cwd: dir, stdout: "pipe", stderr: "pipe" });
    if (run.exitCode !== 0) throw new Error(`openssl ${args.join(" ")}: ${run.stderr.toString()}`);
  };

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "processor-config-tls-"));
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
    openssl("req", "-x509", ...ec, "-keyout", "ca.key", "-out", "ca.pem", "-subj", "/CN=test-ca", "-days", "2");
    openssl("req", "-x509", ...ec, "-keyout", "other-ca.key", "-out", "other-ca.pem", "-subj", "/CN=other-ca", "-days", "2");
    openssl("req", ...ec, "-keyout", "client.key", "-out", "client.csr", "-subj", "/CN=client");
    openssl(
      "x509",
      "-req",
      "-in",
      "client.csr",
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      "client.pem",
      "-days",
      "2",
    );
    openssl("pkey", "-in", "client.key", "-out", "client-encrypted.key", "-aes256", "-passout", "pass:x");
    writeFileSync(f("password.txt"), `${PASSWORD}\n`);
    writeFileSync(f("password-crlf.txt"), ` ${PASSWORD} \r\n`);
    writeFileSync(f("empty.txt"), "\n");
    writeFileSync(f("not-pem.txt"), "hello\n");
    writeFileSync(f("garbage-cert.pem"), "-----BEGIN CERTIFICATE-----\nnot base64 at all\n-----END CERTIFICATE-----\n");
    mkdirSync(f("a-directory"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  /** Runs `fails` and checks the password appears nowhere in the line. */
  function failsQuietly(argv: readonly string[], env: Env = {}): string {
    const line = fails(argv, env);
    expect(line).not.toContain(PASSWORD);
    return line;
  }

  test("nothing given: plaintext, no SASL, no ClientSettings.security", () => {
    const c = cfg(REQ);
    expect(c.tls).toBe(false);
    for (const key of [
      "tlsCaFile",
      "tlsCertFile",
      "tlsKeyFile",
      "tlsServerName",
      "saslMechanism",
      "saslUsername",
      "saslPassword",
      "saslPasswordFile",
      "saslOauthTokenFile",
      "saslOauthTokenCommand",
    ] as const) {
      expect(c[key]).toBeUndefined();
    }
    expect(clientSecurity(c)).toBeUndefined();
    const options = baseClientOptions({ brokers: ["a:1"], clientId: "x", logLevel: "info" }, "admin");
    expect("tls" in options).toBe(false);
    expect("sasl" in options).toBe(false);
  });

  test("--tls: bare flag, --no-tls, PROCESSOR_TLS > KAFKA_TLS, flag > env", () => {
    expect(cfg([...REQ, "--tls"]).tls).toBe(true);
    expect(cfg([...REQ, "--tls=false"]).tls).toBe(false);
    expect(cfg(REQ, { PROCESSOR_TLS: "yes" }).tls).toBe(true);
    expect(cfg(REQ, { KAFKA_TLS: "1" }).tls).toBe(true);
    expect(cfg(REQ, { PROCESSOR_TLS: "false", KAFKA_TLS: "true" }).tls).toBe(false);
    expect(cfg([...REQ, "--no-tls"], { PROCESSOR_TLS: "true" }).tls).toBe(false);
    expect(clientSecurity(cfg([...REQ, "--tls"]))).toEqual({ tls: {} });
  });

  test("any --tls-* option implies --tls; an explicit --no-tls with one is an error naming --tls", () => {
    expect(cfg([...REQ, "--tls-ca-file", f("ca.pem")]).tls).toBe(true);
    expect(cfg([...REQ, "--tls-server-name", "kafka.example.com"]).tls).toBe(true);
    expect(cfg(REQ, { KAFKA_TLS_CA_FILE: f("ca.pem") }).tls).toBe(true);
    const line = failsNaming([...REQ, "--no-tls", "--tls-ca-file", f("ca.pem")], {}, "--tls", "PROCESSOR_TLS");
    expect(line).toContain("--tls-ca-file");
    failsNaming([...REQ, "--tls-ca-file", f("ca.pem")], { KAFKA_TLS: "no" }, "--tls", "KAFKA_TLS");
  });

  test("PEM files are read at load time; ClientSettings.security carries their contents, not the paths", () => {
    const c = cfg([
      ...REQ,
      "--tls-ca-file",
      f("ca.pem"),
      "--tls-cert-file",
      f("client.pem"),
      "--tls-key-file",
      f("client.key"),
      "--tls-server-name",
      "Kafka.Example.com.",
    ]);
    expect(c.tlsCaFile).toEqual({ path: f("ca.pem"), contents: readFileSync(f("ca.pem"), "utf8") });
    expect(c.tlsCertFile?.contents).toBe(readFileSync(f("client.pem"), "utf8"));
    expect(c.tlsKeyFile?.path).toBe(f("client.key"));
    expect(c.tlsKeyFile?.contents.reveal()).toBe(readFileSync(f("client.key"), "utf8"));
    expect(c.tlsServerName).toBe("Kafka.Example.com");
    const security = clientSecurity(c);
    expect(security).toEqual({
      tls: {
        ca: readFileSync(f("ca.pem"), "utf8"),
        cert: readFileSync(f("client.pem"), "utf8"),
        key: readFileSync(f("client.key"), "utf8"),
        serverName: "Kafka.Example.com",
      },
    });
    expect(JSON.stringify(security)).not.toContain(dir); // no paths: Workers never read files
    expect(structuredClone(security)).toEqual(security); // travels to the Workers as is
    const options = baseClientOptions({ brokers: ["a:1"], clientId: "x", logLevel: "info", ...(security && { security }) }, "admin");
    expect(options.tls).toEqual({
      rejectUnauthorized: true,
      ca: security?.tls?.ca,
      cert: security?.tls?.cert,
      key: security?.tls?.key,
      servername: "Kafka.Example.com",
    });
  });

  test("TLS file settings from env; the flag beats the env", () => {
    const env = {
      ...REQ_ENV,
      PROCESSOR_TLS_CA_FILE: f("other-ca.pem"),
      PROCESSOR_TLS_CERT_FILE: f("client.pem"),
      PROCESSOR_TLS_KEY_FILE: f("client.key"),
    };
    expect(cfg([], env).tlsCaFile?.path).toBe(f("other-ca.pem"));
    expect(cfg(["--tls-ca-file", f("ca.pem")], env).tlsCaFile?.path).toBe(f("ca.pem"));
    expect(cfg([], env).tlsKeyFile?.path).toBe(f("client.key"));
    expect(cfg([], { ...REQ_ENV, KAFKA_TLS_SERVER_NAME: "b.example", PROCESSOR_TLS_SERVER_NAME: "a.example" }).tlsServerName).toBe(
      "a.example",
    );
  });

  test("bad TLS files: exit 2 naming the flag and env, one line", () => {
    for (const [flag, envName] of [
      ["--tls-ca-file", "PROCESSOR_TLS_CA_FILE"],
      ["--tls-cert-file", "PROCESSOR_TLS_CERT_FILE"],
      ["--tls-key-file", "PROCESSOR_TLS_KEY_FILE"],
    ] as const) {
      expect(failsNaming([...REQ, flag, f("missing.pem")], {}, flag, envName)).toContain("no such file");
      expect(failsNaming(REQ, { [envName]: f("missing.pem") }, flag, envName)).toContain("no such file");
      expect(failsNaming([...REQ, flag, f("a-directory")], {}, flag, envName)).toContain("directory");
      expect(failsNaming([...REQ, flag, f("not-pem.txt")], {}, flag, envName)).toContain("expected a PEM file");
    }
    expect(failsNaming([...REQ, "--tls-ca-file", f("client.key")], {}, "--tls-ca-file", "PROCESSOR_TLS_CA_FILE")).toContain("certificate");
    expect(failsNaming([...REQ, "--tls-ca-file", f("garbage-cert.pem")], {}, "--tls-ca-file", "PROCESSOR_TLS_CA_FILE")).toContain(
      "not a usable CA file",
    );
    expect(
      failsNaming(
        [...REQ, "--tls-key-file", f("client.pem"), "--tls-cert-file", f("client.pem")],
        {},
        "--tls-key-file",
        "PROCESSOR_TLS_KEY_FILE",
      ),
    ).toContain("private key");
    const encrypted = failsNaming(
      [...REQ, "--tls-cert-file", f("client.pem"), "--tls-key-file", f("client-encrypted.key")],
      {},
      "--tls-key-file",
      "PROCESSOR_TLS_KEY_FILE",
    );
    expect(encrypted).toContain("encrypted private keys are not supported");
  });

  test("a path that cannot be read as a file is an error (a directory: unreadable even for root)", () => {
    mkdirSync(f("a-directory.pem"), { recursive: true });
    expect(failsNaming([...REQ, "--tls-ca-file", f("a-directory.pem")], {}, "--tls-ca-file", "PROCESSOR_TLS_CA_FILE")).toMatch(
      /not readable|not a file|directory/,
    );
  });

  test("client certificate and key go together and must match; key material never appears in the error", () => {
    expect(failsNaming([...REQ, "--tls-cert-file", f("client.pem")], {}, "--tls-cert-file", "PROCESSOR_TLS_CERT_FILE")).toContain(
      "--tls-key-file",
    );
    expect(failsNaming([...REQ, "--tls-key-file", f("client.key")], {}, "--tls-key-file", "PROCESSOR_TLS_KEY_FILE")).toContain(
      "--tls-cert-file",
    );
    const mismatch = failsNaming(
      [...REQ, "--tls-cert-file", f("client.pem"), "--tls-key-file", f("other-ca.key")],
      {},
      "--tls-key-file",
      "PROCESSOR_TLS_KEY_FILE",
    );
    expect(mismatch).toContain("does not fit --tls-cert-file");
    const keyBody = readFileSync(f("other-ca.key"), "utf8").split("\n")[1] ?? "";
    expect(keyBody.length).toBeGreaterThan(10);
    expect(mismatch).not.toContain(keyBody);
  });

  test("--tls-server-name must be a DNS name", () => {
    failsNaming([...REQ, "--tls-server-name", "127.0.0.1"], {}, "--tls-server-name", "PROCESSOR_TLS_SERVER_NAME");
    failsNaming([...REQ, "--tls-server-name", "a b"], {}, "--tls-server-name", "PROCESSOR_TLS_SERVER_NAME");
    failsNaming(REQ, { KAFKA_TLS_SERVER_NAME: "-bad-.example" }, "--tls-server-name", "KAFKA_TLS_SERVER_NAME");
  });

  test("SASL mechanisms, case-insensitive, mapped to the client names", () => {
    for (const [given, client] of [
      ["plain", "PLAIN"],
      ["SCRAM-SHA-256", "SCRAM-SHA-256"],
      ["scram-sha-512", "SCRAM-SHA-512"],
    ] as const) {
      const c = cfg([...REQ, "--sasl-mechanism", given, "--sasl-username", "u", "--sasl-password", PASSWORD]);
      expect(clientSecurity(c)).toEqual({ sasl: { mechanism: client, username: "u", password: PASSWORD } });
    }
    const both = clientSecurity(cfg([...REQ, "--tls", "--sasl-mechanism", "plain", "--sasl-username", "u", "--sasl-password", PASSWORD]));
    expect(both).toEqual({ tls: {}, sasl: { mechanism: "PLAIN", username: "u", password: PASSWORD } });
    expect(baseClientOptions({ brokers: ["a:1"], clientId: "x", logLevel: "info", ...(both && { security: both }) }, "p").sasl).toEqual({
      mechanism: "PLAIN",
      username: "u",
      password: PASSWORD,
    });
    failsNaming(
      [...REQ, "--sasl-mechanism", "gssapi", "--sasl-username", "u", "--sasl-password", PASSWORD],
      {},
      "--sasl-mechanism",
      "PROCESSOR_SASL_MECHANISM",
    );
  });

  test("SASL settings from env: PROCESSOR_* > KAFKA_*, flag > env", () => {
    const env = {
      ...REQ_ENV,
      KAFKA_SASL_MECHANISM: "scram-sha-256",
      KAFKA_SASL_USERNAME: "env-user",
      KAFKA_SASL_PASSWORD: "kafka-env-password",
      PROCESSOR_SASL_PASSWORD: PASSWORD,
    };
    const fromEnv = run([], env);
    expect(fromEnv.config.saslMechanism).toBe("scram-sha-256");
    expect(fromEnv.config.saslUsername).toBe("env-user");
    expect(fromEnv.config.saslPassword?.reveal()).toBe(PASSWORD);
    // both password variables set and different: a warning that names them but shows neither value
    const warning = fromEnv.warnings.join(" ");
    expect(warning).toContain("PROCESSOR_SASL_PASSWORD");
    expect(warning).toContain("KAFKA_SASL_PASSWORD");
    expect(warning).not.toContain(PASSWORD);
    expect(warning).not.toContain("kafka-env-password");
    expect(cfg([], { ...env, PROCESSOR_SASL_PASSWORD: undefined }).saslPassword?.reveal()).toBe("kafka-env-password");
    const fromFlag = cfg(["--sasl-mechanism", "plain", "--sasl-username", "flag-user", "--sasl-password", "flag-password"], env);
    expect([fromFlag.saslMechanism, fromFlag.saslUsername, fromFlag.saslPassword?.reveal()]).toEqual([
      "plain",
      "flag-user",
      "flag-password",
    ]);
  });

  test('a password starting with "-" is taken as the value', () => {
    const c = cfg([...REQ, "--sasl-mechanism", "plain", "--sasl-username", "u", "--sasl-password", `-h${PASSWORD}`]);
    expect(c.saslPassword?.reveal()).toBe(`-h${PASSWORD}`);
    expect(cfg([...REQ, "--sasl-mechanism", "plain", "--sasl-username", "u", `--sasl-password=-w${PASSWORD}`]).saslPassword?.reveal()).toBe(
      `-w${PASSWORD}`,
    );
  });

  test("the password is taken exactly as given and is hidden when printed", () => {
    const c = cfg([...REQ, "--sasl-mechanism", "plain", "--sasl-username", "u", `--sasl-password=  ${PASSWORD} `]);
    expect(c.saslPassword?.reveal()).toBe(`  ${PASSWORD} `);
    expect(String(c.saslPassword)).toBe("<hidden>");
    expect(JSON.stringify(c)).not.toContain(PASSWORD);
    expect(Bun.inspect(c)).not.toContain(PASSWORD);
    const withKey = cfg([...REQ, "--tls-cert-file", f("client.pem"), "--tls-key-file", f("client.key")]);
    const keyBody = readFileSync(f("client.key"), "utf8").split("\n")[1] ?? "";
    expect(JSON.stringify(withKey)).not.toContain(keyBody);
    expect(Bun.inspect(withKey)).not.toContain(keyBody);
  });

  test("--sasl-password-file: read at load time, trailing newlines dropped, the rest kept", () => {
    const base = [...REQ, "--sasl-mechanism", "scram-sha-512", "--sasl-username", "u"];
    const c = cfg([...base, "--sasl-password-file", f("password.txt")]);
    expect(c.saslPassword).toBeUndefined();
    expect(c.saslPasswordFile?.path).toBe(f("password.txt"));
    expect(c.saslPasswordFile?.contents.reveal()).toBe(PASSWORD);
    expect(clientSecurity(c)?.sasl).toEqual({ mechanism: "SCRAM-SHA-512", username: "u", password: PASSWORD });
    expect(cfg([...base, "--sasl-password-file", f("password-crlf.txt")]).saslPasswordFile?.contents.reveal()).toBe(` ${PASSWORD} `);
    expect(cfg(base, { PROCESSOR_SASL_PASSWORD_FILE: f("password.txt") }).saslPasswordFile?.path).toBe(f("password.txt"));
    expect(cfg(base, { KAFKA_SASL_PASSWORD_FILE: f("password.txt") }).saslPasswordFile?.path).toBe(f("password.txt"));
    expect(
      cfg([...base, "--sasl-password-file", f("password-crlf.txt")], { KAFKA_SASL_PASSWORD_FILE: f("password.txt") }).saslPasswordFile
        ?.path,
    ).toBe(f("password-crlf.txt"));
    expect(JSON.stringify(c)).not.toContain(PASSWORD);
  });

  test("--sasl-password-file errors name the flag and never show the contents", () => {
    const base = [...REQ, "--sasl-mechanism", "plain", "--sasl-username", "u"];
    expect(
      failsNaming([...base, "--sasl-password-file", f("nope.txt")], {}, "--sasl-password-file", "PROCESSOR_SASL_PASSWORD_FILE"),
    ).toContain("no such file");
    expect(failsNaming(base, { KAFKA_SASL_PASSWORD_FILE: f("empty.txt") }, "--sasl-password-file", "KAFKA_SASL_PASSWORD_FILE")).toContain(
      "empty",
    );
    expect(
      failsNaming([...base, "--sasl-password-file", f("a-directory")], {}, "--sasl-password-file", "PROCESSOR_SASL_PASSWORD_FILE"),
    ).toContain("directory");
    const both = failsQuietly([...base, "--sasl-password-file", f("password.txt"), "--sasl-password", PASSWORD]);
    expect(both).toContain("not both");
    failsQuietly([...base, "--sasl-password-file", f("password.txt")], { PROCESSOR_SASL_PASSWORD: PASSWORD });
  });

  test("SASL settings that need each other: exit 2 naming the setting", () => {
    expect(failsNaming([...REQ, "--sasl-mechanism", "plain"], {}, "--sasl-mechanism", "PROCESSOR_SASL_MECHANISM")).toContain(
      "--sasl-username",
    );
    expect(
      failsNaming([...REQ, "--sasl-mechanism", "plain", "--sasl-username", "u"], {}, "--sasl-mechanism", "PROCESSOR_SASL_MECHANISM"),
    ).toContain("password");
    expect(
      failsNaming(REQ, { KAFKA_SASL_MECHANISM: "plain", KAFKA_SASL_PASSWORD: PASSWORD }, "--sasl-mechanism", "KAFKA_SASL_MECHANISM"),
    ).not.toContain(PASSWORD);
    expect(failsNaming([...REQ, "--sasl-username", "u"], {}, "--sasl-username", "PROCESSOR_SASL_USERNAME")).toContain("--sasl-mechanism");
    expect(failsNaming([...REQ, "--sasl-password", PASSWORD], {}, "--sasl-password", "PROCESSOR_SASL_PASSWORD")).not.toContain(PASSWORD);
    expect(failsNaming(REQ, { KAFKA_SASL_PASSWORD: PASSWORD }, "--sasl-password", "KAFKA_SASL_PASSWORD")).not.toContain(PASSWORD);
    failsNaming([...REQ, "--sasl-password-file", f("password.txt")], {}, "--sasl-password-file", "PROCESSOR_SASL_PASSWORD_FILE");
  });

  describe("oauthbearer", () => {
    const COMMAND = "get-token --client-secret s3cret-Cmd-77aa";
    const oauth = ["--sasl-mechanism", "oauthbearer"];

    test("--sasl-oauth-token-file: checked readable at load time, its path handed on (each thread reads the token itself)", () => {
      writeFileSync(f("token.jwt"), "a.b.c\n");
      const c = cfg([...REQ, "--tls", ...oauth, "--sasl-oauth-token-file", f("token.jwt")]);
      expect(c.saslMechanism).toBe("oauthbearer");
      expect(c.saslOauthTokenFile).toBe(f("token.jwt"));
      expect(clientSecurity(c)).toEqual({ tls: {}, sasl: { mechanism: "OAUTHBEARER", token: { kind: "file", path: f("token.jwt") } } });
      expect(
        cfg(REQ, { PROCESSOR_SASL_MECHANISM: "OAUTHBEARER", PROCESSOR_SASL_OAUTH_TOKEN_FILE: f("token.jwt") }).saslOauthTokenFile,
      ).toBe(f("token.jwt"));
      expect(cfg([...REQ, ...oauth], { KAFKA_SASL_OAUTH_TOKEN_FILE: f("token.jwt") }).saslOauthTokenFile).toBe(f("token.jwt"));
      expect(
        failsNaming(
          [...REQ, ...oauth, "--sasl-oauth-token-file", f("nope.jwt")],
          {},
          "--sasl-oauth-token-file",
          "PROCESSOR_SASL_OAUTH_TOKEN_FILE",
        ),
      ).toContain("no such file");
      expect(
        failsNaming(
          [...REQ, ...oauth],
          { KAFKA_SASL_OAUTH_TOKEN_FILE: f("a-directory") },
          "--sasl-oauth-token-file",
          "KAFKA_SASL_OAUTH_TOKEN_FILE",
        ),
      ).toContain("directory");
    });

    test("--sasl-oauth-token-command: a secret, handed on as given; the client gets a token provider and the broker-answer check", () => {
      const c = cfg([...REQ, ...oauth, "--sasl-oauth-token-command", COMMAND]);
      expect(String(c.saslOauthTokenCommand)).toBe("<hidden>");
      expect(c.saslOauthTokenCommand?.reveal()).toBe(COMMAND);
      const security = clientSecurity(c);
      expect(security).toEqual({ sasl: { mechanism: "OAUTHBEARER", token: { kind: "command", command: COMMAND } } });
      const sasl = baseClientOptions({ brokers: ["a:1"], clientId: "x", logLevel: "silent", ...(security && { security }) }, "p").sasl;
      expect(sasl?.mechanism).toBe("OAUTHBEARER");
      expect(typeof sasl?.token).toBe("function");
      expect(typeof sasl?.authBytesValidator).toBe("function");
      expect(sasl && ("username" in sasl || "password" in sasl)).toBe(false);
      for (const name of settings.saslOauthTokenCommand.env) {
        expect(cfg([...REQ, ...oauth], { [name]: COMMAND }).saslOauthTokenCommand?.reveal()).toBe(COMMAND);
      }
    });

    test("exactly one token source; no user name or password; token settings need oauthbearer: exit 2, one line", () => {
      writeFileSync(f("token.jwt"), "a.b.c\n");
      expect(failsNaming([...REQ, ...oauth], {}, "--sasl-mechanism", "PROCESSOR_SASL_MECHANISM")).toContain(
        "needs a token: --sasl-oauth-token-file or --sasl-oauth-token-command",
      );
      const both = fails([...REQ, ...oauth, "--sasl-oauth-token-file", f("token.jwt"), "--sasl-oauth-token-command", COMMAND]);
      expect(both).toContain("give either --sasl-oauth-token-file or --sasl-oauth-token-command, not both");
      expect(both).not.toContain("s3cret");
      const withUser = ["--sasl-username", "u", "--sasl-oauth-token-file", f("token.jwt")];
      expect(failsNaming([...REQ, ...oauth, ...withUser], {}, "--sasl-username", "PROCESSOR_SASL_USERNAME")).toContain(
        "does not apply to --sasl-mechanism oauthbearer",
      );
      const withPassword = failsNaming(
        [...REQ, ...oauth, "--sasl-oauth-token-command", COMMAND],
        { PROCESSOR_SASL_PASSWORD: PASSWORD },
        "--sasl-password",
        "PROCESSOR_SASL_PASSWORD",
      );
      expect(withPassword).toContain("does not apply to --sasl-mechanism oauthbearer");
      expect(withPassword).not.toContain(PASSWORD);
      for (const mechanism of ["plain", "scram-sha-512"]) {
        const line = fails([
          ...REQ,
          "--sasl-mechanism",
          mechanism,
          "--sasl-username",
          "u",
          "--sasl-password",
          PASSWORD,
          "--sasl-oauth-token-file",
          f("token.jwt"),
        ]);
        expect(line).toContain("invalid --sasl-oauth-token-file");
        expect(line).toContain("needs --sasl-mechanism oauthbearer");
      }
      const stray = failsNaming(
        [...REQ, "--sasl-oauth-token-command", COMMAND],
        {},
        "--sasl-oauth-token-command",
        "PROCESSOR_SASL_OAUTH_TOKEN_COMMAND",
      );
      expect(stray).toContain("needs --sasl-mechanism oauthbearer");
      expect(stray).not.toContain("s3cret");
    });

    test("the token command never shows: not in errors (flag or env), not in --help, <hidden> in processor config", () => {
      const lines = [
        fails([...REQ, ...oauth, "--sasl-oauth-token-command", COMMAND, "--workers", "0"]),
        fails([...REQ, ...oauth, `--sasl-oauth-token-command=${COMMAND}`, "--bogus"]),
        fails([...REQ, "--workers", "0"], { PROCESSOR_SASL_OAUTH_TOKEN_COMMAND: COMMAND }),
        fails([...REQ, ...oauth, "--sasl-oauth-token-command", "--s3cret-Cmd-77aa"]),
      ];
      for (const line of lines) expect(line).not.toContain("s3cret-Cmd-77aa");
      const help = load(["--help"], { PROCESSOR_SASL_OAUTH_TOKEN_COMMAND: COMMAND });
      expect(help.kind === "exit" && help.output.includes("--sasl-oauth-token-command") && !help.output.includes("s3cret")).toBe(true);
      const shown = load(["config", ...REQ, ...oauth], { KAFKA_SASL_OAUTH_TOKEN_COMMAND: COMMAND });
      expect(shown.kind).toBe("exit");
      if (shown.kind !== "exit") return;
      expect(shown.code).toBe(0);
      expect(shown.output).not.toContain("s3cret");
      const row = shown.output.split("\n").find((l) => l.startsWith("--sasl-oauth-token-command "));
      expect(row?.replace(/\s+/g, " ")).toBe("--sasl-oauth-token-command <hidden> env KAFKA_SASL_OAUTH_TOKEN_COMMAND");
    });
  });

  test("no error ever contains the password, whatever else is wrong", () => {
    const sasl = ["--sasl-mechanism", "scram-sha-256", "--sasl-username", "u"];
    const cases: { argv: string[]; env?: Env }[] = [
      { argv: [...REQ, "--sasl-password", PASSWORD] },
      { argv: [...REQ, `--sasl-password=${PASSWORD}`, "--workers", "x"] },
      { argv: [...REQ, ...sasl, "--sasl-password", PASSWORD, "--sasl-mechanism", "kerberos"] },
      { argv: [...REQ, ...sasl, "--sasl-password", PASSWORD, "--sasl-passwrd", PASSWORD] },
      { argv: [...REQ, ...sasl, "--sasl-password", `-${PASSWORD}`, "--bogus"] },
      { argv: [...REQ, ...sasl, "--sasl-password", `-${PASSWORD}`, "--tls-ca-file", "/nonexistent"] },
      { argv: [...REQ, ...sasl, "--sasl-password", ""] },
      { argv: [...sasl, "--sasl-password", PASSWORD] }, // required settings missing
      { argv: [...REQ, ...sasl, "--no-sasl-password"] },
      { argv: [...REQ, ...sasl, "--tls-ca-file", f("nope.pem")], env: { PROCESSOR_SASL_PASSWORD: PASSWORD, KAFKA_SASL_PASSWORD: "x" } },
      { argv: REQ.slice(), env: { KAFKA_SASL_PASSWORD: PASSWORD } },
      { argv: [...REQ, ...sasl, "--sasl-password", "first-half", PASSWORD] }, // an unquoted password with a space
      { argv: [...REQ, ...sasl, "--sasl-password=first-half", PASSWORD, "--workers", "2"] },
      { argv: [...REQ, ...sasl, "--sasl-password", `-x${PASSWORD}`, "--workers", "y"] }, // read as the value, not as short options
    ];
    for (const c of cases) {
      const result = load(c.argv, c.env ?? {});
      expect(result.kind).toBe("exit");
      if (result.kind !== "exit") continue;
      expect(result.code).toBe(2);
      expect(result.output).not.toContain(PASSWORD);
    }
  });

  test('a secret value starting with "--" (or a misspelt secret flag) is never echoed as an unknown option', () => {
    const sasl = ["--sasl-mechanism", "plain", "--sasl-username", "u"];
    const dashed = `--${PASSWORD}`;
    // right after the flag: an error naming the flag (and how to pass such a value), not the value
    for (const value of [dashed, `${dashed}=x`, `--no-${PASSWORD}`, "--", dashed.slice(0, 8)]) {
      const line = failsNaming([...REQ, ...sasl, "--sasl-password", value], {}, "--sasl-password", "PROCESSOR_SASL_PASSWORD");
      expect(line).toContain("--sasl-password=VALUE");
      if (value !== "--") expect(line).not.toContain(value);
      expect(line).not.toContain(PASSWORD);
    }
    expect(fails([...REQ, ...sasl, "--sasl-password", "--", "abc"])).not.toContain("abc");
    // with = the value is taken as given
    expect(cfg([...REQ, ...sasl, `--sasl-password=${dashed}`]).saslPassword?.reveal()).toBe(dashed);
    // a known option right after the flag still means "no value"
    expect(fails([...REQ, ...sasl, "--sasl-password", "--workers", "3"])).toContain("missing value");
    expect(fails([...REQ, ...sasl, "--sasl-password", "--no-tls"])).toContain("missing value");
    // help still wins
    expect(load([...REQ, "--sasl-password", dashed, "--help"]).kind).toBe("exit");
    // a misspelt secret flag (or its env name used as a flag): the flag is named, the value after it is not
    for (const flag of ["--sasl-pasword", "--sasl-passwords", "--PROCESSOR_SASL_PASSWORD", "--KAFKA_SASL_PASSWORD"]) {
      // (a short-option cluster holding h or V would show the help: no h in this one)
      for (const value of [dashed, "-xPw9f1cWq", `--no-${PASSWORD}`]) {
        const line = failsQuietly([...REQ, ...sasl, flag, value, "--bogus-option"]);
        expect(line).not.toContain("Pw9f1cWq");
        expect(line).toContain(flag);
        expect(line).toContain("--bogus-option");
        expect(line).toContain("did you mean --sasl-password?");
      }
    }
  });

  test("the env value of a secret setting never appears in an error, even where another setting is at fault", () => {
    for (const name of settings.saslPassword.env) {
      // the value happens to be what is echoed for --workers: it is hidden all the same
      const line = fails([...REQ, "--workers", PASSWORD], { [name]: PASSWORD });
      expect(line).toContain("--workers");
      expect(line).not.toContain(PASSWORD);
      expect(fails([...REQ, `--${PASSWORD}`], { [name]: PASSWORD })).not.toContain(PASSWORD);
    }
  });

  test("--help: a Security group listing every new flag and env name; no default shown for the password", () => {
    const result = load(["--help"]);
    if (result.kind !== "exit") throw new Error("expected help");
    const help = result.output;
    expect(help).toContain("Security:");
    expect(help.indexOf("Kafka:")).toBeLessThan(help.indexOf("Security:"));
    expect(help.indexOf("Security:")).toBeLessThan(help.indexOf("Processing:"));
    for (const name of [
      "--tls-ca-file",
      "--tls-cert-file",
      "--tls-key-file",
      "--tls-server-name",
      "--sasl-mechanism",
      "--sasl-username",
      "--sasl-password",
      "--sasl-password-file",
    ]) {
      expect(help).toContain(name);
    }
    expect(help).toContain("[env: PROCESSOR_SASL_PASSWORD, KAFKA_SASL_PASSWORD]");
    expect(help.replace(/\s+/g, " ")).toContain("[env: PROCESSOR_TLS, KAFKA_TLS] [default: true if a --tls-* option is given, else false]");
    const passwordEntry = help.slice(help.indexOf("--sasl-password "), help.indexOf("--sasl-password-file"));
    expect(passwordEntry).not.toContain("[default");
    // help is the same whatever secrets the environment holds
    const withSecrets = load(["--help"], { PROCESSOR_SASL_PASSWORD: PASSWORD, KAFKA_SASL_PASSWORD: PASSWORD });
    expect(withSecrets).toEqual(result);
  });
});

describe("default rule options (--seed-*)", () => {
  const config = (argv: string[], env: Record<string, string> = {}) => cfg([...REQ, ...argv], env);
  test("off by default; flags and env turn the opt-in checks on", () => {
    expect(config([]).seedRejectFutureMs).toBeUndefined();
    expect(config([])).toMatchObject({ seedStrictUtf8: false, seedRequireFields: false });
    expect(config(["--seed-reject-future", "5m", "--seed-strict-utf8", "--seed-require-fields"])).toMatchObject({
      seedRejectFutureMs: 300_000,
      seedStrictUtf8: true,
      seedRequireFields: true,
    });
    expect(config([], { PROCESSOR_SEED_REJECT_FUTURE: "0s", PROCESSOR_SEED_STRICT_UTF8: "true" })).toMatchObject({
      seedRejectFutureMs: 0,
      seedStrictUtf8: true,
    });
  });
  test("a bad value: one line naming the flag and the env variable", () => {
    expect(failsNaming([...REQ, "--seed-reject-future", "soon"], {}, "--seed-reject-future", "PROCESSOR_SEED_REJECT_FUTURE")).toContain(
      'got "soon"',
    );
  });
});

describe("--metrics-host", () => {
  test("defaults to all IPv4 interfaces; flag and env take addresses and host names", () => {
    expect(cfg(REQ).metricsHost).toBe("0.0.0.0");
    expect(cfg([...REQ, "--metrics-host", "127.0.0.1"]).metricsHost).toBe("127.0.0.1");
    expect(cfg(REQ, { PROCESSOR_METRICS_HOST: "::1" }).metricsHost).toBe("::1");
    expect(cfg([...REQ, "--metrics-host", "[::]"]).metricsHost).toBe("::");
    expect(cfg([...REQ, "--metrics-host", " localhost "]).metricsHost).toBe("localhost");
    expect(cfg([...REQ, "--metrics-host", "10.1.2.3"], { PROCESSOR_METRICS_HOST: "127.0.0.1" }).metricsHost).toBe("10.1.2.3");
    expect(cfg([...REQ, "--metrics-host", "metrics.internal.example"]).metricsHost).toBe("metrics.internal.example");
  });

  test("a bad value: one line, exit 2, naming the flag and the env variable", () => {
    for (const bad of ["", "999.1.1.1", "1.2.3", "http://x", "a b", "host:9090", "[127.0.0.1", "[localhost]", "-x"]) {
      const line = failsNaming([...REQ, `--metrics-host=${bad}`], {}, "--metrics-host", "PROCESSOR_METRICS_HOST");
      expect(line).toContain("expected an IP address or host name");
    }
    failsNaming(REQ, { PROCESSOR_METRICS_HOST: "300.0.0.1" }, "--metrics-host", "PROCESSOR_METRICS_HOST");
  });

  test("--help says the default is reachable from other hosts and how to keep it local", () => {
    const result = load(["--help"]);
    if (result.kind !== "exit") throw new Error("expected help");
    const help = result.output.replace(/\s+/g, " ");
    expect(help).toContain("--metrics-host");
    expect(help).toContain("[env: PROCESSOR_METRICS_HOST] [default: 0.0.0.0]");
    expect(help).toContain("reachable from other hosts");
    expect(help).toContain("127.0.0.1");
  });
});

describe("--guarantee", () => {
  const EOS = ["--guarantee", "exactly-once"] as const;

  test("exactly-once is accepted by flag and by env; at-least-once stays the default", () => {
    expect(cfg(REQ).guarantee).toBe("at-least-once");
    expect(cfg([...REQ, ...EOS]).guarantee).toBe("exactly-once");
    expect(cfg([...REQ, "--guarantee=exactly-once"]).guarantee).toBe("exactly-once");
    expect(cfg(REQ, { PROCESSOR_GUARANTEE: "exactly-once" }).guarantee).toBe("exactly-once");
    expect(cfg([...REQ, "--guarantee", "at-least-once"], { PROCESSOR_GUARANTEE: "exactly-once" }).guarantee).toBe("at-least-once");
    expect(cfg([...REQ, ...EOS]).transactionTimeoutMs).toBe(10_000);
  });

  test("an unknown guarantee: exit 2, one line naming the flag and the env variable", () => {
    const line = failsNaming([...REQ, "--guarantee", "maybe"], {}, "--guarantee", "PROCESSOR_GUARANTEE");
    expect(line).toContain('"maybe"');
    failsNaming(REQ, { PROCESSOR_GUARANTEE: "exactly_once" }, "--guarantee", "PROCESSOR_GUARANTEE");
  });

  test("exactly-once with --auto-offset-store on: exit 2 naming --auto-offset-store (fine with at-least-once)", () => {
    const line = fails([...REQ, ...EOS, "--auto-offset-store"]);
    expect(line).toContain("--auto-offset-store");
    expect(line).toContain("exactly-once");
    expect(fails(REQ, { PROCESSOR_GUARANTEE: "exactly-once", KAFKA_AUTO_OFFSET_STORE: "true" })).toContain("--auto-offset-store");
    expect(cfg([...REQ, "--auto-offset-store"]).autoOffsetStore).toBe(true);
    expect(cfg([...REQ, ...EOS, "--no-auto-offset-store"]).autoOffsetStore).toBe(false);
  });

  test("exactly-once with --group-protocol consumer: exit 2 naming --group-protocol (classic is fine)", () => {
    const line = fails([...REQ, ...EOS, "--group-protocol", "consumer"]);
    expect(line).toContain("--group-protocol");
    expect(line).toContain("exactly-once");
    expect(cfg([...REQ, ...EOS, "--group-protocol", "classic"]).groupProtocol).toBe("classic");
  });

  test("exactly-once with --transaction-timeout <= --commit-interval: exit 2 naming --transaction-timeout", () => {
    for (const [timeout, interval] of [
      ["1s", "1s"],
      ["2s", "5s"],
    ] as const) {
      const line = fails([...REQ, ...EOS, "--transaction-timeout", timeout, "--commit-interval", interval]);
      expect(line).toContain("--transaction-timeout");
      expect(line).toContain("--commit-interval");
    }
    expect(fails(REQ, { PROCESSOR_GUARANTEE: "exactly-once", PROCESSOR_TRANSACTION_TIMEOUT: "1s" })).toContain("--transaction-timeout");
    const ok = cfg([...REQ, ...EOS, "--transaction-timeout", "1001ms", "--commit-interval", "1s"]);
    expect(ok.transactionTimeoutMs).toBe(1001);
    // the rule is exactly-once's own
    expect(cfg([...REQ, "--transaction-timeout", "1s", "--commit-interval", "5s"]).transactionTimeoutMs).toBe(1000);
  });

  test("--transactional-id takes a valid id (flag or env) and rejects an illegal one naming the flag and env", () => {
    expect(cfg([...REQ, ...EOS]).transactionalId).toBeUndefined();
    expect(cfg([...REQ, ...EOS, "--transactional-id", "orders-app.tx_1"]).transactionalId).toBe("orders-app.tx_1");
    expect(cfg([...REQ, ...EOS], { PROCESSOR_TRANSACTIONAL_ID: "pod-3" }).transactionalId).toBe("pod-3");
    for (const bad of ["bad id!", "", "a/b", "x".repeat(300)]) {
      failsNaming([...REQ, ...EOS, `--transactional-id=${bad}`], {}, "--transactional-id", "PROCESSOR_TRANSACTIONAL_ID");
    }
    failsNaming([...REQ, ...EOS], { PROCESSOR_TRANSACTIONAL_ID: "bad id!" }, "--transactional-id", "PROCESSOR_TRANSACTIONAL_ID");
  });
});
