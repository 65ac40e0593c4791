// An independent load generator against the enforcer: ghz (Go, github.com/bojand/ghz, pinned,
// installed through the Go module proxy into ~/.cache on first use), run as a separate process,
// so the client is neither grpc-js nor Node. The grpc-js echo server answering the same messages
// is the same-run baseline; enforcer and echo runs alternate (BENCH_GHZ_ROUNDS each, median).
//   ghz.check.closed-loop-64: Check, synchronous audit, 64 concurrent workers (ratio vs echo;
//     target ≥ 0.7 × echo, the median of the alternating rounds)
//   ghz.check.open-loop-1000: Check at a constant 1,000/s (ghz's constant schedule with enough
//     workers not to wait on answers), synchronous and async audit, latency percentiles vs echo
//     (one discarded warm-up run per server, then echo, sync and async alternate; medians)
// Skipped with a note when neither the cached binary nor a Go toolchain is available.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { cryptoReady } from '@authority/core';
import { note, report, round, runBench } from './lib/common';
import { benchFixture, delegatedCheck, enforcerEnv } from './lib/fixture';
import { bearer, callCheck, enforcerClient, spawnServer, type ServerProc } from './lib/procs';

const GHZ_VERSION = 'v0.120.0';
const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 5);
const ROUNDS = Number(process.env['BENCH_GHZ_ROUNDS'] ?? 5); // issue 17: the median of five alternating runs
const ROOT = resolve(__dirname, '../../../..');
const only = process.env['BENCH_ONLY'] ? new RegExp(process.env['BENCH_ONLY']) : undefined;
const wanted = (name: string) => only === undefined || only.test(name);

/** The ghz binary: cached per version under ~/.cache, installed with `go install` once. */
function ghzBinary(): string | undefined {
  const dir = join(process.env['XDG_CACHE_HOME'] ?? join(homedir(), '.cache'), 'authority-bench', `ghz-${GHZ_VERSION}`);
  const bin = join(dir, 'ghz');
  if (existsSync(bin)) return bin;
  note(`installing ghz ${GHZ_VERSION} into ${dir} (go install, once)`);
  const r = spawnSync('go', ['install', `github.com/bojand/ghz/cmd/ghz@${GHZ_VERSION}`], {
    env: { ...process.env, GOBIN: dir },
    stdio: 'inherit',
  });
  return r.status === 0 && existsSync(bin) ? bin : undefined;
}

interface GhzResult {
  rps: number;
  count: number;
  errors: number;
  error_messages?: Record<string, number>;
  p50_ms: number;
  p90_ms: number;
  p99_ms: number;
}

interface GhzJson {
  count: number;
  rps: number;
  latencyDistribution?: { percentage: number; latency: number }[] | null;
  statusCodeDistribution?: Record<string, number>;
  errorDistribution?: Record<string, number> | null;
}

