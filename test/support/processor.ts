/** Builds the real binary once per test run and drives processor processes the way a user would. */
import { expect } from "bun:test";
import { mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { spawnLogged, type Spawned } from "../../scripts/lib/processes.ts";
import { BROKERS, committedOffsets, endOffsets } from "./kafka.ts";

const root = resolve(import.meta.dir, "../..");
// PROCESSOR_TEST_BINARY lets parallel test runs (e.g. two checkouts' sessions) build their own binary.
export const BINARY = process.env.PROCESSOR_TEST_BINARY ?? resolve(root, "dist/processor-test");
let built: Promise<void> | null = null;

export function buildBinary(): Promise<void> {
  built ??= (async () => {
    // --test-faults: keeps the fault injection (PROCESSOR_FAULT_CRASH_CONSUMER) that release builds compile out
    const build = Bun.spawn([process.execPath, resolve(root, "scripts/build.ts"), "--outfile", BINARY, "--test-faults"], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
    if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
  })();
  return built;
}

export interface RunningProcessor {
  readonly process: Spawned["child"];
  /** Everything written to stderr so far (JSON log lines). */
  log(): string;
  /** Resolves when a log line containing `text` appears. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  exited(): Promise<number>;
}

/** Where the processes' logs go: one file each, in a directory of this test run. */
let logDir: string | null = null;
let started = 0;

export function startProcessor(args: readonly string[], env: Record<string, string> = {}): RunningProcessor {
  logDir ??= mkdtempSync(join(tmpdir(), "processor-test-logs-"));
  const spawned = spawnLogged([BINARY, "--brokers", BROKERS.join(","), "--log-level", "info", "--commit-interval", "200ms", ...args], {
    cwd: "/tmp", // works from any directory
    env: { PATH: process.env.PATH ?? "", ...env },
    log: join(logDir, `processor-${started++}.log`),
    stdout: "ignore",
  });
  const log = (): string => readFileSync(spawned.log, "utf8");
  return {
    process: spawned.child,
    log,
    async waitForLog(needle, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!log().includes(needle)) {
        if (spawned.child.exitCode !== null)
          throw new Error(`processor exited (${spawned.child.exitCode}) before logging "${needle}":\n${log().slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for "${needle}":\n${log().slice(-2000)}`);
        await Bun.sleep(50);
      }
    },
    exited: () => spawned.exited,
  };
}

/** Polls until `check` returns true or the time is up; returns whether it succeeded. */
export async function eventually(check: () => Promise<boolean>, timeoutMs: number, everyMs = 250): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > deadline) return false;
    await Bun.sleep(everyMs);
  }
}

/** Whether `groupId` has committed every partition of `topic` up to the topic's current end offsets. */
export async function committedToEnd(groupId: string, topic: string): Promise<boolean> {
  return JSON.stringify(await committedOffsets(groupId, topic)) === JSON.stringify(await endOffsets(topic));
}

/**
 * Waits up to `timeoutMs` until `groupId` has committed `topic` to its end; on time-out prints the committed and end
 * offsets and the tail of `processor`'s log, so a failure can be understood from CI output.
 */
export async function waitCommittedToEnd(processor: RunningProcessor, groupId: string, topic: string, timeoutMs: number): Promise<boolean> {
  const done = await eventually(() => committedToEnd(groupId, topic), timeoutMs);
  if (!done)
    console.error(
      `committed ${JSON.stringify(await committedOffsets(groupId, topic))} of ${JSON.stringify(await endOffsets(topic))}\n${processor.log().slice(-4000)}`,
    );
  return done;
}

/** The arguments every processor run starts with: its input and output topics and its consumer group. */
export function topicArgs(input: string, output: string, groupId: string): string[] {
  return ["--input-topics", input, "--output-topic", output, "--group-id", groupId];
}

export interface FinishedRun {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly ms: number;
}

/**
 * Runs the binary to its exit, capturing stdout and stderr; killed after `timeoutMs` (a wrong setup must stop on its
 * own, quickly). `--log-level info` goes first, unless the arguments start with a subcommand (`dlq`, `config`).
 */
export async function runToExit(args: readonly string[], env: Record<string, string> = {}, timeoutMs = 60_000): Promise<FinishedRun> {
  const started = Date.now();
  const subcommand = args[0] === "dlq" || args[0] === "config";
  const child = Bun.spawn(subcommand ? [BINARY, ...args] : [BINARY, "--log-level", "info", ...args], {
    cwd: "/tmp",
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  clearTimeout(timer);
  return { code, stdout, stderr, ms: Date.now() - started };
}

/** A run that must fail fast: non-zero exit in under 30 s with exactly one `processor: ` line on stderr; returns it. */
export function oneFailureLine(name: string, result: FinishedRun): string {
  const lines = result.stderr.split("\n").filter((line) => line.startsWith("processor: "));
  console.log(`${name}: exit ${result.code} after ${result.ms} ms: ${lines.join(" | ")}`);
  expect(result.code).not.toBe(0);
  expect(result.ms).toBeLessThan(30_000);
  expect(lines).toHaveLength(1);
  return lines[0] ?? "";
}
