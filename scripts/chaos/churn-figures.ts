/**
 * Figures of the group-churn scenarios, from what the runner saw: the longest time a partition's committed offset
 * stood still while the partition had records to process (a stall), and which membership event each duplicate
 * followed. Pure logic, no I/O.
 *
 * - Stall: per partition, over the commit samples in time order, an interval in which the committed offset did not
 *   rise above every earlier sample of it while it was below the partition's end offset as last sampled at or
 *   before that sample (the records actually in the input by then). It starts at the first sample with lag since
 *   the last progress and lasts until a sample shows progress or no lag (or until sampling ended). The check starts
 *   with the group's first commit or at `from` (the first member has its partitions), whichever comes first:
 *   start-up is not a stall, a group that never commits is. Windows in which a stall is expected (from a SIGKILL to
 *   its replacement's join plus the session timeout) are left out of the counted length.
 * - Duplicate attribution: each landing of an id beyond the number of times it was sent (landings in append-time
 *   order, the first ones are the legitimate ones) is charged to the latest SIGKILL whose window (kill to its
 *   replacement's join plus the session timeout: when a kill's re-deliveries land) holds it, else to the latest
 *   membership event at or before it landed.
 */

export type EventKind = "join" | "leave" | "kill";

export interface CommitSnapshot {
  readonly time: number;
  /** Committed offset per partition (absent: nothing committed yet, i.e. offset 0). */
  readonly committed: ReadonlyMap<number, number>;
}

export interface EndsSnapshot {
  readonly time: number;
  readonly ends: readonly number[];
}

export interface Stall {
  readonly partition: number;
  /** First sample of the stall and the last sample still in it (ms since the epoch). */
  readonly from: number;
  readonly to: number;
  /** to - from. */
  readonly ms: number;
  /** ms minus the parts inside exempt windows. */
  readonly countedMs: number;
  /** The committed offset it stood at, and the partition's end offset at the stall's first and last sample. */
  readonly committed: number;
  readonly endFrom: number;
  readonly endTo: number;
}

export interface StallFigures {
  /** The longest stall by its raw length. */
  readonly longest: Stall | null;
  /** The longest stall by its counted length (exempt windows left out). */
  readonly longestCounted: Stall | null;
}

function overlap(from: number, to: number, windows: ReadonlyArray<readonly [number, number]>): number {
  // windows may overlap each other: merge them first
  const sorted = [...windows].filter(([a, b]) => b > a).sort((x, y) => x[0] - y[0]);
  let total = 0;
  let curA = Number.NEGATIVE_INFINITY;
  let curB = Number.NEGATIVE_INFINITY;
  const flush = () => {
    if (curB > curA) total += Math.max(0, Math.min(to, curB) - Math.max(from, curA));
  };
  for (const [a, b] of sorted) {
    if (a > curB) {
      flush();
      curA = a;
      curB = b;
    } else curB = Math.max(curB, b);
  }
  flush();
  return total;
}

export function findStalls(
  commits: readonly CommitSnapshot[],
  ends: readonly EndsSnapshot[],
  partitions: number,
  exempt: ReadonlyArray<readonly [number, number]> = [],
  from: number = Number.POSITIVE_INFINITY,
): StallFigures {
  const snapshots = [...commits].sort((a, b) => a.time - b.time);
  const endList = [...ends].sort((a, b) => a.time - b.time);
  const first = snapshots.findIndex((s) => s.committed.size > 0 || s.time >= from);
  let longest: Stall | null = null;
  let longestCounted: Stall | null = null;
  if (first < 0) return { longest, longestCounted };
  for (let p = 0; p < partitions; p++) {
    let highest = Number.NEGATIVE_INFINITY;
    let start: number | null = null;
    let endAtStart = 0;
    let e = 0;
    let endIndex = -1;
    for (let i = first; i < snapshots.length; i++) {
      const snap = snapshots[i]!;
      while (endIndex + 1 < endList.length && endList[endIndex + 1]!.time <= snap.time) endIndex++;
      const endOffset = endIndex >= 0 ? (endList[endIndex]!.ends[p] ?? 0) : 0;
      e = Math.max(e, endOffset);
      const c = snap.committed.get(p) ?? 0;
      if (c > highest) {
        highest = c;
        start = null;
      }
      if (highest >= e) start = null;
      else if (start === null) {
        start = snap.time;
        endAtStart = e;
      }
      if (start === null) continue;
      const ms = snap.time - start;
      const countedMs = ms - overlap(start, snap.time, exempt);
      const stall = {
        partition: p,
        from: start,
        to: snap.time,
        ms,
        countedMs,
        committed: Math.max(0, highest),
        endFrom: endAtStart,
        endTo: e,
      };
      if (longest === null || ms > longest.ms) longest = stall;
      if (longestCounted === null || countedMs > longestCounted.countedMs) longestCounted = stall;
    }
  }
  return { longest, longestCounted };
}

