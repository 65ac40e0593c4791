// Shared setup of the auditor tests: the REAL Kafka broker and MongoDB-wire server from
// KAFKA_BROKERS / MONGODB_URI (missing → the test fails loudly), a unique topic prefix and database
// per run, producer keys the auditor trusts (one per service, limited to its source), audit events
// signed and produced with platform's publisher, credentials and policies published the
// way the issuer and the policy service do, a typed client, and a polling helper with a deadline.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { MongoClient, type Collection, type Db, type Document, type Filter } from 'mongodb';
import { ENTRIES_COLLECTION, entriesCollectionName } from '../src/adapters/mongo';
import {
  cryptoReady,
  eventSigningKey,
  parseTrustedEventKeys,
  sha256Hex,
  type EventKeyResolver,
  type SignedAttestation,
  type SignedCheckpoint,
  type EventSigningKey,
  EVENT_TYPES,
  recordKeys,
} from '@authority/core';
import {
  authorityTopicSpecs,
  bearerMetadata,
  callByName,
  cloudEventHeaders,
  createKafka,
  createLogger,
  loadConfig,
  silentLogger,
  withEventSignature,
  type EventMessage,
  type KafkaEventBus,
  type Logger,
} from '@authority/platform';
import {
  createMessage,
  encodeEvent,
  loadAuthorityProto,
  pb,
  timestampFromDate,
  type AttestRequest,
  type AttestResponse__Output,
  type Attestation__Output,
  type AuditorServiceClient,
  type GetCheckpointRequest,
  type GetCheckpointResponse__Output,
  type GetComplianceReportRequest,
  type GetComplianceReportResponse__Output,
  type ListAuditorKeysRequest,
  type ListAuditorKeysResponse__Output,
  type GetChainStatusRequest,
  type GetChainStatusResponse__Output,
  type ArchiveChainSegmentRequest,
  type ArchiveChainSegmentResponse__Output,
  type ListCheckpointsRequest,
  type ListCheckpointsResponse__Output,
  type QueryEventsRequest,
  type QueryEventsResponse__Output,
  type VerifyChainRequest,
  type VerifyChainResponse__Output,
} from '@authority/proto';
import { AuthorityClientError } from '@authority/platform';
import {
  AuditIngest,
  auditorConfigChecks,
  auditorConfigSchema,
  AuditorKeys,
  ChainAppender,
  Checkpointer,
  type AuditorConfig,
  type ChainStore,
} from '../src/index';

import { eventually, requireInfra } from '@authority/test-helpers';

export { eventually, requireInfra };

// Ed25519 must be ready before a record is signed (startAuditor awaits it too).
void cryptoReady();

/** The producers of these tests, each with its own signing seed (one per test process). */
export const PRODUCER_SEEDS = {
  enforcer: randomBytes(32),
  issuer: randomBytes(32),
  policy: randomBytes(32),
} as const;
export type Producer = keyof typeof PRODUCER_SEEDS;

/** A producer's signing identity (kid `<producer>-test`); Ed25519 must be ready (cryptoReady). */
export function producerKey(producer: Producer): EventSigningKey {
  return eventSigningKey(PRODUCER_SEEDS[producer], `${producer}-test`);
}

export interface TestEnv {
  id: string;
  prefix: string;
  db: string;
  seed: string;
  operatorKey: string;
}

export function newTestEnv(): TestEnv {
  const id = randomBytes(4).toString('hex');
  return {
    id,
    prefix: `test-${id}.`,
    db: `auditor_test_${id}`,
    seed: randomBytes(32).toString('base64'),
    operatorKey: `op-${randomBytes(16).toString('hex')}`,
  };
}

/** The environment variables of an auditor for this test env (also used for child processes). */
export function auditorEnv(env: TestEnv, extra: Record<string, string> = {}): Record<string, string> {
  const infra = requireInfra();
  return {
    KAFKA_BROKERS: infra.brokers,
    MONGODB_URI: infra.mongo,
    AUTHORITY_TOPIC_PREFIX: env.prefix,
    AUTHORITY_AUDITOR_DB: env.db,
    AUTHORITY_AUDITOR_SIGNING_KEY: env.seed,
    AUTHORITY_OPERATOR_API_KEY: env.operatorKey,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: 'silent',
    AUTHORITY_REFLECTION: 'false',
    AUTHORITY_AUDITOR_GROUP_ID: `auditor-${env.id}`,
    AUTHORITY_AUDITOR_SESSION_TIMEOUT: '6s',
    AUTHORITY_AUDITOR_FETCH_MAX_WAIT: '100ms',
    AUTHORITY_CHECKPOINT_INTERVAL: '300ms',
    AUTHORITY_SHUTDOWN_GRACE: '5s',
    AUTHORITY_EVENT_TRUSTED_KEYS: trustedKeysEnv(),
    ...extra,
  };
}

