/**
 * The yargs parser for the settings table: flags and aliases, --help text (groups in GROUPS order, fixed width),
 * and the names of every option it knows.
 */
import yargs, { type Argv, type Options } from "yargs";
import { GROUPS, settingKeys, settings, type Setting, type SettingKey } from "../settings.ts";

export const PROGRAM = "processor";

/** Help is wrapped to a fixed width so the output does not depend on the terminal. */
const HELP_WIDTH = 100;

const EPILOG = [
  "Precedence: command-line flag > environment variable > config file (--config) > default.",
  "`processor config [options]` prints the effective configuration and where each value came from.",
  "`processor dlq stats|replay` analyses and re-processes the dead-letter topic (see processor dlq --help).",
  "Empty environment variables count as unset. A flag given twice: the last one wins.",
  "Lists are comma or space separated. Durations: 500ms, 30s, 2m, 1h, or integer milliseconds.",
  "Sizes: 512KiB, 8MiB, 1GiB, 1MB, or integer bytes. Booleans: true/false, 1/0, yes/no",
  "(a bare --flag means true, --no-flag means false).",
].join("\n");

export const settingList: readonly (readonly [SettingKey, Setting])[] = settingKeys.map((key) => [key, settings[key]] as const);

const META_OPTIONS = {
  config: {
    describe: "YAML or JSON file of settings: keys are the long option names (camelCase or as written here).\n[env: PROCESSOR_CONFIG]",
    type: "string",
  },
  help: { alias: "h", describe: "Show this help and exit." },
  version: { alias: "V", describe: "Show the version and exit." },
} as const;

/** Every name yargs may report for a known option (without dashes). */
export const KNOWN_NAMES: ReadonlySet<string> = new Set([
  "_",
  "$0",
  ...Object.entries(META_OPTIONS).flatMap(([name, o]) => ("alias" in o ? [name, o.alias] : [name])),
  ...settingList.flatMap(([, s]) => [s.flag, ...(s.aliases ?? [])]),
]);

export function dashed(name: string): string {
  return name.length === 1 ? `-${name}` : `--${name}`;
}

/** `--workers`, `--no-tls`, `--workers=3`, `-w`, `-h`: an option the parser knows (so not a secret value). */
export function isKnownOption(arg: string): boolean {
  const name = (arg.split("=", 1)[0] ?? "").replace(/^--?/, "");
  return KNOWN_NAMES.has(name) || (name.startsWith("no-") && KNOWN_NAMES.has(name.slice(3)));
}

function helpDescription(s: Setting): string {
  const p = s.presence;
  const tail =
    p.kind === "default"
      ? ` [default: ${p.raw}]`
      : p.kind === "derived"
        ? ` [default: ${p.describe}]`
        : p.kind === "required"
          ? " [required]"
          : "";
  const envBase = s.envBase === undefined ? "" : `, ${s.envBase.name} (+ ${s.envBase.append})`;
  return `${s.description}\n[env: ${s.env.join(", ")}${envBase}]${tail}`;
}

export function buildParser(argv: readonly string[], onFail: (message: string) => void): Argv {
  const options: Record<string, Options> = {};
  for (const [, s] of settingList) {
    options[s.flag] = { alias: [...(s.aliases ?? [])], describe: helpDescription(s) };
  }
  for (const [name, o] of Object.entries(META_OPTIONS)) options[name] = { ...o };

  let parser = yargs([...argv])
    .scriptName(PROGRAM)
    .usage(`${PROGRAM} [options]\n${PROGRAM} config [options]`)
    .locale("en")
    .exitProcess(false)
    .help(false)
    .version(false)
    .parserConfiguration({
      "parse-numbers": false,
      "parse-positional-numbers": false,
      "duplicate-arguments-array": false,
      "camel-case-expansion": false,
      "dot-notation": false,
      "strip-aliased": true,
      "boolean-negation": true,
    })
    .options(options)
    .strict()
    .wrap(HELP_WIDTH)
    .epilog(EPILOG)
    .fail((message: string | undefined, err: Error | undefined) => {
      onFail(message ?? err?.message ?? "invalid arguments");
    });
  for (const group of GROUPS) {
    parser = parser.group(
      settingList.filter(([, s]) => s.group === group).map(([, s]) => s.flag),
      `${group}:`,
    );
  }
  return parser.group(Object.keys(META_OPTIONS), "Other:");
}
