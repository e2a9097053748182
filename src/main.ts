// Entry point of the processor binary. Worker entries sit beside it: the compiled binary needs them in one folder.
import { boundHeap } from "./runtime/heap-bound.ts";

// Before anything heavy loads: this may replace the process with itself under a bounded heap (see heap-bound.ts).
boundHeap(process.argv, process.env, process.execPath);

const { run } = await import("./runtime/run.ts");
const { VERSION } = await import("./version.ts");
const code = await run(process.argv.slice(2), process.env, VERSION, {
  consumer: new URL("./consumer-worker.ts", import.meta.url),
  producer: new URL("./producer-worker.ts", import.meta.url),
});
process.exit(code);
