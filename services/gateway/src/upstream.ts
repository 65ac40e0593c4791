// One upstream MCP server: the gateway's client connection to it (stdio child process or
// streamable HTTP), and what it exposes through the gateway: only the tools, prompts and resources
// the mapping names, tools and prompts renamed `<namespace>.<name>`. The upstream never sees an
// agent's envelope: stdio children get the SDK's default environment (PATH, HOME, ...) plus the
// mapping's `env`, HTTP upstreams no Authorization header.
//
// A connection that is lost (the child exited, the HTTP server stopped answering) is re-opened with
// a growing delay; meanwhile the last known tools stay listed and every call through them fails
// closed with UPSTREAM_UNAVAILABLE (see proxy.ts).
//
// With `sessions: per-agent` there is one Upstream per agent session and `agent` is that session:
// what the upstream sends on its own (log messages, resource updates, sampling, elicitation and
// roots requests) goes to exactly that agent, and the connection declares only the client
// capabilities that agent declared. A shared Upstream declares none, so an upstream cannot ask
// anyone for anything, and its log messages reach nobody but the gateway's own debug log.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import {
  CreateMessageRequestSchema,
  CreateMessageResultSchema,
  ElicitRequestSchema,
  ElicitResultSchema,
  ListRootsRequestSchema,
  ListRootsResultSchema,
  LoggingMessageNotificationSchema,
  PromptListChangedNotificationSchema,
  ResourceListChangedNotificationSchema,
  ResourceUpdatedNotificationSchema,
  ToolListChangedNotificationSchema,
  type ClientCapabilities,
  type Notification,
  type Prompt,
  type Request,
  type Resource,
  type ResourceTemplate as McpResourceTemplate,
  type Tool,
} from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@authority/platform';
import { exposedName, matchResource, type ResourceMapping, type ToolMapping, type UpstreamMapping } from './mapping';

/** A tool as the gateway exposes it. */
export interface ExposedTool {
  /** `<namespace>.<tool>`. */
  name: string;
  upstream: Upstream;
  /** The upstream's definition, renamed, with the checks it needs in `_meta`. */
  definition: Tool;
  mapping: ToolMapping;
}

/** A prompt as the gateway exposes it. */
export interface ExposedPrompt {
  /** `<namespace>.<prompt>`. */
  name: string;
  upstream: Upstream;
  definition: Prompt;
  mapping: ToolMapping;
}

/** `_meta` key of an exposed tool's definition: the checks a call needs (so a client can sign proofs). */
export const CHECKS_META_KEY = 'authority/checks';

/** What changed on the upstream (its list was re-read already). */
export type ListKind = 'tools' | 'prompts' | 'resources';

/** The agent session a per-agent upstream belongs to: where the upstream's own messages go. */
export interface AgentLink {
  /** The capabilities the agent declared (sampling, elicitation, roots are mirrored upstream). */
  capabilities: ClientCapabilities;
  request(request: Request, kind: 'sampling' | 'elicitation' | 'roots', signal: AbortSignal): Promise<unknown>;
  notify(notification: Notification): Promise<void>;
}

export interface UpstreamOptions {
  /** Set for a per-agent upstream: the session it belongs to. */
  agent?: AgentLink;
  /** First and longest delay between reconnection attempts (ms). */
  reconnectMinMs?: number;
  reconnectMaxMs?: number;
}

/** Most items read from one upstream list (tools, prompts, resources). */
const MAX_LISTED = 10_000;

async function listAll<T>(
  page: (cursor: string | undefined) => Promise<{ items: T[]; nextCursor?: string | undefined }>,
): Promise<T[]> {
  const out: T[] = [];
  let cursor: string | undefined;
  do {
    const p = await page(cursor);
    out.push(...p.items);
    cursor = p.nextCursor;
  } while (cursor !== undefined && out.length < MAX_LISTED);
  return out;
}

export class Upstream {
  private current: Client;
  private tools = new Map<string, ExposedTool>();
  private prompts = new Map<string, ExposedPrompt>();
  private connected = false;
  private closing = false;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private reconnectDelayMs: number;
  private readonly reconnectMinMs: number;
  private readonly reconnectMaxMs: number;
  /** Connection attempts since the connection was lost (0 while connected). */
  private attempts = 0;

  constructor(
    readonly mapping: UpstreamMapping,
    private readonly logger: Logger,
    /** Called after an exposed list changed (the upstream said so and it was re-read). */
    private readonly onListChanged: (kind: ListKind) => void,
    private readonly options: UpstreamOptions = {},
  ) {
    this.reconnectMinMs = options.reconnectMinMs ?? 100;
    this.reconnectMaxMs = options.reconnectMaxMs ?? 5000;
    this.reconnectDelayMs = this.reconnectMinMs;
    this.current = this.newClient();
  }

  /** The client of the current connection (a new one after each reconnection). */
  get client(): Client {
    return this.current;
  }

