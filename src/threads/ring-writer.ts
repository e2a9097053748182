/** The writing side of a byte ring (see ring-layout.ts for the layout and the threading rules). */
import { CLOSED, LENGTH_BYTES, READ, RingClosedError, RingSide, WRITE, waitChange, type RingBuffers } from "./ring-layout.ts";

/** A `write()` waiting its turn (or in progress, at the head of the queue). */
interface QueuedWrite {
  readonly payload: Uint8Array;
  readonly resolve: () => void;
  readonly reject: (error: Error) => void;
}

const RESOLVED: Promise<void> = Promise.resolve();

/**
 * The producing side. One RingWriter may be shared by many async callers in its thread: frames go into the ring
 * whole and in call order. A `write()` that cannot complete at once is queued (FIFO) and written by a single
 * loop, which waits for space and streams oversized frames in chunks; while anything is queued, `tryWrite()`
 * refuses and later `write()`s queue behind it, so no frame can land between another frame's chunks.
 */
export class RingWriter extends RingSide {
  private writePos: number;
  /** Writes not yet in the ring, oldest first; `queue[queueHead]` is the one being written. */
  private readonly queue: (QueuedWrite | undefined)[] = [];
  private queueHead = 0;
  private queued = 0;
  /** `close()` was called: no new frames are taken; CLOSED is set once the queue is written. */
  private closing = false;
  private closeWaiter: { promise: Promise<void>; resolve: () => void } | null = null;

  constructor(buffers: RingBuffers) {
    super(buffers);
    this.writePos = Atomics.load(this.control, WRITE) >>> 0;
  }

  /** Bytes that can be written now without waiting (including unpublished writes). */
  free(): number {
    return this.capacity - this.used(this.writePos, Atomics.load(this.control, READ));
  }

  /** True while a `write()` is queued or in progress: `tryWrite()` refuses until it is in the ring. */
  get busy(): boolean {
    return this.queued !== 0;
  }

  /**
   * Appends a whole frame if it fits now and no `write()` is queued; it becomes visible to the reader on
   * `publish()`. False when it does not fit, when writes are queued (they go first), or once `close()` was
   * called. The payload is copied before this returns.
   */
  tryWrite(payload: Uint8Array): boolean {
    if (this.queued !== 0 || this.closing) return false;
    return this.writeNow(payload);
  }

  /** Makes every written byte visible and wakes the reader. */
  publish(): void {
    if (Atomics.load(this.control, WRITE) >>> 0 === this.writePos) return;
    Atomics.store(this.control, WRITE, this.writePos | 0);
    Atomics.notify(this.control, WRITE);
  }