/**
 * AUTHORITY_EVENT_TRUSTED_KEYS for the test producers, each key limited to its own source
 * (libsodium is ready by the time a test runs: see cryptoReady above).
 */
export function trustedKeysEnv(): string {
  return (Object.keys(PRODUCER_SEEDS) as Producer[])
    .map((p) => `${p}-test=${Buffer.from(producerKey(p).publicKey).toString('base64url')};sources=${p}`)
    .join(',');
}

/** The test producers' keys as AuditIngest takes them (by key id). */
export function trustedKeyResolver(): EventKeyResolver {
  const keys = new Map(parseTrustedEventKeys(trustedKeysEnv()).keys.map((k) => [k.kid, k]));
  return (kid) => keys.get(kid);
}

export function auditorConfig(env: TestEnv, extra: Record<string, string> = {}): AuditorConfig {
  return { ...loadConfig(auditorConfigSchema, auditorEnv(env, extra), auditorConfigChecks()), AUTHORITY_GRPC_PORT: 0 };
}

export function auditorClient(address: string): AuditorServiceClient {
  const { grpcObject } = loadAuthorityProto();
  return new grpcObject.authority.v1.AuditorService(address, grpc.credentials.createInsecure());
}

export { bearerMetadata as bearer };

/** The RPCs of AuditorService: request and response types. */
export interface AuditorRpcs {
  QueryEvents: [QueryEventsRequest, QueryEventsResponse__Output];
  VerifyChain: [VerifyChainRequest, VerifyChainResponse__Output];
  GetCheckpoint: [GetCheckpointRequest, GetCheckpointResponse__Output];
  ListCheckpoints: [ListCheckpointsRequest, ListCheckpointsResponse__Output];
  Attest: [AttestRequest, AttestResponse__Output];
  GetComplianceReport: [GetComplianceReportRequest, GetComplianceReportResponse__Output];
  ListAuditorKeys: [ListAuditorKeysRequest, ListAuditorKeysResponse__Output];
  GetChainStatus: [GetChainStatusRequest, GetChainStatusResponse__Output];
  ArchiveChainSegment: [ArchiveChainSegmentRequest, ArchiveChainSegmentResponse__Output];
}

/** `await call(client, 'QueryEvents', req, secret)`: promisified, failures as AuthorityClientError. */
export function call<M extends keyof AuditorRpcs>(
  client: AuditorServiceClient,
  method: M,
  req: AuditorRpcs[M][0],
  secret: string | undefined,
): Promise<AuditorRpcs[M][1]> {
  return callByName(client, method, req, { metadata: bearerMetadata(secret), deadlineMs: 60_000 });
}

/** The signed content of an Attest answer, as core's verifyAttestation takes it. */
export function signedAttestation(a: Attestation__Output): SignedAttestation {
  const cp = must(a.checkpoint);
  return {
    tenant: a.tenant,
    agent: a.agentId,
    resourcePattern: a.resourcePattern,
    from: Number(must(a.startTime).seconds),
    to: Number(must(a.endTime).seconds),
    allowedCount: Number(a.allowedCount),
    allowedActedCount: Number(a.allowedActedCount),
    allowedDelegatedCount: Number(a.allowedDelegatedCount),
    deniedCount: Number(a.deniedCount),
    checkpoint: { seq: Number(cp.seq), headHash: cp.headHash },
    issuedAt: Number(must(a.issuedAt).seconds),
    keyId: a.keyId,
    signature: Buffer.from(a.signature).toString('base64url'),
  };
}

/** The value, asserting it is there (for optional proto fields in assertions). */
export function must<T>(value: T | null | undefined, what = 'value'): T {
  if (value === null || value === undefined) throw new Error(`expected ${what}`);
  return value;
}

/** An assert.rejects validator: an AuthorityClientError with this status (and whatever `check` adds). */
export function grpcError(
  code: string,
  check: (e: AuthorityClientError) => boolean = () => true,
): (e: unknown) => boolean {
  return (e) => e instanceof AuthorityClientError && e.codeName === code && check(e);
}

export function testBus(name = 'test'): KafkaEventBus {
  const infra = requireInfra();
  return createKafka({
    brokers: infra.brokers.split(','),
    clientId: `${name}-${randomBytes(3).toString('hex')}`,
    logger: silentLogger(),
  });
}

export async function mongoClient(): Promise<MongoClient> {
  const client = new MongoClient(requireInfra().mongo);
  await client.connect();
  return client;
}

