// The enforcer as a child process, for tests that need their own heap (node flags such as
// --max-old-space-size) or must survive what would kill a process. Configured from the
// environment like main.ts (the port is always ephemeral); prints `{"port":N}` once serving.
// Commands on stdin, one per line, each answered by one JSON line on stdout:
//   stats  →  {"stats": {"metrics": {<metric name>: <value>}, "memory": process.memoryUsage()}}
//             the enforcer's metrics as collected from its OpenTelemetry meter (gauges and
//             counters without attributes; a metric with attributes is summed over them).
// Stops (gracefully) on SIGTERM or when stdin closes. Started by spawnEnforcer (process.ts).
import { createLogger, loadConfig, startTelemetry } from '@authority/platform';
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { enforcerConfigChecks, enforcerConfigSchema, startEnforcer } from '../src/index';

/** A pull-only metric reader: collected when asked. */
class PullMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

async function collect(reader: PullMetricReader): Promise<Record<string, number>> {
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

async function main(): Promise<void> {
  const config = { ...loadConfig(enforcerConfigSchema, process.env, enforcerConfigChecks()), AUTHORITY_GRPC_PORT: 0 };
  const reader = new PullMetricReader();
  const telemetry = await startTelemetry({ serviceName: 'enforcer-process', env: {}, metricReaders: [reader] });
  const logger = createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
  const enforcer = await startEnforcer(config, { logger });
  await enforcer.ready;
  process.stdout.write(`${JSON.stringify({ port: enforcer.port })}\n`);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await enforcer.stop();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
  let pending = '';
  process.stdin.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line !== 'stats') continue;
      void collect(reader).then((metrics) => {
        process.stdout.write(`${JSON.stringify({ stats: { metrics, memory: process.memoryUsage() } })}\n`);
      });
    }
  });
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
