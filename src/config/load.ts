/**
 * Resolve the configuration from argv + env (+ the --config file): CLI flag > env > config file > default.
 * Pure: never prints, never exits — the caller acts on the LoadResult.
 */
import { configSchema, type Config, type RawConfig, type SettingKey } from "./settings.ts";
import { buildParser, dashed, KNOWN_NAMES, PROGRAM, settingList } from "./load/cli-parser.ts";
import { describeIssue, suggestFlag } from "./load/error-messages.ts";
import { envRaw, flagRaw, type Source } from "./load/raw-sources.ts";
import { guardSecrets, scrub, type GuardedArgs } from "./load/secret-guard.ts";
import { readConfigFile } from "./load/config-file.ts";
import { describeConfig } from "./load/effective-config.ts";

export { PROGRAM };

export type LoadResult = { kind: "run"; config: Config; warnings: string[] } | { kind: "exit"; code: 0 | 2; output: string };

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, " ").trim();
}

function exitError(message: string): LoadResult {
  return { kind: "exit", code: 2, output: oneLine(`${PROGRAM}: ${message}`) };
}

/**
 * Resolve the configuration. `argv` excludes the runtime and script path
 * (i.e. `process.argv.slice(2)`); `env` is usually `process.env`.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
  fallbacks: RawConfig = {},
): LoadResult {
  // `processor config [options]` prints the effective configuration instead of running
  const printConfig = argv[0] === "config";
  const guarded = guardSecrets(printConfig ? argv.slice(1) : argv, env);
  return scrub(resolve(guarded, env, version, printConfig, fallbacks), guarded.values);
}

function resolve(
  guarded: GuardedArgs,
  env: Readonly<Record<string, string | undefined>>,
  version: string,
  printConfig: boolean,
  fallbacks: RawConfig,
): LoadResult {
  let failure: string | undefined;
  const { args, hidden, maybeSecret } = guarded;
  const parser = buildParser(args, (message) => {
    failure ??= message;
  });
  const parsed: Record<string, unknown> = parser.parseSync();

  const wants = (name: string) => parsed[name] !== undefined && parsed[name] !== false;
  if (wants("help")) {
    let help = "";
    parser.showHelp((text: string) => {
      help = text;
    });
    return { kind: "exit", code: 0, output: help };
  }
  if (wants("version")) return { kind: "exit", code: 0, output: version };

  if (guarded.error !== undefined) return exitError(guarded.error);
  const unknown = Object.keys(parsed).filter((name) => !KNOWN_NAMES.has(name));
  const shownUnknown = unknown.filter((name) => !maybeSecret.some((arg) => arg.includes(name)));
  if (unknown.length > 0 && shownUnknown.length === 0) {
    return exitError("unknown option right after a secret option (not shown: it may be the secret; write --flag=VALUE, see --help)");
  }
  const [firstUnknown] = shownUnknown;
  if (firstUnknown !== undefined) {
    const suggestion = suggestFlag(firstUnknown);
    const names = shownUnknown.map(dashed).join(", ");
    const hint = suggestion === undefined ? "see --help" : `did you mean ${suggestion}?`;
    const notShown = unknown.length - shownUnknown.length;
    const more = notShown > 0 ? ` and ${notShown} not shown (after a secret option: may be the secret)` : "";
    return exitError(`unknown option${shownUnknown.length > 1 ? "s" : ""} ${names}${more} (${hint})`);
  }
  const positionals = Array.isArray(parsed._) ? parsed._.map(String) : [];
  const [firstPositional] = positionals;
  if (firstPositional !== undefined) {
    if (hidden.has(firstPositional))
      return exitError("unexpected argument after the value of a secret option (quote a value with spaces; see --help)");
    return exitError(`unexpected argument ${JSON.stringify(firstPositional)} (only --options are accepted; see --help)`);
  }
  if (failure !== undefined) return exitError(failure);

  const configFlag = parsed.config;
  if (configFlag === "" || (configFlag !== undefined && typeof configFlag !== "string"))
    return exitError("invalid --config: expected a file path");
  const configPath = typeof configFlag === "string" ? configFlag : env.PROCESSOR_CONFIG?.trim() || undefined;
  const file = configPath === undefined ? null : readConfigFile(configPath);
  if (file !== null && "error" in file) return exitError(file.error);

  const warnings: string[] = [];
  const sources = new Map<SettingKey, Source>();
  for (const [key, s] of settingList) {
    if (parsed[s.flag] !== undefined) {
      const flag = flagRaw(s, parsed[s.flag]);
      if ("error" in flag) return exitError(`invalid --${s.flag} (env ${s.env.join(", ")}): ${flag.error}`);
      sources.set(key, { kind: "flag", raw: flag.raw });
      continue;
    }
    const fromEnv = envRaw(s, env, warnings);
    const fromFile = file?.values.get(key);
    if (fromEnv !== undefined) sources.set(key, fromEnv);
    else if (fromFile !== undefined && configPath !== undefined) sources.set(key, { kind: "file", path: configPath, ...fromFile });
  }

  // fallbacks stand in for settings no source gives (a subcommand that needs no topics of its own)
  const raw: RawConfig = { ...fallbacks, ...Object.fromEntries([...sources].map(([key, source]) => [key, source.raw])) };
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const [issue] = result.error.issues;
    return exitError(issue === undefined ? "invalid configuration" : describeIssue(issue, sources));
  }

  const config = result.data;
  if (printConfig) return { kind: "exit", code: 0, output: describeConfig(config, sources) };
  for (const [key, s] of settingList) {
    const warning = s.warn?.(config[key]);
    if (warning !== undefined) warnings.push(warning);
  }
  return { kind: "run", config, warnings };
}
