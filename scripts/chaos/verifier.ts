/**
 * The verdict of a chaos run, from what is in Kafka afterwards: the input topic, the output topic, the dead-letter
 * topic (all read to their ends by reader.ts) and the group's committed offsets sampled during the run.
 * Pure logic, no I/O, so its unit tests can plant every kind of fault by hand.
 *
 * Definitions (a record is known by its id: the seed JSON `id`, or the x-chaos-id header when the value is not JSON):
 * - lost: an input id found in neither the output nor the dead-letter topic.
 * - duplicates: landings beyond the number of times the id is in the input, summed over ids (output and DLQ
 *   together; an id is in the input more than once only when the test producer re-sent a batch).
 * - order violation (per key, in output-topic order): an output whose input offset is lower than that of an
 *   earlier output of the same key AND whose id had not been output before. Re-delivery after a crash repeats
 *   an already-output prefix, which is allowed; emitting a new record after a later one of its key is not.
 * - commit past unproduced: a committed-offset sample (time t, partition p, offset o) such that some input
 *   record of p with offset < o had no output or DLQ record appended at or before t (+ a clock tolerance).
 *   Output and DLQ topics use message.timestamp.type=LogAppendTime, so a record's timestamp is when it landed.
 * - commit regression: a committed-offset sample of a partition lower than an earlier sample of it. Not a loss by
 *   itself (it re-delivers), but the symptom of a stale group member committing old progress after it was fenced.
 *
 * The guarantee the run was made under decides what duplicates are allowed (duplicateLimit): at-least-once up to the
 * bound its faults explain, exactly-once none (the topics are read read_committed, so a duplicate is a record
 * committed twice). 0 lost is required in both.
 */

export type Guarantee = "at-least-once" | "exactly-once";
export const GUARANTEES: readonly Guarantee[] = ["at-least-once", "exactly-once"];

/** Duplicates a run may have: the at-least-once bound of its faults, or none under exactly-once. */
export function duplicateLimit(guarantee: Guarantee, bound: number): number {
  return guarantee === "exactly-once" ? 0 : bound;
}

/** Whether the duplicates of a run are within what its guarantee allows. */
export function duplicatesAllowed(guarantee: Guarantee, duplicates: number, bound: number): boolean {
  return duplicates <= duplicateLimit(guarantee, bound);
}

export interface InputRecord {
  readonly partition: number;
  readonly offset: number;
  readonly key: string | null;
  /** null when neither the JSON nor the headers carry an id: counted, never matched. */
  readonly id: string | null;
}

export interface LandedRecord {
  readonly id: string | null;
  readonly partition: number;
  readonly offset: number;
  /** Broker append time (LogAppendTime), ms since the epoch. */
  readonly appendTime: number;
}

/** One observation of the group's committed offset for one input partition. */
export interface CommitSample {
  /** Wall-clock time the committed offsets were received (the commit happened at or before it). */
  readonly time: number;
  readonly partition: number;
  readonly offset: number;
}

export interface History {
  readonly inputs: readonly InputRecord[];
  readonly outputs: readonly LandedRecord[];
  readonly deadLetters: readonly LandedRecord[];
  readonly commits: readonly CommitSample[];
}

export interface OrderViolation {
  readonly key: string;
  readonly id: string;
  readonly inputOffset: number;
  /** The highest input offset of the key already output before it. */
  readonly afterInputOffset: number;
}

export interface CommitViolation {
  readonly sample: CommitSample;
  /** The first input offset below the committed one that had not landed by the sample's time. */
  readonly unproducedOffset: number;
  /** When it did land (Infinity: never). */
  readonly landedAt: number;
}

export interface CommitRegression {
  readonly partition: number;
  readonly time: number;
  readonly from: number;
  readonly to: number;
}

export interface Verdict {
  readonly sent: number;
  readonly produced: number;
  readonly deadLettered: number;
  readonly lost: readonly string[];
  readonly duplicates: number;
  readonly orderViolations: readonly OrderViolation[];
  readonly commitPastUnproduced: readonly CommitViolation[];
  readonly commitRegressions: readonly CommitRegression[];
  /**
   * The smallest gap, over all commit samples, between a sample and the landing of the last record below its
   * offset: shows the commit check had real data to bite on (null without samples).
   */
  readonly closestCommitMs: number | null;
  /** Input records without an id (cannot be tracked) and landed records whose id is not an input id. */
  readonly untracked: { readonly inputs: number; readonly landed: number };
}

