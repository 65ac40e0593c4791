// Tracing and metrics end to end (issue 6), over the REAL stack (issuer, policy service, two
// enforcers, auditor) against the real Kafka broker and MongoDB-wire server, with every span of
// every service recorded by an in-memory exporter and the metrics read by an in-memory reader:
//
//   client span ─▶ enforcer SERVER span (gRPC metadata)
//                    └─ send <prefix>audit           PRODUCER (platform's publish, Kafka headers)
//                         └─ process <prefix>audit   CONSUMER (auditor, one per record)
//                              └─ mongodb insert entries   CLIENT (the write that chained it)
//
// and the stored audit entry's traceId is the trace's id. Likewise for a Mint (issuer) and a
// PutPolicy (policy service). An unsampled caller (what propagate-only mode sees) records nothing
// but its trace id still reaches the stored entry. The auditor's chain-length gauge equals the
// number of entries stored for the tenant; consumer lag and checkpoint age are exported.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { SpanKind, withSpan } from '@authority/platform';
import type { CheckResponse__Output, QueryEventsResponse__Output } from '@authority/proto';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  PeriodicExportingMetricReader,
  type MetricData,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { MongoClient } from 'mongodb';
import { mintEnvelope, requireInfra, rpc, startStack, type Stack, type StackTenant } from '../src/stack';
import { eventually } from '@authority/test-helpers';

const spans = new InMemorySpanExporter();
const metricReader = new PeriodicExportingMetricReader({
  exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
  exportIntervalMillis: 3_600_000, // read on demand with collect()
});
let stack: Stack;
let tenant: StackTenant;
let envelopeToken: string;

/** A CLIENT span of the test itself, and the traceparent that carries it in the call's metadata. */
async function clientSpan(name: string): Promise<{ traceId: string; spanId: string; traceparent: string }> {
  return withSpan(name, { kind: SpanKind.CLIENT }, (span) => {
    const { traceId, spanId } = span.spanContext();
    return { traceId, spanId, traceparent: `00-${traceId}-${spanId}-01` };
  });
}

/** The auditor's stored entry of event `eventId` (polls QueryEvents until the auditor chained it). */
async function storedEntry(action: string, match: (e: { eventId: string; traceId: string }) => boolean) {
  return eventually(async () => {
    let pageToken = '';
    do {
      const page = await rpc<QueryEventsResponse__Output>(
        stack.auditor!.client,
        'QueryEvents',
        { tenant: tenant.tenant, action, pageSize: 1000, pageToken },
        tenant.auditor,
      );
      const hit = page.entries.find((e) => e.event && match(e.event));
      if (hit) return hit;
      pageToken = page.nextPageToken;
    } while (pageToken !== '');
    return undefined;
  }, `the auditor storing a ${action} event`);
}

function traceSpans(traceId: string): ReadableSpan[] {
  return spans.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
}

/** True when `span` descends from the span with id `ancestorId` within `all`. */
function descends(span: ReadableSpan, ancestorId: string, all: ReadableSpan[]): boolean {
  const byId = new Map(all.map((s) => [s.spanContext().spanId, s]));
  let parentId = span.parentSpanContext?.spanId;
  for (let hops = 0; parentId !== undefined && hops < 50; hops++) {
    if (parentId === ancestorId) return true;
    parentId = byId.get(parentId)?.parentSpanContext?.spanId;
  }
  return false;
}

/**
 * Waits for the trace's consumer and MongoDB spans (they end when the insert returns, which may be
 * a moment after QueryEvents already sees the entry) and returns the chain server → … → insert.
 */
async function auditPath(traceId: string, serverName: string, opts: { producer: boolean }) {
  const audit = stack.topics.audit;
  return eventually(() => {
    const all = traceSpans(traceId);
    const server = all.find((s) => s.kind === SpanKind.SERVER && s.name === serverName);
    const consumer = all.find((s) => s.kind === SpanKind.CONSUMER && s.name === `process ${audit}`);
    const insert = all.find((s) => s.kind === SpanKind.CLIENT && s.name === 'mongodb insert entries');
    const producer = all.find(
      (s) =>
        s.kind === SpanKind.PRODUCER &&
        s.name === `send ${audit}` &&
        server &&
        descends(s, server.spanContext().spanId, all),
    );
    if (!server || !consumer || !insert || (opts.producer && !producer)) return undefined;
    return { all, server, producer, consumer, insert };
  }, `the spans of trace ${traceId} (server ${serverName})`);
}

