// The auditor's per-record spans (BatchTracing) and chain gauges (observeChains), without Kafka or
// MongoDB: a hand-made batch, an in-memory span exporter, an in-memory metric reader.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { extractTraceContext, startTelemetry, withSpan } from '@authority/platform';
import { BatchTracing, observeChains, type EntryDoc, type TenantState } from '../../src/index';
import { admitted, event } from './fixtures';

const T0 = '0af7651916cd43dd8448eb211c80319c';
const T1 = '4bf92f3577b34da6a3ce929d0e0e4736';
const T2 = 'a3ce929d0e0e47364bf92f3577b34da6';

describe('BatchTracing', () => {
  it('one CONSUMER span per traced record (parent: its producer), a CLIENT span per insert, outcomes', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await startTelemetry({ serviceName: 'auditor-unit', spanExporter: exporter });
    try {
      const headers = [
        { traceparent: Buffer.from(`00-${T0}-b7ad6b7169203331-01`), ce_id: Buffer.from('a-0') },
        { traceparent: Buffer.from(`00-${T1}-b7ad6b7169203332-00`) }, // not sampled: not traced
        { traceparent: Buffer.from(`00-${T2}-b7ad6b7169203333-01`) },
      ];
      const messages = headers.map((h, i) => ({
        topic: 'p.audit',
        partition: 2,
        key: Buffer.from('a'),
        value: Buffer.from('{}'),
        headers: h,
        offset: String(40 + i),
        timestamp: '0',
      }));
      const batch = { topic: 'p.audit', partition: 2, messages };
      const ev0 = admitted(event('a', 0));
      const ev1 = admitted(event('a', 1));
      const docs = [{ seq: 7 }, { seq: 8 }] as EntryDoc[];
      const base = Date.now() + 1_000; // insert times (epoch ms), after the record spans started
      await withSpan('process p.audit', { kind: SpanKind.CONSUMER }, async (batchSpan) => {
        const tracing = new BatchTracing({
          tracer: trace.getTracer('test'),
          batch,
          parents: messages.map((m) => extractTraceContext(m.headers)),
          batchSpan,
          groupId: 'authority-auditor',
          dbName: 'auditor',
          collection: 'entries',
        });
        assert.equal(tracing.idle, false);
        tracing.admitted(0, ev0);
        tracing.admitted(1, ev1);
        tracing.refused(2, 'record key does not match');
        const dup = Object.assign(new Error('E11000 duplicate key'), { code: 11000 });
        tracing.inserted([ev0, ev1], docs, base + 0.5, base + 2, dup); // conflict: retried
        tracing.inserted([ev0, ev1], docs, base + 10, base + 13.25);
        tracing.finish();
      });
      const all = exporter.getFinishedSpans();
      const batchSpan = all.find((s) => s.name === 'process p.audit' && s.parentSpanContext === undefined)!;
      const record = all.find((s) => s.spanContext().traceId === T0 && s.kind === SpanKind.CONSUMER)!;
      assert.equal(record.parentSpanContext?.spanId, 'b7ad6b7169203331', 'parent: the producer context');
      assert.equal(record.links[0]?.context.spanId, batchSpan.spanContext().spanId, 'linked to the batch span');
      assert.equal(record.attributes['messaging.destination.partition.id'], '2');
      assert.equal(record.attributes['messaging.kafka.offset'], 40);
      assert.equal(record.attributes['messaging.message.id'], 'a-0');
      assert.equal(record.attributes['messaging.consumer.group.name'], 'authority-auditor');
      assert.equal(record.attributes['authority.audit.outcome'], 'appended');
      assert.equal(record.attributes['authority.audit.seq'], 7);
      const inserts = all.filter((s) => s.name === 'mongodb insert entries');
      assert.equal(inserts.length, 2, 'one per insertMany of the traced record');
      for (const s of inserts) {
        assert.equal(s.kind, SpanKind.CLIENT);
        assert.equal(s.parentSpanContext?.spanId, record.spanContext().spanId);
        assert.equal(s.attributes['db.system.name'], 'mongodb');
        assert.equal(s.attributes['db.namespace'], 'auditor');
        assert.equal(s.attributes['db.operation.batch.size'], 2);
      }
      const [failed, ok] = inserts.sort(
        (a, b) => a.startTime[1] - b.startTime[1] + (a.startTime[0] - b.startTime[0]) * 1e9,
      );
      assert.equal(failed!.status.code, SpanStatusCode.ERROR);
      assert.equal(failed!.attributes['error.type'], '11000');
      assert.equal(ok!.status.code, SpanStatusCode.UNSET);
      const ms = (t: [number, number]) => t[0] * 1e3 + t[1] / 1e6;
      assert.ok(Math.abs(ms(ok!.startTime) - (base + 10)) < 0.01, 'the insert’s own start time');
      assert.ok(Math.abs(ms(ok!.endTime) - (base + 13.25)) < 0.01, 'the insert’s own end time');
      assert.deepEqual(record.endTime, ok!.endTime, 'the record is done when its insert returned');
      assert.equal(all.filter((s) => s.spanContext().traceId === T1).length, 0, 'unsampled: nothing recorded');
      const refused = all.find((s) => s.spanContext().traceId === T2)!;
      assert.equal(refused.attributes['authority.audit.outcome'], 'rejected');
    } finally {
      await t.shutdown();
    }
  });
});

describe('observeChains', () => {
  it('chain length, checkpoint age and pending entries per tenant, from the cached heads', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000,
    });
    const provider = new MeterProvider({ readers: [reader] });
    const states = [
      { tenant: 'a', head: { seq: 5, hash: Buffer.alloc(32) }, lastCheckpointSeq: 3, lastCheckpointTime: 1_000 },
      { tenant: 'b', head: { seq: 2, hash: Buffer.alloc(32) }, lastCheckpointSeq: 0 },
    ] as TenantState[];
    let observed = 0;
    const knownStates = () => {
      observed++;
      return states;
    };
    const stop = observeChains(provider.getMeter('t'), { knownStates }, () => new Date(1_010_000));
    const read = async () => {
      const { resourceMetrics } = await reader.collect();
      const out = new Map<string, Map<string, number>>();
      for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics))
        out.set(
          m.descriptor.name,
          new Map(m.dataPoints.map((p) => [String(p.attributes['authority.tenant']), p.value as number])),
        );
      return out;
    };
    const m = await read();
    assert.deepEqual(
      [...m.get('authority.audit.chain.length')!],
      [
        ['a', 5],
        ['b', 2],
      ],
    );
    assert.deepEqual(
      [...m.get('authority.audit.checkpoint.pending')!],
      [
        ['a', 2],
        ['b', 2],
      ],
    );
    assert.deepEqual([...m.get('authority.audit.checkpoint.age')!], [['a', 10]], 'no checkpoint yet: no age');
    stop();
    await read();
    assert.equal(observed, 1, 'not observed once unregistered');
    await provider.shutdown();
  });
});
