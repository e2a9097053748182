/** The pure parts of `processor dlq`: reading a dead-letter record back, reasons, counts, filters, time bounds, CLI errors. */
import { describe, expect, test } from "bun:test";
import { deadLetter, deadLetterStub } from "../../src/pipeline/dead-letter.ts";
import { QueuedInput } from "../../src/pipeline/input-record.ts";
import { readDeadLetter, type RawRecord } from "../../src/dlq/dead-letter-record.ts";
import { normalizeReason } from "../../src/dlq/reason.ts";
import { DeadLetterStats, formatSummary, TOP_ROWS } from "../../src/dlq/stats.ts";
import { matches, parseTimeBound, replayHeaders, REPLAYED_FROM_HEADER } from "../../src/dlq/replay-filter.ts";
import { Progress } from "../../src/dlq/progress.ts";
import { runDlq } from "../../src/dlq/cli.ts";

const utf8 = new TextEncoder();

function input(offset: number, headers: Array<[string, string | null]>, value: string | null = `{"id":${offset}}`): QueuedInput {
  return new QueuedInput({
    kind: "record",
    ref: 0,
    topic: "orders",
    partition: 3,
    offset,
    timestamp: 1_700_000_000_000,
    key: utf8.encode(`key-${offset}`),
    value: value === null ? null : utf8.encode(value),
    headers: headers.map(([n, v]) => [utf8.encode(n), v === null ? null : utf8.encode(v)] as const),
  });
}

/** What the consumer would hand over for a dead-letter output written by processor. */
function asConsumed(output: ReturnType<typeof deadLetter>, partition: number, offset: number, timestamp = 1_700_000_100_000): RawRecord {
  const buffer = (bytes: Uint8Array | null) => (bytes === null ? null : Buffer.from(bytes));
  return {
    partition,
    offset: BigInt(offset),
    timestamp: BigInt(timestamp),
    key: buffer(output.key),
    value: buffer(output.value),
    headerEntries: output.headers.map(([n, v]) => [Buffer.from(typeof n === "string" ? utf8.encode(n) : n), buffer(v)] as const),
  };
}

describe("dead-letter record read back", () => {
  test("what processor writes reads back: reason, kind, attempts, source, failure time, and the original headers in order", () => {
    const before = Date.now();
    const dead = deadLetter(
      input(42, [
        ["a", "1"],
        ["b", null],
        ["a", "2"],
      ]),
      "orders.dlq",
      "timestamp is older than 24 hours: 2020-01-01T00:00:00Z",
      4,
      "permanent",
    );
    const record = readDeadLetter(asConsumed(dead, 1, 7));
    expect(record.error).toBe("timestamp is older than 24 hours: 2020-01-01T00:00:00Z");
    expect(record.kind).toBe("permanent");
    expect(record.attempts).toBe(4);
    expect([record.sourceTopic, record.sourcePartition, record.sourceOffset]).toEqual(["orders", 3, 42]);
    expect([record.partition, record.offset]).toEqual([1, 7]);
    expect(record.failedAt).toBeGreaterThanOrEqual(before - 1000);
    expect(record.truncated).toBe(false);
    expect(record.foreign).toBe(false);
    expect(record.key?.toString()).toBe("key-42");
    expect(record.value?.toString()).toBe('{"id":42}');
    expect(record.originalHeaders.map(([n, v]) => [n.toString(), v?.toString() ?? null])).toEqual([
      ["a", "1"],
      ["b", null],
      ["a", "2"],
    ]);
  });

  test("a stub is marked truncated; a record without processor's headers is foreign and falls back to its own timestamp", () => {
    const stub = readDeadLetter(asConsumed(deadLetterStub(input(1, [["x", "y"]]), "orders.dlq", "too large", 1, "output-refused"), 0, 0));
    expect(stub.truncated).toBe(true);
    expect(stub.value).toBeNull();
    const foreign = readDeadLetter({ partition: 0, offset: 5n, timestamp: 1234n, key: null, value: Buffer.from("v"), headerEntries: [] });
    expect(foreign.foreign).toBe(true);
    expect(foreign.failedAt).toBe(1234);
    expect(foreign.error).toBeNull();
  });
});

