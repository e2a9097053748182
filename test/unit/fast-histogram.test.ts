import { expect, test } from "bun:test";
import { Registry } from "prom-client";
import { FastHistogram } from "../../src/observability/fast-histogram.ts";

test("exports cumulative buckets, sum and count in the Prometheus text format, beside prom-client's own metrics", async () => {
  const registry = new Registry();
  const histogram = new FastHistogram("x_seconds", "Some time.", [0.1, 1], registry);
  for (const v of [0.05, 0.1, 0.5, 2, 3]) histogram.observe(v);
  const text = await registry.metrics();
  expect(text).toBe(
    [
      "# HELP x_seconds Some time.",
      "# TYPE x_seconds histogram",
      'x_seconds_bucket{le="0.1"} 2',
      'x_seconds_bucket{le="1"} 3',
      'x_seconds_bucket{le="+Inf"} 5',
      "x_seconds_sum 5.65",
      "x_seconds_count 5",
      "",
    ].join("\n"),
  );
  expect(histogram.observations).toBe(5);
});
