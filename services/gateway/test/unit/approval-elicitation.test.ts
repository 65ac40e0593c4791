// APPROVAL_REQUIRED as an elicitation: an agent whose client supports elicitation is asked to come
// back once the request is approved; on accept the call is checked again with the approval and
// runs; declined, or a client without elicitation, gets the denial with the approval id. The
// upstream is the real server-everything (stdio); the enforcer a stand-in that wants approval
// 'ap-1' for every call (its decisions are not what is tested).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { ElicitRequestSchema, type CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import { META, type Denial } from '../../src/enforce';
import { parseMapping } from '../../src/mapping';
import { Upstream } from '../../src/upstream';
import { checkResponse, connectAgent, everythingServer, type AgentSession } from '../proxy-harness';

const checks: CheckRequest[] = [];
const standIn = {
  check: async (req: CheckRequest): Promise<CheckResponse__Output> => {
    checks.push(req);
    const approved = req.approvalId === 'ap-1';
    return approved
      ? checkResponse()
      : checkResponse({
          decision: 'DENY',
          reason: 'APPROVAL_REQUIRED',
          message: 'write_requires_approval',
          approvalRequestId: 'ap-1',
        });
  },
  batchCheck: async () => ({ results: [] }),
};

let upstream: Upstream;
before(async () => {
  const mapping = parseMapping(`upstreams:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(everythingServer())}, stdio]
    tools:
      echo: { scope: "demo:echo", action: write }
`);
  upstream = new Upstream(mapping.upstreams[0]!, silentLogger(), () => undefined);
  await upstream.connect();
});
after(() => upstream.close());

function agentWith(elicitation: 'accept' | 'decline' | 'none'): Promise<AgentSession> {
  return connectAgent({
    enforcer: standIn,
    upstreams: [upstream],
    capabilities: elicitation === 'none' ? {} : { elicitation: {} },
    beforeConnect: (agent) => {
      if (elicitation === 'none') return;
      agent.setRequestHandler(ElicitRequestSchema, async (req) => {
        assert.match(req.params.message, /needs a human approval: request ap-1/);
        return { action: elicitation };
      });
    },
  });
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
