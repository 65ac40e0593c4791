// The issuer process: configuration from the environment (zod, every bad variable named), telemetry,
// then startIssuer under platform's runService (SIGTERM → NOT_SERVING, drain, flush, close).
import { runServiceMain } from '@authority/platform';
import { issuerConfigChecks, issuerConfigSchema } from './config';
import { startIssuer } from './index';

runServiceMain({
  schema: issuerConfigSchema,
  checks: issuerConfigChecks(),
  start: async (config, { logger }) => {
    const issuer = await startIssuer(config, { logger });
    logger.info({ port: issuer.port }, 'issuer ready');
    return issuer;
  },
});
