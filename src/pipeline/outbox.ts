/**
 * Records out: outputs are framed under delivery ids into the producer rings, and a record is complete once
 * every one of its ids is acknowledged. An output Kafka refuses is replaced by a dead-letter copy of the input;
 * a refused copy by a stub without the input's value and headers; a refused stub is fatal.
 *
 * Exactly-once mode: a record's outputs all go to the producer of its input partition (one transaction holds
 * them and the partition's offsets), written in one go; `endTransaction` puts a control frame behind them. A
 * refusal cannot be mended inside the transaction (it is aborted): it is remembered, and when the record comes
 * round again its dead-letter copy (or stub) goes in place of what was refused.
 */
import { createRing, RingWriter, type RingBuffers } from "../threads/byte-ring.ts";
import type { TransactionControl, TransactionOutcome } from "../threads/messages.ts";
import { RecordEncoder } from "../threads/record-codec.ts";
import type { Ticket } from "../offsets/offset-tracker.ts";
import { errorText, type ResolvedOutput } from "../handlers/run-handler.ts";
import type { InputRecord } from "../handlers/types.ts";
import type { Logger } from "../observability/logger.ts";
import type { RecordTracing } from "../observability/otel/record-tracing.ts";
import { deadLetter, deadLetterStub, type DeadLetterKind } from "./dead-letter.ts";
import { logSafe, type PipelineObserver, type PipelineSettings, type PipelineStats } from "./types.ts";

/** A dead-letter copy in flight: if Kafka refuses it too, what to send instead (or nothing left: fatal). */
export interface DeadLetterCopy {
  readonly stub: boolean;
  readonly reason: string;
  readonly kind: DeadLetterKind;
}

/** Exactly-once mode: a finished record's frames, waiting for its turn in its partition. */
export interface PreparedRecord {
  readonly pending: PendingDelivery;
  readonly ids: readonly number[];
  readonly frames: readonly Uint8Array[];
  readonly deadLetterCopy: DeadLetterCopy | undefined;
}

/** What the outbox tells the rest of the pipeline. */
export interface OutboxEvents {
  /** Every output of the record behind `ticket` is in Kafka (or stood for by its dead-letter copy). */
  complete(ticket: Ticket): void;
  /** Acknowledgements or refusals were handled: commit points may have moved. */
  progressed(): void;
}

interface PendingDelivery {
  readonly ticket: Ticket;
  remaining: number;
  /** Kept until Kafka has every output: an output it refuses turns into a dead-letter copy of this input. */
  readonly input: InputRecord;
  /** An output was refused and the record's input is on its way to the dead-letter topic (once per record). */
  deadLettered: boolean;
  /** Writing its outputs failed half way (an internal error): the record runs again, these deliveries do not count. */
  abandoned: boolean;
}

/** A record's outputs on their way: none delivered yet. */
const newPending = (ticket: Ticket, input: InputRecord, outputs: number, deadLetterCopy: DeadLetterCopy | undefined): PendingDelivery => ({
  ticket,
  remaining: outputs,
  input,
  deadLettered: deadLetterCopy !== undefined,
  abandoned: false,
});

export type OutboxSettings = Pick<PipelineSettings, "producers" | "ringBytes" | "dlqTopic" | "guarantee">;

/** Refusals remembered for the replay after the abort, at most this many (the oldest go first). */
const MAX_REMEMBERED_REFUSALS = 100_000;

const positionOf = (input: InputRecord): string => `${input.topic}\u0000${input.partition}\u0000${input.offset}`;

const textEncoder = new TextEncoder();

function hashString(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) hash = Math.imul(hash ^ text.charCodeAt(i), 0x01000193);
  return hash >>> 0;
}

export class Outbox {
  readonly producerRings: RingBuffers[];
  private readonly writers: RingWriter[];
  private readonly encoder = new RecordEncoder();
  private readonly deliveries = new Map<number, PendingDelivery>();
  /** Delivery ids of dead-letter copies: if Kafka refuses one, a stub goes instead; if that too, nowhere is left. */
  private readonly deadLetterIds = new Map<number, DeadLetterCopy>();
  private nextDeliveryId = 1;
  private publishQueued = false;
  private readonly exactlyOnce: boolean;
  /** Exactly-once mode: inputs whose outputs (or dead-letter copy: `stub`) Kafka refused, by position. */
  private readonly refusals = new Map<string, DeadLetterCopy>();
  private readonly transactionEnds = new Map<number, (outcome: TransactionOutcome) => void>();
  private nextControlRef = 1;