/** Groups the commit sampler's flat samples into snapshots, one per successful sample time (empty ones included). */
export function snapshots(
  samples: ReadonlyArray<{ readonly time: number; readonly partition: number; readonly offset: number }>,
  times: readonly number[],
): CommitSnapshot[] {
  const byTime = new Map<number, Map<number, number>>();
  for (const t of times) byTime.set(t, new Map());
  for (const s of samples) {
    let m = byTime.get(s.time);
    if (m === undefined) byTime.set(s.time, (m = new Map()));
    m.set(s.partition, s.offset);
  }
  return [...byTime.entries()].map(([time, committed]) => ({ time, committed })).sort((a, b) => a.time - b.time);
}

export interface MembershipEvent {
  readonly at: number;
  readonly kind: EventKind;
  /** A kill's window end: duplicates landing in [at, until] are charged to it before any later event. */
  readonly until?: number;
}

export interface DuplicateAttribution {
  /** Duplicates that landed before the first event. */
  readonly before: number;
  readonly join: number;
  readonly leave: number;
  readonly kill: number;
  /** Per event, in the order given. */
  readonly perEvent: readonly number[];
}

/**
 * sentTimes: how many times each id is in the input; landed: every output/DLQ landing (id, broker append time).
 * Landings without an id or with an unknown id are ignored (the verifier counts them as untracked).
 */
export function attributeDuplicates(
  sentTimes: ReadonlyMap<string, number>,
  landed: ReadonlyArray<{ readonly id: string | null; readonly time: number }>,
  events: readonly MembershipEvent[],
): DuplicateAttribution {
  const times = new Map<string, number[]>();
  for (const r of landed) {
    if (r.id === null || !sentTimes.has(r.id)) continue;
    let list = times.get(r.id);
    if (list === undefined) times.set(r.id, (list = []));
    list.push(r.time);
  }
  const order = events.map((e, i) => ({ ...e, i })).sort((a, b) => a.at - b.at);
  const perEvent = new Array<number>(events.length).fill(0);
  const totals = { before: 0, join: 0, leave: 0, kill: 0 };
  for (const [id, list] of times) {
    const sent = sentTimes.get(id) ?? 0;
    if (list.length <= sent) continue;
    list.sort((a, b) => a - b);
    for (const t of list.slice(sent)) {
      // latest event at or before t (NaN append times count as before any event)
      let lo = 0;
      let hi = order.length - 1;
      let found = -1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        if (order[mid]!.at <= t) {
          found = mid;
          lo = mid + 1;
        } else hi = mid - 1;
      }
      // a kill whose window holds t wins over the events after it (the replacement's join, say)
      for (let k = found; k >= 0; k--) {
        const e = order[k]!;
        if (e.kind === "kill" && e.until !== undefined && t <= e.until) {
          found = k;
          break;
        }
      }
      if (found < 0) totals.before++;
      else {
        const e = order[found]!;
        totals[e.kind]++;
        perEvent[e.i]!++;
      }
    }
  }
  return { ...totals, perEvent };
}
