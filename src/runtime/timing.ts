/** Small time helpers of the runtime. */

/** Whether `work` settled within `ms` (it keeps running either way). */
export async function within(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  const finished = await Promise.race([work.then(() => true), timeout]);
  clearTimeout(timer);
  return finished;
}

/** Counts events in a sliding window: restarting crashed Workers is fine, a crash loop is not. */
export class EventBudget {
  private readonly times: number[] = [];

  constructor(
    private readonly max: number,
    private readonly windowMs: number,
  ) {}

  /** Records one event now; returns how many fell in the window, or null while within the budget. */
  spend(now = Date.now()): number | null {
    this.times.push(now);
    while (this.times.length > 0 && this.times[0]! < now - this.windowMs) this.times.shift();
    return this.times.length > this.max ? this.times.length : null;
  }
}
