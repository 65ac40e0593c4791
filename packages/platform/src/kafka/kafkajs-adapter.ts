// The kafkajs adapter of the EventBus port: a batching producer (acks=all, not idempotent: publish-queue.ts),
// crash-bounded consumers with their lag, catch-up replay of compacted topics to the high-water
// mark. The translations to and from the port's types are in kafkajs-mapping.ts, the security
// options in kafkajs-security.ts.
import { randomId } from '@authority/core';
import { SpanKind, type Attributes, type Meter } from '@opentelemetry/api';
import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Admin,
  type Consumer,
  type ConsumerConfig,
  type EachMessagePayload,
  type KafkaConfig,
  type Producer,
} from 'kafkajs';
import { retryKafka } from '../kafka-retry';
import { type Logger } from '../logger';
import { METRIC_NAMES, withSpan } from '../telemetry';
import { type BatchSender, BatchingPublisher, type BatchingPublisherOptions } from './batching-publisher';
import { extractTraceContext } from './cloudevents';
import {
  KAFKAJS_CONSUMER_EVENTS,
  kafkaLogCreator,
  kafkajsBatchHandler,
  kafkajsConsumerConfig,
  toConsumed,
} from './kafkajs-mapping';
import { kafkaSecurityFromConfig, type KafkaSecurityConfig } from './kafkajs-security';
import { CatchUpProgress } from './catch-up-progress';
import { ConsumerLagTracker } from './lag-tracker';
import {
  type CatchUpHandle,
  type CatchUpOptions,
  type ConsumeOptions,
  type ConsumerHandle,
  type EventBus,
  type EventMessage,
  type MessageHandler,
  type PartitionLag,
} from './port';
import { KAFKA_PRODUCER_SETTINGS } from './publish-queue';
import { type TopicSpec, ensureTopics } from './topics';

export interface CreateKafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Called when a consumer crashed for good (no restart left); default: log fatal and exit(70). */
  onFatal?: (err: Error) => void;
  publisher?: BatchingPublisherOptions;
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
  /** kafkajs connection timeout (default 3 s) and request timeout (default 30 s). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/** kafkajs behind the EventBus port, plus the admin and lifecycle operations services need. */
export class KafkaEventBus implements EventBus {
  readonly kafka: Kafka;
  readonly publisher: BatchingPublisher;
  private readonly producer: Producer;
  private producerConnected: Promise<void> | undefined;
  private readonly consumers = new Set<ConsumerHandle>();
  private readonly onFatal: (err: Error) => void;
  /** A connected admin client kept for consumer-lag refreshes (closed with the consumers). */
  private lagAdmin: Promise<Admin> | undefined;

