/** Markdown tables, the Goals evaluation and the charts of compare.ts, from the raw results. */
import type { Contender } from "./contenders.ts";
import type { DrainResult } from "./drain.ts";
import type { LatencyResult } from "./latency.ts";
import { barChart, lineChart } from "./svg.ts";
import { fixed, fmt, median, steady } from "../../lib/stats.ts";

const MB = 2 ** 20;

export interface Results {
  t1: DrainResult[];
  t2: LatencyResult[];
  t3: DrainResult[];
  t4: DrainResult[];
}

export interface T1Row {
  c: Contender;
  runs: DrainResult[];
  rate: number;
  cpuPerM: number;
  peakMb: number;
  startupS: number;
  outPlusDlq: number;
}

/** One row per contender that has runs in `results` (in the contenders' order), built from its runs. */
function rowsOf<T>(contenders: readonly Contender[], results: readonly DrainResult[], row: (c: Contender, runs: DrainResult[]) => T): T[] {
  return contenders.flatMap((c) => {
    const runs = results.filter((r) => r.contender === c.name);
    return runs.length === 0 ? [] : [row(c, runs)];
  });
}

export function t1Rows(contenders: readonly Contender[], t1: readonly DrainResult[]): T1Row[] {
  return rowsOf(contenders, t1, (c, runs) => ({
    c,
    runs,
    rate: median(runs.map((r) => r.rate)),
    cpuPerM: median(runs.map((r) => (r.cpuSeconds / r.records) * 1e6)),
    peakMb: median(runs.map((r) => r.peakRssBytes / MB)),
    startupS: median(runs.flatMap((r) => (r.firstOutputMs === null ? [] : [r.firstOutputMs / 1000]))),
    outPlusDlq: Math.min(...runs.map((r) => r.outputs + r.dlq)),
  }));
}

const table = (header: string[], align: string[], rows: string[][]): string =>
  [
    `| ${header.join(" | ")} |`,
    `| ${align.join(" | ")} |`,
    ...rows.map((r) => `| ${r.map((cell) => cell.replaceAll("|", "\\|")).join(" | ")} |`),
  ].join("\n");

export function t1Table(rows: readonly T1Row[]): string {
  const ref = rows.find((r) => r.c.name === "processor");
  return table(
    ["contender", "transforms", "records", "records/s (median)", "each run", "vs processor", "CPU s / 1M", "peak RSS MB", "out+dlq"],
    ["---", ":-:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"],
    rows.map((r) => {
      const records = r.runs[0]!.records;
      const check =
        r.c.family === "perf-consumer"
          ? "—"
          : `${fmt(r.outPlusDlq)}${r.outPlusDlq < records ? " (MISSING)" : r.outPlusDlq > records ? " (dups)" : ""}${
              r.runs.some((x) => x.note.includes("NOT TRANSACTIONAL")) ? " (NOT TRANSACTIONAL: no markers)" : ""
            }`;
      return [
        r.c.label,
        r.c.transforms ? "yes" : "no",
        fmt(records),
        fmt(r.rate),
        r.runs.map((x) => fmt(x.rate)).join(" / "),
        ref ? `${(r.rate / ref.rate).toFixed(2)}×` : "—",
        fixed(r.cpuPerM),
        fixed(r.peakMb, 0),
        check,
      ];
    }),
  );
}

export function t5Table(rows: readonly T1Row[]): string {
  return table(
    ["contender", "start → first output s (median)", "each run"],
    ["---", "--:", "--:"],
    rows
      .filter((r) => Number.isFinite(r.startupS))
      .map((r) => [
        r.c.label,
        fixed(r.startupS, 2),
        r.runs.map((x) => fixed(x.firstOutputMs === null ? null : x.firstOutputMs / 1000, 2)).join(" / "),
      ]),
  );
}

export function t2Table(contenders: readonly Contender[], t2: readonly LatencyResult[]): string {
  const label = (name: string): string => contenders.find((c) => c.name === name)?.label ?? name;
  return table(
    ["contender", "readable at", "input rate /s", "achieved /s", "p50 ms", "p99 ms", "max ms", "p99 to append ms", "received / sent"],
    ["---", ":-:", "--:", "--:", "--:", "--:", "--:", "--:", "--:"],
    t2.flatMap((r) =>
      r.rates.map((x) => [
        label(r.contender),
        r.toCommit ? (r.transactional === false ? "commit (NOT TRANSACTIONAL: no markers)" : "commit") : "append",
        fmt(x.rate),
        fmt(x.achieved),
        fmt(x.p50),
        fmt(x.p99),
        fmt(x.max),
        fmt(x.appendP99),
        `${fmt(x.received)} / ${fmt(x.sent)}`,
      ]),
    ),
  );
}

