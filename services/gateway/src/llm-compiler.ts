// LLM intent compilers: optional proposal sources for authority.compile_intent. A model is asked
// which of the caller's scopes a task needs; its answer is only a proposal, clipped to the caller's
// envelope here (a proposed scope no caller scope covers is dropped and reported) and bounded again
// by the issuer's Delegate. Three wire formats: OpenAI-compatible chat completions, Anthropic
// messages, Ollama chat. A model that fails (network, HTTP status, timeout, an answer that is not
// the JSON asked for) yields no proposal: the deterministic compiler decides and the result says so.
// The model is asked before the issuer has verified the caller's envelope (Delegate does, after),
// so model requests are bounded gateway-wide: a flood of forged envelopes can spend at most
// `perMinute` of them (beyond, the deterministic compiler decides), never an unbounded bill.
import { isValidScope, scopeContains } from '@authority/core';
import type { Secret } from '@authority/platform';
import { RateLimiter } from './rate-limit';
import type { CompiledIntent } from './compile';

export type LlmProvider = 'openai' | 'anthropic' | 'ollama';

export interface LlmCompilerOptions {
  provider: LlmProvider;
  /** Base URL: `https://api.openai.com/v1`, `https://api.anthropic.com`, `http://127.0.0.1:11434`. */
  url: string;
  model: string;
  apiKey?: Secret;
  timeoutMs: number;
  /** Most model requests per minute for the whole gateway (bursts of as many); default unbounded. */
  perMinute?: number;
  /** Replaceable for tests (default: global fetch). */
  fetch?: typeof fetch;
  /** Milliseconds (tests inject a clock). */
  clock?: () => number;
}

/** What a model proposed: scopes and why. */
export interface Proposal {
  scopes: string[];
  reasoning: string;
}

/** Most characters of a model's answer read. */
const MAX_ANSWER_CHARS = 64 * 1024;

export function systemPrompt(): string {
  return [
    "You narrow an AI agent's permissions to what one task needs.",
    'You get the task and the scopes the agent holds (with the tools that need them).',
    'Answer with JSON only: {"scopes": [<scopes the task needs, copied exactly from the list>], "reasoning": "<one sentence>"}.',
    'Choose as few scopes as the task allows; never invent scopes; prefer read actions unless the task changes something.',
  ].join(' ');
}

export function userPrompt(
  intent: string,
  scopes: readonly string[],
  toolWords: ReadonlyMap<string, ReadonlySet<string>>,
): string {
  const lines = scopes.map((s) => {
    const tools = [...(toolWords.get(s) ?? [])].slice(0, 12).join(' ');
    return tools === '' ? `- ${s}` : `- ${s} (tools: ${tools})`;
  });
  return `Task: ${intent}\n\nScopes held:\n${lines.join('\n')}`;
}

/** The JSON object in a model's text (models wrap it in prose or code fences now and then). */
export function parseProposal(text: string): Proposal {
  const t = text.slice(0, MAX_ANSWER_CHARS);
  const start = t.indexOf('{');
  const end = t.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('the answer holds no JSON object');
  const parsed = JSON.parse(t.slice(start, end + 1)) as { scopes?: unknown; reasoning?: unknown };
  if (!Array.isArray(parsed.scopes) || !parsed.scopes.every((s) => typeof s === 'string'))
    throw new Error("the answer's 'scopes' is not a list of strings");
  return {
    scopes: parsed.scopes.slice(0, 256),
    reasoning: typeof parsed.reasoning === 'string' ? parsed.reasoning.slice(0, 1000) : '',
  };
}

