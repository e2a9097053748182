/**
 * Catches a main thread that stopped running JavaScript (a handler blocking synchronously: --handler-timeout
 * cannot interrupt that). The Kafka Workers would keep heartbeating for it, so its partitions would stay
 * assigned to a member that never processes them. The main thread ticks a shared counter; a Worker that sees no
 * tick for the timeout kills the process, so the group hands the partitions to a healthy member, and what was
 * not committed is processed again there (at-least-once holds).
 */
const TICK_MS = 250;

/** Main thread side: ticks until stopped. */
export function startHeartbeat(): { readonly beats: SharedArrayBuffer; stop(): void } {
  const beats = new SharedArrayBuffer(4);
  const counter = new Int32Array(beats);
  const timer = setInterval(() => Atomics.add(counter, 0, 1), TICK_MS);
  timer.unref();
  return { beats, stop: () => clearInterval(timer) };
}

/** Worker side: calls `onStall` once the counter has not moved for `timeoutMs`. */
export function watchHeartbeat(beats: SharedArrayBuffer, timeoutMs: number, onStall: (stalledMs: number) => void): () => void {
  const counter = new Int32Array(beats);
  let last = Atomics.load(counter, 0);
  let lastMoved = performance.now();
  const timer = setInterval(() => {
    const now = performance.now();
    const value = Atomics.load(counter, 0);
    if (value !== last) {
      last = value;
      lastMoved = now;
    } else if (now - lastMoved >= timeoutMs) {
      clearInterval(timer);
      onStall(Math.round(now - lastMoved));
    }
  }, TICK_MS);
  timer.unref();
  return () => clearInterval(timer);
}
