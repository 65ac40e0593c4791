// Shared bits of the enforcer benchmarks: machine info, percentiles, bounded loops, JSON lines.
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { bench } from '@authority/test-helpers';

export const { closedLoop, machine, note, percentiles, report, round } = bench;

/**
 * Runs `fn` repeatedly (synchronously, in chunks) for at most `maxMs` and at most `maxOps`
 * operations after `warmupOps`; returns operations per second.
 */
export function measureSync(
  fn: (i: number) => void,
  opts: { maxMs: number; maxOps: number; warmupOps?: number },
): { ops_per_sec: number; ops: number; ms: number } {
  for (let i = 0; i < (opts.warmupOps ?? 1000); i++) fn(i);
  const start = performance.now();
  let ops = 0;
  const chunk = 256;
  while (ops < opts.maxOps && performance.now() - start < opts.maxMs) {
    for (let k = 0; k < chunk && ops < opts.maxOps; k++) fn(ops++);
  }
  const ms = performance.now() - start;
  return { ops_per_sec: round((ops * 1000) / ms, 0), ops, ms: round(ms, 0) };
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

/** The broker list or a clear error (benchmarks of the service need the real broker). */
export function kafkaBrokers(): string {
  const b = process.env['KAFKA_BROKERS'];
  if (!b) throw new Error('KAFKA_BROKERS is not set (source .infra/env or npm run infra:up)');
  return b;
}

/** The audit-event signing seed of the benchmarked enforcers (base64url of 32 bytes; not a secret). */
export const BENCH_EVENT_SEED = Buffer.alloc(32, 3).toString('base64url');

/**
 * The pid of the Kafka broker when the local infrastructure runs it (scripts/infra/up.sh writes
 * .infra/kafka.pid), for its CPU per decision; undefined otherwise (containers, remote brokers).
 */
export function localBrokerPid(): number | undefined {
  const file = join(resolve(__dirname, '../../../../..'), '.infra', 'kafka.pid');
  if (!existsSync(file)) return undefined;
  const pid = Number(readFileSync(file, 'utf8').trim());
  return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

/** Runs a benchmark's main: exit 0 when it resolves (open handles do not keep it alive), else 1. */
export function runBench(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
      process.exit(1);
    },
  );
}
