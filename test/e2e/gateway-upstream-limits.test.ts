// No upstream work before authentication (issue 13, gateway hardening): a `sessions: per-agent`
// upstream is a process per session, so the gateway spawns one only after the REAL enforcer
// allowed a call of the session's caller, within bounds per agent (and tenant, and overall), and
// closes idle ones. The upstream is the real server-everything, started through a wrapper that
// writes its pid to a log, so every process the gateway ever spawned is counted.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { cryptoReady } from '@authority/core';
import { loadConfig } from '@authority/platform';
import type { CheckResponse__Output, MintResponse__Output } from '@authority/proto';
import { eventually } from '@authority/test-helpers';
import { gatewayConfigSchema, startGateway, type Denial, type GatewayHandle } from '@authority/gateway';
import { moduleDir } from '../src/modules';
import { forgedEnvelope } from '../src/gateway';
import { rpc, startStack, type Stack, type StackTenant } from '../src/stack';

const AUDIENCE = 'authority-gateway';
const MINUTE = 60_000;
let stack: Stack;
let tenant: StackTenant;
let gateway: GatewayHandle;
let dir: string;
let spawnLog: string;
/** Added to the gateway's clock (expiry at the door, idle connections); the enforcer keeps real time. */
let offsetMs = 0;
const clients: Client[] = [];
const transports = new Map<Client, StreamableHTTPClientTransport>();

