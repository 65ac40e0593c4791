// The MCP server an agent talks to: one per session, listing the exposed tools of every upstream
// and forwarding each call only after Enforcement allowed it. Results (every content type,
// structured output, isError), protocol errors, progress and cancellation pass through unchanged;
// a denial is a tool result with isError and the denial in `_meta["authority/denial"]`, so the
// model sees why and what to do.
import { Server } from '@modelcontextprotocol/sdk/server/index.js';
import {
  CallToolRequestSchema,
  CallToolResultSchema,
  ErrorCode,
  ListToolsRequestSchema,
  McpError,
  type Progress,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@authority/platform';
import type { ClaimedCaller } from './auth';
import { deniedResult, type Enforcement } from './enforce';
import { BUILTIN_NAMESPACE, type BuiltinTools } from './builtin';
import type { ExposedTool, Upstream } from './upstream';

/** The caller of one request: from the HTTP request's bearer, or the stdio configuration. */
export type CallerOf = (authInfo: { extra?: Record<string, unknown> } | undefined) => ClaimedCaller | undefined;

export { deniedResult };

export interface ProxyDeps {
  upstreams: readonly Upstream[];
  builtins: BuiltinTools;
  enforcement: Enforcement;
  logger: Logger;
  upstreamTimeoutMs: number;
  callerOf: CallerOf;
}

function findTool(upstreams: readonly Upstream[], name: string): ExposedTool | undefined {
  for (const u of upstreams) {
    const t = u.tool(name);
    if (t !== undefined) return t;
  }
  return undefined;
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

export function createProxyServer(deps: ProxyDeps): Server {
  const server = new Server(
    { name: 'authority-gateway', version: '0.1.0' },
    {
      capabilities: { tools: { listChanged: true } },
      instructions:
        'Every tool call is checked against your Authority envelope before it runs. A refused call returns isError with _meta["authority/denial"] (reason, field, hint).',
    },
  );

  server.setRequestHandler(ListToolsRequestSchema, () => ({
    tools: [...deps.builtins.list(), ...deps.upstreams.flatMap((u) => [...u.exposedTools()].map((t) => t.definition))],
  }));

  server.setRequestHandler(CallToolRequestSchema, async (request, extra) => {
    const name = request.params.name;
    const caller = deps.callerOf(extra.authInfo);
    if (caller === undefined) throw new McpError(ErrorCode.InvalidRequest, 'no envelope presented');
    const args = (request.params.arguments ?? {}) as Record<string, unknown>;
    if (name.startsWith(`${BUILTIN_NAMESPACE}.`) && deps.builtins.has(name)) {
      return deps.enforcement.span(name, async (span) => {
        span.setAttributes({ 'authority.tenant': caller.tenant, 'authority.agent': caller.agent });
        return deps.builtins.call(name, caller, args);
      });
    }
    const tool = findTool(deps.upstreams, name);
    // Unmapped tools do not exist as far as the agent can tell.
    if (tool === undefined) throw new McpError(ErrorCode.InvalidParams, `Tool ${name} not found`);
    return deps.enforcement.span(name, async (span) => {
      span.setAttributes({ 'authority.tenant': caller.tenant, 'authority.agent': caller.agent });
      const denied = await deps.enforcement.authorize(caller, name, tool.mapping, args, request.params._meta);
      if (denied !== undefined) return deniedResult(name, denied);
      if (extra.signal.aborted) throw new McpError(ErrorCode.RequestTimeout, 'cancelled');
      const progressToken = request.params._meta?.progressToken;
      const meta = forwardedMeta(request.params._meta);
      // Progress sent before the result must reach the agent before the result closes its stream.
      const progressSent: Promise<void>[] = [];
      try {
        const result = await tool.upstream.client.callTool(
          { name: tool.mapping.name, arguments: args, ...(meta !== undefined ? { _meta: meta } : {}) },
          CallToolResultSchema,
          {
            signal: extra.signal,
            timeout: deps.upstreamTimeoutMs,
            resetTimeoutOnProgress: true,
            ...(progressToken !== undefined
              ? {
                  onprogress: (p: Progress) => {
                    progressSent.push(
                      extra
                        .sendNotification({ method: 'notifications/progress', params: { ...p, progressToken } })
                        .catch(() => undefined),
                    );
                  },
                }
              : {}),
          },
        );
        await Promise.all(progressSent);
        return result;
      } catch (err) {
        // The upstream's protocol error as it said it: code, data, and its message without the
        // "MCP error <code>: " prefix the client added (the agent's client adds it again).
        if (err instanceof McpError) {
          const message = err.message.replace(/^MCP error -?\d+: /, '');
          throw Object.assign(new Error(message), { code: err.code, data: err.data });
        }
        deps.logger.warn({ err, tool: name }, 'upstream call failed');
        throw new McpError(ErrorCode.InternalError, `upstream ${tool.upstream.name} failed`);
      }
    });
  });
  return server;
}
