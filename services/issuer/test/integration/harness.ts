// Shared setup of the issuer integration tests: the REAL Kafka broker and MongoDB-wire server from
// KAFKA_BROKERS / MONGODB_URI (missing → the test fails loudly), a unique topic prefix and database
// per run, an in-process issuer on an ephemeral port, a typed client, and a Kafka tap that records
// every record of a topic from the beginning.
import { randomBytes } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import {
  createKafka,
  createLogger,
  loadConfig,
  silentLogger,
  bearerMetadata,
  callByName,
  type ConsumedMessage,
  type KafkaEventBus,
} from '@authority/platform';
import type { IssuerServiceClient } from '@authority/proto';
import { loadAuthorityProto } from '@authority/proto';
import { issuerConfigSchema, startIssuer, type Clock, type IssuerConfig, type RunningIssuer } from '../../src/index';

import { eventually, requireInfra } from '@authority/test-helpers';

export { eventually, requireInfra };

/** Silent unless TEST_LOG_LEVEL is set (e.g. TEST_LOG_LEVEL=debug to see handler errors). */
export function testLogger(service: string) {
  const level = process.env['TEST_LOG_LEVEL'];
  return level ? createLogger({ service, level: level as 'debug' }) : silentLogger();
}

export function randomKek(): string {
  return randomBytes(32).toString('base64');
}

export interface TestEnv {
  prefix: string;
  db: string;
  kek: string;
  operatorKey: string;
  serviceKey: string;
  /** The issuer's audit-event signing seed (32 bytes) and key id. */
  eventSeed: Buffer;
  eventKeyId: string;
}

export function newTestEnv(): TestEnv {
  const id = randomBytes(4).toString('hex');
  return {
    prefix: `test-${id}.`,
    db: `issuer_test_${id}`,
    kek: randomKek(),
    operatorKey: `op-${randomBytes(16).toString('hex')}`,
    serviceKey: `svc-${randomBytes(16).toString('hex')}`,
    eventSeed: randomBytes(32),
    eventKeyId: `issuer-${id}`,
  };
}

export function issuerConfig(env: TestEnv, extra: Record<string, string> = {}): IssuerConfig {
  const infra = requireInfra();
  const config = loadConfig(issuerConfigSchema, {
    KAFKA_BROKERS: infra.brokers,
    MONGODB_URI: infra.mongo,
    AUTHORITY_TOPIC_PREFIX: env.prefix,
    AUTHORITY_ISSUER_DB: env.db,
    AUTHORITY_ISSUER_KEK: env.kek,
    AUTHORITY_OPERATOR_API_KEY: env.operatorKey,
    AUTHORITY_SERVICE_API_KEY: env.serviceKey,
    AUTHORITY_EVENT_SIGNING_KEY: env.eventSeed.toString('base64url'),
    AUTHORITY_EVENT_SIGNING_KEY_ID: env.eventKeyId,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: 'silent',
    AUTHORITY_REFLECTION: 'false',
    ...extra,
  });
  return { ...config, AUTHORITY_GRPC_PORT: 0 };
}

export type Client = IssuerServiceClient;

export function issuerClient(address: string): Client {
  const { grpcObject } = loadAuthorityProto();
  return new grpcObject.authority.v1.IssuerService(address, grpc.credentials.createInsecure());
}

export { bearerMetadata as bearer };

/** `await call(client, 'Mint', req, secret)`: promisified, failures as AuthorityClientError. */
export function call<Req, Res>(client: Client, method: string, req: Req, secret: string | undefined): Promise<Res> {
  return callByName<Res>(client, method, req, { metadata: bearerMetadata(secret), deadlineMs: 15_000 });
}

/** Every record of some topics, from the beginning, as they arrive. */
export class Tap {
  readonly records: ConsumedMessage[] = [];
  private waiters = new Set<() => void>();
  private constructor(readonly bus: KafkaEventBus) {}

  static async start(brokers: string, topics: string[]): Promise<Tap> {
    const bus = createKafka({
      brokers: brokers.split(','),
      clientId: `tap-${randomBytes(3).toString('hex')}`,
      logger: silentLogger(),
    });
    const tap = new Tap(bus);
    await bus.consume({
      groupId: `tap-${randomBytes(6).toString('hex')}`,
      topics,
      fromBeginning: true,
      eachMessage: async (m) => {
        tap.records.push(m);
        for (const w of tap.waiters) w();
      },
    });
    return tap;
  }

  /** Resolves with the first record matching `pred` (already seen or arriving), or rejects at the deadline. */
  waitFor(pred: (m: ConsumedMessage) => boolean, what: string, timeoutMs = 20_000): Promise<ConsumedMessage> {
    const found = this.records.find(pred);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const check = () => {
        const m = this.records.find(pred);
        if (m) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(m);
        }
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`timed out waiting for ${what}`));
      }, timeoutMs);
      this.waiters.add(check);
    });
  }

  async stop(): Promise<void> {
    await this.bus.disconnect();
  }
}

export function header(m: ConsumedMessage, key: string): string | undefined {
  const v = m.headers[key];
  const first = Array.isArray(v) ? v[0] : v;
  return first === undefined ? undefined : first.toString();
}

export interface StartedIssuer {
  env: TestEnv;
  config: IssuerConfig;
  issuer: RunningIssuer;
  client: Client;
  stop(): Promise<void>;
}

export async function startTestIssuer(
  env: TestEnv = newTestEnv(),
  opts: { clock?: Clock; extra?: Record<string, string> } = {},
): Promise<StartedIssuer> {
  const config = issuerConfig(env, opts.extra);
  const issuer = await startIssuer(config, {
    logger: testLogger('issuer'),
    sweep: false,
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const client = issuerClient(issuer.address);
  return {
    env,
    config,
    issuer,
    client,
    stop: async () => {
      client.close();
      await issuer.stop();
    },
  };
}

/** Drops a test database (best effort). */
export async function dropDatabase(issuer: RunningIssuer): Promise<void> {
  await issuer.store.db.dropDatabase().catch(() => undefined);
}
