// A service process's main, so that each services/*/src/main.ts is one call: the config from the
// environment (a bad variable: exit 78 naming it), the JSON logger, telemetry (OTEL_* configures
// export; without it trace context only propagates), then the service under runService (SIGTERM →
// shutdown in phases, see service-runner.ts).
import type { z } from 'zod';
import { loadConfigOrExit, type ConfigCheck, type LogLevel } from './config';
import { createLogger, type CreateLoggerOptions, type Logger } from './logger';
import { runService, type RunningService } from './service-runner';
import { startTelemetry } from './telemetry';

/** The variables of serviceConfigSchema that the process itself reads. */
interface ProcessConfig {
  AUTHORITY_SERVICE_NAME: string;
  AUTHORITY_LOG_LEVEL: LogLevel;
  AUTHORITY_SHUTDOWN_GRACE: number;
}

export interface ServiceMainOptions<S extends z.ZodObject> {
  /** The service's schema (built on serviceConfigSchema) and its cross-variable checks. */
  schema: S;
  checks: readonly ConfigCheck[];
  /** Where log lines go (default stdout; the gateway's stdio transport keeps stdout for MCP). */
  logDestination?: (config: z.output<S>) => CreateLoggerOptions['destination'] | undefined;
  /** Starts the service; `onFatal` ends the process as failed (e.g. a consumer crashed for good). */
  start: (
    config: z.output<S>,
    deps: { logger: Logger; onFatal: (err: Error) => void },
  ) => Promise<{ stop(): Promise<void> }>;
  /** What the fatal log line says when onFatal is called. */
  fatalMessage?: string;
}

export function runServiceMain<S extends z.ZodObject>(opts: ServiceMainOptions<S>): RunningService {
  const config = loadConfigOrExit(opts.schema, process.env, opts.checks);
  const {
    AUTHORITY_SERVICE_NAME: name,
    AUTHORITY_LOG_LEVEL: level,
    AUTHORITY_SHUTDOWN_GRACE: graceMs,
  } = config as z.output<S> & ProcessConfig;
  const destination = opts.logDestination?.(config);
  const logger = createLogger({ service: name, level, ...(destination !== undefined ? { destination } : {}) });
  return runService({
    name,
    logger,
    graceMs,
    start: async (ctx) => {
      const telemetry = await startTelemetry({
        serviceName: name,
        onFlushError: (err) =>
          logger.warn({ err }, 'telemetry: final flush failed (collector unreachable?); spans lost'),
      });
      ctx.onShutdown('telemetry', 'telemetry', () => telemetry.shutdown());
      const service = await opts.start(config, {
        logger,
        onFatal: (err) => ctx.fatal(err, opts.fatalMessage ?? `${name} failed for good`),
      });
      return () => service.stop();
    },
  });
}
