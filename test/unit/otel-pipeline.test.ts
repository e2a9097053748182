/**
 * Where the pipeline tells span export about a record (RecordTracing), without a broker or the SDK: the span begins
 * before the first handler run, and ends once the outcome is known — produced when Kafka has acknowledged the
 * outputs, filtered at once, dead-lettered (with the reason first) when the copy is in.
 */
import { describe, expect, test } from "bun:test";
import { Pipeline } from "../../src/pipeline/pipeline.ts";
import { createRing, RingWriter } from "../../src/threads/byte-ring.ts";
import { RecordEncoder } from "../../src/threads/record-codec.ts";
import { createLogger } from "../../src/observability/logger.ts";
import { PermanentError, type Handler, type InputRecord } from "../../src/handlers/types.ts";
import type { RecordOutcomeName, RecordTracing } from "../../src/observability/otel/record-tracing.ts";
import type { DeadLetterKind } from "../../src/pipeline/dead-letter.ts";
import { assignmentFrame } from "../support/frames.ts";
import { tick } from "../support/async.ts";
import { ProducerSide } from "../support/producer-side.ts";
import { pipelineSettings } from "../support/pipeline-settings.ts";

const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();
const log = createLogger("silent");

const SETTINGS = pipelineSettings();

/** Every call the pipeline makes, as text: "begin 1", "dead-lettered 1 permanent", "end 1 produced attempt=1". */
class RecordingTracing implements RecordTracing {
  readonly calls: string[] = [];
  begin(input: InputRecord): void {
    this.calls.push(`begin ${input.offset}`);
  }
  deadLettered(input: InputRecord, kind: DeadLetterKind, reason: string): void {
    this.calls.push(`dead-lettered ${input.offset} ${kind} ${reason}`);
  }
  end(input: InputRecord, outcome: RecordOutcomeName): void {
    this.calls.push(`end ${input.offset} ${outcome} attempt=${input.attempt}`);
  }
}

async function rig(handler: Handler) {
  const tracing = new RecordingTracing();
  const pipeline = new Pipeline(SETTINGS, handler, log, undefined, tracing);
  const producer = new ProducerSide(pipeline);
  const ring = createRing(64 * 1024);
  const writer = new RingWriter(ring);
  pipeline.attachConsumer(0, ring);
  const encoder = new RecordEncoder();
  const write = async (frames: Parameters<RecordEncoder["encode"]>[0][]) => {
    const writes = frames.map((frame) => writer.write(encoder.encode(frame).slice()));
    writer.publish();
    await Promise.all(writes);
    writer.publish();
  };
  await write([assignmentFrame(1, "in", [0], 1)]);
  const send = (offset: number, value: string) =>
    write([
      {
        kind: "record",
        ref: 1,
        topic: "in",
        partition: 0,
        offset,
        timestamp: 0,
        key: utf8.encode(`k${offset}`),
        value: utf8.encode(value),
        headers: [],
      },
    ]);
  const until = async (condition: () => boolean, what: string) => {
    for (let i = 0; i < 2000; i++) {
      producer.read();
      if (condition()) return;
      await tick();
    }
    throw new Error(`${what}: not reached; calls ${JSON.stringify(tracing.calls)}`);
  };
  return { tracing, producer, send, until };
}

describe("pipeline → span export", () => {
  test("the span begins before the handler runs and ends as produced only once Kafka acknowledged the output", async () => {
    let seenBeforeHandler: string[] = [];
    const r = await rig((record) => {
      seenBeforeHandler = [...r.tracing.calls];
      return { value: record.value };
    });
    await r.send(1, "a");
    await r.until(() => r.producer.outputs.length === 1, "output written");
    expect(seenBeforeHandler).toEqual(["begin 1"]);
    expect(r.tracing.calls).toEqual(["begin 1"]); // written, not yet acknowledged
    r.producer.deliver();
    expect(r.tracing.calls).toEqual(["begin 1", "end 1 produced attempt=1"]);
  });

  test("filtered: ends at once", async () => {
    const r = await rig(() => null);
    await r.send(1, "a");
    await r.until(() => r.tracing.calls.length === 2, "ended");
    expect(r.tracing.calls).toEqual(["begin 1", "end 1 filtered attempt=1"]);
  });

  test("retried: one span over all attempts, ended with the last attempt's number", async () => {
    const r = await rig((record) => {
      if (record.attempt < 3) throw new Error("not yet");
      return { value: record.value };
    });
    await r.send(1, "a");
    await r.until(() => r.producer.outputs.length === 1, "output written");
    r.producer.deliver();
    expect(r.tracing.calls.filter((c) => c.startsWith("end"))).toEqual(["end 1 produced attempt=3"]);
  });

  test("dead-lettered by the handler: the reason first, the end once the copy is in", async () => {
    const r = await rig(() => {
      throw new PermanentError("no way");
    });
    await r.send(1, "a");
    await r.until(() => r.producer.to("out.dlq").length === 1, "copy written");
    expect(r.tracing.calls).toEqual(["begin 1", "dead-lettered 1 permanent PermanentError: no way"]);
    r.producer.deliver();
    expect(r.tracing.calls.at(-1)).toBe("end 1 dead-lettered attempt=1");
  });

  test("an output Kafka refuses: dead-lettered as output-refused, ended when the copy is in", async () => {
    const r = await rig((record) => ({ value: record.value }));
    await r.send(1, "a");
    await r.until(() => r.producer.outputs.length === 1, "output written");
    r.producer.reject(() => true, "MESSAGE_TOO_LARGE");
    await r.until(() => r.producer.to("out.dlq").length === 1, "copy written");
    expect(r.tracing.calls).toEqual(["begin 1", "dead-lettered 1 output-refused output refused by Kafka: MESSAGE_TOO_LARGE"]);
    r.producer.deliver();
    expect(r.tracing.calls.at(-1)).toBe("end 1 dead-lettered attempt=1");
    expect(fromUtf8.decode(r.producer.to("out.dlq")[0]!.frame.value!)).toBe("a");
  });
});
