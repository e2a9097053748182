/**
 * SASL OAUTHBEARER against the project's secure broker (scripts/kafka/start.sh --mode secure): SASL_SSL on 29093
 * with Kafka's unsecured validator (any unsigned JWT with a sub and an exp to come) and OAUTHBEARER sessions of at
 * most KAFKA_SECURE_OAUTH_REAUTH_MS (15 s), so clients must re-authenticate (KIP-368) while a test runs. Topics are
 * set up and results read on the PLAINTEXT admin listener 29092, with kcat as an independent reader.
 * Short-lived tokens: records produced after the first token expired must still arrive. Bad tokens: a quick exit
 * with one clear line. No token and no part of the token command ever shows in any output.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Admin, Producer } from "@platformatic/kafka";
import { uniqueName } from "../support/kafka.ts";
import { SECURE_RUN_DIR, type SecureBroker, startSecureBroker } from "../support/secure-broker.ts";
import {
  buildBinary,
  eventually,
  type FinishedRun,
  oneFailureLine,
  type RunningProcessor,
  runToExit as runBinary,
  startProcessor,
  topicArgs,
} from "../support/processor.ts";
import { type SeedCase, seedCases } from "../support/seed-data.ts";

const BROKER_LOG = join(SECURE_RUN_DIR, "node1/logs/kafka.log");
const ADMIN_BROKER = "127.0.0.1:29092"; // PLAINTEXT, no auth: setup and checks only
const SASL_SSL = "127.0.0.1:29093";
/** A secret in the token command's arguments: it must never show. */
const COMMAND_SECRET = "client-secret-5e1b9d";
/** stdout + stderr of every processor run, checked for tokens and the command secret at the end. */
const transcripts: { name: string; text: string }[] = [];
/** Every token a test wrote or minted. */
const tokens = new Set<string>();
const created: string[] = [];

let caFile = "";
let reauthMs = 0;
let secure: SecureBroker | undefined;
let dir = "";

/**
 * An unsigned JWT (alg none) as Kafka's unsecured validator takes it; lifetime in seconds from now (negative:
 * expired). `rev`, when given, is an extra claim the broker logs with the others: it tells two tokens apart.
 */
function jwt(sub: string, lifetimeS: number, rev?: string): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const now = Math.floor(Date.now() / 1000);
  const token = `${part({ alg: "none" })}.${part({ sub, iat: now, exp: now + lifetimeS, ...(rev !== undefined && { rev }) })}.`;
  tokens.add(token);
  return token;
}

/** Replaces the token file the way Kubernetes updates a mounted secret: write aside, then rename over it. */
function replaceTokenFile(path: string, token: string): void {
  writeFileSync(`${path}.next`, `${token}\n`);
  renameSync(`${path}.next`, path);
}

/**
 * A token command: mints a token for SUB living LIFETIME seconds, notes it (for the leak check) and counts its runs.
 * The secret argument stands for a client secret a real command would pass on.
 */
function mintCommand(sub: string, lifetimeS: number): { command: string; runs: () => number } {
  const runsFile = join(dir, `${sub}.runs`);
  writeFileSync(runsFile, "");
  const command = `sh '${join(dir, "mint.sh")}' ${lifetimeS} ${sub} '${runsFile}' --client-secret=${COMMAND_SECRET}`;
  return { command, runs: () => readFileSync(runsFile, "utf8").split("\n").filter(Boolean).length };
}

/** Tokens the mint script printed so far (it logs each one for this check). */
function mintedTokens(): string[] {
  const file = join(dir, "minted.log");
  return existsSync(file) ? readFileSync(file, "utf8").split("\n").filter(Boolean) : [];
}

/**
 * How often the broker accepted a token of `sub` (each authentication and re-authentication logs one line, with
 * the token's claims), only counting tokens with the claim rev=`rev` when given.
 */
function brokerValidations(sub: string, rev?: string): number {
  if (!existsSync(BROKER_LOG)) return 0;
  const lines = readFileSync(BROKER_LOG, "utf8").split("\n");
  return lines.filter(
    (line) => line.includes(`Successfully validated token with principal ${sub}:`) && (rev === undefined || line.includes(`rev=${rev}`)),
  ).length;
}

