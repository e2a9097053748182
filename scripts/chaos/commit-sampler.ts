/**
 * Samples the group's committed offsets every ~200 ms with the wall-clock time the answer arrived, for the
 * verifier's commit-past-unproduced check and the recovery times. Failed samples (broker down) are skipped.
 */
import type { CommitSample } from "./verifier.ts";
import type { KafkaAdmin } from "../lib/kafka-admin.ts";

export class CommitSampler {
  readonly samples: CommitSample[] = [];
  /**
   * With `trackEnds` set before start(): the topic's end offsets, sampled alongside (time = when the answer
   * arrived), so a check can tell how many records were in the input at a sample's time.
   */
  readonly endSamples: Array<{ time: number; ends: number[] }> = [];
  trackEnds = false;
  /** Committed total per successful sample, in time order: [time, total]. */
  readonly totals: Array<[number, number]> = [];
  private running = false;
  private loop: Promise<void> | null = null;

  constructor(
    private readonly admin: KafkaAdmin,
    private readonly groupId: string,
    private readonly topic: string,
    private readonly everyMs = 200,
  ) {}

  start(): void {
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        await this.sampleNow();
        await Bun.sleep(this.everyMs);
      }
    })();
  }

  /** Takes one sample now; returns the committed offsets, or null when the broker did not answer. */
  async sampleNow(): Promise<Map<number, number> | null> {
    const ends = this.trackEnds
      ? this.admin.endOffsets(this.topic).then(
          (e) => void this.endSamples.push({ time: Date.now(), ends: e }),
          () => undefined,
        )
      : null;
    try {
      const committed = await this.admin.committed(this.groupId, this.topic);
      const time = Date.now();
      let total = 0;
      for (const [partition, offset] of committed) {
        this.samples.push({ time, partition, offset });
        total += offset;
      }
      this.totals.push([time, total]);
      return committed;
    } catch {
      return null;
    } finally {
      await ends;
    }
  }

  /** The latest successful sample at or before `time`, per partition. */
  committedAt(time: number): Map<number, number> {
    const result = new Map<number, number>();
    for (const s of this.samples) if (s.time <= time) result.set(s.partition, s.offset);
    return result;
  }

  async stop(): Promise<void> {
    this.running = false;
    await this.loop;
  }
}
