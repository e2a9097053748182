import { describe, expect, test } from "bun:test";
import { DeadLetterGuard } from "../../src/pipeline/dead-letter-guard.ts";

function feed(guard: DeadLetterGuard, outcomes: string): number | null {
  // "x" = dead-lettered, "." = produced; returns the index of the record that tripped the guard
  for (let i = 0; i < outcomes.length; i++) if (guard.record(outcomes[i] === "x") !== null) return i;
  return null;
}

describe("dead-letter guard", () => {
  test("off by default: never trips", () => {
    const guard = new DeadLetterGuard({ dlqWindow: 10, dlqMaxConsecutive: 0 });
    expect(guard.enabled).toBe(false);
    expect(feed(guard, "x".repeat(10_000))).toBeNull();
  });

  test("N in a row trips on the Nth; a success resets the count", () => {
    const guard = new DeadLetterGuard({ dlqWindow: 10, dlqMaxConsecutive: 3 });
    expect(feed(guard, "xx.xx.x.xx")).toBeNull();
    expect(feed(guard, "x")).toBe(0);
    expect(guard.reason).toBe("dead-letter guard: 3 records in a row failed (--dlq-max-consecutive 3)");
  });

  test("ratio trips only over a full window, on the first record past the share", () => {
    const guard = new DeadLetterGuard({ dlqMaxRatio: 0.3, dlqWindow: 10, dlqMaxConsecutive: 0 });
    expect(feed(guard, "xxxx")).toBeNull(); // 4 of 4, but the window is not full yet
    expect(feed(guard, ".....")).toBeNull(); // 9 seen
    expect(feed(guard, ".")).toBe(0); // the window is full: 4 of 10 > 0.3
  });

  test("ratio: exactly the share does not trip, one more does; old outcomes slide out", () => {
    const guard = new DeadLetterGuard({ dlqMaxRatio: 0.3, dlqWindow: 10, dlqMaxConsecutive: 0 });
    expect(feed(guard, "xxx.......")).toBeNull(); // 3 of 10 = 0.3: at the limit, not over
    expect(feed(guard, "..........")).toBeNull(); // the failures slide out of the window
    expect(feed(guard, "xxx")).toBeNull(); // 3 of the last 10
    expect(feed(guard, ".x")).toBe(1); // 4 of the last 10
    expect(guard.reason).toBe("dead-letter guard: 4 of the last 10 records failed (40%, --dlq-max-ratio 30%)");
    expect(guard.record(false)).toBe(guard.reason); // it stays tripped
  });

  test("a healthy stream with scattered bad input stays under a sensible ratio", () => {
    const guard = new DeadLetterGuard({ dlqMaxRatio: 0.5, dlqWindow: 1000, dlqMaxConsecutive: 50 });
    const stream = Array.from({ length: 100_000 }, (_, i) => (i % 10 === 0 ? "x" : ".")).join("");
    expect(feed(guard, stream)).toBeNull();
    expect(feed(guard, "x".repeat(50))).toBe(49);
  });
});