/** The request each provider expects, and where its answer's text is. */
function wire(
  o: LlmCompilerOptions,
  system: string,
  user: string,
): { url: string; init: RequestInit; text: (body: unknown) => unknown } {
  const base = o.url.replace(/\/+$/, '');
  const key = o.apiKey?.reveal();
  const json = { 'content-type': 'application/json' };
  switch (o.provider) {
    case 'openai':
      return {
        url: `${base}/chat/completions`,
        init: {
          method: 'POST',
          headers: { ...json, ...(key !== undefined ? { authorization: `Bearer ${key}` } : {}) },
          body: JSON.stringify({
            model: o.model,
            temperature: 0,
            response_format: { type: 'json_object' },
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: user },
            ],
          }),
        },
        text: (b) => (b as { choices?: { message?: { content?: unknown } }[] }).choices?.[0]?.message?.content,
      };
    case 'anthropic':
      return {
        url: `${base}/v1/messages`,
        init: {
          method: 'POST',
          headers: { ...json, 'anthropic-version': '2023-06-01', ...(key !== undefined ? { 'x-api-key': key } : {}) },
          body: JSON.stringify({
            model: o.model,
            max_tokens: 1024,
            temperature: 0,
            system,
            messages: [{ role: 'user', content: user }],
          }),
        },
        text: (b) =>
          (b as { content?: { type?: string; text?: unknown }[] }).content?.find((c) => c.type === 'text')?.text,
      };
    case 'ollama':
      return {
        url: `${base}/api/chat`,
        init: {
          method: 'POST',
          headers: json,
          body: JSON.stringify({
            model: o.model,
            stream: false,
            format: 'json',
            options: { temperature: 0 },
            messages: [
              { role: 'system', content: system },
              { role: 'user', content: user },
            ],
          }),
        },
        text: (b) => (b as { message?: { content?: unknown } }).message?.content,
      };
  }
}

const BUDGET_KEY = 'model';

export class LlmCompiler {
  private readonly budget: RateLimiter | undefined;

  constructor(private readonly o: LlmCompilerOptions) {
    if (o.perMinute !== undefined) {
      this.budget = new RateLimiter({
        ratePerSecond: o.perMinute / 60,
        burst: o.perMinute,
        maxKeys: 1,
        ...(o.clock !== undefined ? { clock: o.clock } : {}),
      });
    }
  }

  get source(): string {
    return `${this.o.provider}:${this.o.model}`;
  }

  /** Asks the model; throws with the cause when there is no usable proposal. */
  async propose(
    intent: string,
    scopes: readonly string[],
    toolWords: ReadonlyMap<string, ReadonlySet<string>>,
  ): Promise<Proposal> {
    if (this.budget !== undefined) {
      if (!this.budget.allows(BUDGET_KEY))
        throw new Error(`the gateway's model budget (${this.o.perMinute ?? 0} requests per minute) is used up`);
      this.budget.charge(BUDGET_KEY);
    }
    const w = wire(this.o, systemPrompt(), userPrompt(intent, scopes, toolWords));
    const res = await (this.o.fetch ?? fetch)(w.url, { ...w.init, signal: AbortSignal.timeout(this.o.timeoutMs) });
    if (!res.ok) throw new Error(`${this.source} answered HTTP ${res.status}`);
    const text = w.text(await res.json());
    if (typeof text !== 'string') throw new Error(`${this.source} answered without text`);
    return parseProposal(text);
  }
}

/**
 * The proposal clipped to the caller's scopes: a proposed scope is kept when one of the caller's
 * scopes covers it (the same rule the issuer applies to a child); everything else is dropped.
 * `dropped` lists the caller's scopes not needed; `clipped` the proposed scopes refused.
 */
export function clipProposal(
  proposal: Proposal,
  callerScopes: readonly string[],
  source: string,
): CompiledIntent & { clipped: string[]; source: string } {
  const kept: string[] = [];
  const clipped: string[] = [];
  const reasons: Record<string, string> = {};
  for (const s of new Set(proposal.scopes)) {
    const cover = isValidScope(s) ? callerScopes.find((c) => isValidScope(c) && scopeContains(c, s)) : undefined;
    if (cover === undefined) {
      clipped.push(s);
      continue;
    }
    kept.push(s);
    reasons[s] = `proposed by ${source}${proposal.reasoning !== '' ? `: ${proposal.reasoning}` : ''}`;
  }
  const dropped = callerScopes.filter((c) => !kept.some((k) => scopeContains(c, k)));
  return {
    scopes: kept,
    dropped,
    clipped,
    source,
    reductionRatio: callerScopes.length === 0 ? 1 : Math.round((dropped.length / callerScopes.length) * 1000) / 1000,
    reasons,
  };
}
