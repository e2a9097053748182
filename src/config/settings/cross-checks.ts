/**
 * What involves several settings: defaults computed from other settings (deriveDefaults) and rules between
 * settings (crossChecks). Issues point at the setting to fix (path[0]); messages never include a secret.
 */
import { createSecureContext } from "node:tls";
import type { z } from "zod";
import { formatDuration } from "../parse-values.ts";
import type { SettingFields, SettingKey } from "../settings.ts";
import { securitySettings } from "./security.ts";

/** Fill in defaults that depend on other settings. */
export function deriveDefaults(c: SettingFields) {
  return {
    ...c,
    dlqTopic: c.dlqTopic ?? `${c.outputTopic}.dlq`,
    pickUp: c.pickUp ?? Math.max(1, Math.floor(c.concurrency / 3)),
    tls: c.tls ?? [c.tlsCaFile, c.tlsCertFile, c.tlsKeyFile, c.tlsServerName].some((v) => v !== undefined),
  };
}

type Resolved = ReturnType<typeof deriveDefaults>;

/** Rules involving several settings. Issues point at the setting to fix (path[0]). */
export function crossChecks(c: Resolved, ctx: z.RefinementCtx): void {
  const issue = (key: SettingKey, message: string, input: unknown) => ctx.addIssue({ code: "custom", path: [key], message, input });
  if (c.inputTopics.includes(c.outputTopic)) {
    issue("outputTopic", "must not be one of --input-topics", c.outputTopic);
  }
  if (c.dlqTopic === c.outputTopic) {
    issue("dlqTopic", "must differ from --output-topic", c.dlqTopic);
  } else if (c.inputTopics.includes(c.dlqTopic)) {
    issue("dlqTopic", "must not be one of --input-topics", c.dlqTopic);
  }
  if (c.pickUp > c.concurrency) {
    issue("pickUp", `must be <= --workers (${c.concurrency})`, c.pickUp);
  }
  if (c.retryBackoffMaxMs < c.retryBackoffMs) {
    issue("retryBackoffMaxMs", `must be >= --retry-backoff (${formatDuration(c.retryBackoffMs)})`, c.retryBackoffMaxMs);
  }
  if (c.revokeTimeoutMs >= c.rebalanceTimeoutMs) {
    issue("revokeTimeoutMs", `must be less than --rebalance-timeout (${formatDuration(c.rebalanceTimeoutMs)})`, c.revokeTimeoutMs);
  }
  if (c.heartbeatIntervalMs >= c.sessionTimeoutMs) {
    issue("heartbeatIntervalMs", `must be less than --session-timeout (${formatDuration(c.sessionTimeoutMs)})`, c.heartbeatIntervalMs);
  }
  if (c.guarantee === "exactly-once") exactlyOnceChecks(c, issue);
  securityChecks(c, issue);
}

/** What exactly-once mode cannot be combined with. */
function exactlyOnceChecks(c: Resolved, issue: (key: SettingKey, message: string, input: unknown) => void): void {
  if (c.autoOffsetStore)
    issue("autoOffsetStore", "cannot be on with --guarantee exactly-once (it commits before processing)", c.autoOffsetStore);
  if (c.groupProtocol === "consumer")
    issue("groupProtocol", "consumer (KIP-848) is not supported with --guarantee exactly-once yet; use classic", c.groupProtocol);
  if (c.transactionTimeoutMs <= c.commitIntervalMs)
    issue("transactionTimeoutMs", `must be more than --commit-interval (${formatDuration(c.commitIntervalMs)})`, c.transactionTimeoutMs);
}

/** TLS files that belong together, and SASL settings that need each other. Messages never include a secret. */
function securityChecks(c: Resolved, issue: (key: SettingKey, message: string, input: unknown) => void): void {
  const tlsOptions = (["tlsCaFile", "tlsCertFile", "tlsKeyFile", "tlsServerName"] as const).filter((key) => c[key] !== undefined);
  const [firstTlsOption] = tlsOptions;
  if (!c.tls && firstTlsOption !== undefined) {
    issue("tls", `is false, but --${securitySettings[firstTlsOption].flag} needs TLS`, c.tls);
  }
  if (c.tlsCertFile !== undefined && c.tlsKeyFile === undefined) issue("tlsCertFile", "needs --tls-key-file too", c.tlsCertFile.path);
  if (c.tlsKeyFile !== undefined && c.tlsCertFile === undefined) issue("tlsKeyFile", "needs --tls-cert-file too", c.tlsKeyFile.path);
  if (c.tlsCaFile !== undefined) {
    const problem = secureContextProblem({ ca: c.tlsCaFile.contents });
    if (problem !== null) issue("tlsCaFile", `is not a usable CA file (${problem})`, c.tlsCaFile.path);
  }
  if (c.tlsCertFile !== undefined && c.tlsKeyFile !== undefined) {
    const problem = secureContextProblem({ cert: c.tlsCertFile.contents, key: c.tlsKeyFile.contents.reveal() });
    if (problem !== null) issue("tlsKeyFile", `does not fit --tls-cert-file (${problem})`, c.tlsKeyFile.path);
  }

  const hasPassword = c.saslPassword !== undefined || c.saslPasswordFile !== undefined;
  if (c.saslPassword !== undefined && c.saslPasswordFile !== undefined) {
    issue("saslPasswordFile", "give either --sasl-password or --sasl-password-file, not both", c.saslPasswordFile.path);
  }
  const credentials = (["saslUsername", "saslPassword", "saslPasswordFile"] as const).filter((key) => c[key] !== undefined);
  const tokenSources = (["saslOauthTokenFile", "saslOauthTokenCommand"] as const).filter((key) => c[key] !== undefined);
  if (c.saslMechanism === "oauthbearer") {
    oauthBearerChecks(c, issue, credentials, tokenSources);
  } else if (tokenSources[0] !== undefined) {
    issue(tokenSources[0], "needs --sasl-mechanism oauthbearer", undefined);
  } else if (c.saslMechanism === undefined) {
    if (credentials[0] !== undefined) issue(credentials[0], "needs --sasl-mechanism (plain|scram-sha-256|scram-sha-512)", undefined);
  } else if (c.saslUsername === undefined) {
    issue("saslMechanism", "needs --sasl-username", c.saslMechanism);
  } else if (!hasPassword) {
    issue("saslMechanism", "needs a password: --sasl-password or --sasl-password-file", c.saslMechanism);
  }
}

/** oauthbearer: the token names the principal, so exactly one token source and no user name or password. */
function oauthBearerChecks(
  c: Resolved,
  issue: (key: SettingKey, message: string, input: unknown) => void,
  credentials: readonly SettingKey[],
  tokenSources: readonly SettingKey[],
): void {
  if (credentials[0] !== undefined) {
    issue(credentials[0], "does not apply to --sasl-mechanism oauthbearer (the token names the principal)", undefined);
  } else if (tokenSources.length === 0) {
    issue("saslMechanism", "needs a token: --sasl-oauth-token-file or --sasl-oauth-token-command", c.saslMechanism);
  } else if (tokenSources.length > 1) {
    issue("saslOauthTokenCommand", "give either --sasl-oauth-token-file or --sasl-oauth-token-command, not both", undefined);
  }
}

/** Whether node:tls accepts the PEM material (bad base64, key not matching the certificate, ...). */
function secureContextProblem(options: { ca?: string; cert?: string; key?: string }): string | null {
  try {
    createSecureContext(options);
    return null;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    return typeof code === "string" ? code : "rejected by TLS";
  }
}
