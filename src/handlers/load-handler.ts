import { isAbsolute, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { createSeedBatchRule, createSeedRule, type SeedRuleOptions } from "./seed-rule.ts";
import type { BatchHandler, BatchResult, Handler, HandlerResult, Handlers } from "./types.ts";

export class HandlerLoadError extends Error {
  override name = "HandlerLoadError";
}

/**
 * The seed rule (with its opt-in checks), or a user module read from disk at run time: its `default` / `handler`
 * export (one record per call) and/or its `batch` export (see BatchHandler). A module with only `batch` is called
 * with one-record batches when batch mode is off. `batchMode` (--batch-size > 1) needs a `batch` export.
 */
export async function loadHandler(path: string | undefined, seedOptions: SeedRuleOptions = {}, batchMode = false): Promise<Handlers> {
  if (path === undefined) return { record: createSeedRule(seedOptions), batch: createSeedBatchRule(seedOptions) };
  const absolute = isAbsolute(path) ? path : resolve(process.cwd(), path);
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(absolute).href)) as Record<string, unknown>;
  } catch (error) {
    throw new HandlerLoadError(`cannot load --handler ${path}: ${error instanceof Error ? error.message : String(error)}`);
  }
  const perRecord = module.default ?? module.handler;
  const batch = module.batch;
  if (perRecord !== undefined && typeof perRecord !== "function") {
    throw new HandlerLoadError(`--handler ${path}: its default (or "handler") export must be a function`);
  }
  if (batch !== undefined && typeof batch !== "function")
    throw new HandlerLoadError(`--handler ${path}: its "batch" export must be a function`);
  if (perRecord === undefined && batch === undefined) {
    throw new HandlerLoadError(`--handler ${path} must export a function as default or as "handler", or a "batch" function`);
  }
  if (batchMode && batch === undefined) {
    throw new HandlerLoadError(`--handler ${path} exports no "batch" function, which --batch-size greater than 1 needs`);
  }
  return {
    record: (perRecord as Handler | undefined) ?? oneAtATime(batch as BatchHandler),
    batch: (batch as BatchHandler | undefined) ?? null,
  };
}

/** A batch-only module outside batch mode: one-record batches, an Error result thrown as the record's failure. */
function oneAtATime(batch: BatchHandler): Handler {
  const single = (results: BatchResult): HandlerResult => {
    if (!Array.isArray(results) || results.length !== 1) {
      throw Object.assign(
        new Error(`batch handler must return one result per record, got ${Array.isArray(results) ? results.length : typeof results}`),
        {
          permanent: true,
        },
      );
    }
    const [result] = results;
    if (result instanceof Error) throw result;
    return result;
  };
  return (record) => {
    const results = batch([record]);
    return results instanceof Promise ? results.then(single) : single(results);
  };
}
