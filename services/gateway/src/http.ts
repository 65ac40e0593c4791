// The gateway's HTTP server: MCP streamable HTTP on /mcp (every request authenticated by the
// agent's envelope as bearer token), RFC 9728 protected-resource metadata, and the liveness and
// readiness probes. Sessions are bounded in number and closed when idle; a session belongs to the
// (tenant, agent) that opened it. The door only reads the envelope, so a session is created before
// any service verified it: when the table is full, a new session evicts the least recently used
// session whose envelope was never verified (a flood of forged envelopes evicts its own sessions,
// never an agent's whose calls the enforcer verified), and only a table of verified sessions
// refuses new ones (503).
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server as McpServer } from '@modelcontextprotocol/sdk/server/index.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { constantTimeEqual } from '@authority/core';
import type { Logger } from '@authority/platform';
import {
  GatewayAuthError,
  bearerFromHeader,
  claimedCaller,
  wwwAuthenticate,
  type AudienceRule,
  type ClaimedCaller,
} from './auth';
import { rateKey } from './rate-limit';

export const MCP_PATH = '/mcp';
export const METADATA_PATH = '/.well-known/oauth-protected-resource';
/** Largest JSON-RPC request body accepted. */
export const MAX_BODY_BYTES = 4 * 1024 * 1024;

export interface HttpOptions {
  host: string;
  port: number;
  /** The URL agents use; default http://<host>:<port>. */
  publicUrl?: string;
  audience: AudienceRule;
  skewSeconds: number;
  maxSessions: number;
  idleMs: number;
  /** Answer each POST with one JSON body instead of an SSE stream. */
  jsonResponse?: boolean;
  logger: Logger;
  /** A fresh MCP server for a new session. */
  createServer: () => McpServer;
  /** Readiness: upstreams connected and the enforcer serving. */
  ready: () => boolean;
  clock?: () => number;
}

interface Session {
  transport: StreamableHTTPServerTransport;
  server: McpServer;
  /** rateKey(tenant, agent) of the caller that opened it. */
  owner: string;
  lastUsed: number;
  /** True once a service verified a request's envelope as the owner's (ClaimedCaller.onVerified). */
  verified: boolean;
}

export interface GatewayHttp {
  port: number;
  /** The resource identifier agents' tokens are for (`<public url>/mcp`). */
  resource: string;
  sessions: ReadonlyMap<string, { server: McpServer; verified: boolean }>;
  /** Unverified sessions evicted to make room for new ones. */
  readonly evicted: number;
  close(): Promise<void>;
}

function json(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store', ...headers });
  res.end(text);
}

function rpcError(res: ServerResponse, status: number, code: number, message: string): void {
  json(res, status, { jsonrpc: '2.0', error: { code, message }, id: null });
}

async function readJson(req: IncomingMessage): Promise<unknown> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > MAX_BODY_BYTES) throw new RangeError(`request body over ${MAX_BODY_BYTES} bytes`);
    chunks.push(chunk as Buffer);
  }
  return JSON.parse(Buffer.concat(chunks).toString('utf8'));
}

