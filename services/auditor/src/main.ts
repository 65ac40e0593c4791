// The auditor process: configuration from the environment (zod, every bad variable named), then
// telemetry, then startAuditor under platform's runService (SIGTERM → NOT_SERVING, leave the consumer
// group, final checkpoints, flush, close). A consumer that crashed for good ends the process (exit 70).
import { createLogger, loadConfig, runService, startTelemetry } from '@authority/platform';
import { auditorConfigChecks, auditorConfigSchema } from './config';
import { startAuditor } from './index';

runService({
  name: 'auditor',
  start: async (ctx) => {
    const config = loadConfig(auditorConfigSchema, process.env, auditorConfigChecks());
    const logger = createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
    // Traces and metrics (OTEL_* configures export; without it trace context only propagates).
    const telemetry = await startTelemetry({
      serviceName: config.AUTHORITY_SERVICE_NAME,
      onFlushError: (err) => logger.warn({ err }, 'telemetry: final flush failed (collector unreachable?); spans lost'),
    });
    ctx.onShutdown('telemetry', 'telemetry', () => telemetry.shutdown());
    const auditor = await startAuditor(config, { logger, onFatal: (err) => ctx.fatal(err, 'audit consumer crashed') });
    ctx.logger.info({ port: auditor.port }, 'auditor ready');
    return () => auditor.stop();
  },
});