function runGhz(
  bin: string,
  port: number,
  request: unknown,
  secret: string,
  load: { concurrency: number } | { rps: number },
): GhzResult {
  const args = [
    '--insecure',
    '--proto',
    join(ROOT, 'proto/authority/v1/enforcer.proto'),
    '--import-paths',
    join(ROOT, 'proto'),
    '--call',
    'authority.v1.EnforcerService.Check',
    '--data',
    JSON.stringify(request),
    '--metadata',
    JSON.stringify({ authorization: `Bearer ${secret}` }),
    '--duration',
    `${SECONDS}s`,
    // Calls in flight when the duration ends are waited for and counted (the default, close,
    // cancels them and reports each as an error).
    '--duration-stop',
    'wait',
    '--format',
    'json',
    ...('rps' in load
      ? ['--rps', String(load.rps), '--concurrency', '200', '--connections', '1']
      : ['--concurrency', String(load.concurrency), '--connections', '1']),
    `127.0.0.1:${port}`,
  ];
  const r = spawnSync(bin, args, { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (r.status !== 0 && r.stdout === '') throw new Error(`ghz failed: ${r.stderr}`);
  const out = JSON.parse(r.stdout) as GhzJson;
  const at = (p: number) => round((out.latencyDistribution?.find((d) => d.percentage === p)?.latency ?? NaN) / 1e6, 3);
  const ok = out.statusCodeDistribution?.['OK'] ?? 0;
  return {
    rps: round(out.rps, 0),
    count: out.count,
    errors: out.count - ok,
    ...(out.errorDistribution ? { error_messages: out.errorDistribution } : {}),
    p50_ms: at(50),
    p90_ms: at(90),
    p99_ms: at(99),
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

async function main(): Promise<void> {
  const bin = ghzBinary();
  if (bin === undefined) {
    note('ghz unavailable (no cached binary and go install failed): skipped');
    return;
  }
  await cryptoReady();
  const { prefix, fixture, t } = await benchFixture('ghz-tenant');
  const req = delegatedCheck(t);
  const enforcer = (mode: 'sync' | 'async') =>
    spawnServer(
      'enforcer-proc',
      enforcerEnv(prefix, {
        AUTHORITY_AUDIT_MODE: mode,
        AUTHORITY_ENFORCER_ID: `ghz-${mode}`,
        AUTHORITY_AUDIT_PRODUCE_REQUESTS: process.env['BENCH_AUDIT_PRODUCE_REQUESTS'] ?? '1',
      }),
    );
  const sync = await enforcer('sync');
  const servers: ServerProc[] = [sync];
  try {
    const client = enforcerClient(sync.port);
    const first = await callCheck(client, bearer(t.checkerSecret), req);
    client.close();
    if (first.decision !== 'ALLOW') throw new Error(`benchmark request not allowed: ${first.message}`);
    const echo = await spawnServer('echo-proc', {}, [JSON.stringify(first)]);
    servers.push(echo);
    const what = `ghz ${GHZ_VERSION} (separate Go process, one HTTP/2 connection), ${SECONDS}s per run`;

    if (wanted('ghz.check.closed-loop-64')) {
      const ours: GhzResult[] = [];
      const base: GhzResult[] = [];
      for (let i = 0; i < ROUNDS; i++) {
        ours.push(runGhz(bin, sync.port, req, t.checkerSecret, { concurrency: 64 }));
        base.push(runGhz(bin, echo.port, req, t.checkerSecret, { concurrency: 64 }));
      }
      const ratios = ours.map((o, i) => o.rps / base[i]!.rps);
      report({
        name: 'ghz.check.closed-loop-64',
        what: `Check with synchronous audit, 64 concurrent ghz workers, closed loop; ${what}; enforcer and echo runs alternate`,
        rps_median: median(ours.map((o) => o.rps)),
        runs: ours,
        baseline: {
          name: 'grpc-js echo server, same request and response messages',
          rps_median: median(base.map((b) => b.rps)),
          runs: base,
        },
        ratio_median: round(median(ratios), 2),
        ratios: ratios.map((r) => round(r, 2)),
        target: { ratio_median: 0.7 },
        meets_target: median(ratios) >= 0.7,
      });
    }

    if (wanted('ghz.check.open-loop-1000')) {
      const asyncProc = await enforcer('async');
      servers.push(asyncProc);
      const asyncClient = enforcerClient(asyncProc.port);
      const warm = await callCheck(asyncClient, bearer(t.checkerSecret), req);
      asyncClient.close();
      if (warm.decision !== 'ALLOW') throw new Error(`async enforcer did not allow: ${warm.message}`);
      // Each server first gets one discarded run of the same open loop (a fresh process's first
      // seconds are JIT warm-up, which a p99 of 5,000 calls would measure), then the three
      // alternate, BENCH_GHZ_ROUNDS runs each; percentiles are medians over the runs.
      const targets = { echo: echo.port, sync: sync.port, async: asyncProc.port };
      for (const port of Object.values(targets)) runGhz(bin, port, req, t.checkerSecret, { rps: 1000 });
      const runs: Record<keyof typeof targets, GhzResult[]> = { echo: [], sync: [], async: [] };
      for (let i = 0; i < ROUNDS; i++)
        for (const [k, port] of Object.entries(targets) as [keyof typeof targets, number][])
          runs[k].push(runGhz(bin, port, req, t.checkerSecret, { rps: 1000 }));
      const medians = (rs: GhzResult[]) => ({
        rps: median(rs.map((r) => r.rps)),
        errors: rs.reduce((n, r) => n + r.errors, 0),
        p50_ms: median(rs.map((r) => r.p50_ms)),
        p90_ms: median(rs.map((r) => r.p90_ms)),
        p99_ms: median(rs.map((r) => r.p99_ms)),
        p99_runs_ms: rs.map((r) => r.p99_ms),
      });
      const baseline = { name: 'grpc-js echo server, same open loop', ...medians(runs.echo) };
      for (const [mode, target] of [
        ['sync', 10],
        ['async', 3],
      ] as const) {
        const m = medians(runs[mode]);
        report({
          name: `ghz.check.open-loop-1000.${mode}-audit`,
          what: `Check at a constant 1,000/s, ${mode === 'sync' ? 'synchronous' : 'async'} audit; ${what}; after one discarded warm-up run each, enforcer and echo runs alternate (${ROUNDS} each, medians)`,
          ...m,
          runs: runs[mode],
          baseline,
          target: { p99_ms: target },
          meets_target: m.p99_ms <= target,
        });
      }
    }
  } finally {
    for (const s of servers) await s.stop();
    await fixture.close();
  }
}

runBench(main);
