// The enforcer process: validated config from the environment, telemetry, then startEnforcer under
// runService (SIGTERM → NOT_SERVING, drain, stop consumers, flush audit and producer, telemetry).
import { runServiceMain } from '@authority/platform';
import { enforcerConfigChecks, enforcerConfigSchema } from './config';
import { startEnforcer } from './index';

runServiceMain({
  schema: enforcerConfigSchema,
  checks: enforcerConfigChecks(),
  fatalMessage: 'Kafka consumer crashed or audit producer thread failed for good',
  start: (config, deps) => startEnforcer(config, deps),
});