export interface VerifyOptions {
  /** Allowed skew between the runner's clock and the broker's append time (same machine: small). */
  readonly clockToleranceMs?: number;
  /** Cap on the violations listed (all are still counted in the lists' lengths up to the cap). */
  readonly maxListed?: number;
}

/**
 * Per input partition: when each input offset first landed anywhere, and the running maximum of those times,
 * so both the commit check and the in-flight count are array lookups.
 */
export class LandingIndex {
  /** firstLanding[p][offset]: first append time of the record's id in output or DLQ; Infinity when never. */
  readonly firstLanding = new Map<number, Float64Array>();
  /** latestBelow[p][o]: max firstLanding over offsets < o (index 0 is -Infinity). */
  readonly latestBelow = new Map<number, Float64Array>();

  constructor(inputs: readonly InputRecord[], landingsById: ReadonlyMap<string, number>) {
    const sizes = new Map<number, number>();
    for (const r of inputs) sizes.set(r.partition, Math.max(sizes.get(r.partition) ?? 0, r.offset + 1));
    for (const [p, size] of sizes) this.firstLanding.set(p, new Float64Array(size).fill(Number.NEGATIVE_INFINITY));
    // offsets that are not in `inputs` (compacted, transaction markers) count as landed at -Infinity
    for (const r of inputs) {
      const at = r.id === null ? Number.POSITIVE_INFINITY : (landingsById.get(r.id) ?? Number.POSITIVE_INFINITY);
      this.firstLanding.get(r.partition)![r.offset] = at;
    }
    for (const [p, first] of this.firstLanding) {
      const below = new Float64Array(first.length + 1);
      below[0] = Number.NEGATIVE_INFINITY;
      for (let o = 0; o < first.length; o++) below[o + 1] = Math.max(below[o]!, first[o]!);
      this.latestBelow.set(p, below);
    }
  }

  /** When every record of p below offset o had landed (-Infinity for o <= 0, Infinity if one never did). */
  prefixLandedAt(partition: number, offset: number): number {
    const below = this.latestBelow.get(partition);
    if (below === undefined || offset <= 0) return Number.NEGATIVE_INFINITY;
    return below[Math.min(offset, below.length - 1)]!;
  }

  /**
   * Records landed at or before `time` but at or above the committed offset: what a crash at `time` may emit
   * again (the at-least-once duplicate window).
   */
  landedButUncommitted(time: number, committed: ReadonlyMap<number, number>): number {
    let count = 0;
    for (const [p, first] of this.firstLanding) {
      for (let o = Math.max(0, committed.get(p) ?? 0); o < first.length; o++)
        if (first[o]! <= time && first[o]! > Number.NEGATIVE_INFINITY) count++;
    }
    return count;
  }
}

/** First append time per id over output and DLQ records, and the number of landings per id. */
export function landings(
  outputs: readonly LandedRecord[],
  deadLetters: readonly LandedRecord[],
): { first: Map<string, number>; count: Map<string, number> } {
  const first = new Map<string, number>();
  const count = new Map<string, number>();
  for (const list of [outputs, deadLetters]) {
    for (const r of list) {
      if (r.id === null) continue;
      count.set(r.id, (count.get(r.id) ?? 0) + 1);
      const seen = first.get(r.id);
      if (seen === undefined || r.appendTime < seen) first.set(r.id, r.appendTime);
    }
  }
  return { first, count };
}

