/** Small async helpers of the unit tests. */

/**
 * The timer functions as they were when this module loaded: a test that patches globalThis.setTimeout (to shorten
 * the pipeline's back-off timers) still gets real time-outs here.
 */
const realSetTimeout = globalThis.setTimeout;
const realClearTimeout = globalThis.clearTimeout;

/** Resolves after the current macrotask (lets queued callbacks and promise chains run). */
export const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

/** `promise`, or a rejection naming `what` when it has not settled within `ms`. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = realSetTimeout(() => reject(new Error(`${what}: not within ${ms} ms`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    realClearTimeout(timer);
  }
}
