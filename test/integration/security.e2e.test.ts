/**
 * TLS and SASL against the project's secure broker (scripts/kafka/start.sh --mode secure): SASL_SSL on 29093
 * (SCRAM-SHA-256/512, PLAIN), mutual TLS on 29094, and a PLAINTEXT admin listener on 29092 used here to set up
 * topics and check results. Good credentials: records flow end to end. Bad ones: a quick exit with one clear line.
 * No password ever shows in any output.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin, Producer } from "@platformatic/kafka";
import { uniqueName } from "../support/kafka.ts";
import { type SecureBroker, startSecureBroker } from "../support/secure-broker.ts";
import {
  buildBinary,
  eventually,
  type FinishedRun,
  oneFailureLine,
  runToExit as runBinary,
  startProcessor,
  topicArgs,
} from "../support/processor.ts";
import { seedCases } from "../support/seed-data.ts";
import { sum } from "../../scripts/lib/stats.ts";

const ADMIN_BROKERS = ["127.0.0.1:29092"]; // PLAINTEXT, no auth: setup and checks only
const SASL_SSL = "127.0.0.1:29093";
const MTLS = "127.0.0.1:29094";
const WRONG_PASSWORD = "wrong-Secret-4711";
/** Every secret a run could leak; filled from env.sh (processor-secret, admin-secret, ...). */
const secrets = new Set<string>([WRONG_PASSWORD]);
/** stdout + stderr of every processor run, checked for secrets at the end. */
const transcripts: { name: string; text: string }[] = [];
const created: string[] = [];

let secure: SecureBroker | undefined;
let dir = "";

const need = (name: string): string => {
  if (secure === undefined) throw new Error("the secure broker is not started");
  return secure.need(name);
};

async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: "security-test-admin", bootstrapBrokers: ADMIN_BROKERS });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

async function offsets(topic: string): Promise<number[]> {
  return withAdmin(async (admin) => {
    const result = await admin.listOffsets({
      topics: [{ name: topic, partitions: [0, 1, 2].map((p) => ({ partitionIndex: p, timestamp: -1n })) }],
    });
    const ends = [0, 0, 0];
    for (const p of result[0]?.partitions ?? []) ends[p.partitionIndex] = Number(p.offset);
    return ends;
  });
}

async function committed(groupId: string, topic: string): Promise<number[]> {
  return withAdmin(async (admin) => {
    const [group] = await admin.listConsumerGroupOffsets({ groups: [groupId] });
    const ends = [0, 0, 0];
    for (const p of group?.topics.find((t) => t.name === topic)?.partitions ?? []) ends[p.partitionIndex] = Number(p.committedOffset);
    return ends;
  });
}

