// The example agent graph: a planner that works with its own enforced tools and delegates a task
// to a sub-agent. Delegation goes through the gateway's authority.compile_intent: the sub-agent
// gets a child envelope narrowed to the task (minted by the issuer, the planner's envelope the
// upper bound) and its own MCP session with it, so it can do less than the planner, never more.
import type { BaseChatModel } from '@langchain/core/language_models/chat_models';
import { AIMessage, HumanMessage, type BaseMessage } from '@langchain/core/messages';
import { DynamicStructuredTool, type StructuredToolInterface } from '@langchain/core/tools';
import { END, MessagesAnnotation, START, StateGraph, type BaseCheckpointSaver } from '@langchain/langgraph';
import { ToolNode } from '@langchain/langgraph/prebuilt';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { denialOf, denialText, enforcedTools } from './tools';

/** A model node and a tool node in a loop until the model answers without calling a tool. */
export function toolLoopGraph(
  model: BaseChatModel,
  tools: StructuredToolInterface[],
  checkpointer?: BaseCheckpointSaver,
) {
  const callModel = async (state: typeof MessagesAnnotation.State) => ({
    messages: [await model.invoke(state.messages)],
  });
  const next = (state: typeof MessagesAnnotation.State) => {
    const last = state.messages.at(-1);
    return last instanceof AIMessage && (last.tool_calls?.length ?? 0) > 0 ? 'tools' : END;
  };
  return new StateGraph(MessagesAnnotation)
    .addNode('model', callModel)
    .addNode('tools', new ToolNode(tools))
    .addEdge(START, 'model')
    .addConditionalEdges('model', next, ['tools', END])
    .addEdge('tools', 'model')
    .compile(checkpointer !== undefined ? { checkpointer } : {});
}

export interface PlannerOptions {
  /** The planner's MCP session with the gateway (its own envelope). */
  planner: Client;
  plannerModel: BaseChatModel;
  /** The sub-agent's model (one per delegation). */
  subAgentModel: () => BaseChatModel;
  /** Opens an MCP session with the gateway for a child envelope. */
  connect: (token: string) => Promise<Client>;
  /** Required for approvals (the graph pauses and resumes). */
  checkpointer: BaseCheckpointSaver;
}

/** Text of a graph's last message. */
export function lastText(messages: BaseMessage[]): string {
  const c = messages.at(-1)?.content;
  return typeof c === 'string' ? c : JSON.stringify(c);
}

/** The delegation tool: compile the task into a child envelope, run the sub-agent with it. */
export function delegateTool(o: Omit<PlannerOptions, 'plannerModel' | 'checkpointer'>): DynamicStructuredTool {
  return new DynamicStructuredTool({
    name: 'delegate',
    description: 'Hands a task to a sub-agent that works with an envelope narrowed to the task.',
    schema: {
      type: 'object',
      properties: { task: { type: 'string' }, agent_name: { type: 'string' } },
      required: ['task', 'agent_name'],
    },
    func: async ({ task, agent_name }: { task: string; agent_name: string }) => {
      const compiled = (await o.planner.callTool({
        name: 'authority.compile_intent',
        arguments: { intent: task, agent_name },
      })) as CallToolResult;
      const denied = denialOf(compiled);
      if (denied !== undefined) return denialText('authority.compile_intent', denied);
      const child = compiled.structuredContent as { token: string; agent_id: string; scopes_kept: string[] };
      const session = await o.connect(child.token);
      try {
        const sub = toolLoopGraph(o.subAgentModel(), await enforcedTools(session));
        const out = await sub.invoke({ messages: [new HumanMessage(task)] });
        return `${child.agent_id} (scopes ${child.scopes_kept.join(', ')}): ${lastText(out.messages)}`;
      } finally {
        await session.close();
      }
    },
  });
}

/** The planner graph: its own enforced tools plus `delegate`. */
export async function plannerGraph(o: PlannerOptions) {
  const tools = [...(await enforcedTools(o.planner)), delegateTool(o)];
  return toolLoopGraph(o.plannerModel, tools, o.checkpointer);
}
