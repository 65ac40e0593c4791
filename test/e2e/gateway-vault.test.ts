// The gateway's document vault (issue 13) end to end: the official MCP client calls the
// authority.vault_* tools over streamable HTTP with its envelope; every call is decided by the REAL
// enforcer (against the real Kafka) with the canonical resource of what it touches, and the vault
// lives in the real MongoDB-wire server (FerretDB locally), in a database of its own. Two tenants
// hold a domain of the same name: neither ever sees the other's documents.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cryptoReady } from '@authority/core';
import {
  VAULT_LIST,
  VAULT_METADATA,
  VAULT_QUERY,
  VAULT_READ,
  VAULT_WRITE,
  type GatewayHandle,
} from '@authority/gateway';
import { requireInfra } from '@authority/test-helpers';
import { rpc, startStack, type Stack, type StackTenant } from '../src/stack';
import {
  GATEWAY_AUDIENCE as AUDIENCE,
  McpClients,
  callTool as call,
  denialOf,
  mappingFile,
  testVault,
  mintToken,
  startTestGateway,
} from '../src/gateway';

const DB = `gw_vault_${randomBytes(4).toString('hex')}`;
let stack: Stack;
let acme: StackTenant;
let other: StackTenant;
let gateway: GatewayHandle;
let vault: Awaited<ReturnType<typeof testVault>> | undefined;
let mapping: ReturnType<typeof mappingFile> | undefined;
const clients = new McpClients('vault-agent');

const mint = (t: StackTenant, agentId: string, grant: Record<string, unknown>) => mintToken(stack, t, agentId, grant);
const connect = (token: string): Promise<Client> => clients.connect(gateway, token);

function structured(r: CallToolResult): Record<string, unknown> {
  assert.notEqual(r.isError, true, JSON.stringify(r).slice(0, 400));
  return r.structuredContent as Record<string, unknown>;
}

before(async () => {
  await cryptoReady();
  const infra = requireInfra();
  stack = await startStack({ enforcerEnv: { AUTHORITY_AUDIENCE: AUDIENCE } });
  acme = await stack.createTenant();
  other = await stack.createTenant();
  vault = await testVault(infra.mongo, DB);
  const store = vault.store;
  const at = new Date('2026-01-01T00:00:00Z');
  await store.putDomain(acme.tenant, { domain: 'finance', sensitivity: 'confidential', description: 'budgets' });
  await store.putDomain(acme.tenant, { domain: 'health', sensitivity: 'restricted', description: 'records' });
  const finance = (await store.domain(acme.tenant, 'finance'))!;
  await store.putDocument(acme.tenant, finance, {
    name: 'q1-budget.md',
    title: 'Q1 budget',
    content: 'The Q1 budget is 1.2M, travel capped.',
    by: 'seed',
    at,
  });
  await store.putDocument(acme.tenant, finance, {
    name: 'hiring.md',
    title: 'Hiring',
    content: 'Two engineers.',
    by: 'seed',
    at,
  });
  await store.putDomain(other.tenant, { domain: 'finance', sensitivity: 'confidential', description: 'theirs' });
  await store.putDocument(other.tenant, (await store.domain(other.tenant, 'finance'))!, {
    name: 'q1-budget.md',
    title: 'Their Q1 budget',
    content: 'OTHER TENANT SECRET',
    by: 'seed',
    at,
  });
  mapping = mappingFile('gw-vault-', 'upstreams: {}\n');
  gateway = await startTestGateway(mapping.path, {
    AUTHORITY_ENFORCER_ADDR: stack.enforcers[0]!.address,
    // One enforcer credential for both tenants: the operator's (a gateway serving several tenants).
    AUTHORITY_ENFORCER_API_KEY: stack.operatorKey,
    MONGODB_URI: infra.mongo,
    AUTHORITY_GATEWAY_VAULT_DB: DB,
  });
});

after(async () => {
  await clients.closeAll();
  await gateway?.stop();
  await vault?.drop();
  await stack?.stop();
  mapping?.remove();
});

