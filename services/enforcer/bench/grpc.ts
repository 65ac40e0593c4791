// gRPC benchmarks of the enforcer against real Kafka, server and client in separate processes:
//   grpc.check.closed-loop-64: Check with synchronous audit, 64 concurrent callers, vs a grpc-js echo
//     server answering the same messages (target ≥ 0.7 × echo rps)
//   grpc.check.open-loop-1000 (sync and async audit): 1,000 checks/s, latency from the intended
//     send time (no coordinated omission); targets p99 ≤ 10 ms (sync), ≤ 3 ms (async); baseline:
//     the same open loop against the echo server (the floor of this client and machine)
//   grpc.batchcheck-100: BatchCheck of 100 decisions, closed loop (target ≥ 50,000 decisions/s)
// Every loop is bounded in time and count; loopback only. Results are JSON lines on stdout.
import { cryptoReady } from '@authority/core';
import type { EnforcerServiceClient } from '@authority/proto';
import type * as grpc from '@grpc/grpc-js';
import { closedLoop, localBrokerPid, note, percentiles, report, round, runBench, sleep } from './lib/common';
import { benchFixture, delegatedCheck, enforcerEnv } from './lib/fixture';
import {
  bearer,
  callBatch,
  callCheck,
  enforcerClient,
  processCpuSeconds,
  spawnServer,
  type EventLoopDelay,
  type ServerProc,
} from './lib/procs';

const SECONDS = Number(process.env['BENCH_SECONDS'] ?? 8);
const BATCH_CALLERS = Number(process.env['BENCH_BATCH_CALLERS'] ?? 8);
const only = process.env['BENCH_ONLY'] ? new RegExp(process.env['BENCH_ONLY']) : undefined;
const wanted = (name: string) => only === undefined || only.test(name);
/** Which enforcer build serves (BENCH_ENFORCER_DIST: another build's dist/bench/lib, for A/B runs). */
const SERVER_BUILD = process.env['BENCH_ENFORCER_DIST'] || 'this build';
const BROKER_PID = localBrokerPid();

/**
 * CPU microseconds per decision of the enforcer process (all its threads) and of the local Kafka
 * broker over a loop: unlike rates, these barely move with the load of other processes.
 */
async function cpuPerDecision<T>(
  proc: ServerProc,
  decisions: (result: T) => number,
  loop: () => Promise<T>,
): Promise<{ result: T; cpu: { server_us_per_decision: number; broker_us_per_decision?: number } }> {
  const server0 = proc.cpuSeconds();
  const broker0 = processCpuSeconds(BROKER_PID);
  const result = await loop();
  const n = Math.max(1, decisions(result));
  const server = round(((proc.cpuSeconds() - server0) * 1e6) / n, 1);
  const broker = round(((processCpuSeconds(BROKER_PID) - broker0) * 1e6) / n, 1);
  return {
    result,
    cpu: { server_us_per_decision: server, ...(Number.isFinite(broker) ? { broker_us_per_decision: broker } : {}) },
  };
}

async function openLoop(rate: number, seconds: number, call: () => Promise<void>) {
  const latencies: number[] = [];
  const inflight: Promise<void>[] = [];
  let errors = 0;
  const interval = 1000 / rate;
  const total = Math.floor(rate * seconds);
  const start = performance.now();
  let sent = 0;
  while (sent < total) {
    const now = performance.now();
    while (sent < total && start + sent * interval <= now) {
      const intended = start + sent * interval;
      sent++;
      inflight.push(
        call().then(
          () => void latencies.push(performance.now() - intended),
          () => void errors++,
        ),
      );
    }
    // Sleep until the next send is due (timers: ~1 ms granularity); never spin, the client
    // shares the two cores with the server and the broker.
    await sleep(Math.max(1, start + sent * interval - performance.now()));
  }
  await Promise.all(inflight);
  return { rate_per_sec: rate, seconds, errors, ...percentiles(latencies) };
}