/** What an integration test runs the auditor against: a fresh env, a bus with the topics, a MongoDB client. */
export interface TestRig {
  env: TestEnv;
  bus: KafkaEventBus;
  mongo: MongoClient;
}

/** A fresh env (topic prefix, database), a bus (client id `name-…`) with its topics, a MongoDB client. */
export async function testRig(name: string): Promise<TestRig> {
  await cryptoReady();
  const env = newTestEnv();
  const bus = testBus(name);
  await bus.ensureTopics(authorityTopicSpecs(env.prefix));
  return { env, bus, mongo: await mongoClient() };
}

/** Undoes what testRig made (whatever of it exists): the bus, the test database, the client. */
export async function closeRig(rig: Partial<TestRig>): Promise<void> {
  await rig.bus?.disconnect();
  if (rig.env !== undefined)
    await rig.mongo
      ?.db(rig.env.db)
      .dropDatabase()
      .catch(() => undefined);
  await rig.mongo?.close();
}

/** A test database's chain entries: one collection per tenant (adapters/mongo), or all of them. */
export class StoredEntries {
  constructor(readonly db: Db) {}
  /** The collection of one tenant's entries. */
  of(tenant: string): Collection<Document> {
    return this.db.collection(entriesCollectionName(tenant));
  }
  private async collections(): Promise<Collection<Document>[]> {
    const names = await this.db.listCollections({}, { nameOnly: true }).toArray();
    return names
      .map((c) => c.name)
      .filter((n) => n.startsWith(`${ENTRIES_COLLECTION}.`))
      .map((n) => this.db.collection(n));
  }
  /** Entries matching `filter` in every tenant's collection. */
  async count(filter: Filter<Document> = {}): Promise<number> {
    let n = 0;
    for (const c of await this.collections()) n += await c.countDocuments(filter);
    return n;
  }
  /** One tenant's entries in seq order: each one's seq and event id. */
  async inSeqOrder(tenant: string): Promise<{ seq: number; eventId: string }[]> {
    const docs = await this.of(tenant)
      .find({}, { projection: { _id: 0, seq: 1, eventId: 1 } })
      .sort({ seq: 1 })
      .toArray();
    return docs.map((d) => ({ seq: d['seq'] as number, eventId: d['eventId'] as string }));
  }
  /** The distinct values of a field over every tenant's entries. */
  async distinct(field: string): Promise<unknown[]> {
    const all = new Set<unknown>();
    for (const c of await this.collections()) for (const v of await c.distinct(field)) all.add(v);
    return [...all];
  }
}

export interface EventSpec {
  tenant: string;
  eventId?: string;
  agent?: string;
  /** Actor.agent_chain: the delegation path, root first (none: an event from before paths were recorded). */
  chain?: string[];
  /** Actor.chain_unverified: the path is only what a token that failed verification claimed. */
  unverified?: boolean;
  action?: string;
  resource?: string;
  decision?: 'ALLOW' | 'DENY';
  reason?: keyof typeof pb.ReasonCode;
  timeMs?: number;
  message?: string;
  purpose?: string;
}

export function auditEvent(s: EventSpec): pb.AuditEvent {
  const decision = s.decision ?? 'ALLOW';
  return createMessage(pb.AuditEventSchema, {
    eventId: s.eventId ?? randomBytes(12).toString('base64url'),
    tenant: s.tenant,
    time: timestampFromDate(new Date(s.timeMs ?? Date.now())),
    source: 'enforcer',
    actor: createMessage(pb.ActorSchema, {
      agentId: s.agent ?? 'agent-1',
      jtiChain: s.chain ? s.chain.map((_, i) => `jti-${i}`) : ['jti-root'],
      principal: 'checker-1',
      agentChain: s.chain ?? [],
      chainUnverified: s.unverified ?? false,
    }),
    action: s.action ?? 'check',
    resource: s.resource ?? 'slos://vaults/student-records/r1',
    decision: decision === 'ALLOW' ? pb.Decision.ALLOW : pb.Decision.DENY,
    reason: pb.ReasonCode[s.reason ?? (decision === 'ALLOW' ? 'ALLOWED' : 'RESOURCE_NOT_ALLOWED')],
    message: s.message ?? '',
    policyVersion: '1',
    traceId: randomBytes(16).toString('hex'),
    spanId: randomBytes(8).toString('hex'),
    detail: {
      case: 'check',
      value: createMessage(pb.CheckDetailSchema, {
        decisionId: randomBytes(8).toString('hex'),
        purpose: s.purpose ?? '',
      }),
    },
  });
}

