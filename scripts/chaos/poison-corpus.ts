/**
 * Poison records for the chaos runner, each tagged with an x-chaos-id header so the verifier can follow it even
 * when the value is junk. The handler misbehaviours are the words test/fixtures/poison-handler.ts reacts to.
 */
export interface PoisonRecord {
  readonly name: string;
  readonly key: Buffer | null;
  readonly value: Buffer | null;
  /** x-chaos-id first; names may be raw bytes (not UTF-8, longer than 65,535 bytes), values null. */
  readonly headers: Array<[string | Buffer, Buffer | null]>;
  /** Every poison record must end in the DLQ; the controls (valid seed records in odd shapes) in the output. */
  readonly expect: "dlq" | "output";
}

const json = (value: unknown) => Buffer.from(JSON.stringify(value));

export function poisonCorpus(round: string): PoisonRecord[] {
  const now = new Date().toISOString();
  const seed = (id: string, fields: Record<string, unknown> = {}) =>
    json({ id, timestamp: now, data: "long enough data", status: "", ...fields });
  const junk = Buffer.alloc(4096);
  for (let i = 0; i < junk.length; i++) junk[i] = (i * 131 + 7) % 256;
  const id = (name: string) => `poison-${round}-${name}`;
  // protocol edges: a header name longer than 65,535 bytes, 70,000 headers, a null header value, a non-UTF-8 name
  const longName = Buffer.alloc(70_000);
  for (let i = 0; i < longName.length; i++) longName[i] = 0x61 + (i % 26);
  const nonUtf8 = Buffer.from([0xff, 0xfe, 0x80]);
  const cases: Array<
    [string, Buffer | null, "dlq" | "output", { key?: Buffer | null; headers?: Array<[string | Buffer, Buffer | null]> }?]
  > = [
    ["control-null-key", seed(id("control-null-key")), "output", { key: null }],
    [
      "control-many-headers",
      seed(id("control-many-headers")),
      "output",
      { headers: Array.from({ length: 1000 }, (_, i) => [`h${i}`, Buffer.from(String(i))] as [string, Buffer]) },
    ],
    ["control-1mb", seed(id("control-1mb"), { data: "x".repeat(1_100_000) }), "output"],
    ["malformed-json", Buffer.from('{"id": "broken", "timestamp": '), "dlq"],
    ["binary-junk", junk, "dlq"],
    ["empty-value", Buffer.alloc(0), "dlq"],
    ["null-value", null, "dlq"],
    ["null-value-null-key", null, "dlq", { key: null }],
    ["invalid-utf8", Buffer.concat([Buffer.from('{"id":"'), Buffer.from([0xff, 0xfe]), Buffer.from('"}')]), "dlq"], // id decodes to U+FFFD U+FFFD; no timestamp
    ["id-number", seed("x", { id: 12 }), "dlq"], // Go's encoding/json refuses a number for a string field
    ["id-boolean", seed("x", { id: true }), "dlq"],
    ["data-object", seed(id("data-object"), { data: { a: 1 } }), "dlq"],
    ["timestamp-number", seed(id("timestamp-number"), { timestamp: 1 }), "dlq"],
    ["missing-fields", json({ id: id("missing-fields") }), "dlq"],
    ["old-timestamp", seed(id("old-timestamp"), { timestamp: new Date(Date.now() - 72 * 3600_000).toISOString() }), "dlq"],
    [
      "control-future-timestamp",
      seed(id("control-future-timestamp"), { timestamp: new Date(Date.now() + 48 * 3600_000).toISOString() }),
      "output",
    ], // the seed accepts the future
    ["garbage-timestamp", seed(id("garbage-timestamp"), { timestamp: "half past never" }), "dlq"],
    ["junk-2mb", Buffer.alloc(2_000_000, 0xfe), "dlq"],
    ["large-header-bad-value", Buffer.from("{"), "dlq", { headers: [["big", Buffer.alloc(256 * 1024, 0x62)]] }],
    [
      "many-headers-bad-value",
      Buffer.from("]"),
      "dlq",
      { headers: Array.from({ length: 800 }, (_, i) => ["dup", Buffer.from(String(i))] as [string, Buffer]) },
    ],
    ...[
      "throw-error",
      "throw-string",
      "throw-null",
      "throw-undefined",
      "throw-object",
      "reject-number",
      "hang",
      "return-number",
      "return-string",
      "return-bytes",
      "return-bad-value",
      "return-bad-headers",
      "return-bad-topic",
      "resolve-undefined",
    ].map((word): [string, Buffer, "dlq"] => [word, Buffer.from(`${word} ${round}`), "dlq"]),
    ["control-header-name-70000-bytes", seed(id("control-header-name-70000-bytes")), "output", { headers: [[longName, Buffer.from("v")]] }],
    [
      "control-70000-headers",
      seed(id("control-70000-headers")),
      "output",
      { headers: Array.from({ length: 70_000 }, (_, i) => [`h${i}`, Buffer.from(String(i))] as [string, Buffer]) },
    ],
    [
      "control-null-header-value",
      seed(id("control-null-header-value")),
      "output",
      {
        headers: [
          ["nullv", null],
          ["emptyv", Buffer.alloc(0)],
        ],
      },
    ],
    [
      "control-non-utf8-header-name",
      seed(id("control-non-utf8-header-name")),
      "output",
      {
        headers: [
          [nonUtf8, Buffer.from("v")],
          [Buffer.from([0x61, 0xc3, 0x28]), null],
        ],
      },
    ],
    ["control-empty-key", seed(id("control-empty-key")), "output", { key: Buffer.alloc(0) }],
    [
      "edges-bad-value",
      Buffer.from("{"),
      "dlq",
      {
        key: null,
        headers: [
          [longName, null],
          [nonUtf8, Buffer.alloc(0)],
          ...Array.from({ length: 70_000 }, (_, i) => [`e${i}`, null] as [string, null]),
        ],
      },
    ],
    // handlers naming an output topic that does not exist / is not a legal name (test/fixtures/poison-handler.ts)
    ...["unknown-topic", "illegal-topic", "long-topic"].map((word): [string, Buffer, "dlq"] => [
      word,
      Buffer.from(`${word} ${round}`),
      "dlq",
    ]),
  ];
  return cases.map(([name, value, expect, extra]) => ({
    name,
    key: extra?.key !== undefined ? extra.key : Buffer.from(`poison-key-${name}`),
    value,
    expect,
    headers: [["x-chaos-id", Buffer.from(id(name))], ...(extra?.headers ?? [])],
  }));
}
