// startIssuer(config): the whole issuer in-process (main.ts runs it under runService; tests and the
// end-to-end stack call it directly). Start order: gRPC server (NOT_SERVING) → Kafka topics and
// producer → MongoDB and indexes → KEK check → state views replayed → sweep timer → SERVING.
import { cryptoReady, DEFAULT_ENVELOPE_LIMITS, encodeBase64Url, eventSigningKey } from '@authority/core';
import {
  authorityTopicSpecs,
  kafkaFromConfig,
  eventSigningSeedFromConfig,
  createLogger,
  ServiceLifecycle,
  startLateBoundGrpcServer,
  grpcServerSettings,
  topics as topicNames,
  type GrpcServerHandle,
  type KafkaEventBus,
  type Logger,
} from '@authority/platform';
import { loadAuthorityProto } from '@authority/proto';
import { KafkaIssuerEvents, type IssuerEvents } from './adapters/kafka';
import { IssuerStore } from './adapters/mongo';
import { startIssuerViews, type IssuerViews } from './adapters/views';
import { Approvals } from './approvals';
import { AuditTrail } from './audit';
import { systemClock, type Clock } from './clock';
import type { IssuerConfig } from './config';
import { Issuer } from './issuer';
import { KeyEncryptionKey, KekError, KEK_VARIABLE } from './kek';
import { KeyManager } from './keys';
import { Authenticator } from './principal';
import { issuerHandlers } from './server';

export { issuerConfigSchema, ISSUER_DEFAULT_PORT, type IssuerConfig } from './config';
export { KeyEncryptionKey, KekError, KEK_VARIABLE } from './kek';
export { OffsetClock, systemClock, type Clock } from './clock';

export const ISSUER_SERVICE_NAME = 'authority.v1.IssuerService';

export interface StartIssuerOptions {
  logger?: Logger;
  /** Injectable clock (tests move time for key retirement and approval expiry). */
  clock?: Clock;
  /** Start the periodic sweep (default true; tests may run `sweep()` themselves). */
  sweep?: boolean;
}

export interface RunningIssuer {
  /** The bound gRPC port. */
  port: number;
  address: string;
  grpc: GrpcServerHandle;
  store: IssuerStore;
  views: IssuerViews;
  bus: KafkaEventBus;
  events: IssuerEvents;
  /** One sweep now: key retirement/repair, approval expiry, credential republishing. */
  sweep(): Promise<void>;
  /** Graceful stop within the configured grace (idempotent). */
  stop(): Promise<void>;
}