  constructor(private readonly opts: CreateKafkaOptions) {
    const logger = opts.logger.child({ component: 'kafka' });
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      logLevel: KafkaLogLevel.INFO,
      logCreator: kafkaLogCreator(logger),
      // Copies: kafkajs adds its authentication provider (a function) to the SASL options it is
      // given, and the caller's objects may be handed on (the enforcer's producer thread clones them).
      ...(opts.ssl !== undefined ? { ssl: typeof opts.ssl === 'object' ? { ...opts.ssl } : opts.ssl } : {}),
      ...(opts.sasl !== undefined ? { sasl: { ...opts.sasl } } : {}),
    });
    // The producer settings of every producer (publish-queue.ts: not idempotent, no kafkajs
    // retries; PublishQueue resends a failed request whole, issue 14, docs/operations.md).
    this.producer = this.kafka.producer({
      ...KAFKA_PRODUCER_SETTINGS,
      retry: { ...KAFKA_PRODUCER_SETTINGS.retry },
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const sender: BatchSender = {
      sendBatch: async (batch) => {
        await this.connectProducer();
        return this.producer.sendBatch(batch);
      },
    };
    this.publisher = new BatchingPublisher(sender, { logger, ...opts.publisher });
    this.onFatal =
      opts.onFatal ??
      ((err) => {
        opts.logger.fatal({ err }, 'Kafka consumer crashed and will not restart; exiting');
        opts.logger.flush();
        process.exit(70);
      });
  }

  /** Connects the producer (call at start so a bad broker list fails fast). */
  connectProducer(): Promise<void> {
    this.producerConnected ??= this.producer.connect().catch((err: unknown) => {
      this.producerConnected = undefined;
      throw err;
    });
    return this.producerConnected;
  }

  publish(topic: string, messages: EventMessage[]): Promise<void> {
    return this.publisher.publish(topic, messages);
  }

  /**
   * Runs `fn` with a connected admin client, disconnecting afterwards. A retriable Kafka error
   * (a leader moved, a broker restarting) runs it again on a fresh client, with backoff
   * (retryKafka), so `fn` must be safe to repeat (reads, idempotent creates).
   */
  withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    return retryKafka(
      async () => {
        const admin = this.kafka.admin();
        await admin.connect();
        try {
          return await fn(admin);
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      {
        onRetry: (err, attempt, delayMs) =>
          this.opts.logger.warn({ err, attempt, retry_ms: delayMs }, 'kafka admin call failed (retriable); retrying'),
      },
    );
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<string[]> {
    return this.withAdmin((admin) => ensureTopics(admin, specs, this.opts.logger));
  }

  async consume(opts: ConsumeOptions): Promise<ConsumerHandle> {
    if (!opts.eachMessage === !opts.eachBatch) throw new Error('consume: pass exactly one of eachMessage or eachBatch');
    const { consumer, handle } = await this.startConsumer(opts.groupId, opts.topics, opts.fromBeginning ?? false, {
      ...(opts.maxRestarts !== undefined ? { maxRestarts: opts.maxRestarts } : {}),
      ...(opts.restartWindowMs !== undefined ? { restartWindowMs: opts.restartWindowMs } : {}),
      consumerConfig: kafkajsConsumerConfig(opts.consumer),
    });
    const eachMessage = opts.eachMessage;
    await consumer.run({
      // Per message: kafkajs commits what was processed; per batch: the handler commits.
      autoCommit: eachMessage !== undefined,
      ...(eachMessage ? {} : { eachBatchAutoResolve: false }),
      ...(opts.partitionsConsumedConcurrently
        ? { partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently }
        : {}),
      ...(eachMessage
        ? {
            eachMessage: async (payload: EachMessagePayload) => {
              const m = toConsumed(payload.topic, payload.partition, payload.message);
              await withSpan(
                `process ${payload.topic}`,
                {
                  kind: SpanKind.CONSUMER,
                  parentContext: extractTraceContext(payload.message.headers),
                  attributes: {
                    'messaging.system': 'kafka',
                    'messaging.operation.type': 'process',
                    'messaging.destination.name': payload.topic,
                    'messaging.destination.partition.id': String(payload.partition),
                    'messaging.kafka.offset': Number(payload.message.offset),
                    'messaging.consumer.group.name': opts.groupId,
                  },
                },
                () => eachMessage(m),
              );
            },
          }
        : { eachBatch: kafkajsBatchHandler(opts.eachBatch!) }),
    });
    return handle;
  }

  async catchUp(opts: CatchUpOptions, handler: MessageHandler): Promise<CatchUpHandle> {
    const groupId = opts.groupId ?? `${this.opts.clientId}.catchup.${randomId(6)}`;
    // Capture the high-water marks first: caught up = everything that existed at start applied.
    const targets = new Map<string, string>();
    await this.withAdmin(async (admin) => {
      for (const topic of opts.topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          if (BigInt(p.high) > BigInt(p.low)) targets.set(`${topic}:${p.partition}`, p.high);
        }
      }
    });
    const progress = new CatchUpProgress(targets);

    const { consumer, handle } = await this.startConsumer(groupId, opts.topics, true, {
      consumerConfig: kafkajsConsumerConfig(opts.consumer),
      ephemeralGroup: opts.groupId === undefined,
      onCrash: (err) => progress.crashed(err),
    });
    // Emitted after each processed batch, including batches made only of compacted-away or
    // control records, so a partition whose tail was filtered still reaches its target.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) =>
      progress.processed(e.payload.topic, e.payload.partition, e.payload.lastOffset),
    );
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        await handler(toConsumed(topic, partition, message));
      },
    });
    return { ...handle, caughtUp: progress.caughtUp, isCaughtUp: () => progress.isCaughtUp(), targets };
  }

  private async startConsumer(
    groupId: string,
    topicList: string[],
    fromBeginning: boolean,
    opts: {
      maxRestarts?: number;
      restartWindowMs?: number;
      consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
      onCrash?: (err: Error) => void;
      /** A generated group never reused: deleted on disconnect rather than left behind. */
      ephemeralGroup?: boolean;
    },
  ): Promise<{ consumer: Consumer; handle: ConsumerHandle }> {
    const maxRestarts = opts.maxRestarts ?? 5;
    const windowMs = opts.restartWindowMs ?? 5 * 60_000;
    const restarts: number[] = [];
    const logger = this.opts.logger.child({ component: 'kafka-consumer', group: groupId });
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // Short long-polls: disconnect waits for the current fetch, so this bounds shutdown time
      // (and lastFetchAt() stays fresh for staleness checks) at the cost of idle fetches.
      maxWaitTimeInMs: 1_000,
      ...opts.consumerConfig,
      retry: {
        retries: 5,
        ...opts.consumerConfig?.retry,
        // Bounded restarts: a wedged consumer must exit rather than look healthy forever.
        restartOnFailure: async (err: Error) => {
          const now = Date.now();
          while (restarts.length > 0 && restarts[0]! < now - windowMs) restarts.shift();
          restarts.push(now);
          const restart = restarts.length <= maxRestarts;
          logger.error({ err, restart, restarts_in_window: restarts.length }, 'Kafka consumer failed');
          return restart;
        },
      },
    });
    let lastFetch: number | undefined;
    let disconnected = false;
    consumer.on(consumer.events.FETCH, () => {
      lastFetch = Date.now();
    });
    const lag = new ConsumerLagTracker({
      groupId,
      group: opts.ephemeralGroup ? `${this.opts.clientId}.catchup` : groupId,
      fromBeginning,
      admin: () => this.sharedAdmin(),
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => lag.joined(e.payload.memberAssignment));
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) =>
      lag.processed(e.payload.topic, e.payload.partition, e.payload.lastOffset, e.payload.highWatermark),
    );
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => lag.committed(e.payload.topics));
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || disconnected) return;
      opts.onCrash?.(e.payload.error);
      this.onFatal(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: topicList, fromBeginning });
    const handle: ConsumerHandle = {
      groupId,
      on: (event, listener) => consumer.on(KAFKAJS_CONSUMER_EVENTS[event](consumer), () => listener()),
      lastFetchAt: () => lastFetch,
      lag: () => lag.lag(),
      disconnect: async () => {
        if (disconnected) return;
        disconnected = true;
        lag.close();
        this.consumers.delete(handle);
        await consumer.disconnect();
        if (opts.ephemeralGroup) {
          await this.withAdmin((admin) => admin.deleteGroups([groupId])).catch((err: unknown) =>
            logger.debug({ err }, 'could not delete the ephemeral consumer group'),
          );
        }
      },
    };
    this.consumers.add(handle);
    return { consumer, handle };
  }

  /** Shutdown phase "consumers": leave groups at once so partitions rebalance. */
  async stopConsumers(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    const admin = this.lagAdmin;
    this.lagAdmin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }

  private sharedAdmin(): Promise<Admin> {
    this.lagAdmin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((err: unknown) => {
      this.lagAdmin = undefined;
      throw err;
    });
    return this.lagAdmin;
  }

  /** The lag of every partition of every live consumer of this bus (see ConsumerHandle.lag). */
  async consumerLag(): Promise<PartitionLag[]> {
    const all = await Promise.all([...this.consumers].map((c) => c.lag().catch(() => [] as PartitionLag[])));
    return all.flat();
  }

  /**
   * Exports the lag of this bus's consumers as the observable gauge `authority.kafka.consumer.lag`
   * (offsets; attributes messaging.system, messaging.destination.name,
   * messaging.destination.partition.id, messaging.consumer.group.name), computed at each metric
   * collection. Returns a function that stops observing. Create it after startTelemetry (the
   * metrics API has no proxy: a meter taken before is a no-op forever).
   */
  observeConsumerLag(meter: Meter): () => void {
    const gauge = meter.createObservableGauge(METRIC_NAMES.consumerLag, {
      description: 'Records not yet processed by a consumer: high-water mark minus the next offset to process',
      unit: '{message}',
    });
    const callback = async (result: { observe(value: number, attributes?: Attributes): void }) => {
      for (const l of await this.consumerLag()) {
        result.observe(l.lag, {
          'messaging.system': 'kafka',
          'messaging.destination.name': l.topic,
          'messaging.destination.partition.id': String(l.partition),
          'messaging.consumer.group.name': l.group,
        });
      }
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  }

  /** Shutdown phase "producers": wait for pending publishes, then disconnect the producer. */
  async closeProducer(): Promise<void> {
    await this.publisher.close();
    if (this.producerConnected) {
      await this.producerConnected.catch(() => undefined);
      await this.producer.disconnect();
      this.producerConnected = undefined;
    }
  }

  async disconnect(): Promise<void> {
    await this.stopConsumers();
    await this.closeProducer();
  }
}

/** The kafkajs adapter of the EventBus port. */
export function createKafka(opts: CreateKafkaOptions): KafkaEventBus {
  return new KafkaEventBus(opts);
}

/** createKafka from the common config (client id defaults to the service name; TLS and SASL as configured). */
export function kafkaFromConfig(
  config: KafkaSecurityConfig & {
    KAFKA_BROKERS: string[];
    KAFKA_CLIENT_ID?: string | undefined;
    AUTHORITY_SERVICE_NAME: string;
  },
  opts: Omit<CreateKafkaOptions, 'brokers' | 'clientId' | 'ssl' | 'sasl'>,
): KafkaEventBus {
  return createKafka({
    ...opts,
    ...kafkaSecurityFromConfig(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? config.AUTHORITY_SERVICE_NAME,
  });
}
