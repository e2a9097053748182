import { describe, expect, test } from "bun:test";
import { seedRule, validateSeedMessage } from "../../src/handlers/seed-rule.ts";
import { runHandler } from "../../src/handlers/run-handler.ts";
import { PermanentError, type Handler, type InputRecord } from "../../src/handlers/types.ts";

const text = new TextEncoder();
const NOW = Date.parse("2026-11-26T12:00:00Z");

function record(value: string | null, extra: Partial<InputRecord> = {}): InputRecord {
  return { topic: "in", partition: 1, offset: 7, timestamp: NOW, key: text.encode("k"), value: value === null ? null : text.encode(value), headers: [["h", text.encode("v")]], attempt: 1, ...extra };
}

describe("seed rule", () => {
  const message = (fields: Record<string, unknown>) => JSON.stringify({ id: 1, timestamp: "2026-11-26T11:00:00Z", data: "0123456789x", status: "", ...fields });

  test("status is valid when data is longer than 10 characters, else invalid", () => {
    expect(validateSeedMessage(message({ data: "0123456789x" }), NOW).status).toBe("valid");
    expect(validateSeedMessage(message({ data: "0123456789" }), NOW).status).toBe("invalid");
    expect(validateSeedMessage(message({ data: "" }), NOW).status).toBe("invalid");
  });

  test("accepts RFC 3339 with offsets and fractions", () => {
    expect(validateSeedMessage(message({ timestamp: "2026-11-26T13:30:00.123+02:00" }), NOW).id).toBe(1);
    expect(validateSeedMessage(message({ timestamp: "2026-11-25T12:00:01Z" }), NOW).id).toBe(1);
  });

  test.each([
    ["{not json", /not valid JSON/],
    ["[1,2]", /not a JSON object/],
    ["null", /not a JSON object/],
    [message({ timestamp: "2026-11-25T11:59:59Z" }), /older than 24 hours/],
    [message({ timestamp: "2026-11-26T12:10:00Z" }), /in the future/],
    [message({ timestamp: "26/11/2026" }), /not RFC 3339/],
    [message({ timestamp: "2026-13-45T99:00:00Z" }), /not RFC 3339/],
    [message({ timestamp: 1764158400 }), /timestamp is missing or not a string/],
    [message({ data: 42 }), /data is missing or not a string/],
    [message({ id: null }), /id is missing/],
  ])("rejects %s permanently", (input, reason) => {
    let error: unknown;
    try {
      validateSeedMessage(input, NOW);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(PermanentError);
    expect((error as Error).message).toMatch(reason);
  });

  test("keeps only the four fields and rejects null or invalid UTF-8 values", async () => {
    const now = new Date().toISOString();
    const outcome = await runHandler(seedRule, record(JSON.stringify({ id: "a", timestamp: now, data: "long enough data", status: "x", extra: 1 })), "out", 1000);
    expect(outcome.kind).toBe("outputs");
    if (outcome.kind !== "outputs") return;
    expect(JSON.parse(new TextDecoder().decode(outcome.outputs[0]!.value!))).toEqual({ id: "a", timestamp: now, data: "long enough data", status: "valid" });
    expect(await runHandler(seedRule, record(null), "out", 1000)).toEqual({ kind: "failed", reason: "PermanentError: value is null", permanent: true });
    const badUtf8 = { ...record(""), value: new Uint8Array([0x7b, 0xff, 0xfe]) };
    expect(await runHandler(seedRule, badUtf8, "out", 1000)).toMatchObject({ kind: "failed", permanent: true, reason: expect.stringContaining("UTF-8") });
  });
});

describe("handler runner", () => {
  test("one output keeps input key and headers unless given; the output topic defaults", async () => {
    const outcome = await runHandler(() => ({ value: "x" }), record("v"), "out", 1000);
    expect(outcome).toEqual({ kind: "outputs", outputs: [{ topic: "out", key: text.encode("k"), value: text.encode("x"), headers: [["h", text.encode("v")]] }] });
  });

  test("fan-out, own topic, null key, header object form", async () => {
    const handler: Handler = async () => [{ value: "a", topic: "other", key: null, headers: { x: "1" } }, { value: null }];
    const outcome = await runHandler(handler, record("v"), "out", 1000);
    expect(outcome).toEqual({
      kind: "outputs",
      outputs: [
        { topic: "other", key: null, value: text.encode("a"), headers: [["x", text.encode("1")]] },
        { topic: "out", key: text.encode("k"), value: null, headers: [["h", text.encode("v")]] },
      ],
    });
  });

  test("null filters the record out", async () => {
    expect(await runHandler(() => null, record("v"), "out", 1000)).toEqual({ kind: "outputs", outputs: [] });
  });

  test("thrown errors, non-Error throws, permanent marks and timeouts become failures", async () => {
    expect(await runHandler(() => { throw new Error("boom"); }, record("v"), "out", 1000)).toEqual({ kind: "failed", reason: "Error: boom", permanent: false });
    expect(await runHandler(() => { throw "a string"; }, record("v"), "out", 1000)).toEqual({ kind: "failed", reason: "thrown string: a string", permanent: false });
    expect(await runHandler(() => { throw { permanent: true }; }, record("v"), "out", 1000)).toMatchObject({ kind: "failed", permanent: true });
    expect(await runHandler(() => new Promise(() => undefined), record("v"), "out", 20)).toEqual({ kind: "failed", reason: "Error: handler timed out after 20 ms", permanent: false });
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
