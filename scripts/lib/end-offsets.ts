/** End offsets (high watermarks) of every partition of a topic: shared by the demo, the benchmark and the tests. */
import type { Admin } from "@platformatic/kafka";

export async function endOffsets(admin: Admin, topic: string): Promise<number[]> {
  const meta = await admin.metadata({ topics: [topic] });
  const partitions = meta.topics.get(topic)?.partitionsCount ?? 0;
  const result = await admin.listOffsets({
    topics: [{ name: topic, partitions: Array.from({ length: partitions }, (_, p) => ({ partitionIndex: p, timestamp: -1n })) }],
  });
  const offsets = new Array<number>(partitions).fill(0);
  for (const p of result[0]?.partitions ?? []) offsets[p.partitionIndex] = Number(p.offset);
  return offsets;
}
