import { describe, expect, test } from "bun:test";
import { createSeedRule, seedRule, validateSeedMessage } from "../../src/handlers/seed-rule.ts";
import { runHandler } from "../../src/handlers/run-handler.ts";
import { PermanentError, type Handler, type InputRecord } from "../../src/handlers/types.ts";

const text = new TextEncoder();
const NOW = Date.parse("2026-11-26T12:00:00Z");

function record(value: string | null, extra: Partial<InputRecord> = {}): InputRecord {
  return {
    topic: "in",
    partition: 1,
    offset: 7,
    timestamp: NOW,
    key: text.encode("k"),
    value: value === null ? null : text.encode(value),
    headers: [["h", text.encode("v")]],
    rawHeaders: [[text.encode("h"), text.encode("v")]],
    attempt: 1,
    ...extra,
  };
}

describe("seed rule", () => {
  const message = (fields: Record<string, unknown>) =>
    JSON.stringify({ id: "1", timestamp: "2026-11-26T11:00:00Z", data: "0123456789x", status: "", ...fields });
  const rejection = (run: () => unknown): Error => {
    try {
      run();
    } catch (e) {
      expect(e).toBeInstanceOf(PermanentError);
      return e as Error;
    }
    throw new Error("expected a PermanentError");
  };

  test("status is valid when data is longer than 10 UTF-8 bytes, else invalid", () => {
    expect(validateSeedMessage(message({ data: "0123456789x" }), NOW).status).toBe("valid");
    expect(validateSeedMessage(message({ data: "0123456789" }), NOW).status).toBe("invalid");
    expect(validateSeedMessage(message({ data: "" }), NOW).status).toBe("invalid");
    expect(validateSeedMessage(message({ data: "ééééé" }), NOW).status).toBe("invalid"); // 10 bytes
    expect(validateSeedMessage(message({ data: "€€€€" }), NOW).status).toBe("valid"); // 4 characters, 12 bytes
  });

  test("accepts what Go's time.Parse(time.RFC3339) accepts, future timestamps included", () => {
    for (const timestamp of [
      "2026-11-26T13:30:00.123+02:00",
      "2026-11-25T12:00:01Z",
      "2026-11-26T11:00:00,5Z",
      "2026-11-26T1:00:00Z",
      "2026-11-27T11:00:00+24:00",
      "2026-11-26T12:10:00Z",
      "9999-12-31T23:59:59Z",
    ]) {
      expect(validateSeedMessage(message({ timestamp }), NOW).timestamp).toBe(timestamp);
    }
  });

  test("decodes as Go's encoding/json: missing or null fields are empty, keys fold case, the last duplicate wins", () => {
    expect(validateSeedMessage('{"timestamp":"2026-11-26T11:00:00Z"}', NOW)).toEqual({
      id: "",
      timestamp: "2026-11-26T11:00:00Z",
      data: "",
      status: "invalid",
    });
    expect(validateSeedMessage(message({ id: null }), NOW).id).toBe("");
    expect(validateSeedMessage('{"ID":"a","TimeStamp":"2026-11-26T11:00:00Z","ſtatus":"x","DATA":"0123456789x","data":null}', NOW)).toEqual(
      { id: "a", timestamp: "2026-11-26T11:00:00Z", data: "0123456789x", status: "valid" },
    );
    expect(validateSeedMessage('{"timestamp":"2026-11-26T11:00:00Z","data":"abc","Data":"0123456789x"}', NOW).data).toBe("0123456789x");
  });

  test.each([
    ["{not json", /not valid JSON/],
    ["[1,2]", /not a JSON object/],
    ["null", /not RFC 3339/],
    ['{"timestamp":"2026-11-26T11:00:00Z"} x', /not valid JSON/],
    [message({ timestamp: "2026-11-25T11:59:59Z" }), /older than 24 hours/],
    [message({ timestamp: "2026-11-25T11:59:59.999999999Z" }), /older than 24 hours/],
    [message({ timestamp: "26/11/2026" }), /not RFC 3339/],
    [message({ timestamp: "2026-13-45T99:00:00Z" }), /not RFC 3339/],
    [message({ timestamp: "2026-11-26t11:00:00Z" }), /not RFC 3339/],
    [message({ timestamp: "2026-11-26 11:00:00Z" }), /not RFC 3339/],
    [message({ timestamp: "2027-02-29T11:00:00Z" }), /not RFC 3339/],
    [message({ timestamp: 1764158400 }), /timestamp is not a string/],
    [message({ data: 42 }), /data is not a string/],
    [message({ id: 1 }), /id is not a string/],
    [message({ status: false }), /status is not a string/],
    ['{"timestamp":"2026-11-26T11:00:00Z","data":"0123456789x","DATA":[]}', /data is not a string/],
  ])("rejects %s permanently", (input, reason) => {
    expect(rejection(() => validateSeedMessage(input, NOW)).message).toMatch(reason);
  });

  test("options: rejectFutureMs, strictUtf8, requireFields (all off by default)", () => {
    const future = message({ timestamp: "2026-11-26T12:05:00.001Z" });
    expect(validateSeedMessage(future, NOW).status).toBe("valid");
    expect(validateSeedMessage(message({ timestamp: "2026-11-26T12:05:00Z" }), NOW, { rejectFutureMs: 300_000 }).status).toBe("valid");
    expect(rejection(() => validateSeedMessage(future, NOW, { rejectFutureMs: 300_000 })).message).toMatch(/in the future/);
    const badUtf8 = new Uint8Array([...text.encode('{"timestamp":"2026-11-26T11:00:00Z","data":"abcdefghi'), 0xff, ...text.encode('"}')]);
    expect(validateSeedMessage(badUtf8, NOW)).toMatchObject({ data: "abcdefghi\ufffd", status: "valid" }); // 9 + 3 bytes
    expect(rejection(() => validateSeedMessage(badUtf8, NOW, { strictUtf8: true })).message).toBe("value is not valid UTF-8");
    expect(rejection(() => validateSeedMessage(message({ id: null }), NOW, { requireFields: true })).message).toMatch(
      /id is missing or null/,
    );
    expect(
      rejection(() => validateSeedMessage('{"id":"a","timestamp":"2026-11-26T11:00:00Z"}', NOW, { requireFields: true })).message,
    ).toMatch(/data is missing or null/);
    expect(() => createSeedRule({ rejectFutureMs: -1 })).toThrow(/rejectFutureMs/);
  });

  test("keeps only the four fields and rejects null or invalid UTF-8 values", async () => {
    const now = new Date().toISOString();
    const outcome = await runHandler(
      seedRule,
      record(JSON.stringify({ id: "a", timestamp: now, data: "long enough data", status: "x", extra: 1 })),
      "out",
      1000,
    );
    expect(outcome.kind).toBe("outputs");
    if (outcome.kind !== "outputs") return;
    expect(new TextDecoder().decode(outcome.outputs[0]!.value!)).toBe(
      JSON.stringify({ id: "a", timestamp: now, data: "long enough data", status: "valid" }),
    );
    expect(await runHandler(seedRule, record(null), "out", 1000)).toEqual({
      kind: "failed",
      reason: "PermanentError: value is null",
      permanent: true,
    });
    const badUtf8 = { ...record(""), value: new Uint8Array([0x7b, 0xff, 0xfe]) };
    expect(await runHandler(seedRule, badUtf8, "out", 1000)).toMatchObject({
      kind: "failed",
      permanent: true,
      reason: expect.stringContaining("UTF-8"),
    });
  });
});

