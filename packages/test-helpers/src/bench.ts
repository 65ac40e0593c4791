// What every benchmark prints: one JSON line per result on stdout, with the machine it ran on
// (the machine is shared: a load average well above the core count means the figures are low),
// and progress notes on stderr so stdout stays JSON lines.
import { cpus, loadavg, totalmem } from 'node:os';

export function round(x: number, digits = 1): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** Facts about this machine and run, plus what a benchmark adds (e.g. the database server). */
export function machine(extra: Record<string, unknown> = {}): Record<string, unknown> {
  const list = cpus();
  return {
    cpus: list.length,
    cpu_model: list[0]?.model ?? 'unknown',
    mem_gb: Math.round(totalmem() / 1e9),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    loadavg_1m: round(loadavg()[0] ?? 0, 2),
    ...extra,
  };
}

/** Prints one result as a JSON line on stdout, with `machine` (and `machineExtra`) and the time. */
export function report(result: Record<string, unknown>, machineExtra: Record<string, unknown> = {}): void {
  process.stdout.write(
    `${JSON.stringify({ ...result, machine: machine(machineExtra), at: new Date().toISOString() })}\n`,
  );
}

/** A progress note on stderr. */
export function note(message: string): void {
  process.stderr.write(`[bench] ${message}\n`);
}

/** Latency percentiles of samples in milliseconds (3 decimals). */
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

/**
 * A closed loop: `concurrency` callers each await `call` and call again, for `seconds` and at most
 * `maxOps` calls in all. Returns successful calls per second, failed calls, the CPU time of this
 * process per successful call (µs; unlike wall-clock rates it barely moves with the load of other
 * processes) and the latency percentiles.
 */
export async function closedLoop(
  concurrency: number,
  seconds: number,
  call: () => Promise<unknown>,
  maxOps = Number.POSITIVE_INFINITY,
): Promise<ReturnType<typeof percentiles> & { rps: number; errors: number; cpu_us_per_call: number }> {
  const latencies: number[] = [];
  let ops = 0;
  let errors = 0;
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  const end = start + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end && ops < maxOps) {
      ops++;
      const t0 = performance.now();
      try {
        await call();
        latencies.push(performance.now() - t0);
      } catch {
        errors++;
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const ms = performance.now() - start;
  const cpu = process.cpuUsage(cpu0);
  return {
    rps: round((latencies.length * 1000) / ms, 0),
    errors,
    cpu_us_per_call: latencies.length === 0 ? NaN : Math.round((cpu.user + cpu.system) / latencies.length),
    ...percentiles(latencies),
  };
}
