/** Typed wrappers around the Kafka Workers: start them, talk to them, stop them. */
import type {
  FromConsumer,
  FromProducer,
  ToConsumer,
  ToProducer,
  CommitOffset,
  Failure,
  GroupMember,
  TransactionOutcome,
} from "./messages.ts";

export interface WorkerUrls {
  readonly consumer: URL;
  readonly producer: URL;
}

type Fatal = (failure: Failure) => void;

const COMMIT_TIMEOUT_MS = 30_000;

/**
 * What a commit through a consumer Worker came to. `failure` says why some offsets were not committed (kind
 * "rebalance": refused for the group's generation, retried under the new one).
 */
export interface CommitResult {
  readonly committed: readonly CommitOffset[];
  readonly failure?: Failure;
}

/** Commits offsets through a consumer Worker (assignable to the pipeline's CommitPort). */
export type CommitThroughWorker = (offsets: readonly CommitOffset[]) => Promise<CommitResult>;

const commitResult = (committed: readonly CommitOffset[], failure: Failure | undefined): CommitResult =>
  failure === undefined ? { committed } : { committed, failure };

class TypedWorker<In, Out extends { type: string }> {
  private readonly worker: Worker;
  private closedResolve: (() => void) | null = null;
  readonly closed: Promise<void>;

  constructor(url: URL, name: string, onMessage: (message: Out) => void, onFatal: Fatal) {
    this.worker = new Worker(url, { name });
    this.closed = new Promise((resolve) => (this.closedResolve = resolve));
    this.worker.onmessage = (event: MessageEvent<Out>) => {
      if (event.data.type === "closed") this.closedResolve?.();
      onMessage(event.data);
    };
    this.worker.onerror = (event: ErrorEvent) =>
      onFatal({ kind: "crashed", message: `${name} crashed: ${event.message}`, retriable: false });
  }

  send(message: In): void {
    this.worker.postMessage(message);
  }

  terminate(): void {
    this.worker.terminate();
  }
}

/** What a consumer Worker tells the supervisor. */
export interface ConsumerEvents {
  joined(owner: number): void;
  /** The member's group metadata changed (exactly-once mode commits offsets with it). */
  member(owner: number, member: GroupMember, epoch: number): void;
  rebalancing(owner: number): void;
  /** The group is taking partitions away: finish and commit them, then call `done` (see ConsumerLoop.onRevoke). */
  revoking(owner: number, partitions: ReadonlyArray<{ topic: string; partition: number }>, at: number, done: () => void): void;
  lag(owner: number, entries: ReadonlyArray<{ topic: string; partition: number; lag: number }>): void;
  broker(owner: number, connected: boolean): void;
  /** The record stream failed `failures` times in a row (null: it works again). */
  stream(owner: number, failure: Failure | null, failures: number): void;
  /** A condition no retry fixes, reported by the Worker. */
  fatal: Fatal;
  /** The Worker itself died (an uncaught error). */
  crashed: Fatal;
}

export class ConsumerWorker extends TypedWorker<ToConsumer, FromConsumer> {
  private nextRequest = 1;
  private readonly commits = new Map<number, (result: CommitResult) => void>();

  constructor(url: URL, owner: number, events: ConsumerEvents) {
    super(
      url,
      `consumer-${owner}`,
      (message) => {
        switch (message.type) {
          case "joined":
            return events.joined(message.owner);
          case "member":
            return events.member(owner, message.member, message.epoch);
          case "rebalancing":
            return events.rebalancing(message.owner);
          case "revoking": {
            const { requestId } = message;
            if (message.member !== null) events.member(owner, message.member, message.epoch);
            return events.revoking(owner, message.partitions, message.at, () => this.send({ type: "revoke-done", requestId }));
          }
          case "lag":
            return events.lag(owner, message.entries);
          case "broker":
            return events.broker(owner, message.connected);
          case "stream":
            return events.stream(owner, message.failure, message.failures);
          case "fatal":
            return events.fatal(message.failure);
          case "commit-result": {
            const resolve = this.commits.get(message.requestId);
            this.commits.delete(message.requestId);
            resolve?.(commitResult(message.committed, message.failure));
            return;
          }
          case "closed":
            return;
        }
      },
      events.crashed,
    );
  }

  /** Exactly-once mode, after an abort: read every owned partition again from its committed offset. */
  refetch(round: number): void {
    this.send({ type: "refetch", round });
  }

  /** Stops or restarts fetching of partitions (flow control). */
  flow(partitions: ReadonlyArray<{ topic: string; partition: number }>, paused: boolean): void {
    this.send({ type: "flow", paused, partitions });
  }

  /** A commit that gets no answer is given up after a while, so one stuck request cannot stop every later round. */
  readonly commit: CommitThroughWorker = (offsets) =>
    new Promise((resolve) => {
      const requestId = this.nextRequest++;
      const timer = setTimeout(() => {
        this.commits.delete(requestId);
        resolve(
          commitResult([], { kind: "timeout", message: `no answer from the consumer within ${COMMIT_TIMEOUT_MS} ms`, retriable: true }),
        );
      }, COMMIT_TIMEOUT_MS);
      this.commits.set(requestId, (result) => {
        clearTimeout(timer);
        resolve(result);
      });
      this.send({ type: "commit", requestId, offsets });
    });
}

/** What a producer Worker tells the supervisor. */
export interface ProducerEvents {
  onDelivered(ids: Uint32Array, sendMs: number): void;
  /** Kafka refused this output for good; `failure.message` is the dead-letter reason. */
  onRejected(id: number, failure: Failure): void;
  /** Exactly-once mode: how the transaction ended by control frame `ref` came out. */
  onTransaction(ref: number, outcome: TransactionOutcome): void;
  /** Connected, and the topics it was asked to check exist. */
  onReady(): void;
  onFatal: Fatal;
}

export class ProducerWorker extends TypedWorker<ToProducer, FromProducer> {
  constructor(url: URL, index: number, events: ProducerEvents) {
    const { onDelivered, onRejected, onReady, onFatal, onTransaction } = events;
    super(
      url,
      `producer-${index}`,
      (message) => {
        if (message.type === "delivered") onDelivered(message.ids, message.sendMs);
        else if (message.type === "ready") onReady();
        else if (message.type === "rejected") onRejected(message.id, message.failure);
        else if (message.type === "fatal") onFatal(message.failure);
        else if (message.type === "transaction") onTransaction(message.ref, message.outcome);
      },
      onFatal,
    );
  }
}