async function withAdmin<T>(work: (admin: Admin) => Promise<T>): Promise<T> {
  const admin = new Admin({ clientId: "oauth-test-admin", bootstrapBrokers: [ADMIN_BROKER] });
  try {
    return await work(admin);
  } finally {
    await admin.close();
  }
}

/** Input, output and DLQ topics (3 partitions each) on the secure broker. */
async function makeTopics(prefix: string) {
  const input = uniqueName(`${prefix}-in`);
  const output = uniqueName(`${prefix}-out`);
  const dlq = `${output}.dlq`;
  created.push(input, output, dlq);
  await withAdmin((admin) => admin.createTopics({ topics: [input, output, dlq], partitions: 3, replicas: 1 }));
  return { input, output, dlq };
}

/** Produces `count` fresh seed records (on the admin listener); returns them with what should become of each. */
async function produceWave(topic: string, count: number): Promise<SeedCase[]> {
  const cases = seedCases(count, 5, uniqueName("wave"));
  const producer = new Producer({ clientId: "oauth-test-producer", bootstrapBrokers: [ADMIN_BROKER], idempotent: true, retries: 5 });
  try {
    await producer.send({
      messages: cases.map(({ record }) => ({
        topic,
        key: record.key === null ? undefined : Buffer.from(record.key),
        value: Buffer.from(record.value),
        headers: new Map(Object.entries(record.headers ?? {}).map(([k, v]) => [Buffer.from(k), Buffer.from(v)])),
      })),
    });
  } finally {
    await producer.close();
  }
  return cases;
}

/** The test-id headers of every record in `topic`, read by kcat on the admin listener (not by the processor's client). */
async function idsIn(topic: string): Promise<Set<string>> {
  const child = Bun.spawn(["kcat", "-b", ADMIN_BROKER, "-C", "-t", topic, "-e", "-q", "-f", "%h\\n", "-X", "log_level=0"], {
    stdout: "pipe",
    stderr: "pipe",
  });
  const [text, code] = await Promise.all([new Response(child.stdout).text(), child.exited]);
  if (code !== 0) throw new Error(`kcat failed on ${topic}: ${await new Response(child.stderr).text()}`);
  const ids = new Set<string>();
  for (const line of text.split("\n")) {
    const id = /(?:^|,)test-id=([^,]+)/.exec(line)?.[1];
    if (id !== undefined) ids.add(id);
  }
  return ids;
}

/** Waits until every case is in the output or the dead-letter topic, as its kind says; false on time-out. */
async function arrived(topics: { output: string; dlq: string }, cases: readonly SeedCase[], timeoutMs: number): Promise<boolean> {
  return eventually(
    async () => {
      const [output, dlq] = await Promise.all([idsIn(topics.output), idsIn(topics.dlq)]);
      return cases.every((c) => (c.expected === "dlq" ? dlq : output).has(c.id));
    },
    timeoutMs,
    500,
  );
}

/** Sleeps until `ms` after `since`. */
async function until(since: number, ms: number): Promise<void> {
  const left = since + ms - Date.now();
  if (left > 0) await Bun.sleep(left);
}

async function stop(name: string, processor: RunningProcessor): Promise<number> {
  processor.process.kill("SIGTERM");
  const code = await processor.exited();
  transcripts.push({ name, text: processor.log() });
  return code;
}

/** Runs the binary to its exit; its output is kept for the leak check. */
async function runToExit(name: string, args: string[], env: Record<string, string> = {}): Promise<FinishedRun> {
  const result = await runBinary(args, env);
  transcripts.push({ name, text: result.stdout + result.stderr });
  return result;
}

/** A bad token: non-zero exit in under 30 s with exactly one `processor: ` line on stderr; returns that line. */
async function failsWith(name: string, tokenArgs: string[]): Promise<string> {
  const args = ["--brokers", SASL_SSL, "--tls-ca-file", caFile, "--sasl-mechanism", "oauthbearer", ...tokenArgs];
  return oneFailureLine(name, await runToExit(name, ["--input-topics", "oauth-fail-in", "--output-topic", "oauth-fail-out", ...args]));
}

