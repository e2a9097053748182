// Worker entry: one Kafka consumer group member (kafka/consumer-commands.ts, kafka/consumer-loop.ts).
import { consumerCommands } from "./kafka/consumer-commands.ts";
import { serveWorker } from "./threads/worker-entry.ts";

serveWorker(consumerCommands());
