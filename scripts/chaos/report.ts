/**
 * Renders the chaos results as docs/RELIABILITY.md: the table, then per-scenario details. Every result says the
 * guarantee it ran under; when both ran, a table sets them side by side per scenario.
 */
import type { ScenarioResult } from "./scenario.ts";
import type { Stall } from "./churn-figures.ts";
import { duplicatesAllowed, GUARANTEES, type Guarantee } from "./verifier.ts";

export interface RunInfo {
  readonly command: string;
  readonly startedAt: Date;
  readonly finishedAt: Date;
  readonly machine: string;
  readonly versions: string;
  readonly quick: boolean;
  /** The guarantees the run was asked for (each scenario ran once per guarantee). */
  readonly guarantees: readonly Guarantee[];
  readonly skipped: readonly string[];
  readonly summaries: ReadonlyMap<string, string>;
}

const fmt = (n: number) => n.toLocaleString("en-US");
const secs = (ms: number | null) => (ms === null ? "—" : Number.isFinite(ms) ? `${(ms / 1000).toFixed(1)} s` : "never");

const exactlyOnce = (r: ScenarioResult) => r.guarantee === "exactly-once";

/** Duplicates against what the guarantee allows: the bound (at-least-once) or none (exactly-once). */
function duplicatesText(r: ScenarioResult): string {
  const d = r.verdict.duplicates;
  const held = duplicatesAllowed(r.guarantee, d, r.duplicateBound) ? "held" : "EXCEEDED";
  return exactlyOnce(r) ? `${fmt(d)} (must be 0: ${held})` : `${fmt(d)} (≤ ${fmt(r.duplicateBound)}: ${held})`;
}

function problems(r: ScenarioResult): string[] {
  const list: string[] = [];
  if (r.verdict.lost.length > 0) list.push(`${fmt(r.verdict.lost.length)} lost (e.g. ${r.verdict.lost.slice(0, 3).join(", ")})`);
  if (exactlyOnce(r) && r.verdict.duplicates > 0)
    list.push(`${fmt(r.verdict.duplicates)} duplicates (exactly-once allows none: a record committed twice in output/DLQ)`);
  if (r.verdict.orderViolations.length > 0)
    list.push(`${r.verdict.orderViolations.length} order violations (e.g. ${JSON.stringify(r.verdict.orderViolations[0])})`);
  if (r.verdict.commitPastUnproduced.length > 0)
    list.push(
      `${r.verdict.commitPastUnproduced.length} commit samples past an unproduced record (e.g. ${JSON.stringify(r.verdict.commitPastUnproduced[0])})`,
    );
  if (r.verdict.commitRegressions.length > 0)
    list.push(
      `${r.verdict.commitRegressions.length} commit regressions (a committed offset went backwards, e.g. ${JSON.stringify(r.verdict.commitRegressions[0])})`,
    );
  if (r.unexpectedExits.length > 0)
    list.push(
      `${r.unexpectedExits.length} processes exited on their own: ${r.unexpectedExits.map((e) => `#${e.id} code ${e.code}${e.signal ? ` signal ${e.signal}` : ""}`).join(", ")}`,
    );
  if (!r.drained) list.push("did not drain");
  if ((r.churn?.hungLeaves.length ?? 0) > 0)
    list.push(
      `${r.churn!.hungLeaves.length} graceful leave(s) hung: process(es) ${r.churn!.hungLeaves.map((id) => `#${id}`).join(", ")} still running 50 s after SIGTERM, then SIGKILLed`,
    );
  const stall = r.churn?.longestCountedStall;
  if (r.churn?.stallExceeded && stall)
    list.push(
      `stalled: partition ${stall.partition} had lag and no commit progress for ${secs(stall.countedMs)}${stall.countedMs !== stall.ms ? ` outside kill windows (${secs(stall.ms)} in all)` : ""} (limit ${secs(r.churn.stallLimitMs)})`,
    );
  return list;
}

/** pass or FAIL, as in the main table. */
function passes(r: ScenarioResult): boolean {
  return problems(r).length === 0 && duplicatesAllowed(r.guarantee, r.verdict.duplicates, r.duplicateBound);
}

