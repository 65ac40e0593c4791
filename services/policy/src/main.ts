// The policy service process: validated config from the environment, telemetry, then
// startPolicyService under runService (SIGTERM → NOT_SERVING, drain calls and watch streams,
// flush publishes, stop consumers, close MongoDB, flush telemetry).
import { runServiceMain } from '@authority/platform';
import { policyConfigChecks, policyConfigSchema } from './config';
import { startPolicyService } from './index';

runServiceMain({
  schema: policyConfigSchema,
  checks: policyConfigChecks(),
  fatalMessage: 'Kafka consumer crashed for good',
  start: (config, deps) => startPolicyService(config, deps),
});
