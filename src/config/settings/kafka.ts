/** Kafka settings: brokers, group, topics and client identity. Entries in --help order. */
import { brokerList, groupInstanceId, nonEmptyString, oneOf, topic, topicList } from "../value-types.ts";
import { derived, optional, required, type Setting, withDefault } from "./define.ts";

export const kafkaSettings = {
  brokers: withDefault(
    {
      flag: "brokers",
      aliases: ["b"],
      env: ["KAFKA_SERVERS", "PROCESSOR_BROKERS"],
      group: "Kafka",
      description: "Bootstrap brokers, host[:port] list (comma or space separated; port defaults to 9092).",
      type: brokerList(),
    },
    "localhost:9092",
  ),
  groupId: withDefault(
    {
      flag: "group-id",
      env: ["KAFKA_GROUP_ID"],
      group: "Kafka",
      description: "Consumer group id.",
      type: nonEmptyString(),
    },
    "processor",
  ),
  inputTopics: required({
    flag: "input-topics",
    aliases: ["topics"],
    env: ["KAFKA_CONSUMER_TOPICS"],
    group: "Kafka",
    description: "Topics to consume (comma or space separated).",
    type: topicList(),
  }),
  outputTopic: required({
    flag: "output-topic",
    env: ["KAFKA_CONSUMER_TOPIC", "PROCESSOR_OUTPUT_TOPIC"],
    group: "Kafka",
    description: "Topic results are produced to; must not be an input topic.",
    type: topic(),
  }),
  dlqTopic: derived(
    {
      flag: "dlq-topic",
      env: ["PROCESSOR_DLQ_TOPIC"],
      group: "Kafka",
      description: "Dead-letter topic for messages that exhausted their retries; must differ from output and input topics.",
      type: topic(),
    },
    "<output-topic>.dlq",
  ),
  offsetReset: withDefault(
    {
      flag: "offset-reset",
      env: ["KAFKA_OFFSET_RESET"],
      group: "Kafka",
      description: "Where to start when the group has no committed offset: earliest|latest (smallest/largest accepted).",
      type: oneOf(["earliest", "latest"], { smallest: "earliest", largest: "latest" }),
    },
    "earliest",
  ),
  clientId: withDefault(
    {
      flag: "client-id",
      env: ["PROCESSOR_CLIENT_ID"],
      group: "Kafka",
      description: "Kafka client id.",
      type: nonEmptyString(),
    },
    "processor",
  ),
  groupProtocol: withDefault(
    {
      flag: "group-protocol",
      env: ["PROCESSOR_GROUP_PROTOCOL"],
      group: "Kafka",
      description: "Consumer group protocol: classic|consumer (KIP-848).",
      type: oneOf(["classic", "consumer"]),
    },
    "classic",
  ),
  groupInstanceId: optional({
    flag: "group-instance-id",
    env: ["PROCESSOR_GROUP_INSTANCE_ID"],
    group: "Kafka",
    description:
      "Static group membership: consumer n of this process joins as <id>-<n>, so a restart within --session-timeout moves no partition (a stopped member keeps them until then). Give each process its own id.",
    type: groupInstanceId(),
  }),
} as const satisfies Record<string, Setting>;