describe("handler runner", () => {
  test("one output keeps input key and headers unless given; the output topic defaults", async () => {
    const outcome = await runHandler(() => ({ value: "x" }), record("v"), "out", 1000);
    // omitted headers are the input's, byte-exact (names as the bytes Kafka had)
    expect(outcome).toEqual({
      kind: "outputs",
      outputs: [{ topic: "out", key: text.encode("k"), value: text.encode("x"), headers: [[text.encode("h"), text.encode("v")]] }],
    });
  });

  test("fan-out, own topic, null key, header object form", async () => {
    const handler: Handler = async () => [{ value: "a", topic: "other", key: null, headers: { x: "1" } }, { value: null }];
    const outcome = await runHandler(handler, record("v"), "out", 1000);
    expect(outcome).toEqual({
      kind: "outputs",
      outputs: [
        { topic: "other", key: null, value: text.encode("a"), headers: [["x", text.encode("1")]] },
        { topic: "out", key: text.encode("k"), value: null, headers: [[text.encode("h"), text.encode("v")]] },
      ],
    });
  });

  test("null filters the record out", async () => {
    expect(await runHandler(() => null, record("v"), "out", 1000)).toEqual({ kind: "outputs", outputs: [] });
  });

  test("thrown errors, non-Error throws, permanent marks and timeouts become failures", async () => {
    const throwing = (thrown: unknown) =>
      runHandler(
        () => {
          throw thrown;
        },
        record("v"),
        "out",
        1000,
      );
    expect(await throwing(new Error("boom"))).toEqual({ kind: "failed", reason: "Error: boom", permanent: false });
    expect(await throwing("a string")).toEqual({ kind: "failed", reason: "thrown string: a string", permanent: false });
    expect(await throwing({ permanent: true })).toMatchObject({ kind: "failed", permanent: true });
    expect(await runHandler(() => new Promise(() => undefined), record("v"), "out", 20)).toEqual({
      kind: "failed",
      reason: "Error: handler timed out after 20 ms",
      permanent: false,
    });
  });

  test.each([
    [undefined, /undefined/],
    [42, /expected an output record object/],
    ["text", /expected an output record object/],
    [{ value: 42 }, /output value must be/],
    [{ value: "x", key: 5 }, /output key must be/],
    [{ value: "x", topic: "" }, /output topic/],
    [{ value: "x", headers: [["h", 1]] }, /a header must be/],
  ])("a wrong result type (%p) is a permanent failure", async (result, reason) => {
    const outcome = await runHandler(() => result as never, record("v"), "out", 1000);
    expect(outcome).toMatchObject({ kind: "failed", permanent: true });
    if (outcome.kind === "failed") expect(outcome.reason).toMatch(reason);
  });
});
