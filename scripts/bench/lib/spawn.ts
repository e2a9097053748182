/** Starting and stopping a contender's process tree. */
import type { Subprocess } from "bun";
import { closeSync, openSync } from "node:fs";
import type { Command } from "./contenders.ts";

export interface Running {
  child: Subprocess<"ignore", number, number>;
  started: number;
  exitedAt: () => number | null;
  exited: Promise<number>;
  /** SIGTERM to the whole process group (a pipeline or a wrapper script has children), SIGKILL after `graceMs` */
  stop: (graceMs?: number) => Promise<number>;
}

const live = new Set<Running>();

/** Spawns `cmd` as the leader of a new process group, stdout+stderr into `logPath`. */
export function start(cmd: Command, logPath: string): Running {
  const fd = openSync(logPath, "w");
  const started = performance.now();
  // `setsid` makes the child a process-group leader, so one kill(-pid) reaches the whole tree
  const child = Bun.spawn(["setsid", "--wait", ...cmd.argv], { cwd: cmd.cwd, env: cmd.env, stdin: "ignore", stdout: fd, stderr: fd });
  let exitedAt: number | null = null;
  const exited = child.exited.then((code) => {
    exitedAt = performance.now();
    closeSync(fd);
    return code;
  });
  const signalGroup = (signal: NodeJS.Signals): void => {
    try {
      process.kill(-child.pid, signal);
    } catch {
      child.kill(signal);
    }
  };
  const running: Running = {
    child,
    started,
    exitedAt: () => exitedAt,
    exited,
    stop: async (graceMs = 30_000) => {
      if (exitedAt === null) {
        signalGroup("SIGTERM");
        const timer = setTimeout(() => signalGroup("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      // leftovers (e.g. a pipeline member that ignored SIGTERM) must not outlive the run
      signalGroup("SIGKILL");
      live.delete(running);
      return exited;
    },
  };
  live.add(running);
  return running;
}

/** Kills every contender still running (on Ctrl-C or an error). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop(2000)));
}