/** The exactly-once contenders next to their at-least-once selves, with processor-eos's ratios. */
export const EOS_NAMES = ["processor-eos", "processor-eos-100ms", "processor", "streams-eos", "streams"] as const;

export function eosTable(contenders: readonly Contender[], res: Results): string | null {
  const rows = t1Rows(contenders, res.t1);
  const names = EOS_NAMES.filter((n) => rows.some((r) => r.c.name === n) || res.t2.some((r) => r.contender === n)) as readonly string[];
  if (!names.includes("processor-eos") && !names.includes("streams-eos")) return null;
  type Metric = { name: string; value: (n: string) => number | undefined; digits: number };
  const t1 = (n: string): T1Row | undefined => rows.find((r) => r.c.name === n);
  const metrics: Metric[] = [
    { name: "T1 records/s", value: (n) => t1(n)?.rate, digits: 0 },
    { name: "T1 CPU s / 1M", value: (n) => t1(n)?.cpuPerM, digits: 1 },
    { name: "T1 peak RSS MB", value: (n) => t1(n)?.peakMb, digits: 0 },
  ];
  const rates = [...new Set(res.t2.flatMap((r) => r.rates.map((x) => x.rate)))].sort((a, b) => a - b);
  const at = (n: string, rate: number) => res.t2.find((r) => r.contender === n)?.rates.find((x) => x.rate === rate);
  for (const rate of rates)
    for (const q of ["p50", "p99"] as const)
      metrics.push({ name: `T2 ${q} ms at ${fmt(rate)}/s (to readable)`, value: (n) => at(n, rate)?.[q], digits: 0 });
  const cell = (v: number | undefined, digits: number): string =>
    v === undefined || !Number.isFinite(v) ? "—" : digits === 0 ? fmt(v) : fixed(v, digits);
  const ratio = (a: number | undefined, b: number | undefined): string =>
    a === undefined || b === undefined || !Number.isFinite(a) || !Number.isFinite(b) || b === 0 ? "—" : `${(a / b).toFixed(2)}×`;
  const commit = (n: string): string => contenders.find((c) => c.name === n)?.commitInterval ?? "—";
  // processor-eos-100ms (only when named) commits as often as Streams does under exactly-once
  const pairs: Array<[string, string]> = [
    ["processor-eos", "processor"],
    ["processor-eos", "streams-eos"],
    ...(names.includes("processor-eos-100ms") ? [["processor-eos-100ms", "streams-eos"] as [string, string]] : []),
  ];
  return table(
    ["metric", ...names, ...pairs.map(([a, b]) => `${a} / ${b}`)],
    ["---", ...names.map(() => "--:"), ...pairs.map(() => "--:")],
    [
      ["commit interval", ...names.map(commit), ...pairs.map(() => "")],
      ...metrics
        .filter((m) => names.some((n) => m.value(n) !== undefined))
        .map((m) => [m.name, ...names.map((n) => cell(m.value(n), m.digits)), ...pairs.map(([a, b]) => ratio(m.value(a), m.value(b)))]),
    ],
  );
}

export interface MemRow {
  c: Contender;
  r: DrainResult;
  peakMb: number;
  steadyMb: number;
  /** median of the last quarter / median of the second quarter of the series: ~1 means flat */
  growth: number;
}

export function memRows(contenders: readonly Contender[], t3: readonly DrainResult[]): MemRow[] {
  return rowsOf(contenders, t3, (c, runs) => {
    const r = runs[0]!; // T3 runs once per contender
    const ys = r.rss.map((p) => p[1] / MB);
    const q = Math.max(1, Math.floor(ys.length / 4));
    const growth = ys.length >= 4 ? median(ys.slice(ys.length - q)) / median(ys.slice(q, 2 * q)) : Number.NaN;
    return { c, r, peakMb: r.peakRssBytes / MB, steadyMb: steady(ys), growth };
  });
}

export function t3Table(rows: readonly MemRow[]): string {
  return table(
    ["contender", "records", "records/s", "peak RSS MB", "steady RSS MB", "last ¼ / second ¼", "samples"],
    ["---", "--:", "--:", "--:", "--:", "--:", "--:"],
    rows.map((m) => [
      m.c.label,
      fmt(m.r.records),
      fmt(m.r.rate),
      fixed(m.peakMb, 0),
      fixed(m.steadyMb, 0),
      fixed(m.growth, 2),
      String(m.r.rss.length),
    ]),
  );
}

