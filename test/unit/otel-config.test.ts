/** The span export settings (src/config/settings/tracing.ts): flags, env names and fallbacks, bad values. */
import { describe, expect, test } from "bun:test";
import { type Config, loadConfig } from "../../src/config/index.ts";
import { shownEndpoint } from "../../src/observability/otel/load-span-export.ts";

type Env = Record<string, string | undefined>;
const REQ = ["--input-topics", "in", "--output-topic", "out"] as const;

function cfg(argv: readonly string[], env: Env = {}): Config {
  const result = loadConfig([...REQ, ...argv], env, "0.0.0-test");
  if (result.kind !== "run") throw new Error(`expected a config, got exit ${result.code}: ${result.output}`);
  return result.config;
}

function fails(argv: readonly string[], env: Env = {}): string {
  const result = loadConfig([...REQ, ...argv], env, "0.0.0-test");
  if (result.kind !== "exit") throw new Error("expected an error");
  expect(result.code).toBe(2);
  expect(result.output).not.toContain("\n");
  return result.output;
}

describe("--otel-endpoint", () => {
  test("off by default; the service name defaults to processor, the sample ratio to 1", () => {
    const c = cfg([]);
    expect([c.otelEndpoint, c.otelServiceName, c.otelSampleRatio]).toEqual([undefined, "processor", 1]);
  });

  test("flag > PROCESSOR_OTEL_ENDPOINT > OTEL_EXPORTER_OTLP_TRACES_ENDPOINT > OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces", () => {
    const env: Env = {
      PROCESSOR_OTEL_ENDPOINT: "http://a:4318/v1/traces",
      OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "http://b:4318/custom",
      OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318",
    };
    expect(cfg(["--otel-endpoint", "https://flag.example/v1/traces"], env).otelEndpoint).toBe("https://flag.example/v1/traces");
    expect(cfg([], env).otelEndpoint).toBe("http://a:4318/v1/traces");
    expect(cfg([], { ...env, PROCESSOR_OTEL_ENDPOINT: undefined }).otelEndpoint).toBe("http://b:4318/custom");
    expect(cfg([], { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318" }).otelEndpoint).toBe("http://c:4318/v1/traces");
    expect(cfg([], { OTEL_EXPORTER_OTLP_ENDPOINT: "http://c:4318/base/" }).otelEndpoint).toBe("http://c:4318/base/v1/traces");
    expect(cfg([], { OTEL_EXPORTER_OTLP_ENDPOINT: "  " }).otelEndpoint).toBeUndefined();
  });

  test("not an http(s) URL: one line, exit 2, naming the flag and where the value came from", () => {
    expect(fails(["--otel-endpoint", "localhost:4318"])).toContain("invalid --otel-endpoint");
    expect(fails(["--otel-endpoint", "ftp://collector/v1/traces"])).toContain("expected an http:// or https:// URL");
    expect(fails([], { OTEL_EXPORTER_OTLP_ENDPOINT: "collector" })).toContain("env OTEL_EXPORTER_OTLP_ENDPOINT");
    expect(fails([], { OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: "::" })).toContain("env OTEL_EXPORTER_OTLP_TRACES_ENDPOINT");
  });

  test("service name from flag, PROCESSOR_OTEL_SERVICE_NAME or OTEL_SERVICE_NAME", () => {
    expect(cfg(["--otel-service-name", "enricher"]).otelServiceName).toBe("enricher");
    expect(cfg([], { OTEL_SERVICE_NAME: "from-otel" }).otelServiceName).toBe("from-otel");
    expect(cfg([], { OTEL_SERVICE_NAME: "from-otel", PROCESSOR_OTEL_SERVICE_NAME: "mine" }).otelServiceName).toBe("mine");
    expect(fails(["--otel-service-name", " "])).toContain("--otel-service-name");
  });

  test("sample ratio: 0 to 1, as a number or a percentage", () => {
    expect(cfg(["--otel-sample-ratio", "0"]).otelSampleRatio).toBe(0);
    expect(cfg(["--otel-sample-ratio", "0.25"]).otelSampleRatio).toBe(0.25);
    expect(cfg([], { PROCESSOR_OTEL_SAMPLE_RATIO: "10%" }).otelSampleRatio).toBeCloseTo(0.1);
    for (const bad of ["-0.1", "1.5", "x", "%"]) expect(fails([`--otel-sample-ratio=${bad}`])).toContain("expected a share from 0 to 1");
  });

  test("the endpoint is logged without user info or query", () => {
    expect(shownEndpoint("https://user:secret@collector:4318/v1/traces?token=abc")).toBe("https://collector:4318/v1/traces");
  });
});
