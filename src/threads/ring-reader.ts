/** The reading side of a byte ring (see ring-layout.ts for the layout and the threading rules). */
import { LENGTH_BYTES, READ, RingSide, WRITE, waitChange, type RingBuffers } from "./ring-layout.ts";

export class RingReader extends RingSide {
  private readPos: number;
  /** An oversized frame being assembled across several reads. */
  private partial: { buffer: Uint8Array; filled: number } | null = null;

  constructor(buffers: RingBuffers) {
    super(buffers);
    this.readPos = Atomics.load(this.control, READ) >>> 0;
  }

  /** Bytes written and published but not yet read. */
  available(): number {
    return this.used(Atomics.load(this.control, WRITE), this.readPos);
  }

  /**
   * Returns the next complete frame (a copy the caller owns), or null when none is complete yet.
   * Call `release()` after a batch so the writer can reuse the space.
   */
  poll(): Uint8Array | null {
    if (this.partial) return this.continuePartial();
    const available = this.available();
    if (available < LENGTH_BYTES) return null;
    const length = this.peekLength();
    if (LENGTH_BYTES + length <= available) {
      this.skip(LENGTH_BYTES);
      return this.copyOut(length);
    }
    if (LENGTH_BYTES + length <= this.capacity) return null; // will fit once the writer finishes it
    this.skip(LENGTH_BYTES);
    this.partial = { buffer: new Uint8Array(length), filled: 0 };
    return this.continuePartial();
  }

  /**
   * Takes every complete frame available now (up to about `maxBytes`) with a single copy and calls `onFrame`
   * with the batch and each frame's bounds. A frame larger than the ring goes through `poll()` instead.
   * Returns the number of frames. Call `release()` afterwards. `limits.maxFrames` caps the count; a frame whose first
   * byte `limits.endsBatch` accepts is the last one taken, so what follows it stays in the ring.
   */
  drainBatch(
    maxBytes: number,
    onFrame: (batch: Uint8Array, start: number, end: number) => void,
    limits: { readonly maxFrames?: number; readonly endsBatch?: (firstByte: number) => boolean } = {},
  ): number {
    const { maxFrames = Number.POSITIVE_INFINITY, endsBatch } = limits;
    const available = this.partial ? 0 : this.available();
    let scanned = 0;
    let count = 0;
    while (scanned + LENGTH_BYTES <= available && scanned < maxBytes && count < maxFrames) {
      const length = this.peekLength(scanned);
      if (LENGTH_BYTES + length > this.capacity || scanned + LENGTH_BYTES + length > available) break;
      const ends = endsBatch !== undefined && length > 0 && endsBatch(this.peekByte(scanned + LENGTH_BYTES));
      scanned += LENGTH_BYTES + length;
      count++;
      if (ends) break;
    }
    if (count === 0) {
      const frame = this.poll();
      if (frame === null) return 0;
      onFrame(frame, 0, frame.length);
      return 1;
    }
    const batch = this.copyOut(scanned);
    let at = 0;
    for (let i = 0; i < count; i++) {
      const length = (batch[at]! | (batch[at + 1]! << 8) | (batch[at + 2]! << 16) | (batch[at + 3]! << 24)) >>> 0;
      onFrame(batch, at + LENGTH_BYTES, at + LENGTH_BYTES + length);
      at += LENGTH_BYTES + length;
    }
    return count;
  }

  /** Gives consumed space back to the writer. */
  release(): void {
    if (Atomics.load(this.control, READ) >>> 0 === this.readPos) return;
    Atomics.store(this.control, READ, this.readPos | 0);
    Atomics.notify(this.control, READ);
  }

  /** True once the writer closed the ring and every frame was read. */
  get finished(): boolean {
    return this.closed && this.available() === 0 && this.partial === null;
  }

  /** Waits until new bytes are published, the ring closes, or `timeoutMs` passes. */
  async waitForData(timeoutMs = 1000): Promise<void> {
    const write = Atomics.load(this.control, WRITE);
    if (write >>> 0 !== this.readPos || this.closed) return;
    await waitChange(this.control, WRITE, write, timeoutMs);
  }

  private continuePartial(): Uint8Array | null {
    const partial = this.partial;
    if (!partial) return null;
    const chunk = Math.min(this.available(), partial.buffer.length - partial.filled);
    this.copyInto(partial.buffer, partial.filled, chunk);
    partial.filled += chunk;
    this.release(); // the writer is streaming: it needs the room back now
    if (partial.filled < partial.buffer.length) return null;
    this.partial = null;
    return partial.buffer;
  }

  private peekLength(ahead = 0): number {
    const at = (this.readPos + ahead) & this.mask;
    const b = this.bytes;
    const m = this.mask;
    return (b[at]! | (b[(at + 1) & m]! << 8) | (b[(at + 2) & m]! << 16) | (b[(at + 3) & m]! << 24)) >>> 0;
  }

  private peekByte(ahead: number): number {
    return this.bytes[(this.readPos + ahead) & this.mask]!;
  }

  private skip(length: number): void {
    this.readPos = (this.readPos + length) >>> 0;
  }

  private copyOut(length: number): Uint8Array {
    const out = new Uint8Array(length);
    this.copyInto(out, 0, length);
    return out;
  }

  private copyInto(target: Uint8Array, offset: number, length: number): void {
    const at = this.readPos & this.mask;
    const first = Math.min(length, this.capacity - at);
    target.set(this.bytes.subarray(at, at + first), offset);
    if (first < length) target.set(this.bytes.subarray(0, length - first), offset + first);
    this.skip(length);
  }
}
