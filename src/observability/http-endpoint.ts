/** One small HTTP server: /metrics (Prometheus text), /healthz (liveness) and /readyz (readiness). */
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
  stop(): void;
}

function checkResponse(check: Check): Response {
  return Response.json({ status: check.ok ? "ok" : "unavailable", problems: check.problems }, { status: check.ok ? 200 : 503 });
}

export function serveEndpoints(port: number, metrics: Metrics, health: HealthState): Endpoint {
  const server = Bun.serve({
    port,
    hostname: "0.0.0.0",
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
  return { port: server.port ?? port, stop: () => void server.stop(true) };
}
