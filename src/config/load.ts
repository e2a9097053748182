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

/**
 * Keeps secrets out of parser errors: `--sasl-password -x1y` becomes `--sasl-password=-x1y` (else the value would be
 * read as short options and echoed back as unknown ones), and words right after a secret value (an unquoted
 * password with spaces) are remembered so an "unexpected argument" error does not show them.
 */
function guardSecrets(argv: readonly string[]): { args: string[]; hidden: Set<string> } {
  const args: string[] = [];
  const hidden = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] ?? '';
    const value = argv[i + 1];
    if (SECRET_FLAGS.has(arg) && value !== undefined && !value.startsWith('--')) {
      args.push(`${arg}=${value}`);
      i++;
      for (let j = i + 1; j < argv.length && !(argv[j] ?? '-').startsWith('-'); j++) hidden.add(argv[j] ?? '');
      continue;
    }
    if ([...SECRET_FLAGS].some((flag) => arg.startsWith(`${flag}=`))) {
      for (let j = i + 1; j < argv.length && !(argv[j] ?? '-').startsWith('-'); j++) hidden.add(argv[j] ?? '');
    }
    args.push(arg);
  }
  return { args, hidden };
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
  let failure: string | undefined;
  const { args, hidden } = guardSecrets(argv);
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

  const unknown = Object.keys(parsed).filter((name) => !KNOWN_NAMES.has(name));
  const [firstUnknown] = unknown;
  if (firstUnknown !== undefined) {
    const suggestion = suggestFlag(firstUnknown);
    const names = unknown.map(dashed).join(', ');
    const hint = suggestion === undefined ? 'see --help' : `did you mean ${suggestion}?`;
    return exitError(`unknown option${unknown.length > 1 ? 's' : ''} ${names} (${hint})`);
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
