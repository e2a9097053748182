/** Which dead-letter records a replay takes (--reason, --since, --until), and what it produces for one. */
import type { DeadLetterRecord, HeaderEntry } from "./dead-letter-record.ts";

export const REPLAYED_FROM_HEADER = "x-processor-replayed-from";

export interface ReplayFilter {
  /** Tested against the x-processor-error header as written (not normalised). */
  readonly reason?: RegExp;
  /** Failure time bounds, epoch ms: since inclusive, until exclusive. */
  readonly since?: number;
  readonly until?: number;
}

export function matches(filter: ReplayFilter, record: DeadLetterRecord): boolean {
  if (filter.since !== undefined && record.failedAt < filter.since) return false;
  if (filter.until !== undefined && record.failedAt >= filter.until) return false;
  if (filter.reason !== undefined && !filter.reason.test(record.error ?? "")) return false;
  return true;
}

/** The original record's headers (processor's own removed) plus where the replayed copy came from. */
export function replayHeaders(record: DeadLetterRecord, dlqTopic: string): HeaderEntry[] {
  return [...record.originalHeaders, [Buffer.from(REPLAYED_FROM_HEADER), Buffer.from(`${dlqTopic}/${record.partition}/${record.offset}`)]];
}

/**
 * A point in time for --since/--until: an RFC 3339 date-time (2026-11-30T08:00:00Z), a date (2026-11-30, UTC
 * midnight), or an age back from `now` (90s, 30m, 6h, 2d). Returns epoch ms, or an error message.
 */
export function parseTimeBound(text: string, now: number): number | { error: string } {
  const age = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text.trim());
  if (age !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[age[2] as "s" | "m" | "h" | "d"];
    return now - Number(age[1]) * unit;
  }
  const iso = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/i.test(text.trim());
  const ms = Date.parse(text.trim());
  if (!iso || Number.isNaN(ms))
    return { error: `expected an RFC 3339 time (2026-11-30T08:00:00Z), a date or an age (30m, 6h, 2d), got ${JSON.stringify(text)}` };
  return ms;
}
