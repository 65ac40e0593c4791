// The issuer process: configuration from the environment (zod, every bad variable named), then
// startIssuer under platform's runService (SIGTERM → NOT_SERVING, drain, flush, close).
import { createLogger, loadConfig, runService } from '@authority/platform';
import { issuerConfigSchema } from './config';
import { startIssuer } from './index';

runService({
  name: 'issuer',
  start: async (ctx) => {
    const config = loadConfig(issuerConfigSchema);
    const logger = createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
    const issuer = await startIssuer(config, { logger });
    ctx.logger.info({ port: issuer.port }, 'issuer ready');
    return () => issuer.stop();
  },
});
