/**
 * Build-time constants of the compiled binary (Bun.build `define`), declared for TypeScript in
 * src/build-constants.d.ts. Shared by scripts/build.ts and the test that checks what they compile out.
 */

/** The environment variables that inject faults; none of them may reach a release binary. */
export const FAULT_INJECTION_VARIABLES = ["PROCESSOR_FAULT_CRASH_CONSUMER"] as const;

export interface BuildFlavour {
  /** Keep the test-only fault injection (PROCESSOR_FAULT_CRASH_CONSUMER): only the test build does. */
  readonly testFaults: boolean;
}

export function buildDefines(flavour: BuildFlavour): Record<string, string> {
  return { PROCESSOR_FAULT_INJECTION: flavour.testFaults ? "true" : "false" };
}
