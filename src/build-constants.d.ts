/**
 * Constants scripts/build.ts substitutes at build time (Bun.build `define`, see scripts/lib/build-defines.ts).
 * Running from source they are not defined: check with `typeof` first.
 */

/** true only in a build made with `scripts/build.ts --test-faults` (the test build): test fault injection works. */
declare const PROCESSOR_FAULT_INJECTION: boolean;
