/**
 * The compiled binary configured by a file (--config, and PROCESSOR_CONFIG) against the real broker: the file names
 * the topics, the group and tuning, the environment and flags override it, and `processor config` shows where each
 * value came from without showing secrets. Results are checked with the verifier's own reader.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BROKERS, createTopicSet, deleteTopics, uniqueName } from "../support/kafka.ts";
import { BINARY, buildBinary, startProcessor, waitCommittedToEnd } from "../support/processor.ts";
import { produceSeedCases } from "../support/seed-data.ts";
import { verify } from "../support/verify.ts";
import { expectedMix } from "../../scripts/lib/seed-data.ts";

const created: string[] = [];
const dir = mkdtempSync(join(tmpdir(), "processor-config-e2e-"));
beforeAll(() => buildBinary(), 120_000);
afterAll(async () => {
  await deleteTopics(created);
  rmSync(dir, { recursive: true, force: true });
});

test("a YAML config file names topics, group and tuning; env and flags win over it; every record lands once", async () => {
  const t = await createTopicSet(created, "cfgfile", 3);
  const groupId = uniqueName("g");
  const path = join(dir, "processor.yaml");
  writeFileSync(
    path,
    [
      "# processor settings",
      `input-topics: [${t.input}]`,
      `outputTopic: ${t.output}`,
      `group-id: ${groupId}`,
      "workers: 3", // overridden by the environment below
      "consumers: 2",
      "commit-interval: 200ms",
      "maxUncommitted: 5000",
      "",
    ].join("\n"),
  );
  const COUNT = 4000;
  const cases = await produceSeedCases(t.input, COUNT, 40);
  // startProcessor adds --brokers and --log-level; the rest comes from the file (PROCESSOR_CONFIG) and WORKER_POOL
  const processor = startProcessor([], { PROCESSOR_CONFIG: path, WORKER_POOL: "24" });
  await processor.waitForLog("processor started");
  const started = processor
    .log()
    .split("\n")
    .find((l) => l.includes("processor started"));
  expect(started).toContain('"consumers":2');
  expect(started).toContain('"workers":24');
  expect(await waitCommittedToEnd(processor, groupId, t.input, 90_000)).toBe(true);
  processor.process.kill("SIGTERM");
  expect(await processor.exited()).toBe(0);
  const verdict = await verify(cases, t.output, t.dlq);
  const expected = expectedMix(COUNT, { brokenEvery: 10 });
  expect([verdict.lost.length, verdict.duplicates, verdict.misplaced.length]).toEqual([0, 0, 0]);
  expect([verdict.outputs.length, verdict.deadLetters.length]).toEqual([expected.outputs, expected.dlq]);
}, 180_000);

test("processor config: the effective configuration with its sources, secrets hidden; a bad key is one line, exit 2", () => {
  const path = join(dir, "show.json");
  writeFileSync(
    path,
    JSON.stringify({
      brokers: BROKERS,
      "input-topics": "a",
      outputTopic: "b",
      saslMechanism: "plain",
      "sasl-username": "u",
      saslPassword: "hunter2",
    }),
  );
  const shown = Bun.spawnSync([BINARY, "config", "--config", path, "--workers", "5"], {
    env: { PATH: process.env.PATH ?? "", KAFKA_GROUP_ID: "g-env" },
  });
  expect(shown.exitCode).toBe(0);
  const out = shown.stdout.toString();
  const line = (flag: string) =>
    out
      .split("\n")
      .find((l) => l.startsWith(`--${flag} `))
      ?.replace(/\s+/g, " ");
  expect(line("workers")).toBe("--workers 5 flag");
  expect(line("group-id")).toBe("--group-id g-env env KAFKA_GROUP_ID");
  expect(line("output-topic")).toBe(`--output-topic b file ${path} (outputTopic)`);
  expect(line("sasl-password")).toBe(`--sasl-password <hidden> file ${path} (saslPassword)`);
  expect(out + shown.stderr.toString()).not.toContain("hunter2");

  const bad = join(dir, "bad.yaml");
  writeFileSync(bad, "input-topics: a\noutput-topic: b\ncommit-intervall: 2s\n");
  const refused = Bun.spawnSync([BINARY, "--config", bad], { env: { PATH: process.env.PATH ?? "" } });
  expect(refused.exitCode).toBe(2);
  expect(refused.stderr.toString().trim().split("\n")).toEqual([
    `processor: config file ${bad}: unknown key "commit-intervall" (keys are the long option names, see --help)`,
  ]);
});
