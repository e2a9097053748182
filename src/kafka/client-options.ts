/** Options shared by every @platformatic/kafka client processor creates. */
import type { ConnectionOptions } from "node:tls";
import type { SASLOptions } from "@platformatic/kafka";
import type { Config } from "../config/index.ts";
import { createLogger, type LogLevel } from "../observability/logger.ts";
import type { ClientSecurity, ClientSettings } from "../threads/messages.ts";
import { checkBrokerAnswer, type OAuthTokenProvider, type OAuthTokenSource, oauthTokenProvider } from "./oauth-token.ts";

export function baseClientOptions(settings: ClientSettings, role: string) {
  const bootstrapBrokers: string[] = [...settings.brokers];
  return {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers,
    strict: true,
    retries: 5,
    retryDelay: (_client: unknown, _operation: unknown, attempt: number) => Math.min(100 * 2 ** attempt, 5_000),
    connectTimeout: 5_000,
    ...securityOptions(settings, role),
  };
}

const MECHANISMS = { plain: "PLAIN", "scram-sha-256": "SCRAM-SHA-256", "scram-sha-512": "SCRAM-SHA-512" } as const;

/** The security settings, which stay undefined unless given (`tls` itself always resolves to a boolean). */
export type SecuritySettingKey =
  | "tlsCaFile"
  | "tlsCertFile"
  | "tlsKeyFile"
  | "tlsServerName"
  | "saslMechanism"
  | "saslUsername"
  | "saslPassword"
  | "saslPasswordFile"
  | "saslOauthTokenFile"
  | "saslOauthTokenCommand";

type SecurityConfig = Pick<Config, "tls" | SecuritySettingKey>;

/**
 * The security settings as plain data for ClientSettings. The PEM files and the password file were read (and
 * checked) once when the configuration was loaded; this hands their contents on, so Workers never need the paths.
 * An OAUTHBEARER token changes while running: its source (file path or command) is handed on instead.
 */
export function clientSecurity(config: SecurityConfig): ClientSecurity | undefined {
  const tls: ClientSecurity["tls"] | undefined = config.tls
    ? {
        ...(config.tlsCaFile && { ca: config.tlsCaFile.contents }),
        ...(config.tlsCertFile && { cert: config.tlsCertFile.contents }),
        ...(config.tlsKeyFile && { key: config.tlsKeyFile.contents.reveal() }),
        ...(config.tlsServerName !== undefined && { serverName: config.tlsServerName }),
      }
    : undefined;
  const sasl = saslSecurity(config);
  if (tls === undefined && sasl === undefined) return undefined;
  return { ...(tls && { tls }), ...(sasl && { sasl }) };
}

function saslSecurity(config: SecurityConfig): ClientSecurity["sasl"] | undefined {
  if (config.saslMechanism === "oauthbearer") {
    const token: OAuthTokenSource | undefined =
      config.saslOauthTokenCommand !== undefined
        ? { kind: "command", command: config.saslOauthTokenCommand.reveal() }
        : config.saslOauthTokenFile !== undefined
          ? { kind: "file", path: config.saslOauthTokenFile }
          : undefined;
    return token && { mechanism: "OAUTHBEARER", token };
  }
  const password = config.saslPassword ?? config.saslPasswordFile?.contents;
  return config.saslMechanism !== undefined && config.saslUsername !== undefined && password !== undefined
    ? { mechanism: MECHANISMS[config.saslMechanism], username: config.saslUsername, password: password.reveal() }
    : undefined;
}

/** ClientSecurity → the client's `tls` / `sasl` options (nothing at all for a plaintext connection). */
function securityOptions(settings: ClientSettings, role: string) {
  const { security } = settings;
  const options: { tls?: ConnectionOptions; sasl?: SASLOptions } = {};
  if (security?.tls) {
    const { ca, cert, key, serverName } = security.tls;
    options.tls = {
      rejectUnauthorized: true,
      ...(ca !== undefined && { ca }),
      ...(cert !== undefined && { cert }),
      ...(key !== undefined && { key }),
      ...(serverName !== undefined && { servername: serverName }),
    };
  }
  const sasl = security?.sasl;
  if (sasl?.mechanism === "OAUTHBEARER") {
    // The client asks for the token on every (re-)authentication; the broker's answer needs checking (oauth-token.ts).
    options.sasl = {
      mechanism: "OAUTHBEARER",
      token: tokenProvider(sasl.token, settings.logLevel, role),
      authBytesValidator: checkBrokerAnswer,
    };
  } else if (sasl) {
    options.sasl = { ...sasl };
  }
  return options;
}

/** One provider per token source and thread, so this thread's clients share its cached token. */
const tokenProviders = new Map<string, OAuthTokenProvider>();
/** How often the same token problem is logged again while it lasts. */
const TOKEN_PROBLEM_LOG_INTERVAL_MS = 30_000;

function tokenProvider(source: OAuthTokenSource, logLevel: LogLevel, role: string): OAuthTokenProvider {
  const key = JSON.stringify(source);
  const existing = tokenProviders.get(key);
  if (existing !== undefined) return existing;
  const log = createLogger(logLevel, { component: role });
  const provide = oauthTokenProvider(source, {
    onNewToken: (expiresAt) =>
      log.debug("new OAUTHBEARER token", {
        expiresAt: new Date(expiresAt).toISOString(),
        expiresInS: Math.round((expiresAt - Date.now()) / 1000),
      }),
    onRefreshFailure: (reason) => log.warn("cannot refresh the OAUTHBEARER token; the current one is used until it expires", { reason }),
  });
  // At start a token problem ends the process with one line (errors.ts). Later it is only logged: connections
  // fail and are retried until the token is fixed (a late sidecar, a token service back up).
  let worked = false;
  /** When the current run of failures was last logged; null while tokens come. */
  let failingLoggedAt: number | null = null;
  const provider: OAuthTokenProvider = async () => {
    try {
      const token = await provide();
      worked = true;
      failingLoggedAt = null;
      return token;
    } catch (error) {
      const now = Date.now();
      if (worked && (failingLoggedAt === null || now - failingLoggedAt >= TOKEN_PROBLEM_LOG_INTERVAL_MS)) {
        failingLoggedAt = now;
        const reason = error instanceof Error ? error.message : String(error);
        log.warn("no usable OAUTHBEARER token: connecting to the brokers fails until there is one", { reason });
      }
      throw error;
    }
  };
  tokenProviders.set(key, provider);
  return provider;
}
