/** Logging settings: log level and the metrics/health endpoint. Entries in --help order. */
import { integer, listenHost, oneOf } from "../value-types.ts";
import { type Setting, withDefault } from "./define.ts";

export const loggingSettings = {
  logLevel: withDefault(
    {
      flag: "log-level",
      env: ["PROCESSOR_LOG_LEVEL", "LOG_LEVEL"],
      group: "Logging",
      description: "Log level: debug|info|warn|error|silent.",
      type: oneOf(["debug", "info", "warn", "error", "silent"]),
    },
    "info",
  ),
  metricsPort: withDefault(
    {
      flag: "metrics-port",
      env: ["PROCESSOR_METRICS_PORT"],
      group: "Logging",
      description: "Port of the HTTP endpoint (on --metrics-host) serving /metrics (Prometheus), /healthz and /readyz; 0 turns it off.",
      type: integer(0, 65535),
    },
    "0",
  ),
  metricsHost: withDefault(
    {
      flag: "metrics-host",
      env: ["PROCESSOR_METRICS_HOST"],
      group: "Logging",
      description:
        "Address the --metrics-port endpoint listens on. The default 0.0.0.0 (all IPv4 interfaces) makes it reachable from other hosts; 127.0.0.1 (or ::1) keeps it on this host, :: listens on all IPv4 and IPv6 interfaces.",
      type: listenHost(),
    },
    "0.0.0.0",
  ),
} as const satisfies Record<string, Setting>;