describe("reasons", () => {
  test("numbers, ids, times and quoted values are stripped so the same failure counts once", () => {
    expect(normalizeReason("timestamp is older than 24 hours: 2020-01-01T00:00:00Z")).toBe(
      normalizeReason("timestamp is older than 24 hours: 2026-11-28T07:59:59.123+01:00"),
    );
    expect(normalizeReason('order 1234 of customer "ann" failed')).toBe(normalizeReason('order 99 of customer "bob" failed'));
    expect(normalizeReason("lookup 7f3a9c2e1b00 failed after 3 tries")).toBe("lookup <id> failed after <n> tries");
    expect(normalizeReason("id 3f2504e0-4f89-11d3-9a0c-0305e82c3301 unknown")).toBe("id <id> unknown");
    expect(normalizeReason("PermanentError: timestamp is not RFC 3339: Mon, 30 Nov 2026 08:33:10 GMT")).toBe(
      "PermanentError: timestamp is not RFC <n>: <time>",
    );
    expect(normalizeReason("timestamp is not RFC 3339: yesterday")).toBe(normalizeReason("timestamp is not RFC 3339: tomorrow"));
    // what differs in words stays apart
    expect(normalizeReason("invalid JSON")).not.toBe(normalizeReason("timestamp is missing, null or empty: not RFC 3339"));
    expect(normalizeReason(null)).toBe("(no reason header)");
    expect(normalizeReason("x".repeat(500)).length).toBeLessThanOrEqual(160);
  });
});

describe("stats", () => {
  test("counts by kind, reason, source and partition with the failure time range", () => {
    const stats = new DeadLetterStats("orders.dlq");
    const at = (ms: number) => new Date(ms).toISOString();
    const add = (partition: number, offset: number, kind: string, error: string, source: string, failedAt: number) =>
      stats.add(
        readDeadLetter({
          partition,
          offset: BigInt(offset),
          timestamp: 0n,
          key: null,
          value: Buffer.from("v"),
          headerEntries: [
            [Buffer.from("x-processor-error"), Buffer.from(error)],
            [Buffer.from("x-processor-error-kind"), Buffer.from(kind)],
            [Buffer.from("x-processor-source-topic"), Buffer.from(source.split("/")[0]!)],
            [Buffer.from("x-processor-source-partition"), Buffer.from(source.split("/")[1]!)],
            [Buffer.from("x-processor-failed-at"), Buffer.from(at(failedAt))],
          ],
        }),
      );
    add(0, 10, "permanent", "bad id 17", "in/0", 2_000);
    add(0, 11, "permanent", "bad id 18", "in/1", 1_000);
    add(1, 4, "retries-exhausted", "timeout after 500 ms", "in/1", 3_000);
    const s = stats.summary();
    expect(s.records).toBe(3);
    expect(s.byKind).toEqual([
      { name: "permanent", count: 2 },
      { name: "retries-exhausted", count: 1 },
    ]);
    expect(s.byReason).toEqual([
      { name: "bad id <n>", count: 2 },
      { name: "timeout after <n> ms", count: 1 },
    ]);
    expect(s.bySource).toEqual([
      { name: "in/1", count: 2 },
      { name: "in/0", count: 1 },
    ]);
    expect(s.partitions).toEqual([
      { partition: 0, records: 2, from: 10, to: 11 },
      { partition: 1, records: 1, from: 4, to: 4 },
    ]);
    expect([s.firstFailedAt, s.lastFailedAt]).toEqual([at(1_000), at(3_000)]);
    const table = formatSummary(s);
    expect(table).toContain("dead-letter topic orders.dlq: 3 records in 2 partitions");
    expect(table).toMatch(/ 2 +66\.7% +permanent/);
    expect(table).toMatch(/ 1 +33\.3% +timeout after <n> ms/);
  });

  test("long tables end in one row summing the rest; an empty topic says so", () => {
    const stats = new DeadLetterStats("t");
    for (let i = 0; i < TOP_ROWS + 5; i++)
      stats.add(
        readDeadLetter({
          partition: 0,
          offset: BigInt(i),
          timestamp: 0n,
          key: null,
          value: null,
          headerEntries: [[Buffer.from("x-processor-error-kind"), Buffer.from(`kind${"x".repeat(i)}`)]],
        }),
      );
    expect(formatSummary(stats.summary())).toMatch(/ 5 +20\.0% +\(5 more\)/);
    expect(formatSummary(new DeadLetterStats("t").summary())).toBe("dead-letter topic t: no records\n");
  });
});

