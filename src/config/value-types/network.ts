/** Network names: an address to listen on, and a DNS host name. */
import { isIP } from "node:net";
import { custom, fail, ok, type ValueType } from "./define.ts";

/**
 * An address to listen on: an IPv4 or IPv6 address (`0.0.0.0`, `127.0.0.1`, `::`, `::1`, brackets allowed) or a
 * host name resolving to a local interface (`localhost`). The value is returned without brackets.
 */
export function listenHost(): ValueType<string> {
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return {
    schema: custom((raw) => {
      const text = raw.trim();
      const bare = /^\[.*\]$/.test(text) ? text.slice(1, -1) : text;
      if (isIP(bare) !== 0) return ok(bare);
      const name = bare.replace(/\.$/, "");
      const labels = name.split(".");
      const isName =
        bare === text &&
        name.length > 0 &&
        name.length <= 253 &&
        labels.every((l) => label.test(l)) &&
        !labels.every((l) => /^\d+$/.test(l));
      return isName
        ? ok(name)
        : fail("expected an IP address or host name to listen on, e.g. 0.0.0.0 (all interfaces) or 127.0.0.1 (this host only)");
    }),
  };
}

/** A DNS host name (not an IP address), e.g. for TLS server name checks. */
export function hostName(): ValueType<string> {
  const label = /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/;
  return {
    schema: custom((raw) => {
      const name = raw.trim().replace(/\.$/, "");
      const labels = name.split(".");
      if (name.length === 0 || name.length > 253 || !labels.every((l) => label.test(l))) {
        return fail("expected a DNS host name (letters, digits, - and .)");
      }
      if (labels.every((l) => /^\d+$/.test(l))) return fail("expected a DNS host name, not an IP address");
      return ok(name);
    }),
  };
}

/** An http:// or https:// URL with a host, e.g. an OTLP/HTTP endpoint. Returned as given (trimmed). */
export function httpUrl(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const text = raw.trim();
      let url: URL;
      try {
        url = new URL(text);
      } catch {
        return fail("expected an http:// or https:// URL, e.g. http://localhost:4318/v1/traces");
      }
      if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "")
        return fail("expected an http:// or https:// URL, e.g. http://localhost:4318/v1/traces");
      return ok(text);
    }),
  };
}
