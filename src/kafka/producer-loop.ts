/**
 * One idempotent producer inside a Worker: reads output frames from its ring in batches, sends each batch
 * (acks=all), and reports the delivered ids back. A batch is retried with backoff until Kafka takes it or the
 * error is one no retry fixes; it is never dropped. A record Kafka refuses for itself (its size, a topic that
 * does not exist or cannot be written) is reported as rejected, so its input goes to the dead-letter topic, and
 * the rest of the batch still goes out.
 *
 * Exactly-once mode: everything goes through a TransactionalSender, and a `control` frame in the ring ends the
 * transaction at that point (every frame before it was sent first). A refused output then dooms the transaction
 * (see TransactionalSender): the main thread remembers the refusal, and the replay dead-letters that record.
 */
import { compatibilityPartitioner, Producer, type MessageToProduce } from "@platformatic/kafka";
import { RingReader, type RingBuffers } from "../threads/byte-ring.ts";
import { decodeRecordAt, isControlFrame } from "../threads/record-codec.ts";
import { TransactionalSender, transactionEndedBy } from "./transactional-sender.ts";
import type { Logger } from "../observability/logger.ts";
import { baseClientOptions } from "./client-options.ts";
import { reportBrokerConnections } from "./connection-events.ts";
import { backoffMs, classify, describeError, isTopicRefusal, sleep, topicRefusalReason, type Failure } from "./errors.ts";
import type { FromProducer, ProducerSettings, TransactionControl } from "../threads/messages.ts";

type OutMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;

const MAX_BATCH_RECORDS = 8192;
const MAX_BATCH_BYTES = 8 << 20;

/** Delivery ids start at 1: 0 marks a rejected record in a batch's id list. */
const REJECTED = 0;

const textDecoder = new TextDecoder();

/** A record's payload size as the broker counts it against max.message.bytes, near enough (framing left out). */
function recordBytes(
  key: Uint8Array | null,
  value: Uint8Array | null,
  headers: ReadonlyArray<readonly [Uint8Array, Uint8Array | null]>,
): number {
  let size = (key?.length ?? 0) + (value?.length ?? 0);
  for (const [name, headerValue] of headers) size += name.length + (headerValue?.length ?? 0);
  return size;
}

export class ProducerLoop {
  private readonly reader: RingReader;
  private readonly producer: Producer<Buffer, Buffer, Buffer, Buffer>;
  /** Exactly-once mode only. */
  private readonly transactions: TransactionalSender | null;
  private finished: Promise<void> = Promise.resolve();
  private failedFatally = false;
  private readonly quietDisconnects: () => void;
  /** A configured topic deleted while running is waited for; missing at start it is a configuration error. */
  private delivered = false;
  private readonly configuredTopics: ReadonlySet<string>;
  private readonly maxMessageBytes: number;

  constructor(
    readonly index: number,
    ring: RingBuffers,
    settings: ProducerSettings,
    private readonly post: (message: FromProducer) => void,
    private readonly log: Logger,
  ) {
    this.maxMessageBytes = settings.maxMessageBytes;
    this.reader = new RingReader(ring);
    this.configuredTopics = new Set(settings.configuredTopics);
    const { transactionalId, transactionTimeoutMs } = settings;
    const createProducer = (): Producer<Buffer, Buffer, Buffer, Buffer> =>
      new Producer({
        ...baseClientOptions(settings, `producer-${index}`),
        idempotent: true,
        partitioner: compatibilityPartitioner,
        // the client sends its request timeout as the transaction timeout
        ...(transactionalId !== undefined && { transactionalId, timeout: transactionTimeoutMs }),
      });
    this.transactions = transactionalId === undefined ? null : new TransactionalSender(createProducer, log);
    this.producer = this.transactions?.client ?? createProducer();
    this.quietDisconnects = reportBrokerConnections(this.producer, this.log);
  }

  /** Exactly-once mode: the transactional id is registered (fencing a predecessor) before anything is read. */
  async start(): Promise<void> {
    await this.transactions?.start();
    this.finished = this.run();
  }

  /** Resolves once the main thread closed the ring and every frame in it was delivered. */
  async close(): Promise<void> {
    await this.finished;
    this.quietDisconnects();
    if (this.transactions !== null) {
      await this.transactions.close();
      return;
    }
    await this.producer.close().catch((error: unknown) => this.log.warn("producer close failed", { error: describeError(error) }));
  }

