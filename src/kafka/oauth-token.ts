/**
 * OAUTHBEARER tokens for the Kafka clients, from a file read again whenever it changes, or from a command whose
 * token is kept until shortly before it expires. Every thread builds its own provider from plain data (a path or
 * a command). Errors say what is wrong with the token in one line; they never show the token, nor the command
 * (it may hold a secret).
 */
import { execFile } from "node:child_process";
import { readFile, stat } from "node:fs/promises";

/** Where the token comes from: `--sasl-oauth-token-file` or `--sasl-oauth-token-command`. */
export type OAuthTokenSource = { readonly kind: "file"; readonly path: string } | { readonly kind: "command"; readonly command: string };

/** `code` of every OAuthTokenError: errors.ts recognises it inside the client's error chain. */
export const OAUTH_TOKEN_ERROR_CODE = "PROCESSOR_OAUTH_TOKEN";

/** A token that cannot be used; the message is the whole explanation (no token in it). */
export class OAuthTokenError extends Error {
  readonly code = OAUTH_TOKEN_ERROR_CODE;
  override readonly name = "OAuthTokenError";
}

export type OAuthTokenProvider = () => Promise<string>;

export interface ProviderOptions {
  /** Clock in epoch ms (tests move it). */
  readonly now?: () => number;
  /** Longest a token command may run. */
  readonly commandTimeoutMs?: number;
  /** A token file that does not hold a usable token is read once more after this long (a writer still busy). */
  readonly rereadDelayMs?: number;
  /** A new token was taken up (file changed, command run): when it expires. */
  readonly onNewToken?: (expiresAt: number) => void;
  /** Running the command again failed while the current token is still valid: it stays in use meanwhile. */
  readonly onRefreshFailure?: (message: string) => void;
}

const DEFAULT_COMMAND_TIMEOUT_MS = 30_000;
const DEFAULT_REREAD_DELAY_MS = 200;
/** The largest token accepted (real ones are a few KiB). */
const MAX_TOKEN_BYTES = 64 * 1024;
/** A failed refresh keeps the current token only while it has at least this long left. */
const FALLBACK_MIN_REMAINING_MS = 5_000;

export function oauthTokenProvider(source: OAuthTokenSource, options: ProviderOptions = {}): OAuthTokenProvider {
  return source.kind === "file" ? fileTokenProvider(source.path, options) : commandTokenProvider(source.command, options);
}

/** The token's expiry (epoch ms), after checking it is a JWT with an `exp` claim; throws an OAuthTokenError. */
export function jwtExpiry(token: string, origin: string): number {
  const parts = token.split(".");
  const payload = parts.length === 3 && isJsonObject(parts[0] ?? "") ? decodeJsonObject(parts[1] ?? "") : null;
  if (payload === null) {
    throw new OAuthTokenError(`${origin} is not a JWT (expected header.payload.signature, base64url-encoded JSON)`);
  }
  const exp = payload.exp;
  if (typeof exp !== "number" || !Number.isFinite(exp)) throw new OAuthTokenError(`${origin} has no numeric exp claim (a JWT's expiry)`);
  return exp * 1000;
}

/** When a token taken up at `fetchedAt` should be replaced: at 80% of its life or a minute before it ends, whichever is earlier, but not before half of it. */
export function refreshTime(fetchedAt: number, expiresAt: number): number {
  const lifetime = expiresAt - fetchedAt;
  return fetchedAt + Math.max(lifetime * 0.5, Math.min(lifetime * 0.8, lifetime - 60_000));
}

function checkNotExpired(expiresAt: number, now: number, origin: string): void {
  if (expiresAt <= now) throw new OAuthTokenError(`${origin} expired at ${new Date(expiresAt).toISOString()}`);
}

function fileTokenProvider(path: string, options: ProviderOptions): OAuthTokenProvider {
  const now = options.now ?? Date.now;
  const origin = `the OAUTHBEARER token in --sasl-oauth-token-file ${path}`;
  let current: { version: string; token: string; expiresAt: number } | null = null;

  /** Reads and checks the file; once more after a short pause if its contents are not a usable token yet. */
  const load = async (version: string, retry: boolean): Promise<{ version: string; token: string; expiresAt: number }> => {
    const token = (await readTokenFile(path)).trim();
    try {
      if (token.length === 0) throw new OAuthTokenError(`${origin} is empty`);
      return { version, token, expiresAt: jwtExpiry(token, origin) };
    } catch (error) {
      if (!retry) throw error;
      await Bun.sleep(options.rereadDelayMs ?? DEFAULT_REREAD_DELAY_MS);
      return load(await fileVersion(path), false);
    }
  };

  return async () => {
    // cheap per call: one stat; the file is read only when it changed (or was replaced)
    const version = await fileVersion(path);
    if (current === null || current.version !== version) {
      current = await load(version, true);
      options.onNewToken?.(current.expiresAt);
    }
    checkNotExpired(current.expiresAt, now(), origin);
    return current.token;
  };

  async function fileVersion(file: string): Promise<string> {
    try {
      const s = await stat(file);
      return `${s.ino}:${s.size}:${s.mtimeMs}:${s.ctimeMs}`;
    } catch (error) {
      throw new OAuthTokenError(`cannot read --sasl-oauth-token-file ${file} (${errorCode(error)})`);
    }
  }
}

