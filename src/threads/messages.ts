/** Messages between the main thread and the Kafka Workers. Records never travel here: they go through rings. */
import type { RingBuffers } from "./byte-ring.ts";
import type { LogLevel } from "../observability/logger.ts";
import type { Failure } from "../kafka/errors.ts";
import type { OAuthTokenSource } from "../kafka/oauth-token.ts";

export type { Failure, FailureKind } from "../kafka/errors.ts";

export interface ClientSettings {
  readonly brokers: readonly string[];
  readonly clientId: string;
  readonly logLevel: LogLevel;
  /** TLS and SASL; absent = plaintext without authentication. */
  readonly security?: ClientSecurity;
}

/**
 * Connection security as plain data (it is structured-cloned to the Workers): PEM CONTENTS, not paths, read once
 * by the main thread. Holds secrets (password, private key, token command): never log it. An OAUTHBEARER token is
 * the exception: it changes while running, so each thread reads it itself from its source.
 */
export interface ClientSecurity {
  /** Present = TLS; the broker certificate is always verified. */
  readonly tls?: {
    /** PEM CA certificate(s); absent = the runtime's built-in CAs. */
    readonly ca?: string;
    /** PEM client certificate and its private key, for mutual TLS. */
    readonly cert?: string;
    readonly key?: string;
    /** SNI and certificate host name check; absent = the broker address. */
    readonly serverName?: string;
  };
  readonly sasl?:
    | {
        readonly mechanism: "PLAIN" | "SCRAM-SHA-256" | "SCRAM-SHA-512";
        readonly username: string;
        readonly password: string;
      }
    | { readonly mechanism: "OAUTHBEARER"; readonly token: OAuthTokenSource };
}

export interface ConsumerSettings extends ClientSettings {
  readonly groupId: string;
  readonly topics: readonly string[];
  readonly offsetReset: "earliest" | "latest";
  readonly groupProtocol: "classic" | "consumer";
  /** Static membership id of this consumer (already suffixed with its slot); absent = dynamic member. */
  readonly groupInstanceId?: string;
  readonly sessionTimeoutMs: number;
  /** How long the main thread may take to finish and commit partitions being revoked. */
  readonly revokeTimeoutMs: number;
  readonly rebalanceTimeoutMs: number;
  readonly heartbeatIntervalMs: number;
  readonly maxMessageBytes: number;
  /**
   * Test fault injection, filled by the main thread (from PROCESSOR_FAULT_CRASH_CONSUMER) only in the test build
   * (PROCESSOR_FAULT_INJECTION); absent otherwise. See kafka/fault-injection.ts.
   */
  readonly faults?: ConsumerFaults;
}

export interface ConsumerFaults {
  /** Die with an uncaught error after writing this many records. */
  readonly crashAfterRecords: number;
}

export type ProducerSettings = ClientSettings & {
  /** Exactly-once mode: this producer's transactional id (absent: at-least-once, idempotent only). */
  readonly transactionalId?: string;
  /** Exactly-once mode: the broker aborts a transaction left open this long; also the request timeout. */
  readonly transactionTimeoutMs?: number;
  /** Outputs larger than this (key + value + headers) are refused before sending: their input is dead-lettered. */
  readonly maxMessageBytes: number;
  /**
   * The configured output and dead-letter topics: one of them missing is a configuration problem (fatal at
   * start, waited for once running). Any other topic a handler names that Kafka does not have, or refuses, costs
   * only that record: it goes to the dead-letter topic.
   */
  readonly configuredTopics: readonly string[];
};

export interface CommitOffset {
  readonly topic: string;
  readonly partition: number;
  readonly offset: number;
}

/**
 * A consumer's place in its group, which a transaction's offsets are sent with (KIP-447): the group coordinator
 * refuses them from a member that is no longer in the group or is behind its generation (a zombie).
 */
export interface GroupMember {
  readonly groupId: string;
  readonly generationId: number;
  readonly memberId: string;
  readonly groupInstanceId: string | null;
  /** The group coordinator's node id: where the transaction's offsets go. */
  readonly coordinatorId: number;
}

/** Exactly-once mode: what a `control` frame asks its producer to do at that point of its ring. */
export type TransactionControl =
  /** Commit the open transaction with these input offsets, sent per consumer with its group metadata. */
  | { readonly type: "commit"; readonly groups: ReadonlyArray<{ readonly member: GroupMember; readonly offsets: readonly CommitOffset[] }> }
  /** Abort the open transaction: everything before this frame is thrown away. */
  | { readonly type: "abort" };

/** How a transaction a control frame ended came out (`failure`: it was aborted). */
export type TransactionOutcome = { readonly committed: true } | { readonly committed: false; readonly failure: Failure };

