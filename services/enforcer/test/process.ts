// Starting the enforcer in a child process (test/enforcer-process.ts) with its own node flags and
// environment, and talking to it: its port, its metrics and memory, its exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { OPERATOR_KEY, requireKafka } from './helpers';

export interface EnforcerProcessStats {
  /** Metric name → value (see enforcer-process.ts). */
  metrics: Record<string, number>;
  memory: NodeJS.MemoryUsage;
}

export interface EnforcerProcess {
  port: number;
  child: ChildProcess;
  /** The exit code, or the signal's name, once the process has exited; undefined while it runs. */
  readonly exited: number | string | undefined;
  /** Everything the process wrote to stderr (its logs and, if it died, why). */
  readonly stderr: string;
  stats(timeoutMs?: number): Promise<EnforcerProcessStats>;
  /** Graceful stop (stdin closed), SIGKILL after `timeoutMs`. */
  stop(timeoutMs?: number): Promise<void>;
}

export interface SpawnEnforcerOptions {
  /** Node flags, e.g. `['--max-old-space-size=192']`. */
  nodeArgs?: string[];
  /** Variables on top of the test defaults (real Kafka, the prefix, the operator key, loopback). */
  env?: Record<string, string>;
  /** How long to wait for `{"port":N}` (default 60 s). */
  startTimeoutMs?: number;
}

/** Starts an enforcer process on a test prefix; resolves once it is serving (state caught up). */
export function spawnEnforcer(prefix: string, opts: SpawnEnforcerOptions = {}): Promise<EnforcerProcess> {
  const child = spawn(process.execPath, [...(opts.nodeArgs ?? []), join(__dirname, 'enforcer-process.js')], {
    env: {
      ...process.env,
      KAFKA_BROKERS: requireKafka(),
      AUTHORITY_TOPIC_PREFIX: prefix,
      AUTHORITY_OPERATOR_API_KEY: OPERATOR_KEY,
      AUTHORITY_GRPC_HOST: '127.0.0.1',
      AUTHORITY_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'warn',
      AUTHORITY_SHUTDOWN_GRACE: '5s',
      AUTHORITY_REFLECTION: 'false',
      ...opts.env,
    },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  let exited: number | string | undefined;
  child.stderr!.on('data', (d: Buffer) => {
    stderr += d.toString();
    if (stderr.length > 1_000_000) stderr = stderr.slice(-500_000);
  });
  const waiting: { resolve: (s: EnforcerProcessStats) => void; reject: (e: Error) => void }[] = [];
  const exit = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exited = code ?? signal ?? 'unknown';
      for (const w of waiting.splice(0))
        w.reject(new Error(`enforcer process exited (${exited}): ${stderr.slice(-2000)}`));
      resolve();
    }),
  );
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the enforcer process did not serve within ${opts.startTimeoutMs ?? 60_000} ms: ${stderr}`));
    }, opts.startTimeoutMs ?? 60_000);
    void exit.then(() => {
      clearTimeout(timer);
      reject(new Error(`the enforcer process exited (${exited}) before serving: ${stderr}`));
    });
    let out = '';
    let port: number | undefined;
    child.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      let nl: number;
      while ((nl = out.indexOf('\n')) >= 0) {
        const line = out.slice(0, nl);
        out = out.slice(nl + 1);
        if (port === undefined && line.startsWith('{"port"')) {
          port = (JSON.parse(line) as { port: number }).port;
          clearTimeout(timer);
          resolve(handle(port));
        } else if (line.startsWith('{"stats"')) {
          waiting.shift()?.resolve((JSON.parse(line) as { stats: EnforcerProcessStats }).stats);
        }
      }
    });
  });

  function handle(port: number): EnforcerProcess {
    return {
      port,
      child,
      get exited() {
        return exited;
      },
      get stderr() {
        return stderr;
      },
      stats: (timeoutMs = 15_000) =>
        new Promise<EnforcerProcessStats>((resolve, reject) => {
          if (exited !== undefined) return reject(new Error(`enforcer process exited (${exited})`));
          const timer = setTimeout(() => reject(new Error('no stats from the enforcer process')), timeoutMs);
          waiting.push({
            resolve: (s) => (clearTimeout(timer), resolve(s)),
            reject: (e) => (clearTimeout(timer), reject(e)),
          });
          child.stdin!.write('stats\n');
        }),
      stop: async (timeoutMs = 15_000) => {
        if (exited !== undefined) return;
        const kill = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
        child.stdin!.end();
        await exit;
        clearTimeout(kill);
      },
    };
  }
}