function assertConsumerAndInsert(consumer: ReadableSpan, insert: ReadableSpan, eventId: string): void {
  assert.equal(consumer.attributes['messaging.system'], 'kafka');
  assert.equal(consumer.attributes['messaging.operation.type'], 'process');
  assert.equal(consumer.attributes['messaging.destination.name'], stack.topics.audit);
  assert.equal(consumer.attributes['authority.tenant'], tenant.tenant);
  assert.equal(consumer.attributes['authority.audit.event_id'], eventId);
  assert.equal(consumer.attributes['authority.audit.outcome'], 'appended');
  assert.equal(typeof consumer.attributes['authority.audit.seq'], 'number');
  assert.equal(consumer.links.length, 1, 'the record span links to its batch span');
  assert.equal(
    insert.parentSpanContext?.spanId,
    consumer.spanContext().spanId,
    'the insert is a child of the record span',
  );
  assert.equal(insert.attributes['db.system.name'], 'mongodb');
  assert.equal(insert.attributes['db.collection.name'], 'entries');
  assert.equal(insert.attributes['db.operation.name'], 'insert');
  assert.equal(insert.attributes['db.namespace'], stack.databases.auditor);
}

async function metrics(): Promise<MetricData[]> {
  const { resourceMetrics } = await metricReader.collect();
  return resourceMetrics.scopeMetrics.flatMap((s) => s.metrics);
}

function points(all: MetricData[], name: string) {
  return all.find((m) => m.descriptor.name === name)?.dataPoints ?? [];
}

before(async () => {
  requireInfra();
  stack = await startStack({
    enforcers: 2,
    withPolicy: true,
    withAuditor: true,
    telemetry: { spanExporter: spans, metricReaders: [metricReader] },
    // Enforcer 0 publishes its audit events with platform's publish (PRODUCER spans); enforcer 1
    // with its own producer thread (the default).
    enforcerAudit: ['platform', 'thread'],
    auditorEnv: {
      AUTHORITY_AUDITOR_GROUP_ID: `e2e-auditor-${randomBytes(4).toString('hex')}`,
      AUTHORITY_CHECKPOINT_INTERVAL: '1s',
    },
  });
  tenant = await stack.createTenant();
  for (const e of stack.enforcers) {
    await eventually(
      () => (e.handle.views.keys.authenticate(tenant.checker) ? true : undefined),
      `${e.id} knowing the tenant's checker`,
    );
  }
  const minted = await mintEnvelope(
    stack,
    tenant,
    'advisor',
    { scopes: ['records:read'], resources: ['slos://records/*'] },
    { ttlSeconds: 3600 },
  );
  envelopeToken = minted.envelope!.token;
});

after(async () => {
  await stack?.stop();
});

const read = () => ({ token: envelopeToken, requiredScope: 'records:read', resource: 'slos://records/transcript-1' });

/** A Check on enforcer `i` with `traceparent`; retried while the enforcer has not seen the key yet. */
async function allowedCheck(i: number, traceparent: string): Promise<CheckResponse__Output> {
  return eventually(async () => {
    const r = await rpc<CheckResponse__Output>(stack.enforcers[i]!.client, 'Check', read(), tenant.checker, {
      traceparent,
    });
    return r.decision === 'ALLOW' ? r : undefined;
  }, `enforcer ${i} allowing the read`);
}