/**
 * Fresh topics and a processor on them whose token file (given by env) holds a token living `lifetimeS` from now,
 * tagged `rev`. Kafka refuses a re-authentication as another principal (KIP-368): a refreshed token must name `sub`.
 */
async function startOnTokenFile(prefix: string, lifetimeS: number, rev: string) {
  const topics = await makeTopics(prefix);
  const sub = uniqueName(`processor-${prefix}`);
  const tokenFile = join(dir, `${prefix}.jwt`);
  writeFileSync(tokenFile, `${jwt(sub, lifetimeS, rev)}\n`);
  const started = Date.now();
  const processor = startProcessor(["--brokers", SASL_SSL, ...topicArgs(topics.input, topics.output, uniqueName("g"))], {
    KAFKA_TLS_CA_FILE: caFile,
    KAFKA_SASL_MECHANISM: "OAUTHBEARER",
    PROCESSOR_SASL_OAUTH_TOKEN_FILE: tokenFile,
  });
  return { topics, sub, tokenFile, started, processor };
}

const connectionsLost = (log: string) => log.split('"msg":"lost the connection to a broker').length - 1;

beforeAll(async () => {
  secure = startSecureBroker();
  caFile = secure.need("KAFKA_SECURE_CA_PEM");
  reauthMs = Number(secure.need("KAFKA_SECURE_OAUTH_REAUTH_MS"));
  dir = mkdtempSync(join(tmpdir(), "processor-oauth-"));
  writeFileSync(
    join(dir, "mint.sh"),
    [
      "# mint.sh LIFETIME_S SUB RUNS_FILE [ignored...]: prints an unsigned JWT",
      `b64() { base64 | tr -d '\\n=' | tr '+/' '-_'; }`,
      "now=$(date +%s)",
      `token="$(printf '{"alg":"none"}' | b64).$(printf '{"sub":"%s","iat":%d,"exp":%d}' "$2" "$now" "$((now + $1))" | b64)."`,
      `echo run >> "$3"`,
      `echo "$token" >> '${join(dir, "minted.log")}'`,
      `echo "$token"`,
      "",
    ].join("\n"),
  );
  await buildBinary();
}, 240_000);

afterAll(async () => {
  if (created.length > 0) await withAdmin((admin) => admin.deleteTopics({ topics: created })).catch(() => undefined);
  if (dir !== "") rmSync(dir, { recursive: true, force: true });
  secure?.release();
}, 60_000);

test("the broker ends OAUTHBEARER sessions after 15 s at most, so a test longer than that needs re-authentication", () => {
  expect(reauthMs).toBeGreaterThan(0);
  expect(reauthMs).toBeLessThanOrEqual(15_000);
});

test("token command minting 20 s tokens, run for 50 s: records produced after each token expired still arrive", async () => {
  const topics = await makeTopics("oauth-cmd");
  const sub = uniqueName("processor-cmd");
  const mint = mintCommand(sub, 20);
  const groupId = uniqueName("g");
  const started = Date.now();
  const processor = startProcessor([
    "--brokers",
    SASL_SSL,
    ...topicArgs(topics.input, topics.output, groupId),
    "--tls-ca-file",
    caFile,
    "--sasl-mechanism",
    "oauthbearer",
    "--sasl-oauth-token-command",
    mint.command,
  ]);
  const arrivals: boolean[] = [];
  try {
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 30_000));
    await until(started, 24_000); // the first tokens (minted at start) have expired
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 20_000));
    await until(started, 46_000); // and the next ones
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 20_000));
  } finally {
    const code = await stop("token command", processor);
    if (code !== 0 || arrivals.some((ok) => !ok)) console.error(processor.log().slice(-4000));
  }
  expect(arrivals).toEqual([true, true, true]);
  expect(processor.process.exitCode).toBe(0);
  const log = processor.log();
  expect(log).toContain('"msg":"stopped"');
  expect(log).not.toContain("OAUTHBEARER token");
  // two threads (consumer, producer), a token each every 10 s: refreshed, not run once and kept
  expect(mint.runs()).toBeGreaterThanOrEqual(6);
  // The broker accepted fresh tokens all along. Had the client not re-authenticated, the broker would have dropped
  // each connection when its session ended (at most every 15 s) and the log would show reconnects.
  expect(brokerValidations(sub)).toBeGreaterThanOrEqual(6);
  console.log(`token command: ${mint.runs()} runs, ${brokerValidations(sub)} broker validations, ${connectionsLost(log)} connections lost`);
  expect(connectionsLost(log)).toBeLessThanOrEqual(2);
}, 120_000);

