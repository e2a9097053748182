/** Security settings: TLS and SASL towards the brokers. Entries in --help order. */
import { boolean, hostName, nonEmptyString, oneOf, pemFile, readableFile, secretFile, secretText } from "../value-types.ts";
import { derived, optional, type Setting } from "./define.ts";

export const securitySettings = {
  tls: derived(
    {
      flag: "tls",
      env: ["PROCESSOR_TLS", "KAFKA_TLS"],
      group: "Security",
      description: "Connect to the brokers with TLS (the broker certificate is always verified).",
      type: boolean(),
    },
    "true if a --tls-* option is given, else false",
  ),
  tlsCaFile: optional({
    flag: "tls-ca-file",
    env: ["PROCESSOR_TLS_CA_FILE", "KAFKA_TLS_CA_FILE"],
    group: "Security",
    description: "PEM file with the CA certificate(s) the broker certificate is checked against (default: the built-in public CAs).",
    type: pemFile("certificate"),
  }),
  tlsCertFile: optional({
    flag: "tls-cert-file",
    env: ["PROCESSOR_TLS_CERT_FILE", "KAFKA_TLS_CERT_FILE"],
    group: "Security",
    description: "PEM file with the client certificate for mutual TLS (needs --tls-key-file).",
    type: pemFile("certificate"),
  }),
  tlsKeyFile: optional({
    flag: "tls-key-file",
    env: ["PROCESSOR_TLS_KEY_FILE", "KAFKA_TLS_KEY_FILE"],
    group: "Security",
    description: "PEM file with the (unencrypted) private key of --tls-cert-file.",
    type: pemFile("private key"),
  }),
  tlsServerName: optional({
    flag: "tls-server-name",
    env: ["PROCESSOR_TLS_SERVER_NAME", "KAFKA_TLS_SERVER_NAME"],
    group: "Security",
    description: "Host name sent as SNI and checked against the broker certificate (default: the broker address).",
    type: hostName(),
  }),
  saslMechanism: optional({
    flag: "sasl-mechanism",
    env: ["PROCESSOR_SASL_MECHANISM", "KAFKA_SASL_MECHANISM"],
    group: "Security",
    description:
      "SASL authentication: plain|scram-sha-256|scram-sha-512 (needs --sasl-username and a password) or oauthbearer (needs --sasl-oauth-token-file or --sasl-oauth-token-command).",
    type: oneOf(["plain", "scram-sha-256", "scram-sha-512", "oauthbearer"]),
  }),
  saslUsername: optional({
    flag: "sasl-username",
    env: ["PROCESSOR_SASL_USERNAME", "KAFKA_SASL_USERNAME"],
    group: "Security",
    description: "SASL user name.",
    type: nonEmptyString(),
  }),
  saslPassword: optional({
    flag: "sasl-password",
    env: ["PROCESSOR_SASL_PASSWORD", "KAFKA_SASL_PASSWORD"],
    group: "Security",
    description: "SASL password; prefer the env variable or --sasl-password-file (a flag shows in the process list).",
    type: secretText(),
    secret: true,
  }),
  saslPasswordFile: optional({
    flag: "sasl-password-file",
    env: ["PROCESSOR_SASL_PASSWORD_FILE", "KAFKA_SASL_PASSWORD_FILE"],
    group: "Security",
    description: "File holding the SASL password (trailing newlines dropped), e.g. a mounted secret.",
    type: secretFile(),
  }),
  saslOauthTokenFile: optional({
    flag: "sasl-oauth-token-file",
    env: ["PROCESSOR_SASL_OAUTH_TOKEN_FILE", "KAFKA_SASL_OAUTH_TOKEN_FILE"],
    group: "Security",
    description: "oauthbearer: file holding the token (a JWT), read again whenever it changes, e.g. one a sidecar keeps fresh.",
    type: readableFile(),
  }),
  saslOauthTokenCommand: optional({
    flag: "sasl-oauth-token-command",
    env: ["PROCESSOR_SASL_OAUTH_TOKEN_COMMAND", "KAFKA_SASL_OAUTH_TOKEN_COMMAND"],
    group: "Security",
    description: "oauthbearer: shell command printing the token (a JWT) on stdout; run again before the token's exp. Treated as a secret.",
    type: secretText(),
    secret: true,
  }),
} as const satisfies Record<string, Setting>;
