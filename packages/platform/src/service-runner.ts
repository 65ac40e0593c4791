// The process lifecycle of a service: start, then on SIGTERM/SIGINT (or a fatal error) run the
// registered shutdown steps in a fixed phase order within a deadline, log, and exit.
import type { EventEmitter } from 'node:events';
import { ConfigError } from './config';
import { createLogger, type Logger } from './logger';

/**
 * Shutdown phases, run in this order whatever the registration order:
 * stop serving (health NOT_SERVING, drain gRPC) → stop consumers → flush producers →
 * close storage (MongoDB) → flush telemetry.
 */
export const SHUTDOWN_PHASES = ['grpc', 'consumers', 'producers', 'storage', 'telemetry'] as const;
export type ShutdownPhase = (typeof SHUTDOWN_PHASES)[number];

export type ShutdownStep = (remainingMs: number) => Promise<void> | void;

export interface ServiceContext {
  name: string;
  logger: Logger;
  /** The shutdown deadline in ms (AUTHORITY_SHUTDOWN_GRACE). */
  graceMs: number;
  /** Aborted when shutdown begins (long-running loops should stop). */
  signal: AbortSignal;
  /** Registers a step; within a phase, steps run in registration order. */
  onShutdown(phase: ShutdownPhase, name: string, step: ShutdownStep): void;
  /** Ends the service as failed (e.g. a Kafka consumer crashed for good): shutdown, exit 1. */
  fatal(err: unknown, message?: string): void;
}

export interface RunServiceOptions {
  name: string;
  logger?: Logger;
  /** Default 10 s. */
  graceMs?: number;
  /** Starts everything; may return a stop function, run first (phase `grpc`). */
  start: (ctx: ServiceContext) => Promise<void | (() => Promise<void> | void)>;
  /** Default process.exit (tests inject). */
  exit?: (code: number) => void;
  /** Where SIGTERM/SIGINT come from (default process; tests inject an EventEmitter). */
  signalSource?: EventEmitter;
  /** Exit on uncaughtException / unhandledRejection after a graceful shutdown (default true). */
  handleProcessErrors?: boolean;
}

export interface RunningService {
  /** Resolves after a successful start. */
  started: Promise<void>;
  /** Resolves with the exit code once shutdown finished (exit has been called with it). */
  stopped: Promise<number>;
  /** Begins shutdown as if SIGTERM arrived. */
  stop(reason?: string): Promise<number>;
}

/** Runs `fn` but gives up after `ms` (the step keeps running in the background). */
async function withinDeadline(ms: number, fn: () => Promise<void> | void): Promise<'done' | 'timeout'> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), Math.max(0, ms));
  });
  try {
    return await Promise.race([
      Promise.resolve()
        .then(fn)
        .then(() => 'done' as const),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Runs a service process. Exit codes: 0 after a clean shutdown; 1 after a failed start, a fatal
 * error, a failed shutdown step or a missed deadline; 78 when the start failed on configuration.
 * A second SIGTERM/SIGINT during shutdown exits 1 at once.
 */
export function runService(opts: RunServiceOptions): RunningService {
  const logger = opts.logger ?? createLogger({ service: opts.name });
  const graceMs = opts.graceMs ?? 10_000;
  const exit = opts.exit ?? ((code: number) => process.exit(code));
  const signals = opts.signalSource ?? process;
  const steps: { phase: ShutdownPhase; name: string; step: ShutdownStep; seq: number }[] = [];
  const abort = new AbortController();
  let seq = 0;
  let stopping: Promise<number> | undefined;
  let resolveStopped!: (code: number) => void;
  const stopped = new Promise<number>((r) => (resolveStopped = r));

  let finished = false;
  const finish = (code: number) => {
    if (finished) return;
    finished = true;
    signals.off('SIGTERM', onSigterm);
    signals.off('SIGINT', onSigint);
    process.off('uncaughtException', onUncaught);
    process.off('unhandledRejection', onUnhandled);
    logger.flush();
    resolveStopped(code);
    exit(code);
  };

  const runShutdown = (reason: string, failed: boolean): Promise<number> => {
    stopping ??= (async () => {
      abort.abort(new Error(reason));
      const deadline = Date.now() + graceMs;
      logger.info({ reason, grace_ms: graceMs }, `${opts.name} shutting down`);
      const ordered = [...steps].sort(
        (a, b) => SHUTDOWN_PHASES.indexOf(a.phase) - SHUTDOWN_PHASES.indexOf(b.phase) || a.seq - b.seq,
      );
      let ok = !failed;
      for (const s of ordered) {
        const remaining = deadline - Date.now();
        if (remaining <= 0) {
          logger.error({ phase: s.phase, step: s.name }, 'shutdown deadline passed; skipping remaining steps');
          ok = false;
          break;
        }
        try {
          const outcome = await withinDeadline(remaining, () => s.step(remaining));
          if (outcome === 'timeout') {
            logger.error({ phase: s.phase, step: s.name }, 'shutdown step missed the deadline');
            ok = false;
            break;
          }
          logger.debug({ phase: s.phase, step: s.name }, 'shutdown step done');
        } catch (err) {
          ok = false;
          logger.error({ err, phase: s.phase, step: s.name }, 'shutdown step failed');
        }
      }
      const code = ok ? 0 : 1;
      logger.info({ exit_code: code }, `${opts.name} stopped`);
      return code;
    })();
    return stopping;
  };

  const onSignal = (signal: string) => {
    if (stopping && !finished) {
      logger.warn({ signal }, 'second signal during shutdown; exiting now');
      finish(1);
      return;
    }
    void runShutdown(signal, false).then(finish);
  };
  const onSigterm = () => onSignal('SIGTERM');
  const onSigint = () => onSignal('SIGINT');
  signals.on('SIGTERM', onSigterm);
  signals.on('SIGINT', onSigint);

  const fatal = (err: unknown, message = 'fatal error') => {
    logger.fatal({ err }, message);
    void runShutdown(message, true).then(finish);
  };
  const onUncaught = (err: unknown) => fatal(err, 'uncaught exception');
  const onUnhandled = (err: unknown) => fatal(err, 'unhandled promise rejection');
  if (opts.handleProcessErrors ?? true) {
    process.on('uncaughtException', onUncaught);
    process.on('unhandledRejection', onUnhandled);
  }

  const ctx: ServiceContext = {
    name: opts.name,
    logger,
    graceMs,
    signal: abort.signal,
    onShutdown(phase, name, step) {
      steps.push({ phase, name, step, seq: seq++ });
    },
    fatal,
  };

  const started = (async () => {
    try {
      const stop = await opts.start(ctx);
      if (typeof stop === 'function') steps.push({ phase: 'grpc', name: 'stop', step: stop, seq: -1 });
      logger.info(`${opts.name} started`);
    } catch (err) {
      const isConfig = err instanceof ConfigError;
      const message = err instanceof Error ? err.message : String(err);
      process.stderr.write(`${opts.name}: failed to start: ${message}\n`);
      logger.fatal({ err }, `${opts.name} failed to start`);
      await runShutdown('failed start', true);
      finish(isConfig ? 78 : 1);
      throw err;
    }
  })();
  started.catch(() => undefined); // the failure is reported and handled above

  return {
    started,
    stopped,
    stop: async (reason = 'stop requested') => {
      const code = await runShutdown(reason, false);
      finish(code);
      return code;
    },
  };
}
