// startEnforcer(config): the whole enforcer in-process (tests, benchmarks and the end-to-end stack
// run it this way; main.ts runs it under runService).
import { loadAuthorityProto } from '@authority/proto';
import { cryptoReady, encodeBase64Url, eventSigningKey, LinkMemo, ReplayCache } from '@authority/core';
import {
  authorityTopicSpecs,
  createKafka,
  createLogger,
  ServiceLifecycle,
  eventSigningSeedFromConfig,
  kafkaSecurityFromConfig,
  startGrpcServer,
  grpcServerSettings,
  topics,
  type GrpcServerHandle,
  type KafkaEventBus,
  type Logger,
} from '@authority/platform';
import type { StateViews } from '@authority/views';
import { IssuerApprovals, type ApprovalsPort } from './adapters/issuer';
import { startEnforcerState } from './adapters/state';
import { WorkerAuditProducer } from './adapters/audit-producer';
import { AsyncAuditWriter, SyncAuditWriter, type AuditPublisher, type AuditWriter } from './audit';
import type { EnforcerConfig } from './config';
import { Decider } from './decide';
import { FreshnessMonitor } from './freshness';
import { observeCaches } from './metrics';
import { enforcerHandlers } from './server';

export * from './config';
export type { Caller } from './caller';
export { Decider, UNATTRIBUTED_TENANT } from './decide';
export { FreshnessMonitor } from './freshness';
export {
  AsyncAuditWriter,
  SyncAuditWriter,
  AuditUnavailableError,
  auditEntry,
  encodeCheckEvent,
  eventBusAuditPublisher,
  type AuditPublisher,
  type AuditRecord,
  type AuditWriter,
  type AuditEntry,
} from './audit';
export { WorkerAuditProducer, type AuditProducerStats } from './adapters/audit-producer';
export type { ApprovalsPort } from './adapters/issuer';

/** Fully-qualified gRPC service name (also the health-check service name). */
export const ENFORCER_SERVICE_NAME = 'authority.v1.EnforcerService';

export interface StartEnforcerOptions {
  logger?: Logger;
  /** Milliseconds since the epoch (tests: an injectable clock). */
  clock?: () => number;
  /** Replace the issuer-backed approvals (unit tests). */
  approvals?: ApprovalsPort;
  /**
   * Replace the audit publisher (fault-injection tests). Default: the producer thread
   * (WorkerAuditProducer); `eventBusAuditPublisher(bus, eventKey)` publishes on this thread instead.
   */
  auditPublisher?: AuditPublisher;
  /** Wait after NOT_SERVING before draining on stop (default: platform's, min(2 s, grace / 5)). */
  drainDelayMs?: number;
  /**
   * Called when a Kafka consumer crashed for good or the audit producer thread kept failing
   * (default: log; the enforcer stays up failing closed: STALE_STATE / AUDIT_UNAVAILABLE).
   */
  onFatal?: (err: Error) => void;
}

export interface EnforcerHandle {
  /** The bound gRPC port. */
  port: number;
  /** Resolves once the state is caught up (health SERVING from then on, unless stale). */
  ready: Promise<void>;
  views: StateViews;
  freshness: FreshnessMonitor;
  memo: LinkMemo;
  replay: ReplayCache;
  audit: AuditWriter;
  /** The audit producer thread (absent when an auditPublisher was injected). */
  producer: WorkerAuditProducer | undefined;
  decider: Decider;
  server: GrpcServerHandle;
  bus: KafkaEventBus;
  /** Graceful stop: NOT_SERVING, drain calls, stop consumers, flush audit, close producer. */
  stop(): Promise<void>;
}

