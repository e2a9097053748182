/**
 * `--config FILE` (env PROCESSOR_CONFIG): settings from a YAML or JSON file (YAML is a superset of JSON). Keys are the
 * long option names, in camelCase (`commitInterval`) or as the flag is written (`commit-interval`). Each value becomes
 * the same raw text a flag or environment variable would give, so the settings table validates it the same way.
 * Precedence is applied by the caller: flag > environment > file > default.
 */
import { readFileSync } from "node:fs";
import { parse } from "yaml";
import type { SettingKey } from "../settings.ts";
import { settingList } from "./cli-parser.ts";

/** Largest config file read (a settings file is a few KiB). */
const MAX_CONFIG_BYTES = 1024 * 1024;

export interface FileSetting {
  /** the key as written in the file */
  readonly key: string;
  readonly raw: string;
}

export type ConfigFileResult = { readonly values: ReadonlyMap<SettingKey, FileSetting> } | { readonly error: string };

const camelCase = (flag: string): string => flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
/** `commit-interval` and `commitInterval` → the setting (not the internal key, `commitIntervalMs`, which users never see). */
const keyOf = new Map<string, SettingKey>(settingList.flatMap(([key, s]) => [[s.flag, key] as const, [camelCase(s.flag), key] as const]));

/** A value from the file as the raw text a flag would carry; null for an explicit null (the key counts as unset). */
function rawOf(value: unknown): string | null | { error: string } {
  if (value === null) return null;
  if (typeof value === "string") return value;
  if (typeof value === "number" || typeof value === "boolean" || typeof value === "bigint") return String(value);
  if (Array.isArray(value)) {
    const items = value.map(rawOf);
    if (items.some((item) => item === null || typeof item !== "string")) return { error: "a list may hold only plain values" };
    return (items as string[]).join(",");
  }
  return { error: "expected a value or a list of values, got a map" };
}

export function readConfigFile(path: string): ConfigFileResult {
  let text: string;
  try {
    const bytes = readFileSync(path);
    if (bytes.length > MAX_CONFIG_BYTES) return { error: `config file ${path}: larger than 1MiB` };
    text = bytes.toString("utf8");
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const why = code === "ENOENT" || code === "ENOTDIR" ? "no such file" : code === "EISDIR" ? "is a directory" : "cannot be read";
    return { error: `config file ${path}: ${why}` };
  }
  let document: unknown;
  try {
    document = parse(text, { prettyErrors: false });
  } catch (error) {
    const message = error instanceof Error ? error.message.split("\n")[0] : String(error);
    return { error: `config file ${path}: not valid YAML or JSON (${message})` };
  }
  if (document === null || document === undefined) return { values: new Map() };
  if (typeof document !== "object" || Array.isArray(document)) {
    return { error: `config file ${path}: expected a map of option names to values` };
  }
  const values = new Map<SettingKey, FileSetting>();
  for (const [name, value] of Object.entries(document)) {
    const key = keyOf.get(name);
    if (key === undefined)
      return { error: `config file ${path}: unknown key ${JSON.stringify(name)} (keys are the long option names, see --help)` };
    const raw = rawOf(value);
    if (raw !== null && typeof raw !== "string") return { error: `config file ${path}: key ${name}: ${raw.error}` };
    if (values.has(key)) return { error: `config file ${path}: key ${name}: given twice (as ${values.get(key)!.key} too)` };
    if (raw !== null) values.set(key, { key: name, raw });
  }
  return { values };
}
