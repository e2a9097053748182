import { describe, expect, test } from "bun:test";
import { LogLimiter } from "../../src/observability/log-limiter.ts";
import type { LogFields, Logger } from "../../src/observability/logger.ts";

function recorder(level: "warn" | "error" = "warn"): { log: Logger; lines: Array<[string, LogFields | undefined]> } {
  const lines: Array<[string, LogFields | undefined]> = [];
  const log: Logger = {
    debug: () => undefined,
    info: () => undefined,
    warn: (message, fields) => void lines.push([message, fields]),
    error: () => undefined,
    child: () => log,
    enabled: (l) => (level === "warn" ? l === "warn" || l === "error" : l === "error"),
  };
  return { log, lines };
}

describe("log limiter", () => {
  test("lets perWindow lines through per window, then sums the rest up in one line when the window ends", () => {
    let now = 1_000;
    const { log, lines } = recorder();
    const limiter = new LogLimiter(log, "records sent to the dead-letter topic", 3, 10_000, () => now);
    const allowed = Array.from({ length: 10 }, () => limiter.allow());
    expect(allowed).toEqual([true, true, true, false, false, false, false, false, false, false]);
    expect(lines).toHaveLength(0); // the caller writes the allowed lines; the limiter only the summary
    now += 10_000;
    expect(limiter.allow()).toBe(true); // a new window: the summary of the last one first
    expect(lines).toEqual([
      ["7 more records sent to the dead-letter topic, not logged one by one", { suppressed: 7, limit: "3 lines per 10 s" }],
    ]);
    limiter.flush();
    expect(lines).toHaveLength(1); // nothing held back since
  });

  test("the summary is written by a timer when no further occurrence ends the window", async () => {
    const { log, lines } = recorder();
    const limiter = new LogLimiter(log, "things", 1, 50);
    limiter.allow();
    limiter.allow();
    limiter.allow();
    await Bun.sleep(120);
    expect(lines).toEqual([["2 more things, not logged one by one", { suppressed: 2, limit: "1 lines per 0.05 s" }]]);
  });

  test("at --log-level error nothing is allowed and nothing is counted", () => {
    const { log, lines } = recorder("error");
    const limiter = new LogLimiter(log, "things", 1, 10);
    expect(limiter.allow()).toBe(false);
    limiter.flush();
    expect(lines).toHaveLength(0);
  });
});
