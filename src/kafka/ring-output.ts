/**
 * The consumer's side of its ring: record frames and assignment frames, in order. A frame that does not fit
 * waits (backpressure) and everything after it waits behind it.
 */
import { RingWriter, type RingBuffers } from "../threads/byte-ring.ts";
import { RecordEncoder } from "../threads/record-codec.ts";
import { wireRecord, type RawMessage } from "./message-fields.ts";
import type { AssignmentChange } from "../threads/messages.ts";

const textEncoder = new TextEncoder();

/** Wall-clock time with sub-millisecond resolution, comparable between the threads of a process. */
export function preciseNow(): number {
  return performance.timeOrigin + performance.now();
}

export class RingOutput {
  private readonly writer: RingWriter;
  private readonly encoder = new RecordEncoder();

  constructor(ring: RingBuffers) {
    this.writer = new RingWriter(ring);
  }

  /** A consumed record, tagged with the assignment epoch; a promise when it had to wait for space. */
  writeRecord(message: RawMessage, epoch: number): Promise<void> | undefined {
    return this.write(this.encoder.encode(wireRecord(message, epoch)));
  }

  /** Every partition owned from now on (epoch `epoch`), published at once. */
  writeAssignment(epoch: number, change: AssignmentChange): void {
    const frame = this.encoder.encode({
      ref: epoch,
      topic: "",
      kind: "assignment",
      partition: -1,
      offset: 0,
      // the claim's time: the main thread orders claims of one partition by consumers of this process with it
      timestamp: preciseNow(),
      key: null,
      value: textEncoder.encode(JSON.stringify(change)),
      headers: [],
    });
    void this.write(frame);
    this.writer.publish();
  }

  publish(): void {
    this.writer.publish();
  }

  /** Closes the ring once the writes still queued are in it. */
  close(): Promise<void> {
    return this.writer.close();
  }

  /**
   * Writes a frame now if it fits and nothing is waiting; otherwise the ring queues a copy behind the waiting
   * writes (the encoder's buffer is reused; the ring keeps frames whole and in order) and the promise says when
   * it is in (and published).
   */
  private write(frame: Uint8Array): Promise<void> | undefined {
    if (this.writer.tryWrite(frame)) return undefined;
    return this.writer.write(frame.slice());
  }
}
