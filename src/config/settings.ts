/**
 * The table of settings — the single source of truth for every setting's CLI
 * flag, aliases, env names, default, help text and validation. The zod
 * schema (`configSchema`) and the yargs options are both generated from it.
 *
 * Adding a setting = adding one entry to `settings` (plus, if it depends on
 * other settings, a line in `deriveDefaults` / `crossChecks`).
 */
import { createSecureContext } from 'node:tls';
import { z } from 'zod';
import { formatDuration, GiB, KiB } from './parse-values.ts';
import {
  boolean,
  brokerList,
  byteSize,
  duration,
  groupInstanceId,
  hostName,
  integer,
  listenHost,
  nonEmptyString,
  oneOf,
  pemFile,
  ratio,
  secretFile,
  secretText,
  topic,
  topicList,
  type ValueType,
} from './value-types.ts';

/** Help groups, in display order. */
export const GROUPS = ['Kafka', 'Security', 'Processing', 'Reliability', 'Tuning', 'Logging'] as const;
export type SettingGroup = (typeof GROUPS)[number];

interface SettingSpec<T> {
  /** Long flag without dashes, e.g. `group-id`. */
  readonly flag: string;
  /** Other flag names without dashes; one character = short flag (`w` → `-w`). */
  readonly aliases?: readonly string[];
  /** Environment variable names; the first is the primary one and wins if several are set. */
  readonly env: readonly [string, ...string[]];
  readonly group: SettingGroup;
  readonly description: string;
  readonly type: ValueType<T>;
  /** Optional warning to emit for the resolved value (e.g. a risky choice). */
  warn?(value: T): string | undefined;
  /** The raw value is a secret: never shown in errors or warnings. */
  readonly secret?: boolean;
}

/** How a setting gets a value when neither flag nor env gives one. */
export type Presence =
  | { readonly kind: 'default'; readonly raw: string }
  | { readonly kind: 'required' }
  | { readonly kind: 'optional' }
  | { readonly kind: 'derived'; readonly describe: string };

export interface Setting<Out = unknown> extends SettingSpec<unknown> {
  readonly presence: Presence;
  /** raw string (or undefined when unset) → resolved value */
  readonly schema: z.ZodType<Out, string | undefined>;
}

function meta(spec: SettingSpec<unknown>) {
  return { description: spec.description, flag: `--${spec.flag}`, env: [...spec.env] };
}

/** A setting with a default, written as the user would write it (`'200ms'`, `'4MiB'`). */
function withDefault<T>(spec: SettingSpec<T>, raw: string): Setting<T> {
  const checked = spec.type.schema.safeParse(raw);
  if (!checked.success) throw new Error(`config: default ${JSON.stringify(raw)} of --${spec.flag} is invalid`);
  const schema = z.string().default(raw).pipe(spec.type.schema).meta(meta(spec));
  return { ...spec, presence: { kind: 'default', raw }, schema };
}

/** A setting that must be given by flag or env. */
function required<T>(spec: SettingSpec<T>): Setting<T> {
  const schema = z.string().pipe(spec.type.schema).meta(meta(spec));
  return { ...spec, presence: { kind: 'required' }, schema };
}

/** A setting that may stay unset (undefined in Config). */
function optional<T>(spec: SettingSpec<T>): Setting<T | undefined> {
  return { ...spec, presence: { kind: 'optional' }, schema: spec.type.schema.optional().meta(meta(spec)) };
}

/** A setting whose default is computed from other settings in `deriveDefaults`. */
function derived<T>(spec: SettingSpec<T>, describe: string): Setting<T | undefined> {
  return { ...spec, presence: { kind: 'derived', describe }, schema: spec.type.schema.optional().meta(meta(spec)) };
}

