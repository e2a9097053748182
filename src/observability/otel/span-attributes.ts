/**
 * Attribute names of processor's record spans. The messaging names follow the OpenTelemetry messaging semantic
 * conventions (Kafka); they are still "development" there, so the conventions package keeps them in its incubating
 * entry point, which it asks users not to import: they are written out here, as it advises.
 */
export const MESSAGING_SYSTEM = "messaging.system";
export const MESSAGING_OPERATION_TYPE = "messaging.operation.type";
export const MESSAGING_OPERATION_NAME = "messaging.operation.name";
export const MESSAGING_DESTINATION_NAME = "messaging.destination.name";
export const MESSAGING_DESTINATION_PARTITION_ID = "messaging.destination.partition.id";
export const MESSAGING_CONSUMER_GROUP_NAME = "messaging.consumer.group.name";
export const MESSAGING_KAFKA_OFFSET = "messaging.kafka.offset";
export const MESSAGING_KAFKA_MESSAGE_KEY = "messaging.kafka.message.key";
export const MESSAGING_KAFKA_MESSAGE_TOMBSTONE = "messaging.kafka.message.tombstone";

/** processor's own: handler runs the record took, and what became of it (RecordOutcomeName). */
export const PROCESSOR_ATTEMPTS = "processor.attempts";
export const PROCESSOR_OUTCOME = "processor.outcome";
