/** Counts of a dead-letter topic by error kind, reason, source and time: built record by record, then printed. */
import type { DeadLetterRecord } from "./dead-letter-record.ts";
import { normalizeReason } from "./reason.ts";

export interface CountRow {
  readonly name: string;
  readonly count: number;
}

export interface DeadLetterSummary {
  readonly topic: string;
  readonly records: number;
  /** Records per partition of the dead-letter topic, and the offsets read. */
  readonly partitions: ReadonlyArray<{ partition: number; records: number; from: number; to: number }>;
  readonly byKind: CountRow[];
  readonly byReason: CountRow[];
  /** "topic/partition" of the original record. */
  readonly bySource: CountRow[];
  /** Earliest and latest failure time (ISO 8601), null when empty. */
  readonly firstFailedAt: string | null;
  readonly lastFailedAt: string | null;
  /** Stubs: records whose value and headers were left out (too large for the topic), not replayable. */
  readonly truncated: number;
  /** Records without processor's headers (written by something else). */
  readonly foreign: number;
}

/** Rows shown per table; the rest are summed into one "(N more)" row. */
export const TOP_ROWS = 20;

function sorted(counts: Map<string, number>): CountRow[] {
  return [...counts].map(([name, count]) => ({ name, count })).sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
}

function bump(counts: Map<string, number>, name: string): void {
  counts.set(name, (counts.get(name) ?? 0) + 1);
}

export class DeadLetterStats {
  private records = 0;
  private readonly kinds = new Map<string, number>();
  private readonly reasons = new Map<string, number>();
  private readonly sources = new Map<string, number>();
  private readonly partitions = new Map<number, { records: number; from: number; to: number }>();
  private first = Number.POSITIVE_INFINITY;
  private last = Number.NEGATIVE_INFINITY;
  private truncated = 0;
  private foreign = 0;

  constructor(private readonly topic: string) {}

  add(record: DeadLetterRecord): void {
    this.records++;
    bump(this.kinds, record.kind ?? "(none)");
    bump(this.reasons, normalizeReason(record.error));
    bump(this.sources, record.sourceTopic === null ? "(unknown)" : `${record.sourceTopic}/${record.sourcePartition ?? "?"}`);
    const partition = this.partitions.get(record.partition);
    if (partition === undefined) this.partitions.set(record.partition, { records: 1, from: record.offset, to: record.offset });
    else {
      partition.records++;
      partition.from = Math.min(partition.from, record.offset);
      partition.to = Math.max(partition.to, record.offset);
    }
    this.first = Math.min(this.first, record.failedAt);
    this.last = Math.max(this.last, record.failedAt);
    if (record.truncated) this.truncated++;
    if (record.foreign) this.foreign++;
  }

  summary(): DeadLetterSummary {
    const iso = (ms: number) => (Number.isFinite(ms) ? new Date(ms).toISOString() : null);
    return {
      topic: this.topic,
      records: this.records,
      partitions: [...this.partitions].map(([partition, p]) => ({ partition, ...p })).sort((a, b) => a.partition - b.partition),
      byKind: sorted(this.kinds),
      byReason: sorted(this.reasons),
      bySource: sorted(this.sources),
      firstFailedAt: iso(this.first),
      lastFailedAt: iso(this.last),
      truncated: this.truncated,
      foreign: this.foreign,
    };
  }
}

const number = (n: number) => n.toLocaleString("en-US");

function table(title: string, rows: readonly CountRow[], total: number): string[] {
  const shown = rows.slice(0, TOP_ROWS);
  const rest = rows.slice(TOP_ROWS);
  if (rest.length > 0) shown.push({ name: `(${rest.length} more)`, count: rest.reduce((n, r) => n + r.count, 0) });
  const width = Math.max(5, ...shown.map((r) => number(r.count).length));
  const lines = [`${title}:`, `  ${"count".padStart(width)}   share  ${title.replace(/^by /, "")}`];
  for (const row of shown) {
    const share = total === 0 ? 0 : (row.count / total) * 100;
    lines.push(`  ${number(row.count).padStart(width)}  ${`${share.toFixed(1)}%`.padStart(6)}  ${row.name}`);
  }
  return lines;
}

/** The summary as the table `processor dlq stats` prints. */
export function formatSummary(s: DeadLetterSummary): string {
  if (s.records === 0) return `dead-letter topic ${s.topic}: no records\n`;
  const lines = [
    `dead-letter topic ${s.topic}: ${number(s.records)} record${s.records === 1 ? "" : "s"} in ${s.partitions.length} partition${s.partitions.length === 1 ? "" : "s"}`,
    `failed between ${s.firstFailedAt} and ${s.lastFailedAt}`,
  ];
  if (s.truncated > 0) lines.push(`${number(s.truncated)} are stubs (value and headers left out: too large for the topic; not replayable)`);
  if (s.foreign > 0) lines.push(`${number(s.foreign)} carry no x-processor-* headers (not written by processor)`);
  lines.push("", ...table("by error kind", s.byKind, s.records), "", ...table("by reason", s.byReason, s.records));
  lines.push("", ...table("by source", s.bySource, s.records));
  return `${lines.join("\n")}\n`;
}
