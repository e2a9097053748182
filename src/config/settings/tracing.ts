/** Tracing settings: span export over OTLP/HTTP (off unless an endpoint is given). Entries in --help order. */
import { fraction, httpUrl, nonEmptyString } from "../value-types.ts";
import { optional, type Setting, withDefault } from "./define.ts";

export const tracingSettings = {
  otelEndpoint: optional({
    flag: "otel-endpoint",
    env: ["PROCESSOR_OTEL_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"],
    envBase: { name: "OTEL_EXPORTER_OTLP_ENDPOINT", append: "/v1/traces" },
    group: "Tracing",
    description:
      "OTLP/HTTP traces URL (e.g. http://localhost:4318/v1/traces): one span per record is exported there, in batches (JSON). Unset: no spans.",
    type: httpUrl(),
  }),
  otelServiceName: withDefault(
    {
      flag: "otel-service-name",
      env: ["PROCESSOR_OTEL_SERVICE_NAME", "OTEL_SERVICE_NAME"],
      group: "Tracing",
      description: "service.name of the exported spans.",
      type: nonEmptyString(),
    },
    "processor",
  ),
  otelSampleRatio: withDefault(
    {
      flag: "otel-sample-ratio",
      env: ["PROCESSOR_OTEL_SAMPLE_RATIO"],
      group: "Tracing",
      description:
        "Share (0..1) of records without a traceparent that get a span (a new trace). A sampled incoming traceparent always gets one, an unsampled one never.",
      type: fraction(),
    },
    "1",
  ),
} as const satisfies Record<string, Setting>;
