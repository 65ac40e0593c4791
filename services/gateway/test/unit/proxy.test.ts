// The proxy server against a real stdio MCP server (the SDK's McpServer in a child process) and a
// stand-in enforcer that allows everything (this module's own behaviour is what is tested): an
// upstream's tools/list_changed reaches the agent with the new mapped tool, and an agent's
// cancellation reaches the upstream's running tool.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { CallToolResultSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import { BuiltinTools } from '../../src/builtin';
import { Enforcement } from '../../src/enforce';
import { parseMapping } from '../../src/mapping';
import { createProxyServer } from '../../src/proxy';
import { RateLimiter } from '../../src/rate-limit';
import { Upstream } from '../../src/upstream';

const dir = mkdtempSync(join(tmpdir(), 'gw-proxy-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const aborted = join(dir, 'aborted');
const started = join(dir, 'started');

const SERVER = `const { McpServer } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/mcp.js'))});
const { StdioServerTransport } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/stdio.js'))});
const fs = require('node:fs');
const server = new McpServer({ name: 'fake', version: '1' });
server.registerTool('enable', { description: 'adds the tool later' }, async () => {
  server.registerTool('later', { description: 'added at run time' }, async () => ({ content: [{ type: 'text', text: 'later' }] }));
  return { content: [{ type: 'text', text: 'enabled' }] };
});
server.registerTool('slow', { description: 'runs until cancelled' }, async (extra) =>
  new Promise((resolve) => {
    fs.writeFileSync(${JSON.stringify(started)}, 'started');
    extra.signal.addEventListener('abort', () => {
      fs.writeFileSync(${JSON.stringify(aborted)}, 'aborted');
      resolve({ content: [] });
    });
  }));
server.connect(new StdioServerTransport());
`;

/** A stand-in enforcer: a well-formed ALLOW for every check. */
const allowAll = {
  check: async (req: CheckRequest): Promise<CheckResponse__Output> => allow(req),
  batchCheck: async (req: { checks?: CheckRequest[] }) => ({ results: (req.checks ?? []).map(allow) }),
};
function allow(_req: CheckRequest): CheckResponse__Output {
  return {
    decision: 'ALLOW',
    reason: 'ALLOWED',
    message: '',
    decisionId: 'd-1',
    approvalRequestId: '',
    agentId: 'agent',
    tenant: 't',
    policyVersion: '',
    field: '',
    agentChain: ['agent'],
    chainUnverified: false,
    violations: [],
  };
}

async function eventually<T>(check: () => Promise<T | undefined> | T | undefined, what: string): Promise<T> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const v = await check();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

test(
  'list_changed from an upstream reaches the agent; cancellation reaches the upstream',
  { timeout: 60_000 },
  async () => {
    const file = join(dir, 'server.js');
    writeFileSync(file, SERVER);
    const mapping = parseMapping(`upstreams:
  fake:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(file)}]
    tools:
      enable: { scope: "demo:run" }
      later: { scope: "demo:run" }
      slow: { scope: "demo:run" }
`);
    const servers: { sendToolListChanged(): Promise<void> }[] = [];
    const upstream = new Upstream(mapping.upstreams[0]!, silentLogger(), () => {
      for (const s of servers) void s.sendToolListChanged();
    });
    await upstream.connect();
    const enforcement = new Enforcement({
      enforcer: allowAll,
      limiter: new RateLimiter({ ratePerSecond: 100, burst: 100, maxKeys: 10 }),
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
    servers.push(server);
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const agent = new Client({ name: 'agent', version: '1' });
    let changed = 0;
    agent.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
    await agent.connect(clientSide);
    try {
      const before = (await agent.listTools()).tools.map((t) => t.name);
      assert.ok(!before.includes('fake.later'), 'not offered by the upstream yet');
      await agent.callTool({ name: 'fake.enable', arguments: {} });
      await eventually(() => (changed > 0 ? true : undefined), 'the list_changed notification');
      assert.ok((await agent.listTools()).tools.some((t) => t.name === 'fake.later'));

      const controller = new AbortController();
      const call = agent.callTool({ name: 'fake.slow', arguments: {} }, CallToolResultSchema, {
        signal: controller.signal,
      });
      // Cancel once the call runs upstream (the gateway allowed it and forwarded it).
      await eventually(() => (existsSync(started) ? true : undefined), 'the call running upstream');
      controller.abort();
      const outcome = await call.then(
        (r) => ({ resolved: r }),
        (e: unknown) => ({ rejected: String(e) }),
      );
      assert.ok('rejected' in outcome, JSON.stringify(outcome));
      await eventually(() => (existsSync(aborted) ? true : undefined), 'the upstream seeing the cancellation');
    } finally {
      await agent.close();
      await server.close();
      await upstream.close();
    }
  },
);
