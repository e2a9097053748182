/** One small HTTP server: /metrics (Prometheus text), /healthz (liveness) and /readyz (readiness). */
import { isIP } from "node:net";
import type { Metrics } from "./metrics.ts";

export interface Check {
  readonly ok: boolean;
  /** Why not ok (empty when ok). */
  readonly problems: readonly string[];
}

export interface HealthState {
  live(): Check;
  ready(): Check;
}

export interface Endpoint {
  readonly port: number;
  /** The address it listens on, as given (`0.0.0.0` = all IPv4 interfaces). */
  readonly host: string;
  stop(): void;
}

function checkResponse(check: Check): Response {
  return Response.json({ status: check.ok ? "ok" : "unavailable", problems: check.problems }, { status: check.ok ? 200 : 503 });
}

/** The endpoint could not listen; the message is one line naming the address and the settings to change. */
export class EndpointListenError extends Error {
  override readonly name = "EndpointListenError";
}

/**
 * Listens on `host` (default all IPv4 interfaces, reachable from other hosts; `127.0.0.1` keeps it local).
 * Throws a readable error when it cannot listen (port taken, an address of no local interface).
 */
export function serveEndpoints(port: number, metrics: Metrics, health: HealthState, host = "0.0.0.0"): Endpoint {
  let server: ReturnType<typeof Bun.serve>;
  try {
    server = listen(port, host, metrics, health);
  } catch (error) {
    const shown = host.includes(":") ? `[${host}]` : host;
    const code = (error as { code?: unknown }).code;
    // Bun reports an unresolvable name with varying codes: say what to check.
    const hint = isIP(host) === 0 ? `; check that ${host} resolves to an address of this machine` : "";
    throw new EndpointListenError(
      `cannot listen on ${shown}:${port} (--metrics-host, --metrics-port): ${typeof code === "string" ? code : String(error)}${hint}`,
    );
  }
  return { port: server.port ?? port, host, stop: () => void server.stop(true) };
}

function listen(port: number, host: string, metrics: Metrics, health: HealthState): ReturnType<typeof Bun.serve> {
  return Bun.serve({
    port,
    hostname: host,
    async fetch(request) {
      switch (new URL(request.url).pathname) {
        case "/metrics":
          return new Response(await metrics.text(), { headers: { "content-type": metrics.contentType } });
        case "/healthz":
          return checkResponse(health.live());
        case "/readyz":
          return checkResponse(health.ready());
        default:
          return new Response("not found: try /metrics, /healthz or /readyz\n", { status: 404 });
      }
    },
  });
}
