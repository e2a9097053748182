/**
 * Ended spans wait in a bounded queue and leave in batches from the main thread's event loop: on a timer, or as
 * soon as a full batch is waiting (in a macrotask of its own, never inside a record's processing). A full queue
 * drops the new span and counts it; a failing or unreachable endpoint costs processing nothing but the spans it
 * drops. Failures are logged at most once per 30 s, with a count of the rest.
 *
 * Used instead of the SDK's BatchSpanProcessor, which keeps what it drops and what fails to itself: here each is
 * counted for Prometheus, and several batches can be under way at once when spans come faster than one request.
 */
import { type ExportResult, ExportResultCode } from "@opentelemetry/core";
import type { ReadableSpan, SpanExporter, SpanProcessor } from "@opentelemetry/sdk-trace";
import type { Logger } from "../logger.ts";
import { LogLimiter } from "../log-limiter.ts";
import { within } from "../../runtime/timing.ts";

export interface SpanBatcherSettings {
  /** Spans waiting at most; a span ending while this many wait is dropped. */
  readonly maxQueued: number;
  /** Spans per export request at most. */
  readonly maxBatch: number;
  /** How often whatever waits is sent, full batch or not. */
  readonly intervalMs: number;
  /** Export requests under way at most. */
  readonly maxExports: number;
  /** An export not answered within this counts as failed (its slot is freed). */
  readonly exportTimeoutMs: number;
}

export const DEFAULT_BATCHER_SETTINGS: SpanBatcherSettings = {
  maxQueued: 32_768,
  maxBatch: 2_048,
  intervalMs: 500,
  maxExports: 2,
  exportTimeoutMs: 15_000,
};

/** Spans since the start: accepted by the endpoint, refused or lost with a failed request, dropped before sending. */
export interface SpanExportCounts {
  exported: number;
  failed: number;
  dropped: number;
}

const FAILURE_LOG_WINDOW_MS = 30_000;

export class SpanBatcher implements SpanProcessor {
  readonly counts: SpanExportCounts = { exported: 0, failed: 0, dropped: 0 };
  private queue: ReadableSpan[] = [];
  private readonly exports = new Set<Promise<void>>();
  /** Spans in the export requests under way. */
  private sending = 0;
  private drainQueued = false;
  private closed = false;
  private readonly timer: ReturnType<typeof setInterval>;
  private readonly failureLog: LogLimiter;
  private readonly dropLog: LogLimiter;

  constructor(
    private readonly exporter: SpanExporter,
    private readonly settings: SpanBatcherSettings,
    private readonly log: Logger,
  ) {
    this.failureLog = new LogLimiter(log, "span exports failed", 1, FAILURE_LOG_WINDOW_MS);
    this.dropLog = new LogLimiter(log, "times spans were dropped (export queue full)", 1, FAILURE_LOG_WINDOW_MS);
    this.timer = setInterval(() => this.drain(), settings.intervalMs);
    this.timer.unref?.();
  }

  /** Spans waiting to be sent. */
  get queued(): number {
    return this.queue.length;
  }

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    if (this.closed || this.queue.length >= this.settings.maxQueued) {
      this.counts.dropped++;
      if (this.dropLog.allow()) {
        this.log.warn("span export queue full: dropping spans (records are processed as usual)", {
          queued: this.queue.length,
          dropped: this.counts.dropped,
        });
      }
      return;
    }
    this.queue.push(span);
    if (this.queue.length >= this.settings.maxBatch && !this.drainQueued && this.exports.size < this.settings.maxExports) {
      this.drainQueued = true;
      setImmediate(() => {
        this.drainQueued = false;
        this.drain();
      });
    }
  }

  /** Sends what waits now (the SDK's flush; the timer and full batches send on their own). */
  async forceFlush(): Promise<void> {
    this.drain();
    await Promise.all(this.exports);
  }

  /** The SDK's shutdown: `close` with the export timeout. */
  shutdown(): Promise<void> {
    return this.close(this.settings.exportTimeoutMs);
  }

  /**
   * Sends everything queued and waits for it, `timeoutMs` at most (graceful shutdown); what is still waiting then
   * counts as dropped. Spans ending afterwards are dropped.
   */
  async close(timeoutMs: number): Promise<void> {
    clearInterval(this.timer);
    const deadline = Date.now() + timeoutMs;
    while (this.queue.length > 0 || this.exports.size > 0) {
      this.drain();
      if (!(await within(Promise.race(this.exports), Math.max(0, deadline - Date.now())))) break;
    }
    this.closed = true;
    const unsent = this.queue.length;
    this.counts.dropped += unsent;
    this.queue = [];
    this.failureLog.flush();
    this.dropLog.flush();
    if (unsent > 0 || this.sending > 0) {
      this.log.warn("shutdown: not every span reached the OTLP endpoint in time", {
        dropped: unsent,
        stillSending: this.sending,
        timeoutMs,
      });
    }
    await within(
      this.exporter.shutdown().catch(() => undefined),
      Math.max(0, deadline - Date.now()),
    );
  }

  private drain(): void {
    while (this.queue.length > 0 && this.exports.size < this.settings.maxExports) {
      const batch = this.queue.length <= this.settings.maxBatch ? this.queue : this.queue.slice(0, this.settings.maxBatch);
      this.queue = batch === this.queue ? [] : this.queue.slice(this.settings.maxBatch);
      this.send(batch);
    }
  }

  private send(batch: ReadableSpan[]): void {
    this.sending += batch.length;
    const sent = new Promise<void>((resolve) => {
      let settled = false;
      const settle = (result: ExportResult): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timeout);
        this.sending -= batch.length;
        if (result.code === ExportResultCode.SUCCESS) this.counts.exported += batch.length;
        else this.failed(batch.length, result.error);
        resolve();
      };
      const timeout = setTimeout(
        () => settle({ code: ExportResultCode.FAILED, error: new Error(`no answer within ${this.settings.exportTimeoutMs} ms`) }),
        this.settings.exportTimeoutMs,
      );
      try {
        this.exporter.export(batch, settle);
      } catch (error) {
        settle({ code: ExportResultCode.FAILED, error: error instanceof Error ? error : new Error(String(error)) });
      }
    });
    this.exports.add(sent);
    void sent.then(() => {
      this.exports.delete(sent);
      // spans came faster than one request: keep sending without waiting for the timer
      if (!this.closed && this.queue.length >= this.settings.maxBatch) this.drain();
    });
  }

  private failed(spans: number, error: Error | undefined): void {
    this.counts.failed += spans;
    if (this.failureLog.allow()) {
      this.log.warn("span export failed; these spans are lost (records are processed as usual)", {
        spans,
        error: logError(error),
        failedSoFar: this.counts.failed,
      });
    }
  }
}

function logError(error: Error | undefined): string {
  if (error === undefined) return "unknown error";
  const code = (error as { code?: unknown }).code;
  return `${error.message}${typeof code === "string" && !error.message.includes(code) ? ` (${code})` : ""}`.slice(0, 512);
}
