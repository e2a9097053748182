/**
 * Caps a line that can repeat once per record (a record dead-lettered): a flood of bad input must not become a flood
 * of log lines (each a write to stderr). Up to `perWindow` lines per window are written as they come; the rest are
 * counted and summed up in one line when the window ends.
 */
import type { Logger } from "./logger.ts";

export class LogLimiter {
  private windowStart = Number.NEGATIVE_INFINITY;
  private used = 0;
  private suppressed = 0;
  private timer: ReturnType<typeof setTimeout> | null = null;

  constructor(
    private readonly log: Logger,
    /** what the summary counts, e.g. "records sent to the dead-letter topic" */
    private readonly what: string,
    private readonly perWindow = 20,
    private readonly windowMs = 10_000,
    private readonly now: () => number = Date.now,
  ) {}

  /** Whether this occurrence may be logged now (warn level); if not, it is counted for the summary. */
  allow(): boolean {
    if (!this.log.enabled("warn")) return false;
    const now = this.now();
    if (now - this.windowStart >= this.windowMs) {
      this.flush();
      this.windowStart = now;
      this.used = 0;
    }
    if (this.used < this.perWindow) {
      this.used++;
      return true;
    }
    if (this.suppressed++ === 0) {
      this.timer = setTimeout(() => this.flush(), Math.max(0, this.windowStart + this.windowMs - now));
      this.timer.unref?.();
    }
    return false;
  }

  /** Writes the summary of what was held back, if anything was. */
  flush(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.suppressed === 0) return;
    this.log.warn(`${this.suppressed} more ${this.what}, not logged one by one`, {
      suppressed: this.suppressed,
      limit: `${this.perWindow} lines per ${this.windowMs / 1000} s`,
    });
    this.suppressed = 0;
  }
}