export function t4Table(contenders: readonly Contender[], t4: readonly DrainResult[]): string {
  const label = (name: string): string => contenders.find((c) => c.name === name)?.label ?? name;
  const bound = t4.find((r) => r.contender === "kafkajs-slow");
  return table(
    ["contender", "records", "seconds", "records/s", "vs partition-bound", "CPU s", "peak RSS MB", "outputs"],
    ["---", "--:", "--:", "--:", "--:", "--:", "--:", "--:"],
    t4.map((r) => [
      label(r.contender),
      fmt(r.records),
      fixed(r.records / r.rate, 1),
      fmt(r.rate),
      bound ? `${(r.rate / bound.rate).toFixed(1)}×` : "—",
      fixed(r.cpuSeconds),
      fixed(r.peakRssBytes / MB, 0),
      fmt(r.outputs + r.dlq),
    ]),
  );
}

type Verdict = { goal: string; met: boolean | null; figure: string };

/** Issue 5's and issue 13's goals as ratios within this run. processor's best T1 configuration stands for processor in T1. */
export function goals(contenders: readonly Contender[], res: Results): Verdict[] {
  // the goals are at-least-once ones: the exactly-once contenders have their own table (eosTable)
  const rows = t1Rows(
    contenders.filter((c) => !c.exactlyOnce),
    res.t1,
  );
  const procs = rows.filter((r) => r.c.family === "processor");
  const best = procs.length > 0 ? procs.reduce((a, b) => (b.rate > a.rate ? b : a)) : undefined;
  const byName = (n: string): T1Row | undefined => rows.find((r) => r.c.name === n);
  const out: Verdict[] = [];
  const ratio = (goal: string, other: T1Row | undefined, min: number): void => {
    if (!best || !other) return void out.push({ goal, met: null, figure: "not measured in this run" });
    const x = best.rate / other.rate;
    out.push({ goal, met: x >= min, figure: `${x.toFixed(2)}× (${best.c.name} ${fmt(best.rate)}/s vs ${fmt(other.rate)}/s)` });
  };
  ratio("T1 ≥ 0.5× the Go contender (issue 13)", byName("go"), 0.5);
  ratio("T1 ≥ 1.2× Kafka Streams", byName("streams"), 1.2);
  ratio("T1 ≥ 1.5× plain Bun loop", byName("plain"), 1.5);
  ratio("T1 ≥ 70% of the kcat pipe", byName("kcat"), 0.7);
  const others = rows.filter((r) => r.c.transforms && r.c.family !== "processor");
  if (procs.length > 0 && others.length > 0) {
    const lowP = procs.reduce((a, b) => (b.cpuPerM < a.cpuPerM ? b : a));
    const lowO = others.reduce((a, b) => (b.cpuPerM < a.cpuPerM ? b : a));
    out.push({
      goal: "T1 CPU s / 1M lowest of the transforming contenders",
      met: lowP.cpuPerM <= lowO.cpuPerM,
      figure: `${lowP.c.name} ${fixed(lowP.cpuPerM)} vs ${lowO.c.name} ${fixed(lowO.cpuPerM)} (${(lowP.cpuPerM / lowO.cpuPerM).toFixed(2)}×)`,
    });
  } else out.push({ goal: "T1 CPU s / 1M lowest of the transforming contenders", met: null, figure: "not measured in this run" });
  const go = byName("go");
  const defaults = byName("processor");
  out.push(
    go && defaults
      ? {
          goal: "T1 CPU s / 1M ≤ 3× the Go contender's (issue 13; processor defaults)",
          met: defaults.cpuPerM <= 3 * go.cpuPerM,
          figure: `${fixed(defaults.cpuPerM)} vs ${fixed(go.cpuPerM)} (${(defaults.cpuPerM / go.cpuPerM).toFixed(2)}×)`,
        }
      : { goal: "T1 CPU s / 1M ≤ 3× the Go contender's (issue 13)", met: null, figure: "not measured in this run" },
  );
  const batch = byName("processor-batch");
  out.push(
    batch && defaults
      ? {
          goal: "T1 batch mode (seed rule, --batch-size 256) ≥ 1.3× per-record (issue 13)",
          met: batch.rate >= 1.3 * defaults.rate,
          figure: `${(batch.rate / defaults.rate).toFixed(2)}× (${fmt(batch.rate)}/s vs ${fmt(defaults.rate)}/s; CPU s / 1M ${fixed(batch.cpuPerM)} vs ${fixed(defaults.cpuPerM)})`,
        }
      : { goal: "T1 batch mode ≥ 1.3× per-record (issue 13)", met: null, figure: "not measured in this run" },
  );
  const at5k = (name: string): number | undefined => res.t2.find((r) => r.contender === name)?.rates.find((x) => x.rate === 5000)?.p99;
  const p = at5k("processor");
  const s = at5k("streams");
  out.push({
    goal: "T2 p99 ≤ 20 ms at 5k msg/s",
    met: p === undefined ? null : p <= 20,
    figure: p === undefined ? "not measured in this run" : `${fmt(p)} ms`,
  });
  out.push({
    goal: "T2 p99 at 5k below Kafka Streams'",
    met: p === undefined || s === undefined ? null : p < s,
    figure: p === undefined || s === undefined ? "not measured in this run" : `${fmt(p)} ms vs ${fmt(s)} ms`,
  });
  const mem = memRows(contenders, res.t3).filter((m) => m.c.family === "processor");
  if (mem.length > 0) {
    const worst = mem.reduce((a, b) => (b.peakMb > a.peakMb ? b : a));
    out.push({
      goal: "T3 ≤ 150 MB RSS (every processor config)",
      met: worst.peakMb <= 150,
      figure: `highest peak ${fixed(worst.peakMb, 0)} MB (${worst.c.name})`,
    });
    const own = mem.find((m) => m.c.name === "processor") ?? worst;
    const streamsPeak = memRows(contenders, res.t3).find((m) => m.c.name === "streams")?.peakMb;
    out.push({
      goal: "T3 peak RSS ≤ 250 MB and below Kafka Streams' (issue 13; processor defaults)",
      met: own.peakMb <= 250 && (streamsPeak === undefined || own.peakMb < streamsPeak),
      figure: `${fixed(own.peakMb, 0)} MB (${own.c.name})${streamsPeak === undefined ? "; Streams not measured" : ` vs Streams ${fixed(streamsPeak, 0)} MB`}`,
    });
    const steep = mem.reduce((a, b) => (b.growth > a.growth ? b : a));
    out.push({
      goal: "T3 flat over the backlog (last ¼ ≤ 1.1× second ¼)",
      met: steep.growth <= 1.1,
      figure: `worst ${fixed(steep.growth, 2)} (${steep.c.name})`,
    });
  } else out.push({ goal: "T3 ≤ 150 MB RSS and flat", met: null, figure: "not measured in this run" });
  const slow = res.t4.find((r) => r.contender === "processor-slow");
  const bound = res.t4.find((r) => r.contender === "kafkajs-slow");
  out.push({
    goal: "T4 ≥ 15,000 msg/s",
    met: slow ? slow.rate >= 15_000 : null,
    figure: slow ? `${fmt(slow.rate)} msg/s` : "not measured in this run",
  });
  out.push({
    goal: "T4 ≥ 50× a partition-bound consumer",
    met: slow && bound ? slow.rate / bound.rate >= 50 : null,
    figure: slow && bound ? `${(slow.rate / bound.rate).toFixed(1)}× (${fmt(bound.rate)} msg/s)` : "not measured in this run",
  });
  const startup = rows.find((r) => r.c.name === "processor")?.startupS ?? best?.startupS;
  for (const limit of [1.5, 1.0]) {
    out.push({
      goal: `T5 ≤ ${limit.toFixed(1)} s start → first output${limit === 1 ? " (issue 13)" : ""}`,
      met: startup === undefined || !Number.isFinite(startup) ? null : startup <= limit,
      figure: startup === undefined ? "not measured in this run" : `${fixed(startup, 2)} s (processor default config)`,
    });
  }
  return out;
}

export function goalsTable(v: readonly Verdict[]): string {
  return table(
    ["goal", "verdict", "measured"],
    ["---", ":-:", "---"],
    v.map((g) => [g.goal, g.met === null ? "—" : g.met ? "met" : "**not met**", g.figure]),
  );
}

export function t1Chart(rows: readonly T1Row[]): string {
  return barChart(
    "T1: draining the preloaded input, records/s (median of runs)",
    "records/s",
    rows.map((r) => ({
      label: r.c.label,
      value: r.rate,
      note: `${fmt(r.rate)}/s · ${fixed(r.cpuPerM)} CPU s/1M`,
      highlight: r.c.family === "processor",
    })),
  );
}

export function t3Chart(rows: readonly MemRow[]): string {
  return lineChart(
    "T3: RSS of the process tree while draining the backlog",
    "seconds since process start",
    "RSS MB",
    rows.map((m) => ({ label: m.c.name, points: m.r.rss.map(([ms, b]) => [ms / 1000, b / MB] as const) })),
  );
}
