/**
 * Starting child processes with their output in a log file, signalling them and stopping them (SIGTERM, then
 * SIGKILL after a grace period): the runner of the benchmark contenders, the chaos scenarios' processors and the
 * integration tests' processors.
 */
import type { Subprocess } from "bun";
import { closeSync, openSync } from "node:fs";

export interface SpawnOptions {
  readonly cwd?: string;
  readonly env?: Record<string, string | undefined>;
  /** The file that gets stderr (and stdout, unless `stdout` is "ignore"); truncated first. */
  readonly log: string;
  readonly stdout?: "log" | "ignore";
  /**
   * Lead a new process group (`setsid`), so that signals reach the whole tree: a shell pipeline or a wrapper
   * script has children.
   */
  readonly group?: boolean;
}

export interface Spawned {
  readonly child: Subprocess<"ignore", number | "ignore", number>;
  /** performance.now() at the start */
  readonly started: number;
  /** The log file. */
  readonly log: string;
  /** Resolves with the exit code (the log file is closed by then). */
  readonly exited: Promise<number>;
  /** performance.now() at the exit, null while it runs. */
  exitedAt(): number | null;
  /** Sends `signal` to the process (its whole group when started with `group`). */
  signal(signal: NodeJS.Signals): void;
  /** SIGTERM, SIGKILL after `graceMs` if it has not exited by then; resolves with the exit code. */
  stop(graceMs: number): Promise<number>;
}

export function spawnLogged(argv: readonly string[], options: SpawnOptions): Spawned {
  const fd = openSync(options.log, "w");
  const started = performance.now();
  const child = Bun.spawn(options.group ? ["setsid", "--wait", ...argv] : [...argv], {
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
    ...(options.env === undefined ? {} : { env: options.env }),
    stdin: "ignore",
    stdout: options.stdout === "ignore" ? "ignore" : fd,
    stderr: fd,
  });
  let exitedAt: number | null = null;
  const exited = child.exited.then((code) => {
    exitedAt = performance.now();
    closeSync(fd);
    return code;
  });
  const signal = (sig: NodeJS.Signals): void => {
    if (options.group) {
      try {
        process.kill(-child.pid, sig);
        return;
      } catch {
        // the group is gone: signal the process itself
      }
    }
    child.kill(sig);
  };
  return {
    child,
    started,
    log: options.log,
    exited,
    exitedAt: () => exitedAt,
    signal,
    async stop(graceMs) {
      if (exitedAt === null) {
        signal("SIGTERM");
        const timer = setTimeout(() => signal("SIGKILL"), graceMs);
        await exited;
        clearTimeout(timer);
      }
      return exited;
    },
  };
}
