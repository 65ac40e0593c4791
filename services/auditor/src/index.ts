// startAuditor(config): the whole auditor in-process (main.ts runs it under runService; tests and the
// end-to-end stack call it directly). Start order: gRPC server (NOT_SERVING) → MongoDB and indexes
// → Kafka topics and producer → credentials and policies replayed from `<prefix>keys` and
// `<prefix>policies` → unpublished checkpoints republished → the audit consumer joined its group →
// checkpoint timer → SERVING.
import { cryptoReady } from '@authority/core';
import {
  authorityTopicSpecs,
  connectMongo,
  kafkaFromConfig,
  createLogger,
  ServiceLifecycle,
  getMeter,
  startLateBoundGrpcServer,
  grpcServerSettings,
  topics as topicNames,
  type ConsumerHandle,
  type GrpcServerHandle,
  type KafkaEventBus,
  type Logger,
} from '@authority/platform';
import type { Meter } from '@opentelemetry/api';
import { loadAuthorityProto } from '@authority/proto';
import { startStateViews, type StateViews } from '@authority/views';
import type { MongoClient } from 'mongodb';
import { chainPublisher, checkpointPublisher } from './adapters/kafka';
import { ChainFeed } from './chain-feed';
import { ChainStore } from './adapters/mongo';
import { ChainAppender } from './appender';
import { Authenticator } from './auth';
import { Checkpointer } from './checkpoints';
import { trustedEventKeysFromConfig, type AuditorConfig } from './config';
import { AuditIngest } from './ingest';
import { AuditorKeys } from './keys';
import { AuditReader } from './reader';
import { observeChains, quarantineCounter } from './metrics';
import { ChainAdmin } from './chain-admin';
import { auditorHandlers } from './server';
import { AUDITOR_SCOPE } from './tracing';

export {
  auditorConfigChecks,
  auditorConfigSchema,
  checkTrustedEventKeys,
  trustedEventKeysFromConfig,
  AUDITOR_DEFAULT_PORT,
  type AuditorConfig,
} from './config';
export { AuditorKeys, auditorKeyId } from './keys';
export { ChainStore, INSERT_CHUNK, type EntryDoc, type CheckpointDoc, type RejectedDoc } from './adapters/mongo';
export { ChainAppender, type TenantState } from './appender';
export { Checkpointer } from './checkpoints';
export { AuditIngest } from './ingest';
export { AuditReader } from './reader';
export { verifyStored, toStoredEntry } from './verify';
export {
  admitRecord,
  admitSignedRecord,
  eventFields,
  QUARANTINE_CODES,
  type AdmittedEvent,
  type EventFields,
  type QuarantineCode,
} from './event-fields';
export { renderComplianceHtml, escapeHtml, idChunks } from './report/html';
export { classificationPattern, type ComplianceReport } from './report/model';
export { signedReportHtml, signedReportJson, type SignedComplianceReport } from './report/sign';
export { ChainAdmin, type ChainStatus } from './chain-admin';
export { observeChains, quarantineCounter } from './metrics';
export { AUDITOR_SCOPE, BatchTracing } from './tracing';

export const AUDITOR_SERVICE_NAME = 'authority.v1.AuditorService';

export interface StartAuditorOptions {
  logger?: Logger;
  /** Called when the audit consumer crashed for good (default: log fatal and exit, see platform). */
  onFatal?: (err: Error) => void;
  /** Injectable clock. */
  now?: () => Date;
  /** Run the periodic checkpoint timer (default true; tests may call `checkpointer.tick()`). */
  checkpointTimer?: boolean;
  /**
   * Where the auditor's metrics go (chain length, checkpoint age and pending entries per tenant,
   * consumer lag). Default: the global meter provider's `@authority/auditor` meter, as installed
   * by startTelemetry before the auditor starts (a no-op without telemetry).
   */
  meter?: Meter;
}

export interface RunningAuditor {
  /** The bound gRPC port. */
  port: number;
  address: string;
  grpc: GrpcServerHandle;
  store: ChainStore;
  keys: AuditorKeys;
  appender: ChainAppender;
  checkpointer: Checkpointer;
  ingest: AuditIngest;
  reader: AuditReader;
  views: StateViews;
  bus: KafkaEventBus;
  /** Graceful stop: NOT_SERVING, leave the consumer group, final checkpoints, flush, close (idempotent). */
  stop(): Promise<void>;
}

