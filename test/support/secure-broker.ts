/**
 * The project's secure broker (scripts/kafka/start.sh --mode secure) for the TLS/SASL tests: started when it does
 * not run (and stopped again by whoever started it), and the KAFKA_SECURE_* values its env.sh exports.
 */
import { existsSync, readFileSync } from "node:fs";
import { join, resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
// Where scripts/kafka keeps the secure broker (KAFKA_CACHE_DIR moves it, as in scripts/kafka/env.sh).
export const SECURE_RUN_DIR = resolve(process.env.KAFKA_CACHE_DIR ?? resolve(root, ".cache/kafka"), "run/secure");

/** Whether this checkout's secure broker runs (same test as scripts/kafka/env.sh kafka_node_pid). */
function secureBrokerRunning(): boolean {
  const pidFile = join(SECURE_RUN_DIR, "node1/kafka.pid");
  if (!existsSync(pidFile)) return false;
  const pid = readFileSync(pidFile, "utf8").trim();
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").includes(join(SECURE_RUN_DIR, "node1/server.properties"));
  } catch {
    return false;
  }
}

function kafkaScript(name: string, ...args: string[]): void {
  const run = Bun.spawnSync(["bash", resolve(root, `scripts/kafka/${name}`), ...args], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0)
    throw new Error(`${name} ${args.join(" ")} failed (${run.exitCode}): ${run.stderr.toString()}${run.stdout.toString()}`);
}

/** The KAFKA_SECURE_* variables of env.sh, as bash sees them. */
function secureEnvironment(): Record<string, string> {
  const run = Bun.spawnSync(["bash", "-c", 'source "$1" && env -0', "_", join(SECURE_RUN_DIR, "env.sh")], {
    stdout: "pipe",
    stderr: "pipe",
    env: {},
  });
  if (run.exitCode !== 0) throw new Error(`cannot source env.sh: ${run.stderr.toString()}`);
  const values: Record<string, string> = {};
  for (const entry of run.stdout.toString().split("\0")) {
    const at = entry.indexOf("=");
    if (entry.startsWith("KAFKA_SECURE_") && at > 0) values[entry.slice(0, at)] = entry.slice(at + 1);
  }
  return values;
}

export interface SecureBroker {
  /** The KAFKA_SECURE_* values (certificate paths, listeners, test credentials). */
  readonly env: Readonly<Record<string, string>>;
  /** One value of `env`; throws when env.sh has none. */
  need(name: string): string;
  /** Stops the broker if `startSecureBroker` started it. */
  release(): void;
}

/** Starts the secure broker (a healthy running one is reused) and reads its env.sh. */
export function startSecureBroker(timeoutS = 120): SecureBroker {
  const started = !secureBrokerRunning();
  kafkaScript("start.sh", "--mode", "secure", "--timeout", String(timeoutS));
  const env = secureEnvironment();
  return {
    env,
    need(name) {
      const value = env[name];
      if (value === undefined || value === "") throw new Error(`env.sh has no ${name}`);
      return value;
    },
    release() {
      if (started) kafkaScript("stop.sh", "--mode", "secure");
    },
  };
}
