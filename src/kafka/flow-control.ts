/** Flow control from the main thread (--max-uncommitted): partitions left out of fetches until resumed. */
import { partitionKey } from "../offsets/offset-tracker.ts";
import type { PartitionRef, Stream } from "./patched-stream.ts";

export function applyFlow(stream: Stream | null, partitions: readonly PartitionRef[], paused: boolean): void {
  if (stream === null) return;
  for (const { topic, partition } of partitions) {
    if (paused) stream.pausePartitions(topic, [partition]);
    else stream.resumePartitions(topic, [partition]);
  }
}

export class PausedPartitions {
  private readonly paused = new Map<string, PartitionRef>();

  /**
   * Pauses (only owned partitions) or resumes partitions; returns those whose state changed, already applied to
   * `stream`.
   */
  set(
    partitions: readonly PartitionRef[],
    paused: boolean,
    owns: (topic: string, partition: number) => boolean,
    stream: Stream | null,
  ): PartitionRef[] {
    const changed: PartitionRef[] = [];
    for (const ref of partitions) {
      const key = partitionKey(ref.topic, ref.partition);
      if (paused && owns(ref.topic, ref.partition) && !this.paused.has(key)) {
        this.paused.set(key, ref);
        changed.push(ref);
      } else if (!paused && this.paused.delete(key)) changed.push(ref);
    }
    applyFlow(stream, changed, paused);
    return changed;
  }

  /** A new stream starts with every paused partition paused. */
  applyTo(stream: Stream): void {
    applyFlow(stream, [...this.paused.values()], true);
  }

  /** A partition that comes back starts unpaused: the main thread dropped its work and counts afresh. */
  keepOnly(owns: (topic: string, partition: number) => boolean, stream: Stream | null): void {
    const dropped = [...this.paused].filter(([, ref]) => !owns(ref.topic, ref.partition));
    for (const [key] of dropped) this.paused.delete(key);
    applyFlow(
      stream,
      dropped.map(([, ref]) => ref),
      false,
    );
  }
}
