// The policy service, startable in-process (tests, the end-to-end stack) or by main.ts.
import type { MongoClient } from 'mongodb';
import {
  connectMongo,
  kafkaFromConfig,
  createLogger,
  ServiceLifecycle,
  eventSigningSeedFromConfig,
  startGrpcServer,
  grpcServerSettings,
  type GrpcServerHandle,
  type KafkaEventBus,
  type Logger,
} from '@authority/platform';
import { cryptoReady, encodeBase64Url, eventSigningKey } from '@authority/core';
import { loadAuthorityProto } from '@authority/proto';
import { startStateViews, type KeyDirectory, type StateViews } from '@authority/views';
import { ensurePolicyTopics, KafkaVersionPublisher, policyTopics, type PolicyTopics } from './adapters/kafka';
import { PolicyStore } from './adapters/mongo';
import { Authorizer } from './auth';
import type { PolicyConfig } from './config';
import { PolicyRegistry } from './registry';
import { policyServiceHandlers } from './server';
import { WatchHub } from './watch';

export { policyConfigSchema, POLICY_DEFAULT_GRPC_PORT, type PolicyConfig } from './config';
export { ISSUES_METADATA_KEY } from './server';
export { VERSION_CONFLICT_REASON, PUBLISH_PENDING_REASON } from './registry';
export { versionKey, POLICY_VERSIONS_COLLECTION, type PolicyVersionDoc } from './adapters/mongo';
export { policyTopics, type PolicyTopics } from './adapters/kafka';

/** gRPC service name reported by health. */
export const POLICY_SERVICE_NAME = 'authority.v1.PolicyService';

export interface PolicyServiceHandle {
  /** The bound gRPC port. */
  port: number;
  topics: PolicyTopics;
  health: GrpcServerHandle['health'];
  /** Graceful stop: NOT_SERVING, end streams, drain calls, flush publishes, close clients. */
  stop(): Promise<void>;
  /** Publishes stored-but-unpublished versions now (also runs at start and periodically). */
  publishPending(): Promise<number>;
  /** Open WatchPolicies streams on this replica. */
  watchers(): number;
}

export interface StartPolicyServiceOptions {
  logger?: Logger;
  /** Called when a Kafka consumer crashed for good (default: log and exit, see platform). */
  onFatal?: (err: Error) => void;
  /**
   * Wait after NOT_SERVING before closing, so load balancers stop routing here (default: the
   * platform's, min(2 s, grace/5)). Tests pass 0.
   */
  drainDelayMs?: number;
}

/**
 * Starts the policy service: MongoDB (indexes), Kafka (topics, producer), the gRPC server
 * (NOT_SERVING), then replays credentials from `<prefix>keys`, publishes any version stored but not
 * yet published, and only then reports SERVING.
 */
