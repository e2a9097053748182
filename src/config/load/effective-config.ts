/**
 * `processor config`: the effective configuration, one setting per line with where its value came from (flag,
 * environment variable, config file, default, derived). Secrets are never shown; file settings show their path.
 */
import type { Config, SettingKey } from "../settings.ts";
import { settingList } from "./cli-parser.ts";
import type { Source } from "./raw-sources.ts";

function valueText(key: SettingKey, config: Config, source: Source | undefined, secret: boolean): string {
  const value: unknown = config[key];
  if (value === undefined) return "(unset)";
  if (secret) return "<hidden>";
  if (source !== undefined) return source.raw;
  if (typeof value === "object" && value !== null && "path" in value) return String((value as { path: unknown }).path);
  if (Array.isArray(value)) return value.join(",");
  return String(value);
}

function sourceText(source: Source | undefined, presence: { kind: string }): string {
  if (source === undefined) return presence.kind === "default" ? "default" : presence.kind === "derived" ? "derived" : "unset";
  switch (source.kind) {
    case "flag":
      return "flag";
    case "env":
      return `env ${source.name}`;
    case "file":
      return `file ${source.path} (${source.key})`;
  }
}

export function describeConfig(config: Config, sources: ReadonlyMap<SettingKey, Source>): string {
  const rows = settingList.map(([key, s]) => {
    const source = sources.get(key);
    // a default's own text (30s, 4MiB) reads better than the parsed number
    const value =
      source === undefined && s.presence.kind === "default" && s.secret !== true
        ? s.presence.raw
        : valueText(key, config, source, s.secret === true);
    return [`--${s.flag}`, value, sourceText(source, s.presence)] as const;
  });
  const width = (i: 0 | 1): number => Math.min(48, Math.max(...rows.map((r) => r[i].length)));
  return rows.map(([name, value, from]) => `${name.padEnd(width(0))}  ${value.padEnd(width(1))}  ${from}`).join("\n");
}
