// The gateway process: validated config (the mapping file included) from the environment,
// telemetry, then startGateway under runService (SIGTERM → close sessions and upstreams, flush
// telemetry). With the stdio transport, stdout carries MCP: logs go to stderr.
import { runServiceMain } from '@authority/platform';
import { gatewayConfigChecks, gatewayConfigSchema } from './config';
import { startGateway } from './index';

runServiceMain({
  schema: gatewayConfigSchema,
  checks: gatewayConfigChecks(),
  logDestination: (config) =>
    config.AUTHORITY_GATEWAY_TRANSPORT === 'stdio'
      ? { write: (line: string) => process.stderr.write(line) }
      : undefined,
  start: (config, { logger }) => startGateway(config, { logger }),
});
