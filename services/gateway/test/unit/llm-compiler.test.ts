// The LLM intent compilers against a local HTTP stub speaking each API's wire format (a fake of a
// remote third party): the request each provider expects (path, auth header, model, the task and
// the caller's scopes in the prompt), the answer read from where each API puts it, and the clip:
// a proposal is bounded by the caller's scopes whatever the model says.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Secret } from '@authority/platform';
import { LlmCompiler, clipProposal, parseProposal, type LlmProvider } from '../../src/llm-compiler';

interface Seen {
  path: string;
  headers: IncomingMessage['headers'];
  body: Record<string, unknown>;
}

const seen: Seen[] = [];
/** What the model "says" next (the JSON text inside each API's envelope), or an HTTP status. */
let answer: string | number = '';
let hang = false;
let server: Server;
let base = '';

function envelope(path: string, text: string): unknown {
  if (path === '/v1/chat/completions')
    return { id: 'c1', choices: [{ index: 0, message: { role: 'assistant', content: text } }] };
  if (path === '/v1/messages')
    return { id: 'm1', type: 'message', role: 'assistant', content: [{ type: 'text', text }] };
  if (path === '/api/chat') return { model: 'm', message: { role: 'assistant', content: text }, done: true };
  return undefined;
}

before(async () => {
  server = createServer((req, res) => {
    let raw = '';
    req.on('data', (c: Buffer) => (raw += c.toString()));
    req.on('end', () => {
      seen.push({ path: req.url ?? '', headers: req.headers, body: JSON.parse(raw) as Record<string, unknown> });
      if (hang) return; // never answers: the client's deadline must end it
      if (typeof answer === 'number') {
        res.writeHead(answer).end('{"error":"boom"}');
        return;
      }
      const body = envelope(req.url ?? '', answer);
      res
        .writeHead(body === undefined ? 404 : 200, { 'content-type': 'application/json' })
        .end(JSON.stringify(body ?? {}));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(() => {
  server.closeAllConnections();
  server.close();
});

const CALLER = ['vault:finance:read', 'vault:health:read'];
const TOOLS = new Map([['vault:finance:read', new Set(['vault_read', 'document'])]]);

function compiler(provider: LlmProvider, timeoutMs = 5000): LlmCompiler {
  const url = provider === 'openai' ? `${base}/v1` : base;
  return new LlmCompiler({ provider, url, model: `${provider}-model`, apiKey: new Secret('sk-test'), timeoutMs });
}

describe('LLM compilers: each wire format', () => {
  const cases: [LlmProvider, string, (s: Seen) => void][] = [
    [
      'openai',
      '/v1/chat/completions',
      (s) => {
        assert.equal(s.headers.authorization, 'Bearer sk-test');
        assert.deepEqual(s.body['response_format'], { type: 'json_object' });
        const messages = s.body['messages'] as { role: string; content: string }[];
        assert.equal(messages[0]?.role, 'system');
        assert.match(messages[1]?.content ?? '', /Task: Summarize the Q1 budget/);
        assert.match(messages[1]?.content ?? '', /- vault:finance:read \(tools: vault_read document\)/);
      },
    ],
    [
      'anthropic',
      '/v1/messages',
      (s) => {
        assert.equal(s.headers['x-api-key'], 'sk-test');
        assert.equal(s.headers['anthropic-version'], '2023-06-01');
        assert.equal(s.headers.authorization, undefined);
        assert.equal(typeof s.body['system'], 'string');
        assert.equal(typeof s.body['max_tokens'], 'number');
        assert.match(JSON.stringify(s.body['messages']), /vault:health:read/);
      },
    ],
    [
      'ollama',
      '/api/chat',
      (s) => {
        assert.equal(s.headers.authorization, undefined, 'no key is sent to ollama');
        assert.equal(s.body['stream'], false);
        assert.equal(s.body['format'], 'json');
        assert.match(JSON.stringify(s.body['messages']), /Summarize the Q1 budget/);
      },
    ],
  ];
  for (const [provider, path, checkRequest] of cases) {
    test(`${provider}: the request it expects; the proposal clipped to the caller`, async () => {
      seen.length = 0;
      hang = false;
      // The model over-reaches: a scope the caller lacks, a wider one, an invented one.
      answer =
        'Sure! {"scopes": ["vault:finance:read", "vault:finance:write", "admin:all:*", "not a scope"], "reasoning": "the budget is in finance"}';
      const c = compiler(provider);
      const proposal = await c.propose('Summarize the Q1 budget', CALLER, TOOLS);
      assert.equal(seen.length, 1);
      assert.equal(seen[0]?.path, path);
      assert.equal(seen[0]?.body['model'], `${provider}-model`);
      checkRequest(seen[0]!);
      const clipped = clipProposal(proposal, CALLER, c.source);
      assert.deepEqual(clipped.scopes, ['vault:finance:read']);
      assert.deepEqual(clipped.clipped, ['vault:finance:write', 'admin:all:*', 'not a scope']);
      assert.deepEqual(clipped.dropped, ['vault:health:read']);
      assert.equal(clipped.reductionRatio, 0.5);
      assert.match(
        clipped.reasons['vault:finance:read'] ?? '',
        new RegExp(`proposed by ${provider}:${provider}-model: the budget is in finance`),
      );
    });
  }

  test('an HTTP error, an answer without JSON, or no answer before the deadline is no proposal', async () => {
    hang = false;
    answer = 500;
    await assert.rejects(compiler('openai').propose('x', CALLER, TOOLS), /HTTP 500/);
    answer = 'I cannot help with that.';
    await assert.rejects(compiler('anthropic').propose('x', CALLER, TOOLS), /no JSON object/);
    answer = '{"scopes": "vault:finance:read"}';
    await assert.rejects(compiler('ollama').propose('x', CALLER, TOOLS), /not a list of strings/);
    hang = true;
    await assert.rejects(compiler('ollama', 200).propose('x', CALLER, TOOLS), /abort|timeout/i);
    hang = false;
  });
});

describe('the model budget', () => {
  test('beyond AUTHORITY_GATEWAY_COMPILER_RATE per minute the model is not asked; it refills with time', async () => {
    hang = false;
    answer = '{"scopes": ["vault:finance:read"], "reasoning": "r"}';
    let now = 0;
    const c = new LlmCompiler({
      provider: 'openai',
      url: `${base}/v1`,
      model: 'm',
      timeoutMs: 5000,
      perMinute: 2,
      clock: () => now,
    });
    const before = seen.length;
    await c.propose('x', CALLER, TOOLS);
    await c.propose('x', CALLER, TOOLS);
    await assert.rejects(c.propose('x', CALLER, TOOLS), /model budget \(2 requests per minute\) is used up/);
    assert.equal(seen.length - before, 2, 'the refused proposal sent no request');
    now = 30_000; // one request's worth of budget back
    assert.deepEqual((await c.propose('x', CALLER, TOOLS)).scopes, ['vault:finance:read']);
    await assert.rejects(c.propose('x', CALLER, TOOLS), /used up/);
    assert.equal(seen.length - before, 3);
  });
});

describe('clipProposal', () => {
  test('a caller wildcard covers a narrower proposed scope; nothing wider than the caller survives', () => {
    const c = clipProposal(
      { scopes: ['vault:finance:read', 'vault:*:read', 'vault:finance:write'], reasoning: '' },
      ['vault:*:read'],
      'm',
    );
    assert.deepEqual(c.scopes, ['vault:finance:read', 'vault:*:read']);
    assert.deepEqual(c.clipped, ['vault:finance:write']);
    assert.deepEqual(c.dropped, []);
  });

  test('an empty proposal keeps nothing (compile_intent then refuses the intent)', () => {
    const c = clipProposal(parseProposal('{"scopes": []}'), CALLER, 'm');
    assert.deepEqual(c.scopes, []);
    assert.equal(c.reductionRatio, 1);
  });
});
