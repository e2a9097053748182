/** Options shared by every @platformatic/kafka client processor creates. */
import type { ConnectionOptions } from "node:tls";
import type { Config } from "../config/index.ts";
import type { ClientSecurity, ClientSettings } from "../threads/messages.ts";

export function baseClientOptions(settings: ClientSettings, role: string) {
  const bootstrapBrokers: string[] = [...settings.brokers];
  return {
    clientId: `${settings.clientId}-${role}`,
    bootstrapBrokers,
    strict: true,
    retries: 5,
    retryDelay: (_client: unknown, _operation: unknown, attempt: number) => Math.min(100 * 2 ** attempt, 5_000),
    connectTimeout: 5_000,
    ...securityOptions(settings.security),
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
  | "saslPasswordFile";

type SecurityConfig = Pick<Config, "tls" | SecuritySettingKey>;

/**
 * The security settings as plain data for ClientSettings. The PEM files and the password file were read (and
 * checked) once when the configuration was loaded; this hands their contents on, so Workers never need the paths.
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
  const password = config.saslPassword ?? config.saslPasswordFile?.contents;
  const sasl: ClientSecurity["sasl"] | undefined =
    config.saslMechanism !== undefined && config.saslUsername !== undefined && password !== undefined
      ? { mechanism: MECHANISMS[config.saslMechanism], username: config.saslUsername, password: password.reveal() }
      : undefined;
  if (tls === undefined && sasl === undefined) return undefined;
  return { ...(tls && { tls }), ...(sasl && { sasl }) };
}

/** ClientSecurity → the client's `tls` / `sasl` options (nothing at all for a plaintext connection). */
function securityOptions(security: ClientSecurity | undefined) {
  const options: {
    tls?: ConnectionOptions;
    sasl?: { mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512"; username: string; password: string };
  } = {};
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
  if (security?.sasl) options.sasl = { ...security.sasl };
  return options;
}
