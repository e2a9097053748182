/**
 * Reads output and dead-letter topics and checks every seed case landed where the seed rule sends it, with the
 * right status, exactly once (or counts duplicates). Landings are counted by the chaos verifier's `landings`;
 * its full verdict (order, commits) needs the input topic and commit samples, which these tests do not record.
 */
import { landings, type LandedRecord } from "../../scripts/chaos/verifier.ts";
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

const landed = (r: ReadRecord): LandedRecord => ({
  id: r.headers["test-id"] ?? null,
  partition: r.partition,
  offset: r.offset,
  appendTime: r.timestamp,
});

export async function verify(cases: readonly SeedCase[], outputTopic: string, dlqTopic: string): Promise<Verdict> {
  const [outputs, deadLetters] = await Promise.all([readAll(outputTopic), readAll(dlqTopic)]);
  const { count } = landings(outputs.map(landed), deadLetters.map(landed));
  const place = new Map<string, "output" | "dlq">();
  const statusOf = new Map<string, string>();
  for (const record of outputs) {
    const id = record.headers["test-id"]!;
    place.set(id, "output");
    statusOf.set(id, (JSON.parse(record.value ?? "{}") as { status?: string }).status ?? "");
  }
  for (const record of deadLetters) place.set(record.headers["test-id"]!, "dlq");
  const lost: string[] = [];
  const wrongStatus: string[] = [];
  const misplaced: string[] = [];
  let duplicates = 0;
  for (const c of cases) {
    const times = count.get(c.id) ?? 0;
    if (times === 0) lost.push(c.id);
    duplicates += Math.max(0, times - 1);
    if (times === 0) continue;
    if (c.expected === "dlq" ? place.get(c.id) !== "dlq" : place.get(c.id) !== "output") misplaced.push(c.id);
    else if (c.expected !== "dlq" && statusOf.get(c.id) !== c.expected) wrongStatus.push(c.id);
  }
  return { outputs, deadLetters, lost, duplicates, wrongStatus, misplaced };
}