test("token file given by env, replaced while running: the new token is used, records after the old one expired arrive", async () => {
  const { topics, sub, tokenFile, started, processor } = await startOnTokenFile("oauth-file", 25, "first");
  const arrivals: boolean[] = [];
  try {
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 30_000));
    await until(started, 10_000);
    replaceTokenFile(tokenFile, jwt(sub, 300, "second"));
    await until(started, 30_000); // the first token has expired
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 20_000));
  } finally {
    const code = await stop("token file", processor);
    if (code !== 0 || arrivals.some((ok) => !ok)) console.error(processor.log().slice(-4000));
  }
  expect(arrivals).toEqual([true, true]);
  expect(processor.process.exitCode).toBe(0);
  expect(processor.log()).not.toContain("OAUTHBEARER token");
  expect(brokerValidations(sub, "first")).toBeGreaterThanOrEqual(1);
  expect(brokerValidations(sub, "second")).toBeGreaterThanOrEqual(2); // re-read, and used to re-authenticate
  console.log(
    `token file: ${brokerValidations(sub, "second")} validations of the new token, ${connectionsLost(processor.log())} connections lost`,
  );
  expect(connectionsLost(processor.log())).toBeLessThanOrEqual(2);

  // the dead-letter tools connect with the same options: stats over OAUTHBEARER agrees with kcat on the admin listener
  const stats = await runToExit("dlq stats", ["dlq", "stats", "--json", "--brokers", SASL_SSL, "--output-topic", topics.output], {
    KAFKA_TLS_CA_FILE: caFile,
    KAFKA_SASL_MECHANISM: "OAUTHBEARER",
    PROCESSOR_SASL_OAUTH_TOKEN_FILE: tokenFile,
  });
  expect(stats.code).toBe(0);
  expect(JSON.parse(stats.stdout).records).toBe((await idsIn(topics.dlq)).size);
}, 90_000);

test("a token file not renewed in time: a warning while there is no usable token, and a renewed file brings it back", async () => {
  const { topics, sub, tokenFile, started, processor } = await startOnTokenFile("oauth-lapse", 20, "lapsing");
  let warned = false;
  let warnedAfterS = Number.NaN;
  const arrivals: boolean[] = [];
  try {
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 20_000));
    // the token expires at 20 s and the file stays as it is: the next re-authentication has no usable token
    warned = await eventually(async () => processor.log().includes("no usable OAUTHBEARER token"), 40_000 - (Date.now() - started), 250);
    warnedAfterS = (Date.now() - started) / 1000;
    replaceTokenFile(tokenFile, jwt(sub, 300, "renewed"));
    arrivals.push(await arrived(topics, await produceWave(topics.input, 30), 30_000));
  } finally {
    const code = await stop("lapsed token file", processor);
    if (code !== 0 || !warned || arrivals.some((ok) => !ok)) console.error(processor.log().slice(-4000));
  }
  console.log(
    `lapsed token file: warned ${warnedAfterS.toFixed(1)} s after start (the token expired at 20 s), ${connectionsLost(processor.log())} connections lost, every record arrived after the renewal`,
  );
  expect(warned).toBe(true);
  expect(processor.log()).toContain("expired at");
  expect(arrivals).toEqual([true, true]);
  expect(processor.process.exitCode).toBe(0);
  expect(brokerValidations(sub, "renewed")).toBeGreaterThanOrEqual(1);
}, 120_000);

