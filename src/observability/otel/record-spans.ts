/**
 * One CONSUMER span per record ("process <topic>"), a child of the input's traceparent when it has a valid one. It
 * starts before the record's first handler run and ends when its outcome is known (RecordTracing). Its span id is
 * what the record's outputs and dead-letter copy name as their parent (trace-context.ts `continueAs`), so a tracing
 * backend links the input, processor's span and whatever consumes the outputs.
 */
import {
  type Attributes,
  type Context,
  createTraceState,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  TraceFlags,
  trace,
} from "@opentelemetry/api";
import { ATTR_ERROR_TYPE } from "@opentelemetry/semantic-conventions";
import type { InputRecord } from "../../handlers/types.ts";
import type { DeadLetterKind } from "../../pipeline/dead-letter.ts";
import { logSafeText } from "../logger.ts";
import { continueAs, incomingTraceContext } from "../trace-context.ts";
import type { RecordOutcomeName, RecordTracing } from "./record-tracing.ts";
import {
  MESSAGING_CONSUMER_GROUP_NAME,
  MESSAGING_DESTINATION_NAME,
  MESSAGING_DESTINATION_PARTITION_ID,
  MESSAGING_KAFKA_MESSAGE_KEY,
  MESSAGING_KAFKA_MESSAGE_TOMBSTONE,
  MESSAGING_KAFKA_OFFSET,
  MESSAGING_OPERATION_NAME,
  MESSAGING_OPERATION_TYPE,
  MESSAGING_SYSTEM,
  PROCESSOR_ATTEMPTS,
  PROCESSOR_OUTCOME,
} from "./span-attributes.ts";

/** Keys up to this size go on the span as text (when they are UTF-8); larger or binary keys are left out. */
const MAX_KEY_BYTES = 64;
/** A reason can quote the record's payload: the span keeps the start of it (the dead-letter header keeps more). */
const MAX_STATUS_CHARS = 1024;
const utf8 = new TextDecoder("utf-8", { fatal: true });

export class RecordSpans implements RecordTracing {
  /**
   * Every record begun and not yet ended: its span, or null when it is not sampled (a retry must neither start a
   * second span nor sample again).
   */
  private readonly spans = new WeakMap<InputRecord, Span | null>();
  private readonly names = new Map<string, string>();

  constructor(
    private readonly tracer: Tracer,
    /** --group-id: the span's messaging.consumer.group.name. */
    private readonly groupId: string,
    /** --otel-sample-ratio: share of records without a traceparent that get a span. */
    private readonly sampleRatio = 1,
    private readonly random: () => number = Math.random,
  ) {}

  begin(input: InputRecord): void {
    if (this.spans.has(input)) return;
    const parent = incomingTraceContext(input);
    // Parent-based sampling, decided here so that a record without a span costs no SDK work at all (the SDK's
    // sampler then takes every span it is given): a sampled parent always, an unsampled one never, others at the ratio.
    if (parent === null ? this.random() >= this.sampleRatio : !parent.sampled) {
      this.spans.set(input, null);
      return;
    }
    let context: Context = ROOT_CONTEXT;
    if (parent !== null) {
      context = trace.setSpanContext(ROOT_CONTEXT, {
        traceId: parent.traceId,
        spanId: parent.spanId,
        traceFlags: parent.sampled ? TraceFlags.SAMPLED : TraceFlags.NONE,
        isRemote: true,
        ...(parent.traceState !== null && { traceState: createTraceState(parent.traceState) }),
      });
    }
    const span = this.tracer.startSpan(
      this.nameOf(input.topic),
      { kind: SpanKind.CONSUMER, attributes: this.attributesOf(input) },
      context,
    );
    this.spans.set(input, span);
    const { traceId, spanId } = span.spanContext();
    // An input's trace goes on with its own flags (as without export); a sampled new trace is carried by the outputs.
    continueAs(input, traceId, spanId, parent?.flags ?? "01");
  }

  deadLettered(input: InputRecord, kind: DeadLetterKind, reason: string): void {
    const span = this.spans.get(input);
    if (span === undefined || span === null) return;
    span.setAttribute(ATTR_ERROR_TYPE, kind);
    span.setStatus({ code: SpanStatusCode.ERROR, message: logSafeText(reason, MAX_STATUS_CHARS) });
  }

  end(input: InputRecord, outcome: RecordOutcomeName, reason?: string): void {
    const span = this.spans.get(input);
    if (span === undefined) return;
    this.spans.delete(input);
    if (span === null) return;
    span.setAttribute(PROCESSOR_ATTEMPTS, input.attempt);
    span.setAttribute(PROCESSOR_OUTCOME, outcome);
    if (outcome === "halted") {
      span.setAttribute(ATTR_ERROR_TYPE, "dead-letter-guard");
      span.setStatus({ code: SpanStatusCode.ERROR, message: logSafeText(reason ?? "dead-letter guard tripped", MAX_STATUS_CHARS) });
    }
    span.end();
  }

  private nameOf(topic: string): string {
    let name = this.names.get(topic);
    if (name === undefined) {
      name = `process ${topic}`;
      this.names.set(topic, name);
    }
    return name;
  }

  private attributesOf(input: InputRecord): Attributes {
    const attributes: Attributes = {
      [MESSAGING_SYSTEM]: "kafka",
      [MESSAGING_OPERATION_TYPE]: "process",
      [MESSAGING_OPERATION_NAME]: "process",
      [MESSAGING_DESTINATION_NAME]: input.topic,
      [MESSAGING_DESTINATION_PARTITION_ID]: String(input.partition),
      [MESSAGING_KAFKA_OFFSET]: input.offset,
      [MESSAGING_CONSUMER_GROUP_NAME]: this.groupId,
    };
    const key = keyText(input.key);
    if (key !== null) attributes[MESSAGING_KAFKA_MESSAGE_KEY] = key;
    if (input.value === null) attributes[MESSAGING_KAFKA_MESSAGE_TOMBSTONE] = true;
    return attributes;
  }
}

function keyText(key: Uint8Array | null): string | null {
  if (key === null || key.length === 0 || key.length > MAX_KEY_BYTES) return null;
  try {
    return utf8.decode(key);
  } catch {
    return null;
  }
}