export const settings = {
  // ── Kafka ────────────────────────────────────────────────────────────────
  brokers: withDefault(
    {
      flag: 'brokers',
      aliases: ['b'],
      env: ['KAFKA_SERVERS', 'PROCESSOR_BROKERS'],
      group: 'Kafka',
      description: 'Bootstrap brokers, host[:port] list (comma or space separated; port defaults to 9092).',
      type: brokerList(),
    },
    'localhost:9092',
  ),
  groupId: withDefault(
    {
      flag: 'group-id',
      env: ['KAFKA_GROUP_ID'],
      group: 'Kafka',
      description: 'Consumer group id.',
      type: nonEmptyString(),
    },
    'processor',
  ),
  inputTopics: required({
    flag: 'input-topics',
    aliases: ['topics'],
    env: ['KAFKA_CONSUMER_TOPICS'],
    group: 'Kafka',
    description: 'Topics to consume (comma or space separated).',
    type: topicList(),
  }),
  outputTopic: required({
    flag: 'output-topic',
    env: ['KAFKA_CONSUMER_TOPIC', 'PROCESSOR_OUTPUT_TOPIC'],
    group: 'Kafka',
    description: 'Topic results are produced to; must not be an input topic.',
    type: topic(),
  }),
  dlqTopic: derived(
    {
      flag: 'dlq-topic',
      env: ['PROCESSOR_DLQ_TOPIC'],
      group: 'Kafka',
      description: 'Dead-letter topic for messages that exhausted their retries; must differ from output and input topics.',
      type: topic(),
    },
    '<output-topic>.dlq',
  ),
  offsetReset: withDefault(
    {
      flag: 'offset-reset',
      env: ['KAFKA_OFFSET_RESET'],
      group: 'Kafka',
      description: 'Where to start when the group has no committed offset: earliest|latest (smallest/largest accepted).',
      type: oneOf(['earliest', 'latest'], { smallest: 'earliest', largest: 'latest' }),
    },
    'earliest',
  ),
  clientId: withDefault(
    {
      flag: 'client-id',
      env: ['PROCESSOR_CLIENT_ID'],
      group: 'Kafka',
      description: 'Kafka client id.',
      type: nonEmptyString(),
    },
    'processor',
  ),
  groupProtocol: withDefault(
    {
      flag: 'group-protocol',
      env: ['PROCESSOR_GROUP_PROTOCOL'],
      group: 'Kafka',
      description: 'Consumer group protocol: classic|consumer (KIP-848).',
      type: oneOf(['classic', 'consumer']),
    },
    'classic',
  ),
  groupInstanceId: optional({
    flag: 'group-instance-id',
    env: ['PROCESSOR_GROUP_INSTANCE_ID'],
    group: 'Kafka',
    description:
      'Static group membership: consumer n of this process joins as <id>-<n>, so a restart within --session-timeout moves no partition (a stopped member keeps them until then). Give each process its own id.',
    type: groupInstanceId(),
  }),

  // ── Security ─────────────────────────────────────────────────────────────
  tls: derived(
    {
      flag: 'tls',
      env: ['PROCESSOR_TLS', 'KAFKA_TLS'],
      group: 'Security',
      description: 'Connect to the brokers with TLS (the broker certificate is always verified).',
      type: boolean(),
    },
    'true if a --tls-* option is given, else false',
  ),
  tlsCaFile: optional({
    flag: 'tls-ca-file',
    env: ['PROCESSOR_TLS_CA_FILE', 'KAFKA_TLS_CA_FILE'],
    group: 'Security',
    description: 'PEM file with the CA certificate(s) the broker certificate is checked against (default: the built-in public CAs).',
    type: pemFile('certificate'),
  }),
  tlsCertFile: optional({
    flag: 'tls-cert-file',
    env: ['PROCESSOR_TLS_CERT_FILE', 'KAFKA_TLS_CERT_FILE'],
    group: 'Security',
    description: 'PEM file with the client certificate for mutual TLS (needs --tls-key-file).',
    type: pemFile('certificate'),
  }),
  tlsKeyFile: optional({
    flag: 'tls-key-file',
    env: ['PROCESSOR_TLS_KEY_FILE', 'KAFKA_TLS_KEY_FILE'],
    group: 'Security',
    description: 'PEM file with the (unencrypted) private key of --tls-cert-file.',
    type: pemFile('private key'),
  }),
  tlsServerName: optional({
    flag: 'tls-server-name',
    env: ['PROCESSOR_TLS_SERVER_NAME', 'KAFKA_TLS_SERVER_NAME'],
    group: 'Security',
    description: 'Host name sent as SNI and checked against the broker certificate (default: the broker address).',
    type: hostName(),
  }),
  saslMechanism: optional({
    flag: 'sasl-mechanism',
    env: ['PROCESSOR_SASL_MECHANISM', 'KAFKA_SASL_MECHANISM'],
    group: 'Security',
    description: 'SASL authentication: plain|scram-sha-256|scram-sha-512 (needs --sasl-username and a password).',
    type: oneOf(['plain', 'scram-sha-256', 'scram-sha-512']),
  }),
  saslUsername: optional({
    flag: 'sasl-username',
    env: ['PROCESSOR_SASL_USERNAME', 'KAFKA_SASL_USERNAME'],
    group: 'Security',
    description: 'SASL user name.',
    type: nonEmptyString(),
  }),
  saslPassword: optional({
    flag: 'sasl-password',
    env: ['PROCESSOR_SASL_PASSWORD', 'KAFKA_SASL_PASSWORD'],
    group: 'Security',
    description: 'SASL password; prefer the env variable or --sasl-password-file (a flag shows in the process list).',
    type: secretText(),
    secret: true,
  }),
  saslPasswordFile: optional({
    flag: 'sasl-password-file',
    env: ['PROCESSOR_SASL_PASSWORD_FILE', 'KAFKA_SASL_PASSWORD_FILE'],
    group: 'Security',
    description: 'File holding the SASL password (trailing newlines dropped), e.g. a mounted secret.',
    type: secretFile(),
  }),

  // ── Processing ───────────────────────────────────────────────────────────
  workers: withDefault(
    {
      flag: 'workers',
      aliases: ['w'],
      env: ['WORKER_POOL', 'PROCESSOR_WORKERS'],
      group: 'Processing',
      description: 'Max concurrently running handler tasks (1..100000).',
      type: integer(1, 100_000),
    },
    '16',
  ),
  pickUp: derived(
    {
      flag: 'pick-up',
      env: ['TASKS_PICK_UP'],
      group: 'Processing',
      description: 'Free worker slots needed before pulling the next batch (1..workers).',
      type: integer(1, 100_000),
    },
    'max(1, floor(workers/3))',
  ),
  consumers: withDefault(
    {
      flag: 'consumers',
      aliases: ['c'],
      env: ['CONSUMERS_COUNT'],
      group: 'Processing',
      description: 'Number of Kafka consumers (1..64).',
      type: integer(1, 64),
    },
    '1',
  ),
  producers: withDefault(
    {
      flag: 'producers',
      aliases: ['p'],
      env: ['PRODUCERS_COUNT'],
      group: 'Processing',
      description: 'Number of Kafka producers (1..64).',
      type: integer(1, 64),
    },
    '1',
  ),
  ordering: withDefault(
    {
      flag: 'ordering',
      env: ['PROCESSOR_ORDERING'],
      group: 'Processing',
      description: 'Ordering guarantee: key (per message key) | partition | none.',
      type: oneOf(['key', 'partition', 'none']),
    },
    'key',
  ),
  handler: optional({
    flag: 'handler',
    env: ['PROCESSOR_HANDLER'],
    group: 'Processing',
    description: 'Path of the handler module.',
    type: nonEmptyString(),
  }),
  seedRejectFutureMs: optional({
    flag: 'seed-reject-future',
    env: ['PROCESSOR_SEED_REJECT_FUTURE'],
    group: 'Processing',
    description: 'Default rule only: also reject timestamps more than this far in the future, e.g. 5m (the seed accepts them). Off when unset.',
    type: duration(0),
  }),
  seedStrictUtf8: withDefault(
    {
      flag: 'seed-strict-utf8',
      env: ['PROCESSOR_SEED_STRICT_UTF8'],
      group: 'Processing',
      description: 'Default rule only: reject values that are not valid UTF-8 (the seed decodes bad bytes inside strings as U+FFFD).',
      type: boolean(),
    },
    'false',
  ),
  seedRequireFields: withDefault(
    {
      flag: 'seed-require-fields',
      env: ['PROCESSOR_SEED_REQUIRE_FIELDS'],
      group: 'Processing',
      description: 'Default rule only: reject a missing or null id or data (the seed takes them as empty).',
      type: boolean(),
    },
    'false',
  ),
  handlerTimeoutMs: withDefault(
    {
      flag: 'handler-timeout',
      env: ['PROCESSOR_HANDLER_TIMEOUT'],
      group: 'Processing',
      description: 'Time limit for one handler attempt.',
      type: duration(),
    },
    '30s',
  ),

  // ── Reliability ──────────────────────────────────────────────────────────
  autoOffsetStore: withDefault(
    {
      flag: 'auto-offset-store',
      env: ['KAFKA_AUTO_OFFSET_STORE'],
      group: 'Reliability',
      description: 'Store offsets as soon as messages are consumed, not after they are produced: faster, but may lose messages on a crash.',
      type: boolean(),
      warn: (on) =>
        on
          ? '--auto-offset-store is on: offsets are stored as messages are consumed (faster), so messages still in flight may be lost on a crash'
          : undefined,
    },
    'false',
  ),
  retries: withDefault(
    {
      flag: 'retries',
      env: ['PROCESSOR_RETRIES'],
      group: 'Reliability',
      description: 'Extra handler attempts after the first (0..1000).',
      type: integer(0, 1000),
    },
    '3',
  ),
  retryBackoffMs: withDefault(
    {
      flag: 'retry-backoff',
      env: ['PROCESSOR_RETRY_BACKOFF'],
      group: 'Reliability',
      description: 'Initial retry backoff (exponential, with jitter).',
      type: duration(1),
    },
    '200ms',
  ),
  retryBackoffMaxMs: withDefault(
    {
      flag: 'retry-backoff-max',
      env: ['PROCESSOR_RETRY_BACKOFF_MAX'],
      group: 'Reliability',
      description: 'Maximum retry backoff (>= --retry-backoff).',
      type: duration(1),
    },
    '30s',
  ),
  shutdownTimeoutMs: withDefault(
    {
      flag: 'shutdown-timeout',
      env: ['PROCESSOR_SHUTDOWN_TIMEOUT'],
      group: 'Reliability',
      description: 'Time allowed to drain in-flight work on shutdown.',
      type: duration(),
    },
    '30s',
  ),
  watchdogMs: withDefault(
    {
      flag: 'watchdog',
      env: ['PROCESSOR_WATCHDOG'],
      group: 'Reliability',
      description: 'Kill the process when its main thread has not run for this long (a handler blocking synchronously), so the group reassigns its partitions (>= 1s).',
      type: duration(1000),
    },
    '60s',
  ),
  dlqMaxRatio: optional({
    flag: 'dlq-max-ratio',
    env: ['PROCESSOR_DLQ_MAX_RATIO'],
    group: 'Reliability',
    description: 'Stop (exit 1, nothing further committed) when more than this share of the last --dlq-window records went to the dead-letter topic, e.g. 0.5 or 50%. Off when unset.',
    type: ratio(),
  }),
  dlqWindow: withDefault(
    {
      flag: 'dlq-window',
      env: ['PROCESSOR_DLQ_WINDOW'],
      group: 'Reliability',
      description: 'How many of the latest finished records --dlq-max-ratio looks at (10..1000000).',
      type: integer(10, 1_000_000),
    },
    '1000',
  ),
  dlqMaxConsecutive: withDefault(
    {
      flag: 'dlq-max-consecutive',
      env: ['PROCESSOR_DLQ_MAX_CONSECUTIVE'],
      group: 'Reliability',
      description: 'Stop (exit 1, nothing further committed) when this many records in a row went to the dead-letter topic; 0 = off.',
      type: integer(0),
    },
    '0',
  ),
  maxUncommitted: withDefault(
    {
      flag: 'max-uncommitted',
      env: ['PROCESSOR_MAX_UNCOMMITTED'],
      group: 'Reliability',
      description:
        'Per partition: records received but not yet committable (in flight, or done behind one still in flight) at which that partition stops being fetched until it is down to half; bounds memory and what a crash replays when one record keeps retrying.',
      type: integer(1),
    },
    '10000',
  ),
  commitIntervalMs: withDefault(
    {
      flag: 'commit-interval',
      env: ['PROCESSOR_COMMIT_INTERVAL'],
      group: 'Reliability',
      description: 'How often stored offsets are committed (>= 10ms).',
      type: duration(10),
    },
    '1s',
  ),

  // ── Tuning ───────────────────────────────────────────────────────────────
  ringBytes: withDefault(
    {
      flag: 'ring-size',
      env: ['PROCESSOR_RING_SIZE'],
      group: 'Tuning',
      description: 'Ring buffer size; a power of two between 64KiB and 1GiB.',
      type: byteSize({ min: 64 * KiB, max: GiB, powerOfTwo: true }),
    },
    '4MiB',
  ),
  maxMessageBytes: withDefault(
    {
      flag: 'max-message-bytes',
      env: ['PROCESSOR_MAX_MESSAGE_BYTES'],
      group: 'Tuning',
      description: 'Largest output record (key + value + headers) processor sends; a larger one is not sent and its input goes to the dead-letter topic (>= 1KiB). Kafka\'s own limit is the topic\'s max.message.bytes.',
      type: byteSize({ min: KiB }),
    },
    '16MiB',
  ),
  sessionTimeoutMs: withDefault(
    {
      flag: 'session-timeout',
      env: ['PROCESSOR_SESSION_TIMEOUT'],
      group: 'Tuning',
      description: 'Consumer group session timeout.',
      type: duration(),
    },
    '30s',
  ),
  rebalanceTimeoutMs: withDefault(
    {
      flag: 'rebalance-timeout',
      env: ['PROCESSOR_REBALANCE_TIMEOUT'],
      group: 'Tuning',
      description: 'Consumer group rebalance timeout.',
      type: duration(),
    },
    '60s',
  ),
  revokeTimeoutMs: withDefault(
    {
      flag: 'revoke-timeout',
      env: ['PROCESSOR_REVOKE_TIMEOUT'],
      group: 'Tuning',
      description:
        'How long partitions being taken away by a rebalance may finish their in-flight records before their progress is committed and they are released (< --rebalance-timeout).',
      type: duration(),
    },
    '5s',
  ),
  heartbeatIntervalMs: withDefault(
    {
      flag: 'heartbeat-interval',
      env: ['PROCESSOR_HEARTBEAT_INTERVAL'],
      group: 'Tuning',
      description: 'Consumer heartbeat interval (< --session-timeout).',
      type: duration(),
    },
    '3s',
  ),

  // ── Logging ──────────────────────────────────────────────────────────────
  logLevel: withDefault(
    {
      flag: 'log-level',
      env: ['PROCESSOR_LOG_LEVEL', 'LOG_LEVEL'],
      group: 'Logging',
      description: 'Log level: debug|info|warn|error|silent.',
      type: oneOf(['debug', 'info', 'warn', 'error', 'silent']),
    },
    'info',
  ),
  metricsPort: withDefault(
    {
      flag: 'metrics-port',
      env: ['PROCESSOR_METRICS_PORT'],
      group: 'Logging',
      description: 'Port of the HTTP endpoint (on --metrics-host) serving /metrics (Prometheus), /healthz and /readyz; 0 turns it off.',
      type: integer(0, 65535),
    },
    '0',
  ),
  metricsHost: withDefault(
    {
      flag: 'metrics-host',
      env: ['PROCESSOR_METRICS_HOST'],
      group: 'Logging',
      description:
        'Address the --metrics-port endpoint listens on. The default 0.0.0.0 (all IPv4 interfaces) makes it reachable from other hosts; 127.0.0.1 (or ::1) keeps it on this host, :: listens on all IPv4 and IPv6 interfaces.',
      type: listenHost(),
    },
    '0.0.0.0',
  ),
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof settings;
export const settingKeys = Object.keys(settings) as SettingKey[];

/** The raw input the schema parses: one string (or undefined = unset) per setting. */
export type RawConfig = { [K in SettingKey]?: string | undefined };

type Shape = { [K in SettingKey]: (typeof settings)[K]['schema'] };
const shape = Object.fromEntries(settingKeys.map((key) => [key, settings[key].schema])) as Shape;

type Fields = z.output<z.ZodObject<Shape>>;

/** Fill in defaults that depend on other settings. */
function deriveDefaults(c: Fields) {
  return {
    ...c,
    dlqTopic: c.dlqTopic ?? `${c.outputTopic}.dlq`,
    pickUp: c.pickUp ?? Math.max(1, Math.floor(c.workers / 3)),
    tls: c.tls ?? [c.tlsCaFile, c.tlsCertFile, c.tlsKeyFile, c.tlsServerName].some((v) => v !== undefined),
  };
}

type Resolved = ReturnType<typeof deriveDefaults>;

/** Rules involving several settings. Issues point at the setting to fix (path[0]). */
function crossChecks(c: Resolved, ctx: z.RefinementCtx): void {
  const issue = (key: SettingKey, message: string, input: unknown) =>
    ctx.addIssue({ code: 'custom', path: [key], message, input });
  if (c.inputTopics.includes(c.outputTopic)) {
    issue('outputTopic', 'must not be one of --input-topics', c.outputTopic);
  }
  if (c.dlqTopic === c.outputTopic) {
    issue('dlqTopic', 'must differ from --output-topic', c.dlqTopic);
  } else if (c.inputTopics.includes(c.dlqTopic)) {
    issue('dlqTopic', 'must not be one of --input-topics', c.dlqTopic);
  }
  if (c.pickUp > c.workers) {
    issue('pickUp', `must be <= --workers (${c.workers})`, c.pickUp);
  }
  if (c.retryBackoffMaxMs < c.retryBackoffMs) {
    issue('retryBackoffMaxMs', `must be >= --retry-backoff (${formatDuration(c.retryBackoffMs)})`, c.retryBackoffMaxMs);
  }
  if (c.revokeTimeoutMs >= c.rebalanceTimeoutMs) {
    issue('revokeTimeoutMs', `must be less than --rebalance-timeout (${formatDuration(c.rebalanceTimeoutMs)})`, c.revokeTimeoutMs);
  }
  if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) {
    issue('heartbeatIntervalMs', `must be less than --session-timeout (${formatDuration(c.sessionTimeoutMs)})`, c.heartbeatIntervalMs);
  }
  securityChecks(c, issue);
}