export type ToConsumer =
  | { readonly type: "init"; readonly owner: number; readonly ring: RingBuffers; readonly settings: ConsumerSettings }
  | { readonly type: "commit"; readonly requestId: number; readonly offsets: readonly CommitOffset[] }
  /** Start fetching: every consumer of the process has joined the group. */
  | { readonly type: "go" }
  /** The partitions of a `revoking` request are finished and committed (or given up): release them. */
  | { readonly type: "revoke-done"; readonly requestId: number }
  /** Flow control (--max-uncommitted): stop or start fetching these partitions; the rest go on. */
  | { readonly type: "flow"; readonly paused: boolean; readonly partitions: ReadonlyArray<{ topic: string; partition: number }> }
  /**
   * Exactly-once mode, after an aborted transaction: read every owned partition again from the group's committed
   * offsets. An assignment frame marked `refetched` goes into the ring before the first record read again.
   */
  | { readonly type: "refetch"; readonly round: number }
  /** Stop fetching but stay in the group, so the last commits still count. */
  | { readonly type: "stop" }
  /** Leave the group and exit. */
  | { readonly type: "close" };

export type FromConsumer =
  | { readonly type: "joined"; readonly owner: number }
  /** The member's group metadata changed (a join): exactly-once mode sends offsets with it. */
  | { readonly type: "member"; readonly member: GroupMember; readonly epoch: number }
  /** The group is rebalancing: a good moment to commit what is done before partitions move. */
  | { readonly type: "rebalancing"; readonly owner: number }
  /**
   * The group is taking these partitions away (commit on revoke): the consumer holds them until the main thread
   * answers `revoke-done`. Records of them still in the ring or read later are stale from now on.
   */
  | {
      readonly type: "revoking";
      readonly requestId: number;
      readonly at: number;
      readonly partitions: ReadonlyArray<{ topic: string; partition: number }>;
      /** The member's group metadata now (the revocation may come before the join event that announces it). */
      readonly member: GroupMember | null;
      /** The assignment epoch `member` is valid from. */
      readonly epoch: number;
    }
  | { readonly type: "commit-result"; readonly requestId: number; readonly committed: readonly CommitOffset[]; readonly failure?: Failure }
  | { readonly type: "fatal"; readonly failure: Failure }
  /** Records between the committed offset and the end of each owned partition. */
  | { readonly type: "lag"; readonly entries: ReadonlyArray<{ topic: string; partition: number; lag: number }> }
  /** The record stream failed and is being re-created (null: it works again). Not a broker problem by itself. */
  | { readonly type: "stream"; readonly failure: Failure | null; readonly failures: number }
  /** Whether this consumer currently has its broker connections (false after a disconnect, until a reconnect). */
  | { readonly type: "broker"; readonly connected: boolean }
  | { readonly type: "closed" };

export type ToProducer =
  /** `checkTopics`: topics that must exist before anything starts (one Worker checks, so the main thread needs no Kafka client). */
  | {
      readonly type: "init";
      readonly index: number;
      readonly ring: RingBuffers;
      readonly settings: ProducerSettings;
      readonly checkTopics: readonly string[];
      readonly watchdog?: { readonly beats: SharedArrayBuffer; readonly timeoutMs: number };
    }
  | { readonly type: "close" };

export type FromProducer =
  | { readonly type: "ready"; readonly index: number }
  /** Delivery ids (the `ref` of each output frame) acknowledged by Kafka. */
  | { readonly type: "delivered"; readonly ids: Uint32Array; readonly sendMs: number }
  | { readonly type: "fatal"; readonly failure: Failure }
  /**
   * Kafka (or --max-message-bytes) refused this one output for good: the main thread dead-letters its input.
   * `failure.message` is the dead-letter reason.
   */
  | { readonly type: "rejected"; readonly id: number; readonly failure: Failure }
  /** Exactly-once mode: how the transaction a control frame ended came out (`failure` set: aborted). */
  | { readonly type: "transaction"; readonly ref: number; readonly outcome: TransactionOutcome }
  | { readonly type: "closed" };

/**
 * Every partition the consumer owns from now on. The frame's timestamp is when the consumer got it: a claim
 * older than another consumer's claim of the same partition is stale (rings are read in no global order).
 */
export interface AssignmentChange {
  readonly partitions: ReadonlyArray<{ readonly topic: string; readonly partition: number }>;
  /**
   * Exactly-once mode: the partitions are read again from their committed offsets, for this refetch round (the
   * latest one the consumer had been asked for; see `refetch`).
   */
  readonly refetched?: number;
}
