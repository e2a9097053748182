/**
 * The shape of one entry of the settings table, and the four ways to declare one (withDefault, required,
 * optional, derived): each turns a spec into a Setting carrying its zod schema and help metadata.
 */
import { z } from "zod";
import type { ValueType } from "../value-types.ts";

/** Help groups, in display order. */
export const GROUPS = ["Kafka", "Security", "Processing", "Reliability", "Tuning", "Logging", "Tracing"] as const;
export type SettingGroup = (typeof GROUPS)[number];

export interface SettingSpec<T> {
  /** Long flag without dashes, e.g. `group-id`. */
  readonly flag: string;
  /** Other flag names without dashes; one character = short flag (`w` → `-w`). */
  readonly aliases?: readonly string[];
  /** Environment variable names; the first is the primary one and wins if several are set. */
  readonly env: readonly [string, ...string[]];
  /**
   * A last environment variable holding a base the value is made from by appending `append`, used when none of
   * `env` is set (OTEL_EXPORTER_OTLP_ENDPOINT: the traces URL is that plus /v1/traces).
   */
  readonly envBase?: { readonly name: string; readonly append: string };
  readonly group: SettingGroup;
  readonly description: string;
  readonly type: ValueType<T>;
  /** Optional warning to emit for the resolved value (e.g. a risky choice). */
  warn?(value: T): string | undefined;
  /** The raw value is a secret: never shown in errors or warnings. */
  readonly secret?: boolean;
}

/** How a setting gets a value when neither flag nor env gives one. */
export type Presence =
  | { readonly kind: "default"; readonly raw: string }
  | { readonly kind: "required" }
  | { readonly kind: "optional" }
  | { readonly kind: "derived"; readonly describe: string };

export interface Setting<Out = unknown> extends SettingSpec<unknown> {
  readonly presence: Presence;
  /** raw string (or undefined when unset) → resolved value */
  readonly schema: z.ZodType<Out, string | undefined>;
}

function meta(spec: SettingSpec<unknown>) {
  return { description: spec.description, flag: `--${spec.flag}`, env: [...spec.env] };
}

/** A setting with a default, written as the user would write it (`'200ms'`, `'4MiB'`). */
export function withDefault<T>(spec: SettingSpec<T>, raw: string): Setting<T> {
  const checked = spec.type.schema.safeParse(raw);
  if (!checked.success) throw new Error(`config: default ${JSON.stringify(raw)} of --${spec.flag} is invalid`);
  const schema = z.string().default(raw).pipe(spec.type.schema).meta(meta(spec));
  return { ...spec, presence: { kind: "default", raw }, schema };
}

/** A setting that must be given by flag or env. */
export function required<T>(spec: SettingSpec<T>): Setting<T> {
  const schema = z.string().pipe(spec.type.schema).meta(meta(spec));
  return { ...spec, presence: { kind: "required" }, schema };
}

/** A setting that may stay unset (undefined in Config). */
export function optional<T>(spec: SettingSpec<T>): Setting<T | undefined> {
  return { ...spec, presence: { kind: "optional" }, schema: spec.type.schema.optional().meta(meta(spec)) };
}

/** A setting whose default is computed from other settings in `deriveDefaults`. */
export function derived<T>(spec: SettingSpec<T>, describe: string): Setting<T | undefined> {
  return { ...spec, presence: { kind: "derived", describe }, schema: spec.type.schema.optional().meta(meta(spec)) };
}
