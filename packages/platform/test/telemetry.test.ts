import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import { context, propagation, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import {
  AggregationTemporality,
  DataPointType,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import {
  cloudEventHeaders,
  currentTraceIds,
  extractTraceContext,
  getMeter,
  METRIC_NAMES,
  observeBatch,
  otelExportConfigured,
  parseCloudEventHeaders,
  SpanKind,
  startTelemetry,
  withSpan,
} from '../src';

describe('otelExportConfigured', () => {
  it('is false unless an endpoint or exporter is configured', () => {
    assert.equal(otelExportConfigured({}), false);
    assert.equal(
      otelExportConfigured({ OTEL_TRACES_EXPORTER: 'none', OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }),
      false,
    );
    assert.equal(otelExportConfigured({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }), true);
    assert.equal(otelExportConfigured({ OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://c:4318/v1/traces' }), true);
    assert.equal(otelExportConfigured({ OTEL_TRACES_EXPORTER: 'otlp' }), true);
    assert.equal(otelExportConfigured({ OTEL_SDK_DISABLED: 'true', OTEL_TRACES_EXPORTER: 'otlp' }), false);
  });
});

describe('startTelemetry', () => {
  it('propagate-only mode: no recording for new roots, but ids still flow through headers', async () => {
    const t = await startTelemetry({ serviceName: 'cheap', env: {} });
    try {
      assert.equal(t.mode, 'propagate-only');
      const headers = await withSpan('root', {}, (span) => {
        assert.equal(span.isRecording(), false);
        assert.ok(currentTraceIds(), 'a valid trace id exists');
        return cloudEventHeaders({ id: 'e1', type: 't', source: 's', subject: 'tenant', time: 0 });
      });
      assert.match(headers['traceparent']!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);

      // A sampled caller's decision is honoured (and recorded).
      const parent = extractTraceContext({
        traceparent: Buffer.from('00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01'),
      });
      await withSpan('child', { parentContext: parent }, (span) => {
        assert.equal(span.isRecording(), true);
        assert.equal(span.spanContext().traceId, '0af7651916cd43dd8448eb211c80319c');
      });
    } finally {
      await t.shutdown();
    }
  });

  it('injected mode: withSpan records kind, attributes, links, errors; telemetry can restart', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await startTelemetry({ serviceName: 'svc', spanExporter: exporter });
    await assert.rejects(startTelemetry({ serviceName: 'again' }), /already started/);
    try {
      assert.equal(t.mode, 'injected');
      const link = {
        context: { traceId: '0af7651916cd43dd8448eb211c80319c', spanId: 'b7ad6b7169203331', traceFlags: 1 },
      };
      await withSpan('outer', { kind: SpanKind.PRODUCER, attributes: { a: 1 }, links: [link] }, async () => {
        await assert.rejects(
          withSpan('inner', {}, () => {
            throw new Error('nope');
          }),
          /nope/,
        );
      });
      const spans = exporter.getFinishedSpans();
      const outer = spans.find((s) => s.name === 'outer')!;
      const inner = spans.find((s) => s.name === 'inner')!;
      assert.equal(outer.kind, SpanKind.PRODUCER);
      assert.equal(outer.attributes['a'], 1);
      assert.equal(outer.links[0]!.context.spanId, 'b7ad6b7169203331');
      assert.equal(inner.parentSpanContext?.spanId, outer.spanContext().spanId);
      assert.equal(inner.status.code, SpanStatusCode.ERROR);
      assert.equal(inner.events[0]!.name, 'exception');
    } finally {
      await t.shutdown();
    }
    const again = await startTelemetry({ serviceName: 'svc2', env: {} });
    await again.shutdown();
  });
});

describe('startTelemetry with OTEL_EXPORTER_OTLP_ENDPOINT', () => {
  it('exports spans over OTLP/HTTP to the configured collector (flushed on shutdown)', async () => {
    const requests: { url: string; bytes: number }[] = [];
    const collector = createServer((req, res) => {
      let bytes = 0;
      req.on('data', (d: Buffer) => (bytes += d.length));
      req.on('end', () => {
        requests.push({ url: req.url ?? '', bytes });
        res.setHeader('content-type', 'application/json');
        res.end('{}');
      });
    }).listen(0, '127.0.0.1');
    await new Promise((r) => collector.once('listening', r));
    const saved = { ...process.env };
    // The OTLP exporter and NodeSDK read process.env themselves.
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${(collector.address() as AddressInfo).port}`;
    process.env['OTEL_METRICS_EXPORTER'] = 'none';
    process.env['OTEL_LOGS_EXPORTER'] = 'none';
    try {
      const t = await startTelemetry({ serviceName: 'otlp-test' });
      assert.equal(t.mode, 'otlp');
      await withSpan('exported', {}, () => assert.ok(currentTraceIds()));
      await t.shutdown();
      const traces = requests.filter((r) => r.url === '/v1/traces');
      assert.equal(traces.length, 1);
      assert.ok(traces[0]!.bytes > 100);
    } finally {
      process.env = saved;
      collector.close();
    }
  });
});

describe('startTelemetry with an unreachable collector', () => {
  it('shutdown resolves and reports the failed flush (a clean stop stays a clean stop)', async () => {
    // A port that refuses connections: bind one, note it, close it.
    const probe = createServer().listen(0, '127.0.0.1');
    await new Promise((r) => probe.once('listening', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const saved = { ...process.env };
    process.env['OTEL_EXPORTER_OTLP_ENDPOINT'] = `http://127.0.0.1:${port}`;
    process.env['OTEL_EXPORTER_OTLP_TIMEOUT'] = '2000';
    process.env['OTEL_METRICS_EXPORTER'] = 'none';
    process.env['OTEL_LOGS_EXPORTER'] = 'none';
    const errors: unknown[] = [];
    try {
      const t = await startTelemetry({ serviceName: 'otlp-down', onFlushError: (err) => errors.push(err) });
      assert.equal(t.mode, 'otlp');
      await withSpan('lost', {}, () => assert.ok(currentTraceIds()));
      await t.shutdown(); // must not reject
      assert.equal(errors.length, 1, 'the failed flush is reported once');
      // Telemetry can start again after a failed flush (the globals were released).
      const again = await startTelemetry({ serviceName: 'after', env: {} });
      await again.shutdown();
    } finally {
      process.env = saved;
    }
  });
});

describe('CloudEvents headers', () => {
  it('carry the binary-mode attributes and the active trace context, and parse back', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await startTelemetry({ serviceName: 'svc', spanExporter: exporter });
    try {
      const { headers, ids } = await withSpan('publish', { kind: SpanKind.PRODUCER }, (span) => ({
        headers: cloudEventHeaders({
          id: 'evt-1',
          type: 'authority.v1.DecisionEvent',
          source: 'authority/enforcer',
          subject: 'tenant-a',
          time: new Date('2026-01-02T03:04:05.000Z'),
        }),
        ids: span.spanContext(),
      }));
      assert.equal(headers['ce_specversion'], '1.0');
      assert.equal(headers['content-type'], 'application/json');
      assert.equal(headers['ce_time'], '2026-01-02T03:04:05.000Z');
      assert.equal(headers['traceparent'], `00-${ids.traceId}-${ids.spanId}-01`);
      const asBuffers = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, Buffer.from(v)]));
      assert.deepEqual(parseCloudEventHeaders(asBuffers), {
        specversion: '1.0',
        id: 'evt-1',
        type: 'authority.v1.DecisionEvent',
        source: 'authority/enforcer',
        time: '2026-01-02T03:04:05.000Z',
        subject: 'tenant-a',
        contentType: 'application/json',
      });
      const extracted = trace.getSpanContext(extractTraceContext(asBuffers));
      assert.equal(extracted?.traceId, ids.traceId);
      assert.equal(extracted?.spanId, ids.spanId);
      assert.equal(extracted?.isRemote, true);
      // epoch seconds are accepted too
      assert.equal(
        cloudEventHeaders({ id: 'x', type: 't', source: 's', subject: 'u', time: 1 })['ce_time'],
        '1970-01-01T00:00:01.000Z',
      );
      assert.ok(propagation.fields().includes('traceparent'));
      void context;
    } finally {
      await t.shutdown();
    }
  });
});

