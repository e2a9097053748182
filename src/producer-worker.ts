// Worker entry: one Kafka producer (kafka/producer-commands.ts, kafka/producer-loop.ts).
import { producerCommands } from "./kafka/producer-commands.ts";
import { serveWorker } from "./threads/worker-entry.ts";

serveWorker(producerCommands());
