// The EventBus port: what services publish and consume through, whatever the broker client. No
// client type crosses it (a second adapter, e.g. the in-memory one of @authority/test-helpers,
// implements it without touching a service); the kafkajs adapter maps to and from these types.

/**
 * Record headers as consumed: a name → its value (bytes from the broker, a string when a producer
 * in-process set one), or every value in order when the name repeats.
 */
export type EventHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

export interface EventMessage {
  /** Partitioning key (the tenant, or tenant/id for compacted topics). */
  key: string | Buffer | null;
  /** null = tombstone (deletes the key from a compacted topic). */
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: EventHeaders;
  /** Producer (or log-append) time, ms epoch as a decimal string. */
  timestamp: string;
}

export type MessageHandler = (message: ConsumedMessage) => Promise<void> | void;

/** The records of one partition fetched together, in offset order. */
export interface ConsumedBatch {
  topic: string;
  partition: number;
  messages: readonly ConsumedMessage[];
  /** The partition's high-water mark when fetched (offset of the next record to be written). */
  highWatermark: string;
}

/**
 * One batch with what its handler may do while processing it. Offsets move only through
 * `commit`: a handler that returns (or throws) without committing gets the batch again, from the
 * last committed offset, on this member or whichever owns the partition next.
 */
export interface BatchContext {
  batch: ConsumedBatch;
  /** Tells the group this member is alive (call it between long steps; cheap when not due). */
  heartbeat(): Promise<void>;
  /**
   * True when the batch must not be committed any more: the consumer is stopping, or a rebalance
   * or seek moved the partition's position (another member may be processing these records).
   */
  isStale(): boolean;
  /** Commits the partition's position after `offset` (a record of this batch) for the group. */
  commit(offset: string): Promise<void>;
}

export type BatchHandler = (batch: BatchContext) => Promise<void>;

/** Consumer settings, whatever the client (each adapter maps them; absent: the adapter's default). */
export interface ConsumerTuning {
  /** The group evicts a member not heard from for this long (ms). */
  sessionTimeoutMs?: number;
  heartbeatIntervalMs?: number;
  /** How long the group waits for members to rejoin in a rebalance (ms). */
  rebalanceTimeoutMs?: number;
  /** Longest wait of one fetch for new records (ms): also bounds shutdown and lastFetchAt() staleness. */
  maxWaitTimeMs?: number;
  maxBytesPerPartition?: number;
  maxBytes?: number;
  /** Retries of a failed consumer operation before it counts as a crash, and the first backoff (ms). */
  retries?: number;
  initialRetryTimeMs?: number;
}

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /** Per message, committed automatically; runs inside a CONSUMER span whose parent is the producer's context. */
  eachMessage?: (message: ConsumedMessage) => Promise<void>;
  /** Per batch (one partition); the handler commits through BatchContext.commit after durable work. */
  eachBatch?: BatchHandler;
  /** Batches of different partitions handled at the same time (default 1). */
  partitionsConsumedConcurrently?: number;
  /** Restarts allowed within `restartWindowMs` before the crash is fatal (default 5 in 5 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  consumer?: ConsumerTuning;
}

/**
 * A consumer's lifecycle, whatever the client: `fetch` when a fetch round-trip returned,
 * `rebalanced` when this member (re)joined its group and got its partitions (offsets and any
 * per-partition state may have moved), `crash` when the consumer failed (restarted or not), `stop`
 * when it stopped consuming, `disconnect` when it left the broker.
 */
export type ConsumerEvent = 'fetch' | 'rebalanced' | 'crash' | 'stop' | 'disconnect';

export interface ConsumerHandle {
  groupId: string;
  /** Calls the listener on each such event; returns the function that removes it. */
  on(event: ConsumerEvent, listener: () => void): () => void;
  /** When the last fetch round-trip returned (ms epoch); staleness checks use it. */
  lastFetchAt(): number | undefined;
  /**
   * Consumer lag of each partition assigned to this consumer: the high-water mark minus the next
   * offset to process (after the last processed batch or committed offset). High-water marks come
   * from fetched batches and, when older than a few seconds (idle or stuck consumer), from the
   * broker; an unknown position from the group's committed offset. Empty before the group join
   * and after disconnect. KafkaEventBus.observeConsumerLag exports it as a metric.
   */
  lag(): Promise<PartitionLag[]>;
  disconnect(): Promise<void>;
}

/** One partition's consumer lag (see ConsumerHandle.lag). */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The consumer group, or `<clientId>.catchup` for catchUp's generated groups (a stable metric label). */
  group: string;
  /** The partition's high-water mark (offset of the next record to be written). */
  highWatermark: string;
  /** The next offset this consumer will process. */
  position: string;
  /** highWatermark − position (at least 0), in offsets. */
  lag: number;
}

export interface CatchUpOptions {
  topics: string[];
  /**
   * Default (recommended): a unique group per call, deleted on disconnect. Never commits, so
   * every start replays from the beginning. A given groupId must still be unique to this
   * process: a shared group would split the partitions and never reach every target.
   */
  groupId?: string;
  consumer?: ConsumerTuning;
}

export interface CatchUpHandle extends ConsumerHandle {
  /** Resolves once every partition reached the high-water mark captured at start. */
  caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  /** The high-water marks captured at start, `topic:partition` → offset. */
  targets: ReadonlyMap<string, string>;
}

/** Publishing and subscribing as services see it (a broker client's adapter is behind this). */
export interface EventBus {
  /** Resolves when every message is acknowledged by all in-sync replicas (acks=all). */
  publish(topic: string, messages: EventMessage[]): Promise<void>;
  consume(opts: ConsumeOptions): Promise<ConsumerHandle>;
  catchUp(opts: CatchUpOptions, handler: MessageHandler): Promise<CatchUpHandle>;
  disconnect(): Promise<void>;
}
