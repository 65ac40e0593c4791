// @authority/langgraph against the real stack: a LangGraph.js planner graph driven by a scripted
// fake chat model from @langchain/core (FakeListChatModel) calls the gateway's enforced tools over
// MCP with its envelope. The REAL enforcer decides (issuer, enforcer and Kafka of the test run),
// the vault is in the real MongoDB-wire server. Allowed tools run, a denied one returns the reason
// to the model, a delegated sub-agent works with a child envelope compiled from its task (and
// cannot write), and a write that needs an approval pauses the graph until a human approved it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { ToolMessage } from '@langchain/core/messages';
import { Command, MemorySaver } from '@langchain/langgraph';
import { cryptoReady } from '@authority/core';
import type { ListApprovalsResponse__Output } from '@authority/proto';
import { MongoVaultStore, type GatewayHandle } from '@authority/gateway';
import { ScriptedChatModel, plannerGraph, type ApprovalInterrupt } from '@authority/langgraph';
import { requireInfra } from '@authority/test-helpers';
import { rpc, startStack, type Stack, type StackTenant } from '../src/stack';
import {
  GATEWAY_AUDIENCE as AUDIENCE,
  McpClients,
  mappingFile,
  mintToken,
  testVault,
  startTestGateway,
} from '../src/gateway';

const DB = `gw_langgraph_${randomBytes(4).toString('hex')}`;
let stack: Stack;
let tenant: StackTenant;
let gateway: GatewayHandle;
let vault: Awaited<ReturnType<typeof testVault>> | undefined;
let store: MongoVaultStore;
let mapping: ReturnType<typeof mappingFile> | undefined;
const clients = new McpClients('langgraph-agent');
const connect = (token: string): Promise<Client> => clients.connect(gateway, token);

