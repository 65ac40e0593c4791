// authority.compile_intent with an LLM compiler, at the tool level: the official MCP client calls
// the gateway's tool; the gateway asks a model through the OpenAI-compatible chat API (a local
// node:http server speaking it, answering scripted proposals) and mints the child through the REAL
// issuer's Delegate. A proposal beyond the caller's envelope is clipped (and the child really
// cannot do more); a model that fails or is down leaves the decision to the deterministic
// compiler, and the answer says so.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cryptoReady, parseToken, splitSeal } from '@authority/core';
import { loadConfig } from '@authority/platform';
import type { MintResponse__Output } from '@authority/proto';
import { gatewayConfigSchema, startGateway, type GatewayHandle } from '@authority/gateway';
import { moduleDir } from '../src/modules';
import { rpc, startStack, type Stack, type StackTenant } from '../src/stack';

const AUDIENCE = 'authority-gateway';
const MODEL = 'stub-model';
const API_KEY = 'sk-test-compile';
let stack: Stack;
let tenant: StackTenant;
let gateway: GatewayHandle;
let dir: string;
let llm: Server;
const clients: Client[] = [];

/** What the stub model answers next: a chat completion's content, or an HTTP status. */
type Scripted = { content: string } | { status: number };
const script: Scripted[] = [];
const seen: { url: string; authorization: string | undefined; body: Record<string, unknown> }[] = [];

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/** A minimal OpenAI-compatible chat completions server. */
function startLlm(): Promise<Server> {
  const server = createServer((req, res) => {
    void readBody(req).then((raw) => {
      seen.push({
        url: `${req.method ?? ''} ${req.url ?? ''}`,
        authorization: req.headers.authorization,
        body: JSON.parse(raw) as Record<string, unknown>,
      });
      const next = script.shift() ?? { status: 500 };
      if ('status' in next) {
        res.writeHead(next.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: 'scripted failure' } }));
        return;
      }
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({
          id: 'chatcmpl-1',
          object: 'chat.completion',
          model: MODEL,
          choices: [{ index: 0, message: { role: 'assistant', content: next.content }, finish_reason: 'stop' }],
        }),
      );
    });
  });
  return new Promise((resolve) => server.listen(0, '127.0.0.1', () => resolve(server)));
}

async function connect(token: string): Promise<Client> {
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  await client.connect(
    new StreamableHTTPClientTransport(new URL(gateway.resource), {
      requestInit: { headers: { Authorization: `Bearer ${token}` } },
    }),
  );
  clients.push(client);
  return client;
}

