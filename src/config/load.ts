/**
 * Resolve the configuration from argv + env: CLI flag > env > default.
 * Pure: never prints, never exits — the caller acts on the LoadResult.
 */
import yargs, { type Argv, type Options } from 'yargs';
import type { z } from 'zod';
import {
  configSchema,
  GROUPS,
  settingKeys,
  settings,
  type Config,
  type RawConfig,
  type Setting,
  type SettingKey,
} from './settings.ts';

export type LoadResult =
  | { kind: 'run'; config: Config; warnings: string[] }
  | { kind: 'exit'; code: 0 | 2; output: string };

export const PROGRAM = 'processor';

/** Help is wrapped to a fixed width so the output does not depend on the terminal. */
const HELP_WIDTH = 100;

const EPILOG = [
  'Precedence: command-line flag > environment variable > default.',
  'Empty environment variables count as unset. A flag given twice: the last one wins.',
  'Lists are comma or space separated. Durations: 500ms, 30s, 2m, 1h, or integer milliseconds.',
  'Sizes: 512KiB, 8MiB, 1GiB, 1MB, or integer bytes. Booleans: true/false, 1/0, yes/no',
  '(a bare --flag means true, --no-flag means false).',
].join('\n');

/** Where a setting's raw value came from. */
type Source = { kind: 'flag'; raw: string } | { kind: 'env'; name: string; raw: string };

const settingList: readonly (readonly [SettingKey, Setting])[] = settingKeys.map((key) => [key, settings[key]] as const);

const META_OPTIONS = {
  help: { alias: 'h', describe: 'Show this help and exit.' },
  version: { alias: 'V', describe: 'Show the version and exit.' },
} as const;

/** Every name yargs may report for a known option (without dashes). */
const KNOWN_NAMES: ReadonlySet<string> = new Set([
  '_',
  '$0',
  ...Object.entries(META_OPTIONS).flatMap(([name, o]) => [name, o.alias]),
  ...settingList.flatMap(([, s]) => [s.flag, ...(s.aliases ?? [])]),
]);

function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

function exitError(message: string): LoadResult {
  return { kind: 'exit', code: 2, output: oneLine(`${PROGRAM}: ${message}`) };
}

function helpDescription(s: Setting): string {
  const p = s.presence;
  const tail =
    p.kind === 'default'
      ? ` [default: ${p.raw}]`
      : p.kind === 'derived'
        ? ` [default: ${p.describe}]`
        : p.kind === 'required'
          ? ' [required]'
          : '';
  return `${s.description}\n[env: ${s.env.join(', ')}]${tail}`;
}