describe('metrics', () => {
  it("getMeter is the global provider's meter once telemetry started (readers see its instruments)", async () => {
    const { InMemoryMetricExporter, PeriodicExportingMetricReader, AggregationTemporality } = await import(
      '@opentelemetry/sdk-metrics'
    );
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000,
    });
    const t = await startTelemetry({ serviceName: 'm', env: {}, metricReaders: [reader] });
    try {
      getMeter('@authority/test').createCounter(METRIC_NAMES.enforcerDecisions).add(2, { decision: 'DENY' });
      const { resourceMetrics } = await reader.collect();
      const m = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((x) => x.descriptor.name === METRIC_NAMES.enforcerDecisions);
      assert.equal(m?.dataPoints[0]?.value, 2);
    } finally {
      await t.shutdown();
    }
  });

  it('docs/operations.md documents every metric name in its Telemetry section', () => {
    // dist/test/telemetry.test.js → repository root
    const doc = readFileSync(join(__dirname, '..', '..', '..', '..', 'docs', 'operations.md'), 'utf8');
    const section = doc.slice(doc.indexOf('## Telemetry'));
    assert.ok(section.startsWith('## Telemetry'), 'a Telemetry section');
    for (const name of Object.values(METRIC_NAMES)) assert.ok(section.includes(`\`${name}\``), `${name} documented`);
  });
});

describe('observeBatch', () => {
  it('one callback reads gauges and counters at each collection, until unregistered', async () => {
    const reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000, // read on demand with collect()
    });
    const provider = new MeterProvider({ readers: [reader] });
    let size = 3;
    let calls = 0;
    const stop = observeBatch(
      provider.getMeter('t'),
      {
        size: { name: 't.size', description: 'entries', unit: '{entry}' },
        evicted: { name: 't.evicted', description: 'evictions', unit: '{entry}', counter: true },
      },
      (record) => {
        calls++;
        record('size', size, { shard: 'a' });
        record('evicted', 10 * size);
      },
    );
    const read = async () => {
      const { resourceMetrics } = await reader.collect();
      return new Map(resourceMetrics.scopeMetrics.flatMap((s) => s.metrics).map((m) => [m.descriptor.name, m]));
    };
    const first = await read();
    assert.equal(first.get('t.size')?.dataPointType, DataPointType.GAUGE);
    assert.deepEqual(
      first.get('t.size')?.dataPoints.map((p) => [p.attributes, p.value]),
      [[{ shard: 'a' }, 3]],
    );
    assert.equal(first.get('t.evicted')?.dataPointType, DataPointType.SUM);
    assert.equal(first.get('t.evicted')?.dataPoints[0]?.value, 30);
    assert.equal(first.get('t.evicted')?.descriptor.unit, '{entry}');
    size = 4;
    assert.equal((await read()).get('t.size')?.dataPoints[0]?.value, 4);
    assert.equal(calls, 2, 'one callback per collection for all instruments');
    stop();
    await read();
    assert.equal(calls, 2, 'not read after unregistering');
    await provider.shutdown();
  });
});
