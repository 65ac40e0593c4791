// Spawning the benchmark's server processes and talking to them.
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { bearerMetadata } from '@authority/platform';
import {
  loadAuthorityProto,
  type BatchCheckResponse,
  type CheckRequest,
  type CheckResponse,
  type EnforcerServiceClient,
} from '@authority/proto';

export interface ServerProc {
  port: number;
  child: ChildProcess;
  stop(): Promise<void>;
  /** enforcer-proc only: full GC in the child, then its memory figures. */
  memory(): Promise<ChildMemory>;
  /** CPU seconds (user + system, all threads) the child has used so far (Linux /proc; NaN elsewhere). */
  cpuSeconds(): number;
  /**
   * enforcer-proc only: event-loop delay of the serving thread since the previous call (undefined
   * when the child does not answer within 2 s: a build without the monitor).
   */
  eventLoopDelay(): Promise<EventLoopDelay | undefined>;
}

export interface EventLoopDelay {
  p50_ms: number;
  p99_ms: number;
  max_ms: number;
  mean_ms: number;
  /** The serving process's GC pauses over the same span, by kind (minor, major, incremental, weakcb). */
  gc?: Record<string, GcPauses>;
}

/** Garbage-collection pauses of one kind: how many, their sum, the longest, how many over 2 ms. */
export interface GcPauses {
  count: number;
  total_ms: number;
  max_ms: number;
  over_2ms: number;
}

/** Clock ticks per second of /proc/<pid>/stat (USER_HZ: 100 on every Linux build we run on). */
const USER_HZ = 100;

/** CPU seconds (user + system) of a process from /proc/<pid>/stat; NaN when unreadable. */
export function processCpuSeconds(pid: number | undefined): number {
  if (pid === undefined) return NaN;
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces) start at state (field 3).
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / USER_HZ;
  } catch {
    return NaN;
  }
}

/**
 * Where `enforcer-proc.js` is loaded from: BENCH_ENFORCER_DIST (the dist/bench/lib directory of
 * another build, e.g. main's, for same-run A/B comparisons), else this build.
 */
function scriptDir(script: string): string {
  const other = process.env['BENCH_ENFORCER_DIST'];
  return script === 'enforcer-proc' && other ? other : __dirname;
}

export interface ChildMemory {
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  memo: number;
  /** Bytes the memo charges (LinkMemo.bytes). */
  memoBytes: number;
  revocations: number;
  publisher: { batches: number; messages: number; failures: number };
}

/** Starts `bench/lib/<script>.js` with `env`, resolves once it printed its port. */
export function spawnServer(
  script: 'enforcer-proc' | 'echo-proc',
  env: Record<string, string>,
  args: string[] = [],
  timeoutMs = 60_000,
): Promise<ServerProc> {
  const nodeArgs = (env['BENCH_CHILD_NODE_ARGS'] ?? process.env['BENCH_CHILD_NODE_ARGS'] ?? '')
    .split(' ')
    .filter((a) => a !== '');
  const child = spawn(process.execPath, [...nodeArgs, join(scriptDir(script), `${script}.js`), ...args], {
    env: { ...process.env, ...env },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`${script} did not start within ${timeoutMs} ms`));
    }, timeoutMs);
    let buf = '';
    const onData = (d: Buffer) => {
      buf += d.toString();
      const line = buf.split('\n').find((l) => l.startsWith('{"port"'));
      if (!line) return;
      child.stdout!.off('data', onData);
      clearTimeout(timer);
      const { port } = JSON.parse(line) as { port: number };
      const lines: ((m: ChildMemory) => void)[] = [];
      const delays: ((d: EventLoopDelay | undefined) => void)[] = [];
      let out = '';
      child.stdout!.on('data', (chunk: Buffer) => {
        out += chunk.toString();
        let nl: number;
        while ((nl = out.indexOf('\n')) >= 0) {
          const l = out.slice(0, nl);
          out = out.slice(nl + 1);
          if (l.startsWith('{"mem"')) lines.shift()?.((JSON.parse(l) as { mem: ChildMemory }).mem);
          if (l.startsWith('{"eld"')) delays.shift()?.((JSON.parse(l) as { eld: EventLoopDelay }).eld);
        }
      });
      resolve({
        port,
        child,
        cpuSeconds: () => processCpuSeconds(child.pid),
        memory: () =>
          new Promise<ChildMemory>((done) => {
            lines.push(done);
            child.stdin!.write('mem\n');
          }),
        eventLoopDelay: () =>
          new Promise<EventLoopDelay | undefined>((done) => {
            const timer = setTimeout(() => {
              delays.splice(delays.indexOf(answer), 1);
              done(undefined);
            }, 2_000);
            const answer = (d: EventLoopDelay | undefined) => {
              clearTimeout(timer);
              done(d);
            };
            delays.push(answer);
            child.stdin!.write('eld\n');
          }),
        stop: () =>
          new Promise<void>((done) => {
            if (child.exitCode !== null) return done();
            const kill = setTimeout(() => child.kill('SIGKILL'), 15_000);
            child.once('exit', () => {
              clearTimeout(kill);
              done();
            });
            child.stdin!.end();
          }),
      });
    };
    child.stdout!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${script} exited with ${code} before serving`));
    });
  });
}

export function enforcerClient(port: number): EnforcerServiceClient {
  const { grpcObject } = loadAuthorityProto();
  return new grpcObject.authority.v1.EnforcerService(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}

export function callCheck(client: EnforcerServiceClient, md: grpc.Metadata, req: CheckRequest): Promise<CheckResponse> {
  return new Promise((resolve, reject) =>
    client.Check(req, md, { deadline: Date.now() + 30_000 }, (err, res) =>
      err ? reject(err) : resolve(res as CheckResponse),
    ),
  );
}

export function callBatch(
  client: EnforcerServiceClient,
  md: grpc.Metadata,
  checks: CheckRequest[],
): Promise<BatchCheckResponse> {
  return new Promise((resolve, reject) =>
    client.BatchCheck({ checks }, md, { deadline: Date.now() + 60_000 }, (err, res) =>
      err ? reject(err) : resolve(res as BatchCheckResponse),
    ),
  );
}

export { bearerMetadata as bearer };
