// Child process for the gRPC benchmarks: an enforcer configured from the environment (like main.ts,
// port 0), printing `{"port":N}` on stdout once serving; stops on SIGTERM or when stdin closes.
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { createLogger, loadConfig, startTelemetry } from '@authority/platform';
import { enforcerConfigChecks, enforcerConfigSchema, startEnforcer } from '../../src/index';

async function main(): Promise<void> {
  const config = { ...loadConfig(enforcerConfigSchema, process.env, enforcerConfigChecks()), AUTHORITY_GRPC_PORT: 0 };
  const telemetry = await startTelemetry({ serviceName: 'enforcer-bench', env: {} });
  const logger = createLogger({ service: 'enforcer-bench', level: config.AUTHORITY_LOG_LEVEL });
  const enforcer = await startEnforcer(config, { logger });
  await enforcer.ready;
  process.stdout.write(`${JSON.stringify({ port: enforcer.port })}\n`);
  const stop = async () => {
    await enforcer.stop();
    await telemetry.shutdown();
    process.exit(0);
  };
  process.once('SIGTERM', () => void stop());
  process.stdin.on('end', () => void stop());
  // Event-loop delay of the serving thread (1 ms resolution): a line "eld" on stdin answers one JSON
  // line with its percentiles since the previous "eld", then starts over.
  const eld = monitorEventLoopDelay({ resolution: 1 });
  eld.enable();
  const ms = (ns: number) => Math.round(ns / 1e4) / 100;
  // A line "mem" on stdin: full GC, then one JSON line with this process's memory and state sizes.
  let pending = '';
  process.stdin.on('data', (d: Buffer) => {
    pending += d.toString();
    let nl: number;
    while ((nl = pending.indexOf('\n')) >= 0) {
      const line = pending.slice(0, nl).trim();
      pending = pending.slice(nl + 1);
      if (line === 'eld') {
        process.stdout.write(
          `${JSON.stringify({ eld: { p50_ms: ms(eld.percentile(50)), p99_ms: ms(eld.percentile(99)), max_ms: ms(eld.max), mean_ms: ms(eld.mean) } })}\n`,
        );
        eld.reset();
        continue;
      }
      if (line !== 'mem') continue;
      setFlagsFromString('--expose-gc');
      const gc = runInNewContext('gc') as (opts?: { type: 'major'; execution: 'sync' }) => void;
      gc();
      gc();
      const m = process.memoryUsage();
      process.stdout.write(
        `${JSON.stringify({ mem: { rss: m.rss, heapUsed: m.heapUsed, heapTotal: m.heapTotal, external: m.external, arrayBuffers: m.arrayBuffers, memo: enforcer.memo.size, memoBytes: enforcer.memo.bytes, revocations: enforcer.views.revocations.size, publisher: enforcer.producer?.stats ?? enforcer.bus.publisher.stats } })}\n`,
      );
    }
  });
  process.stdin.resume();
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
