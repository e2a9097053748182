/**
 * Starts and kills processor processes (the compiled binary) for a scenario, each logging to its own file, and
 * records how each one ended, so a crash (an exit nobody asked for) shows up in the report.
 *
 * Each process runs in a slot (0, 1, ...): a new process takes the lowest slot no running process holds, and
 * replace() restarts a dead process in its own slot. In exactly-once mode the slot names the process's
 * transactional id prefix (`<prefix>-s<slot>`), so a process restarted in a SIGKILLed one's slot fences it (its open
 * transaction is aborted at once), and two running processes never share a prefix.
 */
import { mkdirSync } from "node:fs";
import { resolve } from "node:path";
import { spawnLogged, type Spawned } from "../lib/processes.ts";

export interface ProcessorRun {
  readonly id: number;
  /** The slot it runs in; exactly-once: its transactional id prefix is `<prefix>-s<slot>`. */
  readonly slot: number;
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

export interface FleetOptions {
  /** Extra environment of every process. */
  readonly env?: Record<string, string>;
  /** Exactly-once mode: every process gets --guarantee exactly-once --transactional-id <this>-s<slot>. */
  readonly transactionalIdPrefix?: string;
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
    private readonly options: FleetOptions = {},
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Slots held by a process that has not exited (signalled or not). */
  private heldSlots(): Set<number> {
    return new Set([...this.live].filter((r) => r.child.exitCode === null && r.child.signalCode === null).map((r) => r.slot));
  }

  /** The transactional id prefix of a slot (exactly-once mode), else null. */
  transactionalId(slot: number): string | null {
    const prefix = this.options.transactionalIdPrefix;
    return prefix === undefined ? null : `${prefix}-s${slot}`;
  }

  /** Starts a process in `slot` (default: the lowest slot no running process holds). */
  start(options: { readonly slot?: number; readonly args?: readonly string[] } = {}): ProcessorRun {
    const held = this.heldSlots();
    let slot = options.slot ?? 0;
    if (options.slot === undefined) while (held.has(slot)) slot++;
    else if (held.has(slot)) throw new Error(`slot ${slot} is held by a running process: two processes would share a transactional id`);
    const id = this.next++;
    const logFile = resolve(this.logDir, `processor-${id}.log`);
    const txId = this.transactionalId(slot);
    const guarantee = txId === null ? [] : ["--guarantee", "exactly-once", "--transactional-id", txId];
    const spawned = spawnLogged([this.binary, ...this.baseArgs, ...guarantee, ...(options.args ?? [])], {
      env: { PATH: process.env.PATH ?? "", ...this.options.env },
      log: logFile,
      stdout: "ignore",
    });
    const { child } = spawned;
    const run: ProcessorRun = { id, slot, child, logFile, process: spawned, signalled: null };
    this.live.add(run);
    this.started++;
    void spawned.exited.then((code) => {
      this.live.delete(run);
      if (run.signalled === null)
        this.unexpected.push({ id, code, signal: child.signalCode === null ? null : String(child.signalCode), logFile });
    });
    return run;
  }

  /**
   * Starts a successor of `run` (which must have exited: kill() it first) in the same slot: in exactly-once mode
   * it reuses the transactional id, which fences `run` and aborts the transaction it left open.
   */
  replace(run: ProcessorRun): ProcessorRun {
    return this.start({ slot: run.slot });
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