export async function startHttp(opts: HttpOptions): Promise<GatewayHttp> {
  const clock = opts.clock ?? Date.now;
  const sessions = new Map<string, Session>();
  let evicted = 0;
  let resource = '';
  let metadataUrl = '';

  const authenticate = (req: IncomingMessage): ClaimedCaller =>
    claimedCaller(
      bearerFromHeader(req.headers.authorization),
      opts.audience,
      Math.floor(clock() / 1000),
      opts.skewSeconds,
    );

  const unauthorized = (res: ServerResponse, err: GatewayAuthError) => {
    opts.logger.debug({ reason: err.reason }, 'request refused at the door');
    json(
      res,
      401,
      { error: err.code, error_description: err.message },
      { 'www-authenticate': wwwAuthenticate(metadataUrl, err) },
    );
  };

  const closeSession = async (id: string) => {
    const s = sessions.get(id);
    if (s === undefined) return;
    sessions.delete(id);
    await s.transport.close().catch(() => undefined);
    await s.server.close().catch(() => undefined);
  };

  async function handleMcp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let caller: ClaimedCaller;
    try {
      caller = authenticate(req);
    } catch (err) {
      if (err instanceof GatewayAuthError) return unauthorized(res, err);
      throw err;
    }
    // Handlers read the caller of THIS request (a session's later requests may bring a fresh token).
    (req as IncomingMessage & { auth?: unknown }).auth = {
      token: caller.token,
      clientId: caller.agent,
      scopes: [],
      expiresAt: caller.expiresAt,
      extra: { caller },
    };
    const owner = rateKey(caller.tenant, caller.agent);
    let body: unknown;
    if (req.method === 'POST') {
      try {
        body = await readJson(req);
      } catch (err) {
        return rpcError(res, err instanceof RangeError ? 413 : 400, -32700, 'Parse error: the body is not JSON');
      }
    }
    const sessionId = req.headers['mcp-session-id'];
    if (typeof sessionId === 'string') {
      const s = sessions.get(sessionId);
      if (s === undefined) return rpcError(res, 404, -32001, 'Session not found');
      if (!constantTimeEqual(s.owner, owner)) {
        return rpcError(res, 403, -32001, 'this session belongs to another agent');
      }
      s.lastUsed = clock();
      caller.onVerified = () => void (s.verified = true);
      await s.transport.handleRequest(req, res, body);
      return;
    }
    if (req.method !== 'POST' || !isInitializeRequest(body)) {
      return rpcError(res, 400, -32000, 'Bad Request: no session; start one with initialize');
    }
    if (sessions.size >= opts.maxSessions) {
      let victim: [string, Session] | undefined;
      for (const entry of sessions) {
        if (!entry[1].verified && (victim === undefined || entry[1].lastUsed < victim[1].lastUsed)) victim = entry;
      }
      if (victim === undefined) return rpcError(res, 503, -32000, 'too many sessions; retry later');
      evicted++;
      opts.logger.info({ evicted: victim[1].owner }, 'evicted the least recently used unverified session');
      await closeSession(victim[0]);
    }
    const server = opts.createServer();
    const transport: StreamableHTTPServerTransport = new StreamableHTTPServerTransport({
      sessionIdGenerator: () => randomUUID(),
      enableJsonResponse: opts.jsonResponse ?? false,
      onsessioninitialized: (id) => {
        sessions.set(id, { transport, server, owner, lastUsed: clock(), verified: false });
      },
    });
    transport.onclose = () => {
      if (transport.sessionId !== undefined) sessions.delete(transport.sessionId);
    };
    await server.connect(transport);
    await transport.handleRequest(req, res, body);
  }

  const http = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    const done = (p: Promise<void> | void) =>
      Promise.resolve(p).catch((err: unknown) => {
        opts.logger.error({ err }, 'request failed');
        if (!res.headersSent) rpcError(res, 500, -32603, 'Internal error');
        else res.end();
      });
    if (path === '/healthz' && req.method === 'GET') return json(res, 200, { status: 'ok' });
    if (path === '/readyz' && req.method === 'GET') {
      const ready = opts.ready();
      return json(res, ready ? 200 : 503, { status: ready ? 'ready' : 'not ready' });
    }
    if ((path === METADATA_PATH || path === `${METADATA_PATH}${MCP_PATH}`) && req.method === 'GET') {
      // RFC 9728. No authorization server: envelopes come from the Authority issuer, not OAuth.
      return json(res, 200, {
        resource,
        bearer_methods_supported: ['header'],
        resource_name: 'Authority MCP gateway',
        resource_documentation: 'https://github.com/authority/authority/blob/main/docs/gateway.md',
      });
    }
    if (path === MCP_PATH) return void done(handleMcp(req, res));
    json(res, 404, { error: 'not found' });
  });

  await new Promise<void>((resolve, reject) => {
    http.once('error', reject);
    http.listen(opts.port, opts.host, () => resolve());
  });
  const port = (http.address() as AddressInfo).port;
  const base = opts.publicUrl ?? `http://${opts.host === '0.0.0.0' ? '127.0.0.1' : opts.host}:${port}`;
  resource = `${base}${MCP_PATH}`;
  metadataUrl = `${base}${METADATA_PATH}${MCP_PATH}`;

  const sweep = setInterval(
    () => {
      const cutoff = clock() - opts.idleMs;
      for (const [id, s] of sessions) if (s.lastUsed < cutoff) void closeSession(id);
    },
    Math.max(1000, Math.min(60_000, Math.floor(opts.idleMs / 2))),
  );
  sweep.unref();

  return {
    port,
    resource,
    sessions,
    get evicted() {
      return evicted;
    },
    async close() {
      clearInterval(sweep);
      await Promise.all([...sessions.keys()].map(closeSession));
      await new Promise<void>((resolve) => {
        http.close(() => resolve());
        http.closeAllConnections();
      });
    },
  };
}
