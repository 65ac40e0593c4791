// Upstream reconnection: a stdio upstream that exits is started again, an HTTP upstream that stops
// answering is connected again, and every call in between fails closed with UPSTREAM_UNAVAILABLE
// (a tool result with isError and the reason in _meta) instead of an opaque error. The upstreams
// are real MCP servers (the SDK's McpServer in a child process, and over streamable HTTP in this
// process); the enforcer is a stand-in that allows (its decisions are not what is tested).
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server as HttpServer } from 'node:http';
import { mkdtempSync, rmSync, unlinkSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import { eventually } from '@authority/test-helpers';
import { META, type Denial } from '../../src/enforce';
import { parseMapping } from '../../src/mapping';
import { Upstream } from '../../src/upstream';
import { UpstreamPool } from '../../src/upstream-pool';
import { allowAll, connectAgent, fakeStdioUpstream } from '../proxy-harness';

const dir = mkdtempSync(join(tmpdir(), 'gw-reconnect-'));
after(() => rmSync(dir, { recursive: true, force: true }));
/** While this file exists the stdio upstream exits at start (a crash loop the test controls). */
const broken = join(dir, 'broken');

const SERVER = `const { McpServer } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/mcp.js'))});
const { StdioServerTransport } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/stdio.js'))});
if (require('node:fs').existsSync(${JSON.stringify(broken)})) process.exit(3);
const server = new McpServer({ name: 'fake', version: '1' });
server.registerTool('pid', { description: 'its process id' }, async () => ({ content: [{ type: 'text', text: String(process.pid) }] }));
server.registerTool('crash', { description: 'exits' }, async () => {
  require('node:fs').writeFileSync(${JSON.stringify(broken)}, 'x');
  process.exit(1);
});
server.connect(new StdioServerTransport());
`;

const agentFor = (upstream: Upstream) => connectAgent({ enforcer: allowAll, upstreams: [upstream] });

/** A streamable-HTTP MCP server with one tool `count` (stateless: a server per request, the SDK's documented pattern). */
function listenCounting(port: number): Promise<HttpServer> {
  let served = 0;
  return new Promise<HttpServer>((resolve) => {
    const http = createServer((req, res) => {
      const mcp = new McpServer({ name: 'http-upstream', version: '1' });
      mcp.registerTool('count', { description: 'counts' }, async () => ({
        content: [{ type: 'text', text: String(++served) }],
      }));
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      res.on('close', () => void transport.close());
      void mcp.connect(transport).then(() => transport.handleRequest(req, res));
    });
    http.listen(port, '127.0.0.1', () => resolve(http));
  });
}

function denialOf(r: CallToolResult): Denial | undefined {
  return (r._meta as Record<string, Denial> | undefined)?.[META.denial];
}

test(
  'a crashed stdio upstream is started again; calls meanwhile fail closed with UPSTREAM_UNAVAILABLE',
  { timeout: 60_000 },
  async () => {
    const fake = fakeStdioUpstream(dir, SERVER, ['pid', 'crash']);
    const upstream = new Upstream(fake, silentLogger(), () => undefined, { reconnectMaxMs: 200 });
    await upstream.connect();
    const { agent, close } = await agentFor(upstream);
    try {
      const before = (await agent.callTool({ name: 'fake.pid', arguments: {} })) as CallToolResult;
      assert.equal(before.isError, undefined);
      // The call that kills the upstream is cut off: the agent learns the connection was lost.
      const cut = (await agent.callTool({ name: 'fake.crash', arguments: {} })) as CallToolResult;
      assert.equal(cut.isError, true);
      assert.equal(denialOf(cut)?.reason, 'UPSTREAM_UNAVAILABLE');
      assert.match(denialOf(cut)?.message ?? '', /lost during the call/);
      // While the upstream cannot start, calls are refused naming it, and its tools stay listed.
      const during = (await agent.callTool({ name: 'fake.pid', arguments: {} })) as CallToolResult;
      assert.equal(denialOf(during)?.reason, 'UPSTREAM_UNAVAILABLE');
      assert.equal(denialOf(during)?.retryable, true);
      assert.match(denialOf(during)?.message ?? '', /upstream 'fake' is not connected/);
      assert.ok((await agent.listTools()).tools.some((t) => t.name === 'fake.pid'));
      // Once it can start again, the gateway reconnects by itself.
      unlinkSync(broken);
      const after = await eventually(async () => {
        const r = (await agent.callTool({ name: 'fake.pid', arguments: {} })) as CallToolResult;
        return r.isError === true ? undefined : r;
      }, 'the restarted upstream answering');
      assert.notDeepEqual(after.content, before.content, 'a new process answers');
    } finally {
      await close();
      await upstream.close();
    }
  },
);

test(
  'an HTTP upstream that stops answering is connected again; calls meanwhile fail closed',
  { timeout: 60_000 },
  async () => {
    let http = await listenCounting(0);
    const port = (http.address() as AddressInfo).port;
    const mapping = parseMapping(`upstreams:
  remote:
    url: http://127.0.0.1:${port}/mcp
    tools:
      count: { scope: "demo:run" }
`);
    const upstream = new Upstream(mapping.upstreams[0]!, silentLogger(), () => undefined, { reconnectMaxMs: 200 });
    await upstream.connect();
    const { agent, close } = await agentFor(upstream);
    try {
      assert.equal(
        ((await agent.callTool({ name: 'remote.count', arguments: {} })) as CallToolResult).isError,
        undefined,
      );
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
      const down = (await agent.callTool({ name: 'remote.count', arguments: {} })) as CallToolResult;
      assert.equal(down.isError, true);
      assert.equal(denialOf(down)?.reason, 'UPSTREAM_UNAVAILABLE');
      const still = (await agent.callTool({ name: 'remote.count', arguments: {} })) as CallToolResult;
      assert.equal(denialOf(still)?.reason, 'UPSTREAM_UNAVAILABLE');
      http = await listenCounting(port);
      const back = await eventually(async () => {
        const r = (await agent.callTool({ name: 'remote.count', arguments: {} })) as CallToolResult;
        return r.isError === true ? undefined : r;
      }, 'the HTTP upstream answering again');
      assert.equal(back.isError, undefined);
    } finally {
      await close();
      await upstream.close();
      await new Promise<void>((resolve) => http.close(() => resolve()));
    }
  },
);

test(
  'a per-agent HTTP upstream that is down at start is retried; its tools appear once it answers, and a call opens the session its own connection',
  { timeout: 60_000 },
  async () => {
    // A free port nobody listens on yet.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
    const port = (probe.address() as AddressInfo).port;
    await new Promise<void>((resolve) => probe.close(() => resolve()));
    const mapping = parseMapping(`upstreams:
  remote:
    url: http://127.0.0.1:${port}/mcp
    sessions: per-agent
    tools:
      count: { scope: "demo:run" }
`);
    // The catalog connection (listing only), retried in the background as startGateway does.
    const catalog = new Upstream(mapping.upstreams[0]!, silentLogger(), () => undefined, {
      reconnectMaxMs: 200,
    });
    await assert.rejects(catalog.connect());
    catalog.retryInBackground();
    const pool = new UpstreamPool({ perAgent: 1, perTenant: 1, total: 1, idleMs: 60_000 });
    const { agent, close } = await connectAgent({
      enforcer: allowAll,
      upstreams: [],
      perAgent: [catalog],
      pool,
      upstreamOptions: { reconnectMaxMs: 200 },
    });
    let http: HttpServer | undefined;
    try {
      assert.ok(!(await agent.listTools()).tools.some((t) => t.name === 'remote.count'), 'the upstream is down');
      http = await listenCounting(port);
      await eventually(
        async () => ((await agent.listTools()).tools.some((t) => t.name === 'remote.count') ? true : undefined),
        'the per-agent upstream connected in the background',
      );
      assert.equal(pool.size, 0, 'listing opened no connection of the session');
      const r = (await agent.callTool({ name: 'remote.count', arguments: {} })) as CallToolResult;
      assert.equal(r.isError, undefined);
      assert.equal(pool.heldBy('t', 'agent'), 1, 'the allowed call opened the session its own connection');
    } finally {
      await close();
      await catalog.close();
      if (http !== undefined) {
        const h = http;
        h.closeAllConnections();
        await new Promise<void>((resolve) => h.close(() => resolve()));
      }
    }
  },
);
