/**
 * Stops, SIGKILLs and starts the brokers a scenario may break: the chaos-mode broker and the 3-node cluster
 * (scripts/kafka), never the shared single broker. PIDs come from the PID files start.sh writes.
 */
import { existsSync, readFileSync } from "node:fs";
import { resolve } from "node:path";

const root = resolve(import.meta.dir, "../..");
export type BrokerMode = "chaos" | "cluster";

export const BOOTSTRAP: Record<BrokerMode, string[]> = {
  chaos: ["127.0.0.1:39092"],
  cluster: ["127.0.0.1:19092", "127.0.0.1:19093", "127.0.0.1:19094"],
};

/** Runs a scripts/kafka script without blocking the event loop (the stream and the sampler keep going). */
async function script(name: string, args: readonly string[]): Promise<void> {
  const run = Bun.spawn(["bash", resolve(root, `scripts/kafka/${name}.sh`), ...args], { stdout: "pipe", stderr: "pipe" });
  const [code, stderr] = await Promise.all([run.exited, new Response(run.stderr).text(), new Response(run.stdout).text()]);
  if (code !== 0) throw new Error(`${name}.sh ${args.join(" ")} failed: ${stderr.slice(-2000)}`);
}

/** Starts the mode's broker(s) (a no-op when healthy; also restarts stopped nodes) and waits until ready. */
export function startBrokers(mode: BrokerMode): Promise<void> {
  return script("start", ["--mode", mode, "--timeout", "120"]);
}

/** Graceful stop of every node of the mode. */
export function stopBrokers(mode: BrokerMode): Promise<void> {
  return script("stop", ["--mode", mode, "--timeout", "60"]);
}

function pidOf(mode: BrokerMode, node: number): number | null {
  const file = resolve(root, `.cache/kafka/run/${mode}/node${node}/kafka.pid`);
  if (!existsSync(file)) return null;
  const pid = Number(readFileSync(file, "utf8").trim());
  return Number.isInteger(pid) && pid > 0 ? pid : null;
}

async function waitGone(pid: number, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    try {
      process.kill(pid, 0);
    } catch {
      return;
    }
    await Bun.sleep(100);
  }
  throw new Error(`broker pid ${pid} still alive after ${timeoutMs} ms`);
}

/** Sends `signal` to one node's JVM and waits until it is gone. */
export async function signalNode(mode: BrokerMode, node: number, signal: "SIGTERM" | "SIGKILL"): Promise<void> {
  const pid = pidOf(mode, node);
  if (pid === null) throw new Error(`no PID file for ${mode} node ${node}`);
  process.kill(pid, signal);
  await waitGone(pid, 60_000);
}
