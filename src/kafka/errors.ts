/** Sorting Kafka client errors into "retry with backoff" and "stop with one clear message". */
import { OAUTH_TOKEN_ERROR_CODE } from "./oauth-token.ts";

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
const CERT_DATE_CODES = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "ERROR_IN_CERT_NOT_BEFORE_FIELD",
  "ERROR_IN_CERT_NOT_AFTER_FIELD",
]);
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
    // our OAUTHBEARER token provider, or the broker's answer to its token: that message is the explanation
    if (e.code === OAUTH_TOKEN_ERROR_CODE && typeof e.message === "string") return `SASL authentication failed: ${oneLine(e.message)}`;
    if (e.apiId === "UNSUPPORTED_SASL_MECHANISM")
      return "the broker does not support the requested SASL mechanism (check --sasl-mechanism)";
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

/**
 * What went wrong, classified once where the client's error is caught, and passed on as data (it is
 * structured-cloned between threads). `message` is the one line printed for it (logs, stderr, /healthz, the
 * dead-letter reason); nothing re-parses it.
 */
export interface Failure {
  readonly kind: FailureKind;
  readonly message: string;
  /** Retrying the same request (with backoff) can succeed. */
  readonly retriable: boolean;
  /** The topic it concerns, when known. */
  readonly topic?: string;
}

export type FailureKind =
  /** SASL: credentials or mechanism refused, or a TLS listener answered. */
  | "auth"
  /** Certificate not trusted, wrong listener type, unusable client key. */
  | "tls"
  /** Group, cluster or transactional id access denied. */
  | "authorization"
  /** The topic does not exist (auto-create is off). Retriable when only the metadata said so. */
  | "unknown-topic"
  /** Kafka refuses the topic's name (internal topics, illegal names). */
  | "invalid-topic"
  /** This client may not write (or read) the topic. */
  | "topic-authorization"
  /** A record larger than the topic or broker allows. */
  | "too-large"
  | "host-not-found"
  /** The client's own request check (or acks) refused the request: it fails the same way every time. */
  | "client-refused"
  /** A commit refused for the group's generation: the group is rebalancing. */
  | "rebalance"
  /** This member was expelled from the group, or lost partitions, while committing. */
  | "expelled"
  | "network"
  | "timeout"
  /** The brokers could not be reached at start. */
  | "unreachable"
  /** A Worker died of an uncaught error. */
  | "crashed"
  /** The processor's own condition (a refused dead-letter copy, an internal error). */
  | "internal"
  /** The dead-letter guard stopped the processor. */
  | "halted"
  /** Exactly-once mode: a transaction was aborted (its records are processed again). */
  | "transaction"
  | "unknown";

/** Refusals that concern a topic rather than the request: the records for other topics may be fine. */
const TOPIC_REFUSALS: ReadonlySet<FailureKind> = new Set(["unknown-topic", "invalid-topic", "topic-authorization"]);

export function isTopicRefusal(failure: Failure): boolean {
  return TOPIC_REFUSALS.has(failure.kind);
}

/** What a topic refusal means for the records sent to it (their dead-letter reason). */
export function topicRefusalReason(failure: Failure): string {
  if (failure.kind === "invalid-topic") return "Kafka refuses the topic name (invalid topic: internal topics cannot be written to)";
  if (failure.kind === "topic-authorization") return "this client is not authorized to write to the topic";
  return "the topic does not exist (processor does not create topics)";
}

const TOO_LARGE = "the record is larger than the topic's max.message.bytes (or the broker's message.max.bytes)";
const REBALANCE_API_IDS = new Set([
  "ILLEGAL_GENERATION",
  "REBALANCE_IN_PROGRESS",
  "UNKNOWN_MEMBER_ID",
  "FENCED_INSTANCE_ID",
  "FENCED_MEMBER_EPOCH",
  "STALE_MEMBER_EPOCH",
]);

const failure = (kind: FailureKind, message: string, retriable: boolean, topic?: string): Failure =>
  topic === undefined ? { kind, message, retriable } : { kind, message, retriable, topic };

/** One error seen on its own: what it is, or null when it says nothing decisive. */
function classifyOne(e: ErrorLike): Failure | null {
  if (e.code === "PLT_KFK_AUTHENTICATION") return failure("auth", authenticationReason(e), false);
  const tls = tlsReason(e);
  if (tls !== null) return failure("tls", tls, false);
  if (typeof e.message === "string" && e.code === "PLT_KFK_USER") {
    const unknown = /^Unknown topic (.*?)\.?$/.exec(e.message);
    if (unknown !== null)
      return failure("unknown-topic", `${e.message.replace(/\.$/, "")} (topic missing and auto-create is off)`, false, unknown[1]!);
    // The client's own schema check: the same request fails the same way on every retry.
    if (e.message.startsWith("/options/"))
      return failure("client-refused", `the Kafka client refused the request: ${oneLine(e.message)}`, false);
  }
  switch (e.apiId) {
    case "UNKNOWN_TOPIC_OR_PARTITION":
      return failure("unknown-topic", "unknown topic or partition", true);
    case "INVALID_TOPIC_EXCEPTION":
      return failure("invalid-topic", "invalid topic exception", false);
    case "TOPIC_AUTHORIZATION_FAILED":
      return failure("topic-authorization", "topic authorization failed", false);
    case "GROUP_AUTHORIZATION_FAILED":
    case "CLUSTER_AUTHORIZATION_FAILED":
    case "TRANSACTIONAL_ID_AUTHORIZATION_FAILED":
      return failure("authorization", e.apiId.toLowerCase().replaceAll("_", " "), false);
    case "SASL_AUTHENTICATION_FAILED":
    case "UNSUPPORTED_SASL_MECHANISM":
      return failure("auth", e.apiId.toLowerCase().replaceAll("_", " "), false);
    case "INVALID_REQUIRED_ACKS":
      return failure("client-refused", "invalid required acks", false);
  }
  if (e.code === "ENOTFOUND" || e.code === "EAI_AGAIN")
    return failure("host-not-found", `broker host not found (${String(e.message ?? e.code)})`, false);
  return null;
}

/**
 * Classifies a Kafka client error (and what it wraps) once. A record too large wins over everything (the rest
 * of its batch may be fine); then the first decisive error of the chain; else a retriable failure named after
 * the chain's rebalance, timeout or network errors, with the chain's messages (`describeError`).
 */
export function classify(error: unknown): Failure {
  let retriable: Failure | null = null;
  for (const e of walk(error)) {
    if (e.apiId === "MESSAGE_TOO_LARGE" || e.apiId === "RECORD_LIST_TOO_LARGE") return failure("too-large", TOO_LARGE, false);
  }
  for (const e of walk(error)) {
    const found = classifyOne(e);
    if (found !== null && !found.retriable) return found;
    retriable ??= found;
  }
  if (retriable !== null) return retriable;
  const message = describeError(error);
  let kind: FailureKind = "unknown";
  for (const e of walk(error)) {
    if (typeof e.apiId === "string" && REBALANCE_API_IDS.has(e.apiId)) kind = "rebalance";
    else if (kind === "unknown" && e.code === "PLT_KFK_TIMEOUT") kind = "timeout";
    else if (kind === "unknown" && e.code === "PLT_KFK_NETWORK") kind = "network";
  }
  // how the group coordinator words a refused generation when no API id survives
  if (/generation|rebalanc/i.test(message)) kind = "rebalance";
  return failure(kind, message, true);
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