export function findOrderViolations(inputs: readonly InputRecord[], outputs: readonly LandedRecord[], maxListed: number): OrderViolation[] {
  const inputById = new Map<string, InputRecord>();
  for (const r of inputs) if (r.id !== null) inputById.set(r.id, r);
  // within one output partition the offset order is the order Kafka holds them in; a key maps to one partition
  const ordered = [...outputs].sort((a, b) => a.partition - b.partition || a.offset - b.offset);
  const highest = new Map<string, number>();
  const emitted = new Set<string>();
  const violations: OrderViolation[] = [];
  for (const out of ordered) {
    if (out.id === null) continue;
    const source = inputById.get(out.id);
    if (source === undefined || source.key === null) continue; // null keys carry no order promise
    const orderKey = `${source.partition}\u0000${source.key}`;
    const top = highest.get(orderKey) ?? -1;
    if (source.offset < top && !emitted.has(out.id) && violations.length < maxListed) {
      violations.push({ key: source.key, id: out.id, inputOffset: source.offset, afterInputOffset: top });
    }
    emitted.add(out.id);
    if (source.offset > top) highest.set(orderKey, source.offset);
  }
  return violations;
}

export function findCommitsPastUnproduced(
  index: LandingIndex,
  commits: readonly CommitSample[],
  toleranceMs: number,
  maxListed: number,
): CommitViolation[] {
  const violations: CommitViolation[] = [];
  for (const sample of commits) {
    if (violations.length >= maxListed) break;
    if (index.prefixLandedAt(sample.partition, sample.offset) <= sample.time + toleranceMs) continue;
    const first = index.firstLanding.get(sample.partition)!;
    let o = 0;
    while (o < sample.offset && o < first.length && first[o]! <= sample.time + toleranceMs) o++;
    violations.push({ sample, unproducedOffset: o, landedAt: first[o] ?? Number.POSITIVE_INFINITY });
  }
  return violations;
}

export function findCommitRegressions(commits: readonly CommitSample[], maxListed: number): CommitRegression[] {
  const highest = new Map<number, number>();
  const regressions: CommitRegression[] = [];
  for (const sample of [...commits].sort((a, b) => a.time - b.time)) {
    const top = highest.get(sample.partition) ?? -1;
    if (sample.offset < top && regressions.length < maxListed)
      regressions.push({ partition: sample.partition, time: sample.time, from: top, to: sample.offset });
    if (sample.offset > top) highest.set(sample.partition, sample.offset);
  }
  return regressions;
}

export function closestCommit(index: LandingIndex, commits: readonly CommitSample[]): number | null {
  let closest: number | null = null;
  for (const sample of commits) {
    const landed = index.prefixLandedAt(sample.partition, sample.offset);
    if (!Number.isFinite(landed)) continue;
    const gap = sample.time - landed;
    if (closest === null || gap < closest) closest = gap;
  }
  return closest;
}

export function verify(history: History, options: VerifyOptions = {}): Verdict {
  const tolerance = options.clockToleranceMs ?? 50;
  const maxListed = options.maxListed ?? 1000;
  const { first, count } = landings(history.outputs, history.deadLetters);
  // the stream producer may write a batch twice (a send that failed after the broker took it): an id that is
  // in the input n times needs n landings before any of them is a duplicate made by processor
  const sentTimes = new Map<string, number>();
  let untrackedInputs = 0;
  for (const r of history.inputs) {
    if (r.id === null) untrackedInputs++;
    else sentTimes.set(r.id, (sentTimes.get(r.id) ?? 0) + 1);
  }
  const inputIds = new Set(sentTimes.keys());
  const lost: string[] = [];
  let duplicates = 0;
  for (const [id, sent] of sentTimes) {
    const times = count.get(id) ?? 0;
    if (times === 0) lost.push(id);
    duplicates += Math.max(0, times - sent);
  }
  let untrackedLanded = 0;
  for (const id of count.keys()) if (!inputIds.has(id)) untrackedLanded++;
  const index = new LandingIndex(history.inputs, first);
  return {
    sent: history.inputs.length,
    produced: history.outputs.length,
    deadLettered: history.deadLetters.length,
    lost,
    duplicates,
    orderViolations: findOrderViolations(history.inputs, history.outputs, maxListed),
    commitPastUnproduced: findCommitsPastUnproduced(index, history.commits, tolerance, maxListed),
    closestCommitMs: closestCommit(index, history.commits),
    commitRegressions: findCommitRegressions(history.commits, maxListed),
    untracked: { inputs: untrackedInputs, landed: untrackedLanded },
  };
}