  get name(): string {
    return this.mapping.name;
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /** Why calls cannot go upstream now, for the agent. */
  unavailableMessage(): string {
    return `upstream '${this.name}' is not connected (reconnecting, attempt ${this.attempts})`;
  }

  private newClient(): Client {
    const agent = this.options.agent;
    const capabilities: ClientCapabilities = {};
    if (agent?.capabilities.sampling !== undefined) capabilities.sampling = agent.capabilities.sampling;
    if (agent?.capabilities.elicitation !== undefined) capabilities.elicitation = agent.capabilities.elicitation;
    if (agent?.capabilities.roots !== undefined) capabilities.roots = agent.capabilities.roots;
    const client = new Client({ name: 'authority-gateway', version: '0.1.0' }, { capabilities });
    client.onerror = (err) => this.logger.warn({ err, upstream: this.name }, 'upstream connection error');
    const relist = (kind: ListKind, refresh: () => Promise<void>) => async () => {
      try {
        await refresh();
        this.onListChanged(kind);
      } catch (err) {
        this.logger.warn({ err, upstream: this.name, kind }, 'could not re-read a list of the upstream');
      }
    };
    client.setNotificationHandler(
      ToolListChangedNotificationSchema,
      relist('tools', () => this.refreshTools()),
    );
    client.setNotificationHandler(
      PromptListChangedNotificationSchema,
      relist('prompts', () => this.refreshPrompts()),
    );
    client.setNotificationHandler(ResourceListChangedNotificationSchema, async () => this.onListChanged('resources'));
    client.setNotificationHandler(LoggingMessageNotificationSchema, async (n) => {
      if (agent === undefined) {
        this.logger.debug(
          { upstream: this.name, level: n.params.level },
          'upstream log message (shared upstream: not forwarded)',
        );
        return;
      }
      await agent.notify(n);
    });
    client.setNotificationHandler(ResourceUpdatedNotificationSchema, async (n) => {
      // Only mapped resources exist for the agent.
      if (agent !== undefined && this.resourceFor(n.params.uri) !== undefined) await agent.notify(n);
    });
    if (agent !== undefined) {
      if (capabilities.sampling !== undefined) {
        client.setRequestHandler(CreateMessageRequestSchema, async (req, extra) =>
          CreateMessageResultSchema.parse(await agent.request(req, 'sampling', extra.signal)),
        );
      }
      if (capabilities.elicitation !== undefined) {
        client.setRequestHandler(ElicitRequestSchema, async (req, extra) =>
          ElicitResultSchema.parse(await agent.request(req, 'elicitation', extra.signal)),
        );
      }
      if (capabilities.roots !== undefined) {
        client.setRequestHandler(ListRootsRequestSchema, async (req, extra) =>
          ListRootsResultSchema.parse(await agent.request(req, 'roots', extra.signal)),
        );
      }
    }
    return client;
  }

  /** Opens the connection and reads the upstream's lists; throws when the first attempt fails. */
  async connect(): Promise<void> {
    const t = this.mapping.transport;
    const transport =
      t.kind === 'stdio'
        ? new StdioClientTransport({
            command: t.command,
            args: t.args,
            env: { ...getDefaultEnvironment(), ...t.env },
            ...(t.cwd !== undefined ? { cwd: t.cwd } : {}),
            stderr: 'pipe',
          })
        : new StreamableHTTPClientTransport(new URL(t.url));
    const client = this.current;
    transport.onclose = () => {
      // A close of a connection already replaced, or asked for, is no loss.
      if (client !== this.current) return;
      this.connected = false;
      if (!this.closing) this.scheduleReconnect();
    };
    await client.connect(transport);
    if (transport instanceof StdioClientTransport) {
      // Read the child's stderr (an unread pipe fills and blocks the child); its lines are debug logs.
      transport.stderr?.on('data', (chunk: Buffer) => {
        this.logger.debug({ upstream: this.name, stderr: chunk.toString('utf8').slice(0, 2000) }, 'upstream stderr');
      });
    }
    this.connected = true;
    await this.refreshTools();
    await this.refreshPrompts();
  }

  /**
   * A call failed in a way that says the connection is gone (the HTTP server does not answer): the
   * connection is closed and re-opened. A stdio child's exit is noticed without this.
   */
  lost(err: unknown): void {
    if (!this.connected || this.closing) return;
    this.logger.warn({ err, upstream: this.name }, 'upstream connection lost');
    this.connected = false;
    const client = this.current;
    this.current = this.newClient();
    void client.close().catch(() => undefined);
    this.scheduleReconnect();
  }

  /** After a failed first connection: keep trying in the background (calls fail closed meanwhile). */
  retryInBackground(): void {
    this.connected = false;
    this.scheduleReconnect();
  }

  private scheduleReconnect(): void {
    if (this.reconnectTimer !== undefined || this.closing) return;
    const delay = this.reconnectDelayMs;
    this.reconnectDelayMs = Math.min(this.reconnectDelayMs * 2, this.reconnectMaxMs);
    this.reconnectTimer = setTimeout(() => {
      this.reconnectTimer = undefined;
      void this.reconnect();
    }, delay);
    this.reconnectTimer.unref();
  }

  private async reconnect(): Promise<void> {
    if (this.closing) return;
    this.attempts++;
    const old = this.current;
    this.current = this.newClient();
    await old.close().catch(() => undefined);
    try {
      await this.connect();
      this.logger.info({ upstream: this.name, attempts: this.attempts }, 'upstream reconnected');
      this.attempts = 0;
      this.reconnectDelayMs = this.reconnectMinMs;
      this.onListChanged('tools');
      this.onListChanged('prompts');
      this.onListChanged('resources');
    } catch (err) {
      this.connected = false;
      this.logger.warn({ err, upstream: this.name, attempts: this.attempts }, 'upstream reconnection failed');
      const failed = this.current;
      this.current = this.newClient();
      await failed.close().catch(() => undefined);
      this.scheduleReconnect();
    }
  }

  /** Re-reads the upstream's tools and keeps the mapped ones. */
  async refreshTools(): Promise<void> {
    if (this.mapping.tools.size === 0) return;
    const listed = await listAll<Tool>(async (cursor) => {
      const page = await this.current.listTools(cursor === undefined ? {} : { cursor });
      return { items: page.tools, nextCursor: page.nextCursor };
    });
    const next = new Map<string, ExposedTool>();
    for (const tool of listed) {
      const mapping = this.mapping.tools.get(tool.name);
      if (mapping === undefined) continue; // not in the mapping: not exposed
      const name = exposedName(this.mapping, tool.name);
      const checks = mapping.checks.map((c) => ({
        scope: c.scope,
        ...(c.action !== undefined ? { action: c.action } : {}),
        ...(c.resource !== undefined ? { resource: c.resource.source } : {}),
      }));
      next.set(name, {
        name,
        upstream: this,
        definition: { ...tool, name, _meta: { ...tool._meta, [CHECKS_META_KEY]: checks } },
        mapping,
      });
    }
    for (const name of this.mapping.tools.keys()) {
      if (!listed.some((t) => t.name === name)) {
        this.logger.debug({ upstream: this.name, tool: name }, 'a mapped tool is not offered by the upstream');
      }
    }
    this.tools = next;
  }

  /** Re-reads the upstream's prompts and keeps the mapped ones. */
  async refreshPrompts(): Promise<void> {
    if (this.mapping.prompts.size === 0 || this.current.getServerCapabilities()?.prompts === undefined) return;
    const listed = await listAll<Prompt>(async (cursor) => {
      const page = await this.current.listPrompts(cursor === undefined ? {} : { cursor });
      return { items: page.prompts, nextCursor: page.nextCursor };
    });
    const next = new Map<string, ExposedPrompt>();
    for (const prompt of listed) {
      const mapping = this.mapping.prompts.get(prompt.name);
      if (mapping === undefined) continue;
      const name = exposedName(this.mapping, prompt.name);
      next.set(name, { name, upstream: this, definition: { ...prompt, name }, mapping });
    }
    this.prompts = next;
  }

  /** The upstream's mapped resources (read now: resource lists change without notice). */
  async listResources(): Promise<Resource[]> {
    if (this.mapping.resources.length === 0 || this.current.getServerCapabilities()?.resources === undefined) return [];
    const listed = await listAll<Resource>(async (cursor) => {
      const page = await this.current.listResources(cursor === undefined ? {} : { cursor });
      return { items: page.resources, nextCursor: page.nextCursor };
    });
    return listed.filter((r) => this.resourceFor(r.uri) !== undefined);
  }

  /** The upstream's resource templates whose URI template is a mapped pattern. */
  async listResourceTemplates(): Promise<McpResourceTemplate[]> {
    if (this.mapping.resources.length === 0 || this.current.getServerCapabilities()?.resources === undefined) return [];
    const listed = await listAll<McpResourceTemplate>(async (cursor) => {
      const page = await this.current.listResourceTemplates(cursor === undefined ? {} : { cursor });
      return { items: page.resourceTemplates, nextCursor: page.nextCursor };
    });
    return listed.filter((t) => this.mapping.resources.some((m) => m.pattern === t.uriTemplate));
  }

  /** The mapping of `uri` and its variables, when a pattern of this upstream matches it. */
  resourceFor(uri: string): { mapping: ResourceMapping; variables: Record<string, string> } | undefined {
    for (const mapping of this.mapping.resources) {
      const variables = matchResource(mapping, uri);
      if (variables !== undefined) return { mapping, variables };
    }
    return undefined;
  }

  exposedTools(): IterableIterator<ExposedTool> {
    return this.tools.values();
  }

  tool(name: string): ExposedTool | undefined {
    return this.tools.get(name);
  }

  exposedPrompts(): IterableIterator<ExposedPrompt> {
    return this.prompts.values();
  }

  prompt(name: string): ExposedPrompt | undefined {
    return this.prompts.get(name);
  }

  async close(): Promise<void> {
    this.closing = true;
    this.connected = false;
    if (this.reconnectTimer !== undefined) clearTimeout(this.reconnectTimer);
    await this.current.close().catch(() => undefined);
  }
}