/** Pids of every upstream process the gateway started, in order. */
function spawned(): number[] {
  if (!existsSync(spawnLog)) return [];
  return readFileSync(spawnLog, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map(Number);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function mint(agentId: string): Promise<{ token: string; jti: string }> {
  const res = await rpc<MintResponse__Output>(
    stack.issuer.client,
    'Mint',
    {
      tenant: tenant.tenant,
      agentId,
      grant: { scopes: ['demo:echo'], contextFields: [], constraintsJson: '{"unconstrained":true}' },
      ttlSeconds: 600,
      audience: [AUDIENCE],
    },
    tenant.admin,
  );
  return { token: res.envelope?.token ?? '', jti: res.envelope?.jti ?? '' };
}

async function connect(token: string, g: GatewayHandle = gateway): Promise<Client> {
  const client = new Client({ name: 'e2e-agent', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(g.resource), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  clients.push(client);
  transports.set(client, transport);
  return client;
}

async function echo(client: Client, message: string): Promise<CallToolResult> {
  return (await client.callTool({ name: 'ev.echo', arguments: { message } })) as CallToolResult;
}

function denialOf(result: CallToolResult): Denial {
  assert.equal(result.isError, true, `expected a denial, got ${JSON.stringify(result).slice(0, 300)}`);
  const d = result._meta?.['authority/denial'] as Denial | undefined;
  assert.ok(d !== undefined, 'the denial details are in _meta["authority/denial"]');
  return d;
}

const text = (r: CallToolResult) => r.content.map((c) => (c.type === 'text' ? c.text : `[${c.type}]`)).join('');

before(async () => {
  await cryptoReady();
  dir = mkdtempSync(join(tmpdir(), 'gw-limits-'));
  spawnLog = join(dir, 'spawned.log');
  const wrapper = join(dir, 'counted-everything.cjs');
  writeFileSync(
    wrapper,
    `const { appendFileSync } = require('node:fs');
const { pathToFileURL } = require('node:url');
appendFileSync(process.env.SPAWN_LOG, process.pid + '\\n');
import(pathToFileURL(process.argv[2]).href);
`,
  );
  const stdioServer = join(moduleDir('@modelcontextprotocol/server-everything'), 'dist', 'transports', 'stdio.js');
  const mapping = join(dir, 'mapping.yaml');
  writeFileSync(
    mapping,
    `upstreams:
  everything:
    namespace: ev
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(wrapper)}, ${JSON.stringify(stdioServer)}]
    env: { SPAWN_LOG: ${JSON.stringify(spawnLog)} }
    sessions: per-agent
    tools:
      echo: { scope: "demo:echo" }
`,
  );
  stack = await startStack({ enforcerEnv: { AUTHORITY_AUDIENCE: AUDIENCE } });
  tenant = await stack.createTenant();
  mappingFile = mapping;
  gateway = await startTestGateway();
});

let mappingFile = '';
function startTestGateway(env: Record<string, string> = {}): Promise<GatewayHandle> {
  const config = loadConfig(
    gatewayConfigSchema,
    {
      AUTHORITY_GATEWAY_MAPPING: mappingFile,
      AUTHORITY_GATEWAY_HOST: '127.0.0.1',
      AUTHORITY_ENFORCER_ADDR: stack.enforcers[0]!.address,
      AUTHORITY_ENFORCER_API_KEY: tenant.checker,
      AUTHORITY_LOG_LEVEL: 'silent',
      AUTHORITY_GATEWAY_UPSTREAMS_PER_AGENT: '2',
      AUTHORITY_GATEWAY_UPSTREAM_IDLE: '2m',
      ...env,
    },
    [],
  );
  return startGateway({ ...config, AUTHORITY_GATEWAY_PORT: 0 }, { clock: () => Date.now() + offsetMs });
}

after(async () => {
  for (const c of clients) await c.close().catch(() => undefined);
  await gateway?.stop();
  await stack?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('gateway: per-agent upstreams are opened only for verified callers, and bounded', () => {
  test('at start only the catalog connection runs; listing tools spawns nothing', async () => {
    assert.equal(spawned().length, 1, 'one process: the catalog connection');
    const agent = await connect((await mint('lister')).token);
    const { tools } = await agent.listTools();
    assert.ok(tools.some((t) => t.name === 'ev.echo'));
    assert.equal(spawned().length, 1, 'initialize and tools/list spawned nothing');
    assert.equal(gateway.pool.size, 0);
  });

  test('no token, or an expired one, is refused at the door: no session, no process', async () => {
    const before = spawned().length;
    const init = {
      jsonrpc: '2.0',
      id: 1,
      method: 'initialize',
      params: { protocolVersion: '2025-06-18', capabilities: {}, clientInfo: { name: 'x', version: '1' } },
    };
    const post = (headers: Record<string, string>) =>
      fetch(gateway.resource, {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'application/json, text/event-stream', ...headers },
        body: JSON.stringify(init),
      });
    assert.equal((await post({})).status, 401);
    const { token } = await mint('expiring');
    offsetMs = 11 * MINUTE; // the 10-minute envelope has expired for the gateway
    try {
      const res = await post({ authorization: `Bearer ${token}` });
      assert.equal(res.status, 401);
      assert.match(res.headers.get('www-authenticate') ?? '', /expired/);
    } finally {
      offsetMs = 0;
    }
    assert.equal(spawned().length, before);
  });

  test('a forged envelope (unknown key) and a revoked one get their denial and spawn nothing', async () => {
    const before = spawned().length;
    const forged = forgedEnvelope(tenant.tenant, 'victim');
    const attacker = await connect(forged);
    for (let i = 0; i < 3; i++) assert.equal(denialOf(await echo(attacker, 'x')).reason, 'UNKNOWN_KEY');

    const revoked = await mint('revoked-agent');
    await rpc(stack.issuer.client, 'Revoke', { tenant: tenant.tenant, jti: revoked.jti, reason: 'e2e' }, tenant.admin);
    // Asked directly, so no call through the gateway can be allowed before the revocation arrived.
    await eventually(async () => {
      const r = await rpc<CheckResponse__Output>(
        stack.enforcers[0]!.client,
        'Check',
        { token: revoked.token, requiredScope: 'demo:echo' },
        tenant.checker,
      );
      return r.reason === 'REVOKED' ? true : undefined;
    }, 'the enforcer learned the revocation');
    const holder = await connect(revoked.token);
    const d = denialOf(await echo(holder, 'x'));
    assert.equal(d.reason, 'REVOKED');
    assert.equal(spawned().length, before, 'no process for a forged or revoked envelope');
    assert.equal(gateway.pool.size, 0);
  });

  test('an allowed call spawns the session its own process; the per-agent bound refuses the third', async () => {
    const before = spawned().length;
    const { token } = await mint('busy-agent');
    const s1 = await connect(token);
    const s2 = await connect(token);
    const s3 = await connect(token);
    assert.equal(text(await echo(s1, 'one')), 'Echo: one');
    assert.equal(text(await echo(s1, 'again')), 'Echo: again');
    assert.equal(spawned().length, before + 1, 'one process for the session, reused');
    assert.equal(text(await echo(s2, 'two')), 'Echo: two');
    assert.equal(spawned().length, before + 2);
    const d = denialOf(await echo(s3, 'three'));
    assert.equal(d.reason, 'UPSTREAM_LIMIT');
    assert.equal(d.field, 'limit.per_agent');
    assert.equal(d.retryable, true);
    assert.match(d.message, /busy-agent' holds 2 per-agent upstream connections \(at most 2\)/);
    assert.match(d.hint, /close a session/);
    assert.equal(spawned().length, before + 2, 'the refused call spawned nothing');
    // Another agent of the tenant has its own bound.
    const other = await connect((await mint('other-agent')).token);
    assert.equal(text(await echo(other, 'o')), 'Echo: o');
    assert.equal(spawned().length, before + 3);
    // Closing a session gives its place back (its process ends): the third session gets one.
    const pids = spawned();
    const s1Pid = pids[before] as number;
    await transports.get(s1)?.terminateSession();
    await eventually(async () => (alive(s1Pid) ? undefined : true), "the closed session's process ended");
    assert.equal(text(await echo(s3, 'three')), 'Echo: three');
    assert.equal(spawned().length, before + 4);
  });

  test('idle per-agent processes are closed; the next allowed call opens a new one', async () => {
    const { token } = await mint('idle-agent');
    const agent = await connect(token);
    assert.equal(text(await echo(agent, 'first')), 'Echo: first');
    const pid = spawned().at(-1) as number;
    assert.ok(alive(pid));
    const held = gateway.pool.size;
    offsetMs = 3 * MINUTE; // past AUTHORITY_GATEWAY_UPSTREAM_IDLE (2m) for the gateway
    try {
      assert.ok((await gateway.pool.sweep()) >= 1);
    } finally {
      offsetMs = 0;
    }
    await eventually(async () => (alive(pid) ? undefined : true), 'the idle process ended');
    assert.ok(gateway.pool.size < held);
    const before = spawned().length;
    assert.equal(text(await echo(agent, 'second')), 'Echo: second');
    assert.equal(spawned().length, before + 1, 'reopened on the next allowed call');
  });

  test('a full session table evicts the oldest session never verified, never a verified one', async () => {
    const small = await startTestGateway({ AUTHORITY_GATEWAY_MAX_SESSIONS: '2' });
    try {
      const legit = await connect((await mint('table-agent')).token, small);
      assert.equal(text(await echo(legit, 'a')), 'Echo: a', 'the enforcer verified this session');
      // Forged envelopes parse, so they get sessions; their calls never verify them.
      const f1 = await connect(forgedEnvelope(tenant.tenant, 'table-agent'), small);
      assert.equal(denialOf(await echo(f1, 'x')).reason, 'UNKNOWN_KEY');
      const f2 = await connect(forgedEnvelope(tenant.tenant, 'someone'), small);
      assert.equal(small.http?.evicted, 1, 'the full table evicted the unverified session');
      await assert.rejects(echo(f1, 'x'), /Session not found|404/);
      // A new agent gets in (evicting the other forged session) and is verified by its first call.
      const other = await connect((await mint('table-agent-2')).token, small);
      assert.equal(small.http?.evicted, 2);
      await assert.rejects(echo(f2, 'x'), /Session not found|404/);
      assert.equal(text(await echo(other, 'b')), 'Echo: b');
      // Only verified sessions left: a new one is refused, and the verified ones keep working.
      await assert.rejects(connect(forgedEnvelope(tenant.tenant, 'someone'), small), /503|too many sessions/);
      assert.equal(small.http?.evicted, 2);
      assert.equal(text(await echo(legit, 'c')), 'Echo: c');
    } finally {
      await small.stop();
    }
  });
});
