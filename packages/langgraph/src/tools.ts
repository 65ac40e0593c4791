// The gateway's tools as LangChain tools for LangGraph.js. Every call goes through the MCP gateway
// (which asks the enforcer first); nothing here decides anything. What the model gets back:
//   allowed  the tool's text (and structured output as JSON);
//   denied   "Authority denied <tool>: <REASON> (<field>): <message>. Hint: <hint>", so the model
//            can explain or adapt, never an exception that ends the run;
//   APPROVAL_REQUIRED  the graph pauses (LangGraph `interrupt`, needs a checkpointer) with the
//            approval id; resumed with `{ approved: true }` the same call is sent again carrying
//            the approval (good for one call), resumed otherwise the model is told it was refused.
// LangGraph runs a paused node again from its start on resume. The first call is therefore a
// LangGraph `task`: its result is checkpointed with the pause and replayed on resume instead of
// being sent again (which would open a second approval request that nobody decides).
import { DynamicStructuredTool } from '@langchain/core/tools';
import { getConfig, interrupt, task } from '@langchain/langgraph';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';

/** `_meta` key of the gateway's denial on a refused call. */
export const DENIAL_META_KEY = 'authority/denial';
/** `_meta` key carrying an approved approval request id on a retried call. */
export const APPROVAL_META_KEY = 'authority/approval_id';

/** The gateway's denial, as far as the model and the graph need it. */
export interface GatewayDenial {
  reason: string;
  message: string;
  field?: string;
  hint: string;
  retryable: boolean;
  approval_id?: string;
}

/** What the graph is paused with when a call needs a human approval. */
export interface ApprovalInterrupt {
  kind: 'authority/approval';
  approval_id: string;
  /** The gateway's tool name. */
  tool: string;
  args: Record<string, unknown>;
  message: string;
}

/** The value to resume a paused graph with (`new Command({ resume })`). */
export interface ApprovalResume {
  approved: boolean;
  /** The request the human decided (the interrupt's `approval_id`). */
  approval_id?: string;
}

/** LangChain tool names are `[A-Za-z0-9_-]`: `authority.vault_read` becomes `authority__vault_read`. */
export function toolNameFor(gatewayName: string): string {
  return gatewayName.replace(/\./g, '__');
}

export function denialOf(result: CallToolResult): GatewayDenial | undefined {
  const d = (result._meta as Record<string, unknown> | undefined)?.[DENIAL_META_KEY];
  if (typeof d !== 'object' || d === null) return undefined;
  const denial = d as Partial<GatewayDenial>;
  return typeof denial.reason === 'string' ? (denial as GatewayDenial) : undefined;
}

/** The text a model reads for a refused call. */
export function denialText(tool: string, d: GatewayDenial): string {
  const where = d.field !== undefined ? ` (${d.field})` : '';
  return `Authority denied ${tool}: ${d.reason}${where}: ${d.message}. Hint: ${d.hint}`;
}

function resultText(result: CallToolResult): string {
  if (result.structuredContent !== undefined) return JSON.stringify(result.structuredContent);
  return result.content
    .map((c) => (c.type === 'text' ? c.text : c.type === 'resource_link' ? c.uri : `[${c.type}]`))
    .join('\n');
}

export interface EnforcedToolsOptions {
  /** Only these gateway tools (default: every tool the gateway lists for this envelope). */
  include?: (gatewayName: string) => boolean;
}

/**
 * Whether this runs inside a LangGraph task that can run checkpointed sub-tasks (a graph node);
 * `__pregel_call` is how LangGraph hands a node the runner for `task` calls.
 */
function inGraph(): boolean {
  const configurable = (getConfig() as { configurable?: Record<string, unknown> } | undefined)?.configurable;
  return typeof configurable?.['__pregel_call'] === 'function';
}

/** One gateway tool as a LangChain tool. */
export function enforcedTool(client: Client, definition: Tool): DynamicStructuredTool {
  const gatewayName = definition.name;
  const callGateway = async (args: Record<string, unknown>) =>
    (await client.callTool({ name: gatewayName, arguments: args })) as CallToolResult;
  // In a graph: checkpointed, so a resumed node gets the recorded result instead of calling again.
  const firstCall = task(`authority:${gatewayName}`, callGateway);
  return new DynamicStructuredTool({
    name: toolNameFor(gatewayName),
    description: definition.description ?? definition.title ?? gatewayName,
    schema: definition.inputSchema as Record<string, unknown>,
    func: async (input: Record<string, unknown>) => {
      const args = input ?? {};
      const first = inGraph() ? await firstCall(args) : await callGateway(args);
      const denied = denialOf(first);
      if (denied === undefined) return first.isError === true ? `Error: ${resultText(first)}` : resultText(first);
      if (denied.reason !== 'APPROVAL_REQUIRED' || denied.approval_id === undefined)
        return denialText(gatewayName, denied);
      // Pause the graph until a human decided; the run resumes here with their answer.
      const pause: ApprovalInterrupt = {
        kind: 'authority/approval',
        approval_id: denied.approval_id,
        tool: gatewayName,
        args,
        message: denied.message,
      };
      // On resume LangGraph runs this function again from the top; `first` is then the recorded
      // denial (no second call, no second approval request) and `interrupt` returns the answer.
      const answer = interrupt<ApprovalInterrupt, ApprovalResume | undefined>(pause);
      const approvalId = answer?.approval_id ?? denied.approval_id;
      if (answer?.approved !== true) return `A human did not approve ${gatewayName} (approval ${approvalId}).`;
      const retried = (await client.callTool({
        name: gatewayName,
        arguments: args,
        _meta: { [APPROVAL_META_KEY]: approvalId },
      })) as CallToolResult;
      const again = denialOf(retried);
      return again !== undefined ? denialText(gatewayName, again) : resultText(retried);
    },
  });
}

/** The gateway's tools for the envelope `client` is connected with, as LangChain tools. */
export async function enforcedTools(client: Client, opts: EnforcedToolsOptions = {}): Promise<DynamicStructuredTool[]> {
  const tools: Tool[] = [];
  let cursor: string | undefined;
  do {
    const page = await client.listTools(cursor === undefined ? {} : { cursor });
    tools.push(...page.tools);
    cursor = page.nextCursor;
  } while (cursor !== undefined);
  return tools.filter((t) => opts.include?.(t.name) ?? true).map((t) => enforcedTool(client, t));
}