export async function startPolicyService(
  config: PolicyConfig,
  opts: StartPolicyServiceOptions = {},
): Promise<PolicyServiceHandle> {
  const logger =
    opts.logger ?? createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
  const topics = policyTopics(config.AUTHORITY_TOPIC_PREFIX);
  await cryptoReady();
  // Signs every audit record (the auditor chains only what a trusted key signed).
  const { seed, kid } = eventSigningSeedFromConfig(config);
  const eventKey = eventSigningKey(seed, kid);
  return ServiceLifecycle.start(logger, async (life) => {
    life.onStop('telemetry', 'log', () => logger.info('policy service stopped'));
    const mongo: MongoClient = await connectMongo(config.MONGODB_URI, {
      appName: config.AUTHORITY_SERVICE_NAME,
      logger,
      database: config.AUTHORITY_POLICY_DB,
    });
    life.onStop('storage', 'mongodb', () => mongo.close());
    const store = new PolicyStore(mongo.db(config.AUTHORITY_POLICY_DB));
    await store.ensureIndexes();

    const bus: KafkaEventBus = kafkaFromConfig(config, { logger, ...(opts.onFatal ? { onFatal: opts.onFatal } : {}) });
    life.onStop('producers', 'kafka', () => bus.disconnect());
    await ensurePolicyTopics(bus, config.AUTHORITY_TOPIC_PREFIX);
    await bus.connectProducer();

    // Filled once the state views start (after the gRPC server, which answers NOT_SERVING meanwhile).
    const credentials: { directory?: KeyDirectory } = {};
    let ready = false;
    const hub = new WatchHub({
      store,
      logger,
      pollIntervalMs: config.AUTHORITY_POLICY_WATCH_POLL_INTERVAL,
      maxWatchers: config.AUTHORITY_POLICY_MAX_WATCHERS,
    });
    life.onStop('grpc', 'watch streams', () => hub.close());
    const registry = new PolicyRegistry(store, new KafkaVersionPublisher(bus, topics, eventKey), {
      logger,
      maxRecordBytes: config.AUTHORITY_POLICY_MAX_RECORD_BYTES,
      onCommitted: (tenant) => hub.notify(tenant),
    });
    // Flushed after the server stopped taking calls (phase order), before Kafka disconnects.
    life.onStop('producers', 'pending publishes', () => registry.drain());
    const authorizer = new Authorizer(
      config.AUTHORITY_OPERATOR_API_KEY.reveal(),
      { authenticate: (secret) => credentials.directory?.authenticate(secret) },
      () => ready,
    );

    const { packageDefinition, grpcObject } = loadAuthorityProto();
    const server = await startGrpcServer({
      services: [
        {
          definition: grpcObject.authority.v1.PolicyService.service,
          implementation: policyServiceHandlers({
            registry,
            store,
            hub,
            authorizer,
            logger,
            maxPageSize: config.AUTHORITY_POLICY_MAX_PAGE_SIZE,
          }) as unknown as import('@grpc/grpc-js').UntypedServiceImplementation,
        },
      ],
      packageDefinition,
      ...grpcServerSettings(config),
      logger,
      serviceNames: [POLICY_SERVICE_NAME],
    });
    // Serving replicas wait for load balancers to notice NOT_SERVING; a failed start need not.
    life.onStop('grpc', 'grpc server', () =>
      server.shutdown(
        config.AUTHORITY_SHUTDOWN_GRACE,
        !ready ? { drainDelayMs: 0 } : opts.drainDelayMs !== undefined ? { drainDelayMs: opts.drainDelayMs } : {},
      ),
    );

    // Credentials (keys topic) and versions committed by other replicas (policies topic: wakes
    // watch streams), replayed from the beginning; caught up at the high-water marks of now.
    const views: StateViews = await startStateViews({
      bus,
      topicPrefix: config.AUTHORITY_TOPIC_PREFIX,
      logger,
      follow: { keys: true, policies: true, revocations: false },
    });
    life.onStop('consumers', 'state views', () => views.stop());
    views.policies.onChange((tenant) => hub.notify(tenant));
    credentials.directory = views.keys;
    await views.caughtUp;
    ready = true;
    const pending = await registry.publishPending();
    if (pending > 0) logger.info({ versions: pending }, 'published versions left unpublished by an earlier run');

    let republishing: Promise<unknown> = Promise.resolve();
    life.onStop('producers', 'republishing', () => republishing.then(() => undefined));
    const timer = setInterval(() => {
      republishing = registry.publishPending().catch((err: unknown) => {
        logger.warn(
          { err_message: err instanceof Error ? err.message : String(err) },
          'republishing pending policy versions failed; will retry',
        );
      });
    }, config.AUTHORITY_POLICY_REPUBLISH_INTERVAL);
    timer.unref();
    life.onStop('grpc', 'republish timer', () => clearInterval(timer));

    server.health.setServing();
    logger.info(
      {
        port: server.port,
        topics,
        credentials: views.keys.size.credentials,
        event_key_id: eventKey.kid,
        event_public_key: encodeBase64Url(eventKey.publicKey),
      },
      'policy service ready',
    );

    return {
      port: server.port,
      topics,
      health: server.health,
      stop: () => life.stop(),
      publishPending: () => registry.publishPending(),
      watchers: () => hub.size,
    };
  });
}
