// The MCP server an agent talks to: one per session, listing what every upstream exposes (mapped
// tools and prompts under the upstream's namespace, mapped resources under their own URIs) and
// forwarding each tool call, prompt and resource read only after Enforcement allowed it. Results
// (every content type, structured output, isError), protocol errors, progress and cancellation
// pass through unchanged; a denied tool call is a tool result with isError and the denial in
// `_meta["authority/denial"]`, so the model sees why and what to do; a denied prompt or resource
// read is a protocol error carrying the same denial in its data.
//
// Upstreams with `sessions: per-agent` get one connection per session (its capabilities are
// mirrored upstream): their log messages, resource updates and sampling, elicitation and roots
// requests reach this session's agent only. Such a connection (a process, for stdio) is opened only
// after the enforcer ALLOWED a call to it for the session's caller, within the UpstreamPool's
// bounds; until then the session lists what the upstream's catalog connection (one, opened at
// start, declaring no client capabilities) lists. An unauthenticated or forged session makes the
// gateway spawn nothing.
//
// Size: one session's server; every handler (tools, prompts, resources, subscriptions, logging,
// upstream requests) closes over the same session state (caller, own connections and their pool
// leases, calls in flight), so they stay in the one createProxyServer that owns that state.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  CreateMessageResultSchema,
  ElicitResultSchema,
  EmptyResultSchema,
  ErrorCode,
  GetPromptRequestSchema,
  GetPromptResultSchema,
  ListPromptsRequestSchema,
  ListResourcesRequestSchema,
  ListResourceTemplatesRequestSchema,
  ListRootsResultSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
  ReadResourceResultSchema,
  SetLevelRequestSchema,
  SubscribeRequestSchema,
  UnsubscribeRequestSchema,
  type CallToolResult,
  type LoggingLevel,
  type Progress,
  type RequestId,
  type ServerCapabilities,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@authority/platform';
import type { ClaimedCaller } from './auth';
import { META, denial, deniedResult, type Denial, type Enforcement } from './enforce';
import { BUILTIN_NAMESPACE, type BuiltinTools } from './builtin';
import type { ToolMapping } from './mapping';
import { isRefusal, type PoolLease, type PoolRefusal, type UpstreamPool } from './upstream-pool';
import {
  Upstream,
  type AgentLink,
  type ExposedPrompt,
  type ExposedTool,
  type ListKind,
  type UpstreamOptions,
} from './upstream';

/** The caller of one request: from the HTTP request's bearer, or the stdio configuration. */
export type CallerOf = (authInfo: { extra?: Record<string, unknown> } | undefined) => ClaimedCaller | undefined;

export { deniedResult };

/** MCP error code of a refused prompt or resource read (the denial is in the error's data). */
export const DENIED_ERROR_CODE = -32003;
/** MCP error code of a resource no mapping exposes (the spec's "resource not found"). */
export const RESOURCE_NOT_FOUND = -32002;

export interface ProxyDeps {
  /** Shared upstreams (one connection for every session). */
  upstreams: readonly Upstream[];
  /**
   * The catalog connections of the `sessions: per-agent` upstreams (listing only; each session
   * opens its own connection after an allowed call, within `pool`).
   */
  perAgent?: readonly Upstream[];
  /** The budget of per-agent connections, shared by every session (required with `perAgent`). */
  pool?: UpstreamPool;
  /** Reconnection timing of per-agent upstreams. */
  upstreamOptions?: Omit<UpstreamOptions, 'agent'>;
  builtins: BuiltinTools;
  enforcement: Enforcement;
  logger: Logger;
  upstreamTimeoutMs: number;
  callerOf: CallerOf;
  /**
   * True when each POST is answered with one JSON body (AUTHORITY_GATEWAY_JSON_RESPONSE): what
   * the gateway sends during a call (progress, elicitations, an upstream's requests) then goes on
   * the agent's standalone GET stream, since the call's own response carries nothing else.
   */
  standaloneOnly?: boolean;
}

