// Worker entry: one Kafka producer. Logic lives in kafka/producer-loop.ts.
import { ProducerLoop } from "./kafka/producer-loop.ts";
import { checkTopics } from "./kafka/topic-check.ts";
import type { FromProducer, ToProducer } from "./kafka/protocol.ts";
import { createLogger } from "./observability/logger.ts";

declare const self: Worker;
let loop: ProducerLoop | null = null;
const post = (message: FromProducer): void => self.postMessage(message);

self.onmessage = async (event: MessageEvent<ToProducer>) => {
  const message = event.data;
  switch (message.type) {
    case "init": {
      const problem = message.checkTopics.length > 0 ? await checkTopics(message.settings, message.checkTopics) : null;
      if (problem !== null) {
        post({ type: "fatal", message: problem });
        break;
      }
      loop = new ProducerLoop(message.index, message.ring, message.settings, post, createLogger(message.settings.logLevel, { component: `producer-${message.index}` }));
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
