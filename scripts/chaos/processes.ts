/**
 * Starts and kills processor processes (the compiled binary) for a scenario, each logging to its own file, and
 * records how each one ended, so a crash (an exit nobody asked for) shows up in the report.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { spawnLogged, type Spawned } from "../lib/processes.ts";

export interface ProcessorRun {
  readonly id: number;
  readonly child: Spawned["child"];
  readonly logFile: string;
  readonly process: Spawned;
  /** Set when the runner signalled it (then an exit is expected). */
  signalled: NodeJS.Signals | null;
}

export interface UnexpectedExit {
  readonly id: number;
  readonly code: number | null;
  readonly signal: string | null;
  readonly logFile: string;
}

export class ProcessorFleet {
  private next = 0;
  readonly live = new Set<ProcessorRun>();
  readonly unexpected: UnexpectedExit[] = [];
  started = 0;

  constructor(
    private readonly binary: string,
    private readonly baseArgs: readonly string[],
    readonly logDir: string,
    private readonly env: Record<string, string> = {},
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  start(extraArgs: readonly string[] = []): ProcessorRun {
    const id = this.next++;
    const logFile = resolve(this.logDir, `processor-${id}.log`);
    const spawned = spawnLogged([this.binary, ...this.baseArgs, ...extraArgs], {
      env: { PATH: process.env.PATH ?? "", ...this.env },
      log: logFile,
      stdout: "ignore",
    });
    const { child } = spawned;
    const run: ProcessorRun = { id, child, logFile, process: spawned, signalled: null };
    this.live.add(run);
    this.started++;
    void spawned.exited.then((code) => {
      this.live.delete(run);
      if (run.signalled === null)
        this.unexpected.push({ id, code, signal: child.signalCode === null ? null : String(child.signalCode), logFile });
    });
    return run;
  }

  async kill(run: ProcessorRun, signal: NodeJS.Signals): Promise<number> {
    run.signalled = signal;
    run.child.kill(signal);
    return run.child.exited;
  }

  /** SIGTERM everything still running and wait (SIGKILL after the grace period). */
  async stopAll(graceMs = 40_000): Promise<void> {
    await Promise.all(
      [...this.live].map(async (run) => {
        run.signalled = "SIGTERM";
        await run.process.stop(graceMs);
      }),
    );
  }
}
