/** Starting and stopping a contender's process tree. */
import { spawnLogged, type Spawned } from "../../lib/processes.ts";
import type { Command } from "./contenders.ts";

export interface Running extends Omit<Spawned, "stop"> {
  /** SIGTERM to the whole process group, SIGKILL after `graceMs` (default 30 s) and to any leftovers */
  stop(graceMs?: number): Promise<number>;
}

const live = new Set<Running>();

/** Spawns `cmd` as the leader of a new process group, stdout+stderr into `logPath`; stop() ends the whole tree. */
export function start(cmd: Command, logPath: string): Running {
  const spawned = spawnLogged(cmd.argv, { cwd: cmd.cwd, env: cmd.env, log: logPath, group: true });
  const running: Running = {
    ...spawned,
    stop: async (graceMs = 30_000) => {
      const code = await spawned.stop(graceMs);
      // leftovers (e.g. a pipeline member that ignored SIGTERM) must not outlive the run
      spawned.signal("SIGKILL");
      live.delete(running);
      return code;
    },
  };
  live.add(running);
  return running;
}

/** Kills every contender still running (on Ctrl-C or an error). */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((r) => r.stop(2000)));
}
