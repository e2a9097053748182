// Worker entry: one Kafka consumer group member. Logic lives in kafka/consumer-loop.ts.
import { ConsumerLoop } from "./kafka/consumer-loop.ts";
import type { FromConsumer, ToConsumer } from "./threads/messages.ts";
import { createLogger } from "./observability/logger.ts";

declare const self: Worker;
let loop: ConsumerLoop | null = null;
const post = (message: FromConsumer): void => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToConsumer>) => {
  const message = event.data;
  switch (message.type) {
    case "init":
      loop = new ConsumerLoop(
        message.owner,
        message.ring,
        message.settings,
        post,
        createLogger(message.settings.logLevel, { component: `consumer-${message.owner}` }),
      );
      loop.start();
      break;
    case "commit":
      await loop?.commit(message.requestId, message.offsets);
      break;
    case "revoke-done":
      loop?.revokeDone(message.requestId);
      break;
    case "flow":
      loop?.setPaused(message.partitions, message.paused);
      break;
    case "go":
      loop?.go();
      break;
    case "stop":
      await loop?.stop();
      break;
    case "close":
      await loop?.close();
      post({ type: "closed" });
      break;
  }
};
