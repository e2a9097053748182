/**
 * Chaos runner: builds processor, runs the fault-injection scenarios against real brokers and writes
 * docs/RELIABILITY.md.
 *
 *   bun scripts/chaos/run.ts [--scenarios kill,broker,cluster,storm,stall,fence,output-gone,poison,churn-c1,churn-c2,churn-c4,churn-mixed]
 *     [--guarantee at-least-once|exactly-once|both] [--quick] [--out FILE]
 *
 * --guarantee (default at-least-once) is the mode processor runs in: exactly-once gives every process
 * --guarantee exactly-once and a transactional id of its own, kept across its restarts; both runs each scenario
 * once per mode and the report sets the two side by side.
 *
 * Scenarios that break a broker use the `chaos` broker (127.0.0.1:39092) and the 3-node `cluster`, never the
 * shared single broker. The report is rewritten after every scenario, so an interrupted run keeps what it has.
 */
import { cpus, release, totalmem } from "node:os";
import { mkdirSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { BOOTSTRAP, startBrokers, stopBrokers } from "./brokers.ts";
import { renderReport } from "./report.ts";
import { runScenario, type ScenarioResult } from "./scenario.ts";
import { duplicatesAllowed, GUARANTEES, type Guarantee } from "./verifier.ts";
import type { Scenario } from "./scenarios/common.ts";
import { brokerScenario } from "./scenarios/broker.ts";
import { churnC1Scenario, churnC2Scenario, churnC4Scenario, churnMixedScenario } from "./scenarios/churn.ts";
import { clusterScenario } from "./scenarios/cluster.ts";
import { fenceScenario } from "./scenarios/fence.ts";
import { killScenario } from "./scenarios/kill.ts";
import { outputGoneScenario } from "./scenarios/output-gone.ts";
import { poisonScenario } from "./scenarios/poison.ts";
import { stallScenario } from "./scenarios/stall.ts";
import { stormScenario } from "./scenarios/storm.ts";

const root = resolve(import.meta.dir, "../..");
const ALL: readonly Scenario[] = [
  killScenario,
  brokerScenario,
  clusterScenario,
  stormScenario,
  stallScenario,
  fenceScenario,
  outputGoneScenario,
  poisonScenario,
  churnC1Scenario,
  churnC2Scenario,
  churnC4Scenario,
  churnMixedScenario,
];

interface Args {
  names: string[];
  quick: boolean;
  out: string;
  extra: string[];
  guarantees: Guarantee[];
  /** The --guarantee value as given (null: not given). */
  guaranteeArg: string | null;
}

function parseArgs(argv: readonly string[]): Args {
  let names = ALL.map((s) => s.name);
  let guaranteeArg: string | null = null;
  let quick = false;
  let extra: string[] = [];
  let out = resolve(root, "docs/RELIABILITY.md");
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === "--quick") quick = true;
    else if (a === "--scenarios") names = (argv[++i] ?? "").split(",").filter(Boolean);
    else if (a === "--out") out = resolve(argv[++i] ?? out);
    else if (a === "--processor-args") extra = (argv[++i] ?? "").split(" ").filter(Boolean);
    else if (a === "--guarantee") guaranteeArg = argv[++i] ?? "";
    else {
      console.error(
        `usage: bun scripts/chaos/run.ts [--scenarios ${ALL.map((s) => s.name).join(",")}] [--guarantee at-least-once|exactly-once|both] [--quick] [--out FILE] [--processor-args "FLAGS appended to every processor"]`,
      );
      process.exit(2);
    }
  }
  const unknown = names.filter((n) => !ALL.some((s) => s.name === n));
  if (unknown.length > 0) {
    console.error(`unknown scenario(s): ${unknown.join(", ")}`);
    process.exit(2);
  }
  const guarantees: Guarantee[] =
    guaranteeArg === null || guaranteeArg === "at-least-once"
      ? ["at-least-once"]
      : guaranteeArg === "exactly-once"
        ? ["exactly-once"]
        : guaranteeArg === "both"
          ? [...GUARANTEES]
          : [];
  if (guarantees.length === 0) {
    console.error(`--guarantee: expected at-least-once, exactly-once or both, got "${guaranteeArg}"`);
    process.exit(2);
  }
  return { names, quick, out, extra, guarantees, guaranteeArg };
}

async function build(binary: string): Promise<string> {
  const run = Bun.spawn([process.execPath, resolve(root, "scripts/build.ts"), "--outfile", binary], {
    cwd: root,
    stdout: "pipe",
    stderr: "pipe",
  });
  if ((await run.exited) !== 0) throw new Error(`build failed: ${await new Response(run.stderr).text()}`);
  const version = Bun.spawnSync([binary, "--version"], { stdout: "pipe" }).stdout.toString().trim();
  return version;
}

/** Whether the built processor knows --guarantee and --transactional-id (exactly-once mode). */
function supportsExactlyOnce(binary: string): boolean {
  const help = Bun.spawnSync([binary, "--help"], { stdout: "pipe", stderr: "pipe" });
  const text = help.stdout.toString() + help.stderr.toString();
  return text.includes("--guarantee") && text.includes("--transactional-id") && text.includes("exactly-once");
}

function git(args: string[]): string {
  return Bun.spawnSync(["git", ...args], { cwd: root, stdout: "pipe" })
    .stdout.toString()
    .trim();
}

