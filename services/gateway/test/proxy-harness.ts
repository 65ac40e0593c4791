// What the proxy's unit tests share: an agent connected in memory to a proxy server (the gateway's
// enforcement in front of the given upstreams, a fixed caller), stand-in enforcer answers with
// every field set, and the path of the real server-everything the tests run as a stdio upstream.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import type { ClientCapabilities } from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import { BuiltinTools } from '../src/builtin';
import { Enforcement, type EnforcementOptions } from '../src/enforce';
import { parseMapping, type UpstreamMapping } from '../src/mapping';
import { createProxyServer, type ProxyDeps } from '../src/proxy';
import { RateLimiter } from '../src/rate-limit';
import type { Upstream } from '../src/upstream';

/** The entry point of @modelcontextprotocol/server-everything (run as `node <it> stdio`). */
export function everythingServer(): string {
  return require
    .resolve('@modelcontextprotocol/server-everything/package.json')
    .replace(/package\.json$/, 'dist/index.js');
}

/**
 * A stdio upstream `fake` running `source` (an MCP server script, written to `dir`/server.js) with
 * this node, each of `tools` mapped to the scope `demo:run`.
 */
export function fakeStdioUpstream(dir: string, source: string, tools: readonly string[]): UpstreamMapping {
  const file = join(dir, 'server.js');
  writeFileSync(file, source);
  const mapped = tools.map((t) => `      ${t}: { scope: "demo:run" }\n`).join('');
  const mapping = parseMapping(
    `upstreams:\n  fake:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(file)}]\n    tools:\n${mapped}`,
  );
  return mapping.upstreams[0]!;
}

/** A stand-in enforcer's answer: a well-formed ALLOW for agent `agent` of tenant `t`, overridden. */
export function checkResponse(overrides: Partial<CheckResponse__Output> = {}): CheckResponse__Output {
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
    ...overrides,
  };
}

/** A stand-in enforcer that allows every check (its decisions are not what such tests test). */
export const allowAll: EnforcementOptions['enforcer'] = {
  check: async () => checkResponse(),
  batchCheck: async (req: { checks?: CheckRequest[] }) => ({ results: (req.checks ?? []).map(() => checkResponse()) }),
};

export interface AgentSession {
  agent: Client;
  server: Server;
  close(): Promise<void>;
}

/**
 * An MCP client connected in memory to a proxy server over `upstreams` (and per-agent ones), its
 * calls checked by `enforcer`; the caller is agent `agent` of tenant `t`. `beforeConnect` sets the
 * client's handlers (elicitation, notifications) before it connects.
 */
export async function connectAgent(opts: {
  enforcer: EnforcementOptions['enforcer'];
  upstreams: Upstream[];
  perAgent?: ProxyDeps['perAgent'];
  pool?: ProxyDeps['pool'];
  upstreamOptions?: ProxyDeps['upstreamOptions'];
  ratePerSecond?: number;
  timeoutMs?: number;
  capabilities?: ClientCapabilities;
  beforeConnect?: (agent: Client, server: Server) => void;
}): Promise<AgentSession> {
  const rate = opts.ratePerSecond ?? 1000;
  const enforcement = new Enforcement({
    enforcer: opts.enforcer,
    limiter: new RateLimiter({ ratePerSecond: rate, burst: rate, maxKeys: 10 }),
    timeoutMs: opts.timeoutMs ?? 1000,
  });
  const server = createProxyServer({
    upstreams: opts.upstreams,
    ...(opts.perAgent !== undefined ? { perAgent: opts.perAgent } : {}),
    ...(opts.pool !== undefined ? { pool: opts.pool } : {}),
    ...(opts.upstreamOptions !== undefined ? { upstreamOptions: opts.upstreamOptions } : {}),
    builtins: new BuiltinTools({ enforcement, upstreams: opts.upstreams, issuerTimeoutMs: 1000 }),
    enforcement,
    logger: silentLogger(),
    upstreamTimeoutMs: 30_000,
    callerOf: () => ({ token: 'token', tenant: 't', agent: 'agent', expiresAt: Number.MAX_SAFE_INTEGER }),
  });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const agent = new Client({ name: 'agent', version: '1' }, { capabilities: opts.capabilities ?? {} });
  opts.beforeConnect?.(agent, server);
  await agent.connect(clientSide);
  return {
    agent,
    server,
    close: async () => {
      await agent.close();
      await server.close();
    },
  };
}
