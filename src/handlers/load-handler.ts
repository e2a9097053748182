import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createSeedRule, type SeedRuleOptions } from "./seed-rule.ts";
import type { Handler } from "./types.ts";

export class HandlerLoadError extends Error {
  override name = "HandlerLoadError";
}

/** The seed rule (with its opt-in checks), or the `default` / `handler` export of a user module read from disk at run time. */
export async function loadHandler(path: string | undefined, seedOptions: SeedRuleOptions = {}): Promise<Handler> {
  if (path === undefined) return createSeedRule(seedOptions);
  const absolute = isAbsolute(path) ? path : resolve(process.cwd(), path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw new HandlerLoadError(`cannot load --handler ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const candidate = module.default ?? module.handler;
  if (typeof candidate !== "function") {
    throw new HandlerLoadError(`--handler ${path} must export a function as default or as "handler"`);
  }
  return candidate as Handler;
}
