/** Builds the real binary once per test run and drives processor processes the way a user would. */
import { resolve } from "node:path";
import type { Subprocess } from "bun";
import { BROKERS } from "./kafka.ts";

const root = resolve(import.meta.dir, "../..");
export const BINARY = resolve(root, "dist/processor-test");
let built: Promise<void> | null = null;

export function buildBinary(): Promise<void> {
  built ??= (async () => {
    // --test-faults: keeps the fault injection (PROCESSOR_FAULT_CRASH_CONSUMER) that release builds compile out
    const build = Bun.spawn([process.execPath, resolve(root, "scripts/build.ts"), "--outfile", BINARY, "--test-faults"], { cwd: root, stdout: "pipe", stderr: "pipe" });
    if ((await build.exited) !== 0) throw new Error(`build failed: ${await new Response(build.stderr).text()}`);
  })();
  return built;
}

export interface RunningProcessor {
  readonly process: Subprocess<"ignore", "pipe", "pipe">;
  /** Everything written to stderr so far (JSON log lines). */
  log(): string;
  /** Resolves when a log line containing `text` appears. */
  waitForLog(text: string, timeoutMs?: number): Promise<void>;
  exited(): Promise<number>;
}

export function startProcessor(args: readonly string[], env: Record<string, string> = {}): RunningProcessor {
  const child = Bun.spawn([BINARY, "--brokers", BROKERS.join(","), "--log-level", "info", "--commit-interval", "200ms", ...args], {
    cwd: "/tmp", // works from any directory
    env: { PATH: process.env.PATH ?? "", ...env },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  let text = "";
  const decoder = new TextDecoder();
  const reading = (async () => {
    for await (const chunk of child.stderr) text += decoder.decode(chunk, { stream: true });
  })();
  void new Response(child.stdout).text();
  return {
    process: child,
    log: () => text,
    async waitForLog(needle, timeoutMs = 30_000) {
      const deadline = Date.now() + timeoutMs;
      while (!text.includes(needle)) {
        if (child.exitCode !== null) throw new Error(`processor exited (${child.exitCode}) before logging "${needle}":\n${text.slice(-2000)}`);
        if (Date.now() > deadline) throw new Error(`timed out waiting for "${needle}":\n${text.slice(-2000)}`);
        await Bun.sleep(50);
      }
    },
    async exited() {
      const code = await child.exited;
      await reading;
      return code;
    },
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