/** `_meta` forwarded upstream: the agent's, minus the gateway's own keys and the progress token. */
function forwardedMeta(meta: Record<string, unknown> | undefined): Record<string, unknown> | undefined {
  if (meta === undefined) return undefined;
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(meta)) {
    if (k === 'progressToken' || k.startsWith('authority/')) continue;
    out[k] = v;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** The denial of a call that cannot reach its upstream now. */
export function unavailable(upstream: Upstream, cutOff: boolean): Denial {
  return denial({
    reason: 'UPSTREAM_UNAVAILABLE',
    message: cutOff
      ? `the connection to upstream '${upstream.name}' was lost during the call (it may or may not have run)`
      : upstream.unavailableMessage(),
  });
}

/** The result an agent gets when the upstream of a tool is unreachable: isError, the reason in `_meta`. */
export function unavailableResult(tool: string, d: Denial): CallToolResult {
  return {
    isError: true,
    content: [{ type: 'text', text: `${tool} is unavailable: ${d.reason}: ${d.message}. Hint: ${d.hint}` }],
    _meta: { [META.denial]: d },
  };
}

/** A refused prompt or resource read, as a protocol error with the denial in its data. */
function deniedError(what: string, d: Denial): McpError {
  const where = d.field !== undefined ? ` (${d.field})` : '';
  return new McpError(
    DENIED_ERROR_CODE,
    `Authority denied ${what}: ${d.reason}${where}: ${d.message}. Hint: ${d.hint}`,
    {
      [META.denial]: d,
    },
  );
}

/** The refusal of a per-agent connection beyond the pool's bounds. */
export function limitDenial(upstream: string, caller: ClaimedCaller, r: PoolRefusal): Denial {
  const whose =
    r.limit === 'per_agent'
      ? `agent '${caller.agent}' holds ${r.held} per-agent upstream connections (at most ${r.max})`
      : r.limit === 'per_tenant'
        ? `tenant '${caller.tenant}' holds ${r.held} per-agent upstream connections (at most ${r.max})`
        : `the gateway holds ${r.held} per-agent upstream connections (at most ${r.max})`;
  return denial({
    reason: 'UPSTREAM_LIMIT',
    message: `no connection to upstream '${upstream}' opened for this session: ${whose}`,
    field: `limit.${r.limit}`,
  });
}

/** Whether a failed upstream request says the connection is gone (rather than the upstream refusing). */
function connectionLost(err: unknown): boolean {
  return !(err instanceof McpError) || err.code === (ErrorCode.ConnectionClosed as number);
}

/** The upstream's protocol error as it said it (without the "MCP error <code>: " prefix the client added). */
function upstreamError(err: McpError): Error {
  const message = err.message.replace(/^MCP error -?\d+: /, '');
  return Object.assign(new Error(message), { code: err.code, data: err.data });
}

export function createProxyServer(deps: ProxyDeps): Server {
  const perAgent = deps.perAgent ?? [];
  const pool = deps.pool;
  if (perAgent.length > 0 && pool === undefined) throw new Error('per-agent upstreams need a connection pool');
  const all = [...deps.upstreams, ...perAgent].map((u) => u.mapping);
  const capabilities: ServerCapabilities = { tools: { listChanged: true } };
  if (all.some((m) => m.prompts.size > 0)) capabilities.prompts = { listChanged: true };
  if (all.some((m) => m.resources.length > 0)) capabilities.resources = { listChanged: true, subscribe: true };
  if (perAgent.length > 0) capabilities.logging = {};
  const server = new Server(
    { name: 'authority-gateway', version: '0.1.0' },
    {
      capabilities,
      instructions:
        'Every tool call is checked against your Authority envelope before it runs. A refused call returns isError with _meta["authority/denial"] (reason, field, hint).',
    },
  );

  // This session's own connections to the per-agent upstreams, by upstream name: opened after an
  // allowed call only (see the header), closed with the session or when idle.
  interface OwnConnection {
    upstream: Upstream;
    lease: PoolLease;
    /** Resources subscribed through it (a subscribed connection is never idle). */
    subscriptions: Set<string>;
  }
  const own = new Map<string, OwnConnection>();
  const opening = new Map<string, Promise<OwnConnection | Denial>>();
  let logLevel: LoggingLevel | undefined;
  let closed = false;
  // Tool calls of this session in flight: a request an upstream sends while exactly one runs
  // travels on that call's response stream (no need for the agent's standalone stream).
  const inFlight = new Set<RequestId>();
  const notifyChanged = (kind: ListKind) => {
    const send =
      kind === 'tools'
        ? server.sendToolListChanged()
        : kind === 'prompts'
          ? capabilities.prompts !== undefined
            ? server.sendPromptListChanged()
            : Promise.resolve()
          : capabilities.resources !== undefined
            ? server.sendResourceListChanged()
            : Promise.resolve();
    void send.catch(() => undefined);
  };
  const agentLink = (): AgentLink => {
    const related = () =>
      !deps.standaloneOnly && inFlight.size === 1 ? { relatedRequestId: [...inFlight][0] as RequestId } : {};
    return {
      capabilities: server.getClientCapabilities() ?? {},
      request: (req, kind, signal) =>
        server.request(
          req as never,
          kind === 'sampling'
            ? CreateMessageResultSchema
            : kind === 'elicitation'
              ? ElicitResultSchema
              : ListRootsResultSchema,
          { signal, timeout: deps.upstreamTimeoutMs, ...related() },
        ),
      notify: (n) => server.notification(n as never, related()),
    };
  };
  const closeOwn = async (name: string) => {
    const c = own.get(name);
    if (c === undefined) return;
    own.delete(name);
    c.lease.release();
    await c.upstream.close();
  };
  const isCatalog = (u: Upstream) => perAgent.includes(u);
  /** Opens this session's connection to a per-agent upstream (the caller was just allowed a call to it). */
  const open = async (catalog: Upstream, caller: ClaimedCaller): Promise<OwnConnection | Denial> => {
    const gone = denial({ reason: 'UPSTREAM_UNAVAILABLE', message: 'the session is closing' });
    if (closed) return gone;
    const subscriptions = new Set<string>();
    // The caller's tenant and agent are verified: the enforcer just allowed this token.
    const lease = (pool as UpstreamPool).acquire(caller.tenant, caller.agent, {
      close: () => closeOwn(catalog.name),
      pinned: () => subscriptions.size > 0,
    });
    if (isRefusal(lease)) {
      deps.logger.info({ upstream: catalog.name, limit: lease.limit }, 'per-agent upstream connection refused');
      return limitDenial(catalog.name, caller, lease);
    }
    const upstream = new Upstream(catalog.mapping, deps.logger, notifyChanged, {
      ...deps.upstreamOptions,
      agent: agentLink(),
    });
    const conn: OwnConnection = { upstream, lease, subscriptions };
    try {
      await upstream.connect();
    } catch (err) {
      lease.release();
      await upstream.close();
      deps.logger.warn({ err, upstream: catalog.name }, 'could not connect a per-agent upstream');
      return denial({
        reason: 'UPSTREAM_UNAVAILABLE',
        message: `the connection to upstream '${catalog.name}' could not be opened`,
      });
    }
    if (closed) {
      lease.release();
      await upstream.close();
      return gone;
    }
    own.set(catalog.name, conn);
    if (logLevel !== undefined && upstream.client.getServerCapabilities()?.logging !== undefined) {
      await upstream.client.setLoggingLevel(logLevel).catch(() => undefined);
    }
    return conn;
  };
  /**
   * The connection an allowed request goes to: a shared upstream as is; for a per-agent one, this
   * session's own connection, opened now if needed (or the denial when it cannot be).
   */
  const target = async (found: Upstream, caller: ClaimedCaller): Promise<OwnConnection | Upstream | Denial> => {
    if (found.mapping.sessions !== 'per-agent') return found;
    const existing = own.get(found.name);
    if (existing !== undefined) return existing;
    const catalog = perAgent.find((u) => u.name === found.name) ?? found;
    let pending = opening.get(found.name);
    if (pending === undefined) {
      pending = open(catalog, caller).finally(() => opening.delete(found.name));
      opening.set(found.name, pending);
    }
    return pending;
  };
  const isDenial = (x: OwnConnection | Upstream | Denial): x is Denial => !(x instanceof Upstream) && 'reason' in x;
  const connectionOf = (x: OwnConnection | Upstream): Upstream => (x instanceof Upstream ? x : x.upstream);
  /** Runs `fn` on the connection (a per-agent one counted busy meanwhile). */
  const on = <T>(t: OwnConnection | Upstream, fn: (u: Upstream) => Promise<T>): Promise<T> =>
    t instanceof Upstream ? fn(t) : t.lease.hold(() => fn(t.upstream));
  const previousOnclose = server.onclose;
  server.onclose = () => {
    closed = true;
    previousOnclose?.();
    for (const name of [...own.keys()]) void closeOwn(name);
  };

  /** Shared upstreams, and per per-agent upstream this session's connection, or its catalog while there is none. */
  const upstreams = (): Upstream[] => [...deps.upstreams, ...perAgent.map((c) => own.get(c.name)?.upstream ?? c)];
  const findTool = (name: string): ExposedTool | undefined => {
    for (const u of upstreams()) {
      const t = u.tool(name);
      if (t !== undefined) return t;
    }
    return undefined;
  };
  const findPrompt = (name: string): ExposedPrompt | undefined => {
    for (const u of upstreams()) {
      const p = u.prompt(name);
      if (p !== undefined) return p;
    }
    return undefined;
  };
  const findResource = (uri: string) => {
    for (const u of upstreams()) {
      const r = u.resourceFor(uri);
      if (r !== undefined) return { upstream: u, ...r };
    }
    return undefined;
  };
  const callerOrThrow = (authInfo: { extra?: Record<string, unknown> } | undefined): ClaimedCaller => {
    const caller = deps.callerOf(authInfo);
    if (caller === undefined) throw new McpError(ErrorCode.InvalidRequest, 'no envelope presented');
    return caller;
  };

  /**
   * APPROVAL_REQUIRED for an agent whose client supports elicitation: the agent's user is asked to
   * come back once a human approved the request; on "accept" the call is checked again with the
   * approval (good for one call) and goes upstream if allowed. Declined, cancelled or unanswered:
   * the denial with the approval id, as for any other client.
   */
  const awaitApproval = async (
    name: string,
    first: Denial,
    caller: ClaimedCaller,
    tool: ExposedTool,
    args: Record<string, unknown>,
    meta: Record<string, unknown> | undefined,
    extra: { requestId: RequestId; signal: AbortSignal },
  ): Promise<Denial | undefined> => {
    if (server.getClientCapabilities()?.elicitation === undefined) return first;
    let answer;
    try {
      answer = await server.elicitInput(
        {
          mode: 'form',
          message: `${name} needs a human approval: request ${first.approval_id ?? ''}. Accept once it is approved to run the call now; decline to leave it.`,
          requestedSchema: { type: 'object', properties: {} },
        },
        {
          signal: extra.signal,
          timeout: deps.upstreamTimeoutMs,
          ...(deps.standaloneOnly ? {} : { relatedRequestId: extra.requestId }),
        },
      );
    } catch {
      return first;
    }
    if (answer.action !== 'accept') return first;
    return deps.enforcement.authorize(caller, name, tool.mapping, args, {
      ...meta,
      [META.approvalId]: first.approval_id,
    });
  };

  server.setRequestHandler(ListToolsRequestSchema, async () => ({
    tools: [...deps.builtins.list(), ...upstreams().flatMap((u) => [...u.exposedTools()].map((t) => t.definition))],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const caller = callerOrThrow(extra.authInfo);
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    if (name.startsWith(`${BUILTIN_NAMESPACE}.`) && deps.builtins.has(name)) {
      return deps.enforcement.span(name, async (span) => {
        span.setAttributes({ 'authority.tenant': caller.tenant, 'authority.agent': caller.agent });
        return deps.builtins.call(name, caller, args, request.params._meta);
      });
    }
    const tool = findTool(name);
    // Unmapped tools do not exist as far as the agent can tell.
    if (tool === undefined) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    return deps.enforcement.span(name, async (span) => {
      span.setAttributes({ 'authority.tenant': caller.tenant, 'authority.agent': caller.agent });
      // Nothing to decide while the upstream is away: the call could not run anyway. (A catalog
      // connection is not where the call goes: this session's own connection is opened below.)
      if (!isCatalog(tool.upstream) && !tool.upstream.isConnected)
        return unavailableResult(name, unavailable(tool.upstream, false));
      let denied = await deps.enforcement.authorize(caller, name, tool.mapping, args, request.params._meta);
      if (denied?.reason === 'APPROVAL_REQUIRED' && denied.approval_id !== undefined) {
        denied = await awaitApproval(name, denied, caller, tool, args, request.params._meta, extra);
      }
      if (denied !== undefined) return deniedResult(name, denied);
      if (extra.signal.aborted) throw new McpError(ErrorCode.RequestTimeout, 'cancelled');
      const to = await target(tool.upstream, caller);
      if (isDenial(to)) return deniedResult(name, to);
      const upstream = connectionOf(to);
      if (!upstream.isConnected) return unavailableResult(name, unavailable(upstream, false));
      const progressToken = request.params._meta?.progressToken;
      const meta = forwardedMeta(request.params._meta);
      // Progress sent before the result must reach the agent before the result closes its stream.
      const progressSent: Promise<void>[] = [];
      inFlight.add(extra.requestId);
      try {
        const result = await on(to, (u) =>
          u.client.callTool(
            { name: tool.mapping.name, arguments: args, ...(meta !== undefined ? { _meta: meta } : {}) },
            CallToolResultSchema,
            {
              signal: extra.signal,
              timeout: deps.upstreamTimeoutMs,
              resetTimeoutOnProgress: true,
              ...(progressToken !== undefined
                ? {
                    onprogress: (p: Progress) => {
                      const progress = { method: 'notifications/progress' as const, params: { ...p, progressToken } };
                      progressSent.push(
                        (deps.standaloneOnly ? server.notification(progress) : extra.sendNotification(progress)).catch(
                          () => undefined,
                        ),
                      );
                    },
                  }
                : {}),
            },
          ),
        );
        await Promise.all(progressSent);
        return result;
      } catch (err) {
        if (extra.signal.aborted) throw new McpError(ErrorCode.RequestTimeout, 'cancelled');
        if (connectionLost(err)) {
          deps.logger.warn({ err, tool: name }, 'upstream call failed: connection lost');
          upstream.lost(err);
          return unavailableResult(name, unavailable(upstream, true));
        }
        throw upstreamError(err as McpError);
      } finally {
        inFlight.delete(extra.requestId);
      }
    });
  });

  /** Checks `mapping` for the caller; throws the denial as a protocol error. */
  const authorizeOrThrow = async (
    what: string,
    /** The metrics' tool label (bounded: a name or a pattern, never a URI). */
    label: string,
    caller: ClaimedCaller,
    mapping: ToolMapping,
    args: Record<string, unknown>,
    meta: Record<string, unknown> | undefined,
    fieldOf: (field: string) => string = (f) => f,
  ): Promise<void> => {
    const denied = await deps.enforcement.authorize(caller, label, mapping, args, meta);
    if (denied !== undefined) {
      throw deniedError(what, denied.field !== undefined ? { ...denied, field: fieldOf(denied.field) } : denied);
    }
  };
  /** Sends an allowed request to `found`'s connection for this session (opened now for a per-agent upstream). */
  const forward = async <T>(found: Upstream, caller: ClaimedCaller, fn: (u: Upstream) => Promise<T>): Promise<T> => {
    const to = await target(found, caller);
    if (isDenial(to)) throw deniedError(`upstream '${found.name}'`, to);
    const upstream = connectionOf(to);
    if (!upstream.isConnected) throw deniedError(`upstream '${upstream.name}'`, unavailable(upstream, false));
    try {
      return await on(to, fn);
    } catch (err) {
      if (connectionLost(err)) {
        upstream.lost(err);
        throw deniedError(`upstream '${upstream.name}'`, unavailable(upstream, true));
      }
      throw upstreamError(err as McpError);
    }
  };

  if (capabilities.prompts !== undefined) {
    server.setRequestHandler(ListPromptsRequestSchema, async () => ({
      prompts: upstreams().flatMap((u) => [...u.exposedPrompts()].map((p) => p.definition)),
    }));
    server.setRequestHandler(GetPromptRequestSchema, async (request, extra) => {
      const caller = callerOrThrow(extra.authInfo);
      const prompt = findPrompt(request.params.name);
      if (prompt === undefined) throw new McpError(ErrorCode.InvalidParams, `Prompt ${request.params.name} not found`);
      const args = request.params.arguments ?? {};
      return deps.enforcement.span(prompt.name, async () => {
        await authorizeOrThrow(
          `prompt ${prompt.name}`,
          prompt.name,
          caller,
          prompt.mapping,
          args,
          request.params._meta,
        );
        return forward(prompt.upstream, caller, (u) =>
          u.client.request(
            { method: 'prompts/get', params: { name: prompt.mapping.name, arguments: args } },
            GetPromptResultSchema,
            { signal: extra.signal, timeout: deps.upstreamTimeoutMs },
          ),
        );
      });
    });
  }

  if (capabilities.resources !== undefined) {
    server.setRequestHandler(ListResourcesRequestSchema, async () => {
      const lists = await Promise.all(upstreams().map((u) => (u.isConnected ? u.listResources().catch(() => []) : [])));
      return { resources: lists.flat() };
    });
    server.setRequestHandler(ListResourceTemplatesRequestSchema, async () => {
      const lists = await Promise.all(
        upstreams().map((u) => (u.isConnected ? u.listResourceTemplates().catch(() => []) : [])),
      );
      return { resourceTemplates: lists.flat() };
    });
    /** The resource's upstream after its read check passed (a subscription is a read). */
    const allowedResource = async (
      uri: string,
      authInfo: { extra?: Record<string, unknown> } | undefined,
      meta: Record<string, unknown> | undefined,
    ) => {
      const caller = callerOrThrow(authInfo);
      const found = findResource(uri);
      // Unmapped resources do not exist as far as the agent can tell.
      if (found === undefined) throw new McpError(RESOURCE_NOT_FOUND, `Resource ${uri} not found`, { uri });
      await authorizeOrThrow(
        `resource ${uri}`,
        `resource ${found.mapping.pattern}`,
        caller,
        { name: found.mapping.pattern, checks: found.mapping.checks },
        found.variables,
        meta,
        (f) => (f.startsWith('arguments.') ? 'uri' : f),
      );
      return { upstream: found.upstream, caller };
    };
    server.setRequestHandler(ReadResourceRequestSchema, async (request, extra) => {
      const uri = request.params.uri;
      return deps.enforcement.span(`resources/read`, async () => {
        const { upstream, caller } = await allowedResource(uri, extra.authInfo, request.params._meta);
        return forward(upstream, caller, (u) =>
          u.client.request({ method: 'resources/read', params: { uri } }, ReadResourceResultSchema, {
            signal: extra.signal,
            timeout: deps.upstreamTimeoutMs,
          }),
        );
      });
    });
    const subscription =
      (method: 'resources/subscribe' | 'resources/unsubscribe') =>
      async (
        request: { params: { uri: string; _meta?: Record<string, unknown> } },
        extra: { authInfo?: { extra?: Record<string, unknown> }; signal: AbortSignal },
      ) => {
        const uri = request.params.uri;
        const { upstream, caller } = await allowedResource(uri, extra.authInfo, request.params._meta);
        // A shared connection's subscription would be every agent's: only a session's own connection subscribes.
        if (upstream.mapping.sessions !== 'per-agent') {
          throw new McpError(
            ErrorCode.InvalidRequest,
            `upstream '${upstream.name}' is shared by all agents; subscriptions need 'sessions: per-agent' in the mapping`,
          );
        }
        // The catalog connection answers what the upstream supports before this session's is opened.
        if (upstream.client.getServerCapabilities()?.resources?.subscribe !== true) {
          throw new McpError(ErrorCode.MethodNotFound, `upstream '${upstream.name}' does not support subscriptions`);
        }
        const result = await forward(upstream, caller, (u) =>
          u.client.request({ method, params: { uri } }, EmptyResultSchema, {
            signal: extra.signal,
            timeout: deps.upstreamTimeoutMs,
          }),
        );
        const subscriptions = own.get(upstream.name)?.subscriptions;
        if (method === 'resources/subscribe') subscriptions?.add(uri);
        else subscriptions?.delete(uri);
        return result;
      };
    server.setRequestHandler(SubscribeRequestSchema, subscription('resources/subscribe'));
    server.setRequestHandler(UnsubscribeRequestSchema, subscription('resources/unsubscribe'));
  }

  if (capabilities.logging !== undefined) {
    // The level applies to this session's own connections only (a shared upstream's log stays with the gateway).
    // A connection opened later gets the level when it opens.
    server.setRequestHandler(SetLevelRequestSchema, async (request) => {
      logLevel = request.params.level;
      await Promise.all(
        [...own.values()]
          .map((c) => c.upstream)
          .filter((u) => u.isConnected && u.client.getServerCapabilities()?.logging !== undefined)
          .map((u) => u.client.setLoggingLevel(request.params.level).catch(() => undefined)),
      );
      return {};
    });
  }
  return server;
}
