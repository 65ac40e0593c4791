// Protocol pass-through against the real @modelcontextprotocol/server-everything (stdio), driven by
// the official MCP client: prompts and resources under the mapping (reads checked like tools,
// unmapped ones absent), log messages, sampling and elicitation requests from a per-agent upstream
// to its agent, list-changed for prompts, and what a shared upstream withholds. The enforcer is a
// stand-in deciding by scope and resource (this module's own behaviour is what is tested; the
// e2e tests use the real one).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  CallToolResultSchema,
  CreateMessageRequestSchema,
  ElicitRequestSchema,
  LoggingMessageNotificationSchema,
  McpError,
  type LoggingMessageNotification,
} from '@modelcontextprotocol/sdk/types.js';
import { silentLogger } from '@authority/platform';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import { eventually } from '@authority/test-helpers';
import { META, type Denial } from '../../src/enforce';
import { parseMapping, type GatewayMapping } from '../../src/mapping';
import { DENIED_ERROR_CODE, RESOURCE_NOT_FOUND } from '../../src/proxy';
import { Upstream } from '../../src/upstream';
import { UpstreamPool } from '../../src/upstream-pool';
import { checkResponse, connectAgent, everythingServer, type AgentSession } from '../proxy-harness';

const EVERYTHING = everythingServer();

const ALLOWED_SCOPES = new Set([
  'demo:echo',
  'demo:sample',
  'demo:elicit',
  'demo:log',
  'demo:prompt',
  'demo:docs:read',
]);
/** Resources the stand-in refuses even with the scope. */
const REFUSED_RESOURCES = new Set(['demo://docs/startup.md']);
const checked: CheckRequest[] = [];

/** A stand-in enforcer: ALLOW for the scopes above, DENY (SCOPE_MISSING / RESOURCE_NOT_ALLOWED) otherwise. */
const standIn = {
  check: async (req: CheckRequest): Promise<CheckResponse__Output> => decide(req),
  batchCheck: async (req: { checks?: CheckRequest[] }) => ({ results: (req.checks ?? []).map(decide) }),
};
function decide(req: CheckRequest): CheckResponse__Output {
  checked.push(req);
  const scopeOk = ALLOWED_SCOPES.has(req.requiredScope ?? '');
  const resourceOk = !REFUSED_RESOURCES.has(req.resource ?? '');
  const allowed = scopeOk && resourceOk;
  return allowed
    ? checkResponse()
    : checkResponse({ decision: 'DENY', reason: !scopeOk ? 'SCOPE_MISSING' : 'RESOURCE_NOT_ALLOWED', message: 'no' });
}

function mappingFor(sessions: 'shared' | 'per-agent'): GatewayMapping {
  return parseMapping(`upstreams:
  everything:
    namespace: ev
    command: ${JSON.stringify(process.execPath)}
    args: [${JSON.stringify(EVERYTHING)}, stdio]
    sessions: ${sessions}
    tools:
      echo: { scope: "demo:echo" }
      trigger-sampling-request: { scope: "demo:sample" }
      trigger-elicitation-request: { scope: "demo:elicit" }
      toggle-simulated-logging: { scope: "demo:log" }
    prompts:
      simple-prompt: { scope: "demo:prompt" }
      args-prompt: { scope: "demo:prompt", resource: "demo://city/{city}" }
    resources:
      "demo://resource/static/document/{name}": { scope: "demo:docs:read", resource: "demo://docs/{name}" }
      "demo://resource/dynamic/text/{resourceId}": { scope: "demo:secret:read" }
`);
}

type Session = AgentSession;

const sharedUpstreams: Upstream[] = [];
after(async () => {
  for (const u of sharedUpstreams) await u.close();
});

