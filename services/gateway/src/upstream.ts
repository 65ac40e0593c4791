// One upstream MCP server: the gateway's client connection to it (stdio child process or
// streamable HTTP), and the tools it exposes through the gateway: only those the mapping names,
// renamed `<namespace>.<tool>`. The upstream never sees an agent's envelope: stdio children get
// the SDK's default environment (PATH, HOME, ...) plus the mapping's `env`, HTTP upstreams no
// Authorization header.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport, getDefaultEnvironment } from '@modelcontextprotocol/sdk/client/stdio.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';
import { ToolListChangedNotificationSchema, type Tool } from '@modelcontextprotocol/sdk/types.js';
import type { Logger } from '@authority/platform';
import { exposedName, type ToolMapping, type UpstreamMapping } from './mapping';

/** A tool as the gateway exposes it. */
export interface ExposedTool {
  /** `<namespace>.<tool>`. */
  name: string;
  upstream: Upstream;
  /** The upstream's definition, renamed, with the checks it needs in `_meta`. */
  definition: Tool;
  mapping: ToolMapping;
}

/** `_meta` key of an exposed tool's definition: the checks a call needs (so a client can sign proofs). */
export const CHECKS_META_KEY = 'authority/checks';

export class Upstream {
  readonly client: Client;
  private tools = new Map<string, ExposedTool>();
  private connected = false;

  constructor(
    readonly mapping: UpstreamMapping,
    private readonly logger: Logger,
    /** Called after the exposed tool list changed (the upstream said so and it was re-read). */
    private readonly onToolsChanged: () => void,
  ) {
    this.client = new Client({ name: 'authority-gateway', version: '0.1.0' }, { capabilities: {} });
    this.client.onerror = (err) => this.logger.warn({ err, upstream: mapping.name }, 'upstream connection error');
  }

  get name(): string {
    return this.mapping.name;
  }

  get isConnected(): boolean {
    return this.connected;
  }

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
    transport.onclose = () => {
      this.connected = false;
    };
    await this.client.connect(transport);
    if (transport instanceof StdioClientTransport) {
      // Read the child's stderr (an unread pipe fills and blocks the child); its lines are debug logs.
      transport.stderr?.on('data', (chunk: Buffer) => {
        this.logger.debug({ upstream: this.name, stderr: chunk.toString('utf8').slice(0, 2000) }, 'upstream stderr');
      });
    }
    this.connected = true;
    this.client.setNotificationHandler(ToolListChangedNotificationSchema, async () => {
      try {
        await this.refreshTools();
        this.onToolsChanged();
      } catch (err) {
        this.logger.warn({ err, upstream: this.name }, 'could not re-read the tools of the upstream');
      }
    });
    await this.refreshTools();
  }

  /** Re-reads the upstream's tools and keeps the mapped ones. */
  async refreshTools(): Promise<void> {
    const listed: Tool[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.client.listTools(cursor === undefined ? {} : { cursor });
      listed.push(...page.tools);
      cursor = page.nextCursor;
    } while (cursor !== undefined && listed.length < 10_000);
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
        this.logger.warn({ upstream: this.name, tool: name }, 'a mapped tool is not offered by the upstream');
      }
    }
    this.tools = next;
  }

  exposedTools(): IterableIterator<ExposedTool> {
    return this.tools.values();
  }

  tool(name: string): ExposedTool | undefined {
    return this.tools.get(name);
  }

  async close(): Promise<void> {
    this.connected = false;
    await this.client.close().catch(() => undefined);
  }
}
