// The policy service process: validated config from the environment, telemetry, then
// startPolicyService under runService (SIGTERM → NOT_SERVING, drain calls and watch streams,
// flush publishes, stop consumers, close MongoDB, flush telemetry).
import { createLogger, loadConfigOrExit, runService, startTelemetry } from '@authority/platform';
import { policyConfigChecks, policyConfigSchema } from './config';
import { startPolicyService } from './index';

const config = loadConfigOrExit(policyConfigSchema, process.env, policyConfigChecks());
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
    const policy = await startPolicyService(config, {
      logger,
      onFatal: (err) => ctx.fatal(err, 'Kafka consumer crashed for good'),
    });
    return () => policy.stop();
  },
});
