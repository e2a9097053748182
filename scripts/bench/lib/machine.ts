/** Machine and version facts for the report header (shared machines skew timings, so the load is recorded too). */
import { readFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { join } from "node:path";

async function output(argv: string[], cwd: string): Promise<string> {
  try {
    const child = Bun.spawn(argv, { cwd, stdout: "pipe", stderr: "pipe", stdin: "ignore" });
    const [out, err] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited]);
    return (out + err).trim();
  } catch {
    return "?";
  }
}

const pkgVersion = (root: string, name: string): string => {
  try {
    return (JSON.parse(readFileSync(join(root, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
  } catch {
    return "?";
  }
};

export async function machineFacts(root: string): Promise<string[]> {
  const kafka = await output(["bash", "-c", 'source scripts/kafka/env.sh >/dev/null 2>&1; echo "$KAFKA_VERSION"'], root);
  const java = (await output(["java", "-version"], root)).split("\n")[0] ?? "?";
  const node = await output(["node", "--version"], root);
  const kcat = /Version (\S+) .*librdkafka (\S+)/.exec(await output(["kcat", "-V"], root));
  const head = await output(["git", "rev-parse", "--short", "HEAD"], root);
  const dirty = await output(["git", "status", "--porcelain", "--", "src"], root);
  const nproc = await output(["nproc"], root);
  return [
    `- machine: ${cpus()[0]?.model ?? "?"}, nproc ${nproc} (${cpus().length} online), ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM, Linux ${release()}`,
    `- load average at start: ${loadavg()
      .map((l) => l.toFixed(2))
      .join(" ")} (the machine is shared with other engineers' Kafka tests: absolute figures are noisy, ratios within one run less so)`,
    `- versions: Bun ${Bun.version}, @platformatic/kafka ${pkgVersion(root, "@platformatic/kafka")}, Apache Kafka ${kafka} (broker, Streams, perf tools), ${java}, Node ${node}, KafkaJS ${pkgVersion(root, "kafkajs")}, kcat ${kcat?.[1] ?? "?"} (librdkafka ${kcat?.[2] ?? "?"})`,
    `- processor: git ${head}${dirty === "" ? "" : " + uncommitted changes in src/"}`,
  ];
}
