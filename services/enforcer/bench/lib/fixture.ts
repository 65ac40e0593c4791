// What the enforcer benchmarks against real Kafka share: a fresh topic prefix with its state
// fixture and tenant, the environment of an enforcer process on that prefix, and the request they
// measure (a Check of a delegated, two-link chain).
import { deriveChild, randomId } from '@authority/core';
import type { CheckRequest } from '@authority/proto';
import { StateFixture, mint, nowSec, OPERATOR_KEY, type TestTenant } from '../../test/helpers';
import { BENCH_EVENT_SEED, kafkaBrokers } from './common';

/** A fresh topic prefix (so runs never read each other's state), its fixture and one tenant. */
export async function benchFixture(
  tenant = 'bench-tenant',
): Promise<{ prefix: string; fixture: StateFixture; t: TestTenant }> {
  const prefix = `bench-${randomId(6)
    .toLowerCase()
    .replace(/[^a-z0-9]/g, 'x')}.`;
  const fixture = await StateFixture.create(prefix);
  return { prefix, fixture, t: await fixture.tenant(tenant) };
}

/** The environment of an enforcer process (enforcer-proc) on `prefix`, plus `extra`. */
export function enforcerEnv(prefix: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    KAFKA_BROKERS: kafkaBrokers(),
    AUTHORITY_TOPIC_PREFIX: prefix,
    AUTHORITY_OPERATOR_API_KEY: OPERATOR_KEY,
    AUTHORITY_EVENT_SIGNING_KEY: BENCH_EVENT_SEED,
    AUTHORITY_GRPC_HOST: '127.0.0.1',
    AUTHORITY_LOG_LEVEL: 'warn',
    AUTHORITY_REFLECTION: 'false',
    ...extra,
  };
}

/** The measured request: a Check of a child envelope delegated from a freshly minted root. */
export function delegatedCheck(t: TestTenant): CheckRequest {
  const root = mint(t, { scopes: ['vault:finance:read', 'vault:finance:list'] });
  const child = deriveChild(
    root.token,
    { scopes: ['vault:finance:read'], agent: 'agent-1/sub-agent' },
    { secretKey: t.key.secretKey, kid: t.kid },
    nowSec(),
  );
  return {
    token: child.token,
    requiredScope: 'vault:finance:read',
    resource: 'slos://vaults/finance/doc-001',
    context: { purpose: 'benchmark', recordCount: 1 },
  };
}
