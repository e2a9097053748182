/**
 * bun test preload: makes sure a Kafka broker is reachable before integration tests run.
 * PROCESSOR_TEST_BROKERS names an existing cluster; otherwise the project's local broker is started
 * (scripts/kafka/start.sh reuses a healthy one). A run limited to unit tests never waits for Kafka.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dir, "..");

/** The `bun test` filters from the real command line (process.argv is rewritten per test file). */
function testFilters(): string[] | null {
  if (!existsSync("/proc/self/cmdline")) return null;
  const args = readFileSync("/proc/self/cmdline", "utf8").split("\0").filter(Boolean);
  const at = args.indexOf("test");
  if (at < 0) return null;
  const filters: string[] = [];
  for (let i = at + 1; i < args.length; i++) {
    const arg = args[i]!;
    if (arg.startsWith("--")) {
      if (
        !arg.includes("=") &&
        [
          "--timeout",
          "--preload",
          "--test-name-pattern",
          "-t",
          "--reporter",
          "--reporter-outfile",
          "--rerun-each",
          "--seed",
          "--bail",
        ].includes(arg)
      )
        i++;
      continue;
    }
    filters.push(arg.replace(/^\.\//, ""));
  }
  return filters;
}

function needsBroker(): boolean {
  const filters = testFilters();
  if (filters === null || filters.length === 0) return true;
  return filters.some((f) => !f.startsWith("test/unit"));
}

if (needsBroker()) {
  if (process.env.PROCESSOR_TEST_BROKERS) {
    // An external cluster: tests use it as it is.
  } else {
    const started = Bun.spawnSync(["bash", resolve(root, "scripts/kafka/start.sh")], { stdout: "inherit", stderr: "inherit" });
    if (started.exitCode !== 0) {
      console.error("test preload: could not start the local Kafka broker (see above)");
      process.exit(1);
    }
    process.env.PROCESSOR_TEST_BROKERS = "127.0.0.1:9092";
  }
}