const pct = (part: number, whole: number) =>
  whole === 0 ? "—" : `${((100 * part) / whole).toFixed(part > 0 && part < whole / 1000 ? 3 : 2)}%`;
const per = (part: number, events: number) => (events === 0 ? "—" : fmt(Math.round(part / events)));

function stallText(stall: Stall | null, startedAt: number): string {
  if (stall === null) return "none";
  return `p${stall.partition}: ${secs(stall.ms)} (from +${secs(stall.from - startedAt)}, committed offset ${fmt(stall.committed)} while the end went ${fmt(stall.endFrom)} → ${fmt(stall.endTo)})`;
}

/** The group-churn table: only when a churn scenario ran, so the other scenarios' report stays as it was. */
function churnTable(results: readonly ScenarioResult[]): string[] {
  const churn = results.filter((r) => r.churn !== undefined);
  if (churn.length === 0) return [];
  const lines = ["## Group churn", ""];
  lines.push(
    "Goal: 0 lost; duplicates ≤ 0.1% of the input for graceful events plus, for SIGKILLs, what had landed but was not committed at each kill; no partition 10 s without commit progress while it has lag (outside kill windows); drained.",
    "",
  );
  lines.push(
    "| Scenario | Guarantee | Joins / SIGTERM leaves / SIGKILLs | Duplicates (% of sent) | Per graceful event | Per kill | Longest stall | Longest stall outside kill windows | Goal |",
  );
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---|");
  for (const r of churn) {
    const c = r.churn!;
    const v = r.verdict;
    const missed: string[] = [];
    if (v.lost.length > 0) missed.push(`${fmt(v.lost.length)} lost`);
    if (!duplicatesAllowed(r.guarantee, v.duplicates, r.duplicateBound))
      missed.push(exactlyOnce(r) ? "duplicates > 0 (exactly-once)" : `duplicates > ${fmt(r.duplicateBound)}`);
    if (c.stallExceeded) missed.push("stall");
    if (!r.drained) missed.push("not drained");
    if (c.hungLeaves.length > 0) missed.push("SIGTERM hung");
    const graceful = c.joins + c.leaves;
    const counted = c.longestCountedStall;
    lines.push(
      `| ${r.name} | ${r.guarantee} | ${c.joins} / ${c.leaves} / ${c.kills} | ${fmt(v.duplicates)} (${pct(v.duplicates, v.sent)}) | ${per(c.duplicatesAfter.join + c.duplicatesAfter.leave, graceful)} | ${per(c.duplicatesAfter.kill, c.kills)} | ${c.longestStall === null ? "none" : `${secs(c.longestStall.ms)} (p${c.longestStall.partition})`} | ${counted === null ? "none" : `${secs(counted.countedMs)} (p${counted.partition})`}${c.stallExceeded ? " > limit" : ""} | ${missed.length === 0 ? "met" : `**not met**: ${missed.join(", ")}`} |`,
    );
  }
  lines.push("");
  return lines;
}

function churnHowTo(results: readonly ScenarioResult[]): string[] {
  if (!results.some((r) => r.churn !== undefined)) return [];
  return [
    "- **Group churn** (churn-* scenarios): one long-lived member runs throughout while other members with the same flags join (the runner waits until each of the new process's consumers logged a non-empty `partitions assigned`, then 1–3 s more) and leave with SIGTERM; churn-mixed also SIGKILLs members and starts a replacement after each kill. Their **duplicate bound** is 0.1% of the records sent (the allowance for graceful events, which should re-deliver nothing: a member that leaves commits what it produced) plus the kill windows as above. **Duplicates (% of sent)** is over all records sent; **per graceful event** and **per kill**: each duplicate landing (an id's landings beyond the times it was sent, the later ones by append time) is charged to the SIGKILL whose window (below) holds it, else to the latest join, leave or kill at or before it landed, and the sum for a kind is divided by the number of such events (duplicates that landed before the first event are listed in the scenario's notes).",
    "- **Stall** (churn-* scenarios): the runner samples the input's end offsets with each commit sample. For every partition, a stall is a run of samples in which its committed offset did not rise above every earlier sample while it was below the end offset sampled at or before that time (records actually in the input then); it starts at the first such sample and ends at the sample showing progress or no lag. The check starts at the group's first commit or when the first member has its partitions, whichever comes first (start-up is not counted; a group that never commits is). After a SIGKILL the dead member keeps its partitions until the group expels it, so the window from the kill to its replacement's first non-empty `partitions assigned` plus the session timeout (6 s) is left out of the counted length: **longest stall** is the raw length, **outside kill windows** what the 10 s limit applies to. Over 10 s fails the scenario (exit code 1), like not draining; so does a SIGTERMed member still running 50 s later (then SIGKILLed; the event stays a graceful leave, with no kill bound). Sampling is every ~200 ms and processor commits every 1 s, so a healthy partition shows about 1 s.",
  ];
}