/** Input, output and DLQ topics (3 partitions each) on the secure broker, with `count` seed records in the input. */
async function seededTopics(prefix: string, count: number) {
  const input = uniqueName(`${prefix}-in`);
  const output = uniqueName(`${prefix}-out`);
  const dlq = `${output}.dlq`;
  created.push(input, output, dlq);
  await withAdmin((admin) => admin.createTopics({ topics: [input, output, dlq], partitions: 3, replicas: 1 }));
  const cases = seedCases(count, 7, uniqueName("run"));
  const producer = new Producer({ clientId: "security-test-producer", bootstrapBrokers: ADMIN_BROKERS, idempotent: true, retries: 5 });
  try {
    await producer.send({
      messages: cases.map(({ record }) => ({
        topic: input,
        key: record.key === null ? undefined : Buffer.from(record.key),
        value: Buffer.from(record.value),
        headers: new Map(Object.entries(record.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
      })),
    });
  } finally {
    await producer.close();
  }
  return { input, output, dlq, cases };
}

/**
 * Runs the processor against a secure listener until every record is processed and committed, then stops it.
 * `--brokers` comes after startProcessor's own (the last one wins).
 */
async function flowsEndToEnd(name: string, brokers: string, securityArgs: string[], env: Record<string, string> = {}): Promise<void> {
  const t = await seededTopics(name, 40);
  const groupId = uniqueName("g");
  const ends = await offsets(t.input);
  expect(sum(ends)).toBe(t.cases.length);
  const processor = startProcessor(["--brokers", brokers, ...topicArgs(t.input, t.output, groupId), ...securityArgs], env);
  let done = false;
  try {
    done = await eventually(async () => JSON.stringify(await committed(groupId, t.input)) === JSON.stringify(ends), 60_000);
  } finally {
    processor.process.kill("SIGTERM");
    const code = await processor.exited();
    transcripts.push({ name, text: processor.log() });
    if (!done || code !== 0) console.error(`${name}: exit ${code}\n${processor.log().slice(-3000)}`);
  }
  expect(done).toBe(true);
  expect(processor.process.exitCode).toBe(0);
  const dlqCases = t.cases.filter((c) => c.expected === "dlq").length;
  expect(sum(await offsets(t.output))).toBe(t.cases.length - dlqCases);
  expect(sum(await offsets(t.dlq))).toBe(dlqCases);
  expect(processor.log()).toContain('"msg":"stopped"');
}

/** Runs the binary to its exit; its output is kept for the secrets check. */
async function runToExit(name: string, args: string[], env: Record<string, string> = {}): Promise<FinishedRun> {
  const result = await runBinary(args, env);
  transcripts.push({ name, text: result.stdout + result.stderr });
  return result;
}

/** A wrong setup: non-zero exit in under 30 s, with exactly one `processor: ` line on stderr; returns that line. */
async function failsWith(name: string, args: string[], env: Record<string, string> = {}): Promise<string> {
  const topics = ["--input-topics", "sec-fail-in", "--output-topic", "sec-fail-out"];
  return oneFailureLine(name, await runToExit(name, [...topics, ...args], env));
}

beforeAll(async () => {
  secure = startSecureBroker();
  for (const name of ["KAFKA_SECURE_PASSWORD", "KAFKA_SECURE_ADMIN_PASSWORD", "KAFKA_SECURE_STORE_PASSWORD"]) secrets.add(need(name));
  dir = mkdtempSync(join(tmpdir(), "processor-security-"));
  writeFileSync(join(dir, "password"), `${need("KAFKA_SECURE_PASSWORD")}\n`);
  // a CA that did not sign the broker's certificate
  const ca = Bun.spawnSync(
    [
      "openssl",
      "req",
      "-x509",
      "-newkey",
      "ec",
      "-pkeyopt",
      "ec_paramgen_curve:P-256",
      "-nodes",
      "-keyout",
      "other-ca.key",
      "-out",
      "other-ca.pem",
      "-subj",
      "/CN=not-the-broker-ca",
      "-days",
      "2",
    ],
    { cwd: dir, stdout: "pipe", stderr: "pipe" },
  );
  if (ca.exitCode !== 0) throw new Error(`openssl failed: ${ca.stderr.toString()}`);
  await buildBinary();
}, 240_000);

afterAll(async () => {
  if (created.length > 0) await withAdmin((admin) => admin.deleteTopics({ topics: created })).catch(() => undefined);
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
  secure?.release();
}, 60_000);

const caArgs = () => ["--tls-ca-file", need("KAFKA_SECURE_CA_PEM")];
/** SASL PLAIN as the test user, the password read from a file. */
const plainSaslArgs = () => [
  "--sasl-mechanism",
  "plain",
  "--sasl-username",
  need("KAFKA_SECURE_USERNAME"),
  "--sasl-password-file",
  join(dir, "password"),
];
const clientCertArgs = () => [
  "--tls-cert-file",
  need("KAFKA_SECURE_CLIENT_CERT_PEM"),
  "--tls-key-file",
  need("KAFKA_SECURE_CLIENT_KEY_PEM"),
];

test("SASL_SSL, SCRAM-SHA-256, password by flag: records flow end to end", async () => {
  await flowsEndToEnd("scram256", SASL_SSL, [
    ...caArgs(),
    "--sasl-mechanism",
    "scram-sha-256",
    "--sasl-username",
    need("KAFKA_SECURE_USERNAME"),
    "--sasl-password",
    need("KAFKA_SECURE_PASSWORD"),
  ]);
}, 90_000);

test("SASL_SSL, SCRAM-SHA-512, everything by env (password in PROCESSOR_SASL_PASSWORD): records flow", async () => {
  await flowsEndToEnd("scram512", SASL_SSL, [], {
    KAFKA_TLS_CA_FILE: need("KAFKA_SECURE_CA_PEM"),
    PROCESSOR_SASL_MECHANISM: "SCRAM-SHA-512",
    KAFKA_SASL_USERNAME: need("KAFKA_SECURE_USERNAME"),
    PROCESSOR_SASL_PASSWORD: need("KAFKA_SECURE_PASSWORD"),
  });
}, 90_000);

test("SASL_SSL, PLAIN, password from --sasl-password-file, explicit --tls and --tls-server-name: records flow", async () => {
  await flowsEndToEnd("plain", SASL_SSL, ["--tls", ...caArgs(), "--tls-server-name", "localhost", ...plainSaslArgs()]);
}, 90_000);

test("mutual TLS with client certificate and key: records flow", async () => {
  await flowsEndToEnd("mtls", MTLS, [...caArgs(), ...clientCertArgs()]);
}, 90_000);

test("wrong password: quick exit, one clear line", async () => {
  const line = await failsWith(
    "wrong password",
    ["--brokers", SASL_SSL, ...caArgs(), "--sasl-mechanism", "scram-sha-256", "--sasl-username", need("KAFKA_SECURE_USERNAME")],
    {
      KAFKA_SASL_PASSWORD: WRONG_PASSWORD,
    },
  );
  expect(line).toBe(
    "processor: SASL authentication failed: the broker rejected the credentials (check --sasl-username, the password and --sasl-mechanism)",
  );
}, 60_000);

test("a CA that did not sign the broker certificate: quick exit, one clear line", async () => {
  const line = await failsWith("unknown CA", ["--brokers", SASL_SSL, "--tls-ca-file", join(dir, "other-ca.pem"), ...plainSaslArgs()]);
  expect(line).toStartWith("processor: TLS: the broker's certificate is not trusted (");
  expect(line).toEndWith("is --tls-ca-file the CA that signed it?");
}, 60_000);

test("a server name the broker certificate does not have: quick exit, one clear line", async () => {
  const line = await failsWith("wrong server name", [
    "--brokers",
    MTLS,
    ...caArgs(),
    "--tls-server-name",
    "kafka.example.com",
    ...clientCertArgs(),
  ]);
  expect(line).toStartWith("processor: TLS: the broker's certificate does not match the host name (ERR_TLS_CERT_ALTNAME_INVALID");
}, 60_000);

test("plaintext client on the TLS port (no --tls): quick exit, one clear line", async () => {
  const line = await failsWith("plaintext on TLS port", ["--brokers", MTLS]);
  expect(line).toBe("processor: the broker answered with TLS: it is a TLS listener (use --tls)");
}, 60_000);

test("TLS client on the plaintext port: quick exit, one clear line", async () => {
  const line = await failsWith("TLS on plaintext port", ["--brokers", ADMIN_BROKERS.join(","), ...caArgs()]);
  expect(line).toBe("processor: TLS handshake failed: the broker closed the connection (is it a plaintext listener? then drop --tls)");
}, 60_000);

test("SASL without --tls on the SASL_SSL port: quick exit, one clear line", async () => {
  const line = await failsWith(
    "SASL without TLS",
    ["--brokers", SASL_SSL, "--sasl-mechanism", "scram-sha-512", "--sasl-username", need("KAFKA_SECURE_USERNAME")],
    {
      PROCESSOR_SASL_PASSWORD: need("KAFKA_SECURE_PASSWORD"),
    },
  );
  expect(line).toBe("processor: the broker closed the connection during the SASL handshake: is it a TLS listener? (use --tls)");
}, 60_000);

test("TLS without the client certificate the mTLS listener requires: quick exit, one line", async () => {
  const line = await failsWith("mTLS without certificate", ["--brokers", MTLS, ...caArgs()]);
  expect(line).toStartWith(`processor: cannot reach brokers ${MTLS}:`);
  expect(line).toContain(
    "the broker closed every connection right after accepting it: does the listener need TLS (--tls), a client certificate",
  );
}, 60_000);

test("TLS without SASL on the SASL_SSL port: quick exit, one line with a hint", async () => {
  const line = await failsWith("TLS without SASL", ["--brokers", SASL_SSL, ...caArgs()]);
  expect(line).toStartWith(`processor: cannot reach brokers ${SASL_SSL}:`);
  expect(line).toContain("or SASL (--sasl-mechanism)?");
}, 60_000);

test("a mechanism without a password is a usage error (exit 2) before any connection", async () => {
  const result = await runToExit("usage error", [
    "--input-topics",
    "a",
    "--output-topic",
    "b",
    "--brokers",
    SASL_SSL,
    "--sasl-mechanism",
    "plain",
    "--sasl-username",
    "u",
  ]);
  expect(result.code).toBe(2);
  expect(result.stderr.trim()).toBe(
    'processor: invalid --sasl-mechanism (env PROCESSOR_SASL_MECHANISM, KAFKA_SASL_MECHANISM): needs a password: --sasl-password or --sasl-password-file, got "plain"',
  );
});

test("no password appears in any output: every run above, and --help with passwords in the environment", async () => {
  const help = await runToExit("--help", ["--help"], {
    PROCESSOR_SASL_PASSWORD: need("KAFKA_SECURE_PASSWORD"),
    KAFKA_SASL_PASSWORD: WRONG_PASSWORD,
  });
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("--sasl-password-file");
  expect(transcripts.length).toBeGreaterThanOrEqual(14);
  const leaks: string[] = [];
  for (const { name, text } of transcripts) {
    expect(text.length).toBeGreaterThan(0);
    for (const secret of secrets) if (text.includes(secret)) leaks.push(`${name} shows ${secret.slice(0, 3)}...`);
  }
  expect(leaks).toEqual([]);
});
