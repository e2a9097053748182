/**
 * Single-producer single-consumer byte ring over SharedArrayBuffer.
 *
 * Frames are `u32 length` + payload and may wrap around the end of the data area. A frame larger than the
 * whole ring is streamed through it in chunks, so no record size is ever refused. Positions are free-running
 * u32 byte counters; `write - read` is the number of unread bytes.
 *
 * Waiting uses `Atomics.waitAsync` only: `Atomics.wait` would freeze a Worker's sockets.
 */

const WRITE = 0;
const READ = 16; // separate cache lines so the two sides do not false-share
const CLOSED = 32;
const CONTROL_INTS = 48;
const LENGTH_BYTES = 4;

export interface RingBuffers {
  readonly control: SharedArrayBuffer;
  readonly data: SharedArrayBuffer;
}

export function createRing(capacityBytes: number): RingBuffers {
  if (!Number.isInteger(capacityBytes) || capacityBytes < 64 || (capacityBytes & (capacityBytes - 1)) !== 0) {
    throw new RangeError(`ring capacity must be a power of two >= 64 bytes, got ${capacityBytes}`);
  }
  return {
    control: new SharedArrayBuffer(CONTROL_INTS * Int32Array.BYTES_PER_ELEMENT),
    data: new SharedArrayBuffer(capacityBytes),
  };
}

/** Published, unread bytes of a ring, readable from any thread (for metrics). */
export function ringUsage(buffers: RingBuffers): { used: number; capacity: number } {
  const control = new Int32Array(buffers.control);
  const used = (Atomics.load(control, WRITE) - Atomics.load(control, READ)) >>> 0;
  return { used, capacity: buffers.data.byteLength };
}

/** Resolves when `control[index]` is no longer `expected`, or after `timeoutMs`. */
function waitChange(control: Int32Array, index: number, expected: number, timeoutMs: number): Promise<void> {
  const result = Atomics.waitAsync(control, index, expected, timeoutMs);
  return result.async ? result.value.then(() => undefined) : Promise.resolve();
}

class RingSide {
  protected readonly control: Int32Array;
  protected readonly bytes: Uint8Array;
  protected readonly mask: number;
  readonly capacity: number;

  constructor(buffers: RingBuffers) {
    this.control = new Int32Array(buffers.control);
    this.bytes = new Uint8Array(buffers.data);
    this.capacity = this.bytes.length;
    this.mask = this.capacity - 1;
  }

  /** Unread bytes as seen by a side (u32 arithmetic). */
  protected used(write: number, read: number): number {
    return (write - read) >>> 0;
  }

  get closed(): boolean {
    return Atomics.load(this.control, CLOSED) === 1;
  }
}

export class RingWriter extends RingSide {
  private writePos: number;
  private readonly lengthScratch = new Uint8Array(LENGTH_BYTES);

  constructor(buffers: RingBuffers) {
    super(buffers);
    this.writePos = Atomics.load(this.control, WRITE) >>> 0;
  }

  /** Bytes that can be written now without waiting (including unpublished writes). */
  free(): number {
    return this.capacity - this.used(this.writePos, Atomics.load(this.control, READ));
  }

  /** Appends a whole frame if it fits now; it becomes visible to the reader on `publish()`. */
  tryWrite(payload: Uint8Array): boolean {
    const need = LENGTH_BYTES + payload.length;
    if (need > this.free()) return false;
    this.putLength(payload.length);
    this.copyIn(payload, 0, payload.length);
    return true;
  }

  /** Makes every written byte visible and wakes the reader. */
  publish(): void {
    if ((Atomics.load(this.control, WRITE) >>> 0) === this.writePos) return;
    Atomics.store(this.control, WRITE, this.writePos | 0);
    Atomics.notify(this.control, WRITE);
  }

  /** Writes a frame of any size, waiting for the reader to make room as often as needed. */
  async write(payload: Uint8Array): Promise<void> {
    if (this.tryWrite(payload)) return;
    const need = LENGTH_BYTES + payload.length;
    if (need <= this.capacity) {
      while (!this.tryWrite(payload)) await this.waitForSpace(need);
      return;
    }
    // Oversized: stream the frame through the ring in chunks.
    await this.waitForSpace(LENGTH_BYTES);
    this.putLength(payload.length);
    let done = 0;
    while (done < payload.length) {
      let room = this.free();
      if (room === 0) {
        await this.waitForSpace(1);
        room = this.free();
      }
      const chunk = Math.min(room, payload.length - done);
      this.copyIn(payload, done, chunk);
      done += chunk;
      this.publish();
    }
  }

  /** Publishes pending bytes, then waits until at least `bytes` are free (or the ring is closed). */
  async waitForSpace(bytes: number, timeoutMs = 1000): Promise<void> {
    this.publish();
    for (;;) {
      const read = Atomics.load(this.control, READ);
      if (this.capacity - this.used(this.writePos, read) >= bytes || this.closed) return;
      await waitChange(this.control, READ, read, timeoutMs);
    }
  }

  /** Tells the reader no more frames will come (after it drains what is there). */
  close(): void {
    this.publish();
    Atomics.store(this.control, CLOSED, 1);
    Atomics.notify(this.control, WRITE);
    Atomics.notify(this.control, READ);
  }

  private putLength(length: number): void {
    new DataView(this.lengthScratch.buffer).setUint32(0, length, true);
    this.copyIn(this.lengthScratch, 0, LENGTH_BYTES);
  }

  private copyIn(source: Uint8Array, from: number, length: number): void {
    const at = this.writePos & this.mask;
    const first = Math.min(length, this.capacity - at);
    this.bytes.set(source.subarray(from, from + first), at);
    if (first < length) this.bytes.set(source.subarray(from + first, from + length), 0);
    this.writePos = (this.writePos + length) >>> 0;
  }
}

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
   * Returns the number of frames. Call `release()` afterwards.
   */
  drainBatch(maxBytes: number, onFrame: (batch: Uint8Array, start: number, end: number) => void): number {
    const available = this.partial ? 0 : this.available();
    let scanned = 0;
    let count = 0;
    while (scanned + LENGTH_BYTES <= available && scanned < maxBytes) {
      const length = this.peekLength(scanned);
      if (LENGTH_BYTES + length > this.capacity || scanned + LENGTH_BYTES + length > available) break;
      scanned += LENGTH_BYTES + length;
      count++;
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
    if ((Atomics.load(this.control, READ) >>> 0) === this.readPos) return;
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
    if ((write >>> 0) !== this.readPos || this.closed) return;
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
