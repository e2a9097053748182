/**
 * Exactly-once mode: one transactional producer. Outputs go into the open transaction; a `commit` control adds
 * the input offsets, sent with each consumer's group metadata so the group coordinator refuses a zombie's
 * (KIP-447), and commits; an `abort` control throws the transaction away.
 *
 * A transaction is doomed once something it was meant to hold did not go in (an output Kafka refused, a produce
 * the broker no longer takes under this producer epoch): it can then only be aborted. A commit whose outcome
 * is unknown (the broker unreachable) is retried until the broker says committed, or says the transaction is
 * gone (aborted on timeout, or fenced by a newer producer with this transactional id). Aborting ends in a new
 * producer when it must: initialising the transactional id again aborts whatever is still open under it.
 */
import type { MessageToProduce, Producer } from "@platformatic/kafka";
import type { Logger } from "../observability/logger.ts";
import type { CommitOffset, GroupMember, TransactionControl, TransactionOutcome } from "../threads/messages.ts";
import { backoffMs, classify, describeError, sleep } from "./errors.ts";

type OutMessage = MessageToProduce<Buffer, Buffer, Buffer, Buffer>;
type AnyProducer = Producer<Buffer, Buffer, Buffer, Buffer>;
/** The client does not export its Transaction class by name. */
type AnyTransaction = Awaited<ReturnType<AnyProducer["beginTransaction"]>>;

/** Errors that mean the broker will not take this transaction any further: it can only be aborted. */
const TRANSACTION_GONE = new Set([
  "PRODUCER_FENCED",
  "INVALID_PRODUCER_EPOCH",
  "INVALID_TXN_STATE",
  "TRANSACTIONAL_ID_NOT_FOUND",
  "INVALID_PRODUCER_ID_MAPPING",
  "TRANSACTION_ABORTABLE",
  "OUT_OF_ORDER_SEQUENCE_NUMBER",
  "UNKNOWN_PRODUCER_ID",
]);
/** The group coordinator refused the offsets for this member: it is a zombie, or the group moved on. */
const MEMBER_REFUSED = new Set(["ILLEGAL_GENERATION", "UNKNOWN_MEMBER_ID", "FENCED_INSTANCE_ID", "REBALANCE_IN_PROGRESS"]);

function apiIdIn(error: unknown, ids: ReadonlySet<string>, depth = 0): string | null {
  if (depth > 8 || typeof error !== "object" || error === null) return null;
  const e = error as { apiId?: unknown; errors?: unknown; cause?: unknown };
  if (typeof e.apiId === "string" && ids.has(e.apiId)) return e.apiId;
  if (Array.isArray(e.errors))
    for (const inner of e.errors) {
      const found = apiIdIn(inner, ids, depth + 1);
      if (found !== null) return found;
    }
  return e.cause === undefined ? null : apiIdIn(e.cause, ids, depth + 1);
}

/** Why a produce or commit error ends the transaction (it can only be aborted), or null. */
export function transactionEndedBy(error: unknown): string | null {
  const gone = apiIdIn(error, TRANSACTION_GONE);
  if (gone !== null) return `the broker no longer accepts this transaction (${gone})`;
  const refused = apiIdIn(error, MEMBER_REFUSED);
  if (refused !== null)
    return `the group coordinator refused the offsets of this member (${refused}): it is no longer in the group's current generation`;
  return null;
}

const aborted = (message: string): TransactionOutcome => ({ committed: false, failure: { kind: "transaction", message, retriable: true } });

export class TransactionalSender {
  private producer: AnyProducer;
  private transaction: AnyTransaction | null = null;
  private doomedBy: string | null = null;

  constructor(
    private readonly createProducer: () => AnyProducer,
    private readonly log: Logger,
  ) {
    this.producer = createProducer();
  }

  get client(): AnyProducer {
    return this.producer;
  }

  /** Whether the open transaction can only be aborted. */
  get doomed(): boolean {
    return this.doomedBy !== null;
  }

  /**
   * Registers the transactional id with its coordinator (InitProducerId): a predecessor's open transaction is
   * aborted now and it is fenced. Retried until it works.
   */
  async start(): Promise<void> {
    await this.open();
  }

  /** Something meant for this transaction did not go in: it will be aborted at its end. */
  doom(reason: string): void {
    if (this.doomedBy === null) this.log.warn("transaction doomed: it will be aborted and its records processed again", { reason });
    this.doomedBy ??= reason;
  }