export async function startAuditor(config: AuditorConfig, opts: StartAuditorOptions = {}): Promise<RunningAuditor> {
  const logger =
    opts.logger ?? createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
  const now = opts.now ?? (() => new Date());
  await cryptoReady();
  const keys = AuditorKeys.fromBase64Seed(
    config.AUTHORITY_AUDITOR_SIGNING_KEY.reveal(),
    config.AUTHORITY_AUDITOR_PREVIOUS_KEYS ?? [],
  );
  // Only records signed by these producer keys are chained; the rest is quarantined.
  const trustedKeys = trustedEventKeysFromConfig(config);
  for (const k of trustedKeys.values()) {
    if (k.sources === undefined)
      logger.warn(
        { key_id: k.kid },
        'trusted event key without sources: it may sign events of any service (limit it with ;sources=…)',
      );
  }
  const graceMs = Math.min(config.AUTHORITY_SHUTDOWN_GRACE, 5000);

  return ServiceLifecycle.start(logger, async (life) => {
    const { packageDefinition, grpcObject } = loadAuthorityProto();
    // Handlers are bound once everything is up; until then calls get UNAVAILABLE (health NOT_SERVING).
    const api = await startLateBoundGrpcServer<ReturnType<typeof auditorHandlers>>(life, {
      definition: grpcObject.authority.v1.AuditorService.service,
      what: 'auditor',
      graceMs,
      packageDefinition,
      ...grpcServerSettings(config),
      logger,
      serviceNames: [AUDITOR_SERVICE_NAME],
    });
    const grpc = api.server;

    const mongo: MongoClient = await connectMongo(config.MONGODB_URI, {
      appName: config.AUTHORITY_SERVICE_NAME,
      logger,
      database: config.AUTHORITY_AUDITOR_DB,
    });
    life.onStop('storage', 'mongodb', () => mongo.close());
    const store = new ChainStore(mongo.db(config.AUTHORITY_AUDITOR_DB), mongo, {
      writeConcurrency: config.AUTHORITY_AUDITOR_WRITE_CONCURRENCY,
    });
    const migration = await store.ensureIndexes();
    if (migration.copied + migration.alreadyThere + migration.unplaceable > 0) {
      logger.info({ ...migration }, 'entries moved from the single `entries` collection to one collection per tenant');
    }
    if (migration.unplaceable > 0) {
      logger.error(
        { unplaceable: migration.unplaceable },
        'legacy entries without a tenant or seq were left in the `entries` collection (verification reports the gaps)',
      );
    }

    const topics = topicNames(config.AUTHORITY_TOPIC_PREFIX);
    const bus = kafkaFromConfig(config, { logger, ...(opts.onFatal ? { onFatal: opts.onFatal } : {}) });
    life.onStop('producers', 'kafka', () => bus.disconnect());
    await bus.ensureTopics(authorityTopicSpecs(config.AUTHORITY_TOPIC_PREFIX));
    await bus.connectProducer();

    const views = await startStateViews({
      bus,
      topicPrefix: config.AUTHORITY_TOPIC_PREFIX,
      logger,
      follow: { keys: true, policies: true, revocations: false },
    });
    life.onStop('consumers', 'state views', () => views.stop());

    const appender = new ChainAppender({ store, keys, logger, now, aggregates: config.AUTHORITY_AUDITOR_AGGREGATES });
    const checkpointer = new Checkpointer({
      store,
      keys,
      appender,
      publish: checkpointPublisher(bus, topics.checkpoints),
      logger,
      every: config.AUTHORITY_CHECKPOINT_EVERY,
      now,
    });
    const meter = opts.meter ?? getMeter(AUDITOR_SCOPE);
    const chainFeed = new ChainFeed({ publish: chainPublisher(bus, topics.chain), logger });
    const ingest = new AuditIngest({
      store,
      appender,
      checkpointer,
      logger,
      trustedKeys: (kid) => trustedKeys.get(kid),
      onQuarantined: quarantineCounter(meter),
      groupId: config.AUTHORITY_AUDITOR_GROUP_ID,
      chainFeed,
    });
    const stopChainMetrics = observeChains(meter, appender, now);
    life.onStop('telemetry', 'chain metrics', stopChainMetrics);
    const stopLagMetrics = bus.observeConsumerLag(meter);
    life.onStop('telemetry', 'lag metrics', stopLagMetrics);
    const reader = new AuditReader({
      store,
      keys,
      policies: views.policies,
      scanLimit: config.AUTHORITY_QUERY_SCAN_LIMIT,
      maxScanEntries: config.AUTHORITY_MAX_SCAN_ENTRIES,
      compactSpan: config.AUTHORITY_AUDITOR_AGGREGATE_MERGE_SPAN,
      now,
      logger,
    });
    const admin = new ChainAdmin({
      store,
      keys,
      now,
      // The auditor's own consumer of the audit topic (its other consumers read views).
      consumerLag: async () => (await bus.consumerLag()).filter((l) => l.topic === topics.audit),
    });
    api.bind(
      auditorHandlers({
        reader,
        auth: new Authenticator(config.AUTHORITY_OPERATOR_API_KEY.reveal(), views.keys),
        keys,
        admin,
        logger,
        now,
      }),
    );

    await views.caughtUp;
    await checkpointer
      .publishPending()
      .catch((err: unknown) => logger.warn({ err }, 'republishing stored checkpoints failed; will retry'));

    const sessionTimeout = config.AUTHORITY_AUDITOR_SESSION_TIMEOUT;
    const consumer: ConsumerHandle = await bus.consume({
      groupId: config.AUTHORITY_AUDITOR_GROUP_ID,
      topics: [topics.audit],
      fromBeginning: true,
      eachBatch: ingest.handleBatch,
      partitionsConsumedConcurrently: config.AUTHORITY_AUDITOR_PARTITIONS_CONCURRENCY,
      consumer: {
        sessionTimeoutMs: sessionTimeout,
        heartbeatIntervalMs: Math.max(500, Math.min(3000, Math.floor(sessionTimeout / 3))),
        rebalanceTimeoutMs: Math.max(sessionTimeout, 10_000),
        maxWaitTimeMs: config.AUTHORITY_AUDITOR_FETCH_MAX_WAIT,
        maxBytesPerPartition: config.AUTHORITY_AUDITOR_FETCH_MAX_BYTES,
        maxBytes: Math.max(config.AUTHORITY_AUDITOR_FETCH_MAX_BYTES * 4, 10 * 1024 * 1024),
      },
    });
    // After a rebalance another replica may have appended to a tenant this one cached: reload heads.
    consumer.on('rebalanced', () => appender.invalidateAll());
    life.onStop('consumers', 'audit consumer', () => consumer.disconnect());

    let timer: NodeJS.Timeout | undefined;
    let ticking: Promise<unknown> | undefined;
    if (opts.checkpointTimer ?? true) {
      timer = setInterval(() => {
        if (ticking) return;
        ticking = checkpointer
          .tick()
          .catch((err: unknown) => logger.warn({ err }, 'checkpoint pass failed'))
          .finally(() => (ticking = undefined));
      }, config.AUTHORITY_CHECKPOINT_INTERVAL);
      timer.unref();
    }
    life.onStop('grpc', 'checkpoint timer', () => clearInterval(timer));
    // Seal what this replica appended since the last checkpoint (and save the head hints), once
    // the consumer stopped appending.
    life.onStop('producers', 'final checkpoints', async () => {
      await ticking;
      await checkpointer.tick().catch((err: unknown) => logger.warn({ err }, 'final checkpoints failed'));
      await checkpointer.flush();
      await chainFeed.flush();
    });

    grpc.health.setServing();
    logger.info(
      {
        port: grpc.port,
        topic_prefix: config.AUTHORITY_TOPIC_PREFIX,
        db: config.AUTHORITY_AUDITOR_DB,
        key_id: keys.keyId,
        trusted_event_keys: [...trustedKeys.keys()],
        group: config.AUTHORITY_AUDITOR_GROUP_ID,
      },
      'auditor serving',
    );

    return {
      port: grpc.port,
      address: `127.0.0.1:${grpc.port}`,
      grpc,
      store,
      keys,
      appender,
      checkpointer,
      ingest,
      reader,
      views,
      bus,
      stop: () => life.stop(),
    };
  });
}
