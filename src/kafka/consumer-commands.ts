/** What a consumer Worker does with each message from the main thread (see ConsumerLoop). */
import { createLogger } from "../observability/logger.ts";
import { profileThread } from "../observability/thread-profile.ts";
import type { FromConsumer, ToConsumer } from "../threads/messages.ts";
import type { Post } from "../threads/worker-entry.ts";
import { ConsumerLoop } from "./consumer-loop.ts";

export function consumerCommands(): (message: ToConsumer, post: Post<FromConsumer>) => Promise<void> {
  let loop: ConsumerLoop | null = null;
  return async (message, post) => {
    switch (message.type) {
      case "init": {
        profileThread(`consumer-${message.owner}`);
        const log = createLogger(message.settings.logLevel, { component: `consumer-${message.owner}` });
        loop = new ConsumerLoop(message.owner, message.ring, message.settings, post, log);
        loop.start();
        break;
      }
      case "commit":
        await loop?.commit(message.requestId, message.offsets);
        break;
      case "revoke-done":
        loop?.revokeDone(message.requestId);
        break;
      case "flow":
        loop?.setPaused(message.partitions, message.paused);
        break;
      case "refetch":
        loop?.refetch(message.round);
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
}