/** The longest stall of a churn scenario (outside kill windows when there were kills), else —. */
function longestStall(r: ScenarioResult): string {
  const c = r.churn;
  if (c === undefined) return "—";
  const s = c.longestCountedStall;
  return s === null ? "none" : `${secs(s.countedMs)} (p${s.partition})${c.stallExceeded ? " > limit" : ""}`;
}

/** One row per scenario, a column per guarantee for each figure: only when a scenario ran under both. */
function sideBySide(results: readonly ScenarioResult[]): string[] {
  const names = [...new Set(results.map((r) => r.name))].filter((n) =>
    GUARANTEES.every((g) => results.some((r) => r.name === n && r.guarantee === g)),
  );
  if (names.length === 0) return [];
  const short: Record<Guarantee, string> = { "at-least-once": "ALO", "exactly-once": "EOS" };
  const figures: ReadonlyArray<readonly [string, (r: ScenarioResult) => string]> = [
    ["Lost", (r) => fmt(r.verdict.lost.length)],
    ["Duplicates", duplicatesText],
    ["Order violations", (r) => String(r.verdict.orderViolations.length)],
    ["Commit past unproduced", (r) => String(r.verdict.commitPastUnproduced.length)],
    ["Recovery (worst)", (r) => secs(r.recoveryMs)],
    ["Longest stall", longestStall],
    ["Duration", (r) => secs(r.durationMs)],
    ["Verdict", (r) => (passes(r) ? "pass" : "**FAIL**")],
  ];
  const lines = ["## At-least-once and exactly-once side by side", ""];
  lines.push(
    "Each scenario ran once per guarantee (ALO: `--guarantee at-least-once`, EOS: `--guarantee exactly-once` with a transactional id per process slot, outputs read read_committed). ALO may repeat work within the duplicate bound; EOS must show 0 duplicates. Longest stall: churn scenarios only, outside kill windows. When a scenario ran more than once under one guarantee, the last run is shown.",
    "",
  );
  lines.push(`| Scenario | ${figures.flatMap(([label]) => GUARANTEES.map((g) => `${label}: ${short[g]}`)).join(" | ")} |`);
  lines.push(`|---|${figures.flatMap(() => GUARANTEES.map(() => "---:")).join("|")}|`);
  for (const name of names) {
    const of = (g: Guarantee) => results.findLast((r) => r.name === name && r.guarantee === g)!;
    lines.push(`| ${name} | ${figures.flatMap(([, cell]) => GUARANTEES.map((g) => cell(of(g)))).join(" | ")} |`);
  }
  lines.push("");
  return lines;
}

