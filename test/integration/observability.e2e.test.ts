/**
 * Metrics and health endpoints of the compiled binary: values move as records flow; readiness follows the
 * group join, a broker outage and the shutdown. Restarts the project's local broker (scripts/kafka).
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { resolve } from "node:path";
import { createTopicSet, deleteTopics, produce, uniqueName } from "../support/kafka.ts";
import { localBroker } from "../support/local-broker.ts";
import { buildBinary, eventually, startProcessor, topicArgs } from "../support/processor.ts";
import { produceSeedCases, seedCases } from "../support/seed-data.ts";

const root = resolve(import.meta.dir, "../..");
const created: string[] = [];

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  try {
    const response = await fetch(`http://127.0.0.1:${port}${path}`);
    return { status: response.status, body: await response.text() };
  } catch {
    return { status: 0, body: "" };
  }
}

function metric(text: string, name: string): number {
  const line = text.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? Number.NaN : Number(line.split(" ")[1]);
}

beforeAll(() => buildBinary(), 120_000);
afterAll(async () => {
  localBroker("start");
  await deleteTopics(created);
});

test("metrics move as records flow; /healthz and /readyz follow start, a broker outage and shutdown", async () => {
  const { input, output } = await createTopicSet(created, "obs", 2);
  const port = 20_000 + Math.floor(Math.random() * 20_000);
  const processor = startProcessor(
    [
      ...topicArgs(input, output, uniqueName("g")),
      "--metrics-port",
      String(port),
      "--metrics-host",
      "127.0.0.1",
      "--handler",
      resolve(root, "test/fixtures/slow-handler.ts"),
      "--workers",
      "4",
    ],
    { SLOW_HANDLER_MS: "5" },
  );
  // up and alive before it is ready (on the address --metrics-host names)
  expect(await eventually(async () => (await get(port, "/healthz")).status === 200, 20_000, 50)).toBe(true);
  await processor.waitForLog("metrics and health endpoint listening");
  expect(
    processor
      .log()
      .split("\n")
      .find((l) => l.includes("metrics and health endpoint listening")),
  ).toContain('"host":"127.0.0.1"');
  expect(await eventually(async () => (await get(port, "/readyz")).status === 200, 30_000, 100)).toBe(true);
  const idle = (await get(port, "/metrics")).body;
  expect(metric(idle, "processor_records_consumed_total")).toBe(0);

  await produceSeedCases(input, 400, 40);
  expect(await eventually(async () => metric((await get(port, "/metrics")).body, "processor_records_produced_total") === 400, 60_000)).toBe(
    true,
  );
  const busy = (await get(port, "/metrics")).body;
  expect(metric(busy, "processor_records_consumed_total")).toBe(400);
  expect(metric(busy, "processor_records_dead_lettered_total")).toBe(0); // the pass-through handler fails nothing
  expect(metric(busy, "processor_records_failed_total")).toBe(0);
  expect(metric(busy, "processor_handler_duration_seconds_count")).toBe(400);
  expect(metric(busy, "processor_produce_latency_seconds_count")).toBeGreaterThan(0);
  expect(busy).toContain('processor_ring_capacity_bytes{ring="consumer-0"}');
  expect(busy).toContain("# TYPE processor_records_consumed_total counter");
  expect(
    await eventually(
      async () => /processor_consumer_lag_records\{topic="[^"]+",partition="\d"\} 0/.test((await get(port, "/metrics")).body),
      30_000,
    ),
  ).toBe(true);

  // broker outage: not ready while the connection is gone, alive throughout
  localBroker("stop");
  expect(await eventually(async () => (await get(port, "/readyz")).body.includes("lost its broker connection"), 30_000, 100)).toBe(true);
  expect((await get(port, "/healthz")).status).toBe(200);
  localBroker("start");
  await produce(
    input,
    seedCases(10, 5, uniqueName("after")).map((c) => c.record),
  );
  expect(await eventually(async () => (await get(port, "/readyz")).status === 200, 60_000, 200)).toBe(true);

  // shutdown: readiness drops while in-flight work drains
  await produce(
    input,
    Array.from({ length: 2000 }, (_, i) => ({ key: `k${i}`, value: "slow" })),
  );
  expect(await eventually(async () => metric((await get(port, "/metrics")).body, "processor_records_in_flight") > 0, 10_000, 20)).toBe(
    true,
  );
  processor.process.kill("SIGTERM");
  // the signal is handled asynchronously: the first answer that is not "ready" must say why (or the port is closed)
  let during = { status: 200, body: "" };
  expect(await eventually(async () => (during = await get(port, "/readyz")).status !== 200, 10_000, 10)).toBe(true);
  expect(`${during.status} ${during.body}`).toMatch(/^(0 |503 .*shutting down)/);
  expect(await processor.exited()).toBe(0);
  expect((await get(port, "/healthz")).status).toBe(0); // the endpoint is gone with the process
}, 240_000);

test("an endpoint that cannot listen (an address of no local interface): one line, exit 1", async () => {
  const processor = startProcessor([
    "--input-topics",
    "obs-unused-in",
    "--output-topic",
    "obs-unused-out",
    "--metrics-port",
    "9",
    "--metrics-host",
    "203.0.113.7",
  ]);
  expect(await processor.exited()).toBe(1);
  const lines = processor
    .log()
    .trim()
    .split("\n")
    .filter((l) => l.startsWith("processor: "));
  expect(lines).toEqual([expect.stringContaining("cannot listen on 203.0.113.7:9 (--metrics-host, --metrics-port)")]);
}, 30_000);
