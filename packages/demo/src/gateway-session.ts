// The demo's MCP part: an agent connects to the gateway with its envelope as bearer token and
// calls the real filesystem MCP server behind it. Allowed reads reach the server; a read outside
// the envelope's resources, a path traversal through a tool argument and a write without the
// scope are refused by the gateway before the server sees them. Then the agent compiles a task
// description into a narrower child envelope (authority.compile_intent, minted by the issuer) that
// its sub-agent uses.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import type { MintResponse__Output } from '@authority/proto';
import { call, type Clients } from './clients';
import { GATEWAY_AUDIENCE } from './launcher';

export interface GatewaySessionResult {
  tenant: string;
  decisions: { step: string; outcome: string; expected: string; ok: boolean }[];
  ok: boolean;
}

/** Writes the files the filesystem server serves and the gateway's mapping; returns the mapping path. */
export function prepareGatewayFiles(runDir: string, filesystemServer: string): { mapping: string; root: string } {
  const root = join(runDir, 'gateway-files');
  mkdirSync(join(root, 'materials'), { recursive: true });
  mkdirSync(join(root, 'grades'), { recursive: true });
  writeFileSync(
    join(root, 'materials', 'syllabus.txt'),
    'BIO-101: cells, genetics, evolution. Exams in weeks 6 and 12.\n',
  );
  writeFileSync(join(root, 'grades', 'grades.csv'), 'student_id,grade\nS-1001,A\nS-1002,B+\n');
  const mapping = join(runDir, 'gateway-mapping.yaml');
  writeFileSync(
    mapping,
    `# The demo gateway: server-filesystem behind Authority. Tools not listed are not exposed.
upstreams:
  files:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(filesystemServer)}, ${JSON.stringify(root)}]
    tools:
      read_text_file:
        scope: files:course:read
        resource: file://local/{path*}
      write_file:
        scope: files:course:write
        action: write
        resource: file://local/{path*}
`,
  );
  return { mapping, root };
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('');

export async function runGatewaySession(o: {
  clients: Clients;
  operatorKey: string;
  tenant: string;
  gatewayUrl: string;
  root: string;
  log: (line: string) => void;
}): Promise<GatewaySessionResult> {
  const { clients: c, tenant, log } = o;
  const decisions: GatewaySessionResult['decisions'] = [];
  const record = (step: string, outcome: string, expected: string) => {
    const ok = outcome === expected;
    decisions.push({ step, outcome, expected, ok });
    log(`   ${ok ? '✔' : '✘'} ${step}: ${outcome}${ok ? '' : ` (expected ${expected})`}`);
  };

  log(`\nMCP gateway: an agent session over streamable HTTP (${o.gatewayUrl})`);
  const created = await call(
    c.issuer,
    c.issuer.createTenant,
    { tenant, displayName: 'Lakeside MCP agents' },
    o.operatorKey,
  );
  const admin = created.adminCredential?.secret ?? '';
  const unauthenticated = await fetch(o.gatewayUrl, { method: 'POST', body: '{}' });
  record(
    'a request without an envelope',
    `${unauthenticated.status} ${unauthenticated.headers.get('www-authenticate')?.split(',')[0] ?? ''}`,
    `401 Bearer resource_metadata="${o.gatewayUrl.replace(/\/mcp$/, '')}/.well-known/oauth-protected-resource/mcp"`,
  );
  const minted: MintResponse__Output = await call(
    c.issuer,
    c.issuer.mint,
    {
      tenant,
      agentId: 'course-assistant',
      ttlSeconds: 3600,
      grant: {
        scopes: ['files:course:read', 'files:grades:read'],
        resources: [`file://local${o.root}/materials/*`],
        contextFields: [],
        constraintsJson: '{"unconstrained":true}',
      },
      audience: [GATEWAY_AUDIENCE],
    },
    admin,
  );
  const token = minted.envelope?.token ?? '';
  log(
    `   course-assistant: files:course:read, files:grades:read on ${o.root}/materials/*, audience ${GATEWAY_AUDIENCE}`,
  );
  const client = new Client({ name: 'demo-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(o.gatewayUrl), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  try {
    const tools = (await client.listTools()).tools.map((t) => t.name).sort();
    record(
      'tools the agent sees (built-in and mapped ones)',
      tools.join(', '),
      'authority.check_access, authority.compile_intent, files.read_text_file, files.write_file',
    );
    const outcome = async (name: string, args: Record<string, unknown>) => {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      const denial = r._meta?.['authority/denial'] as { reason: string; field?: string } | undefined;
      if (denial !== undefined) return `DENY ${denial.reason}${denial.field ? ` (${denial.field})` : ''}`;
      return r.isError ? `ERROR ${text(r)}` : `ALLOW: ${text(r).trim().slice(0, 40)}`;
    };
    record(
      'read the syllabus',
      await outcome('files.read_text_file', { path: join(o.root, 'materials', 'syllabus.txt') }),
      'ALLOW: BIO-101: cells, genetics, evolution. Exa',
    );
    record(
      'read the grades',
      await outcome('files.read_text_file', { path: join(o.root, 'grades', 'grades.csv') }),
      'DENY RESOURCE_NOT_ALLOWED (resource)',
    );
    record(
      'read the grades through materials/../',
      await outcome('files.read_text_file', { path: `${o.root}/materials/../grades/grades.csv` }),
      'DENY INVALID_REQUEST (arguments.path)',
    );
    record(
      'overwrite the syllabus',
      await outcome('files.write_file', { path: join(o.root, 'materials', 'syllabus.txt'), content: 'no exams' }),
      'DENY SCOPE_MISSING (required_scope)',
    );
    const compiled = (await client.callTool({
      name: 'authority.compile_intent',
      arguments: { intent: 'Summarize the course syllabus for new students', agent_name: 'summarizer' },
    })) as CallToolResult;
    const child = compiled.structuredContent as
      | { agent_id: string; token: string; scopes_kept: string[]; scopes_dropped: string[]; reduction_ratio: number }
      | undefined;
    record(
      'compile "Summarize the course syllabus for new students"',
      child === undefined
        ? `ERROR ${text(compiled)}`
        : `${child.agent_id}: kept ${child.scopes_kept.join(', ')}; dropped ${child.scopes_dropped.join(', ')}; reduction ${child.reduction_ratio}`,
      'course-assistant/summarizer: kept files:course:read; dropped files:grades:read; reduction 0.5',
    );
    if (child !== undefined) {
      const sub = new Client({ name: 'demo-sub-agent', version: '1.0.0' });
      await sub.connect(
        new StreamableHTTPClientTransport(new URL(o.gatewayUrl), {
          requestInit: { headers: { Authorization: `Bearer ${child.token}` } },
        }),
      );
      try {
        const r = (await sub.callTool({
          name: 'authority.check_access',
          arguments: { scope: 'files:grades:read', resource: `file://local${o.root}/materials/syllabus.txt` },
        })) as CallToolResult;
        record(
          'the summarizer asks whether it may read grades',
          `allowed ${String(r.structuredContent?.['allowed'])} (${String(r.structuredContent?.['reason'])})`,
          'allowed false (SCOPE_MISSING)',
        );
      } finally {
        await sub.close();
      }
    }
  } finally {
    await client.close();
  }
  return { tenant, decisions, ok: decisions.every((d) => d.ok) };
}
