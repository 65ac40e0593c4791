// The in-process stack for cross-service end-to-end tests: issuer, n enforcers, and optionally the
// policy service and the auditor, all in this process, against the REAL Kafka broker and
// MongoDB-wire server (KAFKA_BROKERS / MONGODB_URI; a missing variable fails loudly). One unique
// topic prefix and unique database names per stack, so stacks never see each other's data.
//
//   const stack = await startStack({ enforcers: 2, withPolicy: true });
//   const tenant = await stack.createTenant();               // operator creates it
//   const { envelope } = await rpc(stack.issuer.client, 'Mint', {...}, tenant.admin);
//   await rpc(stack.enforcers[0].client, 'Check', {...}, tenant.checker);
//   await stack.stop();
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { cryptoReady, eventSigningKey, type EventSigningKey } from '@authority/core';
import {
  createKafka,
  createLogger,
  loadConfig,
  silentLogger,
  startTelemetry,
  topics as topicNames,
  bearerMetadata,
  callByName,
  type AuthorityTopics,
  type KafkaEventBus,
  type Logger,
  type StartTelemetryOptions,
  type Telemetry,
} from '@authority/platform';
import type {
  AuditorServiceClient,
  CreateCredentialResponse__Output,
  CreateTenantResponse__Output,
  EnforcerServiceClient,
  IssuerServiceClient,
  MintResponse__Output,
  PolicyServiceClient,
} from '@authority/proto';
import { issuerConfigSchema, startIssuer, type RunningIssuer } from '@authority/issuer';
import { loadAuthorityProto } from '@authority/proto';
import {
  enforcerConfigSchema,
  eventBusAuditPublisher,
  startEnforcer,
  type EnforcerConfig,
  type EnforcerHandle,
} from '@authority/enforcer';
import { policyConfigSchema, startPolicyService, type PolicyServiceHandle } from '@authority/policy';
import { MongoClient } from 'mongodb';

export interface StackOptions {
  /** Enforcer replicas (default 1), each with its own consumer group and enforcer id. */
  enforcers?: number;
  withPolicy?: boolean;
  withAuditor?: boolean;
  /** Extra environment for every enforcer (e.g. AUTHORITY_AUDIT_MODE=async). */
  enforcerEnv?: Record<string, string>;
  issuerEnv?: Record<string, string>;
  policyEnv?: Record<string, string>;
  auditorEnv?: Record<string, string>;
  /**
   * Telemetry for this stack's lifetime instead of the shared propagate-only one: e.g.
   * `{ spanExporter: new InMemorySpanExporter(), metricReaders: [reader] }` records every span of
   * every service in the process (SimpleSpanProcessor) and collects their metrics. Shut down by
   * stop(), after the services (read the exporter before stopping: shutdown clears it).
   */
  telemetry?: Pick<StartTelemetryOptions, 'spanExporter' | 'metricReaders'>;
  /**
   * Who produces enforcer `i`'s audit events (default 'thread': the enforcer's own producer
   * thread). 'platform': platform's KafkaEventBus on the main thread (the enforcer's
   * `eventBusAuditPublisher` option), whose publish makes a PRODUCER span per event.
   */
  enforcerAudit?: ('thread' | 'platform')[];
}

export interface StackEnforcer {
  index: number;
  /** AUTHORITY_ENFORCER_ID of this replica (recorded in its decision events). */
  id: string;
  address: string;
  config: EnforcerConfig;
  handle: EnforcerHandle;
  client: EnforcerServiceClient;
}

/** A tenant created through the issuer, with one credential of each kind. */
export interface StackTenant {
  tenant: string;
  keyId: string;
  admin: string;
  adminId: string;
  approver: string;
  checker: string;
  auditor: string;
}

/** The auditor as far as the stack needs it (its module is loaded at run time, see startStack). */
export interface AuditorHandleLike {
  port: number;
  stop(): Promise<void>;
}

/** The services that sign audit events, each with its own key (as in production). */
export const EVENT_PRODUCERS = ['issuer', 'enforcer', 'policy'] as const;
export type EventProducer = (typeof EVENT_PRODUCERS)[number];

export interface Stack {
  id: string;
  prefix: string;
  /**
   * The audit-event signing key of each producing service (every enforcer replica shares the
   * enforcer's); the auditor trusts exactly these, each for its own source.
   */
  eventKeys: Record<EventProducer, EventSigningKey>;
  topics: AuthorityTopics;
  brokers: string[];
  operatorKey: string;
  serviceKey: string;
  databases: { issuer: string; policy: string; auditor: string };
  issuer: { address: string; handle: RunningIssuer; client: IssuerServiceClient };
  enforcers: StackEnforcer[];
  policy?: { address: string; handle: PolicyServiceHandle; client: PolicyServiceClient };
  auditor?: { address: string; handle: AuditorHandleLike; client: AuditorServiceClient };
  /** Creates a tenant (operator credential) plus APPROVER, CHECKER and AUDITOR credentials. */
  createTenant(name?: string): Promise<StackTenant>;
  /** Stops enforcer `index` and starts a fresh replica with the same configuration (state replayed from Kafka). */
  restartEnforcer(index: number): Promise<StackEnforcer>;
  /** Stops everything, closes clients and drops the stack's databases. */
  stop(): Promise<void>;
}

