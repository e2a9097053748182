/**
 * The side-by-side benchmark cannot rot: scripts/bench/compare.ts runs in a tiny mode (3,000 records, one run, T1 and
 * T5, processor and the kcat pipe, which starts fastest of the external contenders) and its report must hold sane
 * figures. No timing thresholds: this checks the harness, not the speed.
 */
import { afterAll, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { BROKERS } from "../support/kafka.ts";

const root = resolve(import.meta.dir, "../..");
const dir = mkdtempSync(join(tmpdir(), "bench-harness-"));
const COUNT = 3_000;

afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Row {
  name: string;
  rate: number;
  cpuPerM: number;
  peakMb: number;
  startupS: number;
  outPlusDlq: number;
}
interface Run {
  contender: string;
  records: number;
  outputs: number;
  dlq: number;
}
interface Report {
  count: number;
  rows: Row[];
  results: { t1: Run[] };
}

test("compare.ts tiny mode: processor and kcat drain the same input, report and chart written", async () => {
  const json = join(dir, "results.json");
  const child = Bun.spawn(
    [
      process.execPath,
      join(root, "scripts/bench/compare.ts"),
      "--count",
      String(COUNT),
      "--runs",
      "1",
      "--tests",
      "T1,T5",
      "--contenders",
      "processor,kcat",
      "--brokers",
      BROKERS.join(","),
      "--binary",
      join(dir, "processor-bench"),
      "--report",
      join(dir, "BENCHMARKS.md"),
      "--svg-dir",
      join(dir, "svg"),
      "--json",
      json,
    ],
    { cwd: root, stdout: "pipe", stderr: "pipe" },
  );
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) console.error(out, err);
  expect(code).toBe(0);

  const report = JSON.parse(readFileSync(json, "utf8")) as Report;
  expect(report.count).toBe(COUNT);
  expect(report.rows.map((r) => r.name).sort()).toEqual(["kcat", "processor"]);
  for (const row of report.rows) {
    expect(row.rate).toBeGreaterThan(0);
    expect(row.cpuPerM).toBeGreaterThan(0);
    expect(row.peakMb).toBeGreaterThan(1);
    expect(row.startupS).toBeGreaterThan(0);
  }
  const processor = report.results.t1.find((r) => r.contender === "processor")!;
  expect(processor.records).toBe(COUNT);
  // the seed rule: 10% of the input is broken and goes to the dead-letter topic; at-least-once allows duplicates
  expect(processor.outputs).toBeGreaterThanOrEqual(COUNT - COUNT / 10);
  expect(processor.dlq).toBeGreaterThanOrEqual(COUNT / 10);
  const kcat = report.results.t1.find((r) => r.contender === "kcat")!;
  expect(kcat.records).toBe(COUNT);
  // a passthrough with no dead-letter topic; its pipe may hold back a short tail (see lib/drain.ts)
  expect(kcat.dlq).toBe(0);
  expect(kcat.outputs).toBeGreaterThan(COUNT / 2);
  expect(kcat.outputs).toBeLessThanOrEqual(COUNT);

  const markdown = readFileSync(join(dir, "BENCHMARKS.md"), "utf8");
  expect(markdown).toContain("## T1");
  expect(markdown).toContain("## T5");
  expect(markdown).toContain("## Goals");
  expect(existsSync(join(dir, "svg/t1-throughput.svg"))).toBe(true);
  expect(readFileSync(join(dir, "svg/t1-throughput.svg"), "utf8")).toStartWith("<svg");
  expect(out).toMatch(/deleted \d+ topics/);
}, 90_000);