async function withEnforcer<T>(
  prefix: string,
  mode: 'sync' | 'async',
  fn: (client: EnforcerServiceClient, proc: ServerProc) => Promise<T>,
): Promise<T> {
  const proc = await spawnServer(
    'enforcer-proc',
    enforcerEnv(prefix, {
      AUTHORITY_AUDIT_MODE: mode,
      AUTHORITY_ENFORCER_ID: `bench-${mode}`,
      // BENCH_AUDIT_PRODUCE_REQUESTS=n: audit produce requests in flight (the side-by-side A/B).
      AUTHORITY_AUDIT_PRODUCE_REQUESTS: process.env['BENCH_AUDIT_PRODUCE_REQUESTS'] ?? '1',
    }),
  );
  const client = enforcerClient(proc.port);
  try {
    return await fn(client, proc);
  } finally {
    client.close();
    await proc.stop();
  }
}

async function main(): Promise<void> {
  await cryptoReady();
  const { prefix, fixture, t } = await benchFixture();
  const req = delegatedCheck(t);
  const md: grpc.Metadata = bearer(t.checkerSecret);
  note(`prefix ${prefix}; ${SECONDS}s per loop`);

  let cannedResponse: unknown;
  let enforcerClosed: Awaited<ReturnType<typeof closedLoop>> | undefined;
  let audit: Record<string, number> = {};
  let batchResult: Awaited<ReturnType<typeof closedLoop>> | undefined;
  let openSync: Awaited<ReturnType<typeof openLoop>> | undefined;
  let openAsync: Awaited<ReturnType<typeof openLoop>> | undefined;
  let closedCpu: Record<string, number> | undefined;
  let batchCpu: Record<string, number> | undefined;
  let eldSync: EventLoopDelay | undefined;
  let eldAsync: EventLoopDelay | undefined;
  note(`server: ${SERVER_BUILD}`);

  await withEnforcer(prefix, 'sync', async (client, proc) => {
    const first = await callCheck(client, md, req);
    if (first.decision !== 'ALLOW') throw new Error(`benchmark request not allowed: ${first.message}`);
    cannedResponse = first;
    // Warm-up.
    await closedLoop(16, 1, async () => void (await callCheck(client, md, req)), 5000);

    if (wanted('grpc.check.closed-loop-64')) {
      const before = (await proc.memory()).publisher;
      const measured = await cpuPerDecision(
        proc,
        (r) => r.rps * SECONDS,
        () =>
          closedLoop(
            64,
            SECONDS,
            async () => {
              const r = await callCheck(client, md, req);
              if (r.decision !== 'ALLOW') throw new Error(r.message);
            },
            500_000,
          ),
      );
      enforcerClosed = measured.result;
      closedCpu = measured.cpu;
      const after = (await proc.memory()).publisher;
      const batches = after.batches - before.batches;
      audit = {
        produce_requests_per_sec: round(batches / SECONDS, 0),
        events_per_produce_request: round((after.messages - before.messages) / Math.max(1, batches), 1),
      };
      note(`closed loop: ${enforcerClosed.rps} rps, audit ${JSON.stringify(audit)}`);
    }
    if (wanted('grpc.check.open-loop-1000')) {
      await proc.eventLoopDelay();
      openSync = await openLoop(1000, SECONDS, async () => {
        const r = await callCheck(client, md, req);
        if (r.decision !== 'ALLOW') throw new Error(r.message);
      });
      eldSync = await proc.eventLoopDelay();
    }
    if (wanted('grpc.batchcheck-100')) {
      const checks = Array.from({ length: 100 }, () => req);
      await closedLoop(2, 1, async () => void (await callBatch(client, md, checks)), 50);
      const measured = await cpuPerDecision(
        proc,
        (r) => r.rps * SECONDS * 100,
        () =>
          closedLoop(
            BATCH_CALLERS,
            SECONDS,
            async () => {
              const r = await callBatch(client, md, checks);
              if (r.results?.length !== 100) throw new Error('short batch');
            },
            20_000,
          ),
      );
      batchResult = measured.result;
      batchCpu = measured.cpu;
    }
  });

  if (wanted('grpc.check.open-loop-1000')) {
    await withEnforcer(prefix, 'async', async (client, proc) => {
      await closedLoop(16, 1, async () => void (await callCheck(client, md, req)), 5000);
      await proc.eventLoopDelay();
      openAsync = await openLoop(1000, SECONDS, async () => {
        const r = await callCheck(client, md, req);
        if (r.decision !== 'ALLOW') throw new Error(r.message);
      });
      eldAsync = await proc.eventLoopDelay();
    });
  }

  if (enforcerClosed !== undefined || batchResult !== undefined || openSync !== undefined) {
    const echo = await spawnServer('echo-proc', {}, [JSON.stringify(cannedResponse)]);
    const client = enforcerClient(echo.port);
    try {
      await closedLoop(16, 1, async () => void (await callCheck(client, md, req)), 5000);
      if (openSync !== undefined) {
        // The floor of this client, network and machine: the same open loop against the echo server.
        const base = await openLoop(1000, SECONDS, async () => void (await callCheck(client, md, req)));
        const baseline = {
          name: 'grpc-js echo server, same messages, same open loop',
          p50_ms: base.p50_ms,
          p90_ms: base.p90_ms,
          p99_ms: base.p99_ms,
          max_ms: base.max_ms,
        };
        report({
          name: 'grpc.check.open-loop-1000.sync-audit',
          what: 'Check at 1,000/s, synchronous audit (ALLOW answered after Kafka acks=all); latency from the intended send time',
          ...openSync,
          server_event_loop_delay: eldSync,
          server: SERVER_BUILD,
          baseline,
          target: { p99_ms: 10 },
          meets_target: openSync.p99_ms <= 10,
        });
        if (openAsync !== undefined) {
          report({
            name: 'grpc.check.open-loop-1000.async-audit',
            what: 'Check at 1,000/s, async audit (bounded buffer flushed in batches); latency from the intended send time',
            ...openAsync,
            server_event_loop_delay: eldAsync,
            server: SERVER_BUILD,
            baseline,
            target: { p99_ms: 3 },
            meets_target: openAsync.p99_ms <= 3,
          });
        }
      }
      if (enforcerClosed !== undefined) {
        const echoCpu0 = echo.cpuSeconds();
        const base = await closedLoop(64, SECONDS, async () => void (await callCheck(client, md, req)), 500_000);
        const echoCpu = round(((echo.cpuSeconds() - echoCpu0) * 1e6) / Math.max(1, base.rps * SECONDS), 1);
        report({
          name: 'grpc.check.closed-loop-64',
          what: 'Check with synchronous audit, 64 concurrent callers on one channel; client and server in separate processes sharing the machine (and the Kafka broker)',
          rps: enforcerClosed.rps,
          p50_ms: enforcerClosed.p50_ms,
          p99_ms: enforcerClosed.p99_ms,
          errors: enforcerClosed.errors,
          audit,
          cpu: closedCpu,
          server: SERVER_BUILD,
          baseline: {
            name: 'grpc-js echo server, same request and response messages',
            rps: base.rps,
            p50_ms: base.p50_ms,
            p99_ms: base.p99_ms,
            server_cpu_us_per_call: echoCpu,
          },
          ratio: round(enforcerClosed.rps / base.rps, 2),
          target: { ratio: 0.7 },
          meets_target: enforcerClosed.rps >= 0.7 * base.rps,
        });
      }
      if (batchResult !== undefined) {
        const checks = Array.from({ length: 100 }, () => req);
        const echoCpu0 = echo.cpuSeconds();
        const base = await closedLoop(
          BATCH_CALLERS,
          SECONDS,
          async () => void (await callBatch(client, md, checks)),
          20_000,
        );
        const decisions = batchResult.rps * 100;
        report({
          name: 'grpc.batchcheck-100',
          what: `BatchCheck of 100 memoized decisions (2-link chain), ${BATCH_CALLERS} concurrent callers, synchronous audit (the 100 events of a call acknowledged by Kafka before the answer)`,
          decisions_per_sec: decisions,
          batches_per_sec: batchResult.rps,
          batch_p50_ms: batchResult.p50_ms,
          batch_p99_ms: batchResult.p99_ms,
          errors: batchResult.errors,
          cpu: batchCpu,
          server: SERVER_BUILD,
          baseline: {
            name: 'grpc-js echo server answering 100 canned responses',
            decisions_per_sec: base.rps * 100,
            server_cpu_us_per_decision: round(
              ((echo.cpuSeconds() - echoCpu0) * 1e6) / Math.max(1, base.rps * SECONDS * 100),
              1,
            ),
          },
          ratio: round(decisions / (base.rps * 100), 2),
          target: { decisions_per_sec: 50_000 },
          meets_target: decisions >= 50_000,
        });
      }
    } finally {
      client.close();
      await echo.stop();
    }
  }
  await fixture.close();
  await sleep(10);
}

runBench(main);