  constructor(
    private readonly settings: OutboxSettings,
    private readonly stats: PipelineStats,
    private readonly log: Logger,
    private readonly observer: Pick<PipelineObserver, "fatal">,
    private readonly events: OutboxEvents,
    /** Span export (--otel-endpoint): a record's span ends when Kafka has all its outputs. Null when off. */
    private readonly tracing: RecordTracing | null = null,
  ) {
    this.producerRings = Array.from({ length: settings.producers }, () => createRing(settings.ringBytes));
    this.writers = this.producerRings.map((ring) => new RingWriter(ring));
    this.exactlyOnce = settings.guarantee === "exactly-once";
  }

  /** Exactly-once mode: the producer holding the transaction of this input partition. */
  producerOfPartition(partitionKey: string): number {
    return this.producerFor(partitionKey);
  }

  /**
   * Exactly-once mode: ends producer `index`'s transaction at this point of its ring (everything written before
   * is in it, nothing after) and resolves with how it came out.
   */
  endTransaction(index: number, control: TransactionControl): Promise<TransactionOutcome> {
    const ref = this.nextControlRef++;
    const frame = this.encoder
      .encode({
        kind: "control",
        ref,
        topic: "",
        partition: -1,
        offset: 0,
        timestamp: 0,
        key: null,
        value: textEncoder.encode(JSON.stringify(control)),
        headers: [],
      })
      .slice();
    const ended = new Promise<TransactionOutcome>((resolve) => this.transactionEnds.set(ref, resolve));
    const writer = this.writers[index]!;
    writer.write(frame).then(
      () => writer.publish(),
      (error: unknown) =>
        this.transactionEnded(ref, { committed: false, failure: { kind: "internal", message: errorText(error), retriable: false } }),
    );
    writer.publish();
    return ended;
  }

  /** A producer reported the end of a transaction. */
  transactionEnded(ref: number, outcome: TransactionOutcome): void {
    const resolve = this.transactionEnds.get(ref);
    this.transactionEnds.delete(ref);
    resolve?.(outcome);
  }

  /** Exactly-once mode, after an abort: outputs not yet acknowledged will never count. */
  forgetDeliveries(): void {
    if (this.tracing !== null) for (const pending of new Set(this.deliveries.values())) this.tracing.end(pending.input, "aborted");
    this.deliveries.clear();
    this.deadLetterIds.clear();
    this.events.progressed();
  }

  /** Outputs written and not yet acknowledged. */
  get pending(): number {
    return this.deliveries.size;
  }

  /**
   * Hands a record's outputs to the producer ring `route` picks (same route, same producer: order survives the
   * hop to Kafka). Synchronous while the ring has room. If framing one fails (an internal error, thrown on) the
   * outputs already written are delivered but do not count: the record runs again.
   */
  emit(
    ticket: Ticket,
    input: InputRecord,
    route: string,
    outputs: readonly ResolvedOutput[],
    deadLetterCopy?: DeadLetterCopy,
  ): void | Promise<void> {
    if (outputs.length === 0) {
      this.events.complete(ticket);
      this.tracing?.end(input, "filtered");
      return;
    }
    const pending = newPending(ticket, input, outputs.length, deadLetterCopy);
    const writer = this.writers[this.producerFor(route)]!;
    this.queuePublish();
    for (let i = 0; i < outputs.length; i++) {
      const frame = this.framed(outputs[i]!, pending, deadLetterCopy);
      // Ring full (or a large frame still streaming): wait for the producer, copying the frame first (the
      // encoder's buffer is reused).
      if (!writer.tryWrite(frame)) return this.emitSlowly(writer, frame.slice(), outputs, i + 1, pending, deadLetterCopy);
    }
  }

  /**
   * Exactly-once mode, step one (when the record finishes): its outputs framed, or its dead-letter copy if its
   * outputs were refused before. Throws (an internal error) before anything is written. Null: nothing to write.
   */
  prepare(ticket: Ticket, input: InputRecord, outputs: readonly ResolvedOutput[], deadLetterCopy?: DeadLetterCopy): PreparedRecord | null {
    const refusal = this.refusals.get(positionOf(input));
    if (refusal !== undefined) {
      deadLetterCopy = refusal;
      outputs = [
        refusal.stub
          ? deadLetterStub(input, this.settings.dlqTopic, refusal.reason, input.attempt, refusal.kind)
          : deadLetter(input, this.settings.dlqTopic, refusal.reason, input.attempt, refusal.kind),
      ];
      this.stats.deadLettered++;
      this.tracing?.deadLettered(input, refusal.kind, refusal.reason);
    }
    if (outputs.length === 0) return null;
    const pending = newPending(ticket, input, outputs.length, deadLetterCopy);
    const ids: number[] = [];
    const frames = outputs.map((output) => {
      const frame = this.encodeFrame(output).slice();
      ids.push(frame.id);
      return frame.bytes;
    });
    return { pending, ids, frames, deadLetterCopy };
  }

