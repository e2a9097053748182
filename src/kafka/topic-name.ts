/** Kafka's rule for topic names (org.apache.kafka.common.internals.Topic): checked before a record is produced. */
const LEGAL = /^[a-zA-Z0-9._-]{1,249}$/;

/** Why `name` cannot be a Kafka topic, or null when it can. */
export function illegalTopicName(name: string): string | null {
  if (LEGAL.test(name) && name !== "." && name !== "..") return null;
  const shown = name.length > 80 ? `${JSON.stringify(name.slice(0, 80))}… (${name.length} characters)` : JSON.stringify(name);
  return `output topic ${shown} is not a legal Kafka topic name (1-249 characters of a-z, A-Z, 0-9, '.', '_', '-'; not "." or "..")`;
}
