// The body of an enforcer child process (test/enforcer-process.ts for tests, bench/lib/enforcer-proc.ts
// for the benchmarks): an enforcer configured from the environment like main.ts (port 0), printing
// `{"port":N}` on stdout once serving, answering one-word commands on stdin with one JSON line each,
// and stopping gracefully on SIGTERM or when stdin closes.
import { createLogger, loadConfig, startTelemetry } from '@authority/platform';
import { enforcerConfigChecks, enforcerConfigSchema, startEnforcer, type EnforcerHandle } from '../src/index';

export interface EnforcerChildOptions {
  /** The telemetry service name. */
  serviceName: string;
  /** The logger's service name (default: the config's AUTHORITY_SERVICE_NAME). */
  logService?: string;
  metricReaders?: Parameters<typeof startTelemetry>[0]['metricReaders'];
  /** A command's name → the object printed as one JSON line when that word arrives on stdin. */
  commands: Record<string, (enforcer: EnforcerHandle) => unknown>;
}

export function runEnforcerChild(opts: EnforcerChildOptions): void {
  main(opts).catch((err: unknown) => {
    process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
    process.exit(1);
  });
}

async function main(opts: EnforcerChildOptions): Promise<void> {
  const config = { ...loadConfig(enforcerConfigSchema, process.env, enforcerConfigChecks()), AUTHORITY_GRPC_PORT: 0 };
  const telemetry = await startTelemetry({
    serviceName: opts.serviceName,
    env: {},
    ...(opts.metricReaders ? { metricReaders: opts.metricReaders } : {}),
  });
  const logger = createLogger({
    service: opts.logService ?? config.AUTHORITY_SERVICE_NAME,
    level: config.AUTHORITY_LOG_LEVEL,
  });
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
      const command = opts.commands[line];
      if (command === undefined) continue;
      void Promise.resolve(command(enforcer)).then((answer) => {
        process.stdout.write(`${JSON.stringify(answer)}\n`);
      });
    }
  });
  process.stdin.resume();
}
