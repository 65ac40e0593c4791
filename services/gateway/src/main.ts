// The gateway process: validated config (the mapping file included) from the environment,
// telemetry, then startGateway under runService (SIGTERM → close sessions and upstreams, flush
// telemetry). With the stdio transport, stdout carries MCP: logs go to stderr.
import { createLogger, loadConfigOrExit, runService, startTelemetry } from '@authority/platform';
import { gatewayConfigChecks, gatewayConfigSchema } from './config';
import { startGateway } from './index';

const config = loadConfigOrExit(gatewayConfigSchema, process.env, gatewayConfigChecks());
const stdio = config.AUTHORITY_GATEWAY_TRANSPORT === 'stdio';
const logger = createLogger({
  service: config.AUTHORITY_SERVICE_NAME,
  level: config.AUTHORITY_LOG_LEVEL,
  ...(stdio ? { destination: { write: (line: string) => process.stderr.write(line) } } : {}),
});

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
    const gateway = await startGateway(config, { logger });
    return () => gateway.stop();
  },
});