  private async run(): Promise<void> {
    while (!this.reader.finished && !this.failedFatally) {
      await this.reader.waitForData(1000);
      const { messages, ids, control } = this.takeBatch();
      if (messages.length > 0) {
        const started = performance.now();
        if (!(await this.deliver(messages, ids))) return;
        // a doomed transaction's outputs will not count: the main thread aborts and replays them
        if (!this.transactions?.doomed)
          this.post({ type: "delivered", ids: ids.filter((id) => id !== REJECTED), sendMs: performance.now() - started });
      }
      if (control !== null && this.transactions !== null) {
        const outcome = await this.transactions.end(control.request);
        this.post({ type: "transaction", ref: control.ref, outcome });
      }
    }
  }

  /**
   * Sends a batch. A batch refused for a record's size is halved until the record is alone; a batch refused for a
   * topic is split by topic until the topic is known. What Kafka refuses is reported as rejected (its id zeroed in
   * `ids`) so the rest still goes out. False after a fatal error.
   */
  private async deliver(messages: OutMessage[], ids: Uint32Array): Promise<boolean> {
    const outcome = await this.send(messages);
    if (outcome === "sent") return true;
    if (outcome === "fatal") return false;
    if (isTopicRefusal(outcome)) {
      const topics = [...new Set(messages.map((m) => m.topic))];
      const named = outcome.topic !== undefined && topics.includes(outcome.topic) ? outcome.topic : topics.length === 1 ? topics[0]! : null;
      if (named === null) return this.deliverByTopic(messages, ids, topics);
      const reason = topicRefusalReason(outcome);
      this.transactions?.doom(`an output to ${named} was refused: ${reason}`);
      this.log.warn("Kafka refused an output topic; the inputs of its records go to the dead-letter topic", {
        topic: named,
        error: reason,
      });
      const rejection: Failure = {
        kind: outcome.kind,
        message: `output topic ${JSON.stringify(named)}: ${reason}`,
        retriable: false,
        topic: named,
      };
      const rest: OutMessage[] = [];
      const restIds: number[] = [];
      messages.forEach((message, i) => {
        if (message.topic !== named) {
          rest.push(message);
          restIds.push(ids[i]!);
          return;
        }
        this.post({ type: "rejected", id: ids[i]!, failure: rejection });
        ids[i] = REJECTED;
      });
      if (rest.length === 0) return true;
      const sent = Uint32Array.from(restIds);
      const ok = await this.deliver(rest, sent);
      // ids zeroed inside the retry (rejected later) must be zeroed here too
      let at = 0;
      for (let i = 0; i < ids.length; i++) if (ids[i] !== REJECTED) ids[i] = sent[at++]!;
      return ok;
    }
    if (messages.length === 1) {
      const { topic } = messages[0]!;
      this.transactions?.doom(`an output to ${topic} was refused for its size`);
      this.log.warn("Kafka refused an output record for its size; its input goes to the dead-letter topic", {
        topic,
        error: outcome.message,
      });
      this.post({
        type: "rejected",
        id: ids[0]!,
        failure: { kind: "too-large", message: `${topic}: ${outcome.message}`, retriable: false, topic },
      });
      ids[0] = REJECTED;
      return true;
    }
    const half = messages.length >>> 1;
    return (await this.deliver(messages.slice(0, half), ids.subarray(0, half))) && this.deliver(messages.slice(half), ids.subarray(half));
  }

  /** The refusal did not say which topic: one batch per topic finds out. */
  private async deliverByTopic(messages: OutMessage[], ids: Uint32Array, topics: readonly string[]): Promise<boolean> {
    for (const topic of topics) {
      const positions = messages.flatMap((m, i) => (m.topic === topic ? [i] : []));
      const groupIds = Uint32Array.from(positions.map((i) => ids[i]!));
      if (
        !(await this.deliver(
          positions.map((i) => messages[i]!),
          groupIds,
        ))
      )
        return false;
      positions.forEach((position, j) => {
        ids[position] = groupIds[j]!;
      });
    }
    return true;
  }