  /**
   * Exactly-once mode, step two (when its turn in the partition comes, see ReleaseGate): every frame is queued on
   * the producer of the record's partition before this returns, so a control frame written later lands behind
   * them all. A promise when the ring was full.
   */
  write(prepared: PreparedRecord): void | Promise<void> {
    const { pending, ids, frames, deadLetterCopy } = prepared;
    for (const id of ids) {
      this.deliveries.set(id, pending);
      if (deadLetterCopy !== undefined) this.deadLetterIds.set(id, deadLetterCopy);
    }
    const writer = this.writers[this.producerFor(pending.ticket.partitionKey)]!;
    let queued: Promise<void> | undefined;
    for (const frame of frames) if (!writer.tryWrite(frame)) queued = writer.write(frame);
    this.queuePublish();
    return queued;
  }

  /** Producer acknowledgements: each id is one output now safely in Kafka. */
  delivered(ids: Uint32Array): void {
    for (const id of ids) {
      const pending = this.deliveries.get(id);
      if (!pending) continue;
      this.deliveries.delete(id);
      this.deadLetterIds.delete(id);
      this.stats.produced++;
      if (--pending.remaining === 0 && !pending.abandoned) {
        this.events.complete(pending.ticket);
        this.tracing?.end(pending.input, pending.deadLettered ? "dead-lettered" : "produced");
      }
    }
    this.events.progressed();
  }

  /**
   * Kafka refused one output for good (its size, or its topic): the record's input goes to the dead-letter topic in its
   * place, and the record completes when that copy is in. A refused stub is fatal: nothing of the record could
   * be stored, so its offset must never be committed.
   */
  rejected(id: number, reason: string): void {
    const pending = this.deliveries.get(id);
    if (!pending) return;
    this.deliveries.delete(id);
    const copyOf = this.deadLetterIds.get(id);
    this.deadLetterIds.delete(id);
    const { input } = pending;
    const { topic, partition, offset } = input;
    if (this.exactlyOnce && copyOf?.stub !== true) {
      this.rememberRefusal(input, reason, copyOf);
      return;
    }
    if (copyOf?.stub === true) {
      this.observer.fatal(
        `the dead-letter copy of ${topic}/${partition}@${offset} was refused even without its value and headers (${reason}); check the dead-letter topic ${this.settings.dlqTopic}`,
      );
      return;
    }
    let copy: ResolvedOutput;
    let copyKind: DeadLetterCopy;
    if (copyOf !== undefined) {
      // The input itself is too large for the dead-letter topic: send the reasons and where to find it.
      const why = `${copyOf.reason}; the full dead-letter copy was refused too (${reason})`;
      this.log.warn("dead-letter copy refused; sending it without the record's value and headers", {
        topic,
        partition,
        offset,
        error: logSafe(why),
      });
      copy = deadLetterStub(input, this.settings.dlqTopic, why, input.attempt, copyOf.kind);
      copyKind = { stub: true, reason: why, kind: copyOf.kind };
      this.tracing?.deadLettered(input, copyOf.kind, why);
    } else if (pending.deadLettered || pending.abandoned) {
      // Another output of this record was refused already (its dead-letter copy stands for the record), or the
      // record runs again: this one is simply not coming.
      if (--pending.remaining === 0 && !pending.abandoned) {
        this.events.complete(pending.ticket);
        this.tracing?.end(input, "dead-lettered");
      }
      this.events.progressed();
      return;
    } else {
      const why = `output refused by Kafka: ${reason}`;
      pending.deadLettered = true;
      this.log.warn("record sent to the dead-letter topic", {
        topic,
        partition,
        offset,
        error: logSafe(why),
        dlqTopic: this.settings.dlqTopic,
      });
      this.stats.deadLettered++;
      copy = deadLetter(input, this.settings.dlqTopic, why, input.attempt, "output-refused");
      copyKind = { stub: false, reason: why, kind: "output-refused" };
      this.tracing?.deadLettered(input, "output-refused", why);
    }
    let frame: Uint8Array;
    try {
      frame = this.encodeOutput(copy, pending, copyKind).slice();
    } catch (error) {
      this.observer.fatal(`cannot write the dead-letter copy of ${topic}/${partition}@${offset}: ${errorText(error)}`);
      return;
    }
    const writer = this.writers[0]!;
    writer.write(frame).then(
      () => writer.publish(),
      // only after a shutdown that timed out closed the rings: the record stays uncommitted
      (error: unknown) => this.log.warn("dead-letter copy not written", { topic, partition, offset, error: errorText(error) }),
    );
  }

