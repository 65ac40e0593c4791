// startGateway(config): the whole gateway in-process (tests and benchmarks run it this way;
// main.ts runs it under runService). Connects the upstreams, then serves MCP over streamable HTTP
// or stdio; every tool call goes through Enforcement first.
import type { Server } from '@modelcontextprotocol/sdk/server/index.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import { connectMongo, createLogger, type Logger } from '@authority/platform';
import { AuditorClient, EnforcerClient, IssuerClient } from '@authority/sdk';
import { BuiltinTools } from './builtin';
import { claimedCaller, type ClaimedCaller } from './auth';
import type { GatewayConfig } from './config';
import { Enforcement, type EnforcementOptions } from './enforce';
import { startHttp, type GatewayHttp } from './http';
import { createProxyServer } from './proxy';
import { RateLimiter } from './rate-limit';
import { Upstream, type ListKind } from './upstream';
import { UpstreamPool } from './upstream-pool';
import { LlmCompiler } from './llm-compiler';
import { MongoVaultStore, type VaultStore } from './vault';
import { VaultTools } from './vault-tools';

export * from './config';
export * from './mapping';
export * from './template';
export * from './rate-limit';
export * from './auth';
export * from './vault';
export * from './llm-compiler';
export * from './upstream-pool';
export { VaultTools, VAULT_LIST, VAULT_METADATA, VAULT_READ, VAULT_WRITE, VAULT_QUERY } from './vault-tools';
export {
  Enforcement,
  META,
  denial,
  refusal,
  hintFor,
  readCallMeta,
  checkRequests,
  type Denial,
  type CallMeta,
} from './enforce';
export { createProxyServer, deniedResult, unavailableResult, DENIED_ERROR_CODE, RESOURCE_NOT_FOUND } from './proxy';
export { BuiltinTools, BUILTIN_NAMESPACE, CHECK_ACCESS, COMPILE_INTENT, AUDIT_LOG } from './builtin';
export { compileIntent, words, type CompiledIntent } from './compile';
export {
  Upstream,
  CHECKS_META_KEY,
  type ExposedTool,
  type ExposedPrompt,
  type ListKind,
  type AgentLink,
} from './upstream';
export { MCP_PATH, METADATA_PATH, type GatewayHttp } from './http';

/** Tells a session that a shared upstream's list changed (refused by the SDK when the session has no such list). */
function listChanged(server: Server, kind: ListKind): Promise<void> {
  if (kind === 'tools') return server.sendToolListChanged();
  return kind === 'prompts' ? server.sendPromptListChanged() : server.sendResourceListChanged();
}

export interface StartGatewayOptions {
  logger?: Logger;
  /** Replace the enforcer client (unit tests). */
  enforcer?: EnforcementOptions['enforcer'];
  /** Replace the issuer client (unit tests). */
  issuer?: Pick<IssuerClient, 'delegate'>;
  clock?: () => number;
  /** Replace the vault's store (otherwise MongoDB at MONGODB_URI, when set). */
  vaultStore?: VaultStore;
  /** stdio transport: the streams (default process.stdin / process.stdout). */
  stdio?: { stdin: NodeJS.ReadableStream; stdout: NodeJS.WritableStream };
}

export interface GatewayHandle {
  /** The HTTP port (0 with the stdio transport). */
  port: number;
  /** The resource identifier (`<public url>/mcp`), '' with stdio. */
  resource: string;
  upstreams: Upstream[];
  /** The catalog connections of the `sessions: per-agent` upstreams (listing only). */
  catalogs: Upstream[];
  /** The per-agent connections of all sessions. */
  pool: UpstreamPool;
  limiter: RateLimiter;
  http: GatewayHttp | undefined;
  stop(): Promise<void>;
}