/**
 * The Kafka record of an event, the way the enforcer publishes it (key and ce_subject = tenant),
 * signed by the producer its `source` names (`signer: null`: unsigned; or any other key).
 */
export function auditRecord(
  e: pb.AuditEvent,
  override: { key?: string | null; subject?: string; signer?: EventSigningKey | null; type?: string } = {},
): EventMessage {
  const headers = cloudEventHeaders({
    id: e.eventId,
    type: override.type ?? EVENT_TYPES.audit,
    source: e.source,
    subject: override.subject ?? e.tenant,
    time: new Date(Number(e.time?.seconds ?? 0n) * 1000),
  });
  const message: EventMessage = {
    key: override.key === undefined ? e.tenant : override.key,
    value: encodeEvent(pb.AuditEventSchema, e),
    headers,
  };
  const signer =
    override.signer !== undefined
      ? override.signer
      : e.source in PRODUCER_SEEDS
        ? producerKey(e.source as Producer)
        : null;
  return signer === null ? message : withEventSignature(message, signer);
}

/** Publishes many records with platform's batching publisher (chunks of 500, acks=all). */
export async function publishAll(bus: KafkaEventBus, topic: string, records: EventMessage[]): Promise<void> {
  const chunks: Promise<void>[] = [];
  for (let i = 0; i < records.length; i += 500) chunks.push(bus.publish(topic, records.slice(i, i + 500)));
  await Promise.all(chunks);
}

/** Publishes a tenant credential the way the issuer does (only its SHA-256 travels). */
export async function publishCredential(
  bus: KafkaEventBus,
  prefix: string,
  tenant: string,
  kind: 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR',
  secret: string,
  id = `cred-${randomBytes(4).toString('hex')}`,
): Promise<void> {
  const e = createMessage(pb.CredentialEventSchema, {
    tenant,
    credentialId: id,
    kind: pb.CredentialKind[kind],
    secretSha256: sha256Hex(secret),
    revoked: false,
    createdAt: timestampFromDate(new Date()),
  });
  await bus.publish(`${prefix}keys`, [
    {
      key: recordKeys.credential(tenant, id),
      value: encodeEvent(pb.CredentialEventSchema, e),
      headers: cloudEventHeaders({
        id,
        type: EVENT_TYPES.credential,
        source: 'test',
        subject: tenant,
        time: new Date(),
      }),
    },
  ]);
}

/** Publishes a policy version the way the policy service does. */
export async function publishPolicy(
  bus: KafkaEventBus,
  prefix: string,
  tenant: string,
  version: number,
  yaml: string,
): Promise<void> {
  const e = createMessage(pb.PolicyVersionEventSchema, {
    tenant,
    version: BigInt(version),
    yaml,
    sha256: sha256Hex(yaml),
    author: 'test',
    createdAt: timestampFromDate(new Date()),
  });
  await bus.publish(`${prefix}policies`, [
    {
      key: recordKeys.policyVersion(tenant, version),
      value: encodeEvent(pb.PolicyVersionEventSchema, e),
      headers: cloudEventHeaders({
        id: `${tenant}-${version}`,
        type: EVENT_TYPES.policy,
        source: 'test',
        subject: tenant,
        time: new Date(),
      }),
    },
  ]);
}

export function randomSecret(label: string): string {
  return `${label}-${randomBytes(16).toString('hex')}`;
}

/** A logger keeping its warnings and errors (JSON lines), for assertion messages that say why. */
export function warningsLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const logger = createLogger({
    service: 'test',
    level: 'warn',
    destination: { write: (l: string) => void lines.push(l) },
  });
  return { logger, lines };
}

/**
 * The auditor's write path on `store` without Kafka or gRPC: the test seed's keys, an appender (its
 * own head cache), a checkpointer signing every `every` entries (published nowhere unless
 * `publish` says) and the ingest in front of them, trusting the test producers.
 */
export function writePath(
  store: ChainStore,
  env: TestEnv,
  every: number,
  publish: (cp: SignedCheckpoint) => Promise<void> = async () => undefined,
  logger: Logger = silentLogger(),
): { keys: AuditorKeys; appender: ChainAppender; checkpointer: Checkpointer; ingest: AuditIngest } {
  const keys = AuditorKeys.fromBase64Seed(env.seed);
  const appender = new ChainAppender({ store, keys, logger });
  const checkpointer = new Checkpointer({ store, keys, appender, publish, logger, every });
  const ingest = new AuditIngest({
    store,
    appender,
    checkpointer,
    logger,
    trustedKeys: trustedKeyResolver(),
  });
  return { keys, appender, checkpointer, ingest };
}
