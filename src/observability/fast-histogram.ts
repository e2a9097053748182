/**
 * A label-less Prometheus histogram cheap enough to observe once per record on the hot path (prom-client's
 * Histogram hashes labels and allocates on every observation). Registered into a prom-client Registry as a
 * custom metric, so it is exported with the others.
 */
import type { Registry } from "prom-client";

/** The shape prom-client's registry reads from a metric's get(). */
interface ExportedValue {
  readonly metricName: string;
  readonly labels: Readonly<Record<string, string | number>>;
  readonly value: number;
}
interface Exported {
  readonly name: string;
  readonly help: string;
  readonly type: "histogram";
  readonly aggregator: "sum";
  readonly values: readonly ExportedValue[];
}

export class FastHistogram {
  readonly type = "histogram" as const;
  readonly aggregator = "sum" as const;
  /** counts[i]: observations in (bounds[i-1], bounds[i]]; the last slot is +Inf. */
  private readonly counts: Float64Array;
  private sum = 0;
  private count = 0;

  constructor(
    readonly name: string,
    readonly help: string,
    private readonly bounds: readonly number[],
    registry: Registry,
  ) {
    this.counts = new Float64Array(bounds.length + 1);
    registry.registerMetric(this as unknown as Parameters<Registry["registerMetric"]>[0]);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /** What the registry exports: cumulative buckets, then sum and count. */
  get(): Exported {
    const values: ExportedValue[] = [];
    let cumulative = 0;
    for (let i = 0; i <= this.bounds.length; i++) {
      cumulative += this.counts[i]!;
      values.push({
        metricName: `${this.name}_bucket`,
        labels: { le: i < this.bounds.length ? this.bounds[i]! : "+Inf" },
        value: cumulative,
      });
    }
    values.push({ metricName: `${this.name}_sum`, labels: {}, value: this.sum });
    values.push({ metricName: `${this.name}_count`, labels: {}, value: this.count });
    return { name: this.name, help: this.help, type: this.type, aggregator: this.aggregator, values };
  }

  /** Observations so far (for tests and progress logs). */
  get observations(): number {
    return this.count;
  }
}
