/**
 * Test fault injection, read by the main thread and handed to the Workers in their settings (ConsumerSettings
 * `faults`): the loops never read the environment for it.
 *
 * PROCESSOR_FAULT_CRASH_CONSUMER="<consumer>:<records>" makes that consumer Worker (by owner id: a restarted one
 * gets a new id, so it crashes once) die with an uncaught error after writing that many records.
 */
import type { ConsumerFaults } from "../threads/messages.ts";

/** The `faults` setting of consumer `owner`, from the environment: spread into its ConsumerSettings. */
export function consumerFaults(owner: number, env: Record<string, string | undefined> = process.env): { faults?: ConsumerFaults } {
  const faults = crashFault(owner, env);
  return faults === undefined ? {} : { faults };
}

/** The faults to inject into consumer `owner`; undefined in release builds. */
function crashFault(owner: number, env: Record<string, string | undefined>): ConsumerFaults | undefined {
  // Only in the test build (scripts/build.ts --test-faults). Release and default builds define
  // PROCESSOR_FAULT_INJECTION as false, so the variable is not even read (the bundler drops the rest); run from
  // source it is undefined: off as well.
  if (typeof PROCESSOR_FAULT_INJECTION === "undefined" || !PROCESSOR_FAULT_INJECTION) return undefined;
  const [consumer, records] = (env.PROCESSOR_FAULT_CRASH_CONSUMER ?? "").split(":").map(Number);
  return consumer === owner && records !== undefined && records > 0 ? { crashAfterRecords: records } : undefined;
}
