/** The program: configuration → handler → supervisor → exit code. Signals reach only the main thread. */
import { loadConfig } from "../config/index.ts";
import { HandlerLoadError, loadHandler } from "../handlers/load-handler.ts";
import type { Handlers } from "../handlers/types.ts";
import { EndpointListenError } from "../observability/http-endpoint.ts";
import { createLogger } from "../observability/logger.ts";
import { loadSpanExport } from "../observability/otel/load-span-export.ts";
import { profileThread } from "../observability/thread-profile.ts";
import { Supervisor, EXIT_FATAL } from "./supervisor.ts";
import type { WorkerUrls } from "../threads/workers.ts";

export const EXIT_USAGE = 2;

export async function run(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
  version: string,
  urls: WorkerUrls,
): Promise<number> {
  if (argv[0] === "dlq") {
    const { runDlq } = await import("../dlq/cli.ts");
    return runDlq(argv.slice(1), env, version);
  }
  // Signals are caught from the first moment: a stop during start-up must not kill the process mid-way.
  let signals = 0;
  let pendingSignal: string | null = null;
  let onFirstSignal = (signal: string): void => {
    pendingSignal = signal;
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (++signals > 1) {
      process.stderr.write(`processor: second ${signal}: exiting now; offsets stay at the last commit\n`);
      process.exit(EXIT_FATAL);
    }
    onFirstSignal(signal);
  };
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);

  const loaded = loadConfig(argv, env, version);
  if (loaded.kind === "exit") {
    (loaded.code === 0 ? process.stdout : process.stderr).write(`${loaded.output}\n`);
    return loaded.code;
  }
  const { config } = loaded;
  profileThread("main");
  const log = createLogger(config.logLevel, { component: "main" });
  for (const warning of loaded.warnings) log.warn(warning);

  let handler: Handlers;
  try {
    handler = await loadHandler(
      config.handler,
      {
        ...(config.seedRejectFutureMs !== undefined && { rejectFutureMs: config.seedRejectFutureMs }),
        strictUtf8: config.seedStrictUtf8,
        requireFields: config.seedRequireFields,
      },
      config.batchSize > 1,
    );
    if (config.handler !== undefined && (config.seedRejectFutureMs !== undefined || config.seedStrictUtf8 || config.seedRequireFields)) {
      log.warn("--seed-* options apply to the default rule only; --handler is given, so they have no effect");
    }
  } catch (error) {
    if (!(error instanceof HandlerLoadError)) throw error;
    process.stderr.write(`processor: ${error.message}\n`);
    return EXIT_USAGE;
  }

  const supervisor = new Supervisor(config, handler, urls, log, await loadSpanExport(config, version, log));
  try {
    await supervisor.start();
  } catch (error) {
    // The endpoint starts first: when it cannot listen, nothing else runs yet. One line, no stack trace.
    if (!(error instanceof EndpointListenError)) throw error;
    process.stderr.write(`processor: ${error.message}\n`);
    return EXIT_FATAL;
  }
  // A signal that arrived while starting is acted on now that there is something to stop.
  if (pendingSignal !== null) void supervisor.shutdown(pendingSignal);
  onFirstSignal = (signal) => void supervisor.shutdown(signal);
  return supervisor.exitCode;
}
