/**
 * Builds what the contenders run: the processor binary, the KafkaJS bundle for Node, the Kafka Streams classes, the Go
 * contender.
 */
import { existsSync } from "node:fs";
import { join } from "node:path";
import type { Paths } from "./contenders.ts";

async function run(argv: string[], cwd: string): Promise<{ code: number; text: string }> {
  const child = Bun.spawn(argv, { cwd, stdin: "ignore", stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
  return { code, text: (out + err).trim() };
}

async function must(argv: string[], cwd: string, what: string): Promise<string> {
  const r = await run(argv, cwd);
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.text.slice(-3000)}`);
  return r.text;
}

export async function buildBinary(p: Paths): Promise<string> {
  return must([process.execPath, join(p.root, "scripts/build.ts"), "--outfile", p.binary], p.root, "scripts/build.ts");
}

export async function buildKafkajs(p: Paths): Promise<string> {
  // --packages external: kafkajs stays a runtime import, resolved from node_modules like any Node app's
  await must(
    [
      process.execPath,
      "build",
      join(p.root, "scripts/bench/contenders/kafkajs.ts"),
      "--target",
      "node",
      "--packages",
      "external",
      "--outfile",
      p.kafkajsBundle,
    ],
    p.root,
    "bun build (kafkajs contender)",
  );
  return `bundled ${p.kafkajsBundle}`;
}

/** Offline first (no network when ~/.m2 has every jar), online when that fails. */
export async function buildStreams(p: Paths): Promise<string> {
  const pom = join(p.root, "scripts/bench/contenders/streams/pom.xml");
  const args = ["-q", "-f", pom, `-Dbench.out=${p.streamsDir}`, "package", "dependency:copy-dependencies"];
  const offline = await run(["mvn", "-o", ...args], p.root);
  if (offline.code === 0) return `mvn -o package → ${p.streamsDir}`;
  await must(["mvn", ...args], p.root, "mvn package (Kafka Streams contender)");
  return `mvn package (online) → ${p.streamsDir}`;
}

/** go build of scripts/bench/contenders/go: go.mod and go.sum pin the modules, fetched from the module proxy if missing. */
export async function buildGo(p: Paths): Promise<string> {
  await must(["go", "build", "-o", p.goBinary, "."], join(p.root, "scripts/bench/contenders/go"), "go build (Go contender)");
  return `go build → ${p.goBinary}`;
}

export const built = (p: Paths): Record<"binary" | "kafkajs" | "streams" | "go", boolean> => ({
  binary: existsSync(p.binary),
  kafkajs: existsSync(p.kafkajsBundle),
  streams: existsSync(join(p.streamsDir, "classes/bench/SeedStreams.class")),
  go: existsSync(p.goBinary),
});
