/** Fail-fast check before joining the group: brokers reachable and every topic present. */
import { Admin } from "@platformatic/kafka";
import { baseClientOptions } from "./client-options.ts";
import { describeError, fatalReason } from "./errors.ts";
import type { ClientSettings } from "./protocol.ts";

/** Returns null when all is well, else one line saying what is wrong. */
export async function checkTopics(settings: ClientSettings, topics: readonly string[]): Promise<string | null> {
  const admin = new Admin({ ...baseClientOptions(settings, "admin"), retries: 3 });
  try {
    const existing = new Set(await admin.listTopics());
    const missing = [...new Set(topics)].filter((topic) => !existing.has(topic));
    if (missing.length > 0) return `topic${missing.length > 1 ? "s" : ""} not found: ${missing.join(", ")} (create ${missing.length > 1 ? "them" : "it"} first; processor does not auto-create topics)`;
    return null;
  } catch (error) {
    return fatalReason(error) ?? `cannot reach brokers ${settings.brokers.join(",")}: ${describeError(error)}`;
  } finally {
    await admin.close().catch(() => undefined);
  }
}
