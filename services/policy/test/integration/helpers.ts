// Helpers for the policy service's integration tests: real Kafka and MongoDB-wire server from
// KAFKA_BROKERS / MONGODB_URI (missing → the test FAILS), a unique topic prefix and database per
// test file, credentials published on `<prefix>keys` as the issuer does, a promisified client.
import { randomBytes, createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { MongoClient } from 'mongodb';
import {
  authorityTopicSpecs,
  bearerMetadata,
  cloudEventHeaders,
  createKafka,
  fromGrpcError,
  loadConfig,
  silentLogger,
  unaryCall,
  type AuthorityClientError,
  type ConsumedMessage,
  type KafkaEventBus,
} from '@authority/platform';
import { createMessage, encodeEvent, loadAuthorityProto, pb, timestampFromDate } from '@authority/proto';
import type {
  DeletePolicyResponse__Output,
  GetPolicyResponse__Output,
  ListPolicyVersionsResponse__Output,
  PolicyServiceClient,
  PolicyVersion__Output,
  PutPolicyResponse__Output,
  ValidatePolicyResponse__Output,
  WatchPoliciesResponse__Output,
} from '@authority/proto';
import { policyConfigSchema, startPolicyService, type PolicyConfig, type PolicyServiceHandle } from '../../src/index';

import { eventually, requireInfra } from '@authority/test-helpers';

export { eventually };

export const OPERATOR_KEY = 'operator-key-for-policy-tests-0123456789';

/** The audit-event signing seed of the policy services these tests start, and its key id. */
export const EVENT_SEED = randomBytes(32);
export const EVENT_KEY_ID = 'policy-test';

/** The infrastructure from the environment; throws (fails the test) when it is not configured. */
export function infra(): { brokers: string; mongoUri: string } {
  const { brokers, mongo } = requireInfra();
  return { brokers, mongoUri: mongo };
}

export function randomSuffix(): string {
  return randomBytes(5).toString('hex');
}

/** A fresh environment: unique topic prefix and database name. */
export interface TestEnv {
  prefix: string;
  database: string;
  brokers: string;
  mongoUri: string;
}

export function newTestEnv(): TestEnv {
  const { brokers, mongoUri } = infra();
  const id = randomSuffix();
  return { prefix: `test-${id}.`, database: `policy_test_${id}`, brokers, mongoUri };
}

export function configFor(env: TestEnv, extra: Record<string, string> = {}): PolicyConfig {
  const config = loadConfig(policyConfigSchema, {
    KAFKA_BROKERS: env.brokers,
    MONGODB_URI: env.mongoUri,
    AUTHORITY_TOPIC_PREFIX: env.prefix,
    AUTHORITY_POLICY_DB: env.database,
    AUTHORITY_OPERATOR_API_KEY: OPERATOR_KEY,
    AUTHORITY_EVENT_SIGNING_KEY: EVENT_SEED.toString('base64url'),
    AUTHORITY_EVENT_SIGNING_KEY_ID: EVENT_KEY_ID,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    AUTHORITY_REFLECTION: 'false',
    ...extra,
  });
  return { ...config, AUTHORITY_GRPC_PORT: 0 };
}

export async function startService(env: TestEnv, extra: Record<string, string> = {}): Promise<PolicyServiceHandle> {
  return startPolicyService(configFor(env, extra), {
    drainDelayMs: 0,
    onFatal: (err) => {
      throw err;
    },
  });
}

/** A Kafka bus for the test itself (publishing credentials, reading topics). */
export function testBus(env: TestEnv): KafkaEventBus {
  return createKafka({
    brokers: env.brokers.split(','),
    clientId: `policy-test-${randomSuffix()}`,
    logger: silentLogger(),
  });
}

/** Creates the topics of the prefix, as the infrastructure does before services start. */
export async function ensureTestTopics(bus: KafkaEventBus, env: TestEnv): Promise<void> {
  await bus.ensureTopics(authorityTopicSpecs(env.prefix));
}

export type CredentialKindName = 'ADMIN' | 'APPROVER' | 'CHECKER' | 'AUDITOR';

/** Publishes a credential on `<prefix>keys` exactly as the issuer does (hash only). Returns the secret. */
export async function publishCredential(
  bus: KafkaEventBus,
  env: TestEnv,
  tenant: string,
  kind: CredentialKindName,
  opts: { id?: string; secret?: string; revoked?: boolean } = {},
): Promise<{ id: string; secret: string }> {
  const id = opts.id ?? `cred-${randomSuffix()}`;
  const secret = opts.secret ?? `sk-${tenant}-${kind.toLowerCase()}-${randomBytes(16).toString('hex')}`;
  const event = createMessage(pb.CredentialEventSchema, {
    tenant,
    credentialId: id,
    kind: pb.CredentialKind[kind],
    secretSha256: createHash('sha256').update(secret).digest('hex'),
    revoked: opts.revoked ?? false,
    createdAt: timestampFromDate(new Date()),
  });
  const key = `${tenant}/credential/${id}`;
  await bus.publish(`${env.prefix}keys`, [
    {
      key,
      value: encodeEvent(pb.CredentialEventSchema, event),
      headers: cloudEventHeaders({
        id: key,
        type: 'authority.credential.v1',
        source: '/test',
        subject: tenant,
        time: new Date(),
      }),
    },
  ]);
  return { id, secret };
}

/** Every record of `topics` up to the high-water marks of now. */
export async function readTopics(bus: KafkaEventBus, topics: string[]): Promise<ConsumedMessage[]> {
  const out: ConsumedMessage[] = [];
  const handle = await bus.catchUp({ topics }, (m) => {
    out.push(m);
  });
  try {
    await handle.caughtUp;
  } finally {
    await handle.disconnect();
  }
  return out;
}

export async function withMongo<T>(env: TestEnv, fn: (client: MongoClient) => Promise<T>): Promise<T> {
  const client = new MongoClient(env.mongoUri);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}

export async function dropDatabase(env: TestEnv): Promise<void> {
  await withMongo(env, (c) => c.db(env.database).dropDatabase()).catch(() => undefined);
}

/** A fresh test environment with its topics created and a bus on them (a suite's `before`). */
export async function testRig(): Promise<{ env: TestEnv; bus: KafkaEventBus }> {
  const env = newTestEnv();
  const bus = testBus(env);
  await ensureTestTopics(bus, env);
  return { env, bus };
}

/** Closes what testRig opened; safe when `before` failed half way (a suite's `after`). */
export async function closeRig(rig: { env?: TestEnv; bus?: KafkaEventBus }): Promise<void> {
  await rig.bus?.disconnect();
  if (rig.env) await dropDatabase(rig.env);
}

// ---------------------------------------------------------------------------------------------
// Client.

export { bearerMetadata as bearer };

export class PolicyClient {
  readonly raw: PolicyServiceClient;
  constructor(
    port: number,
    private readonly secret: string | undefined,
  ) {
    const { grpcObject } = loadAuthorityProto();
    this.raw = new grpcObject.authority.v1.PolicyService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
  }

  private md(): grpc.Metadata {
    return this.secret === undefined ? new grpc.Metadata() : bearerMetadata(this.secret);
  }

  put(tenant: string, yaml: string, expectedVersion: number | string): Promise<PutPolicyResponse__Output> {
    return unaryCall(
      this.raw.putPolicy.bind(this.raw),
      { tenant, yaml, expectedVersion: String(expectedVersion) },
      { metadata: this.md(), deadlineMs: 20_000 },
    );
  }

  /** Like put, but resolves with the raw gRPC error (status, trailers) instead of rejecting. */
  putRaw(
    tenant: string,
    yaml: string,
    expectedVersion: number,
  ): Promise<{ error?: grpc.ServiceError; response?: PutPolicyResponse__Output }> {
    return new Promise((resolveCall) => {
      this.raw.putPolicy(
        { tenant, yaml, expectedVersion: String(expectedVersion) },
        this.md(),
        { deadline: Date.now() + 20_000 },
        (err, response) => resolveCall(err ? { error: err } : { response: response! }),
      );
    });
  }

  get(tenant: string, version = 0): Promise<GetPolicyResponse__Output> {
    return unaryCall(
      this.raw.getPolicy.bind(this.raw),
      { tenant, version: String(version) },
      { metadata: this.md(), deadlineMs: 10_000 },
    );
  }

  list(tenant: string, pageSize = 0, pageToken = ''): Promise<ListPolicyVersionsResponse__Output> {
    return unaryCall(
      this.raw.listPolicyVersions.bind(this.raw),
      { tenant, pageSize, pageToken },
      { metadata: this.md(), deadlineMs: 10_000 },
    );
  }

  validate(tenant: string, yaml: string): Promise<ValidatePolicyResponse__Output> {
    return unaryCall(
      this.raw.validatePolicy.bind(this.raw),
      { tenant, yaml },
      { metadata: this.md(), deadlineMs: 10_000 },
    );
  }

  delete(tenant: string, expectedVersion: number): Promise<DeletePolicyResponse__Output> {
    return unaryCall(
      this.raw.deletePolicy.bind(this.raw),
      { tenant, expectedVersion: String(expectedVersion) },
      { metadata: this.md(), deadlineMs: 20_000 },
    );
  }

  /** Opens a watch stream collecting versions; `next(n)` waits for n more. */
  watch(tenant: string, afterVersion: number): Watcher {
    const call = this.raw.watchPolicies({ tenant, afterVersion: String(afterVersion) }, this.md());
    return new Watcher(call);
  }

  close(): void {
    this.raw.close();
  }
}

export class Watcher {
  readonly received: PolicyVersion__Output[] = [];
  error: AuthorityClientError | undefined;
  ended = false;
  private waiters: (() => void)[] = [];

  constructor(readonly call: grpc.ClientReadableStream<WatchPoliciesResponse__Output>) {
    call.on('data', (m: WatchPoliciesResponse__Output) => {
      if (m.policy) this.received.push(m.policy);
      this.wake();
    });
    call.on('error', (err) => {
      this.error = fromGrpcError(err);
      this.wake();
    });
    call.on('end', () => {
      this.ended = true;
      this.wake();
    });
  }

  private wake(): void {
    const w = this.waiters;
    this.waiters = [];
    w.forEach((f) => f());
  }

  /** Resolves when at least `count` versions arrived in total (rejects on stream error or deadline). */
  async waitFor(count: number, timeoutMs = 20_000): Promise<PolicyVersion__Output[]> {
    const deadline = Date.now() + timeoutMs;
    while (this.received.length < count) {
      if (this.error) throw this.error;
      if (this.ended) throw new Error(`stream ended after ${this.received.length} versions, expected ${count}`);
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`watch: got ${this.received.length} versions, expected ${count}`);
      await this.nextEventOr(left);
    }
    return this.received;
  }

  /** Resolves when the stream ends with an error (the expected one, e.g. CANCELLED). */
  async waitForError(timeoutMs = 10_000): Promise<AuthorityClientError> {
    const deadline = Date.now() + timeoutMs;
    while (!this.error) {
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('watch: no error arrived');
      await this.nextEventOr(left);
    }
    return this.error;
  }

  /** Resolves at the stream's next version, error or end, or after `ms` (the caller's deadline). */
  private nextEventOr(ms: number): Promise<void> {
    return new Promise<void>((r) => {
      const t = setTimeout(r, ms);
      this.waiters.push(() => {
        clearTimeout(t);
        r();
      });
    });
  }

  cancel(): void {
    this.call.cancel();
  }
}

export async function expectError(p: Promise<unknown>): Promise<AuthorityClientError> {
  try {
    await p;
  } catch (err) {
    return fromGrpcError(err);
  }
  throw new Error('expected the call to fail, it succeeded');
}

// ---------------------------------------------------------------------------------------------
// Fixtures.

/**
 * The FERPA policy in the original's format: the core engineer's fixture when it exists,
 * otherwise this service's copy (same agents and classifications).
 */
export function ferpaPolicyYaml(): string {
  const core = resolve(__dirname, '../../../../../packages/core/test/fixtures/ferpa-policy.yaml');
  const own = resolve(__dirname, '../../../test/fixtures/ferpa-policy.yaml');
  return readFileSync(existsSync(core) ? core : own, 'utf8');
}

/** A small valid policy; `marker` makes texts differ (concurrency tests). */
export function smallPolicy(marker: string, scopes: string[] = ['vault:records:read']): string {
  return [
    '# small policy',
    'version: "1.0"',
    `organization: "Org ${marker}"`,
    'agents:',
    '  reader:',
    `    description: "${marker}"`,
    '    scopes:',
    ...scopes.map((s) => `      - ${s}`),
    '    constraints:',
    '      require_purpose: true',
    '',
  ].join('\n');
}