async function readTokenFile(path: string): Promise<string> {
  let bytes: Buffer;
  try {
    bytes = await readFile(path);
  } catch (error) {
    throw new OAuthTokenError(`cannot read --sasl-oauth-token-file ${path} (${errorCode(error)})`);
  }
  if (bytes.length > MAX_TOKEN_BYTES) {
    throw new OAuthTokenError(`--sasl-oauth-token-file ${path} is too large for a token (${bytes.length} bytes)`);
  }
  return bytes.toString("utf8");
}

function commandTokenProvider(command: string, options: ProviderOptions): OAuthTokenProvider {
  const now = options.now ?? Date.now;
  const origin = "the OAUTHBEARER token printed by --sasl-oauth-token-command";
  let current: { token: string; expiresAt: number; refreshAt: number } | null = null;
  // Connections authenticating at the same moment share one run of the command.
  let running: Promise<{ token: string; expiresAt: number; refreshAt: number }> | null = null;

  const fetchToken = async () => {
    const token = await runTokenCommand(command, options.commandTimeoutMs ?? DEFAULT_COMMAND_TIMEOUT_MS);
    const fetchedAt = now();
    const expiresAt = jwtExpiry(token, origin);
    checkNotExpired(expiresAt, fetchedAt, origin);
    options.onNewToken?.(expiresAt);
    return { token, expiresAt, refreshAt: refreshTime(fetchedAt, expiresAt) };
  };

  return async () => {
    if (current !== null && now() < current.refreshAt) return current.token;
    running ??= fetchToken().finally(() => {
      running = null;
    });
    try {
      current = await running;
      return current.token;
    } catch (error) {
      // A token endpoint that is briefly down should not end the process while the current token still works.
      if (current !== null && current.expiresAt - now() >= FALLBACK_MIN_REMAINING_MS) {
        options.onRefreshFailure?.(error instanceof Error ? error.message : String(error));
        return current.token;
      }
      throw error;
    }
  };
}

/** Runs the command with the shell; its trimmed stdout is the token. */
function runTokenCommand(command: string, timeoutMs: number): Promise<string> {
  const name = "--sasl-oauth-token-command";
  return new Promise((resolve, reject) => {
    execFile(
      "/bin/sh",
      ["-c", command],
      { timeout: timeoutMs, killSignal: "SIGKILL", maxBuffer: MAX_TOKEN_BYTES, encoding: "utf8", windowsHide: true },
      (error, stdout, stderr) => {
        if (error !== null) {
          const failure = error as NodeJS.ErrnoException & { killed?: boolean; code?: unknown; signal?: unknown };
          const said = lastLine(stderr, command);
          const why =
            failure.killed === true && failure.signal === "SIGKILL"
              ? `did not finish within ${timeoutMs / 1000} s`
              : failure.code === "ERR_CHILD_PROCESS_STDIO_MAXBUFFER"
                ? `printed more than ${MAX_TOKEN_BYTES} bytes`
                : typeof failure.code === "number"
                  ? `failed (exit code ${failure.code})`
                  : typeof failure.signal === "string"
                    ? `was killed by ${failure.signal}`
                    : `could not be run (${errorCode(error)})`;
          reject(new OAuthTokenError(`${name} ${why}${said === "" ? "" : `: ${said}`}`));
          return;
        }
        const token = stdout.trim();
        if (token.length === 0) reject(new OAuthTokenError(`${name} printed nothing on stdout (it must print the token)`));
        else resolve(token);
      },
    );
  });
}

/** The last non-empty line the command wrote on stderr, shortened, with the command's arguments hidden (they may hold a secret). */
function lastLine(stderr: string, command: string): string {
  let line = (stderr.split("\n").findLast((l) => l.trim() !== "") ?? "").trim();
  const [, ...args] = command.trim().split(/\s+/);
  // `--client-secret=VALUE`, `'VALUE'`: the value on its own may be what the command echoes
  const words = args.flatMap((arg) => [arg, ...arg.split(/[='"]+/)]);
  const hidden = words.filter((word) => word.length >= 4).sort((a, b) => b.length - a.length);
  for (const word of hidden) line = line.split(word).join("<hidden>");
  return line.length > 200 ? `${line.slice(0, 200)}...` : line;
}

function isJsonObject(part: string): boolean {
  return decodeJsonObject(part) !== null;
}

function decodeJsonObject(part: string): Record<string, unknown> | null {
  if (!/^[A-Za-z0-9_-]+$/.test(part)) return null;
  try {
    const value: unknown = JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
    return typeof value === "object" && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}

function errorCode(error: unknown): string {
  const code = (error as { code?: unknown }).code;
  return typeof code === "string" ? code : error instanceof Error ? error.message : "unknown error";
}

/**
 * The broker's answer to the token, as the client's `authBytesValidator`: Kafka does not fail a rejected
 * OAUTHBEARER token at once, it answers with a JSON error (`{"status":"invalid_token"}`) and waits for the client
 * to give up; without this check the client would take that answer for success.
 */
export function checkBrokerAnswer(authBytes: Buffer, callback: (error: Error | null, authBytes: Buffer) => void): void {
  const answer = authBytes.length === 0 ? null : decodeAnswer(authBytes);
  if (answer === null || typeof answer.status !== "string") {
    callback(null, authBytes);
    return;
  }
  const scope = typeof answer.scope === "string" ? `, scope ${answer.scope}` : "";
  callback(
    new OAuthTokenError(`the broker rejected the OAUTHBEARER token (${answer.status}${scope}): is it for this cluster, and not expired?`),
    authBytes,
  );
}

function decodeAnswer(authBytes: Buffer): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(authBytes.toString("utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
