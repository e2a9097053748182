/** Drives the project's local broker (scripts/kafka) for tests that stop and start it on purpose. */
import { resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");

export function localBroker(action: "start" | "stop"): void {
  const run = Bun.spawnSync(["bash", resolve(root, `scripts/kafka/${action}.sh`)], { stdout: "pipe", stderr: "pipe" });
  if (run.exitCode !== 0) throw new Error(`${action}.sh failed: ${run.stderr.toString()}${run.stdout.toString()}`);
}