describe('one trace from a client Check to the auditor’s MongoDB write', { timeout: 180_000 }, () => {
  test('client → enforcer SERVER → PRODUCER send audit → CONSUMER process audit → mongodb insert; stored traceId = trace id', async () => {
    const client = await clientSpan('agent Check');
    const response = await allowedCheck(0, client.traceparent);
    const entry = await storedEntry('check', (e) => e.eventId === response.decisionId);
    assert.equal(entry.event!.traceId, client.traceId, 'the stored entry carries the trace id');

    const { all, server, producer, consumer, insert } = await auditPath(
      client.traceId,
      'authority.v1.EnforcerService/Check',
      { producer: true },
    );
    assert.equal(server.parentSpanContext?.spanId, client.spanId, "the server span's parent is the client span");
    assert.equal(entry.event!.spanId, server.spanContext().spanId, 'the event names the enforcer span');
    assert.ok(producer);
    assert.ok(descends(producer, server.spanContext().spanId, all), 'the PRODUCER span descends from the SERVER span');
    assert.equal(producer.attributes['messaging.system'], 'kafka');
    assert.equal(producer.attributes['messaging.destination.name'], stack.topics.audit);
    assert.equal(producer.attributes['messaging.operation.type'], 'send');
    assert.equal(producer.attributes['messaging.message.id'], response.decisionId);
    assert.ok(producer.ended && producer.status.code !== 2, 'ended at the ack, not in error');
    assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId, 'CONSUMER parent = PRODUCER');
    assertConsumerAndInsert(consumer, insert, response.decisionId);
    assert.equal(consumer.attributes['authority.audit.seq'], Number(entry.seq));
    // Exactly one record span and one insert span for this event.
    assert.equal(
      all.filter((s) => s.name === `process ${stack.topics.audit}` && s.kind === SpanKind.CONSUMER).length,
      1,
    );
  });

  test("the enforcer's own producer thread: SERVER → PRODUCER (started on the gRPC thread, ended at the ack) → CONSUMER → insert", async () => {
    const client = await clientSpan('agent Check (thread)');
    const response = await allowedCheck(1, client.traceparent);
    const entry = await storedEntry('check', (e) => e.eventId === response.decisionId);
    assert.equal(entry.event!.traceId, client.traceId);
    const { all, server, producer, consumer, insert } = await auditPath(
      client.traceId,
      'authority.v1.EnforcerService/Check',
      { producer: true },
    );
    assert.ok(producer);
    assert.ok(descends(producer, server.spanContext().spanId, all), 'the PRODUCER span descends from the SERVER span');
    assert.equal(producer.attributes['messaging.destination.name'], stack.topics.audit);
    assert.ok(producer.ended && producer.status.code !== 2, 'ended at the ack, not in error');
    assert.equal(consumer.parentSpanContext?.spanId, producer.spanContext().spanId, 'CONSUMER parent = PRODUCER');
    assertConsumerAndInsert(consumer, insert, response.decisionId);
  });

  test('an unsampled caller (propagate-only): nothing is recorded, yet its trace id reaches the stored entry', async () => {
    const traceId = randomBytes(16).toString('hex');
    const response = await allowedCheck(0, `00-${traceId}-${randomBytes(8).toString('hex')}-00`);
    const entry = await storedEntry('check', (e) => e.eventId === response.decisionId);
    assert.equal(entry.event!.traceId, traceId, 'same trace id end to end');
    assert.deepEqual(traceSpans(traceId), [], 'non-recording spans only');
  });

  test("a Mint's and a PutPolicy's audit entries carry their call's trace id, through produce and consume spans", async () => {
    const mintCall = await clientSpan('admin Mint');
    await mintEnvelope(
      stack,
      tenant,
      'registrar',
      { scopes: ['records:read'], resources: ['slos://records/*'] },
      {},
      { traceparent: mintCall.traceparent },
    );
    const minted = await storedEntry('envelope.mint', (e) => e.traceId === mintCall.traceId);
    assert.equal(minted.event!.actor?.agentId, 'registrar');
    const mint = await auditPath(mintCall.traceId, 'authority.v1.IssuerService/Mint', { producer: true });
    assert.equal(mint.server.parentSpanContext?.spanId, mintCall.spanId);
    assert.equal(mint.consumer.parentSpanContext?.spanId, mint.producer!.spanContext().spanId);
    assertConsumerAndInsert(mint.consumer, mint.insert, minted.event!.eventId);

    const putCall = await clientSpan('admin PutPolicy');
    const yaml = [
      'organization: E2E',
      'version: "1"',
      'agents:',
      '  advisor:',
      '    scopes: ["records:read"]',
      '    resources: ["slos://records/*"]',
      '',
    ].join('\n');
    await rpc(stack.policy!.client, 'PutPolicy', { tenant: tenant.tenant, yaml, expectedVersion: 0 }, tenant.admin, {
      traceparent: putCall.traceparent,
    });
    const put = await storedEntry('policy.put', (e) => e.traceId === putCall.traceId);
    const policy = await auditPath(putCall.traceId, 'authority.v1.PolicyService/PutPolicy', { producer: true });
    assert.equal(policy.consumer.parentSpanContext?.spanId, policy.producer!.spanContext().spanId);
    assertConsumerAndInsert(policy.consumer, policy.insert, put.event!.eventId);
  });
});

