/** `processor dlq stats`: reads the dead-letter topic once and prints what failed, why, from where and when. */
import type { ClientSettings } from "../threads/messages.ts";
import { readDeadLetter } from "./dead-letter-record.ts";
import { Progress } from "./progress.ts";
import { DeadLetterStats, formatSummary } from "./stats.ts";
import { planRead, rangeSize, TopicReader } from "./topic-reader.ts";

export interface StatsOptions {
  readonly client: ClientSettings;
  readonly topic: string;
  readonly json: boolean;
  readonly out: { write(text: string): unknown };
}

export async function runStats(options: StatsOptions): Promise<void> {
  const { client, topic } = options;
  const range = await planRead(client, topic, null);
  const stats = new DeadLetterStats(topic);
  const progress = new Progress(`reading ${topic}`, rangeSize(range));
  const reader = new TopicReader(client, topic, range);
  let read = 0;
  try {
    for await (const message of reader.records()) {
      stats.add(readDeadLetter(message));
      progress.update(++read);
    }
  } finally {
    progress.done();
    await reader.close();
  }
  const summary = stats.summary();
  options.out.write(options.json ? `${JSON.stringify(summary, null, 2)}\n` : formatSummary(summary));
}