describe('gateway: the document vault', () => {
  test('the vault tools are listed', async () => {
    const reader = await connect(
      await mint(acme, 'lister', { scopes: ['vault:finance:read'], resources: ['slos://vaults/*'] }),
    );
    const names = (await reader.listTools()).tools.map((t) => t.name);
    for (const n of [VAULT_LIST, VAULT_METADATA, VAULT_READ, VAULT_WRITE, VAULT_QUERY]) assert.ok(names.includes(n), n);
  });

  test('a reader of finance: lists, reads, searches finance; health and writes are refused by the enforcer', async () => {
    const token = await mint(acme, 'finance-reader', {
      scopes: ['vault:finance:read'],
      resources: ['slos://vaults/finance', 'slos://vaults/finance/*'],
    });
    const agent = await connect(token);
    const domains = structured(await call(agent, VAULT_LIST, {}))['domains'] as {
      domain: string;
      sensitivity: string;
    }[];
    assert.deepEqual(domains, [{ domain: 'finance', sensitivity: 'confidential', description: 'budgets' }]);
    const listing = structured(await call(agent, VAULT_LIST, { domain: 'finance' }));
    assert.deepEqual(
      (listing['documents'] as { name: string }[]).map((d) => d.name),
      ['hiring.md', 'q1-budget.md'],
    );
    const meta = structured(await call(agent, VAULT_METADATA, { domain: 'finance', name: 'q1-budget.md' }));
    assert.equal(meta['sensitivity'], 'confidential');
    assert.equal(meta['content'], undefined, 'metadata carries no content');
    const doc = structured(await call(agent, VAULT_READ, { domain: 'finance', name: 'q1-budget.md' }));
    assert.equal(doc['content'], 'The Q1 budget is 1.2M, travel capped.');
    const found = structured(await call(agent, VAULT_QUERY, { domain: 'finance', text: 'TRAVEL' }));
    assert.deepEqual(
      (found['results'] as { name: string }[]).map((r) => r.name),
      ['q1-budget.md'],
    );

    const health = denialOf(await call(agent, VAULT_READ, { domain: 'health', name: 'x.md' }));
    assert.equal(health.reason, 'SCOPE_MISSING');
    assert.equal(health.scope, 'vault:health:read');
    assert.equal(health.resource, 'slos://vaults/health/x.md');
    assert.ok(health.decision_id, 'decided (and audited) by the enforcer');
    const write = denialOf(await call(agent, VAULT_WRITE, { domain: 'finance', name: 'new.md', content: 'x' }));
    assert.equal(write.reason, 'SCOPE_MISSING');
    assert.equal(write.scope, 'vault:finance:write');
    // Not there afterwards.
    assert.equal(denialOf(await call(agent, VAULT_READ, { domain: 'finance', name: 'new.md' })).reason, 'NOT_FOUND');
  });

  test('names are canonical segments: traversal is refused naming the argument, before any check', async () => {
    const agent = await connect(
      await mint(acme, 'traverser', { scopes: ['vault:finance:read'], resources: ['slos://vaults/finance/*'] }),
    );
    for (const name of ['..', '../health/x', 'a/b', '%2e%2e']) {
      const d = denialOf(await call(agent, VAULT_READ, { domain: 'finance', name }));
      assert.equal(d.reason, 'INVALID_REQUEST', name);
      assert.equal(d.field, 'arguments.name');
      assert.equal(d.decision_id, undefined);
    }
    assert.equal(denialOf(await call(agent, VAULT_READ, { domain: 'Finance', name: 'a' })).field, 'arguments.domain');
  });

  test('a resource grant narrower than the scope is honoured per document', async () => {
    const agent = await connect(
      await mint(acme, 'one-doc', { scopes: ['vault:finance:read'], resources: ['slos://vaults/finance/hiring.md'] }),
    );
    assert.equal(
      structured(await call(agent, VAULT_READ, { domain: 'finance', name: 'hiring.md' }))['title'],
      'Hiring',
    );
    const d = denialOf(await call(agent, VAULT_READ, { domain: 'finance', name: 'q1-budget.md' }));
    assert.equal(d.reason, 'RESOURCE_NOT_ALLOWED');
  });

  test('max_records_per_request bounds listings and searches (the limit is the record count)', async () => {
    const agent = await connect(
      await mint(acme, 'bounded', {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance', 'slos://vaults/finance/*'],
        constraintsJson: '{"max_records_per_request":5}',
      }),
    );
    assert.ok(structured(await call(agent, VAULT_LIST, { domain: 'finance', limit: 5 })));
    const d = denialOf(await call(agent, VAULT_QUERY, { domain: 'finance', text: 'budget', limit: 50 }));
    assert.equal(d.field, 'context.record_count');
  });

  test('writes need the write scope and, with write_requires_approval, an approval good for one write', async () => {
    const token = await mint(acme, 'writer', {
      scopes: ['vault:finance:read', 'vault:finance:write'],
      resources: ['slos://vaults/finance', 'slos://vaults/finance/*'],
      constraintsJson: '{"write_requires_approval":true}',
    });
    const agent = await connect(token);
    const args = { domain: 'finance', name: 'q2-plan.md', content: 'Q2: hire one more.', title: 'Q2 plan' };
    const first = denialOf(await call(agent, VAULT_WRITE, args));
    assert.equal(first.reason, 'APPROVAL_REQUIRED');
    assert.ok(first.approval_id);
    await rpc(
      stack.issuer.client,
      'DecideApproval',
      { tenant: acme.tenant, approvalId: first.approval_id, approve: true },
      acme.approver,
    );
    const written = structured(await call(agent, VAULT_WRITE, args, { 'authority/approval_id': first.approval_id }));
    assert.equal(written['version'], 1);
    assert.equal(written['sensitivity'], 'confidential', "the domain's label");
    assert.equal(written['updated_by'], 'writer');
    const read = structured(await call(agent, VAULT_READ, { domain: 'finance', name: 'q2-plan.md' }));
    assert.equal(read['content'], 'Q2: hire one more.');
    const again = denialOf(
      await call(agent, VAULT_WRITE, { ...args, content: 'twice' }, { 'authority/approval_id': first.approval_id }),
    );
    assert.equal(again.reason, 'APPROVAL_INVALID');
  });

  test("tenants never mix: the other tenant's agent with the same grant sees only its own finance", async () => {
    const agent = await connect(
      await mint(other, 'their-reader', {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance', 'slos://vaults/finance/*'],
      }),
    );
    const doc = structured(await call(agent, VAULT_READ, { domain: 'finance', name: 'q1-budget.md' }));
    assert.equal(doc['content'], 'OTHER TENANT SECRET');
    assert.equal(denialOf(await call(agent, VAULT_READ, { domain: 'finance', name: 'hiring.md' })).reason, 'NOT_FOUND');
    const found = structured(await call(agent, VAULT_QUERY, { domain: 'finance', text: 'travel' }));
    assert.deepEqual(found['results'], []);
    const domains = structured(await call(agent, VAULT_LIST, {}))['domains'] as { description: string }[];
    assert.deepEqual(
      domains.map((d) => d.description),
      ['theirs'],
    );
  });
});