/** TLS files that belong together, and SASL settings that need each other. Messages never include a secret. */
function securityChecks(c: Resolved, issue: (key: SettingKey, message: string, input: unknown) => void): void {
  const tlsOptions = (['tlsCaFile', 'tlsCertFile', 'tlsKeyFile', 'tlsServerName'] as const).filter((key) => c[key] !== undefined);
  const [firstTlsOption] = tlsOptions;
  if (!c.tls && firstTlsOption !== undefined) {
    issue('tls', `is false, but --${settings[firstTlsOption].flag} needs TLS`, c.tls);
  }
  if (c.tlsCertFile !== undefined && c.tlsKeyFile === undefined) issue('tlsCertFile', 'needs --tls-key-file too', c.tlsCertFile.path);
  if (c.tlsKeyFile !== undefined && c.tlsCertFile === undefined) issue('tlsKeyFile', 'needs --tls-cert-file too', c.tlsKeyFile.path);
  if (c.tlsCaFile !== undefined) {
    const problem = secureContextProblem({ ca: c.tlsCaFile.contents });
    if (problem !== null) issue('tlsCaFile', `is not a usable CA file (${problem})`, c.tlsCaFile.path);
  }
  if (c.tlsCertFile !== undefined && c.tlsKeyFile !== undefined) {
    const problem = secureContextProblem({ cert: c.tlsCertFile.contents, key: c.tlsKeyFile.contents.reveal() });
    if (problem !== null) issue('tlsKeyFile', `does not fit --tls-cert-file (${problem})`, c.tlsKeyFile.path);
  }

  const hasPassword = c.saslPassword !== undefined || c.saslPasswordFile !== undefined;
  if (c.saslPassword !== undefined && c.saslPasswordFile !== undefined) {
    issue('saslPasswordFile', 'give either --sasl-password or --sasl-password-file, not both', c.saslPasswordFile.path);
  }
  if (c.saslMechanism === undefined) {
    const stray = (['saslUsername', 'saslPassword', 'saslPasswordFile'] as const).find((key) => c[key] !== undefined);
    if (stray !== undefined) issue(stray, 'needs --sasl-mechanism (plain|scram-sha-256|scram-sha-512)', undefined);
  } else if (c.saslUsername === undefined) {
    issue('saslMechanism', 'needs --sasl-username', c.saslMechanism);
  } else if (!hasPassword) {
    issue('saslMechanism', 'needs a password: --sasl-password or --sasl-password-file', c.saslMechanism);
  }
}

/** Whether node:tls accepts the PEM material (bad base64, key not matching the certificate, ...). */
function secureContextProblem(options: { ca?: string; cert?: string; key?: string }): string | null {
  try {
    createSecureContext(options);
    return null;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === 'string' ? code : 'rejected by TLS';
  }
}

/** Raw strings (or undefined) per setting → fully resolved, validated Config. */
export const configSchema = z.object(shape).strict().transform(deriveDefaults).superRefine(crossChecks);

export type Config = z.output<typeof configSchema>;
