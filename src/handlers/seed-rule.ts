/**
 * The seed service's message rule, without its bug (the seed marked every message failed):
 * JSON `{id, timestamp, data, status}`; unparsable JSON, a missing or mistyped field, a timestamp that is not
 * RFC 3339, older than 24 h or more than 5 min in the future (clock skew) is a permanent failure;
 * otherwise `status` = "valid" when `data` is longer than 10 characters, else "invalid".
 */
import { PermanentError, type Handler, type InputRecord, type OutputRecord } from "./types.ts";

const DAY_MS = 24 * 60 * 60 * 1000;
const FUTURE_SKEW_MS = 5 * 60 * 1000;
const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;
const decoder = new TextDecoder("utf-8", { fatal: true });

export interface SeedMessage {
  id: string | number;
  timestamp: string;
  data: string;
  status: "valid" | "invalid";
}

export function validateSeedMessage(text: string, now: number): SeedMessage {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new PermanentError("value is not valid JSON");
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new PermanentError("value is not a JSON object");
  }
  const { id, timestamp, data } = parsed as Record<string, unknown>;
  if (typeof id !== "string" && typeof id !== "number") throw new PermanentError("id is missing or not a string/number");
  if (typeof timestamp !== "string") throw new PermanentError("timestamp is missing or not a string");
  if (typeof data !== "string") throw new PermanentError("data is missing or not a string");
  const time = RFC3339.test(timestamp) ? Date.parse(timestamp) : Number.NaN;
  if (Number.isNaN(time)) throw new PermanentError(`timestamp is not RFC 3339: ${timestamp.slice(0, 64)}`);
  if (now - time > DAY_MS) throw new PermanentError(`timestamp is older than 24 hours: ${timestamp}`);
  if (time - now > FUTURE_SKEW_MS) throw new PermanentError(`timestamp is in the future: ${timestamp}`);
  return { id, timestamp, data, status: data.length > 10 ? "valid" : "invalid" };
}

export const seedRule: Handler = (record: InputRecord): OutputRecord => {
  if (record.value === null) throw new PermanentError("value is null");
  let text: string;
  try {
    text = decoder.decode(record.value);
  } catch {
    throw new PermanentError("value is not valid UTF-8");
  }
  return { value: JSON.stringify(validateSeedMessage(text, Date.now())) };
};
