/**
 * The producer Worker's side of an in-memory pipeline test: reads the output frames the pipeline wrote into its
 * producer ring and acknowledges (or refuses) them, as a producer would, without a broker.
 */
import type { Pipeline } from "../../src/pipeline/pipeline.ts";
import { RingReader } from "../../src/threads/byte-ring.ts";
import { decodeRecordAt, type DecodedRecord } from "../../src/threads/record-codec.ts";

export interface Out {
  readonly id: number;
  readonly frame: DecodedRecord;
  state: "open" | "delivered" | "rejected";
}

export class ProducerSide {
  readonly outputs: Out[] = [];
  private readonly reader: RingReader;

  constructor(
    private readonly pipeline: Pipeline,
    index = 0,
  ) {
    this.reader = new RingReader(pipeline.producerRings[index]!);
  }

  /** Every output frame the pipeline wrote so far (frames larger than the ring are assembled). */
  read(): void {
    for (;;) {
      const frames = this.reader.drainBatch(1 << 22, (batch, start) => {
        const frame = decodeRecordAt(batch, new DataView(batch.buffer, batch.byteOffset, batch.byteLength), start);
        this.outputs.push({ id: frame.ref, frame, state: "open" });
      });
      this.reader.release();
      if (frames === 0) return;
    }
  }

  to(topic: string): Out[] {
    return this.outputs.filter((o) => o.frame.topic === topic);
  }

  /** Acknowledges the open outputs `which` picks. */
  deliver(which: (o: Out) => boolean = () => true): number {
    this.read();
    const chosen = this.outputs.filter((o) => o.state === "open" && which(o));
    for (const o of chosen) o.state = "delivered";
    if (chosen.length > 0) this.pipeline.delivered(Uint32Array.from(chosen.map((o) => o.id)));
    return chosen.length;
  }

  /** Kafka refuses the open outputs `which` picks. */
  reject(which: (o: Out) => boolean, reason: string): number {
    this.read();
    const chosen = this.outputs.filter((o) => o.state === "open" && which(o));
    for (const o of chosen) {
      o.state = "rejected";
      this.pipeline.rejected(o.id, reason);
    }
    return chosen.length;
  }
}