async function call(client: Client, name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return (await client.callTool({ name, arguments: args })) as CallToolResult;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('');

interface Compiled {
  agent_id: string;
  token: string;
  scopes_kept: string[];
  scopes_dropped: string[];
  scopes_clipped?: string[];
  reduction_ratio: number;
  reasons: Record<string, string>;
  source: string;
}

const PARENT_SCOPES = ['vault:course:read', 'vault:course:write', 'demo:echo'];
let parent: Client;

before(async () => {
  await cryptoReady();
  dir = mkdtempSync(join(tmpdir(), 'gw-llm-'));
  llm = await startLlm();
  const mapping = join(dir, 'mapping.yaml');
  const everything = join(moduleDir('@modelcontextprotocol/server-everything'), 'dist', 'index.js');
  writeFileSync(
    mapping,
    `upstreams:
  everything:
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(everything)}, stdio]
    tools:
      echo: { scope: "demo:echo" }
`,
  );
  stack = await startStack({ enforcerEnv: { AUTHORITY_AUDIENCE: AUDIENCE } });
  tenant = await stack.createTenant();
  const config = loadConfig(
    gatewayConfigSchema,
    {
      AUTHORITY_GATEWAY_MAPPING: mapping,
      AUTHORITY_GATEWAY_HOST: '127.0.0.1',
      AUTHORITY_ENFORCER_ADDR: stack.enforcers[0]!.address,
      AUTHORITY_ENFORCER_API_KEY: tenant.checker,
      AUTHORITY_ISSUER_ADDR: stack.issuer.address,
      AUTHORITY_ISSUER_API_KEY: tenant.admin,
      AUTHORITY_GATEWAY_COMPILER: 'openai',
      AUTHORITY_GATEWAY_COMPILER_URL: `http://127.0.0.1:${(llm.address() as AddressInfo).port}/v1`,
      AUTHORITY_GATEWAY_COMPILER_MODEL: MODEL,
      AUTHORITY_GATEWAY_COMPILER_API_KEY: API_KEY,
      AUTHORITY_GATEWAY_COMPILER_TIMEOUT: '10s',
      AUTHORITY_LOG_LEVEL: 'silent',
    },
    [],
  );
  gateway = await startGateway({ ...config, AUTHORITY_GATEWAY_PORT: 0 });
  const minted = await rpc<MintResponse__Output>(
    stack.issuer.client,
    'Mint',
    {
      tenant: tenant.tenant,
      agentId: 'planner',
      grant: { scopes: PARENT_SCOPES, contextFields: [], constraintsJson: '{"unconstrained":true}' },
      ttlSeconds: 600,
      audience: [AUDIENCE],
    },
    tenant.admin,
  );
  parent = await connect(minted.envelope?.token ?? '');
});

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await gateway?.stop();
  await stack?.stop();
  if (llm?.listening) await new Promise<void>((resolve) => llm.close(() => resolve()));
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gateway: compile_intent with an OpenAI-compatible model', () => {
  test('a proposal beyond the envelope is clipped to it; the report and the minted child agree', async () => {
    seen.length = 0;
    script.push({
      content: JSON.stringify({
        scopes: ['vault:course:read', 'vault:records:read', 'vault:*:read', 'admin:tenant:write'],
        reasoning: 'the task reads course material',
      }),
    });
    const r = await call(parent, 'authority.compile_intent', {
      intent: 'Summarize the course syllabus',
      agent_name: 'summarizer',
    });
    assert.equal(r.isError, undefined, text(r));
    const out = r.structuredContent as unknown as Compiled;
    assert.equal(out.source, `openai:${MODEL}`);
    assert.equal(out.agent_id, 'planner/summarizer');
    assert.deepEqual(out.scopes_kept, ['vault:course:read']);
    assert.deepEqual(out.scopes_clipped, ['vault:records:read', 'vault:*:read', 'admin:tenant:write']);
    assert.deepEqual(out.scopes_dropped, ['vault:course:write', 'demo:echo']);
    assert.equal(out.reduction_ratio, 0.667);
    assert.deepEqual(out.reasons, {
      'vault:course:read': `proposed by openai:${MODEL}: the task reads course material`,
    });
    // The model was asked once, on the OpenAI wire, with the caller's scopes as the only choice.
    assert.equal(seen.length, 1);
    assert.equal(seen[0]?.url, 'POST /v1/chat/completions');
    assert.equal(seen[0]?.authorization, `Bearer ${API_KEY}`);
    assert.equal(seen[0]?.body['model'], MODEL);
    const user = (seen[0]?.body['messages'] as { role: string; content: string }[]).find((m) => m.role === 'user');
    assert.match(user?.content ?? '', /Task: Summarize the course syllabus/);
    for (const s of PARENT_SCOPES) assert.ok(user?.content.includes(`- ${s}`), s);
    // The issuer minted exactly the kept scopes; the child is refused what was clipped.
    const leaf = parseToken(splitSeal(out.token).chain).at(-1);
    assert.deepEqual(leaf?.claims.scp, ['vault:course:read']);
    const child = await connect(out.token);
    const yes = await call(child, 'authority.check_access', { scope: 'vault:course:read' });
    assert.equal(yes.structuredContent?.['allowed'], true, text(yes));
    for (const scope of ['vault:records:read', 'vault:course:write']) {
      const no = await call(child, 'authority.check_access', { scope });
      assert.equal(no.structuredContent?.['allowed'], false, scope);
      assert.equal(no.structuredContent?.['reason'], 'SCOPE_MISSING', scope);
    }
  });

  test('a proposal with nothing inside the envelope mints nothing', async () => {
    script.push({ content: JSON.stringify({ scopes: ['vault:records:read'], reasoning: 'grades' }) });
    const r = await call(parent, 'authority.compile_intent', { intent: 'Read the grades' });
    assert.equal(r.isError, true);
    const d = r._meta?.['authority/denial'] as { reason: string; field: string };
    assert.equal(d.reason, 'INVALID_REQUEST');
    assert.equal(d.field, 'arguments.intent');
  });

  test('a failing model (HTTP 503, an answer without the JSON): the deterministic compiler decides, and says so', async () => {
    script.push({ status: 503 }, { content: 'I think you need read access.' });
    const failed = [
      `deterministic (openai:${MODEL} failed: openai:${MODEL} answered HTTP 503)`,
      `deterministic (openai:${MODEL} failed: the answer holds no JSON object)`,
    ];
    for (const source of failed) {
      const r = await call(parent, 'authority.compile_intent', { intent: 'Read the course syllabus' });
      assert.equal(r.isError, undefined, text(r));
      const out = r.structuredContent as unknown as Compiled;
      assert.equal(out.source, source);
      assert.ok(text(r).includes(source), 'the answer the agent reads names the fallback');
      assert.deepEqual(out.scopes_kept, ['vault:course:read']);
      assert.equal(out.scopes_clipped, undefined);
      assert.deepEqual(leafScopes(out.token), ['vault:course:read']);
    }
  });

  test('the model down (nothing listening): the deterministic compiler decides, and says so', async () => {
    await new Promise<void>((resolve) => llm.close(() => resolve()));
    const r = await call(parent, 'authority.compile_intent', { intent: 'Read the course syllabus' });
    assert.equal(r.isError, undefined, text(r));
    const out = r.structuredContent as unknown as Compiled;
    assert.match(out.source, new RegExp(`^deterministic \\(openai:${MODEL} failed: .+\\)$`));
    assert.deepEqual(out.scopes_kept, ['vault:course:read']);
    assert.deepEqual(out.scopes_dropped, ['vault:course:write', 'demo:echo']);
    assert.deepEqual(leafScopes(out.token), ['vault:course:read']);
  });
});

function leafScopes(token: string): string[] | undefined {
  return parseToken(splitSeal(token).chain).at(-1)?.claims.scp;
}
