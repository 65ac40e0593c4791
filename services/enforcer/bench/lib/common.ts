// Shared bits of the enforcer benchmarks: machine info, percentiles, bounded loops, JSON lines.
import { cpus, loadavg, totalmem } from 'node:os';

export function machine() {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model ?? 'unknown',
    mem_gb: Math.round(totalmem() / 1e9),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    // The machine is shared: a load average well above the core count means the figures are low.
    loadavg_1m: round(loadavg()[0] ?? 0, 2),
  };
}

/** Prints one benchmark result as a JSON line on stdout. */
export function report(result: Record<string, unknown>): void {
  process.stdout.write(`${JSON.stringify({ ...result, machine: machine(), at: new Date().toISOString() })}\n`);
}

/** Progress and diagnostics go to stderr, so stdout stays JSON lines. */
export function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

export function percentiles(samplesMs: number[]): {
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
  max_ms: number;
  count: number;
} {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => round(s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? NaN, 3);
  return {
    p50_ms: at(0.5),
    p90_ms: at(0.9),
    p99_ms: at(0.99),
    max_ms: round(s[s.length - 1] ?? NaN, 3),
    count: s.length,
  };
}

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

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
