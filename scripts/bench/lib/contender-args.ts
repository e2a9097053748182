/**
 * The command line every contender of compare.ts shares (scripts/bench/plain-loop.ts on Bun, the KafkaJS contender
 * on Node): --brokers, and the input, output and dead-letter topics and the group it works with.
 */
export const CONTENDER_OPTIONS = {
  brokers: { type: "string", default: "127.0.0.1:9092" },
  input: { type: "string" },
  output: { type: "string" },
  dlq: { type: "string" },
  group: { type: "string" },
} as const;

export interface ContenderTopics {
  readonly brokers: string[];
  readonly input: string;
  readonly output: string;
  readonly dlq: string;
  readonly group: string;
}

/** The shared flags from parsed `values`; a missing topic or group ends the process (exit code 2) naming `program`. */
export function contenderTopics(
  program: string,
  values: { brokers: string; input?: string; output?: string; dlq?: string; group?: string },
): ContenderTopics {
  const need = (name: "input" | "output" | "dlq" | "group"): string => {
    const value = values[name];
    if (value === undefined || value === "") {
      console.error(`${program}: missing --${name}`);
      process.exit(2);
    }
    return value;
  };
  return {
    brokers: values.brokers.split(",").filter(Boolean),
    input: need("input"),
    output: need("output"),
    dlq: need("dlq"),
    group: need("group"),
  };
}