export function renderReport(results: readonly ScenarioResult[], info: RunInfo): string {
  const lines: string[] = [];
  lines.push("# Reliability: chaos runs", "");
  lines.push("Generated by `scripts/chaos/run.ts` from a real run; do not edit by hand.", "");
  lines.push(`- Command: \`${info.command}\`${info.quick ? " (quick sizes)" : ""}`);
  lines.push(`- Run: ${info.startedAt.toISOString()} – ${info.finishedAt.toISOString()}`);
  lines.push(`- Machine: ${info.machine}`);
  lines.push(`- Versions: ${info.versions}`);
  lines.push(
    `- Guarantee: ${info.guarantees.join(" and ")}${info.guarantees.length > 1 ? " (each scenario once per guarantee)" : ""}; every result below names its own`,
  );
  if (info.skipped.length > 0) lines.push(`- Not run this time: ${info.skipped.join(", ")}`);
  lines.push("");
  lines.push(
    "| Scenario | Guarantee | Sent | Produced | DLQ | Lost | Duplicates (bound) | Order violations | Commit past unproduced | Recovery time (worst) | Verdict |",
  );
  lines.push("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of results) {
    const v = r.verdict;
    lines.push(
      `| ${r.name} | ${r.guarantee} | ${fmt(v.sent)} | ${fmt(v.produced)} | ${fmt(v.deadLettered)} | ${fmt(v.lost.length)} | ${duplicatesText(r)} | ${v.orderViolations.length} | ${v.commitPastUnproduced.length} | ${secs(r.recoveryMs)} | ${passes(r) ? "pass" : "**FAIL**"} |`,
    );
  }
  lines.push("");
  lines.push(...sideBySide(results));
  lines.push(...churnTable(results));
  lines.push("## How to read it", "");
  lines.push(
    "- Every input record carries a unique id in an `x-chaos-id` header (equal to the seed JSON `id`; processor keeps headers, and the header also identifies non-JSON poison records). **Lost**: input ids in neither the output nor the DLQ. **Duplicates**: landings beyond the number of times the id is in the input, output and DLQ together (the test producer sometimes re-sends a batch after a failed send that the broker had in fact taken; such an id counts as sent twice).",
    "- **Order violation** (key ordering): an output whose input offset is lower than that of an earlier output of the same key, when its id had not been output before (re-delivery of an already-output prefix after a crash is allowed).",
    "- **Commit past unproduced**: the runner samples the group's committed offsets every ~200 ms; output and DLQ topics use `message.timestamp.type=LogAppendTime`; a sample (t, partition, offset) counts when some input record of that partition below the offset had no output/DLQ record appended by t (+50 ms clock tolerance).",
    "- **Commit regression**: a sampled committed offset lower than an earlier sample of the same partition: no loss by itself, but the mark of a fenced (stale) member committing old progress; listed under the scenario's problems.",
    "- **Duplicate bound**: at-least-once may only repeat work that had landed in output/DLQ but was not yet committed when the group re-delivered it. For a process SIGKILLed (kill, storm) the runner reads the committed offsets right after the death and counts the input records at or above them that had landed by then: that window is exact, because nobody commits for a dead member. For a broker or topic failure the re-delivery (a rebalance, or a re-fetch from the committed offset after the consumer stream failed) happens some time between the fault and the first commit progress after it, so the runner takes the largest such window sampled in that interval. The bound is the sum over faults; `held` means duplicates ≤ bound. SIGTERM is not counted: a graceful stop commits what it produced.",
    "- **Guarantee**: the mode processor ran in. at-least-once: the verdict above (duplicates within the bound). exactly-once (`--guarantee exactly-once`): every process gets `--transactional-id <run prefix>-s<slot>`, where a slot is kept by a process restarted after a SIGKILL (so the successor fences it and aborts what it left open) and never shared by two running processes; outputs, DLQ and offsets are committed in transactions, output and DLQ are read read_committed (after waiting up to 30 s for open transactions to end), and **any duplicate fails the scenario**, like a lost record (the bound is still computed but does not apply). The commit and order checks are the same in both modes.",
    "- **Recovery time**: for each fault, from its end (process restarted, broker answering, topic re-created) to the first sampled commit beyond every commit seen until then; the worst one is shown. A fault after which nothing was left to commit has none; `—`: no fault (stall and poison stay up throughout). With a 6 s session timeout a SIGKILLed member holds its partitions until the group expels it, so a kill costs the session timeout plus a rebalance; commits that never resume show as a scenario that did not drain.",
    ...churnHowTo(results),
    "",
  );
  lines.push("## Running it", "");
  lines.push(
    "```sh",
    "bun scripts/chaos/run.ts                          # every scenario, full size (the kill scenario alone streams 1,000,000 records)",
    "bun scripts/chaos/run.ts --quick                  # every scenario, small: a few minutes",
    "bun scripts/chaos/run.ts --scenarios kill,poison  # a subset",
    "bun scripts/chaos/run.ts --scenarios kill,broker,churn-c2 --guarantee both  # each scenario at-least-once, then exactly-once, side by side",
    "```",
    "",
    "It builds `dist/processor-chaos`, starts the brokers it needs with `scripts/kafka/start.sh` (`--mode chaos`, a one-node broker on 127.0.0.1:39092 that it may stop and SIGKILL, and `--mode cluster` for the cluster scenario, stopped again afterwards), gives each scenario its own topics and group (deleted afterwards), and rewrites this file after every scenario. Processor logs go to `.cache/chaos/<time>/<scenario>/`. Exit code 1 when any scenario lost a record, had a duplicate under exactly-once, violated order, committed past an unproduced record, had a process exit on its own or did not drain.",
    "",
    "Each scenario runs processor with its defaults except `--session-timeout 6s --heartbeat-interval 1s` (so a SIGKILLed member leaves the group in seconds) and the scenario's own flags, against a background producer of seed-format records (`{id, timestamp, data, status}`, unique ids, 1,000 keys, every 50th record broken so the DLQ path runs too).",
    "",
  );
  lines.push("## Scenarios", "");
  for (const r of results) {
    const v = r.verdict;
    lines.push(`### ${r.name} (${r.guarantee})`, "");
    lines.push(`${info.summaries.get(r.name) ?? ""}`, "");
    lines.push(
      `- ${r.faults} faults, ${r.processesStarted} processor processes started, ${secs(r.durationMs)} in all; stream send errors (retried): ${r.streamErrors}`,
    );
    if (v.closestCommitMs !== null)
      lines.push(
        `- Closest commit sample to an unproduced record: ${v.closestCommitMs} ms after the last record below the committed offset landed (${fmt(r.commitSamples)} samples checked)`,
      );
    lines.push(`- Untracked: ${v.untracked.inputs} input records without an id, ${v.untracked.landed} landed ids not found in the input`);
    for (const note of r.notes) lines.push(`- ${note}`);
    if (r.churn !== undefined) {
      const c = r.churn;
      const d = c.duplicatesAfter;
      lines.push(
        `- Duplicates: ${fmt(v.duplicates)} = ${pct(v.duplicates, v.sent)} of ${fmt(v.sent)} sent; charged to the latest event before they landed: joins ${fmt(d.join)}, SIGTERM leaves ${fmt(d.leave)}, SIGKILLs ${fmt(d.kill)}, before the first event ${fmt(d.before)}; ${exactlyOnce(r) ? "exactly-once: 0 allowed (the at-least-once bound would be" : "bound"} ${fmt(r.duplicateBound)} = graceful allowance ${fmt(c.gracefulAllowance)} (0.1% of sent)${c.kills > 0 ? ` + kill windows ${fmt(c.killBound)}` : ""}${exactlyOnce(r) ? ")" : ""}`,
      );
      lines.push(
        `- Longest stall: ${stallText(c.longestStall, c.startedAt)}${c.kills > 0 ? `; outside the ${c.exemptWindows.length} kill window(s) (${c.exemptWindows.map(([a, b]) => `+${secs(a - c.startedAt)}–${secs(b - c.startedAt)}`).join(", ")}): ${c.longestCountedStall === null ? "none" : `${stallText(c.longestCountedStall, c.startedAt)}, ${secs(c.longestCountedStall.countedMs)} of it outside`}` : ""} (limit ${secs(c.stallLimitMs)}: ${c.stallExceeded ? "EXCEEDED" : "held"})`,
      );
    }
    const found = problems(r);
    lines.push(
      `- ${found.length === 0 ? "No loss, no order violation, no commit past an unproduced record, no unexpected exit." : `**Problems:** ${found.join("; ")}`}`,
    );
    lines.push("");
  }
  return `${lines.join("\n")}\n`;
}
