/** Sorting Kafka client errors into "retry with backoff" and "stop with one clear message". */

interface ErrorLike {
  message?: unknown;
  code?: unknown;
  canRetry?: unknown;
  apiId?: unknown;
  errors?: unknown;
  cause?: unknown;
}

function* walk(error: unknown, depth = 0): Generator<ErrorLike> {
  if (depth > 8 || typeof error !== "object" || error === null) return;
  const e = error as ErrorLike;
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* walk(inner, depth + 1);
  if (e.cause !== undefined) yield* walk(e.cause, depth + 1);
}

const FATAL_API_IDS = new Set([
  "TOPIC_AUTHORIZATION_FAILED",
  "GROUP_AUTHORIZATION_FAILED",
  "CLUSTER_AUTHORIZATION_FAILED",
  "TRANSACTIONAL_ID_AUTHORIZATION_FAILED",
  "SASL_AUTHENTICATION_FAILED",
  "UNSUPPORTED_SASL_MECHANISM",
  "INVALID_TOPIC_EXCEPTION",
  "MESSAGE_TOO_LARGE",
  "RECORD_LIST_TOO_LARGE",
  "INVALID_REQUIRED_ACKS",
]);

/** A condition no retry will fix: wrong credentials, missing topic, denied access, unresolvable host. */
export function fatalReason(error: unknown): string | null {
  for (const e of walk(error)) {
    if (e.code === "PLT_KFK_AUTHENTICATION") return "authentication failed";
    if (typeof e.apiId === "string" && FATAL_API_IDS.has(e.apiId)) return e.apiId.toLowerCase().replaceAll("_", " ");
    if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return `broker host not found (${String(e.message ?? e.code)})`;
    if (e.code === "PLT_KFK_USER" && typeof e.message === "string" && /unknown topic/i.test(e.message)) {
      return `${e.message.replace(/\.$/, "")} (topic missing and auto-create is off)`;
    }
  }
  return null;
}

/** The innermost useful message, for logs. */
export function describeError(error: unknown): string {
  const messages: string[] = [];
  for (const e of walk(error)) {
    if (typeof e.message === "string" && e.message && !messages.includes(e.message)) messages.push(e.message);
    if (messages.length >= 4) break;
  }
  return messages.join(" <- ") || String(error);
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
