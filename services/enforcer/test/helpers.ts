// Shared test fixtures: real Kafka (KAFKA_BROKERS), a unique topic prefix per run, tenants whose
// keys and credentials are published as KeyEvent/CredentialEvent (no issuer needed), tokens minted
// with core, a gRPC client, an audit-topic reader, and a polling helper with a deadline.
import { randomBytes, randomUUID } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  cryptoReady,
  declareUnconstrained,
  eventSigningKey,
  type EventRecord,
  type EventSigningKey,
  generateEd25519KeyPair,
  mintRoot,
  randomId,
  sha256Hex,
  type Constraints,
  type Ed25519KeyPair,
  type RootParams,
  EVENT_TYPES,
  recordKeys,
} from '@authority/core';
import {
  authorityTopicSpecs,
  cloudEventHeaders,
  createKafka,
  loadConfig,
  silentLogger,
  topics,
  unaryCall,
  type ConsumerHandle,
  type KafkaEventBus,
  type Logger,
} from '@authority/platform';
import {
  createMessage,
  decodeEvent,
  encodeEvent,
  pb,
  timestampFromDate,
  type BatchCheckResponse__Output,
  type CheckRequest,
  type CheckResponse__Output,
  type EnforcerServiceClient,
  loadAuthorityProto,
} from '@authority/proto';
import {
  enforcerConfigChecks,
  enforcerConfigSchema,
  startEnforcer,
  type EnforcerConfig,
  type EnforcerHandle,
  type StartEnforcerOptions,
} from '../src/index';
import type { CheckEventInput } from '../src/audit';

import { waitFor } from '@authority/test-helpers';

export { waitFor };

/** The broker list; an integration test fails loudly (never skips) without it. */
export function requireKafka(): string {
  const brokers = process.env['KAFKA_BROKERS'];
  if (!brokers)
    throw new Error('KAFKA_BROKERS is not set: integration tests need the real Kafka broker (source .infra/env)');
  return brokers;
}

export const OPERATOR_KEY = 'operator-key-0123456789abcdef';

/** The event-signing seed of the enforcers these tests start (one per test process) and its key id. */
export const TEST_EVENT_SEED = randomBytes(32);
export const TEST_EVENT_KEY_ID = 'enforcer-test';

/** The signing identity of TEST_EVENT_SEED (await cryptoReady() first): its public key verifies the events. */
export function testEventKey(): EventSigningKey {
  return eventSigningKey(TEST_EVENT_SEED, TEST_EVENT_KEY_ID);
}

export function testPrefix(): string {
  return `test-${randomId(6)
    .replace(/[^A-Za-z0-9]/g, 'x')
    .toLowerCase()}.`;
}

export function enforcerConfig(prefix: string, env: Record<string, string> = {}): EnforcerConfig {
  const config = loadConfig(
    enforcerConfigSchema,
    {
      KAFKA_BROKERS: requireKafka(),
      AUTHORITY_TOPIC_PREFIX: prefix,
      AUTHORITY_OPERATOR_API_KEY: OPERATOR_KEY,
      AUTHORITY_GRPC_HOST: '127.0.0.1',
      AUTHORITY_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
      AUTHORITY_SHUTDOWN_GRACE: '5s',
      AUTHORITY_REFLECTION: 'false',
      AUTHORITY_EVENT_SIGNING_KEY: TEST_EVENT_SEED.toString('base64url'),
      AUTHORITY_EVENT_SIGNING_KEY_ID: TEST_EVENT_KEY_ID,
      ...env,
    },
    enforcerConfigChecks(),
  );
  return { ...config, AUTHORITY_GRPC_PORT: 0 };
}

/** A tenant with one ACTIVE signing key and a CHECKER credential. */
export interface TestTenant {
  tenant: string;
  kid: string;
  key: Ed25519KeyPair;
  checkerSecret: string;
  checkerId: string;
}

/** Publishes state events (keys, credentials, revocations, policies) to a test's topics. */
export class StateFixture {
  readonly topics: ReturnType<typeof topics>;
  private constructor(
    readonly bus: KafkaEventBus,
    readonly prefix: string,
  ) {
    this.topics = topics(prefix);
  }

  static async create(prefix: string, logger: Logger = silentLogger()): Promise<StateFixture> {
    await cryptoReady();
    const bus = createKafka({
      brokers: requireKafka().split(','),
      clientId: `fixture-${randomId(4)}`,
      logger,
      onFatal: () => undefined,
    });
    await bus.ensureTopics(authorityTopicSpecs(prefix));
    await bus.connectProducer();
    return new StateFixture(bus, prefix);
  }

  private headers(id: string, type: string, tenant: string) {
    return cloudEventHeaders({ id, type, source: 'test', subject: tenant, time: new Date() });
  }