export async function startIssuer(config: IssuerConfig, opts: StartIssuerOptions = {}): Promise<RunningIssuer> {
  const logger =
    opts.logger ?? createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
  const clock = opts.clock ?? systemClock;
  await cryptoReady();
  const kek = KeyEncryptionKey.fromBase64(config.AUTHORITY_ISSUER_KEK.reveal());
  // Signs every audit record (the auditor chains only what a trusted key signed).
  const { seed, kid } = eventSigningSeedFromConfig(config);
  const eventKey = eventSigningKey(seed, kid);
  return ServiceLifecycle.start(logger, async (life) => {
    const { packageDefinition, grpcObject } = loadAuthorityProto();
    // Handlers are bound late (they need Mongo and the views); until then the server answers
    // UNAVAILABLE and health says NOT_SERVING.
    const api = await startLateBoundGrpcServer<ReturnType<typeof issuerHandlers>>(life, {
      definition: grpcObject.authority.v1.IssuerService.service,
      what: 'issuer',
      graceMs: Math.min(config.AUTHORITY_SHUTDOWN_GRACE, 5000),
      packageDefinition,
      ...grpcServerSettings(config),
      logger,
      serviceNames: [ISSUER_SERVICE_NAME],
    });
    const grpc = api.server;

    const topics = topicNames(config.AUTHORITY_TOPIC_PREFIX);
    const bus = kafkaFromConfig(config, { logger });
    life.onStop('producers', 'kafka', () => bus.disconnect());
    await bus.ensureTopics(authorityTopicSpecs(config.AUTHORITY_TOPIC_PREFIX));
    await bus.connectProducer();
    const events = new KafkaIssuerEvents(bus, topics, eventKey);

    const store = await IssuerStore.connect(config.MONGODB_URI, config.AUTHORITY_ISSUER_DB, logger);
    life.onStop('storage', 'mongodb', () => store.close());
    await store.ensureIndexes();

    const audit = new AuditTrail(events, clock);
    const keys = new KeyManager({
      store,
      kek,
      events,
      clock,
      audit,
      logger,
      maxTtlSeconds: DEFAULT_ENVELOPE_LIMITS.maxTtlSeconds,
      skewSeconds: config.AUTHORITY_CLOCK_SKEW,
    });
    try {
      await keys.verifyKek();
    } catch (err) {
      if (err instanceof KekError && !err.message.includes(KEK_VARIABLE))
        throw new KekError(`${KEK_VARIABLE}: ${err.message}`);
      throw err;
    }

    const views = await startIssuerViews(bus, config.AUTHORITY_TOPIC_PREFIX, logger);
    life.onStop('consumers', 'state views', () => views.stop());

    const issuer = new Issuer({
      store,
      keys,
      events,
      audit,
      clock,
      revocations: views.revocations,
      policies: views.policies,
      logger,
      skewSeconds: config.AUTHORITY_CLOCK_SKEW,
      maxDepth: config.AUTHORITY_MAX_DEPTH,
      maxTtlSeconds: DEFAULT_ENVELOPE_LIMITS.maxTtlSeconds,
      ...(config.AUTHORITY_ISSUER_NAME ? { issuerName: config.AUTHORITY_ISSUER_NAME } : {}),
    });
    const approvals = new Approvals({
      store,
      audit,
      clock,
      logger,
      timeoutMs: config.AUTHORITY_APPROVAL_TIMEOUT,
      useWindowMs: config.AUTHORITY_APPROVAL_USE_WINDOW,
    });
    const auth = new Authenticator({
      operatorApiKey: config.AUTHORITY_OPERATOR_API_KEY.reveal(),
      ...(config.AUTHORITY_SERVICE_API_KEY ? { serviceApiKey: config.AUTHORITY_SERVICE_API_KEY.reveal() } : {}),
      store,
    });
    api.bind(issuerHandlers({ issuer, approvals, auth, logger }));

    let sweeping: Promise<void> | undefined;
    const sweep = (): Promise<void> => {
      sweeping ??= (async () => {
        try {
          await keys.sweep();
          await approvals.sweep();
          await issuer.republishCredentials();
        } finally {
          sweeping = undefined;
        }
      })();
      return sweeping;
    };

    // A running sweep finishes once no new calls come in, before the views and stores close.
    life.onStop('consumers', 'running sweep', () => sweeping?.catch(() => undefined));

    await views.caughtUp;
    // One sweep before serving repairs anything a crash left half-done (unpublished keys).
    await sweep();
    let timer: NodeJS.Timeout | undefined;
    if (opts.sweep ?? true) {
      timer = setInterval(() => {
        sweep().catch((err: unknown) => logger.warn({ err }, 'sweep failed; retrying at the next interval'));
      }, config.AUTHORITY_SWEEP_INTERVAL);
      timer.unref();
      life.onStop('grpc', 'sweep timer', () => clearInterval(timer));
    }
    grpc.health.setServing();
    logger.info(
      {
        port: grpc.port,
        topic_prefix: config.AUTHORITY_TOPIC_PREFIX,
        db: config.AUTHORITY_ISSUER_DB,
        event_key_id: eventKey.kid,
        event_public_key: encodeBase64Url(eventKey.publicKey),
      },
      'issuer serving',
    );

    return {
      port: grpc.port,
      address: `127.0.0.1:${grpc.port}`,
      grpc,
      store,
      views,
      bus,
      events,
      sweep,
      stop: () => life.stop(),
    };
  });
}
