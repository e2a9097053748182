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
  "INVALID_REQUIRED_ACKS",
]);

/** Certificate checks the TLS layer (Node or Bun) can fail the broker's certificate with. */
const CERT_UNTRUSTED_CODES = new Set([
  "SELF_SIGNED_CERT_IN_CHAIN",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "CERT_UNTRUSTED",
  "CERT_SIGNATURE_FAILURE",
  "CERT_CHAIN_TOO_LONG",
  "INVALID_CA",
  "CERT_REJECTED",
]);
const CERT_DATE_CODES = new Set(["CERT_HAS_EXPIRED", "CERT_NOT_YET_VALID", "ERROR_IN_CERT_NOT_BEFORE_FIELD", "ERROR_IN_CERT_NOT_AFTER_FIELD"]);
const CERT_NAME_CODES = new Set(["ERR_TLS_CERT_ALTNAME_INVALID", "HOSTNAME_MISMATCH", "ERR_TLS_CERT_ALTNAME_FORMAT"]);

const oneLine = (text: string): string => text.replace(/\s+/g, " ").trim();

function codeAndMessage(e: ErrorLike): string {
  const message = typeof e.message === "string" ? oneLine(e.message).replace(/\.$/, "") : "";
  return message ? `${String(e.code)}: ${message}` : String(e.code);
}

/** Why a SASL exchange failed, from the AuthenticationError and what it wraps. */
function authenticationReason(auth: ErrorLike): string {
  let closed = false;
  for (const e of walk(auth.cause)) {
    if (e.apiId === "UNSUPPORTED_SASL_MECHANISM") return "the broker does not support the requested SASL mechanism (check --sasl-mechanism)";
    if (e.apiId === "SASL_AUTHENTICATION_FAILED") break;
    if (e.code === "PLT_KFK_NETWORK" && typeof e.message === "string" && /^Connection closed/.test(e.message)) closed = true;
  }
  if (closed) return "the broker closed the connection during the SASL handshake: is it a TLS listener? (use --tls)";
  if (auth.message === "SASL authentication failed.") {
    return "SASL authentication failed: the broker rejected the credentials (check --sasl-username, the password and --sasl-mechanism)";
  }
  return `SASL authentication failed: ${typeof auth.message === "string" ? oneLine(auth.message) : "unknown reason"}`;
}

/** A TLS problem no retry will fix (certificate not trusted, wrong listener type, unusable client key), or null. */
function tlsReason(e: ErrorLike): string | null {
  const code = typeof e.code === "string" ? e.code : "";
  if (CERT_UNTRUSTED_CODES.has(code)) {
    return `TLS: the broker's certificate is not trusted (${codeAndMessage(e)}); is --tls-ca-file the CA that signed it?`;
  }
  if (CERT_NAME_CODES.has(code)) {
    return `TLS: the broker's certificate does not match the host name (${codeAndMessage(e)}); connect by a name in the certificate or set --tls-server-name`;
  }
  if (CERT_DATE_CODES.has(code)) return `TLS: the broker's certificate is not valid now (${codeAndMessage(e)})`;
  if (code.startsWith("ERR_OSSL_") || code === "ERR_BORINGSSL" || code === "ERR_SSL_NO_START_LINE") {
    return `TLS setup failed (${codeAndMessage(e)}); check --tls-ca-file, --tls-cert-file and --tls-key-file`;
  }
  if (code === "PLT_KFK_USER" && typeof e.message === "string") {
    if (e.message === "Broker requires TLS.") return "the broker answered with TLS: it is a TLS listener (use --tls)";
    if (e.message.startsWith("TLS handshake failed")) {
      return "TLS handshake failed: the broker closed the connection (is it a plaintext listener? then drop --tls)";
    }
  }
  return null;
}

/** A condition no retry will fix: wrong credentials, TLS mismatch, missing topic, denied access, unresolvable host. */
export function fatalReason(error: unknown): string | null {
  for (const e of walk(error)) {
    if (e.code === "PLT_KFK_AUTHENTICATION") return authenticationReason(e);
    const tls = tlsReason(e);
    if (tls !== null) return tls;
    if (typeof e.apiId === "string" && FATAL_API_IDS.has(e.apiId)) return e.apiId.toLowerCase().replaceAll("_", " ");
    if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN") return `broker host not found (${String(e.message ?? e.code)})`;
    if (e.code === "PLT_KFK_USER" && typeof e.message === "string" && /unknown topic/i.test(e.message)) {
      return `${e.message.replace(/\.$/, "")} (topic missing and auto-create is off)`;
    }
    // The client's own schema check: the same request fails the same way on every retry.
    if (e.code === "PLT_KFK_USER" && typeof e.message === "string" && e.message.startsWith("/options/")) {
      return `the Kafka client refused the request: ${oneLine(e.message)}`;
    }
  }
  return null;
}

/**
 * Kafka refuses a topic rather than the request: missing (with auto-create off), not a legal name, or not
 * writable for this client. `topic` is set when the error names it.
 */
export function topicRefusal(error: unknown): { readonly topic: string | null; readonly reason: string } | null {
  for (const e of walk(error)) {
    if (e.code === "PLT_KFK_USER" && typeof e.message === "string") {
      const unknown = /^Unknown topic (.*?)\.?$/.exec(e.message);
      if (unknown !== null) return { topic: unknown[1]!, reason: "the topic does not exist (processor does not create topics)" };
    }
    if (e.apiId === "UNKNOWN_TOPIC_OR_PARTITION") return { topic: null, reason: "the topic does not exist (processor does not create topics)" };
    if (e.apiId === "INVALID_TOPIC_EXCEPTION") return { topic: null, reason: "Kafka refuses the topic name (invalid topic: internal topics cannot be written to)" };
    if (e.apiId === "TOPIC_AUTHORIZATION_FAILED") return { topic: null, reason: "this client is not authorized to write to the topic" };
  }
  return null;
}

/** Kafka refuses a record for its size: no retry helps, but the other records of the batch may be fine. */
export function tooLargeReason(error: unknown): string | null {
  for (const e of walk(error)) {
    if (e.apiId === "MESSAGE_TOO_LARGE" || e.apiId === "RECORD_LIST_TOO_LARGE") return "the record is larger than the topic's max.message.bytes (or the broker's message.max.bytes)";
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
  const text = messages.join(" <- ") || String(error);
  return closedOnEveryAttempt(error) ? `${text} (${CLOSED_HINT})` : text;
}

const CLOSED_HINT =
  "the broker closed every connection right after accepting it: does the listener need TLS (--tls), a client certificate (--tls-cert-file, --tls-key-file) or SASL (--sasl-mechanism)?";

/**
 * Every attempt ended with the broker closing a connection it had just accepted: what a TLS listener requiring a
 * client certificate, or a SASL listener, does to a client without them. (A broker going away refuses new
 * connections instead, so retried attempts would not all look like this.)
 */
function closedOnEveryAttempt(error: unknown): boolean {
  let leaves = 0;
  for (const e of walk(error)) {
    const nested = (Array.isArray(e.errors) && e.errors.length > 0) || e.cause !== undefined;
    if (nested) continue;
    if (e.code !== "PLT_KFK_NETWORK" || typeof e.message !== "string" || !e.message.startsWith("Connection closed")) return false;
    leaves++;
  }
  return leaves >= 2;
}

export function backoffMs(attempt: number, baseMs: number, maxMs: number): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.min(attempt, 30));
  return Math.round(ceiling / 2 + Math.random() * (ceiling / 2)); // "equal jitter"
}

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));
