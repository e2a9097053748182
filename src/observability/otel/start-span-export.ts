/**
 * Span export over OTLP/HTTP (JSON) with the OpenTelemetry JS SDK: a TracerProvider with a parent-based sampler,
 * processor's own batcher (span-batcher.ts) and the SDK's OTLP exporter. Loaded only when --otel-endpoint is set
 * (load-span-export.ts), so a process without it loads none of these packages.
 *
 * The exporter also reads the standard OTEL_EXPORTER_OTLP_* variables the settings do not cover (headers, TLS
 * certificates, compression, timeout), and OTEL_RESOURCE_ATTRIBUTES adds resource attributes.
 */
import { OTLPTraceExporter } from "@opentelemetry/exporter-trace-otlp-http";
import { defaultResource, detectResources, envDetector, resourceFromAttributes } from "@opentelemetry/resources";
import { AlwaysOnSampler, type SpanExporter, TracerProvider } from "@opentelemetry/sdk-trace";
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from "@opentelemetry/semantic-conventions";
import type { Logger } from "../logger.ts";
import { RecordSpans } from "./record-spans.ts";
import type { RecordTracing } from "./record-tracing.ts";
import { DEFAULT_BATCHER_SETTINGS, SpanBatcher, type SpanBatcherSettings, type SpanExportCounts } from "./span-batcher.ts";

export interface SpanExportSettings {
  /** OTLP/HTTP traces URL, e.g. http://collector:4318/v1/traces. */
  readonly endpoint: string;
  readonly serviceName: string;
  readonly serviceVersion: string;
  /** Share of records without a sampled incoming traceparent that get a span (0..1). */
  readonly sampleRatio: number;
  /** --group-id, for messaging.consumer.group.name. */
  readonly groupId: string;
}

/** What the rest of processor sees of span export. */
export interface SpanExport {
  readonly tracing: RecordTracing;
  counts(): Readonly<SpanExportCounts>;
  /** Graceful shutdown: sends what is queued, waiting `timeoutMs` at most. */
  close(timeoutMs: number): Promise<void>;
}

/** Span export to `settings.endpoint`; `exporter` and `batcher` are for tests. */
export function startSpanExport(
  settings: SpanExportSettings,
  log: Logger,
  exporter: SpanExporter = new OTLPTraceExporter({ url: settings.endpoint, timeoutMillis: 10_000 }),
  batcher: SpanBatcherSettings = DEFAULT_BATCHER_SETTINGS,
): SpanExport {
  const spans = new SpanBatcher(exporter, batcher, log);
  const resource = defaultResource()
    .merge(detectResources({ detectors: [envDetector] }))
    .merge(resourceFromAttributes({ [ATTR_SERVICE_NAME]: settings.serviceName, [ATTR_SERVICE_VERSION]: settings.serviceVersion }));
  // RecordSpans samples before it starts a span (parent-based, at the ratio): every span it starts is recorded
  const provider = new TracerProvider({ resource, sampler: new AlwaysOnSampler(), spanProcessors: [spans] });
  const tracer = provider.getTracer("processor", settings.serviceVersion);
  return {
    tracing: new RecordSpans(tracer, settings.groupId, settings.sampleRatio),
    counts: () => spans.counts,
    close: (timeoutMs) => spans.close(timeoutMs),
  };
}