describe("replay filter", () => {
  const record = readDeadLetter({
    partition: 2,
    offset: 9n,
    timestamp: 0n,
    key: Buffer.from("k"),
    value: Buffer.from("v"),
    headerEntries: [
      [Buffer.from("trace"), Buffer.from("t1")],
      [Buffer.from("x-processor-error"), Buffer.from("invalid JSON")],
      [Buffer.from("x-processor-failed-at"), Buffer.from("2026-11-30T08:00:00.000Z")],
      [Buffer.from("x-processor-replayed-from"), Buffer.from("old/0/1")],
    ],
  });
  const t = Date.parse("2026-11-30T08:00:00.000Z");

  test("reason, since (inclusive) and until (exclusive) select records", () => {
    expect(matches({}, record)).toBe(true);
    expect(matches({ reason: /JSON/ }, record)).toBe(true);
    expect(matches({ reason: /timestamp/ }, record)).toBe(false);
    expect(matches({ since: t }, record)).toBe(true);
    expect(matches({ since: t + 1 }, record)).toBe(false);
    expect(matches({ until: t }, record)).toBe(false);
    expect(matches({ until: t + 1, since: t - 1 }, record)).toBe(true);
  });

  test("replayed headers: the original ones, every x-processor-* removed, plus where the copy came from", () => {
    expect(replayHeaders(record, "orders.dlq").map(([n, v]) => [n.toString(), v?.toString()])).toEqual([
      ["trace", "t1"],
      [REPLAYED_FROM_HEADER, "orders.dlq/2/9"],
    ]);
  });

  test("time bounds: RFC 3339, a date, or an age; anything else is an error", () => {
    const now = Date.parse("2026-11-30T12:00:00Z");
    expect(parseTimeBound("2026-11-30T08:00:00Z", now)).toBe(Date.parse("2026-11-30T08:00:00Z"));
    expect(parseTimeBound("2026-11-30T09:00:00+01:00", now)).toBe(Date.parse("2026-11-30T08:00:00Z"));
    expect(parseTimeBound("2026-11-29", now)).toBe(Date.parse("2026-11-29T00:00:00Z"));
    expect(parseTimeBound("6h", now)).toBe(now - 6 * 3_600_000);
    expect(parseTimeBound("90s", now)).toBe(now - 90_000);
    expect(parseTimeBound("2d", now)).toBe(now - 2 * 86_400_000);
    expect(parseTimeBound("yesterday", now)).toEqual({ error: expect.stringContaining("RFC 3339") });
    expect(parseTimeBound("2026-13-45", now)).toEqual({ error: expect.stringContaining("RFC 3339") });
  });
});

describe("progress", () => {
  test("draws only on a terminal, and clears its line when done", () => {
    const written: string[] = [];
    const quiet = new Progress("reading", 10, { isTTY: false, write: (s: string) => written.push(s) });
    quiet.update(5);
    quiet.done();
    expect(written).toEqual([]);
    const tty = new Progress("reading", 10, { isTTY: true, write: (s: string) => written.push(s) });
    tty.update(5, "3 replayed");
    expect(written[0]).toContain("reading [###############...............]  50% 5/10 3 replayed");
    tty.done();
    expect(written.at(-1)).toBe("\r\x1b[2K");
  });
});

describe("dlq command line", () => {
  async function run(...args: string[]) {
    let stdout = "";
    let stderr = "";
    const code = await runDlq(args, {}, "test", {
      stdout: { write: (s: string) => (stdout += s) },
      stderr: { write: (s: string) => (stderr += s) },
    });
    return { code, stdout, stderr };
  }

  test("help for dlq and each command; no command is a usage error", async () => {
    expect((await run("--help")).stdout).toContain("Commands:");
    expect((await run("stats", "--help")).stdout).toContain("--json");
    expect((await run("replay", "-h")).stdout).toContain("--dry-run");
    const none = await run();
    expect(none.code).toBe(2);
    expect(none.stderr).toContain("Usage:");
  });

  test("bad commands, flags and values are one line and exit 2, before any broker is contacted", async () => {
    const cases: Array<[string[], string]> = [
      [["purge"], 'unknown dlq command "purge"'],
      [["stats"], "name the dead-letter topic"],
      [["stats", "--topic", "bad topic!"], "invalid --topic"],
      [["stats", "--topic", "t", "--frobnicate"], "unknown option --frobnicate"],
      [["stats", "--topic", "t", "--brokers", ""], "--brokers"],
      [["replay", "--from", "t"], "needs --to"],
      [["replay", "--from", "t", "--to", "t"], "--to must differ from --from"],
      [["replay", "--from", "t", "--to", "u", "--reason", "("], "invalid --reason"],
      [["replay", "--from", "t", "--to", "u", "--since", "soon"], "invalid --since"],
      [["replay", "--from", "t", "--to", "u", "--limit", "0"], "invalid --limit"],
      [["replay", "--from", "t", "--to", "u", "--limit"], "--limit needs a value"],
    ];
    for (const [args, message] of cases) {
      const { code, stderr, stdout } = await run(...args);
      expect({ args, code }).toEqual({ args, code: 2 });
      expect(stderr).toContain(message);
      expect(stderr.trim().split("\n")).toHaveLength(1);
      expect(stdout).toBe("");
    }
  });

  test("the dead-letter topic comes from the configuration when not named: --dlq-topic or <output-topic>.dlq", async () => {
    // an unreachable broker shows which topic was chosen (the read fails: exit 1, one line)
    const { code, stderr } = await run("replay", "--to", "orders.dlq", "--output-topic", "orders", "--brokers", "127.0.0.1:1");
    expect(code).toBe(2);
    expect(stderr).toContain("--to must differ from --from");
  });
});
