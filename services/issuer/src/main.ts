// The issuer process: configuration from the environment (zod, every bad variable named), telemetry,
// then startIssuer under platform's runService (SIGTERM → NOT_SERVING, drain, flush, close).
import { createLogger, loadConfigOrExit, runService, startTelemetry } from '@authority/platform';
import { issuerConfigChecks, issuerConfigSchema } from './config';
import { startIssuer } from './index';

const config = loadConfigOrExit(issuerConfigSchema, process.env, issuerConfigChecks());
const logger = createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });

runService({
  name: config.AUTHORITY_SERVICE_NAME,
  logger,
  graceMs: config.AUTHORITY_SHUTDOWN_GRACE,
  start: async (ctx) => {
    const telemetry = await startTelemetry({
      serviceName: config.AUTHORITY_SERVICE_NAME,
      onFlushError: (err) => logger.warn({ err }, 'telemetry: final flush failed (collector unreachable?); spans lost'),
    });
    ctx.onShutdown('telemetry', 'telemetry', () => telemetry.shutdown());
    const issuer = await startIssuer(config, { logger });
    logger.info({ port: issuer.port }, 'issuer ready');
    return () => issuer.stop();
  },
});
