// The auditor process: configuration from the environment (zod, every bad variable named), then
// telemetry, then startAuditor under platform's runService (SIGTERM → NOT_SERVING, leave the consumer
// group, final checkpoints, flush, close). A consumer that crashed for good ends the process.
import { runServiceMain } from '@authority/platform';
import { auditorConfigChecks, auditorConfigSchema } from './config';
import { startAuditor } from './index';

runServiceMain({
  schema: auditorConfigSchema,
  checks: auditorConfigChecks(),
  fatalMessage: 'audit consumer crashed',
  start: async (config, deps) => {
    const auditor = await startAuditor(config, deps);
    deps.logger.info({ port: auditor.port }, 'auditor ready');
    return auditor;
  },
});
