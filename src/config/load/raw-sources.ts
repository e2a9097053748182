/**
 * Where a setting's raw string comes from: its flag (as yargs-parser hands it over), its environment variables, or
 * the config file (see config-file.ts).
 */
import type { Setting } from "../settings.ts";

/** Where a setting's raw value came from. */
export type Source =
  | { kind: "flag"; raw: string }
  | { kind: "env"; name: string; raw: string }
  | { kind: "file"; path: string; key: string; raw: string };

/** A flag value as yargs-parser returns it → the raw string, or an error message. */
export function flagRaw(s: Setting, value: unknown): { raw: string } | { error: string } {
  if (Array.isArray(value)) return flagRaw(s, value.at(-1));
  if (typeof value === "string") return { raw: value };
  if (value === true) {
    return s.type.bare !== undefined ? { raw: s.type.bare } : { error: "missing value" };
  }
  if (value === false) {
    return s.type.negated !== undefined ? { raw: s.type.negated } : { error: `--no-${s.flag} is only valid for boolean options` };
  }
  return { raw: String(value) };
}

/** First non-empty env variable among the setting's names (primary first), else its base variable (envBase). */
export function envRaw(s: Setting, env: Readonly<Record<string, string | undefined>>, warnings: string[]): Source | undefined {
  const set = s.env.flatMap((name) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === "" ? [] : [{ kind: "env" as const, name, raw }];
  });
  const [first, ...rest] = set;
  if (first === undefined) return envBaseRaw(s, env);
  for (const other of rest) {
    if (other.raw.trim() !== first.raw.trim()) {
      const shown = s.secret === true ? "" : ` (${JSON.stringify(first.raw)})`;
      warnings.push(`${first.name} and ${other.name} are both set and differ; using ${first.name}${shown}`);
    }
  }
  return first;
}

/** The value made from the setting's base variable (`envBase`), when that is set. */
function envBaseRaw(s: Setting, env: Readonly<Record<string, string | undefined>>): Source | undefined {
  if (s.envBase === undefined) return undefined;
  const base = env[s.envBase.name];
  if (base === undefined || base.trim() === "") return undefined;
  return { kind: "env", name: s.envBase.name, raw: `${base.trim().replace(/\/+$/, "")}${s.envBase.append}` };
}
