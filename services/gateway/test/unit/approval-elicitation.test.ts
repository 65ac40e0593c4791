// APPROVAL_REQUIRED as an elicitation: an agent whose client supports elicitation is asked to come
// back once the request is approved; on accept the call is checked again with the approval and
// runs; declined, or a client without elicitation, gets the denial with the approval id. The
// upstream is the real server-everything (stdio); the enforcer a stand-in that wants approval
// 'ap-1' for every call (its decisions are not what is tested).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import { BuiltinTools } from '../../src/builtin';
import { Enforcement, META, type Denial } from '../../src/enforce';
import { parseMapping } from '../../src/mapping';
import { createProxyServer } from '../../src/proxy';
import { RateLimiter } from '../../src/rate-limit';
import { Upstream } from '../../src/upstream';

function moduleDir(name: string): string {
  let dir = __dirname;
  for (;;) {
    const candidate = join(dir, 'node_modules', name);
    if (existsSync(candidate)) return candidate;
    const up = dirname(dir);
    if (up === dir) throw new Error(`${name} is not installed`);
    dir = up;
  }
}

const checks: CheckRequest[] = [];
const standIn = {
  check: async (req: CheckRequest): Promise<CheckResponse__Output> => {
    checks.push(req);
    const approved = req.approvalId === 'ap-1';
    return {
      decision: approved ? 'ALLOW' : 'DENY',
      reason: approved ? 'ALLOWED' : 'APPROVAL_REQUIRED',
      message: approved ? '' : 'write_requires_approval',
      decisionId: 'd-1',
      approvalRequestId: approved ? '' : 'ap-1',
      agentId: 'agent',
      tenant: 't',
      policyVersion: '',
      field: '',
      agentChain: ['agent'],
      chainUnverified: false,
      violations: [],
    };
  },
  batchCheck: async () => ({ results: [] }),
};

let upstream: Upstream;
before(async () => {
  const mapping = parseMapping(`upstreams:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(join(moduleDir('@modelcontextprotocol/server-everything'), 'dist', 'index.js'))}, stdio]
    tools:
      echo: { scope: "demo:echo", action: write }
`);
  upstream = new Upstream(mapping.upstreams[0]!, silentLogger(), () => undefined);
  await upstream.connect();
});
after(() => upstream.close());

async function agentWith(
  elicitation: 'accept' | 'decline' | 'none',
): Promise<{ agent: Client; close(): Promise<void> }> {
  const enforcement = new Enforcement({
    enforcer: standIn,
    limiter: new RateLimiter({ ratePerSecond: 1000, burst: 1000, maxKeys: 10 }),
    timeoutMs: 1000,
  });
  const server = createProxyServer({
    upstreams: [upstream],
    builtins: new BuiltinTools({ enforcement, upstreams: [upstream], issuerTimeoutMs: 1000 }),
    enforcement,
    logger: silentLogger(),
    upstreamTimeoutMs: 30_000,
    callerOf: () => ({ token: 'token', tenant: 't', agent: 'agent', expiresAt: Number.MAX_SAFE_INTEGER }),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const agent = new Client(
    { name: 'agent', version: '1' },
    { capabilities: elicitation === 'none' ? {} : { elicitation: {} } },
  );
  if (elicitation !== 'none') {
    agent.setRequestHandler(ElicitRequestSchema, async (req) => {
      assert.match(req.params.message, /needs a human approval: request ap-1/);
      return { action: elicitation };
    });
  }
  await agent.connect(clientSide);
  return {
    agent,
    close: async () => {
      await agent.close();
      await server.close();
    },
  };
}

const denialOf = (r: CallToolResult) => (r._meta as Record<string, Denial> | undefined)?.[META.denial];

test('accepted elicitation: the call is checked again with the approval and runs', async () => {
  checks.length = 0;
  const { agent, close } = await agentWith('accept');
  try {
    const r = (await agent.callTool({ name: 'everything.echo', arguments: { message: 'approved' } })) as CallToolResult;
    assert.equal(r.isError, undefined, JSON.stringify(r));
    assert.match(JSON.stringify(r.content), /approved/);
    assert.deepEqual(
      checks.map((c) => c.approvalId),
      [undefined, 'ap-1'],
    );
  } finally {
    await close();
  }
});

test('declined elicitation, or a client without elicitation: the denial with the approval id', async () => {
  for (const mode of ['decline', 'none'] as const) {
    checks.length = 0;
    const { agent, close } = await agentWith(mode);
    try {
      const r = (await agent.callTool({ name: 'everything.echo', arguments: { message: 'x' } })) as CallToolResult;
      assert.equal(denialOf(r)?.reason, 'APPROVAL_REQUIRED', mode);
      assert.equal(denialOf(r)?.approval_id, 'ap-1');
      assert.equal(checks.length, 1, `${mode}: no second check`);
    } finally {
      await close();
    }
  }
});
