import { describe, expect, test } from "bun:test";
import { ConsumerHealth } from "../../src/runtime/consumer-health.ts";
import type { Failure } from "../../src/threads/messages.ts";

const streamFailure: Failure = { kind: "unknown", message: "record decoding failed", retriable: true };

describe("consumer health (/readyz and /healthz reasons)", () => {
  test("a failing record stream is reported with its own reason, not as a lost broker connection", () => {
    const health = new ConsumerHealth();
    health.broker(0, false);
    health.stream(0, streamFailure, 3);
    expect(health.readyProblems()).toEqual(["consumer 0: record stream failing (3 in a row): record decoding failed"]);
    expect(health.liveProblems()).toEqual([]);
  });

  test("after 10 failures in a row liveness fails too; a working stream clears both", () => {
    const health = new ConsumerHealth();
    health.stream(1, streamFailure, 10);
    expect(health.liveProblems()).toEqual(["consumer 1: record stream failed 10 times in a row: record decoding failed"]);
    health.stream(1, null, 0);
    expect(health.liveProblems()).toEqual([]);
    expect(health.readyProblems()).toEqual([]);
  });

  test("a lost connection alone says so; a forgotten consumer says nothing", () => {
    const health = new ConsumerHealth();
    health.broker(2, false);
    expect(health.readyProblems()).toEqual(["consumer 2 lost its broker connection"]);
    health.forget(2);
    expect(health.readyProblems()).toEqual([]);
  });
});
