// The EventBus port: what services publish and consume through, whatever the broker client.
import {
  type Consumer,
  type ConsumerConfig,
  type EachBatchHandler,
  type EachMessagePayload,
  type IHeaders,
} from 'kafkajs';

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
  headers: IHeaders;
  timestamp: string;
}

export type MessageHandler = (message: ConsumedMessage) => Promise<void> | void;

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /** Per message; runs inside a CONSUMER span that is a child of the producer's context. */
  eachMessage?: (message: ConsumedMessage, payload: EachMessagePayload) => Promise<void>;
  /** Per batch (kafkajs payload); the handler resolves offsets / commits itself. */
  eachBatch?: EachBatchHandler;
  /** Default true. With false, commit via `handle.consumer.commitOffsets` after durable work. */
  autoCommit?: boolean;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  /** Restarts allowed within `restartWindowMs` before the crash is fatal (default 5 in 5 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** Extra kafkajs consumer settings. */
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
}

/**
 * A consumer's lifecycle, whatever the client: `fetch` when a fetch round-trip returned,
 * `rebalanced` when this member (re)joined its group and got its partitions (offsets and any
 * per-partition state may have moved), `crash` when the consumer failed (restarted or not), `stop`
 * when it stopped consuming, `disconnect` when it left the broker.
 */
export type ConsumerEvent = 'fetch' | 'rebalanced' | 'crash' | 'stop' | 'disconnect';

export interface ConsumerHandle {
  consumer: Consumer;
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
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
}

export interface CatchUpHandle extends ConsumerHandle {
  /** Resolves once every partition reached the high-water mark captured at start. */
  caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  /** The high-water marks captured at start, `topic:partition` → offset. */
  targets: ReadonlyMap<string, string>;
}

/** Publishing and subscribing as services see it (kafkajs is behind this). */
export interface EventBus {
  /** Resolves when every message is acknowledged by all in-sync replicas (acks=all). */
  publish(topic: string, messages: EventMessage[]): Promise<void>;
  consume(opts: ConsumeOptions): Promise<ConsumerHandle>;
  catchUp(opts: CatchUpOptions, handler: MessageHandler): Promise<CatchUpHandle>;
  disconnect(): Promise<void>;
}
