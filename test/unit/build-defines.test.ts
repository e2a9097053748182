/**
 * Release builds compile the test fault injection out: bundling the module that reads it (kafka/fault-injection.ts,
 * on the main thread) and the consumer loop that acts on it the way scripts/build.ts does leaves no trace of
 * PROCESSOR_FAULT_CRASH_CONSUMER nor of the injected crash, while the test build (--test-faults) keeps them.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { buildDefines, FAULT_INJECTION_VARIABLES } from "../../scripts/lib/build-defines.ts";

const root = resolve(import.meta.dir, "../..");

/** A module as scripts/build.ts bundles it (minified, same defines); npm packages left out for speed. */
async function bundled(path: string, testFaults: boolean): Promise<string> {
  const result = await Bun.build({
    entrypoints: [resolve(root, path)],
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

const bundledFaults = (testFaults: boolean) => bundled("src/kafka/fault-injection.ts", testFaults);
const bundledConsumerLoop = (testFaults: boolean) => bundled("src/kafka/consumer-loop.ts", testFaults);

test("a release (default) build never reads the fault injection variables", async () => {
  const code = await bundledFaults(false);
  expect(code).toContain("consumerFaults"); // the function itself is there
  for (const name of FAULT_INJECTION_VARIABLES) expect(code).not.toContain(name);
  expect(code).not.toContain("PROCESSOR_FAULT_INJECTION");
  const loop = await bundledConsumerLoop(false);
  expect(loop).toContain("ConsumerLoop"); // the loop itself is there
  expect(loop).not.toContain("injected fault");
  expect(loop).not.toContain("PROCESSOR_FAULT_INJECTION");
});

test("the test build (--test-faults) keeps them", async () => {
  const code = await bundledFaults(true);
  for (const name of FAULT_INJECTION_VARIABLES) expect(code).toContain(name);
  expect(code).not.toContain("PROCESSOR_FAULT_INJECTION"); // substituted, not looked up at run time
  const loop = await bundledConsumerLoop(true);
  expect(loop).toContain("injected fault");
  expect(loop).not.toContain("PROCESSOR_FAULT_INJECTION");
});

test("the consumer loop never reads the environment: its faults come in its settings", async () => {
  for (const testFaults of [false, true]) expect(await bundledConsumerLoop(testFaults)).not.toContain("process.env");
});

describe("the compiled binary (scripts/build.ts, about 1.5 s each)", () => {
  const dir = mkdtempSync(join(tmpdir(), "processor-build-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function build(...flags: string[]): Promise<Buffer> {
    const outfile = join(dir, `processor${flags.join("")}`);
    const run = Bun.spawn([process.execPath, "scripts/build.ts", "--outfile", outfile, ...flags], {
      cwd: root,
      stdout: "pipe",
      stderr: "pipe",
    });
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
