/** Reads output and dead-letter topics and checks every input id landed exactly once (or counts duplicates). */
import { readAll, type ReadRecord } from "./kafka.ts";
import type { SeedCase } from "./seed-data.ts";

export interface Verdict {
  readonly outputs: ReadRecord[];
  readonly deadLetters: ReadRecord[];
  readonly lost: string[];
  readonly duplicates: number;
  readonly wrongStatus: string[];
  readonly misplaced: string[];
}

export async function verify(cases: readonly SeedCase[], outputTopic: string, dlqTopic: string): Promise<Verdict> {
  const [outputs, deadLetters] = await Promise.all([readAll(outputTopic), readAll(dlqTopic)]);
  const seen = new Map<string, number>();
  const place = new Map<string, "output" | "dlq">();
  const statusOf = new Map<string, string>();
  for (const record of outputs) {
    const id = record.headers["test-id"]!;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    place.set(id, "output");
    statusOf.set(id, (JSON.parse(record.value ?? "{}") as { status?: string }).status ?? "");
  }
  for (const record of deadLetters) {
    const id = record.headers["test-id"]!;
    seen.set(id, (seen.get(id) ?? 0) + 1);
    place.set(id, "dlq");
  }
  const lost: string[] = [];
  const wrongStatus: string[] = [];
  const misplaced: string[] = [];
  let duplicates = 0;
  for (const c of cases) {
    const times = seen.get(c.id) ?? 0;
    if (times === 0) lost.push(c.id);
    duplicates += Math.max(0, times - 1);
    if (times === 0) continue;
    if (c.expected === "dlq" ? place.get(c.id) !== "dlq" : place.get(c.id) !== "output") misplaced.push(c.id);
    else if (c.expected !== "dlq" && statusOf.get(c.id) !== c.expected) wrongStatus.push(c.id);
  }
  return { outputs, deadLetters, lost, duplicates, wrongStatus, misplaced };
}
