/** Value types chosen from words: booleans, one of a fixed set, and any non-empty text. */
import { parseBoolean } from "../parse-values.ts";
import { custom, fail, ok, type ValueType } from "./define.ts";

export function boolean(): ValueType<boolean> {
  return {
    bare: "true",
    negated: "false",
    schema: custom((raw) => {
      const b = parseBoolean(raw);
      return b === undefined ? fail("expected a boolean (true/false, 1/0, yes/no)") : ok(b);
    }),
  };
}

/** One of `values` (case-insensitive); `synonyms` map legacy spellings onto values. */
export function oneOf<const V extends readonly [string, ...string[]]>(
  values: V,
  synonyms: Readonly<Record<string, V[number]>> = {},
): ValueType<V[number]> {
  const lookup = new Map<string, V[number]>();
  for (const v of values) lookup.set(v.toLowerCase(), v);
  for (const [alias, v] of Object.entries(synonyms)) lookup.set(alias.toLowerCase(), v);
  return {
    schema: custom((raw) => {
      const v = lookup.get(raw.trim().toLowerCase());
      return v === undefined ? fail(`expected one of ${values.join("|")}`) : ok(v);
    }),
  };
}

export function nonEmptyString(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return s.length === 0 ? fail("expected a non-empty string") : ok(s);
    }),
  };
}
