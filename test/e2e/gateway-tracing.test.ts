// One trace from an MCP tool call to the audit entry (issue 13), over the REAL stack (issuer,
// enforcer, auditor against the real Kafka broker and MongoDB-wire server) with every span recorded
// by an in-memory exporter and the metrics read by an in-memory reader:
//
//   gateway tools/call everything.echo   (the gateway, one span per MCP tool call)
//     └─ enforcer SERVER span (gRPC metadata)
//          └─ send <prefix>audit → process <prefix>audit → mongodb insert entries (the auditor)
//
// and the gateway's per-tool, per-decision metrics count the allowed and the denied call. The
// built-in audit log shows an agent holding audit:read its own tenant's decisions, chained by the
// auditor; an agent without audit:read is denied.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { Client } from '@modelcontextprotocol/sdk/client/index.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { SpanKind } from '@authority/platform';
import type { GatewayHandle } from '@authority/gateway';
import { eventually } from '@authority/test-helpers';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { requireInfra, startStack, type Stack, type StackTenant } from '../src/stack';
import { GATEWAY_AUDIENCE as AUDIENCE, McpClients, mappingFile, mintToken, startTestGateway } from '../src/gateway';

const spans = new InMemorySpanExporter();
const metricReader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000, // read on demand with collect()
});
let stack: Stack;
let tenant: StackTenant;
let gateway: GatewayHandle;
let client: Client;
let mapping: ReturnType<typeof mappingFile> | undefined;
const clients = new McpClients('e2e-traced');

function descends(span: ReadableSpan, ancestorId: string, all: ReadableSpan[]): boolean {
  const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
  let parentId = span.parentSpanContext?.spanId;
  for (let hops = 0; parentId !== undefined && hops < 50; hops++) {
    if (parentId === ancestorId) return true;
    parentId = byId.get(parentId)?.parentSpanContext?.spanId;
  }
  return false;
}

function everythingServer(): string {
  return require
    .resolve('@modelcontextprotocol/server-everything/package.json')
    .replace(/package\.json$/, 'dist/index.js');
}

before(async () => {
  requireInfra();
  stack = await startStack({
    withAuditor: true,
    telemetry: { spanExporter: spans, metricReaders: [metricReader] },
    enforcerAudit: ['platform'], // PRODUCER spans for the audit events
    enforcerEnv: { AUTHORITY_AUDIENCE: AUDIENCE },
    auditorEnv: { AUTHORITY_AUDITOR_GROUP_ID: `e2e-gw-auditor-${randomBytes(4).toString('hex')}` },
  });
  tenant = await stack.createTenant();
  mapping = mappingFile(
    'gw-trace-',
    `upstreams:\n  everything:\n    command: ${JSON.stringify(process.execPath)}\n    args: [${JSON.stringify(everythingServer())}, stdio]\n    tools:\n      echo: { scope: "demo:echo" }\n      get-sum: { scope: "demo:sum" }\n`,
  );
  gateway = await startTestGateway(mapping.path, {
    AUTHORITY_ENFORCER_ADDR: stack.enforcers[0]!.address,
    AUTHORITY_ENFORCER_API_KEY: tenant.checker,
    AUTHORITY_AUDITOR_ADDR: stack.auditor!.address,
    AUTHORITY_AUDITOR_API_KEY: tenant.auditor,
  });
  client = await clients.connect(gateway, await mintToken(stack, tenant, 'traced-agent', { scopes: ['demo:echo'] }));
});

after(async () => {
  await clients.closeAll();
  await gateway?.stop();
  await stack?.stop();
  mapping?.remove();
});

describe('gateway telemetry', { timeout: 120_000 }, () => {
  test('MCP tool call → gateway span → enforcer SERVER span → audit PRODUCER → auditor insert, one trace', async () => {
    const r = (await client.callTool({ name: 'everything.echo', arguments: { message: 'traced' } })) as CallToolResult;
    assert.equal(r.isError, undefined);
    const gw = await eventually(
      () => spans.getFinishedSpans().find((s) => s.name === 'gateway tools/call everything.echo'),
      'the gateway span',
    );
    assert.equal(gw.attributes['authority.decision'], 'allow');
    assert.equal(gw.attributes['authority.reason'], 'ALLOWED');
    assert.equal(gw.attributes['authority.agent'], 'traced-agent');
    const traceId = gw.spanContext().traceId;
    const path = await eventually(() => {
      const all = spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
      const server = all.find(
        (s) => s.kind === SpanKind.SERVER && descends(s, gw.spanContext().spanId, all) && /Check/.test(s.name),
      );
      const producer = all.find((s) => s.kind === SpanKind.PRODUCER && s.name === `send ${stack.topics.audit}`);
      const insert = all.find((s) => s.kind === SpanKind.CLIENT && s.name === 'mongodb insert entries');
      return server && producer && insert ? { server, producer, insert } : undefined;
    }, `the enforcer and auditor spans of trace ${traceId}`);
    assert.ok(descends(path.producer, path.server.spanContext().spanId, spans.getFinishedSpans()));
  });

  test('metrics per tool and decision', async () => {
    const denied = (await client.callTool({ name: 'everything.get-sum', arguments: { a: 1, b: 2 } })) as CallToolResult;
    assert.equal(denied.isError, true);
    const { resourceMetrics } = await metricReader.collect();
    const calls = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'authority.gateway.tool_calls');
    assert.ok(calls, 'authority.gateway.tool_calls is exported');
    const count = (tool: string, decision: string, reason: string) =>
      calls.dataPoints
        .filter(
          (p) =>
            p.attributes['tool'] === tool && p.attributes['decision'] === decision && p.attributes['reason'] === reason,
        )
        .reduce((n, p) => n + Number(p.value), 0);
    assert.ok(count('everything.echo', 'allow', 'ALLOWED') >= 1);
    assert.equal(count('everything.get-sum', 'deny', 'SCOPE_MISSING'), 1);
  });

  test("authority.audit_log: the own tenant's chained events with audit:read; denied without it", async () => {
    const denied = (await client.callTool({ name: 'authority.audit_log', arguments: {} })) as CallToolResult;
    assert.equal(denied.isError, true);
    const d = denied._meta?.['authority/denial'] as { reason: string; scope?: string };
    assert.equal(d.reason, 'SCOPE_MISSING');
    assert.equal(d.scope, 'audit:read');
    const reader = await clients.connect(
      gateway,
      await mintToken(stack, tenant, 'compliance-bot', { scopes: ['audit:read'] }),
    );
    type Event = { agent_id: string; action: string; decision: string; reason: string };
    const events = await eventually(
      async () => {
        const r = (await reader.callTool({
          name: 'authority.audit_log',
          arguments: { agent_id: 'traced-agent', action: 'check', limit: 50 },
        })) as CallToolResult;
        const list = (r.structuredContent?.['events'] ?? []) as Event[];
        return list.some((e) => e.reason === 'SCOPE_MISSING') ? list : undefined;
      },
      "the traced agent's checks in the chain",
      { intervalMs: 200 },
    );
    assert.ok(events.every((e) => e.agent_id === 'traced-agent' && e.action === 'check'));
    assert.ok(events.some((e) => e.decision === 'ALLOW' && e.reason === 'ALLOWED'));
  });
});