before(async () => {
  await cryptoReady();
  const infra = requireInfra();
  stack = await startStack({ enforcerEnv: { AUTHORITY_AUDIENCE: AUDIENCE } });
  tenant = await stack.createTenant();
  vault = await testVault(infra.mongo, DB);
  store = vault.store;
  const course = { domain: 'course', sensitivity: 'internal' as const, description: 'BIO-101' };
  await store.putDomain(tenant.tenant, course);
  await store.putDomain(tenant.tenant, { domain: 'records', sensitivity: 'restricted', description: 'grades' });
  await store.putDocument(tenant.tenant, course, {
    name: 'syllabus.md',
    title: 'Syllabus',
    content: 'Cells, genetics, evolution.',
    by: 'seed',
    at: new Date(),
  });
  mapping = mappingFile('gw-langgraph-', 'upstreams: {}\n');
  gateway = await startTestGateway(mapping.path, {
    AUTHORITY_ENFORCER_ADDR: stack.enforcers[0]!.address,
    AUTHORITY_ENFORCER_API_KEY: tenant.checker,
    AUTHORITY_ISSUER_ADDR: stack.issuer.address,
    AUTHORITY_ISSUER_API_KEY: tenant.admin,
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

test(
  'a planner graph: allowed tools run, denials reach the model, a sub-agent works narrowed, approvals pause the graph',
  { timeout: 180_000 },
  async () => {
    const planner = await connect(
      await mintToken(stack, tenant, 'planner', {
        scopes: ['vault:course:read', 'vault:course:write'],
        resources: ['slos://vaults/course', 'slos://vaults/course/*'],
        constraintsJson: '{"write_requires_approval":true}',
      }),
    );
    const subModels: ScriptedChatModel[] = [];
    const graph = await plannerGraph({
      planner,
      plannerModel: new ScriptedChatModel([
        { tool_calls: [{ name: 'authority__vault_read', args: { domain: 'course', name: 'syllabus.md' } }] },
        { tool_calls: [{ name: 'authority__vault_read', args: { domain: 'records', name: 'grades.csv' } }] },
        {
          tool_calls: [{ name: 'delegate', args: { task: 'Summarize the course syllabus', agent_name: 'summarizer' } }],
        },
        {
          tool_calls: [
            { name: 'authority__vault_write', args: { domain: 'course', name: 'notes.md', content: 'Summary filed.' } },
          ],
        },
        'Done: syllabus summarized and filed.',
      ]),
      subAgentModel: () => {
        const m = new ScriptedChatModel([
          { tool_calls: [{ name: 'authority__vault_read', args: { domain: 'course', name: 'syllabus.md' } }] },
          {
            tool_calls: [{ name: 'authority__vault_write', args: { domain: 'course', name: 'sub.md', content: 'x' } }],
          },
          'Summary: cells, genetics, evolution.',
        ]);
        subModels.push(m);
        return m;
      },
      connect,
      checkpointer: new MemorySaver(),
    });
    const config = { configurable: { thread_id: `t-${randomBytes(4).toString('hex')}` } };
    await graph.invoke({ messages: [{ role: 'user', content: 'Summarize the syllabus and file notes.' }] }, config);

    // Paused at the write that needs an approval; nothing written yet.
    const paused = await graph.getState(config);
    assert.deepEqual(paused.next, ['tools']);
    const interrupts = paused.tasks.flatMap((t) => t.interrupts).map((i) => i.value as ApprovalInterrupt);
    assert.equal(interrupts.length, 1);
    assert.equal(interrupts[0]?.kind, 'authority/approval');
    assert.equal(interrupts[0]?.tool, 'authority.vault_write');
    assert.equal(await store.document(tenant.tenant, 'course', 'notes.md'), undefined);
    const approvals = async () =>
      (
        await rpc<ListApprovalsResponse__Output>(
          stack.issuer.client,
          'ListApprovals',
          { tenant: tenant.tenant, pageSize: 100 },
          tenant.approver,
        )
      ).approvals;
    const requested = await approvals();
    assert.deepEqual(
      requested.map((a) => [a.approvalId, a.status, a.agentId, a.requiredScope]),
      [[interrupts[0]?.approval_id, 'PENDING', 'planner', 'vault:course:write']],
      'the pause opened exactly one approval request',
    );

    const toolMessages = (paused.values.messages as unknown[]).filter(
      (m): m is ToolMessage => m instanceof ToolMessage,
    );
    const texts = toolMessages.map((m) => String(m.content));
    assert.match(texts[0] ?? '', /Cells, genetics, evolution\./, 'the allowed read ran');
    assert.match(
      texts[1] ?? '',
      /^Authority denied authority\.vault_read: SCOPE_MISSING .*Hint: /,
      'the denial reached the model',
    );
    // The sub-agent got a child narrowed to reading; its write was refused, its read worked.
    assert.match(
      texts[2] ?? '',
      /^planner\/summarizer \(scopes vault:course:read\): Summary: cells, genetics, evolution\./,
    );
    assert.equal(subModels.length, 1);
    assert.equal(
      await store.document(tenant.tenant, 'course', 'sub.md'),
      undefined,
      'the narrowed sub-agent cannot write',
    );

    // A human approves; the graph resumes and the write happens, once.
    await rpc(
      stack.issuer.client,
      'DecideApproval',
      { tenant: tenant.tenant, approvalId: interrupts[0]!.approval_id, approve: true },
      tenant.approver,
    );
    const done = await graph.invoke(
      new Command({ resume: { approved: true, approval_id: interrupts[0]!.approval_id } }),
      config,
    );
    const last = done.messages.at(-1);
    assert.equal(last?.content, 'Done: syllabus summarized and filed.');
    const written = await store.document(tenant.tenant, 'course', 'notes.md');
    assert.equal(written?.content, 'Summary filed.');
    assert.equal(written?.version, 1);
    assert.equal(written?.updated_by, 'planner');
    const writeResult = done.messages.filter((m) => m instanceof ToolMessage).at(-1);
    assert.match(String(writeResult?.content), /"version":1/);
    // Resuming re-ran the paused tool from its start: the recorded first call was replayed, not
    // sent again, so no second request was opened; the one approval was used by the write.
    assert.deepEqual(
      (await approvals()).map((a) => [a.approvalId, a.status]),
      [[interrupts[0]?.approval_id, 'CONSUMED']],
      'exactly one approval, consumed',
    );
  },
);