import { requireInfra } from '@authority/test-helpers';

export { requireInfra };

/** Silent unless TEST_LOG_LEVEL is set (e.g. TEST_LOG_LEVEL=debug). */
function stackLogger(service: string): Logger {
  const level = process.env['TEST_LOG_LEVEL'];
  return level ? createLogger({ service, level: level as 'debug' }) : silentLogger();
}

let telemetry: Promise<Telemetry | undefined> | undefined;
/**
 * Installs the W3C propagator and a tracer provider once per process (propagate-only: nothing is
 * exported), so trace context sent by a test client flows into the services' spans and events.
 */
export function ensureTelemetry(): Promise<unknown> {
  telemetry ??= startTelemetry({ serviceName: 'e2e', env: {} }).catch(() => undefined);
  return telemetry;
}

/** Telemetry with the stack's exporter/readers, replacing the shared propagate-only one (if started). */
async function startStackTelemetry(opts: NonNullable<StackOptions['telemetry']>): Promise<Telemetry> {
  const shared = telemetry;
  telemetry = undefined;
  await (await shared)?.shutdown();
  return startTelemetry({ serviceName: 'e2e', env: {}, ...opts });
}

/**
 * `await rpc(client, 'Mint', req, secret)`: a promisified unary call with `authorization: Bearer`;
 * failures reject with platform's AuthorityClientError (code, reason, field). `traceparent` is
 * sent as metadata when given.
 */
export function rpc<Res = unknown>(
  client: grpc.Client,
  method: string,
  req: object,
  secret: string | undefined,
  opts: { traceparent?: string; deadlineMs?: number } = {},
): Promise<Res> {
  const metadata = bearerMetadata(secret);
  if (opts.traceparent) metadata.set('traceparent', opts.traceparent);
  return callByName<Res>(client, method, req, { metadata, deadlineMs: opts.deadlineMs ?? 20_000 });
}

/**
 * Mints a root envelope through the issuer with the tenant's ADMIN credential. The grant is
 * unconstrained unless it says otherwise; `request` adds or overrides fields of the MintRequest
 * (ttlSeconds is 600 unless given; audience, holderPublicKey, ...).
 */
export function mintEnvelope(
  stack: Pick<Stack, 'issuer'>,
  tenant: Pick<StackTenant, 'tenant' | 'admin'>,
  agentId: string,
  grant: Record<string, unknown>,
  request: Record<string, unknown> = {},
  opts: { traceparent?: string } = {},
): Promise<MintResponse__Output> {
  return rpc<MintResponse__Output>(
    stack.issuer.client,
    'Mint',
    {
      tenant: tenant.tenant,
      agentId,
      grant: { contextFields: [], constraintsJson: '{"unconstrained":true}', ...grant },
      ttlSeconds: 600,
      ...request,
    },
    tenant.admin,
    opts,
  );
}

/** A random sampled W3C traceparent and its trace id. */
export function newTraceparent(): { traceparent: string; traceId: string } {
  const traceId = randomBytes(16).toString('hex');
  return { traceparent: `00-${traceId}-${randomBytes(8).toString('hex')}-01`, traceId };
}

function common(prefix: string, brokers: string, operatorKey: string): Record<string, string> {
  return {
    KAFKA_BROKERS: brokers,
    AUTHORITY_TOPIC_PREFIX: prefix,
    AUTHORITY_OPERATOR_API_KEY: operatorKey,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: 'silent',
    AUTHORITY_REFLECTION: 'false',
    AUTHORITY_SHUTDOWN_GRACE: '5s',
  };
}

/** Loads a service config from an env object, then binds port 0 (the schemas refuse 0 from env). */
function configFrom<T extends { AUTHORITY_GRPC_PORT: number }>(
  schema: Parameters<typeof loadConfig>[0],
  env: Record<string, string>,
): T {
  const config = loadConfig(schema, env, []) as unknown as T;
  return { ...config, AUTHORITY_GRPC_PORT: 0 };
}

/** AUTHORITY_EVENT_SIGNING_KEY and _ID of one producer. */
function signingEnv(key: { seed: Buffer; kid: string }): Record<string, string> {
  return { AUTHORITY_EVENT_SIGNING_KEY: key.seed.toString('base64url'), AUTHORITY_EVENT_SIGNING_KEY_ID: key.kid };
}