export async function startGateway(config: GatewayConfig, opts: StartGatewayOptions = {}): Promise<GatewayHandle> {
  const logger =
    opts.logger ?? createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
  const clock = opts.clock ?? Date.now;
  const cleanups: (() => Promise<void> | void)[] = [];
  const run = async () => {
    for (const c of cleanups.reverse())
      await Promise.resolve()
        .then(c)
        .catch(() => undefined);
  };
  try {
    let enforcer = opts.enforcer;
    let enforcerClient: EnforcerClient | undefined;
    if (enforcer === undefined) {
      enforcerClient = new EnforcerClient(
        config.AUTHORITY_ENFORCER_ADDR.split(',').map((a) => a.trim()),
        {
          credential: config.AUTHORITY_ENFORCER_API_KEY.reveal(),
          tls: config.AUTHORITY_ENFORCER_TLS,
          deadlineMs: config.AUTHORITY_ENFORCER_TIMEOUT,
        },
      );
      const c = enforcerClient;
      cleanups.push(() => c.close());
      enforcer = c;
    }
    const limiter = new RateLimiter({
      ratePerSecond: config.AUTHORITY_GATEWAY_RATE,
      burst: config.AUTHORITY_GATEWAY_BURST,
      maxKeys: config.AUTHORITY_GATEWAY_RATE_KEYS,
      clock,
    });
    const enforcement = new Enforcement({ enforcer, limiter, timeoutMs: config.AUTHORITY_ENFORCER_TIMEOUT });

    const servers = new Set<Server>();
    const shared = config.AUTHORITY_GATEWAY_MAPPING.upstreams.filter((m) => m.sessions === 'shared');
    const perAgent = config.AUTHORITY_GATEWAY_MAPPING.upstreams.filter((m) => m.sessions === 'per-agent');
    const broadcast = (kind: ListKind) => {
      for (const s of servers) void listChanged(s, kind).catch(() => undefined);
    };
    const upstreams = shared.map((m) => new Upstream(m, logger, broadcast));
    // One connection per per-agent upstream, opened now, only to list what it offers: a session
    // gets its own connection after its first allowed call (proxy.ts), never before.
    const catalogs = perAgent.map((m) => new Upstream(m, logger, broadcast));
    for (const u of upstreams) {
      cleanups.push(() => u.close());
      await u.connect();
      logger.info({ upstream: u.name, tools: [...u.exposedTools()].map((t) => t.name) }, 'upstream connected');
    }
    for (const u of catalogs) {
      cleanups.push(() => u.close());
      try {
        await u.connect();
        logger.info({ upstream: u.name, tools: [...u.exposedTools()].map((t) => t.name) }, 'upstream connected');
      } catch (err) {
        // As before catalogs existed: a per-agent upstream that is down does not stop the gateway.
        logger.warn({ err, upstream: u.name }, 'could not connect a per-agent upstream; retrying');
        u.retryInBackground();
      }
    }
    const pool = new UpstreamPool(
      {
        perAgent: config.AUTHORITY_GATEWAY_UPSTREAMS_PER_AGENT,
        perTenant: config.AUTHORITY_GATEWAY_UPSTREAMS_PER_TENANT,
        total: config.AUTHORITY_GATEWAY_UPSTREAMS_MAX,
        idleMs: config.AUTHORITY_GATEWAY_UPSTREAM_IDLE,
      },
      clock,
    );
    pool.start();
    cleanups.push(() => pool.stop());

    const skewSeconds = Math.ceil(config.AUTHORITY_CLOCK_SKEW / 1000);
    const audience = {
      audience: config.AUTHORITY_GATEWAY_AUDIENCE,
      required: config.AUTHORITY_GATEWAY_REQUIRE_AUDIENCE,
    };
    let issuer = opts.issuer;
    if (
      issuer === undefined &&
      config.AUTHORITY_ISSUER_ADDR !== undefined &&
      config.AUTHORITY_ISSUER_API_KEY !== undefined
    ) {
      const c = new IssuerClient(config.AUTHORITY_ISSUER_ADDR, {
        credential: config.AUTHORITY_ISSUER_API_KEY.reveal(),
        tls: config.AUTHORITY_ENFORCER_TLS,
        deadlineMs: config.AUTHORITY_ISSUER_TIMEOUT,
      });
      cleanups.push(() => c.close());
      issuer = c;
    }
    let auditor: AuditorClient | undefined;
    if (config.AUTHORITY_AUDITOR_ADDR !== undefined && config.AUTHORITY_AUDITOR_API_KEY !== undefined) {
      const c = new AuditorClient(config.AUTHORITY_AUDITOR_ADDR, {
        credential: config.AUTHORITY_AUDITOR_API_KEY.reveal(),
        tls: config.AUTHORITY_ENFORCER_TLS,
        deadlineMs: config.AUTHORITY_ENFORCER_TIMEOUT,
      });
      cleanups.push(() => c.close());
      auditor = c;
    }
    let vault: VaultTools | undefined;
    if (opts.vaultStore !== undefined) vault = new VaultTools(opts.vaultStore, enforcement, clock);
    else if (config.MONGODB_URI !== undefined) {
      const mongo = await connectMongo(config.MONGODB_URI, {
        appName: config.AUTHORITY_SERVICE_NAME,
        logger,
        database: config.AUTHORITY_GATEWAY_VAULT_DB,
      });
      cleanups.push(() => mongo.close());
      const store = new MongoVaultStore(mongo.db(config.AUTHORITY_GATEWAY_VAULT_DB));
      await store.init();
      vault = new VaultTools(store, enforcement, clock);
    }
    const llm =
      config.AUTHORITY_GATEWAY_COMPILER === 'deterministic'
        ? undefined
        : new LlmCompiler({
            provider: config.AUTHORITY_GATEWAY_COMPILER,
            url: config.AUTHORITY_GATEWAY_COMPILER_URL ?? '',
            model: config.AUTHORITY_GATEWAY_COMPILER_MODEL ?? '',
            ...(config.AUTHORITY_GATEWAY_COMPILER_API_KEY !== undefined
              ? { apiKey: config.AUTHORITY_GATEWAY_COMPILER_API_KEY }
              : {}),
            timeoutMs: config.AUTHORITY_GATEWAY_COMPILER_TIMEOUT,
            perMinute: config.AUTHORITY_GATEWAY_COMPILER_RATE,
            clock,
          });
    const builtins = new BuiltinTools({
      ...(llm !== undefined ? { llm } : {}),
      ...(vault !== undefined ? { vault } : {}),
      ...(auditor !== undefined ? { auditor } : {}),
      enforcement,
      upstreams: [...upstreams, ...catalogs],
      issuerTimeoutMs: config.AUTHORITY_ISSUER_TIMEOUT,
      ...(issuer !== undefined ? { issuer } : {}),
    });
    const proxyDeps = {
      upstreams,
      perAgent: catalogs,
      pool,
      builtins,
      enforcement,
      logger,
      upstreamTimeoutMs: config.AUTHORITY_UPSTREAM_TIMEOUT,
    };

    if (config.AUTHORITY_GATEWAY_TRANSPORT === 'stdio') {
      const token = config.AUTHORITY_GATEWAY_ENVELOPE?.reveal() ?? '';
      // Read (and refused when unusable) once; the enforcer verifies it on every call.
      const caller: ClaimedCaller = claimedCaller(token, audience, Math.floor(clock() / 1000), skewSeconds);
      const server = createProxyServer({ ...proxyDeps, callerOf: () => caller });
      servers.add(server);
      const transport = new StdioServerTransport(
        opts.stdio?.stdin as NodeJS.ReadStream | undefined,
        opts.stdio?.stdout as NodeJS.WriteStream | undefined,
      );
      await server.connect(transport);
      cleanups.push(() => server.close());
      return { port: 0, resource: '', upstreams, catalogs, pool, limiter, http: undefined, stop: run };
    }

    // Readiness: every upstream connected and the enforcer SERVING (asked in the background).
    let enforcerServing = enforcerClient === undefined;
    const probe = async () => {
      if (enforcerClient === undefined) return;
      const h = await enforcerClient.health({ deadlineMs: 2000 });
      enforcerServing = h.some((a) => a.service === 'SERVING');
    };
    await probe();
    const probeTimer = setInterval(() => void probe().catch(() => (enforcerServing = false)), 5000);
    probeTimer.unref();
    cleanups.push(() => clearInterval(probeTimer));

    const http = await startHttp({
      host: config.AUTHORITY_GATEWAY_HOST,
      port: config.AUTHORITY_GATEWAY_PORT,
      ...(config.AUTHORITY_GATEWAY_PUBLIC_URL !== undefined ? { publicUrl: config.AUTHORITY_GATEWAY_PUBLIC_URL } : {}),
      audience,
      skewSeconds,
      maxSessions: config.AUTHORITY_GATEWAY_MAX_SESSIONS,
      idleMs: config.AUTHORITY_GATEWAY_SESSION_IDLE,
      jsonResponse: config.AUTHORITY_GATEWAY_JSON_RESPONSE,
      logger,
      clock,
      ready: () => enforcerServing && [...upstreams, ...catalogs].every((u) => u.isConnected),
      createServer: () => {
        const server = createProxyServer({
          ...proxyDeps,
          standaloneOnly: config.AUTHORITY_GATEWAY_JSON_RESPONSE,
          callerOf: (auth) => auth?.extra?.['caller'] as ClaimedCaller | undefined,
        });
        servers.add(server);
        const closeSession = server.onclose;
        server.onclose = () => {
          servers.delete(server);
          closeSession?.();
        };
        return server;
      },
    });
    cleanups.push(() => http.close());
    logger.info({ port: http.port, resource: http.resource }, 'gateway listening');
    let stopping: Promise<void> | undefined;
    return {
      port: http.port,
      resource: http.resource,
      upstreams,
      catalogs,
      pool,
      limiter,
      http,
      stop: () => (stopping ??= run()),
    };
  } catch (err) {
    await run();
    throw err;
  }
}
