/**
 * Release builds compile the test fault injection out: bundling the consumer loop the way scripts/build.ts does
 * leaves no trace of PROCESSOR_FAULT_CRASH_CONSUMER, while the test build (--test-faults) keeps it.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildDefines, FAULT_INJECTION_VARIABLES } from "../../scripts/lib/build-defines.ts";

const root = resolve(import.meta.dir, "../..");

/** The consumer loop as scripts/build.ts bundles it (minified, same defines); npm packages left out for speed. */
async function bundledConsumerLoop(testFaults: boolean): Promise<string> {
  const result = await Bun.build({
    entrypoints: [resolve(root, "src/kafka/consumer-loop.ts")],
    target: "bun",
    minify: true,
    packages: "external",
    define: buildDefines({ testFaults }),
  });
  if (!result.success) throw new Error(result.logs.map(String).join("\n"));
  const [output] = result.outputs;
  if (output === undefined) throw new Error("no output");
  return output.text();
}

test("a release (default) build never reads the fault injection variables", async () => {
  const code = await bundledConsumerLoop(false);
  expect(code).toContain("ConsumerLoop"); // the loop itself is there
  for (const name of FAULT_INJECTION_VARIABLES) expect(code).not.toContain(name);
  expect(code).not.toContain("PROCESSOR_FAULT_INJECTION");
});

test("the test build (--test-faults) keeps them", async () => {
  const code = await bundledConsumerLoop(true);
  for (const name of FAULT_INJECTION_VARIABLES) expect(code).toContain(name);
  expect(code).not.toContain("PROCESSOR_FAULT_INJECTION"); // substituted, not looked up at run time
});

describe("the compiled binary (scripts/build.ts, about 1.5 s each)", () => {
  const dir = mkdtempSync(join(tmpdir(), "processor-build-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function build(...flags: string[]): Promise<Buffer> {
    const outfile = join(dir, `processor${flags.join("")}`);
    const run = Bun.spawn([process.execPath, "scripts/build.ts", "--outfile", outfile, ...flags], { cwd: root, stdout: "pipe", stderr: "pipe" });
    if ((await run.exited) !== 0) throw new Error(`build failed: ${await new Response(run.stderr).text()}`);
    return readFileSync(outfile);
  }

  test("default (and release) build: the fault injection variables are not in the binary", async () => {
    const binary = await build();
    for (const name of FAULT_INJECTION_VARIABLES) expect(binary.includes(name)).toBe(false);
  }, 60_000);

  test("--test-faults build: they are", async () => {
    const binary = await build("--test-faults");
    for (const name of FAULT_INJECTION_VARIABLES) expect(binary.includes(name)).toBe(true);
  }, 60_000);
});
