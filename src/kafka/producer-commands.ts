/** What a producer Worker does with each message from the main thread (see ProducerLoop). */
import { createLogger } from "../observability/logger.ts";
import { profileThread } from "../observability/thread-profile.ts";
import type { FromProducer, ToProducer } from "../threads/messages.ts";
import { watchHeartbeat } from "../threads/stall-watchdog.ts";
import type { Post } from "../threads/worker-entry.ts";
import { ProducerLoop } from "./producer-loop.ts";
import { checkTopics } from "./topic-check.ts";

const STALL_REASON = (stalledMs: number): string =>
  `the main thread has not run for ${stalledMs} ms (a handler blocking synchronously?); killing the process so the group reassigns its partitions, uncommitted records will be processed again (--watchdog)`;

export function producerCommands(): (message: ToProducer, post: Post<FromProducer>) => Promise<void> {
  let loop: ProducerLoop | null = null;
  return async (message, post) => {
    switch (message.type) {
      case "init": {
        profileThread(`producer-${message.index}`);
        const failure = message.checkTopics.length > 0 ? await checkTopics(message.settings, message.checkTopics) : null;
        if (failure !== null) {
          post({ type: "fatal", failure });
          break;
        }
        const log = createLogger(message.settings.logLevel, { component: `producer-${message.index}` });
        if (message.watchdog) {
          // signals reach only the main thread, and it is the one that is stuck: this Worker ends the process
          watchHeartbeat(message.watchdog.beats, message.watchdog.timeoutMs, (stalledMs) => {
            log.error("stalled", { error: STALL_REASON(stalledMs) });
            process.stderr.write(`processor: ${STALL_REASON(stalledMs)}\n`);
            process.kill(process.pid, "SIGKILL");
          });
        }
        loop = new ProducerLoop(message.index, message.ring, message.settings, post, log);
        await loop.start();
        post({ type: "ready", index: message.index });
        break;
      }
      case "close":
        await loop?.close();
        post({ type: "closed" });
        break;
    }
  };
}
