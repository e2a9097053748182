// Worker entry: one Kafka producer. Logic lives in kafka/producer-loop.ts.
import { ProducerLoop } from "./kafka/producer-loop.ts";
import { checkTopics } from "./kafka/topic-check.ts";
import type { FromProducer, ToProducer } from "./threads/messages.ts";
import { createLogger } from "./observability/logger.ts";
import { watchHeartbeat } from "./threads/stall-watchdog.ts";

declare const self: Worker;
let loop: ProducerLoop | null = null;
const post = (message: FromProducer): void => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToProducer>) => {
  const message = event.data;
  switch (message.type) {
    case "init": {
      const failure = message.checkTopics.length > 0 ? await checkTopics(message.settings, message.checkTopics) : null;
      if (failure !== null) {
        post({ type: "fatal", failure });
        break;
      }
      const log = createLogger(message.settings.logLevel, { component: `producer-${message.index}` });
      if (message.watchdog) {
        watchHeartbeat(message.watchdog.beats, message.watchdog.timeoutMs, (stalledMs) => {
          const reason = `the main thread has not run for ${stalledMs} ms (a handler blocking synchronously?); killing the process so the group reassigns its partitions, uncommitted records will be processed again (--watchdog)`;
          log.error("stalled", { error: reason });
          process.stderr.write(`processor: ${reason}\n`);
          process.kill(process.pid, "SIGKILL");
        });
      }
      loop = new ProducerLoop(message.index, message.ring, message.settings, post, log);
      loop.start();
      post({ type: "ready", index: message.index });
      break;
    }
    case "close":
      await loop?.close();
      post({ type: "closed" });
      break;
  }
};