const { names, quick, out, extra, guarantees, guaranteeArg } = parseArgs(process.argv.slice(2));
const scenarios = ALL.filter((s) => names.includes(s.name));
const startedAt = new Date();
const binary = resolve(root, "dist/processor-chaos");
const logRoot = resolve(root, `.cache/chaos/${startedAt.toISOString().replaceAll(":", "-")}`);
mkdirSync(logRoot, { recursive: true });
console.log(`[chaos] building ${binary}; logs in ${logRoot}`);
const processorVersion = await build(binary);
if (guarantees.includes("exactly-once") && !supportsExactlyOnce(binary)) {
  console.error(`[chaos] ${binary} --help does not list --guarantee exactly-once and --transactional-id: cannot run exactly-once`);
  process.exit(2);
}
const cpu = cpus();
const machine = `${cpu.length} × ${cpu[0]?.model ?? "?"}, ${(totalmem() / 2 ** 30).toFixed(0)} GiB RAM, Linux ${release()}; shared with other Kafka work while running, so times are noisy`;
// the binary is built from the working tree: say so when src/ differs from the commit
const dirty =
  git(["status", "--porcelain", "--", "src", "scripts/build.ts", "package.json"]) === "" ? "" : ", built with uncommitted changes in src";
const versions = `processor ${processorVersion} (commit ${git(["rev-parse", "--short", "HEAD"])}${dirty}), Bun ${Bun.version}, Apache Kafka 4.4.0 (scripts/kafka), @platformatic/kafka 2.12.1`;
const command = `bun scripts/chaos/run.ts${process.argv.includes("--scenarios") ? ` --scenarios ${names.join(",")}` : ""}${guaranteeArg === null ? "" : ` --guarantee ${guaranteeArg}`}${quick ? " --quick" : ""}${extra.length > 0 ? ` --processor-args "${extra.join(" ")}"` : ""}`;
const summaries = new Map(ALL.map((s) => [s.name, s.summary]));
const results: ScenarioResult[] = [];

const write = () => {
  const report = renderReport(results, {
    command,
    startedAt,
    finishedAt: new Date(),
    machine,
    versions,
    quick,
    guarantees,
    skipped: ALL.filter((s) => !results.some((r) => r.name === s.name)).map((s) => s.name),
    summaries,
  });
  writeFileSync(out, report);
  // the raw figures, for a closer look than the report gives (lost ids, violations, exits)
  writeFileSync(
    resolve(logRoot, "results.json"),
    JSON.stringify(results, (_, v: unknown) => (v === Number.POSITIVE_INFINITY ? "Infinity" : v), 1),
  );
};

let failed = false;
// each scenario once per guarantee, one right after the other, so a side-by-side pair is complete early
const runs = scenarios.flatMap((scenario) => guarantees.map((guarantee) => ({ scenario, guarantee })));
for (const [i, { scenario, guarantee }] of runs.entries()) {
  const broker = scenario.broker ?? "chaos";
  const label = `${scenario.name} (${guarantee})`;
  console.log(`[chaos] scenario ${label}: starting the ${broker} broker(s)`);
  await startBrokers(broker);
  try {
    const base = scenario.config(quick);
    const config = {
      ...base,
      processorArgs: [...base.processorArgs, ...extra],
      name: scenario.name,
      guarantee,
      brokers: BOOTSTRAP[broker],
    };
    const result = await runScenario(config, binary, logRoot, (ctx) => scenario.body(ctx, quick), scenario.check?.bind(scenario));
    results.push(result);
    const v = result.verdict;
    console.log(
      `[chaos] ${label}: sent ${v.sent}, produced ${v.produced}, DLQ ${v.deadLettered}, lost ${v.lost.length}, duplicates ${v.duplicates} (${guarantee === "exactly-once" ? "must be 0" : `bound ${result.duplicateBound}`}), order ${v.orderViolations.length}, commit-past ${v.commitPastUnproduced.length}, exits ${result.unexpectedExits.length}, drained ${result.drained}`,
    );
    const c = result.churn;
    if (c !== undefined) {
      const stall = (
        s: { partition: number; ms: number; countedMs: number } | null,
        ms: (x: { ms: number; countedMs: number }) => number,
      ) => (s === null ? "none" : `p${s.partition} ${(ms(s) / 1000).toFixed(1)} s`);
      console.log(
        `[chaos]   churn: ${c.joins} joins, ${c.leaves} SIGTERM leaves, ${c.kills} SIGKILLs; duplicates ${((100 * v.duplicates) / Math.max(1, v.sent)).toFixed(2)}% of sent; after joins ${c.duplicatesAfter.join}, leaves ${c.duplicatesAfter.leave}, kills ${c.duplicatesAfter.kill}, before any event ${c.duplicatesAfter.before}; longest stall ${stall(c.longestStall, (x) => x.ms)}, outside kill windows ${stall(c.longestCountedStall, (x) => x.countedMs)} (limit ${c.stallLimitMs / 1000} s${c.stallExceeded ? ": EXCEEDED" : ""})`,
      );
    }
    for (const note of result.notes) console.log(`[chaos]   ${note}`);
    if (
      v.lost.length > 0 ||
      // at-least-once: duplicates beyond the bound show in the report only; exactly-once: any fails the run
      (guarantee === "exactly-once" && !duplicatesAllowed(guarantee, v.duplicates, result.duplicateBound)) ||
      v.orderViolations.length > 0 ||
      v.commitPastUnproduced.length > 0 ||
      result.unexpectedExits.length > 0 ||
      !result.drained ||
      result.churn?.stallExceeded === true ||
      (result.churn?.hungLeaves.length ?? 0) > 0
    )
      failed = true;
  } catch (error) {
    failed = true;
    console.error(`[chaos] scenario ${label} failed to run: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  }
  write();
  // the cluster's three JVMs compete with everything else on a small machine: stop them when done (not between
  // the two modes of the same scenario)
  if (broker === "cluster" && runs[i + 1]?.scenario !== scenario) await stopBrokers("cluster").catch(() => undefined);
}
await stopBrokers("chaos").catch(() => undefined);
console.log(`[chaos] report written to ${out}`);
process.exit(failed ? 1 : 0);
