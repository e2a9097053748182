/** Error text for the user: a schema issue worded with the flag, env name and raw value; a near-miss flag's suggestion. */
import type { z } from "zod";
import { settings, type Setting, type SettingKey } from "../settings.ts";
import { settingList } from "./cli-parser.ts";
import type { Source } from "./raw-sources.ts";

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      cur[j] = Math.min((prev[j] ?? 0) + 1, (cur[j - 1] ?? 0) + 1, (prev[j - 1] ?? 0) + cost);
    }
    prev = cur;
  }
  return prev[b.length] ?? Math.max(a.length, b.length);
}

/** `--worker` → `--workers`, `--WORKER_POOL` → `--workers`. */
export function suggestFlag(unknown: string): string | undefined {
  for (const [, s] of settingList) {
    if (s.env.includes(unknown.toUpperCase())) return `--${s.flag}`;
  }
  if (unknown.length < 3) return undefined;
  let best: { flag: string; distance: number } | undefined;
  for (const [, s] of settingList) {
    const distance = editDistance(unknown.toLowerCase(), s.flag);
    if (distance <= 2 && (best === undefined || distance < best.distance)) best = { flag: s.flag, distance };
  }
  return best === undefined ? undefined : `--${best.flag}`;
}

export function describeIssue(issue: z.core.$ZodIssue, sources: ReadonlyMap<SettingKey, Source>): string {
  const key = issue.path[0];
  if (typeof key !== "string" || !(key in settings)) return `invalid configuration: ${issue.message}`;
  const s: Setting = settings[key as SettingKey];
  const source = sources.get(key as SettingKey);
  const envText = source?.kind === "env" ? source.name : s.env.join(", ");
  const where = source?.kind === "file" ? `${source.key} in config file ${source.path}` : `--${s.flag} (env ${envText})`;
  if (source === undefined && s.presence.kind === "required" && issue.code === "invalid_type") {
    return `missing required ${where}`;
  }
  let got = "";
  if (s.secret === true)
    got = ""; // a secret is never echoed
  else if (source !== undefined) got = `, got ${JSON.stringify(source.raw)}`;
  else if (s.presence.kind === "default") got = `, got default ${JSON.stringify(s.presence.raw)}`;
  else if (s.presence.kind === "derived" && issue.input !== undefined) got = `, got derived ${JSON.stringify(issue.input)}`;
  return `invalid ${where}: ${issue.message}${got}`;
}
