// The proxy server against a real stdio MCP server (the SDK's McpServer in a child process) and a
// stand-in enforcer that allows everything (this module's own behaviour is what is tested): an
// upstream's tools/list_changed reaches the agent with the new mapped tool, and an agent's
// cancellation reaches the upstream's running tool.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CallToolResultSchema, ToolListChangedNotificationSchema } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import { eventually } from '@authority/test-helpers';
import { Upstream } from '../../src/upstream';
import { allowAll, connectAgent, fakeStdioUpstream } from '../proxy-harness';

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

test(
  'list_changed from an upstream reaches the agent; cancellation reaches the upstream',
  { timeout: 60_000 },
  async () => {
    const fake = fakeStdioUpstream(dir, SERVER, ['enable', 'later', 'slow']);
    const servers: { sendToolListChanged(): Promise<void> }[] = [];
    const upstream = new Upstream(fake, silentLogger(), () => {
      for (const s of servers) void s.sendToolListChanged();
    });
    await upstream.connect();
    let changed = 0;
    const { agent, close } = await connectAgent({
      enforcer: allowAll,
      upstreams: [upstream],
      ratePerSecond: 100,
      beforeConnect: (client, server) => {
        servers.push(server);
        client.setNotificationHandler(ToolListChangedNotificationSchema, () => void changed++);
      },
    });
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
      await close();
      await upstream.close();
    }
  },
);
