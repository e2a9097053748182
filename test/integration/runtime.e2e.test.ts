/**
 * The compiled binary bounds its JavaScriptCore heaps (src/runtime/heap-bound.ts): it replaces itself (same pid) with
 * BUN_JSC_forceRAMSize set, keeps a value the user set, and leaves it off with PROCESSOR_HEAP_BOUND=off.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { HEAP_RAM_BYTES } from "../../src/runtime/heap-bound.ts";
import { createTopicSet, deleteTopics, uniqueName } from "../support/kafka.ts";
import { buildBinary, startProcessor, topicArgs } from "../support/processor.ts";

const created: string[] = [];
beforeAll(() => buildBinary(), 120_000);
afterAll(() => deleteTopics(created));

/** The running process's environment, read from /proc (what the runtime really started with). */
function environOf(pid: number): Map<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, "utf8")
    .split("\0")
    .filter((e) => e.includes("="))
    .map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)] as const);
  return new Map(entries);
}

test.each([
  ["by default", {}, String(HEAP_RAM_BYTES)],
  ["keeping the user's own value", { BUN_JSC_forceRAMSize: "900000000" }, "900000000"],
  ["not with PROCESSOR_HEAP_BOUND=off", { PROCESSOR_HEAP_BOUND: "off" }, undefined],
] as const)(
  "heap bound %s: the same pid runs with BUN_JSC_forceRAMSize as expected",
  async (_, env, expected) => {
    const { input, output } = await createTopicSet(created, "heap", 1);
    const processor = startProcessor(topicArgs(input, output, uniqueName("g")), env);
    await processor.waitForLog("joined the group");
    // the pid the test spawned is still the one running: execve, not a child process
    const environ = environOf(processor.process.pid);
    expect(environ.get("BUN_JSC_forceRAMSize")).toBe(expected);
    expect(readFileSync(`/proc/${processor.process.pid}/cmdline`, "utf8").split("\0")).toContain("--input-topics");
    processor.process.kill("SIGTERM");
    expect(await processor.exited()).toBe(0);
  },
  60_000,
);
