/**
 * Example handler module: `processor --handler examples/enrich-handler.ts ...`
 *
 * - orders with `"amount"` above 1000 also go to a review topic (fan-out: an array of outputs)
 * - `"type": "heartbeat"` records are filtered out (null)
 * - records that are not JSON objects can never succeed: PermanentError sends them to the DLQ at once
 * - everything else is enriched and goes to the configured output topic, keeping key and headers
 *
 * Only the types come from processor; a handler module may import any npm package it needs.
 */
import { PermanentError, type Handler, type HandlerResult, type InputRecord } from "../src/handlers/types.ts";

const REVIEW_TOPIC = process.env.ENRICH_REVIEW_TOPIC ?? "orders-review";

interface Order {
  type?: string;
  amount?: number;
  [field: string]: unknown;
}

function parse(record: InputRecord): Order {
  try {
    const value: unknown = JSON.parse(new TextDecoder().decode(record.value ?? new Uint8Array()));
    if (typeof value === "object" && value !== null && !Array.isArray(value)) return value as Order;
  } catch {
    // fall through
  }
  throw new PermanentError("value is not a JSON object");
}

const enrich: Handler = async (record): Promise<HandlerResult> => {
  const order = parse(record);
  if (order.type === "heartbeat") return null;
  const enriched = JSON.stringify({
    ...order,
    source: `${record.topic}/${record.partition}/${record.offset}`,
    enrichedAt: new Date().toISOString(),
  });
  const main = { value: enriched, headers: [...record.rawHeaders, ["x-enriched", "1"] as const] };
  if (typeof order.amount === "number" && order.amount > 1000) return [main, { value: enriched, topic: REVIEW_TOPIC }];
  return main;
};

export default enrich;
