/** Fail-fast check before joining the group: brokers reachable and every topic present. */
import { Admin } from "@platformatic/kafka";
import { baseClientOptions } from "./client-options.ts";
import { classify, describeError, type Failure } from "./errors.ts";
import type { ClientSettings } from "../threads/messages.ts";

/** Returns null when all is well, else what is wrong. */
export async function checkTopics(settings: ClientSettings, topics: readonly string[]): Promise<Failure | null> {
  const admin = new Admin({ ...baseClientOptions(settings, "admin"), retries: 3 });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length === 0) return null;
    const message = `topic${missing.length > 1 ? "s" : ""} not found: ${missing.join(", ")} (create ${missing.length > 1 ? "them" : "it"} first; processor does not auto-create topics)`;
    return missing.length === 1
      ? { kind: "unknown-topic", message, retriable: false, topic: missing[0]! }
      : { kind: "unknown-topic", message, retriable: false };
  } catch (error) {
    const failure = classify(error);
    if (!failure.retriable) return failure;
    return {
      kind: "unreachable",
      message: `cannot reach brokers ${settings.brokers.join(",")}: ${describeError(error)}`,
      retriable: false,
    };
  } finally {
    await admin.close().catch(() => undefined);
  }
}
