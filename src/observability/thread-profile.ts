/**
 * Per-thread CPU sampling for performance work. `bun --cpu-prof` profiles only the main thread; with
 * PROCESSOR_PROFILE_DIR set, every thread (main, each consumer and producer Worker) runs JavaScriptCore's sampling
 * profiler and rewrites `<dir>/<thread>.json` every few seconds: sample counts by function, self and inclusive.
 * scripts/bench/profile.ts reads them. Off (and free) unless the variable is set.
 */
import * as jsc from "bun:jsc";
import { writeFileSync } from "node:fs";
import { join } from "node:path";

const DUMP_EVERY_MS = 1_000;

type Traces = jsc.SamplingProfileStackTraces;
type Frame = Traces["traces"][number]["frames"][number];
/** Present at run time in Bun 1.4.5, missing from bun-types: the samples since the last call, then cleared. */
const takeSamples = (jsc as unknown as { samplingProfilerStackTraces(): Traces }).samplingProfilerStackTraces;

export interface ThreadProfile {
  readonly thread: string;
  /** seconds between samples */
  interval: number;
  samples: number;
  /** samples whose innermost frame is the function */
  readonly self: Record<string, number>;
  /** samples with the function anywhere on the stack (counted once per sample) */
  readonly total: Record<string, number>;
  /** samples per whole stack, innermost frame first, frames joined by " < " (for breakdowns by caller) */
  readonly stacks: Record<string, number>;
  /** this thread's JavaScriptCore heap, bytes: highest seen at a dump, and at the last one */
  peakHeap: number;
  heap: number;
}

const frameName = (f: Frame): string => {
  const file = f.sourceURL ? f.sourceURL.replace(/^.*\/(src|node_modules)\//, "$1/") : "native";
  return `${f.name || "(anonymous)"} ${file}${f.line ? `:${f.line}` : ""}`;
};

/** Adds the samples taken since the last call (the profiler hands each sample out once). */
export function collect(profile: ThreadProfile, traces: Traces): void {
  profile.interval = traces.interval;
  for (const { frames } of traces.traces) {
    if (frames.length === 0) continue;
    profile.samples++;
    const top = frameName(frames[0]!);
    profile.self[top] = (profile.self[top] ?? 0) + 1;
    const seen = new Set<string>();
    for (const f of frames) seen.add(frameName(f));
    for (const name of seen) profile.total[name] = (profile.total[name] ?? 0) + 1;
    const stack = frames.map(frameName).join(" < ");
    profile.stacks[stack] = (profile.stacks[stack] ?? 0) + 1;
  }
}

/** Starts sampling this thread when PROCESSOR_PROFILE_DIR is set. */
export function profileThread(thread: string): void {
  const dir = process.env.PROCESSOR_PROFILE_DIR;
  if (!dir) return;
  const profile: ThreadProfile = { thread, interval: 0, samples: 0, self: {}, total: {}, stacks: {}, peakHeap: 0, heap: 0 };
  jsc.startSamplingProfiler();
  const dump = (): void => {
    collect(profile, takeSamples());
    profile.heap = jsc.heapSize();
    profile.peakHeap = Math.max(profile.peakHeap, profile.heap);
    writeFileSync(join(dir, `${thread}.json`), JSON.stringify(profile));
  };
  setInterval(dump, DUMP_EVERY_MS).unref();
}
