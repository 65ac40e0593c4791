// The enforcer process: validated config from the environment, telemetry, then startEnforcer under
// runService (SIGTERM → NOT_SERVING, drain, stop consumers, flush audit and producer, telemetry).
import { createLogger, loadConfigOrExit, runService, startTelemetry } from '@authority/platform';
import { enforcerConfigChecks, enforcerConfigSchema } from './config';
import { startEnforcer } from './index';

const config = loadConfigOrExit(enforcerConfigSchema, process.env, enforcerConfigChecks());
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
    const enforcer = await startEnforcer(config, {
      logger,
      onFatal: (err) => ctx.fatal(err, 'Kafka consumer crashed or audit producer thread failed for good'),
    });
    return () => enforcer.stop();
  },
});
