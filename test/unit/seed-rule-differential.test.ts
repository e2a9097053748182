/**
 * Differential test: the default message rule (src/handlers/seed-rule.ts) against the seed's Go service rule
 * written with Go's standard library (test/differential/seed-rule-go). Both decide the same deterministic corpus
 * (test/differential/corpus.ts) at the same `now`; every verdict (valid / invalid / dead-letter) and every
 * serialised output must be identical. Uses the Go release pinned in scripts/lib/go-toolchain.sh (fetched through the
 * Go module proxy when the machine has another one); without a Go toolchain this FAILS.
 */
import { afterAll, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { createSeedRule } from "../../src/handlers/seed-rule.ts";
import { isPermanent, type InputRecord } from "../../src/handlers/types.ts";
import { seedRuleCorpus, type CorpusCase } from "../differential/corpus.ts";

const root = resolve(import.meta.dir, "../..");
const goDir = resolve(root, "test/differential/seed-rule-go");
const buildDir = mkdtempSync(join(tmpdir(), "seed-rule-go-"));
afterAll(() => rmSync(buildDir, { recursive: true, force: true }));

/** Two clocks: one with milliseconds, one on a whole second (the corpus is made relative to each). */
const NOWS = [Date.parse("2026-11-26T12:00:00.123Z"), Date.parse("2027-02-28T23:59:59.000Z")];

function goEnv(): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (v !== undefined && k !== "GOEXPERIMENT" && k !== "GOFLAGS") env[k] = v;
  return { ...env, GOFLAGS: "-mod=mod", GOTOOLCHAIN: "local", GOWORK: "off", GOCACHE: resolve(root, ".cache/go-build"), CGO_ENABLED: "0" };
}

function buildReference(): string {
  // the pinned Go release (its encoding/json and time.Parse are the reference), fetched once if missing
  const found = Bun.spawnSync([resolve(root, "scripts/lib/go-toolchain.sh")], { stdout: "pipe", stderr: "pipe" });
  const go = found.stdout.toString().trim();
  if (found.exitCode !== 0 || go === "") {
    throw new Error(`seed-rule differential test: no Go toolchain (scripts/lib/go-toolchain.sh failed):\n${found.stderr.toString()}`);
  }
  const binary = join(buildDir, "seedruleref");
  const build = Bun.spawnSync([go, "build", "-o", binary, "."], { cwd: goDir, env: goEnv(), stdout: "pipe", stderr: "pipe" });
  if (build.exitCode !== 0)
    throw new Error(`seed-rule differential test: go build failed:\n${build.stderr.toString()}${build.stdout.toString()}`);
  return binary;
}

interface Verdict {
  readonly verdict: "valid" | "invalid" | "dead-letter";
  /** The serialised message (valid/invalid) or the reason (dead-letter). */
  readonly detail: string;
}

async function runGo(binary: string, corpus: readonly CorpusCase[], nowMs: number): Promise<Verdict[]> {
  const lines = `${corpus
    .map((c) => JSON.stringify({ value_b64: c.value === null ? "" : Buffer.from(c.value).toString("base64"), null: c.value === null }))
    .join("\n")}\n`;
  const child = Bun.spawn([binary, "--now-ms", String(nowMs), "--with-output"], {
    stdin: new TextEncoder().encode(lines),
    stdout: "pipe",
    stderr: "pipe",
    env: goEnv(),
  });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  if (code !== 0) throw new Error(`seedruleref exited with ${code}: ${err}`);
  const verdicts = out
    .trimEnd()
    .split("\n")
    .map((line): Verdict => {
      const [verdict, b64 = ""] = line.split("\t");
      if (verdict !== "valid" && verdict !== "invalid" && verdict !== "dead-letter")
        throw new Error(`seedruleref: unexpected line ${JSON.stringify(line)}`);
      return { verdict, detail: Buffer.from(b64, "base64").toString("utf8") };
    });
  if (verdicts.length !== corpus.length) throw new Error(`seedruleref answered ${verdicts.length} cases of ${corpus.length}`);
  return verdicts;
}

function runTs(corpus: readonly CorpusCase[], nowMs: number): Verdict[] {
  const rule = createSeedRule({ now: () => nowMs });
  return corpus.map((c): Verdict => {
    const record = {
      topic: "in",
      partition: 0,
      offset: 0,
      timestamp: nowMs,
      key: null,
      value: c.value,
      headers: [],
      rawHeaders: [],
      attempt: 1,
    } as unknown as InputRecord;
    try {
      const output = rule(record) as { value: string };
      const status = (JSON.parse(output.value) as { status: string }).status;
      return { verdict: status === "valid" ? "valid" : "invalid", detail: output.value };
    } catch (error) {
      if (!isPermanent(error)) throw error;
      return { verdict: "dead-letter", detail: (error as Error).message };
    }
  });
}

function show(value: Uint8Array | null): string {
  if (value === null) return "<null value>";
  const head = value.subarray(0, 300);
  let text = "";
  for (const b of head)
    text += b >= 0x20 && b < 0x7f && b !== 0x5c ? String.fromCharCode(b) : b === 0x5c ? "\\\\" : `\\x${b.toString(16).padStart(2, "0")}`;
  return `${text}${value.length > head.length ? `… (${value.length} bytes)` : ""}`;
}

test("the default rule decides exactly as the seed's Go service (encoding/json + time.Parse RFC 3339)", async () => {
  const started = performance.now();
  const binary = buildReference();
  let total = 0;
  const counts = { valid: 0, invalid: 0, "dead-letter": 0 };
  const problems: string[] = [];
  let disagreements = 0;
  for (const nowMs of NOWS) {
    const corpus = seedRuleCorpus(nowMs);
    const [goVerdicts, tsVerdicts] = [await runGo(binary, corpus, nowMs), runTs(corpus, nowMs)];
    for (let i = 0; i < corpus.length; i++) {
      const go = goVerdicts[i]!;
      const ts = tsVerdicts[i]!;
      counts[go.verdict]++;
      const same = go.verdict === ts.verdict && (go.verdict === "dead-letter" || go.detail === ts.detail);
      if (same) continue;
      disagreements++;
      if (problems.length < 25) {
        problems.push(
          `#${i} [${corpus[i]!.name}] now=${new Date(nowMs).toISOString()}\n  input: ${show(corpus[i]!.value)}\n  go:    ${go.verdict} ${go.detail.slice(0, 300)}\n  ts:    ${ts.verdict} ${ts.detail.slice(0, 300)}`,
        );
      }
    }
    total += corpus.length;
  }
  const seconds = ((performance.now() - started) / 1000).toFixed(1);
  console.log(
    `seed-rule differential: ${total} cases, ${total - disagreements} agree (${((100 * (total - disagreements)) / total).toFixed(3)}%), Go verdicts ${JSON.stringify(counts)}, ${seconds} s`,
  );
  if (problems.length > 0) console.error(`first disagreements (of ${disagreements}):\n${problems.join("\n")}`);
  expect(problems).toEqual([]);
  // the corpus must exercise every outcome, not just dead letters
  for (const verdict of ["valid", "invalid", "dead-letter"] as const) expect(counts[verdict]).toBeGreaterThan(total * 0.05);
}, 120_000);
