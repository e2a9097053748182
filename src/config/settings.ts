/**
 * The table of settings — the single source of truth for every setting's CLI
 * flag, aliases, env names, default, help text and validation. The zod
 * schema (`configSchema`) and the yargs options are both generated from it.
 *
 * The entries live in one file per help group under settings/ (kafka.ts,
 * security.ts, processing.ts, reliability.ts, tuning.ts, logging.ts, tracing.ts); this
 * file puts them together in --help order. Adding a setting = adding one entry
 * to its group's file (plus, if it depends on other settings, a line in
 * `deriveDefaults` / `crossChecks` in settings/cross-checks.ts).
 */
import { z } from "zod";
import { crossChecks, deriveDefaults } from "./settings/cross-checks.ts";
import type { Setting } from "./settings/define.ts";
import { kafkaSettings } from "./settings/kafka.ts";
import { loggingSettings } from "./settings/logging.ts";
import { processingSettings } from "./settings/processing.ts";
import { reliabilitySettings } from "./settings/reliability.ts";
import { securitySettings } from "./settings/security.ts";
import { tracingSettings } from "./settings/tracing.ts";
import { tuningSettings } from "./settings/tuning.ts";

export { GROUPS, type Presence, type Setting, type SettingGroup } from "./settings/define.ts";

/** Every setting, groups in GROUPS order: the key order is the --help order. */
export const settings = {
  ...kafkaSettings,
  ...securitySettings,
  ...processingSettings,
  ...reliabilitySettings,
  ...tuningSettings,
  ...loggingSettings,
  ...tracingSettings,
} as const satisfies Record<string, Setting>;

export type SettingKey = keyof typeof settings;
export const settingKeys = Object.keys(settings) as SettingKey[];

/** The raw input the schema parses: one string (or undefined = unset) per setting. */
export type RawConfig = { [K in SettingKey]?: string | undefined };

type Shape = { [K in SettingKey]: (typeof settings)[K]["schema"] };
const shape = Object.fromEntries(settingKeys.map((key) => [key, settings[key].schema])) as Shape;

/** Every setting's own value, before deriveDefaults fills in the ones computed from others. */
export type SettingFields = z.output<z.ZodObject<Shape>>;

/** Raw strings (or undefined) per setting → fully resolved, validated Config. */
export const configSchema = z.object(shape).strict().transform(deriveDefaults).superRefine(crossChecks);

export type Config = z.output<typeof configSchema>;
