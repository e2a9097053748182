/**
 * Keeps secret values (--sasl-password and the like) out of everything the loader prints: argv is rewritten
 * before yargs sees it, and error lines are scrubbed last.
 */
import type { Setting } from "../settings.ts";
import type { LoadResult } from "../load.ts";
import { dashed, isKnownOption, settingList } from "./cli-parser.ts";
import { suggestFlag } from "./error-messages.ts";

/** Every spelling of a secret setting's flag: `--sasl-password`, plus aliases. */
const SECRET_FLAGS: ReadonlySet<string> = new Set(
  settingList.filter(([, s]) => s.secret === true).flatMap(([, s]) => [s.flag, ...(s.aliases ?? [])].map(dashed)),
);

/** The secret setting a flag spelling belongs to (`--sasl-password`, `--sasl-password=x`), if any. */
function secretSettingOf(arg: string): Setting | undefined {
  const name = arg.split("=", 1)[0] ?? "";
  return settingList.find(([, s]) => s.secret === true && [s.flag, ...(s.aliases ?? [])].map(dashed).includes(name))?.[1];
}

/** `--sasl-pasword`, `--PROCESSOR_SASL_PASSWORD`: an unknown flag that looks like a secret one (its value is likely a secret). */
function looksLikeSecretFlag(arg: string): boolean {
  if (!arg.startsWith("--") || arg.includes("=") || isKnownOption(arg)) return false;
  const suggestion = suggestFlag(arg.slice(2));
  return suggestion !== undefined && SECRET_FLAGS.has(suggestion);
}

export interface GuardedArgs {
  /** argv with secret values attached to their flag (`--sasl-password=-x1y`). */
  args: string[];
  /** Words right after a secret value: never shown as unexpected arguments. */
  hidden: Set<string>;
  /** Arguments right after a (misspelt) secret flag: unknown option names found in them are not shown. */
  maybeSecret: string[];
  /** Everything that may be a secret value, for a last check of the error line. */
  values: Set<string>;
  /** A secret flag followed by something that is neither an option nor clearly a value. */
  error?: string;
}

/**
 * Keeps secrets out of parser errors: `--sasl-password -x1y` becomes `--sasl-password=-x1y` (else the value would be
 * read as short options and echoed back as unknown ones), and words right after a secret value (an unquoted
 * password with spaces) are remembered so an "unexpected argument" error does not show them. `--sasl-password
 * --x1y` (an unknown option, or `--`, right after the flag) may be a password starting with `--`: it is an error
 * naming the flag only; so is an unknown option right after a misspelt secret flag.
 */
export function guardSecrets(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): GuardedArgs {
  const args: string[] = [];
  const hidden = new Set<string>();
  const maybeSecret: string[] = [];
  const values = new Set<string>();
  let error: string | undefined;
  const hideWordsAfter = (i: number): void => {
    for (let j = i + 1; j < argv.length && !(argv[j] ?? "-").startsWith("-"); j++) hidden.add(argv[j] ?? "");
  };
  for (const [, s] of settingList) {
    if (s.secret !== true) continue;
    for (const name of s.env) {
      const value = env[name];
      if (value !== undefined && value.trim() !== "") values.add(value);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? "";
    const value = argv[i + 1];
    const secret = secretSettingOf(arg);
    if (secret !== undefined && !arg.includes("=") && value?.startsWith("--") && !isKnownOption(value)) {
      values.add(value);
      maybeSecret.push(value);
      error ??= `invalid --${secret.flag} (env ${secret.env.join(", ")}): the argument after it starts with "--" and is not an option (not shown: it may be the secret); write --${secret.flag}=VALUE, or use ${secret.env[0]}`;
      args.push(arg);
      continue;
    }
    if (secret !== undefined && !arg.includes("=") && value !== undefined && !value.startsWith("--")) {
      values.add(value);
      args.push(`${arg}=${value}`);
      i++;
      hideWordsAfter(i);
      continue;
    }
    if (secret !== undefined && arg.includes("=")) {
      values.add(arg.slice(arg.indexOf("=") + 1));
      hideWordsAfter(i);
    }
    if (looksLikeSecretFlag(arg) && value !== undefined && !isKnownOption(value)) {
      values.add(value);
      maybeSecret.push(value);
    }
    args.push(arg);
  }
  return { args, hidden, maybeSecret, values, ...(error !== undefined && { error }) };
}

/** Secret values shorter than this are not scrubbed from error lines (see `scrub`). */
const MIN_SCRUBBED_LENGTH = 4;

/** Last line of defence: a value that may be a secret never reaches an error line (short ones would garble it and say little). */
export function scrub(result: LoadResult, values: ReadonlySet<string>): LoadResult {
  if (result.kind !== "exit" || result.code === 0) return result;
  let output = result.output;
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length >= MIN_SCRUBBED_LENGTH) output = output.split(value).join("<hidden>");
  }
  return { ...result, output };
}