  async publishKey(
    tenant: string,
    kid: string,
    publicKey: Uint8Array,
    status: pb.KeyStatus = pb.KeyStatus.ACTIVE,
    verifyUntil?: Date,
    extra: { signedUntil?: Date; compromised?: boolean } = {},
  ): Promise<void> {
    const event = createMessage(pb.KeyEventSchema, {
      tenant,
      keyId: kid,
      publicKey,
      status,
      createdAt: timestampFromDate(new Date()),
      ...(verifyUntil ? { verifyUntil: timestampFromDate(verifyUntil) } : {}),
      ...(extra.signedUntil ? { signedUntil: timestampFromDate(extra.signedUntil) } : {}),
      ...(extra.compromised === true ? { compromised: true } : {}),
    });
    await this.bus.publish(this.topics.keys, [
      {
        key: recordKeys.key(tenant, kid),
        value: encodeEvent(pb.KeyEventSchema, event),
        headers: this.headers(randomId(), EVENT_TYPES.key, tenant),
      },
    ]);
  }

  async publishCredential(
    tenant: string,
    id: string,
    secret: string,
    kind: pb.CredentialKind,
    revoked = false,
  ): Promise<void> {
    const event = createMessage(pb.CredentialEventSchema, {
      tenant,
      credentialId: id,
      kind,
      secretSha256: sha256Hex(secret),
      revoked,
      createdAt: timestampFromDate(new Date()),
    });
    await this.bus.publish(this.topics.keys, [
      {
        key: recordKeys.credential(tenant, id),
        value: encodeEvent(pb.CredentialEventSchema, event),
        headers: this.headers(randomId(), EVENT_TYPES.credential, tenant),
      },
    ]);
  }

  async revokeJti(tenant: string, jti: string): Promise<void> {
    const now = new Date();
    const event = createMessage(pb.RevocationEventSchema, {
      tenant,
      kind: pb.RevocationKind.JTI,
      jti,
      revokedAt: timestampFromDate(now),
      forgetAfter: timestampFromDate(new Date(now.getTime() + 86_400_000)),
      reason: 'test',
    });
    await this.bus.publish(this.topics.revocations, [
      {
        key: recordKeys.revokedJti(tenant, jti),
        value: encodeEvent(pb.RevocationEventSchema, event),
        headers: this.headers(randomId(), EVENT_TYPES.revocation, tenant),
      },
    ]);
  }

  async revokeAgent(tenant: string, agent: string, before: Date): Promise<void> {
    const event = createMessage(pb.RevocationEventSchema, {
      tenant,
      kind: pb.RevocationKind.AGENT,
      agentId: agent,
      revokedBefore: timestampFromDate(before),
      revokedAt: timestampFromDate(new Date()),
      reason: 'test',
    });
    await this.bus.publish(this.topics.revocations, [
      {
        key: recordKeys.revokedAgent(tenant, agent),
        value: encodeEvent(pb.RevocationEventSchema, event),
        headers: this.headers(randomId(), EVENT_TYPES.revocation, tenant),
      },
    ]);
  }

  async publishPolicy(tenant: string, version: number, yaml: string): Promise<void> {
    const event = createMessage(pb.PolicyVersionEventSchema, {
      tenant,
      version: BigInt(version),
      yaml,
      sha256: sha256Hex(yaml),
      author: 'test',
      createdAt: timestampFromDate(new Date()),
    });
    await this.bus.publish(this.topics.policies, [
      {
        key: recordKeys.policyVersion(tenant, version),
        value: encodeEvent(pb.PolicyVersionEventSchema, event),
        headers: this.headers(randomId(), EVENT_TYPES.policy, tenant),
      },
    ]);
  }

  /** A tenant with an ACTIVE key `<tenant>-k1` and a CHECKER credential, published. */
  async tenant(
    name: string = `t-${randomId(4)
      .toLowerCase()
      .replace(/[^a-z0-9]/g, 'x')}`,
  ): Promise<TestTenant> {
    const key = generateEd25519KeyPair();
    const kid = `${name}-k1`;
    const checkerSecret = `checker-${randomId(16)}`;
    const checkerId = `chk-${randomId(4)}`;
    await this.publishKey(name, kid, key.publicKey);
    await this.publishCredential(name, checkerId, checkerSecret, pb.CredentialKind.CHECKER);
    return { tenant: name, kid, key, checkerSecret, checkerId };
  }

  async close(): Promise<void> {
    await this.bus.disconnect();
  }
}

/** A decision to audit: an ALLOW of `vault:finance:read` by checker `chk-1` of `tenant`, overridden. */
export function checkEventInput(tenant: string, over: Partial<CheckEventInput> = {}): CheckEventInput {
  return {
    decisionId: randomUUID(),
    tenant,
    timeMs: Date.now(),
    caller: { kind: 'tenant', id: 'chk-1', tenant },
    request: {
      token: 't',
      requiredScope: 'vault:finance:read',
      resource: 'r',
      action: '',
      context: null,
      approvalId: '',
      proof: '',
    },
    result: { decision: 'ALLOW', reason: 'ALLOWED', message: 'allowed', agent: 'agent-1', chain: ['j1'], tenant },
    policyVersion: undefined,
    approvalId: '',
    enforcerId: 'enf-test',
    traceId: '',
    spanId: '',
    ...over,
  };
}

