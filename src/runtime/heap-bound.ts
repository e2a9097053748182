/**
 * Bounds the JavaScriptCore heaps by re-executing the process with BUN_JSC_forceRAMSize set. JavaScriptCore sizes
 * its heaps (when to collect, how far to grow) from the machine's RAM; on a large machine the four heaps (main thread,
 * consumer and producer Workers) grow to hundreds of MB of garbage between collections. The option is read once,
 * when the runtime starts, so it has to be in the environment before that: `process.execve` replaces the process
 * image (same pid, same open files and signals), which costs one runtime start-up (tens of ms) and no second process.
 *
 * Measured on 500,000 records (scripts/bench/profile.ts): peak RSS 433 → 286–307 MB at 400 MB–1 GB with no change in
 * CPU per record beyond the noise; at 300 MB collections start to cost (1.2–1.4× the CPU), at 200 MB 2.7×.
 *
 * Off when BUN_JSC_forceRAMSize is already set (the user's value is kept) or PROCESSOR_HEAP_BOUND=off.
 */
export const HEAP_RAM_BYTES = 600_000_000;

export function boundHeap(argv: readonly string[], env: NodeJS.ProcessEnv, execPath: string): void {
  if (env.BUN_JSC_forceRAMSize !== undefined || env.PROCESSOR_HEAP_BOUND === "off") return;
  if (typeof process.execve !== "function") return;
  // a compiled binary adds its own entry (/$bunfs/…) as argv[1]; under `bun src/main.ts` argv[1] is the script
  const compiled = argv[1]?.startsWith("/$bunfs/") === true;
  process.execve(execPath, compiled ? [execPath, ...argv.slice(2)] : [execPath, ...argv.slice(1)], {
    ...env,
    BUN_JSC_forceRAMSize: String(HEAP_RAM_BYTES),
  });
}