export async function startEnforcer(config: EnforcerConfig, opts: StartEnforcerOptions = {}): Promise<EnforcerHandle> {
  const logger =
    opts.logger ?? createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
  await cryptoReady();
  // Every decision event is signed with this key (in the producer thread by default).
  const signing = eventSigningSeedFromConfig(config);
  const eventKey = eventSigningKey(signing.seed, signing.kid);
  const security = kafkaSecurityFromConfig(config);
  const clientId = config.KAFKA_CLIENT_ID ?? config.AUTHORITY_SERVICE_NAME;
  const t = topics(config.AUTHORITY_TOPIC_PREFIX);
  const bus = createKafka({
    brokers: config.KAFKA_BROKERS,
    clientId,
    logger,
    ...security,
    onFatal:
      opts.onFatal ??
      ((err) =>
        logger.error({ err }, 'Kafka consumer crashed for good; the enforcer stays up but fails closed (STALE_STATE)')),
    publisher: { timeoutMs: config.AUTHORITY_AUDIT_TIMEOUT, maxBatchMessages: 1000 },
  });
  return ServiceLifecycle.start(logger, async (life) => {
    life.onStop('producers', 'kafka', () => bus.disconnect());
    await bus.ensureTopics(authorityTopicSpecs(config.AUTHORITY_TOPIC_PREFIX));
    // Audit events are produced by a worker thread (its own kafkajs producer, acks=all), so that
    // Kafka encoding runs beside the gRPC event loop rather than on it.
    let producer: WorkerAuditProducer | undefined;
    let publisher: AuditPublisher;
    if (opts.auditPublisher !== undefined) {
      publisher = opts.auditPublisher;
    } else {
      const p = new WorkerAuditProducer({
        brokers: config.KAFKA_BROKERS,
        clientId,
        logger,
        signing: { seed: signing.seed, kid: eventKey.kid },
        security,
        timeoutMs: config.AUTHORITY_AUDIT_TIMEOUT,
        maxBatchMessages: 1000,
        maxInFlight: config.AUTHORITY_AUDIT_PRODUCE_REQUESTS,
        onFatal: (err) =>
          (
            opts.onFatal ??
            ((e: Error) =>
              logger.error({ err: e }, 'audit producer failed for good; every ALLOW is denied AUDIT_UNAVAILABLE'))
          )(err),
      });
      await p.start();
      life.onStop('producers', 'audit producer', () => p.close());
      producer = p;
      publisher = p;
    }

    // Real time: freshness is about when Kafka last answered, whatever clock decisions use.
    const freshness = new FreshnessMonitor(config.AUTHORITY_MAX_STALENESS);
    life.onStop('consumers', 'freshness', () => freshness.close());
    const state = await startEnforcerState({ bus, topicPrefix: config.AUTHORITY_TOPIC_PREFIX, freshness, logger });
    life.onStop('consumers', 'state', () => state.stop());

    const memo = new LinkMemo(config.AUTHORITY_MEMO_SIZE, {
      maxBytes: config.AUTHORITY_MEMO_BYTES,
      tenantShare: config.AUTHORITY_MEMO_TENANT_SHARE,
    });
    const replay = new ReplayCache(config.AUTHORITY_REPLAY_CACHE_SIZE, config.AUTHORITY_REPLAY_TENANT_SHARE);
    life.onStop('telemetry', 'cache metrics', observeCaches(memo, replay));
    const auditOpts = { topic: t.audit, publisher, logger, capacity: config.AUTHORITY_AUDIT_BUFFER };
    const audit: AuditWriter =
      config.AUTHORITY_AUDIT_MODE === 'async' ? new AsyncAuditWriter(auditOpts) : new SyncAuditWriter(auditOpts);
    // Once no call comes in, in-flight audit events get the grace period, then the producer closes.
    life.onStop('producers', 'audit writer', async () => {
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([audit.close(), new Promise((r) => (timer = setTimeout(r, config.AUTHORITY_SHUTDOWN_GRACE)))]);
      clearTimeout(timer);
      const dropped = audit.abort?.() ?? 0;
      if (dropped > 0) logger.error({ dropped }, 'audit events still buffered at the shutdown deadline were dropped');
    });

    let approvals = opts.approvals;
    if (
      approvals === undefined &&
      config.AUTHORITY_ISSUER_ADDR !== undefined &&
      config.AUTHORITY_SERVICE_API_KEY !== undefined
    ) {
      approvals = new IssuerApprovals({
        address: config.AUTHORITY_ISSUER_ADDR,
        serviceApiKey: config.AUTHORITY_SERVICE_API_KEY.reveal(),
        timeoutMs: config.AUTHORITY_ISSUER_TIMEOUT,
      });
    }
    if (approvals !== undefined) {
      const a = approvals;
      life.onStop('producers', 'issuer client', () => a.close());
    }

    const decider = new Decider({
      keys: state.views.keys,
      revocations: state.views.revocations,
      policies: state.views.policies,
      memo,
      replay,
      freshness,
      audit,
      ...(approvals !== undefined ? { approvals } : {}),
      logger,
      clock: opts.clock ?? Date.now,
      settings: {
        skewSeconds: config.AUTHORITY_CLOCK_SKEW,
        maxDepth: config.AUTHORITY_MAX_DEPTH,
        enforcerId: config.AUTHORITY_ENFORCER_ID,
        requestProofWindowSeconds: Math.ceil(config.AUTHORITY_POP_WINDOW / 1000),
        ...(config.AUTHORITY_AUDIENCE !== undefined ? { audience: config.AUTHORITY_AUDIENCE } : {}),
      },
    });

    const { grpcObject, packageDefinition } = loadAuthorityProto();
    const server = await startGrpcServer({
      services: [
        {
          definition: grpcObject.authority.v1.EnforcerService.service,
          implementation: enforcerHandlers({
            decider,
            keys: state.views.keys,
            operatorKey: config.AUTHORITY_OPERATOR_API_KEY,
            freshness,
            logger,
          }) as unknown as import('@grpc/grpc-js').UntypedServiceImplementation,
        },
      ],
      packageDefinition,
      ...grpcServerSettings(config),
      logger,
      serviceNames: [ENFORCER_SERVICE_NAME],
      // No channelz service is exposed, so skip its per-call bookkeeping (counters and timestamps
      // on every call). grpc.max_concurrent_streams stays at grpc-js's default (unbounded): a
      // bound would only make callers queue on the connection instead of in the audit batches.
      serverOptions: { 'grpc.enable_channelz': 0 },
    });
    life.onStop('grpc', 'grpc server', () =>
      server.shutdown(
        config.AUTHORITY_SHUTDOWN_GRACE,
        opts.drainDelayMs !== undefined ? { drainDelayMs: opts.drainDelayMs } : {},
      ),
    );
    // Health stays NOT_SERVING from the start of a stop on.
    life.onStop('grpc', 'health', () => freshness.close());
    // Health follows freshness: SERVING only while caught up and the revocation feed is live.
    freshness.onChange((stale) => (stale ? server.health.setNotServing() : server.health.setServing()));
    state.caughtUp.then(
      () =>
        logger.info(
          {
            keys: state.views.keys.size,
            revocations: state.views.revocations.size,
            event_key_id: eventKey.kid,
            event_public_key: encodeBase64Url(eventKey.publicKey),
          },
          'state caught up; serving',
        ),
      (err: unknown) => logger.error({ err }, 'state replay failed; staying NOT_SERVING'),
    );

    return {
      port: server.port,
      ready: state.caughtUp,
      views: state.views,
      freshness,
      memo,
      replay,
      audit,
      producer,
      decider,
      server,
      bus,
      stop: () => life.stop(),
    };
  });
}
