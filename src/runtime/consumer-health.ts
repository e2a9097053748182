/** What each consumer Worker last said about its connections and its record stream, for /healthz and /readyz. */
import type { Failure } from "../threads/messages.ts";

/** Consecutive record-stream failures (backoff up to 10 s each) after which /healthz fails. */
const STREAM_FAILURES_UNHEALTHY = 10;

export class ConsumerHealth {
  private readonly brokerDown = new Set<number>();
  /** Consumers whose record stream keeps failing (and is re-created with backoff), with the reason. */
  private readonly streamFailures = new Map<number, { failure: Failure; failures: number }>();

  broker(consumer: number, connected: boolean): void {
    if (connected) this.brokerDown.delete(consumer);
    else this.brokerDown.add(consumer);
  }

  /** `failure` null: the stream works again. */
  stream(consumer: number, failure: Failure | null, failures: number): void {
    if (failure === null) this.streamFailures.delete(consumer);
    else this.streamFailures.set(consumer, { failure, failures });
  }

  forget(consumer: number): void {
    this.brokerDown.delete(consumer);
    this.streamFailures.delete(consumer);
  }

  /** Retried for minutes without success: something no retry fixes; a restart (and a person) should look. */
  liveProblems(): string[] {
    const problems: string[] = [];
    for (const [consumer, { failure, failures }] of this.streamFailures) {
      if (failures >= STREAM_FAILURES_UNHEALTHY)
        problems.push(`consumer ${consumer}: record stream failed ${failures} times in a row: ${failure.message}`);
    }
    return problems;
  }

  /** The real reason first: a failing stream also drops its connections. */
  readyProblems(): string[] {
    const problems: string[] = [];
    for (const [consumer, { failure, failures }] of this.streamFailures)
      problems.push(`consumer ${consumer}: record stream failing (${failures} in a row): ${failure.message}`);
    for (const consumer of this.brokerDown)
      if (!this.streamFailures.has(consumer)) problems.push(`consumer ${consumer} lost its broker connection`);
    return problems;
  }
}