  /**
   * Writes a frame of any size after every earlier queued write, waiting for the reader to make room as often
   * as needed. Resolves once the whole frame is in the ring. A frame written at once (it fits and nothing is
   * queued) becomes visible on the next `publish()`, like `tryWrite()`; a frame that had to wait is published
   * by the time its promise resolves (one larger than the ring is published chunk by chunk as it streams).
   * Rejects with `RingClosedError` after `close()`, or if the ring is closed while the frame waits.
   *
   * The ring keeps a reference to `payload` until the returned promise settles: the caller must not change it
   * before then (callers reusing an encoder buffer pass a copy). When the frame fits and nothing is queued it
   * is written before this returns, without allocating.
   */
  write(payload: Uint8Array): Promise<void> {
    if (this.queued === 0 && !this.closing && this.writeNow(payload)) return RESOLVED;
    if (this.closing || this.closed) return Promise.reject(new RingClosedError("ring writer is closed: frame not written"));
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ payload, resolve, reject });
      if (++this.queued === 1) void this.writeQueued();
    });
  }

  /** Publishes pending bytes, then waits until at least `bytes` (at most the capacity) are free, or the ring is closed. */
  async waitForSpace(bytes: number, timeoutMs = 1000): Promise<void> {
    const wanted = Math.min(bytes, this.capacity);
    this.publish();
    for (;;) {
      const read = Atomics.load(this.control, READ);
      if (this.capacity - this.used(this.writePos, read) >= wanted || this.closed) return;
      await waitChange(this.control, READ, read, timeoutMs);
    }
  }

  /**
   * Tells the reader no more frames will come (it finishes after draining what is there). New writes are
   * refused at once; writes already queued are still written, in order, and CLOSED is set after the last of
   * them (so the reader must keep reading). The promise resolves when CLOSED is set — at once if nothing is
   * queued.
   */
  close(): Promise<void> {
    this.closing = true;
    if (this.queued === 0) {
      this.finishClose();
      return RESOLVED;
    }
    this.publish();
    if (this.closeWaiter === null) {
      let resolve!: () => void;
      const promise = new Promise<void>((done) => (resolve = done));
      this.closeWaiter = { promise, resolve };
    }
    return this.closeWaiter.promise;
  }

  private finishClose(): void {
    this.publish();
    Atomics.store(this.control, CLOSED, 1);
    Atomics.notify(this.control, WRITE);
    Atomics.notify(this.control, READ);
    const waiter = this.closeWaiter;
    this.closeWaiter = null;
    waiter?.resolve();
  }

  /** The one loop that writes queued frames, oldest first; runs while `queued > 0`. */
  private async writeQueued(): Promise<void> {
    while (this.queued !== 0) {
      const entry = this.queue[this.queueHead]!;
      try {
        if (!this.writeNow(entry.payload)) await this.writeWaiting(entry.payload);
      } catch (error) {
        this.failQueued(error instanceof Error ? error : new Error(String(error)));
        return;
      }
      this.publish(); // the reader may be waiting for exactly this frame; the slow path can afford it
      this.queue[this.queueHead++] = undefined;
      this.queued--;
      if (this.queued === 0) {
        this.queue.length = 0;
        this.queueHead = 0;
      } else if (this.queueHead >= 1024 && this.queueHead * 2 >= this.queue.length) {
        this.queue.splice(0, this.queueHead);
        this.queueHead = 0;
      }
      entry.resolve();
    }
    if (this.closing) this.finishClose();
  }

  /** Writes a frame that did not fit at once, waiting for room; a frame larger than the ring goes in chunks. */
  private async writeWaiting(payload: Uint8Array): Promise<void> {
    const need = LENGTH_BYTES + payload.length;
    if (need <= this.capacity) {
      await this.waitForRoom(need);
      if (!this.writeNow(payload)) throw new Error("ring writer: room vanished while waiting"); // cannot happen: only this side fills
      return;
    }
    await this.waitForRoom(LENGTH_BYTES);
    this.putLength(payload.length);
    let done = 0;
    while (done < payload.length) {
      let room = this.free();
      if (room === 0) {
        await this.waitForRoom(1);
        room = this.free();
      }
      const chunk = Math.min(room, payload.length - done);
      this.copyIn(payload, done, chunk);
      done += chunk;
      this.publish();
    }
  }

  /** Waits until `bytes` are free; throws if the ring is closed meanwhile (never spins on a closed ring). */
  private async waitForRoom(bytes: number): Promise<void> {
    while (this.free() < bytes) {
      if (this.closed) throw new RingClosedError("ring closed while a write waited for space: frame not written");
      await this.waitForSpace(bytes);
    }
  }

  /** The ring was closed under the queue (by another writer on the same buffers): every queued write fails. */
  private failQueued(error: Error): void {
    const failed = this.queue.slice(this.queueHead);
    this.queue.length = 0;
    this.queueHead = 0;
    this.queued = 0;
    for (const entry of failed) entry?.reject(error);
    if (this.closing) this.finishClose();
  }

  private writeNow(payload: Uint8Array): boolean {
    if (LENGTH_BYTES + payload.length > this.free()) return false;
    this.putLength(payload.length);
    this.copyIn(payload, 0, payload.length);
    return true;
  }

  private putLength(length: number): void {
    const b = this.bytes;
    const m = this.mask;
    const at = this.writePos & m;
    b[at] = length;
    b[(at + 1) & m] = length >>> 8;
    b[(at + 2) & m] = length >>> 16;
    b[(at + 3) & m] = length >>> 24;
    this.writePos = (this.writePos + LENGTH_BYTES) >>> 0;
  }

  private copyIn(source: Uint8Array, from: number, length: number): void {
    const at = this.writePos & this.mask;
    const first = Math.min(length, this.capacity - at);
    this.bytes.set(source.subarray(from, from + first), at);
    if (first < length) this.bytes.set(source.subarray(from + first, from + length), 0);
    this.writePos = (this.writePos + length) >>> 0;
  }
}
