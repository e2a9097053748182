/**
 * Values that must not leak: Secret (never printed), files read at load time (PEM material, password files),
 * and secrets given directly. Error messages name the problem, never the contents.
 */
import { readFileSync } from "node:fs";
import { custom, fail, ok, type ValueType } from "./define.ts";

/**
 * A value that must never be printed (a password, a private key): `String()`, JSON and `console.log` /
 * `Bun.inspect` show `<hidden>`. Only `reveal()` gives the text, at the one place that hands it to the client.
 */
export class Secret {
  readonly #value: string;
  constructor(value: string) {
    this.#value = value;
  }
  reveal(): string {
    return this.#value;
  }
  toString(): string {
    return "<hidden>";
  }
  toJSON(): string {
    return "<hidden>";
  }
  [Symbol.for("nodejs.util.inspect.custom")](): string {
    return "Secret(<hidden>)";
  }
}

/** A file setting: the path as given, and what was read from it at load time. */
export interface FileValue<T> {
  readonly path: string;
  readonly contents: T;
}

/** Largest file a PEM or password file setting reads. */
const MAX_FILE_BYTES = 1024 * 1024;

/** Reads a small text file; the error message names the problem, never the contents. */
function readSmallFile(path: string): { ok: true; value: string } | { ok: false; message: string } {
  if (path.length === 0) return fail("expected a file path");
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_FILE_BYTES) return fail(`expected a file of at most 1MiB, this one has ${bytes.length} bytes`);
    text = bytes.toString("utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (code === "ENOENT" || code === "ENOTDIR") return fail("no such file");
    if (code === "EACCES" || code === "EPERM") return fail("the file is not readable (permission denied)");
    if (code === "EISDIR") return fail("expected a file, this is a directory");
    return fail(`the file cannot be read (${typeof code === "string" ? code : "unknown error"})`);
  }
  return ok(text);
}

/**
 * A PEM file, read at load time (so a missing or unreadable file is a usage error naming the flag).
 * `certificate`: one or more certificates (a CA bundle or a client certificate); `private key`: an
 * unencrypted private key, kept as a Secret.
 */
export function pemFile(kind: "certificate"): ValueType<FileValue<string>>;
export function pemFile(kind: "private key"): ValueType<FileValue<Secret>>;
export function pemFile(kind: "certificate" | "private key"): ValueType<FileValue<string>> | ValueType<FileValue<Secret>> {
  if (kind === "certificate") {
    return {
      schema: custom((raw) => {
        const path = raw.trim();
        const read = readSmallFile(path);
        if (!read.ok) return read;
        if (!read.value.includes("-----BEGIN CERTIFICATE-----"))
          return fail("expected a PEM file with a certificate (-----BEGIN CERTIFICATE-----)");
        return ok({ path, contents: read.value });
      }),
    };
  }
  return {
    schema: custom((raw) => {
      const path = raw.trim();
      const read = readSmallFile(path);
      if (!read.ok) return read;
      if (/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(read.value)) {
        return fail("encrypted private keys are not supported (decrypt it: openssl pkey -in KEY -out PLAIN_KEY)");
      }
      if (!/-----BEGIN (?:RSA |EC )?PRIVATE KEY-----/.test(read.value))
        return fail("expected a PEM file with a private key (-----BEGIN PRIVATE KEY-----)");
      return ok({ path, contents: new Secret(read.value) });
    }),
  };
}

/** A file holding one secret (e.g. a mounted Kubernetes secret): read at load time, trailing newlines dropped. */
export function secretFile(): ValueType<FileValue<Secret>> {
  return {
    schema: custom((raw) => {
      const path = raw.trim();
      const read = readSmallFile(path);
      if (!read.ok) return read;
      const text = read.value.replace(/[\r\n]+$/, "");
      if (text.length === 0) return fail("the file is empty");
      return ok({ path, contents: new Secret(text) });
    }),
  };
}

/** A secret given directly (flag or env), taken exactly as given. Error messages never contain it. */
export function secretText(): ValueType<Secret> {
  return {
    schema: custom((raw) => (raw.length === 0 ? fail("expected a non-empty value") : ok(new Secret(raw)))),
  };
}

/**
 * A file that is read later, again and again (an OAUTHBEARER token file): only checked to be readable at load
 * time, so a wrong path is a usage error; the contents are not kept.
 */
export function readableFile(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const path = raw.trim();
      const read = readSmallFile(path);
      return read.ok ? ok(path) : read;
    }),
  };
}
