// The auditor process: configuration from the environment (zod, every bad variable named), then
// startAuditor under platform's runService (SIGTERM → NOT_SERVING, leave the consumer group, final
// checkpoints, flush, close). A consumer that crashed for good ends the process (exit 70).
import { createLogger, loadConfig, runService } from '@authority/platform';
import { auditorConfigSchema } from './config';
import { startAuditor } from './index';

runService({
  name: 'auditor',
  start: async (ctx) => {
    const config = loadConfig(auditorConfigSchema);
    const logger = createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
    const auditor = await startAuditor(config, { logger, onFatal: (err) => ctx.fatal(err, 'audit consumer crashed') });
    ctx.logger.info({ port: auditor.port }, 'auditor ready');
    return () => auditor.stop();
  },
});
