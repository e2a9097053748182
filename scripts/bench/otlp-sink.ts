#!/usr/bin/env bun
/**
 * A tiny OTLP/HTTP traces endpoint for the benchmark (the processor-otel contenders): accepts POST /v1/traces,
 * reads and discards the body, answers 200 `{}` (a full success, as a collector would). It runs in its own process,
 * started and stopped by compare.ts, so its CPU is not counted as the contender's.
 *
 *   node_modules/.bin/bun scripts/bench/otlp-sink.ts [--port N]   (0: any free port)
 *
 * Prints `listening <url>` once ready; on SIGTERM prints the requests and bytes it took, then exits.
 */
import { parseArgs } from "node:util";

const { values } = parseArgs({ args: Bun.argv.slice(2), options: { port: { type: "string", default: "0" } } });
let requests = 0;
let bytes = 0;
const server = Bun.serve({
  hostname: "127.0.0.1",
  port: Number(values.port),
  async fetch(request) {
    if (request.method !== "POST") return new Response("POST OTLP/HTTP here", { status: 405 });
    bytes += (await request.arrayBuffer()).byteLength;
    requests++;
    return new Response("{}", { headers: { "content-type": "application/json" } });
  },
});
console.log(`listening http://127.0.0.1:${server.port}/v1/traces`);
process.on("SIGTERM", () => {
  console.log(`otlp-sink: ${requests} requests, ${(bytes / 2 ** 20).toFixed(1)} MiB`);
  void server.stop(true).then(() => process.exit(0));
});
