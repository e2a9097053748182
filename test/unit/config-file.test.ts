/** --config FILE (env PROCESSOR_CONFIG) and `processor config`: pure loadConfig, files in a temp directory. */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { loadConfig, type Config, type LoadResult } from "../../src/config/index.ts";
import type { Secret } from "../../src/config/value-types.ts";

const dir = mkdtempSync(join(tmpdir(), "processor-config-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let files = 0;
function file(text: string, ext = "yaml"): string {
  const path = join(dir, `c${files++}.${ext}`);
  writeFileSync(path, text);
  return path;
}

const load = (argv: readonly string[], env: Record<string, string | undefined> = {}): LoadResult => loadConfig(argv, env, "0.0.0-test");
function run(argv: readonly string[], env: Record<string, string | undefined> = {}): Config {
  const result = load(argv, env);
  if (result.kind !== "run") throw new Error(`expected to run, got exit ${result.code}: ${result.output}`);
  return result.config;
}
function usageError(argv: readonly string[], env: Record<string, string | undefined> = {}): string {
  const result = load(argv, env);
  if (result.kind !== "exit" || result.code !== 2) throw new Error(`expected exit 2, got ${JSON.stringify(result)}`);
  expect(result.output).not.toContain("\n");
  return result.output;
}

const BASIC = `
brokers: [kafka-1:9092, kafka-2:9092]
group-id: from-file
inputTopics: [a, b]
output-topic: out
commitInterval: 2s
workers: 32
tls: true
ringSize: 8MiB
`;

describe("--config file", () => {
  test("YAML: keys as flag names or camelCase; lists, numbers, booleans, durations and sizes parse as from flags", () => {
    const c = run(["--config", file(BASIC)]);
    expect(c.brokers).toEqual(["kafka-1:9092", "kafka-2:9092"]);
    expect(c.groupId).toBe("from-file");
    expect(c.inputTopics).toEqual(["a", "b"]);
    expect(c.outputTopic).toBe("out");
    expect(c.commitIntervalMs).toBe(2000);
    expect(c.concurrency).toBe(32);
    expect(c.tls).toBe(true);
    expect(c.ringBytes).toBe(8 * 1024 * 1024);
    expect(c.dlqTopic).toBe("out.dlq"); // derived as without a file
  });

  test("JSON is read too", () => {
    const c = run(["--config", file(JSON.stringify({ "input-topics": "x", outputTopic: "y", workers: 5 }), "json")]);
    expect([c.inputTopics, c.outputTopic, c.concurrency]).toEqual([["x"], "y", 5]);
  });

  test("precedence: flag > environment > file > default; PROCESSOR_CONFIG names the file when --config does not", () => {
    const path = file(BASIC);
    expect(run(["--config", path, "--workers", "7"], { WORKER_POOL: "9" }).concurrency).toBe(7);
    expect(run(["--config", path], { WORKER_POOL: "9" }).concurrency).toBe(9);
    expect(run([], { PROCESSOR_CONFIG: path }).concurrency).toBe(32);
    expect(run(["--config", path], { PROCESSOR_CONFIG: file("workers: 3\ninput-topics: q\noutput-topic: r\n") }).concurrency).toBe(32);
    expect(run(["--config", file("input-topics: q\noutput-topic: r\n")]).concurrency).toBe(16);
  });

  test("an unknown key, a bad value, a map value, a key given twice: one line naming the file and the key, exit 2", () => {
    const unknown = file("workerz: 3\n");
    expect(usageError(["--config", unknown])).toBe(
      `processor: config file ${unknown}: unknown key "workerz" (keys are the long option names, see --help)`,
    );
    const bad = file("input-topics: a\noutput-topic: b\nworkers: lots\n");
    expect(usageError(["--config", bad])).toBe(
      `processor: invalid workers in config file ${bad}: expected an integer between 1 and 100000, got "lots"`,
    );
    expect(usageError(["--config", file("tls: {enabled: true}\n")])).toContain("key tls: expected a value or a list of values, got a map");
    expect(usageError(["--config", file("workers: 3\nWORKERS: 4\n")])).toContain('unknown key "WORKERS"');
    expect(usageError(["--config", file("commit-interval: 1s\ncommitInterval: 2s\n")])).toContain("key commitInterval: given twice");
  });

  test("a secret in the file is used but never echoed, not even in an error", () => {
    const ok = run([
      "--config",
      file("input-topics: a\noutput-topic: b\nsasl-mechanism: plain\nsasl-username: u\nsasl-password: hunter2\n"),
    ]);
    expect((ok.saslPassword as Secret).reveal()).toBe("hunter2");
    const empty = file("input-topics: a\noutput-topic: b\nsasl-mechanism: plain\nsasl-password: ''\n");
    expect(usageError(["--config", empty])).toBe(`processor: invalid sasl-password in config file ${empty}: expected a non-empty value`);
    // a cross-check that fails on another key still never shows the password
    expect(
      usageError(["--config", file("input-topics: a\noutput-topic: b\nsasl-mechanism: plain\nsasl-password: hunter2\n")]),
    ).not.toContain("hunter2");
  });

  test("a missing, unreadable or malformed file, or --config without a path: exit 2", () => {
    expect(usageError(["--config", join(dir, "nope.yaml")])).toContain("no such file");
    expect(usageError(["--config", dir])).toContain("is a directory");
    expect(usageError(["--config", file("workers: [1, 2\n")])).toContain("not valid YAML or JSON");
    expect(usageError(["--config", file("- a\n- b\n")])).toContain("expected a map of option names to values");
    expect(usageError(["--config="])).toContain("--config");
  });

  test("an empty file or a key set to null changes nothing", () => {
    expect(run([...["--input-topics", "a", "--output-topic", "b"], "--config", file("")]).concurrency).toBe(16);
    expect(run(["--config", file("input-topics: a\noutput-topic: b\nworkers: null\n")]).concurrency).toBe(16);
  });
});

describe("processor config", () => {
  test("prints every setting with its value and where it came from; secrets are hidden; exit 0", () => {
    const path = file(`${BASIC}sasl-mechanism: plain\nsasl-username: me\nsasl-password: hunter2\n`);
    const result = load(["config", "--config", path, "--workers", "8"], { KAFKA_OFFSET_RESET: "latest" });
    expect(result.kind).toBe("exit");
    if (result.kind !== "exit") return;
    expect(result.code).toBe(0);
    const line = (flag: string) =>
      result.output
        .split("\n")
        .find((l) => l.startsWith(`--${flag} `))
        ?.replace(/\s+/g, " ");
    expect(line("workers")).toBe("--workers 8 flag");
    expect(line("offset-reset")).toBe("--offset-reset latest env KAFKA_OFFSET_RESET");
    expect(line("commit-interval")).toBe(`--commit-interval 2s file ${path} (commitInterval)`);
    expect(line("session-timeout")).toBe("--session-timeout 30s default");
    expect(line("dlq-topic")).toBe("--dlq-topic out.dlq derived");
    expect(line("sasl-password")).toBe(`--sasl-password <hidden> file ${path} (sasl-password)`);
    expect(result.output).not.toContain("hunter2");
  });

  test("an invalid configuration is the same one-line error as when running", () => {
    expect(usageError(["config", "--workers", "0", "--input-topics", "a", "--output-topic", "b"])).toContain("invalid --workers");
  });
});

test("the complete example file in the README is valid (its two secret files swapped for temporary ones)", () => {
  const readme = Bun.file(join(import.meta.dir, "../../README.md"));
  return readme.text().then((text) => {
    const start = text.indexOf("```yaml\n# /etc/processor.yaml");
    expect(start).toBeGreaterThan(0);
    const example = text.slice(start + "```yaml\n".length, text.indexOf("```", start + 7));
    const ca = join(dir, "ca.pem");
    const made = Bun.spawnSync(
      ["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"].concat([
        "-keyout",
        join(dir, "ca.key"),
        "-out",
        ca,
        "-subj",
        "/CN=example-ca",
        "-days",
        "2",
      ]),
      { stderr: "pipe" },
    );
    expect(made.exitCode).toBe(0);
    const password = file("secret\n", "txt");
    const path = file(example.replace("/etc/ssl/kafka-ca.pem", ca).replace("/run/secrets/kafka-password", password));
    const c = run(["--config", path]);
    expect([c.groupId, c.concurrency, c.consumers, c.guarantee, c.metricsPort]).toEqual(["orders-processor", 64, 2, "at-least-once", 9464]);
  });
});