async function session(sessions: 'shared' | 'per-agent'): Promise<Session> {
  const mapping = mappingFor(sessions);
  // A per-agent upstream's catalog connection (listing only; the session opens its own).
  const u = new Upstream(mapping.upstreams[0]!, silentLogger(), () => undefined);
  await u.connect();
  sharedUpstreams.push(u);
  return connectAgent({
    enforcer: standIn,
    upstreams: sessions === 'shared' ? [u] : [],
    perAgent: sessions === 'per-agent' ? [u] : [],
    pool: new UpstreamPool({ perAgent: 4, perTenant: 4, total: 4, idleMs: 60_000 }),
    timeoutMs: 5000,
    capabilities: { sampling: {}, elicitation: {} },
  });
}

/** The protocol error a request was refused with. */
async function refusal(p: Promise<unknown>): Promise<McpError> {
  const err = await p.then(
    () => undefined,
    (e: unknown) => e,
  );
  assert.ok(err instanceof McpError, `expected a protocol error, got ${String(err)}`);
  return err;
}

describe('pass-through of a per-agent upstream (server-everything)', { timeout: 120_000 }, () => {
  let s: Session;
  const sampled: unknown[] = [];
  const elicited: unknown[] = [];
  const logs: LoggingMessageNotification['params'][] = [];
  before(async () => {
    s = await session('per-agent');
    s.agent.setRequestHandler(CreateMessageRequestSchema, async (req) => {
      sampled.push(req.params);
      return { model: 'scripted', role: 'assistant', content: { type: 'text', text: 'the agent sampled this' } };
    });
    s.agent.setRequestHandler(ElicitRequestSchema, async (req) => {
      elicited.push(req.params);
      return { action: 'accept', content: { name: 'Ada' } };
    });
    s.agent.setNotificationHandler(LoggingMessageNotificationSchema, (n) => void logs.push(n.params));
  });
  after(() => s.close());

  test('the gateway declares prompts, resources (with subscriptions) and logging', () => {
    const caps = s.agent.getServerCapabilities();
    assert.ok(caps?.prompts !== undefined && caps.resources?.subscribe === true && caps.logging !== undefined);
  });

  test('only mapped prompts are listed, under the namespace; a get is checked over its arguments', async () => {
    const prompts = (await s.agent.listPrompts()).prompts.map((p) => p.name).sort();
    assert.deepEqual(prompts, ['ev.args-prompt', 'ev.simple-prompt']);
    const got = await s.agent.getPrompt({ name: 'ev.args-prompt', arguments: { city: 'Lyon' } });
    assert.match(JSON.stringify(got.messages), /weather in Lyon/);
    assert.ok(checked.some((c) => c.requiredScope === 'demo:prompt' && c.resource === 'demo://city/Lyon'));
    // A traversal through a prompt argument is refused naming the argument; the upstream is not asked.
    const err = await refusal(s.agent.getPrompt({ name: 'ev.args-prompt', arguments: { city: '../x' } }));
    assert.equal(err.code, DENIED_ERROR_CODE);
    const d = (err.data as Record<string, Denial>)[META.denial];
    assert.equal(d?.reason, 'INVALID_REQUEST');
    assert.equal(d?.field, 'arguments.city');
    const unknown = await refusal(s.agent.getPrompt({ name: 'ev.complex-prompt', arguments: {} }));
    assert.match(unknown.message, /not found/);
  });

  test('resources: only mapped ones are listed; reads are checked like tools; unmapped ones do not exist', async () => {
    const listed = (await s.agent.listResources()).resources.map((r) => r.uri);
    assert.ok(
      listed.length > 0 && listed.every((u) => u.startsWith('demo://resource/static/document/')),
      listed.join(),
    );
    const templates = (await s.agent.listResourceTemplates()).resourceTemplates.map((t) => t.uriTemplate);
    assert.deepEqual(templates, ['demo://resource/dynamic/text/{resourceId}']);

    const read = await s.agent.readResource({ uri: 'demo://resource/static/document/architecture.md' });
    assert.equal(read.contents[0]?.uri, 'demo://resource/static/document/architecture.md');
    assert.ok(
      checked.some((c) => c.requiredScope === 'demo:docs:read' && c.resource === 'demo://docs/architecture.md'),
    );

    // The stand-in refuses this document: a precise denial, no content.
    const refused = await refusal(s.agent.readResource({ uri: 'demo://resource/static/document/startup.md' }));
    assert.equal(refused.code, DENIED_ERROR_CODE);
    assert.equal((refused.data as Record<string, Denial>)[META.denial]?.reason, 'RESOURCE_NOT_ALLOWED');
    // Mapped, but the scope is not granted.
    const noScope = await refusal(s.agent.readResource({ uri: 'demo://resource/dynamic/text/1' }));
    assert.equal((noScope.data as Record<string, Denial>)[META.denial]?.reason, 'SCOPE_MISSING');
    // The blob template has no mapping: it does not exist through the gateway.
    const unmapped = await refusal(s.agent.readResource({ uri: 'demo://resource/dynamic/blob/1' }));
    assert.equal(unmapped.code, RESOURCE_NOT_FOUND);
    // A traversal in a URI variable is refused naming the URI.
    const traversal = await refusal(s.agent.readResource({ uri: 'demo://resource/static/document/..' }));
    assert.equal((traversal.data as Record<string, Denial>)[META.denial]?.field, 'uri');
  });

  test('sampling and elicitation requests of the upstream reach this agent and their answers go back', async () => {
    const sample = await s.agent.callTool({ name: 'ev.trigger-sampling-request', arguments: { prompt: 'hi' } });
    assert.equal(sampled.length, 1);
    assert.match(JSON.stringify(sampled[0]), /hi/);
    assert.match(JSON.stringify(sample.content), /the agent sampled this/);
    const elicit = await s.agent.callTool({ name: 'ev.trigger-elicitation-request', arguments: {} });
    assert.equal(elicited.length, 1);
    assert.match(JSON.stringify(elicit.content), /Ada/);
  });

  test("the upstream's log messages reach the agent, at the level the agent set", async () => {
    await s.agent.setLoggingLevel('debug');
    const res = await s.agent.callTool({ name: 'ev.toggle-simulated-logging', arguments: {} }, CallToolResultSchema);
    assert.match(JSON.stringify(res.content), /Started simulated/);
    const first = await eventually(() => logs[0], 'a log message from the upstream');
    assert.match(String(first.data), /message/);
    await s.agent.callTool({ name: 'ev.toggle-simulated-logging', arguments: {} });
  });

  test('subscriptions are checked like reads and forwarded on the per-agent connection', async () => {
    await s.agent.subscribeResource({ uri: 'demo://resource/static/document/architecture.md' });
    const refused = await refusal(s.agent.subscribeResource({ uri: 'demo://resource/static/document/startup.md' }));
    assert.equal((refused.data as Record<string, Denial>)[META.denial]?.reason, 'RESOURCE_NOT_ALLOWED');
    await s.agent.unsubscribeResource({ uri: 'demo://resource/static/document/architecture.md' });
  });
});

describe('a shared upstream withholds what would reach every agent', { timeout: 120_000 }, () => {
  let s: Session;
  before(async () => {
    s = await session('shared');
  });
  after(() => s.close());

  test('no sampling or elicitation tools (the gateway connection declares neither); no logging', async () => {
    const tools = (await s.agent.listTools()).tools.map((t) => t.name);
    assert.ok(tools.includes('ev.echo'));
    assert.ok(!tools.includes('ev.trigger-sampling-request') && !tools.includes('ev.trigger-elicitation-request'));
    assert.equal(s.agent.getServerCapabilities()?.logging, undefined);
  });

  test('resources are readable but subscriptions are refused with the reason', async () => {
    const read = await s.agent.readResource({ uri: 'demo://resource/static/document/architecture.md' });
    assert.ok(read.contents.length > 0);
    const err = await refusal(s.agent.subscribeResource({ uri: 'demo://resource/static/document/architecture.md' }));
    assert.match(err.message, /per-agent/);
  });
});