describe('metrics', { timeout: 120_000 }, () => {
  test('chain length equals the entries stored for the tenant; consumer lag and checkpoint age are exported', async () => {
    const mongo = new MongoClient(requireInfra().mongo);
    await mongo.connect();
    try {
      // The auditor keeps each tenant's entries in `entries.<tenant>` (docs/operations.md, storage layout).
      const entries = mongo.db(stack.databases.auditor).collection(`entries.${tenant.tenant}`);
      // Every event of the tenant was acknowledged before its call returned; once the gauge and the
      // store agree, they agree on all of them.
      const { length, stored } = await eventually(async () => {
        const stored = await entries.countDocuments({ tenant: tenant.tenant });
        const point = points(await metrics(), 'authority.audit.chain.length').find(
          (p) => p.attributes['authority.tenant'] === tenant.tenant,
        );
        return point && point.value === stored ? { length: point.value, stored } : undefined;
      }, 'the chain-length gauge matching the stored entries');
      assert.ok(stored >= 8, `entries stored: ${stored}`);
      assert.equal(length, stored);

      const all = await eventually(async () => {
        const m = await metrics();
        const age = points(m, 'authority.audit.checkpoint.age').find(
          (p) => p.attributes['authority.tenant'] === tenant.tenant,
        );
        return age ? m : undefined;
      }, 'a checkpoint of the tenant (checkpoint age)');
      const age = points(all, 'authority.audit.checkpoint.age').find(
        (p) => p.attributes['authority.tenant'] === tenant.tenant,
      )!;
      assert.ok((age.value as number) >= 0);
      const pending = points(all, 'authority.audit.checkpoint.pending').find(
        (p) => p.attributes['authority.tenant'] === tenant.tenant,
      )!;
      assert.ok((pending.value as number) >= 0 && (pending.value as number) <= stored);

      // The auditor's consumer has processed everything: lag 0 on every audit partition.
      const lag = await eventually(async () => {
        const audit = points(await metrics(), 'authority.kafka.consumer.lag').filter(
          (p) => p.attributes['messaging.destination.name'] === stack.topics.audit,
        );
        return audit.length > 0 && audit.every((p) => p.value === 0) ? audit : undefined;
      }, 'the auditor caught up (lag 0)');
      for (const p of lag) {
        assert.match(String(p.attributes['messaging.consumer.group.name']), /^e2e-auditor-/);
        assert.match(String(p.attributes['messaging.destination.partition.id']), /^\d+$/);
      }
      // The auditor's state views (catch-up consumers of the keys topic) export their lag too.
      assert.ok(
        points(await metrics(), 'authority.kafka.consumer.lag').some(
          (p) => p.attributes['messaging.destination.name'] === stack.topics.keys,
        ),
      );
    } finally {
      await mongo.close();
    }
  });

  test('the enforcer counts decisions by result and reason, times checks, and reports the revocation-feed age', async () => {
    const before = points(await metrics(), 'authority.enforcer.decisions').find(
      (p) => p.attributes['decision'] === 'DENY' && p.attributes['reason'] === 'SCOPE_MISSING',
    );
    const denied = await rpc<CheckResponse__Output>(
      stack.enforcers[0]!.client,
      'Check',
      { ...read(), requiredScope: 'records:write' },
      tenant.checker,
    );
    assert.equal(denied.reason, 'SCOPE_MISSING');
    const m = await metrics();
    const after = points(m, 'authority.enforcer.decisions').find(
      (p) => p.attributes['decision'] === 'DENY' && p.attributes['reason'] === 'SCOPE_MISSING',
    );
    assert.equal(after?.value, ((before?.value as number | undefined) ?? 0) + 1, 'one more SCOPE_MISSING deny');
    assert.ok(
      points(m, 'authority.enforcer.decisions').some(
        (p) => p.attributes['decision'] === 'ALLOW' && (p.value as number) >= 1,
      ),
    );
    const durations = points(m, 'authority.enforcer.check.duration').filter((p) => p.attributes['method'] === 'Check');
    assert.ok(durations.length > 0 && durations.every((p) => (p.value as { count: number }).count >= 1));
    const staleness = points(m, 'authority.enforcer.revocation.staleness');
    assert.ok(staleness.length > 0 && staleness.every((p) => (p.value as number) >= 0));
  });
});