  /** Exactly-once mode: the transaction is aborted; the replay of this record sends its dead-letter copy (or stub). */
  private rememberRefusal(input: InputRecord, reason: string, copyOf: DeadLetterCopy | undefined): void {
    const key = positionOf(input);
    const refusal: DeadLetterCopy =
      copyOf === undefined
        ? { stub: false, reason: `output refused by Kafka: ${reason}`, kind: "output-refused" }
        : { stub: true, reason: `${copyOf.reason}; the full dead-letter copy was refused too (${reason})`, kind: copyOf.kind };
    this.log.warn(
      "Kafka refused an output: the transaction is aborted, and the record goes to the dead-letter topic when it comes round again",
      {
        topic: input.topic,
        partition: input.partition,
        offset: input.offset,
        error: logSafe(refusal.reason),
      },
    );
    if (this.refusals.size >= MAX_REMEMBERED_REFUSALS) this.refusals.delete(this.refusals.keys().next().value!);
    this.refusals.set(key, refusal);
  }

  /** Lets the producer Workers finish: they exit after delivering what is in their rings. */
  close(): void {
    for (const writer of this.writers) void writer.close();
  }

  /** `encodeOutput`, giving up the record's pending delivery if it throws. */
  private framed(output: ResolvedOutput, pending: PendingDelivery, deadLetterCopy: DeadLetterCopy | undefined): Uint8Array {
    try {
      return this.encodeOutput(output, pending, deadLetterCopy);
    } catch (error) {
      this.abandon(pending);
      throw error;
    }
  }

  /** A record's outputs could not all be written: those that were no longer count (it runs again). */
  private abandon(pending: PendingDelivery): void {
    pending.abandoned = true;
    for (const [id, other] of this.deliveries) {
      if (other !== pending) continue;
      this.deliveries.delete(id);
      this.deadLetterIds.delete(id);
    }
  }

  /**
   * Frames an output under a new delivery id; valid until the next call (the encoder's buffer is reused). The id
   * is registered only once the frame exists: an output that cannot be framed leaves nothing waiting.
   */
  private encodeOutput(output: ResolvedOutput, pending: PendingDelivery, deadLetterCopy?: DeadLetterCopy): Uint8Array {
    const { id, bytes } = this.encodeFrame(output);
    this.deliveries.set(id, pending);
    if (deadLetterCopy !== undefined) this.deadLetterIds.set(id, deadLetterCopy);
    return bytes;
  }

  /** Frames an output under the next delivery id (nothing registered); valid until the next call. */
  private encodeFrame(output: ResolvedOutput): { id: number; bytes: Uint8Array; slice(): { id: number; bytes: Uint8Array } } {
    const id = this.nextDeliveryId;
    const frame = this.encoder.encode({
      kind: "output",
      ref: id,
      topic: output.topic,
      partition: -1,
      offset: 0,
      timestamp: 0,
      key: output.key,
      value: output.value,
      headers: output.headers,
    });
    this.nextDeliveryId = id >= 0xffffffff ? 1 : id + 1;
    return { id, bytes: frame, slice: () => ({ id, bytes: frame.slice() }) };
  }

  private async emitSlowly(
    writer: RingWriter,
    frame: Uint8Array,
    outputs: readonly ResolvedOutput[],
    from: number,
    pending: PendingDelivery,
    deadLetterCopy: DeadLetterCopy | undefined,
  ): Promise<void> {
    writer.publish();
    try {
      await writer.write(frame);
      for (let i = from; i < outputs.length; i++) {
        const next = this.framed(outputs[i]!, pending, deadLetterCopy);
        if (!writer.tryWrite(next)) await writer.write(next.slice());
      }
    } catch (error) {
      this.abandon(pending);
      throw error;
    }
    this.queuePublish();
  }

  private producerFor(route: string): number {
    const count = this.writers.length;
    if (count === 1) return 0;
    return hashString(route) % count;
  }

  private queuePublish(): void {
    if (this.publishQueued) return;
    this.publishQueued = true;
    queueMicrotask(() => {
      this.publishQueued = false;
      for (const writer of this.writers) writer.publish();
    });
  }
}
