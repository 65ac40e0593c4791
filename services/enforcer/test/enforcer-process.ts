// The enforcer as a child process, for tests that need their own heap (node flags such as
// --max-old-space-size) or must survive what would kill a process. Configured from the
// environment like main.ts (the port is always ephemeral); prints `{"port":N}` once serving.
// Commands on stdin, one per line, each answered by one JSON line on stdout:
//   stats  →  {"stats": {"metrics": {<metric name>: <value>}, "memory": process.memoryUsage()}}
//             the enforcer's metrics as collected from its OpenTelemetry meter (gauges and
//             counters without attributes; a metric with attributes is summed over them).
// Stops (gracefully) on SIGTERM or when stdin closes. Started by spawnEnforcer (process.ts).
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { runEnforcerChild } from './child-main';

/** A pull-only metric reader: collected when asked. */
class PullMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

const reader = new PullMetricReader();

async function collect(): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const scope of resourceMetrics.scopeMetrics) {
    for (const metric of scope.metrics) {
      let sum = 0;
      for (const point of metric.dataPoints as { value: unknown }[]) {
        if (typeof point.value === 'number') sum += point.value;
      }
      out[metric.descriptor.name] = sum;
    }
  }
  return out;
}

runEnforcerChild({
  serviceName: 'enforcer-process',
  metricReaders: [reader],
  commands: { stats: async () => ({ stats: { metrics: await collect(), memory: process.memoryUsage() } }) },
});
