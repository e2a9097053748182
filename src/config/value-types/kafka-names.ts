/** Kafka names: topics (one or a list), a static group instance id, and the bootstrap broker list. */
import { isValidTopicName, parseBroker, parseList } from "../parse-values.ts";
import { custom, fail, ok, type ValueType } from "./define.ts";

export function topic(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return isValidTopicName(s) ? ok(s) : fail("expected a Kafka topic name (1-249 chars of A-Z a-z 0-9 . _ -)");
    }),
  };
}

/** Kafka checks group.instance.id like a topic name; room is left for the `-<consumer>` suffix. */
export function groupInstanceId(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return isValidTopicName(s) && s.length <= 240 ? ok(s) : fail("expected a group instance id (1-240 chars of A-Z a-z 0-9 . _ -)");
    }),
  };
}

/** A prefix of transactional ids, checked like a group instance id (room is left for the `-<producer>` suffix). */
export function transactionalIdPrefix(): ValueType<string> {
  return {
    schema: custom((raw) => {
      const s = raw.trim();
      return isValidTopicName(s) && s.length <= 240 ? ok(s) : fail("expected a transactional id prefix (1-240 chars of A-Z a-z 0-9 . _ -)");
    }),
  };
}

export function topicList(): ValueType<string[]> {
  return {
    schema: custom((raw) => {
      const topics = [...new Set(parseList(raw))];
      if (topics.length === 0) return fail("expected a non-empty list of topics (comma or space separated)");
      const bad = topics.find((t) => !isValidTopicName(t));
      if (bad !== undefined) return fail(`expected Kafka topic names (A-Z a-z 0-9 . _ -), "${bad}" is not one`);
      return ok(topics);
    }),
  };
}

export function brokerList(): ValueType<string[]> {
  return {
    schema: custom((raw) => {
      const items = parseList(raw);
      if (items.length === 0) return fail("expected a non-empty list of host:port (comma or space separated)");
      const brokers: string[] = [];
      for (const item of items) {
        const broker = parseBroker(item);
        if (broker === undefined) return fail(`expected a list of host:port (comma or space separated), "${item}" is not one`);
        if (!brokers.includes(broker)) brokers.push(broker);
      }
      return ok(brokers);
    }),
  };
}
