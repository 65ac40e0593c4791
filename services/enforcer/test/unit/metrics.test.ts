// The decisions counter counts every decision of a call by (decision, reason), whatever order a
// BatchCheck's results come in (metrics.ts adds one run of equal pairs at a time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { METRIC_NAMES, startTelemetry } from '@authority/platform';
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { createEnforcerMetrics } from '../../src/metrics';

class TestMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

test('decisions are counted per (decision, reason), batches included', async () => {
  const reader = new TestMetricReader();
  const telemetry = await startTelemetry({ serviceName: 'metrics-test', env: {}, metricReaders: [reader] });
  try {
    const metrics = createEnforcerMetrics({ snapshot: () => ({ lastFetchAt: 0 }) } as never);
    const allow = { decision: 'ALLOW', reason: 'ALLOWED' };
    const scope = { decision: 'DENY', reason: 'SCOPE_MISSING' };
    metrics.record([allow, allow, scope, allow, scope, scope, scope], performance.now(), 'BatchCheck');
    metrics.record([allow], performance.now(), 'Check');
    metrics.record([], performance.now(), 'BatchCheck');
    const { resourceMetrics } = await reader.collect();
    const counts: Record<string, number> = {};
    for (const sm of resourceMetrics.scopeMetrics)
      for (const m of sm.metrics)
        if (m.descriptor.name === METRIC_NAMES.enforcerDecisions)
          for (const p of m.dataPoints)
            counts[`${String(p.attributes['decision'])}/${String(p.attributes['reason'])}`] = p.value as number;
    assert.deepEqual(counts, { 'ALLOW/ALLOWED': 4, 'DENY/SCOPE_MISSING': 4 });
  } finally {
    await telemetry.shutdown();
  }
});