export async function startStack(opts: StackOptions = {}): Promise<Stack> {
  const infra = requireInfra();
  await cryptoReady();
  const ownTelemetry = opts.telemetry ? await startStackTelemetry(opts.telemetry) : undefined;
  if (!ownTelemetry) await ensureTelemetry();
  const id = randomBytes(4).toString('hex');
  const prefix = `e2e-${id}.`;
  const operatorKey = `op-${randomBytes(16).toString('hex')}`;
  const serviceKey = `svc-${randomBytes(16).toString('hex')}`;
  const databases = { issuer: `e2e_issuer_${id}`, policy: `e2e_policy_${id}`, auditor: `e2e_auditor_${id}` };
  const base = common(prefix, infra.brokers, operatorKey);
  const seeds = Object.fromEntries(
    EVENT_PRODUCERS.map((p) => [p, { seed: randomBytes(32), kid: `${p}-${id}` }]),
  ) as Record<EventProducer, { seed: Buffer; kid: string }>;
  const eventKeys = Object.fromEntries(
    EVENT_PRODUCERS.map((p) => [p, eventSigningKey(seeds[p].seed, seeds[p].kid)]),
  ) as Record<EventProducer, EventSigningKey>;
  const trustedKeys = EVENT_PRODUCERS.map(
    (p) => `${eventKeys[p].kid}=${Buffer.from(eventKeys[p].publicKey).toString('base64url')};sources=${p}`,
  ).join(',');
  const { grpcObject } = loadAuthorityProto();
  const v1 = grpcObject.authority.v1;
  const insecure = grpc.credentials.createInsecure();
  const stops: (() => Promise<void>)[] = [];
  const clients: grpc.Client[] = [];

  const stopAll = async () => {
    for (const c of clients) c.close();
    for (const s of stops.reverse()) await s().catch(() => undefined);
    stops.length = 0;
    const mongo = new MongoClient(infra.mongo);
    try {
      await mongo.connect();
      for (const db of Object.values(databases))
        await mongo
          .db(db)
          .dropDatabase()
          .catch(() => undefined);
    } finally {
      await mongo.close();
      await ownTelemetry?.shutdown();
    }
  };

  try {
    const issuerConfig = configFrom<ReturnType<typeof issuerConfigSchema.parse>>(issuerConfigSchema, {
      ...base,
      MONGODB_URI: infra.mongo,
      AUTHORITY_ISSUER_DB: databases.issuer,
      AUTHORITY_ISSUER_KEK: randomBytes(32).toString('base64'),
      AUTHORITY_SERVICE_API_KEY: serviceKey,
      ...signingEnv(seeds.issuer),
      ...opts.issuerEnv,
    });
    const issuerHandle = await startIssuer(issuerConfig, { logger: stackLogger('issuer') });
    stops.push(() => issuerHandle.stop());
    const issuerClient = new v1.IssuerService(issuerHandle.address, insecure);
    clients.push(issuerClient);
    const issuer = { address: issuerHandle.address, handle: issuerHandle, client: issuerClient };

    const enforcerConfigFor = (index: number): EnforcerConfig =>
      configFrom<EnforcerConfig>(enforcerConfigSchema, {
        ...base,
        AUTHORITY_SERVICE_NAME: `enforcer-${index}`,
        AUTHORITY_ENFORCER_ID: `enforcer-${index}`,
        AUTHORITY_SERVICE_API_KEY: serviceKey,
        AUTHORITY_ISSUER_ADDR: issuer.address,
        ...signingEnv(seeds.enforcer),
        ...opts.enforcerEnv,
      });
    const auditBuses = new Map<number, KafkaEventBus>();
    const launchEnforcer = async (index: number, config: EnforcerConfig): Promise<StackEnforcer> => {
      let auditBus: KafkaEventBus | undefined;
      if (opts.enforcerAudit?.[index] === 'platform') {
        auditBus = createKafka({
          brokers: config.KAFKA_BROKERS,
          clientId: `${config.AUTHORITY_ENFORCER_ID}-audit`,
          logger: stackLogger(`enforcer-${index}-audit`),
          publisher: { timeoutMs: config.AUTHORITY_AUDIT_TIMEOUT, maxBatchMessages: 1000 },
        });
        await auditBus.connectProducer();
        await auditBuses.get(index)?.disconnect();
        auditBuses.set(index, auditBus);
      }
      const handle = await startEnforcer(config, {
        logger: stackLogger(`enforcer-${index}`),
        ...(auditBus ? { auditPublisher: eventBusAuditPublisher(auditBus, eventKeys.enforcer) } : {}),
      });
      await handle.ready;
      const address = `127.0.0.1:${handle.port}`;
      const client = new v1.EnforcerService(address, insecure);
      clients.push(client);
      return { index, id: config.AUTHORITY_ENFORCER_ID, address, config, handle, client };
    };
    const enforcers: StackEnforcer[] = [];
    for (let i = 0; i < (opts.enforcers ?? 1); i++) enforcers.push(await launchEnforcer(i, enforcerConfigFor(i)));
    stops.push(async () => {
      for (const e of enforcers) await e.handle.stop();
      for (const bus of auditBuses.values()) await bus.disconnect();
    });

    let policy: Stack['policy'];
    if (opts.withPolicy) {
      const config = configFrom<ReturnType<typeof policyConfigSchema.parse>>(policyConfigSchema, {
        ...base,
        MONGODB_URI: infra.mongo,
        AUTHORITY_POLICY_DB: databases.policy,
        ...signingEnv(seeds.policy),
        ...opts.policyEnv,
      });
      const handle = await startPolicyService(config, { logger: stackLogger('policy'), drainDelayMs: 0 });
      stops.push(() => handle.stop());
      const address = `127.0.0.1:${handle.port}`;
      const client = new v1.PolicyService(address, insecure);
      clients.push(client);
      policy = { address, handle, client };
    }

    let auditor: Stack['auditor'];
    if (opts.withAuditor) {
      // Loaded at run time: the auditor is written in parallel, and the stack must build without it.
      const auditorModule = '@authority/auditor'; // a variable: type-checked builds need not resolve it
      let mod: Record<string, unknown>;
      try {
        mod = (await import(auditorModule)) as Record<string, unknown>;
      } catch (err) {
        throw new Error(
          `withAuditor: @authority/auditor cannot be loaded (is services/auditor/src/index.ts built?): ${(err as Error).message}`,
        );
      }
      const start = mod['startAuditor'] as
        | ((config: unknown, o?: { logger?: Logger }) => Promise<AuditorHandleLike>)
        | undefined;
      const schemaName = Object.keys(mod).find((k) => /ConfigSchema$/.test(k));
      if (typeof start !== 'function' || schemaName === undefined) {
        throw new Error('withAuditor: @authority/auditor does not export startAuditor(config) and a *ConfigSchema yet');
      }
      const config = configFrom<{ AUTHORITY_GRPC_PORT: number }>(mod[schemaName] as Parameters<typeof loadConfig>[0], {
        ...base,
        MONGODB_URI: infra.mongo,
        AUTHORITY_AUDITOR_DB: databases.auditor,
        AUTHORITY_AUDITOR_DATABASE: databases.auditor,
        AUTHORITY_AUDITOR_SIGNING_KEY: randomBytes(32).toString('base64'),
        AUTHORITY_EVENT_TRUSTED_KEYS: trustedKeys,
        ...opts.auditorEnv,
      });
      const handle = await start(config, { logger: stackLogger('auditor') });
      stops.push(() => handle.stop());
      const address = `127.0.0.1:${handle.port}`;
      const client = new v1.AuditorService(address, insecure);
      clients.push(client);
      auditor = { address, handle, client };
    }

    let stopped: Promise<void> | undefined;
    const stack: Stack = {
      id,
      prefix,
      eventKeys,
      topics: topicNames(prefix),
      brokers: infra.brokers.split(','),
      operatorKey,
      serviceKey,
      databases,
      issuer,
      enforcers,
      ...(policy ? { policy } : {}),
      ...(auditor ? { auditor } : {}),
      async createTenant(name = `t-${randomBytes(4).toString('hex')}`): Promise<StackTenant> {
        const t = await rpc<CreateTenantResponse__Output>(
          issuer.client,
          'CreateTenant',
          { tenant: name, displayName: name },
          operatorKey,
        );
        const admin = t.adminCredential?.secret ?? '';
        const cred = async (kind: string) =>
          (
            await rpc<CreateCredentialResponse__Output>(
              issuer.client,
              'CreateCredential',
              { tenant: name, kind },
              admin,
            )
          ).credential?.secret ?? '';
        return {
          tenant: name,
          keyId: t.key?.keyId ?? '',
          admin,
          adminId: t.adminCredential?.credentialId ?? '',
          approver: await cred('APPROVER'),
          checker: await cred('CHECKER'),
          auditor: await cred('AUDITOR'),
        };
      },
      async restartEnforcer(index: number): Promise<StackEnforcer> {
        const old = enforcers[index];
        if (!old) throw new Error(`no enforcer ${index}`);
        old.client.close();
        await old.handle.stop();
        const fresh = await launchEnforcer(index, old.config);
        enforcers[index] = fresh;
        return fresh;
      },
      stop: () => {
        stopped ??= stopAll();
        return stopped;
      },
    };
    return stack;
  } catch (err) {
    await stopAll();
    throw err;
  }
}
