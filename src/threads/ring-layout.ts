/**
 * Single-producer single-consumer byte ring over SharedArrayBuffer.
 *
 * Frames are `u32 length` + payload and may wrap around the end of the data area. A frame larger than the
 * whole ring is streamed through it in chunks, so no record size is ever refused. Positions are free-running
 * u32 byte counters; `write - read` is the number of unread bytes.
 *
 * One thread writes and one reads, but the writing thread may share its RingWriter among many async callers:
 * the writer queues whatever cannot go in at once, so frames stay whole and in call order (see RingWriter).
 *
 * Waiting uses `Atomics.waitAsync` only: `Atomics.wait` would freeze a Worker's sockets.
 */

export const WRITE = 0;
export const READ = 16; // separate cache lines so the two sides do not false-share
export const CLOSED = 32;
export const CONTROL_INTS = 48;
export const LENGTH_BYTES = 4;

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
export function waitChange(control: Int32Array, index: number, expected: number, timeoutMs: number): Promise<void> {
  const result = Atomics.waitAsync(control, index, expected, timeoutMs);
  return result.async ? result.value.then(() => undefined) : Promise.resolve();
}

export class RingSide {
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

/** Raised by `RingWriter.write()` once the ring is closed (or closing): the frame was not written. */
export class RingClosedError extends Error {
  override readonly name = "RingClosedError";
}
