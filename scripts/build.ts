#!/usr/bin/env bun
/**
 * Builds the single-file executable: `bun run build [-- --target bun-linux-arm64 --outfile dist/x]`.
 * The main entry and the Worker entries are compiled together (they sit in one folder, see src/main.ts).
 * Test-only fault injection (PROCESSOR_FAULT_CRASH_CONSUMER) is compiled out unless `--test-faults` is given, which
 * only the tests' build (test/support/processor.ts) does: release and default builds ignore the variable.
 */
import { createRequire } from "node:module";
import { parseArgs } from "node:util";
import { buildDefines } from "./lib/build-defines.ts";

const { values } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    target: { type: "string" },
    outfile: { type: "string", default: "dist/processor" },
    "test-faults": { type: "boolean", default: false },
  },
});

// @platformatic/wasm-utils reads native.wasm from disk when imported; a compiled binary has no such file.
const wasmBundled = createRequire(import.meta.url).resolve("@platformatic/wasm-utils/bundled");

const started = performance.now();
const result = await Bun.build({
  entrypoints: ["src/main.ts", "src/consumer-worker.ts", "src/producer-worker.ts"],
  compile: {
    outfile: values.outfile,
    autoloadPackageJson: true, // lets a --handler module resolve its own npm imports
    ...(values.target ? { target: values.target as Bun.Build.CompileTarget } : {}),
  },
  minify: true,
  bytecode: true,
  format: "esm",
  sourcemap: "linked",
  define: buildDefines({ testFaults: values["test-faults"] }),
  plugins: [
    {
      name: "wasm-utils-bundled",
      setup(build) {
        build.onResolve({ filter: /^@platformatic\/wasm-utils$/ }, () => ({ path: wasmBundled }));
      },
    },
  ],
});
if (!result.success) {
  for (const log of result.logs) console.error(log);
  process.exit(1);
}
console.log(
  `built ${values.outfile}${values["test-faults"] ? " (with test fault injection)" : ""} in ${Math.round(performance.now() - started)} ms`,
);