  /** Output frames up to the next control frame (which ends the batch, and is returned with it). */
  private takeBatch(): { messages: OutMessage[]; ids: Uint32Array; control: { ref: number; request: TransactionControl } | null } {
    const messages: OutMessage[] = [];
    const ids: number[] = [];
    let control: { ref: number; request: TransactionControl } | null = null;
    let view: DataView | null = null;
    let batchBuffer: Buffer | null = null;
    // One copy out of the ring per batch, as a Buffer: every key, value and header decoded from it is a Buffer view,
    // which is what the client takes (no per-field wrapping).
    this.reader.drainBatch(
      MAX_BATCH_BYTES,
      (batch, start) => {
        if (batchBuffer === null || batchBuffer.buffer !== batch.buffer) {
          batchBuffer = Buffer.from(batch.buffer, batch.byteOffset, batch.byteLength);
          view = new DataView(batch.buffer, batch.byteOffset, batch.byteLength);
        }
        const record = decodeRecordAt(batchBuffer, view!, start);
        if (record.kind === "control") {
          control = { ref: record.ref, request: JSON.parse(textDecoder.decode(record.value ?? new Uint8Array(0))) as TransactionControl };
          return;
        }
        const size = recordBytes(record.key, record.value, record.headers);
        if (size > this.maxMessageBytes) {
          const message = `${record.topic}: the output record (${size} bytes) is larger than --max-message-bytes (${this.maxMessageBytes})`;
          this.transactions?.doom(message);
          this.post({ type: "rejected", id: record.ref, failure: { kind: "too-large", message, retriable: false, topic: record.topic } });
          return;
        }
        // Keys are Buffer objects, so repeated header names stay separate entries, in order.
        const headers = new Map<Buffer, Buffer>();
        for (const [name, value] of record.headers) headers.set(name as Buffer, value as Buffer);
        const message: OutMessage = {
          topic: record.topic,
          key: record.key === null ? undefined : (record.key as Buffer),
          // null, not undefined: a null value is a tombstone (or a dead-lettered null record), and the client
          // rejects a message without the property
          value: record.value as Buffer,
          headers,
        };
        if (record.partition >= 0) message.partition = record.partition;
        messages.push(message);
        ids.push(record.ref);
      },
      { maxFrames: MAX_BATCH_RECORDS, endsBatch: isControlFrame },
    );
    this.reader.release();
    return { messages, ids: Uint32Array.from(ids), control };
  }

  /**
   * Retries until Kafka acknowledged the whole batch, refused it for a record's size or for a topic a handler
   * chose, or a fatal error.
   */
  private async send(messages: OutMessage[]): Promise<"sent" | "fatal" | Failure> {
    for (let attempt = 0; ; attempt++) {
      try {
        if (this.transactions !== null) await this.transactions.send(messages);
        else await this.producer.send({ messages });
        if (attempt > 0) this.log.info("produce recovered", { attempts: attempt + 1 });
        this.delivered = true;
        return "sent";
      } catch (error) {
        const failure = classify(error);
        if (failure.kind === "too-large") return failure;
        const refused = isTopicRefusal(failure);
        const configured =
          refused &&
          (failure.topic !== undefined
            ? this.configuredTopics.has(failure.topic)
            : messages.every((m) => this.configuredTopics.has(m.topic)));
        if (refused && !configured) return failure;
        if (this.transactions !== null && !refused && (failure.retriable || transactionEndedBy(error) !== null)) {
          // Sending the batch again would give it new sequence numbers: if the broker took the first attempt
          // (a connection lost after the write), the transaction would hold it twice. It is aborted instead, at
          // its commit, and the main thread replays it.
          this.transactions.doom(transactionEndedBy(error) ?? `a produce failed and may or may not have been written (${failure.message})`);
          return "sent";
        }
        // a configured topic deleted while running is waited for (and reported); missing at start it is fatal
        if (!failure.retriable && !(this.delivered && refused)) {
          this.failedFatally = true;
          this.post({ type: "fatal", failure });
          return "fatal";
        }
        const delay = backoffMs(attempt, 200, 10_000);
        this.log.warn("produce failed; retrying the batch", {
          error: describeError(error),
          records: messages.length,
          attempt: attempt + 1,
          retryInMs: delay,
        });
        await sleep(delay);
      }
    }
  }
}
