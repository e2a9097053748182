/**
 * What a value type is, and the helpers every family of value types builds on. A value type's error message
 * describes what was expected; the loader appends `, got "<raw>"`.
 */
import { z } from "zod";

export interface ValueType<T> {
  /** Validates and converts the raw text. */
  readonly schema: z.ZodType<T, string>;
  /** What a bare `--flag` (no value) means; absent = the flag needs a value. */
  readonly bare?: string;
  /** What `--no-flag` means; absent = negation is an error. */
  readonly negated?: string;
}

/** Build a value type from a converter returning either a value or an error message. */
export function custom<T>(convert: (raw: string) => { ok: true; value: T } | { ok: false; message: string }): z.ZodType<T, string> {
  return z.string().transform((raw, ctx): T => {
    const result = convert(raw);
    if (result.ok) return result.value;
    ctx.addIssue({ code: "custom", message: result.message, input: raw });
    return z.NEVER;
  });
}

export const ok = <T>(value: T) => ({ ok: true as const, value });
export const fail = (message: string) => ({ ok: false as const, message });

export function rangeText(min: number, max: number | undefined, show: (n: number) => string): string {
  return max === undefined ? `>= ${show(min)}` : `between ${show(min)} and ${show(max)}`;
}