export function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

export const UNCONSTRAINED: Constraints = declareUnconstrained();

/** Mints a root token for `t` (defaults: vault:finance:read on slos://vaults/finance/*, 1 h). */
export function mint(
  t: TestTenant,
  params: Partial<RootParams> = {},
  now: number = nowSec(),
): { token: string; jti: string; chain: string; holderSecretKey: Uint8Array | undefined } {
  const minted = mintRoot(
    {
      tenant: t.tenant,
      agent: 'agent-1',
      scopes: ['vault:finance:read'],
      resources: ['slos://vaults/finance/*'],
      context: [],
      constraints: UNCONSTRAINED,
      ttlSeconds: 3600,
      ...params,
    },
    { secretKey: t.key.secretKey, kid: t.kid, now },
  );
  return { token: minted.token, jti: minted.claims.jti, chain: minted.chain, holderSecretKey: minted.holderSecretKey };
}

/** A promise-returning Enforcer client. */
export class EnforcerClient {
  readonly raw: EnforcerServiceClient;
  constructor(port: number) {
    const { grpcObject } = loadAuthorityProto();
    this.raw = new grpcObject.authority.v1.EnforcerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  private md(secret: string | undefined): grpc.Metadata {
    const md = new grpc.Metadata();
    if (secret !== undefined) md.set('authorization', `Bearer ${secret}`);
    return md;
  }

  check(secret: string | undefined, req: CheckRequest): Promise<CheckResponse__Output> {
    return unaryCall(this.raw.Check.bind(this.raw), req, {
      metadata: this.md(secret),
      deadlineMs: 15_000,
    }) as Promise<CheckResponse__Output>;
  }

  batch(secret: string | undefined, checks: CheckRequest[]): Promise<BatchCheckResponse__Output> {
    return unaryCall(
      this.raw.BatchCheck.bind(this.raw),
      { checks },
      { metadata: this.md(secret), deadlineMs: 60_000 },
    ) as Promise<BatchCheckResponse__Output>;
  }

  close(): void {
    this.raw.close();
  }
}

/** grpc.health.v1 Check for the server-wide status ('' service): 1 SERVING, 2 NOT_SERVING. */
export function healthStatus(port: number): Promise<number> {
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  return new Promise<number>((resolve, reject) => {
    client.makeUnaryRequest(
      '/grpc.health.v1.Health/Check',
      () => Buffer.alloc(0), // HealthCheckRequest{service: ''}
      (buf: Buffer) => (buf.length >= 2 && buf[0] === 0x08 ? buf[1]! : 0),
      {},
      { deadline: Date.now() + 5000 },
      (err, status) => {
        client.close();
        if (err) reject(err);
        else resolve(status ?? 0);
      },
    );
  });
}
export const SERVING = 1;

/** Starts an enforcer on a test prefix and waits until health says SERVING. */
export async function startServing(
  prefix: string,
  env: Record<string, string> = {},
  opts: StartEnforcerOptions = {},
): Promise<EnforcerHandle> {
  const enforcer = await startEnforcer(enforcerConfig(prefix, env), { drainDelayMs: 0, ...opts });
  await enforcer.ready;
  await waitFor(async () => (await healthStatus(enforcer.port)) === SERVING, { what: 'health SERVING' });
  return enforcer;
}

/** Reads the audit topic of a prefix from the beginning, indexing events by id. */
export class AuditReader {
  private constructor(
    private readonly handle: ConsumerHandle,
    readonly events: Map<
      string,
      { event: pb.AuditEvent; headers: Record<string, string>; key: string; record: EventRecord }
    >,
  ) {}

  static async start(fixture: StateFixture): Promise<AuditReader> {
    const events: AuditReader['events'] = new Map();
    const handle = await fixture.bus.consume({
      groupId: `audit-reader-${randomId(6)}`,
      topics: [fixture.topics.audit],
      fromBeginning: true,
      eachMessage: async (m) => {
        if (!m.value) return;
        const event = decodeEvent(pb.AuditEventSchema, m.value);
        const headers: Record<string, string> = {};
        for (const [k, v] of Object.entries(m.headers)) {
          const first = Array.isArray(v) ? v[0] : v;
          if (first !== undefined) headers[k] = first.toString();
        }
        events.set(event.eventId, {
          event,
          headers,
          key: m.key?.toString() ?? '',
          record: { key: m.key, value: m.value, headers: m.headers },
        });
      },
    });
    return new AuditReader(handle, events);
  }

  wait(eventId: string, timeoutMs = 20_000) {
    return waitFor(() => this.events.get(eventId), { timeoutMs, what: `audit event ${eventId}` });
  }

  stop(): Promise<void> {
    return this.handle.disconnect();
  }
}
