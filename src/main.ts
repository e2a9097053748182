// Entry point of the processor binary. Worker entries sit beside it: the compiled binary needs them in one folder.
import { run } from "./runtime/run.ts";
import { VERSION } from "./version.ts";

const code = await run(process.argv.slice(2), process.env, VERSION, {
  consumer: new URL("./consumer-worker.ts", import.meta.url),
  producer: new URL("./producer-worker.ts", import.meta.url),
});
process.exit(code);
