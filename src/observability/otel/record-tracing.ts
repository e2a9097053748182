/**
 * What the pipeline tells span export about a record (--otel-endpoint). Types only: the pipeline holds a
 * RecordTracing or null, and with export off it makes no span and loads none of the OpenTelemetry packages.
 */
import type { InputRecord } from "../../handlers/types.ts";
import type { DeadLetterKind } from "../../pipeline/dead-letter.ts";

/**
 * How a record's processing ended, as its span's `processor.outcome` says.
 * produced: its outputs are acknowledged by Kafka; filtered: the handler returned none; dead-lettered: its copy is
 * in the dead-letter topic; dropped: its partition moved away (it is processed again there); halted: it tripped the
 * dead-letter guard; aborted: exactly-once mode, its transaction was aborted (it is processed again).
 */
export type RecordOutcomeName = "produced" | "filtered" | "dead-lettered" | "dropped" | "halted" | "aborted";

export interface RecordTracing {
  /**
   * The record is about to run for the first time: its span starts, and the traceparent its outputs carry names
   * that span. Later calls for the same record (retries) do nothing.
   */
  begin(input: InputRecord): void;
  /** The record goes to the dead-letter topic, and why: its span's status becomes ERROR. */
  deadLettered(input: InputRecord, kind: DeadLetterKind, reason: string): void;
  /** The record's outcome is known: its span ends and is queued for export. Nothing for a record without a span. */
  end(input: InputRecord, outcome: RecordOutcomeName, reason?: string): void;
}