test("a bad or expired token: quick exit, one clear line naming the problem", async () => {
  const file = (name: string, contents: string) => {
    writeFileSync(join(dir, name), `${contents}\n`);
    return join(dir, name);
  };
  const opaque = file("opaque.txt", "opaque-token-4bd1a7c2e9");
  tokens.add("opaque-token-4bd1a7c2e9");
  expect(await failsWith("not a JWT", ["--sasl-oauth-token-file", opaque])).toBe(
    `processor: SASL authentication failed: the OAUTHBEARER token in --sasl-oauth-token-file ${opaque} is not a JWT (expected header.payload.signature, base64url-encoded JSON)`,
  );
  const expired = file("expired.jwt", jwt("processor", -60));
  const expiredLine = await failsWith("expired token file", ["--sasl-oauth-token-file", expired]);
  expect(expiredLine).toStartWith(
    `processor: SASL authentication failed: the OAUTHBEARER token in --sasl-oauth-token-file ${expired} expired at `,
  );
  // well-formed and not expired, but the broker's validator needs a sub claim: the broker's refusal is the line
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const noSubject = `${part({ alg: "none" })}.${part({ iat: Math.floor(Date.now() / 1000), exp: Math.floor(Date.now() / 1000) + 300 })}.`;
  tokens.add(noSubject);
  expect(await failsWith("rejected by the broker", ["--sasl-oauth-token-file", file("no-sub.jwt", noSubject)])).toBe(
    "processor: SASL authentication failed: the broker rejected the OAUTHBEARER token (invalid_token): is it for this cluster, and not expired?",
  );
  writeFileSync(join(dir, "refuse.sh"), 'echo "token service: unknown client" >&2; exit 7\n');
  expect(
    await failsWith("failing command", ["--sasl-oauth-token-command", `sh '${join(dir, "refuse.sh")}' --client-secret=${COMMAND_SECRET}`]),
  ).toBe("processor: SASL authentication failed: --sasl-oauth-token-command failed (exit code 7): token service: unknown client");
  const mintsExpired = mintCommand(uniqueName("processor-expired"), -30);
  expect(await failsWith("command printing an expired token", ["--sasl-oauth-token-command", mintsExpired.command])).toStartWith(
    "processor: SASL authentication failed: the OAUTHBEARER token printed by --sasl-oauth-token-command expired at ",
  );
}, 120_000);

test("a missing token file or a second token source is a usage error (exit 2) before any connection", async () => {
  const missing = await runToExit("missing token file", [
    ...["--input-topics", "a", "--output-topic", "b", "--brokers", SASL_SSL, "--sasl-mechanism", "oauthbearer"],
    ...["--sasl-oauth-token-file", join(dir, "nope.jwt")],
  ]);
  expect(missing.code).toBe(2);
  expect(missing.stderr.trim()).toBe(
    `processor: invalid --sasl-oauth-token-file (env PROCESSOR_SASL_OAUTH_TOKEN_FILE, KAFKA_SASL_OAUTH_TOKEN_FILE): no such file, got "${join(dir, "nope.jwt")}"`,
  );
  const both = await runToExit(
    "two token sources",
    ["--input-topics", "a", "--output-topic", "b", "--sasl-mechanism", "oauthbearer", "--sasl-oauth-token-file", join(dir, "mint.sh")],
    { PROCESSOR_SASL_OAUTH_TOKEN_COMMAND: `get-token --client-secret=${COMMAND_SECRET}` },
  );
  expect(both.code).toBe(2);
  expect(both.stderr).toContain("give either --sasl-oauth-token-file or --sasl-oauth-token-command, not both");
});

test("no token and no part of the token command appears in any output", async () => {
  const help = await runToExit("--help", ["--help"], { PROCESSOR_SASL_OAUTH_TOKEN_COMMAND: `get-token --client-secret=${COMMAND_SECRET}` });
  expect(help.code).toBe(0);
  const minted = mintedTokens();
  expect(minted.length).toBeGreaterThan(6);
  for (const token of minted) tokens.add(token);
  expect(transcripts.length).toBeGreaterThanOrEqual(9);
  const leaks: string[] = [];
  for (const { name, text } of transcripts) {
    if (text.includes(COMMAND_SECRET)) leaks.push(`${name} shows the command's secret`);
    if (text.includes("mint.sh")) leaks.push(`${name} shows the command`);
    for (const token of tokens) if (text.includes(token)) leaks.push(`${name} shows a token`);
    // the payload alone (the claims part) counts as showing the token as well
    for (const token of tokens) {
      const payload = token.split(".")[1] ?? "";
      if (payload.length > 8 && text.includes(payload)) leaks.push(`${name} shows a token's claims`);
    }
  }
  expect(leaks).toEqual([]);
});