function buildParser(argv: readonly string[], onFail: (message: string) => void): Argv {
  const options: Record<string, Options> = {};
  for (const [, s] of settingList) {
    options[s.flag] = { alias: [...(s.aliases ?? [])], describe: helpDescription(s) };
  }
  for (const [name, o] of Object.entries(META_OPTIONS)) options[name] = { ...o };

  let parser = yargs([...argv])
    .scriptName(PROGRAM)
    .usage(`${PROGRAM} [options]`)
    .locale('en')
    .exitProcess(false)
    .help(false)
    .version(false)
    .parserConfiguration({
      'parse-numbers': false,
      'parse-positional-numbers': false,
      'duplicate-arguments-array': false,
      'camel-case-expansion': false,
      'dot-notation': false,
      'strip-aliased': true,
      'boolean-negation': true,
    })
    .options(options)
    .strict()
    .wrap(HELP_WIDTH)
    .epilog(EPILOG)
    .fail((message: string | undefined, err: Error | undefined) => {
      onFail(message ?? err?.message ?? 'invalid arguments');
    });
  for (const group of GROUPS) {
    parser = parser.group(
      settingList.filter(([, s]) => s.group === group).map(([, s]) => s.flag),
      `${group}:`,
    );
  }
  return parser.group(Object.keys(META_OPTIONS), 'Other:');
}

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
function suggestFlag(unknown: string): string | undefined {
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

/** A flag value as yargs-parser returns it → the raw string, or an error message. */
function flagRaw(s: Setting, value: unknown): { raw: string } | { error: string } {
  if (Array.isArray(value)) return flagRaw(s, value.at(-1));
  if (typeof value === 'string') return { raw: value };
  if (value === true) {
    return s.type.bare !== undefined ? { raw: s.type.bare } : { error: 'missing value' };
  }
  if (value === false) {
    return s.type.negated !== undefined ? { raw: s.type.negated } : { error: `--no-${s.flag} is only valid for boolean options` };
  }
  return { raw: String(value) };
}

/** First non-empty env variable among the setting's names (primary first). */
function envRaw(s: Setting, env: Readonly<Record<string, string | undefined>>, warnings: string[]): Source | undefined {
  const set = s.env.flatMap((name) => {
    const raw = env[name];
    return raw === undefined || raw.trim() === '' ? [] : [{ kind: 'env' as const, name, raw }];
  });
  const [first, ...rest] = set;
  if (first === undefined) return undefined;
  for (const other of rest) {
    if (other.raw.trim() !== first.raw.trim()) {
      const shown = s.secret === true ? '' : ` (${JSON.stringify(first.raw)})`;
      warnings.push(`${first.name} and ${other.name} are both set and differ; using ${first.name}${shown}`);
    }
  }
  return first;
}

function describeIssue(issue: z.core.$ZodIssue, sources: ReadonlyMap<SettingKey, Source>): string {
  const key = issue.path[0];
  if (typeof key !== 'string' || !(key in settings)) return `invalid configuration: ${issue.message}`;
  const s: Setting = settings[key as SettingKey];
  const source = sources.get(key as SettingKey);
  const envText = source?.kind === 'env' ? source.name : s.env.join(', ');
  const where = `--${s.flag} (env ${envText})`;
  if (source === undefined && s.presence.kind === 'required' && issue.code === 'invalid_type') {
    return `missing required ${where}`;
  }
  let got = '';
  if (s.secret === true) got = ''; // a secret is never echoed
  else if (source !== undefined) got = `, got ${JSON.stringify(source.raw)}`;
  else if (s.presence.kind === 'default') got = `, got default ${JSON.stringify(s.presence.raw)}`;
  else if (s.presence.kind === 'derived' && issue.input !== undefined) got = `, got derived ${JSON.stringify(issue.input)}`;
  return `invalid ${where}: ${issue.message}${got}`;
}

/** Every spelling of a secret setting's flag: `--sasl-password`, plus aliases. */
const SECRET_FLAGS: ReadonlySet<string> = new Set(
  settingList.filter(([, s]) => s.secret === true).flatMap(([, s]) => [s.flag, ...(s.aliases ?? [])].map(dashed)),
);

/** The secret setting a flag spelling belongs to (`--sasl-password`, `--sasl-password=x`), if any. */
function secretSettingOf(arg: string): Setting | undefined {
  const name = arg.split('=', 1)[0] ?? '';
  return settingList.find(([, s]) => s.secret === true && [s.flag, ...(s.aliases ?? [])].map(dashed).includes(name))?.[1];
}

/** `--workers`, `--no-tls`, `--workers=3`, `-w`, `-h`: an option the parser knows (so not a secret value). */
function isKnownOption(arg: string): boolean {
  const name = (arg.split('=', 1)[0] ?? '').replace(/^--?/, '');
  return KNOWN_NAMES.has(name) || (name.startsWith('no-') && KNOWN_NAMES.has(name.slice(3)));
}

/** `--sasl-pasword`, `--PROCESSOR_SASL_PASSWORD`: an unknown flag that looks like a secret one (its value is likely a secret). */
function looksLikeSecretFlag(arg: string): boolean {
  if (!arg.startsWith('--') || arg.includes('=') || isKnownOption(arg)) return false;
  const suggestion = suggestFlag(arg.slice(2));
  return suggestion !== undefined && SECRET_FLAGS.has(suggestion);
}

interface GuardedArgs {
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
function guardSecrets(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): GuardedArgs {
  const args: string[] = [];
  const hidden = new Set<string>();
  const maybeSecret: string[] = [];
  const values = new Set<string>();
  let error: string | undefined;
  const hideWordsAfter = (i: number): void => {
    for (let j = i + 1; j < argv.length && !(argv[j] ?? '-').startsWith('-'); j++) hidden.add(argv[j] ?? '');
  };
  for (const [, s] of settingList) {
    if (s.secret !== true) continue;
    for (const name of s.env) {
      const value = env[name];
      if (value !== undefined && value.trim() !== '') values.add(value);
    }
  }
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = argv[i + 1];
    const secret = secretSettingOf(arg);
    if (secret !== undefined && !arg.includes('=') && value !== undefined && value.startsWith('--') && !isKnownOption(value)) {
      values.add(value);
      maybeSecret.push(value);
      error ??= `invalid --${secret.flag} (env ${secret.env.join(', ')}): the argument after it starts with "--" and is not an option (not shown: it may be the secret); write --${secret.flag}=VALUE, or use ${secret.env[0]}`;
      args.push(arg);
      continue;
    }
    if (secret !== undefined && !arg.includes('=') && value !== undefined && !value.startsWith('--')) {
      values.add(value);
      args.push(`${arg}=${value}`);
      i++;
      hideWordsAfter(i);
      continue;
    }
    if (secret !== undefined && arg.includes('=')) {
      values.add(arg.slice(arg.indexOf('=') + 1));
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
function scrub(result: LoadResult, values: ReadonlySet<string>): LoadResult {
  if (result.kind !== 'exit' || result.code === 0) return result;
  let output = result.output;
  for (const value of [...values].sort((a, b) => b.length - a.length)) {
    if (value.length >= MIN_SCRUBBED_LENGTH) output = output.split(value).join('<hidden>');
  }
  return { ...result, output };
}

/**
 * Resolve the configuration. `argv` excludes the runtime and script path
 * (i.e. `process.argv.slice(2)`); `env` is usually `process.env`.
 */
export function loadConfig(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
): LoadResult {
  const guarded = guardSecrets(argv, env);
  return scrub(resolve(guarded, env, version), guarded.values);
}

function resolve(guarded: GuardedArgs, env: Readonly<Record<string, string | undefined>>, version: string): LoadResult {
  let failure: string | undefined;
  const { args, hidden, maybeSecret } = guarded;
  const parser = buildParser(args, (message) => {
    failure ??= message;
  });
  const parsed: Record<string, unknown> = parser.parseSync();

  const wants = (name: string) => parsed[name] !== undefined && parsed[name] !== false;
  if (wants('help')) {
    let help = '';
    parser.showHelp((text: string) => {
      help = text;
    });
    return { kind: 'exit', code: 0, output: help };
  }
  if (wants('version')) return { kind: 'exit', code: 0, output: version };

  if (guarded.error !== undefined) return exitError(guarded.error);
  const unknown = Object.keys(parsed).filter((name) => !KNOWN_NAMES.has(name));
  const shownUnknown = unknown.filter((name) => !maybeSecret.some((arg) => arg.includes(name)));
  if (unknown.length > 0 && shownUnknown.length === 0) {
    return exitError('unknown option right after a secret option (not shown: it may be the secret; write --flag=VALUE, see --help)');
  }
  const [firstUnknown] = shownUnknown;
  if (firstUnknown !== undefined) {
    const suggestion = suggestFlag(firstUnknown);
    const names = shownUnknown.map(dashed).join(', ');
    const hint = suggestion === undefined ? 'see --help' : `did you mean ${suggestion}?`;
    const notShown = unknown.length - shownUnknown.length;
    const more = notShown > 0 ? ` and ${notShown} not shown (after a secret option: may be the secret)` : '';
    return exitError(`unknown option${shownUnknown.length > 1 ? 's' : ''} ${names}${more} (${hint})`);
  }
  const positionals = Array.isArray(parsed._) ? parsed._.map(String) : [];
  const [firstPositional] = positionals;
  if (firstPositional !== undefined) {
    if (hidden.has(firstPositional)) return exitError('unexpected argument after the value of a secret option (quote a value with spaces; see --help)');
    return exitError(`unexpected argument ${JSON.stringify(firstPositional)} (only --options are accepted; see --help)`);
  }
  if (failure !== undefined) return exitError(failure);

  const warnings: string[] = [];
  const sources = new Map<SettingKey, Source>();
  for (const [key, s] of settingList) {
    if (parsed[s.flag] !== undefined) {
      const flag = flagRaw(s, parsed[s.flag]);
      if ('error' in flag) return exitError(`invalid --${s.flag} (env ${s.env.join(', ')}): ${flag.error}`);
      sources.set(key, { kind: 'flag', raw: flag.raw });
    } else {
      const fromEnv = envRaw(s, env, warnings);
      if (fromEnv !== undefined) sources.set(key, fromEnv);
    }
  }

  const raw: RawConfig = Object.fromEntries([...sources].map(([key, source]) => [key, source.raw]));
  const result = configSchema.safeParse(raw, { reportInput: true });
  if (!result.success) {
    const [issue] = result.error.issues;
    return exitError(issue === undefined ? 'invalid configuration' : describeIssue(issue, sources));
  }

  const config = result.data;
  for (const [key, s] of settingList) {
    const warning = s.warn?.(config[key]);
    if (warning !== undefined) warnings.push(warning);
  }
  return { kind: 'run', config, warnings };
}
