// A scripted chat model for tests and demos: @langchain/core's FakeListChatModel, whose scripted
// responses may also be tool calls. A response is plain text, or a JSON object
// `{"tool_calls": [{"name": ..., "args": {...}}]}` that becomes an AIMessage calling those tools.
import { AIMessage } from '@langchain/core/messages';
import { FakeListChatModel } from '@langchain/core/utils/testing';

export interface ScriptedToolCall {
  name: string;
  args: Record<string, unknown>;
}

/** One scripted turn: what the model says, or the tools it calls. */
export type ScriptedTurn = string | { tool_calls: ScriptedToolCall[] };

export class ScriptedChatModel extends FakeListChatModel {
  constructor(turns: ScriptedTurn[]) {
    super({ responses: turns.map((t) => (typeof t === 'string' ? t : JSON.stringify(t))) });
  }

  override _formatGeneration(text: string): { message: AIMessage; text: string } {
    if (text.startsWith('{"tool_calls"')) {
      const { tool_calls } = JSON.parse(text) as { tool_calls: ScriptedToolCall[] };
      const message = new AIMessage({
        content: '',
        tool_calls: tool_calls.map((c, i) => ({
          id: `call_${this.i}_${i}`,
          name: c.name,
          args: c.args,
          type: 'tool_call',
        })),
      });
      return { message, text: '' };
    }
    return { message: new AIMessage(text), text };
  }
}
