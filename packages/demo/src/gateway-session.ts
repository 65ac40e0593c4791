// The demo's MCP part: an agent connects to the gateway with its envelope as bearer token and
// calls the real filesystem MCP server behind it. Allowed reads reach the server; a read outside
// the envelope's resources, a path traversal through a tool argument and a write without the
// scope are refused by the gateway before the server sees them. Then the agent compiles a task
// description into a narrower child envelope (authority.compile_intent, minted by the issuer) that
// its sub-agent uses. Last, the gateway's document vault (seeded here for the demo tenant):
// the agent reads its course domain, is refused the records domain, and searches.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { MongoClient } from 'mongodb';
import type { MintResponse__Output } from '@authority/proto';
import { MongoVaultStore } from '@authority/gateway';
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
  /** The gateway's vault (seeded with two domains for the demo tenant). */
  vault: { mongoUri: string; db: string };
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
  await seedVault(o.vault, tenant);
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
        scopes: ['files:course:read', 'files:grades:read', 'vault:course:read'],
        resources: [`file://local${o.root}/materials/*`, 'slos://vaults/course', 'slos://vaults/course/*'],
        contextFields: [],
        constraintsJson: '{"unconstrained":true}',
      },
      audience: [GATEWAY_AUDIENCE],
    },
    admin,
  );
  const token = minted.envelope?.token ?? '';
  log(
    `   course-assistant: files:course:read, files:grades:read on ${o.root}/materials/*, vault:course:read on slos://vaults/course, audience ${GATEWAY_AUDIENCE}`,
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
      'authority.check_access, authority.compile_intent, authority.vault_list, authority.vault_metadata, authority.vault_query, authority.vault_read, authority.vault_write, files.read_text_file, files.write_file',
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
    record(
      'vault: list the domains it may read',
      JSON.stringify(
        (
          ((await client.callTool({ name: 'authority.vault_list', arguments: {} })) as CallToolResult)
            .structuredContent?.['domains'] as {
            domain: string;
            sensitivity: string;
          }[]
        ).map((d) => `${d.domain} (${d.sensitivity})`),
      ),
      '["course (internal)"]',
    );
    /** A vault call's outcome: its structured answer summarized, or the denial. */
    const vaultOutcome = async (
      name: string,
      args: Record<string, unknown>,
      summary: (s: Record<string, unknown>) => string,
    ) => {
      const r = (await client.callTool({ name, arguments: args })) as CallToolResult;
      if (r.isError === true || r.structuredContent === undefined) return outcome(name, args);
      return `ALLOW: ${summary(r.structuredContent)}`;
    };
    record(
      'vault: read course/reading-list.md',
      await vaultOutcome(
        'authority.vault_read',
        { domain: 'course', name: 'reading-list.md' },
        (d) => `${String(d['title'])} (${String(d['sensitivity'])}): ${String(d['content']).slice(0, 14)}`,
      ),
      'ALLOW: Reading list (internal): Week 1: cells.',
    );
    record(
      'vault: read records/transcripts.csv',
      await outcome('authority.vault_read', { domain: 'records', name: 'transcripts.csv' }),
      'DENY SCOPE_MISSING (required_scope)',
    );
    record(
      'vault: search the course domain for "genetics"',
      await vaultOutcome('authority.vault_query', { domain: 'course', text: 'genetics' }, (d) =>
        (d['results'] as { name: string }[]).map((x) => x.name).join(', '),
      ),
      'ALLOW: reading-list.md',
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
      'course-assistant/summarizer: kept files:course:read, vault:course:read; dropped files:grades:read; reduction 0.333',
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

/** The demo tenant's vault: an internal course domain and a restricted records domain. */
async function seedVault(vault: { mongoUri: string; db: string }, tenant: string): Promise<void> {
  const mongo = new MongoClient(vault.mongoUri);
  try {
    await mongo.connect();
    const store = new MongoVaultStore(mongo.db(vault.db));
    await store.init();
    const at = new Date();
    const course = { domain: 'course', sensitivity: 'internal' as const, description: 'BIO-101 course material' };
    const records = { domain: 'records', sensitivity: 'restricted' as const, description: 'Student records (FERPA)' };
    await store.putDomain(tenant, course);
    await store.putDomain(tenant, records);
    await store.putDocument(tenant, course, {
      name: 'reading-list.md',
      title: 'Reading list',
      content: 'Week 1: cells. Week 4: genetics. Week 9: evolution.',
      by: 'demo-seed',
      at,
    });
    await store.putDocument(tenant, records, {
      name: 'transcripts.csv',
      title: 'Transcripts',
      content: 'student_id,course,grade\nS-1001,BIO-101,A\n',
      by: 'demo-seed',
      at,
    });
  } finally {
    await mongo.close();
  }
}
