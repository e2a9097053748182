/**
 * Stops a bad deploy from draining a healthy input into the dead-letter topic: it watches every finished
 * record and trips when too many of the latest ones were dead-lettered, or too many in a row.
 */
export interface DeadLetterGuardSettings {
  /** Trip when more than this share of the last `window` records were dead-lettered; undefined = off. */
  readonly dlqMaxRatio?: number | undefined;
  readonly dlqWindow: number;
  /** Trip when this many records in a row were dead-lettered; 0 = off. */
  readonly dlqMaxConsecutive: number;
}

export class DeadLetterGuard {
  /** The latest `window` outcomes, a circular bitmap: 1 = dead-lettered. */
  private readonly outcomes: Uint8Array;
  private next = 0;
  private seen = 0;
  private deadInWindow = 0;
  private consecutive = 0;
  private tripped: string | null = null;

  constructor(private readonly settings: DeadLetterGuardSettings) {
    this.outcomes = new Uint8Array(settings.dlqMaxRatio === undefined ? 0 : settings.dlqWindow);
  }

  get enabled(): boolean {
    return this.settings.dlqMaxRatio !== undefined || this.settings.dlqMaxConsecutive > 0;
  }

  /** Why the guard tripped, once it has (it stays tripped). */
  get reason(): string | null {
    return this.tripped;
  }

  /** Records one finished record; returns the reason when this one trips the guard. */
  record(deadLettered: boolean): string | null {
    if (this.tripped !== null) return this.tripped;
    this.consecutive = deadLettered ? this.consecutive + 1 : 0;
    const { dlqMaxConsecutive, dlqMaxRatio, dlqWindow } = this.settings;
    if (dlqMaxConsecutive > 0 && this.consecutive >= dlqMaxConsecutive) {
      return (this.tripped = `dead-letter guard: ${this.consecutive} records in a row failed (--dlq-max-consecutive ${dlqMaxConsecutive})`);
    }
    if (dlqMaxRatio === undefined) return null;
    const bit = deadLettered ? 1 : 0;
    if (this.seen === dlqWindow) this.deadInWindow -= this.outcomes[this.next]!;
    else this.seen++;
    this.outcomes[this.next] = bit;
    this.deadInWindow += bit;
    this.next = (this.next + 1) % dlqWindow;
    // A ratio over a half-filled window would trip on the first few failures of a small run.
    if (this.seen === dlqWindow && this.deadInWindow / dlqWindow > dlqMaxRatio) {
      const percent = (share: number): string => `${Math.round(share * 1000) / 10}%`;
      return (this.tripped = `dead-letter guard: ${this.deadInWindow} of the last ${dlqWindow} records failed (${percent(this.deadInWindow / dlqWindow)}, --dlq-max-ratio ${percent(dlqMaxRatio)})`);
    }
    return null;
  }
}