  /** Sends into the open transaction (one is begun if none is open). Errors are the caller's to sort. */
  async send(messages: OutMessage[]): Promise<void> {
    const transaction = await this.open();
    await transaction.send({ messages });
  }

  async end(control: TransactionControl): Promise<TransactionOutcome> {
    if (control.type === "abort") {
      await this.abort("asked by the main thread");
      return aborted("aborted on request");
    }
    if (this.doomedBy !== null) {
      const reason = this.doomedBy;
      await this.abort(reason);
      return aborted(reason);
    }
    try {
      const transaction = await this.open();
      for (const { member, offsets } of control.groups) await this.addOffsets(transaction, member, offsets);
      await this.commit(transaction);
      this.transaction = null;
      return { committed: true };
    } catch (error) {
      const reason = transactionEndedBy(error) ?? describeError(error);
      await this.abort(reason);
      return aborted(reason);
    }
  }

  async close(): Promise<void> {
    if (this.transaction !== null) await this.abort("closing");
    await this.producer.close().catch((error: unknown) => this.log.warn("producer close failed", { error: describeError(error) }));
  }

  /** The open transaction, begun (and the producer initialised) if needed; retried while the broker is away. */
  private async open(): Promise<AnyTransaction> {
    for (let attempt = 0; ; attempt++) {
      if (this.transaction !== null) return this.transaction;
      try {
        this.transaction = await this.producer.beginTransaction();
        if (attempt > 0) this.log.info("transactional producer ready again", { attempts: attempt + 1 });
        return this.transaction;
      } catch (error) {
        const ended = transactionEndedBy(error);
        if (ended === null && !classify(error).retriable) throw error;
        const delay = backoffMs(attempt, 200, 5_000);
        this.log.warn("could not begin a transaction; retrying", { error: describeError(error), retryInMs: delay });
        // a fenced producer is replaced: initialising the transactional id again is what recovers it
        if (ended !== null) await this.replaceProducer();
        await sleep(delay);
      }
    }
  }

  /** The group joins the transaction (AddOffsetsToTxn), then its offsets go in one TxnOffsetCommit (patched client). */
  private async addOffsets(transaction: AnyTransaction, member: GroupMember, offsets: readonly CommitOffset[]): Promise<void> {
    const group = { groupId: member.groupId } as Parameters<AnyTransaction["addConsumer"]>[0];
    await this.retrying("add the group to the transaction", () => transaction.addConsumer(group));
    const next = offsets.map(({ topic, partition, offset }) => ({ topic, partition, offset: BigInt(offset) }));
    await this.retrying("add offsets to the transaction", () => transaction.addOffsets(member, next));
  }

  /** EndTxn(commit) until the broker answers: a commit whose outcome is unknown must not be replayed. */
  private commit(transaction: AnyTransaction): Promise<void> {
    return this.retrying("commit the transaction", () => transaction.commit());
  }

  /** Retries an operation whose errors are transient; rethrows one that ends the transaction or no retry fixes. */
  private async retrying(what: string, operation: () => Promise<unknown>): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        await operation();
        return;
      } catch (error) {
        if (transactionEndedBy(error) !== null) throw error;
        const failure = classify(error);
        if (!failure.retriable) throw error;
        const delay = backoffMs(attempt, 100, 5_000);
        this.log.warn(`could not ${what}; retrying`, { error: describeError(error), attempt: attempt + 1, retryInMs: delay });
        await sleep(delay);
      }
    }
  }

  /** Ends the open transaction without committing it; a producer that cannot abort is replaced (which aborts). */
  private async abort(reason: string): Promise<void> {
    const transaction = this.transaction;
    this.transaction = null;
    this.doomedBy = null;
    if (transaction === null) return;
    this.log.warn("aborting the transaction", { reason });
    await transaction
      .abort()
      .catch((error: unknown) =>
        this.log.warn("abort refused; the new producer's registration aborts it", { error: describeError(error) }),
      );
    // Always a new producer, registered again under the same transactional id: that aborts whatever is still
    // open, and starts its sequence numbers afresh (after a lost batch the old ones are out of order for good).
    await this.replaceProducer();
    await this.open();
  }

  private async replaceProducer(): Promise<void> {
    const old = this.producer;
    this.transaction = null;
    this.producer = this.createProducer();
    await old.close().catch(() => undefined);
  }
}
