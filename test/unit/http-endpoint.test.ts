/** The metrics/health endpoint listens where --metrics-host says; a failure to listen is one readable error. */
import { afterEach, expect, test } from "bun:test";
import { networkInterfaces } from "node:os";
import { EndpointListenError, serveEndpoints, type Endpoint, type HealthState } from "../../src/observability/http-endpoint.ts";
import type { Metrics } from "../../src/observability/metrics.ts";

const metrics = { text: async () => "processor_probe 1\n", contentType: "text/plain; version=0.0.4" } as unknown as Metrics;
const health: HealthState = { live: () => ({ ok: true, problems: [] }), ready: () => ({ ok: false, problems: ["not yet"] }) };

const started: Endpoint[] = [];
afterEach(() => {
  for (const endpoint of started.splice(0)) endpoint.stop();
});

function serve(host?: string): Endpoint {
  // port 0: the system picks a free one; Endpoint.port is the real one
  const endpoint = host === undefined ? serveEndpoints(0, metrics, health) : serveEndpoints(0, metrics, health, host);
  started.push(endpoint);
  return endpoint;
}

async function status(url: string): Promise<number | string> {
  try {
    return (await fetch(url, { signal: AbortSignal.timeout(3000) })).status;
  } catch (error) {
    return String((error as { code?: unknown }).code ?? error);
  }
}

/** A non-loopback IPv4 address of this machine, if it has one. */
const externalIPv4 = Object.values(networkInterfaces())
  .flat()
  .find((a) => a !== undefined && a.family === "IPv4" && !a.internal)?.address;

test("bound to 127.0.0.1: answers there, not on the other interfaces", async () => {
  const endpoint = serve("127.0.0.1");
  expect(endpoint.host).toBe("127.0.0.1");
  expect(await status(`http://127.0.0.1:${endpoint.port}/healthz`)).toBe(200);
  expect(await status(`http://127.0.0.1:${endpoint.port}/readyz`)).toBe(503);
  const body = await (await fetch(`http://127.0.0.1:${endpoint.port}/metrics`)).text();
  expect(body).toBe("processor_probe 1\n");
  if (externalIPv4 !== undefined) expect(await status(`http://${externalIPv4}:${endpoint.port}/healthz`)).not.toBe(200);
});

test("the default is all IPv4 interfaces (reachable from other hosts)", async () => {
  const endpoint = serve();
  expect(endpoint.host).toBe("0.0.0.0");
  expect(await status(`http://127.0.0.1:${endpoint.port}/healthz`)).toBe(200);
  if (externalIPv4 !== undefined) expect(await status(`http://${externalIPv4}:${endpoint.port}/healthz`)).toBe(200);
});

const hasIPv6Loopback = Object.values(networkInterfaces())
  .flat()
  .some((a) => a?.address === "::1");

test("::1 (IPv6 loopback): answers there on a machine that has it, else one readable listen error", async () => {
  if (!hasIPv6Loopback) {
    expect(() => serve("::1")).toThrow(EndpointListenError);
    return;
  }
  const endpoint = serve("::1");
  expect(await status(`http://[::1]:${endpoint.port}/healthz`)).toBe(200);
});

test("cannot listen (port taken): an EndpointListenError naming the address and the settings", () => {
  const first = serve("127.0.0.1");
  let caught: unknown;
  try {
    started.push(serveEndpoints(first.port, metrics, health, "127.0.0.1"));
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(EndpointListenError);
  const message = (caught as Error).message;
  expect(message).toContain(`127.0.0.1:${first.port}`);
  expect(message).toContain("--metrics-host");
  expect(message).not.toContain("\n");
});
