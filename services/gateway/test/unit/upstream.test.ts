// Upstream connections: only mapped tools are exposed, renamed, with their checks in _meta; and a
// chatty stdio upstream (megabytes on stderr) does not block, since the gateway reads its stderr.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { silentLogger } from '@authority/platform';
import { parseMapping } from '../../src/mapping';
import { Upstream } from '../../src/upstream';

const dir = mkdtempSync(join(tmpdir(), 'gw-upstream-'));
after(() => rmSync(dir, { recursive: true, force: true }));

/** A stdio MCP server (the SDK's McpServer) that writes `stderrBytes` to stderr before serving. */
function fakeServer(stderrBytes: number): string {
  const file = join(dir, `server-${stderrBytes}.js`);
  writeFileSync(
    file,
    `const { McpServer } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/mcp.js'))});
const { StdioServerTransport } = require(${JSON.stringify(require.resolve('@modelcontextprotocol/sdk/server/stdio.js'))});
process.stderr.write('x'.repeat(${stderrBytes}));
const server = new McpServer({ name: 'fake', version: '1' });
server.registerTool('mapped', { description: 'mapped tool' }, async () => ({ content: [{ type: 'text', text: 'ok' }] }));
server.registerTool('hidden', { description: 'not in the mapping' }, async () => ({ content: [] }));
server.connect(new StdioServerTransport());
`,
  );
  return file;
}

test(
  'a stdio upstream writing 4 MiB to stderr connects; only mapped tools are exposed',
  { timeout: 60_000 },
  async () => {
    const mapping = parseMapping(`upstreams:
  fake:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(fakeServer(4 * 1024 * 1024))}]
    tools:
      mapped: { scope: "demo:run", resource: "demo://x/{id}" }
      absent: { scope: "demo:run" }
`);
    const upstream = new Upstream(mapping.upstreams[0]!, silentLogger(), () => undefined);
    try {
      await upstream.connect();
      const tools = [...upstream.exposedTools()];
      assert.deepEqual(
        tools.map((t) => t.name),
        ['fake.mapped'],
      );
      assert.deepEqual(tools[0]?.definition._meta?.['authority/checks'], [
        { scope: 'demo:run', resource: 'demo://x/{id}' },
      ]);
      assert.equal(upstream.tool('fake.hidden'), undefined);
      const r = await upstream.client.callTool({ name: 'mapped', arguments: {} });
      assert.deepEqual(r.content, [{ type: 'text', text: 'ok' }]);
    } finally {
      await upstream.close();
    }
  },
);
