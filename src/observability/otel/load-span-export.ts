/**
 * Starts span export when --otel-endpoint is set. The OpenTelemetry packages are imported here on demand: without
 * the setting none of them is loaded (no start-up time, no span objects).
 */
import type { Logger } from "../logger.ts";
import type { SpanExport } from "./start-span-export.ts";

export interface SpanExportConfig {
  readonly otelEndpoint: string | undefined;
  readonly otelServiceName: string;
  readonly otelSampleRatio: number;
  readonly groupId: string;
}

export async function loadSpanExport(config: SpanExportConfig, version: string, log: Logger): Promise<SpanExport | null> {
  if (config.otelEndpoint === undefined) return null;
  const { startSpanExport } = await import("./start-span-export.ts");
  const spanExport = startSpanExport(
    {
      endpoint: config.otelEndpoint,
      serviceName: config.otelServiceName,
      serviceVersion: version,
      sampleRatio: config.otelSampleRatio,
      groupId: config.groupId,
    },
    log,
  );
  log.info("exporting record spans over OTLP/HTTP", {
    endpoint: shownEndpoint(config.otelEndpoint),
    serviceName: config.otelServiceName,
    sampleRatio: config.otelSampleRatio,
  });
  return spanExport;
}

/** The endpoint without user info or query, which can hold credentials. */
export function shownEndpoint(endpoint: string): string {
  try {
    const url = new URL(endpoint);
    return `${url.protocol}//${url.host}${url.pathname}`;
  } catch {
    return "(unparsable URL)";
  }
}
