/**
 * Offsets of one assigned partition, in arrival order (always ascending, gaps allowed: compaction and
 * transaction markers leave holes). The commit point is one past the last record of the contiguous completed
 * prefix, the way Confluent's Parallel Consumer commits: never past a record that is still in flight.
 */
export class PartitionOffsets {
  private offsets: number[] = [];
  private done: boolean[] = [];
  private head = 0;
  /** Next offset to commit (one past the completed prefix), or null before the first completion. */
  commitPoint: number | null = null;
  /** Highest offset received, -1 before any. */
  lastSeen = -1;

  constructor(readonly generation: number) {}

  get inFlight(): number {
    return this.offsets.length - this.head;
  }

  /** The oldest record still in flight: what holds the commit point back. */
  get oldestInFlight(): number | null {
    return this.head < this.offsets.length ? this.offsets[this.head]! : null;
  }

  add(offset: number): void {
    if (offset <= this.lastSeen) throw new RangeError(`offset ${offset} not after ${this.lastSeen}`);
    this.offsets.push(offset);
    this.done.push(false);
    this.lastSeen = offset;
  }

  /** Marks a record completed; returns false if it is not tracked (already done or never added). */
  complete(offset: number): boolean {
    const index = this.indexOf(offset);
    if (index < 0 || this.done[index]) return false;
    this.done[index] = true;
    if (index === this.head) this.advance();
    return true;
  }

  private advance(): void {
    let head = this.head;
    while (head < this.offsets.length && this.done[head]) head++;
    this.commitPoint = this.offsets[head - 1]! + 1;
    this.head = head;
    if (head > 4096 && head * 2 > this.offsets.length) {
      this.offsets = this.offsets.slice(head);
      this.done = this.done.slice(head);
      this.head = 0;
    }
  }

  private indexOf(offset: number): number {
    let low = this.head;
    let high = this.offsets.length - 1;
    while (low <= high) {
      const mid = (low + high) >>> 1;
      const value = this.offsets[mid]!;
      if (value === offset) return mid;
      if (value < offset) low = mid + 1;
      else high = mid - 1;
    }
    return -1;
  }
}
