/** Reports, every few seconds, the records between the committed offset and the end of each owned partition. */
import type { Logger } from "../observability/logger.ts";
import { describeError } from "./errors.ts";
import type { GroupOffsets } from "./commit-floor.ts";
import type { FromConsumer } from "../threads/messages.ts";

export const LAG_EVERY_MS = 5_000;

export type LagEntry = { topic: string; partition: number; lag: number };

/** The lag entries of the partitions `owns` accepts (negative lag: unknown, left out). */
export function lagEntries(lag: GroupOffsets, owns: (topic: string, partition: number) => boolean): LagEntry[] {
  const entries: LagEntry[] = [];
  for (const [topic, partitions] of lag) {
    partitions.forEach((value, partition) => {
      if (owns(topic, partition) && value >= 0n) entries.push({ topic, partition, lag: Number(value) });
    });
  }
  return entries;
}

export interface LagSource {
  /** Whether there is anything to report now (joined, not stopping, owns partitions). */
  active(): boolean;
  owns(topic: string, partition: number): boolean;
  /** The client's lag query. */
  query(): Promise<GroupOffsets>;
}

export class LagReporter {
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(
    private readonly source: LagSource,
    private readonly post: (message: FromConsumer) => void,
    private readonly log: Logger,
    private readonly everyMs = LAG_EVERY_MS,
  ) {}

  start(): void {
    this.timer = setInterval(() => void this.report(), this.everyMs);
  }

  stop(): void {
    clearInterval(this.timer);
  }

  async report(): Promise<void> {
    if (!this.source.active()) return;
    try {
      const lag = await this.source.query();
      this.post({ type: "lag", entries: lagEntries(lag, (topic, partition) => this.source.owns(topic, partition)) });
    } catch (error) {
      this.log.debug("lag query failed", { error: describeError(error) });
    }
  }
}
