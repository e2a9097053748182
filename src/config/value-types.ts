/**
 * Value types: zod schemas turning one raw string (from a flag or an env
 * variable) into a typed value, with error messages written for humans.
 * The loader appends `, got "<raw>"` to every message.
 *
 * One file per family under value-types/; the settings table imports them
 * all from here.
 */
export type { ValueType } from "./value-types/define.ts";
export { boolean, nonEmptyString, oneOf } from "./value-types/choices.ts";
export { type FileValue, pemFile, readableFile, Secret, secretFile, secretText } from "./value-types/files-and-secrets.ts";
export { brokerList, groupInstanceId, topic, topicList, transactionalIdPrefix } from "./value-types/kafka-names.ts";
export { hostName, httpUrl, listenHost } from "./value-types/network.ts";
export { byteSize, duration, fraction, integer, MAX_DURATION_MS, ratio } from "./value-types/numbers.ts";
