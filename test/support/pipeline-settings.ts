/** The pipeline settings the in-memory pipeline tests start from; each test file names what it changes. */
import type { PipelineSettings } from "../../src/pipeline/pipeline.ts";

const BASE: PipelineSettings = {
  concurrency: 4,
  pickUp: 1,
  batchSize: 1,
  batchWaitMs: 0,
  ordering: "key",
  guarantee: "at-least-once",
  retries: 2,
  retryBackoffMs: 1,
  retryBackoffMaxMs: 2,
  handlerTimeoutMs: 10_000,
  outputTopic: "out",
  dlqTopic: "out.dlq",
  autoOffsetStore: false,
  ringBytes: 64 * 1024,
  producers: 1,
  revokeTimeoutMs: 50,
  dlqWindow: 100,
  dlqMaxConsecutive: 0,
  maxUncommitted: 1_000_000,
};

export function pipelineSettings(changes: Partial<PipelineSettings> = {}): PipelineSettings {
  return { ...BASE, ...changes };
}
