// @authority/platform: shared runtime plumbing for the gRPC services.
//
// A service's main, in outline (each step registers its own shutdown, run in phase order):
//
//   const config = loadConfigOrExit(serviceConfigSchema({ serviceName: 'issuer', grpcPort: 50061 }).extend(mongoConfigShape));
//   const logger = createLogger({ service: config.AUTHORITY_SERVICE_NAME, level: config.AUTHORITY_LOG_LEVEL });
//   runService({ name: 'issuer', logger, graceMs: config.AUTHORITY_SHUTDOWN_GRACE, start: async (ctx) => {
//     const telemetry = await startTelemetry({ serviceName: config.AUTHORITY_SERVICE_NAME });
//     ctx.onShutdown('telemetry', 'otel', () => telemetry.shutdown());
//     const bus = kafkaFromConfig(config, { logger, onFatal: (e) => ctx.fatal(e, 'Kafka consumer crashed') });
//     ctx.onShutdown('consumers', 'kafka consumers', () => bus.stopConsumers());
//     ctx.onShutdown('producers', 'kafka producer', () => bus.closeProducer());
//     await bus.connectProducer();
//     const mongo = await connectMongo(config.MONGODB_URI, { appName: 'issuer', logger });
//     ctx.onShutdown('storage', 'mongodb', () => mongo.close());
//     const { packageDefinition } = loadAuthorityProto();
//     const server = await startGrpcServer({ services: [...], packageDefinition,
//       reflection: config.AUTHORITY_REFLECTION, host: config.AUTHORITY_GRPC_HOST, port: config.AUTHORITY_GRPC_PORT,
//       tls: tlsFromConfig(config), logger, serviceNames: ['authority.v1.Issuer'] });
//     ctx.onShutdown('grpc', 'grpc server', (remaining) => server.shutdown(remaining * 0.6));
//     const keys = await bus.catchUp({ topics: [topics(config.AUTHORITY_TOPIC_PREFIX).keys] }, applyKeyEvent);
//     await keys.caughtUp;      // NOT_SERVING until the state is rebuilt
//     server.health.setServing();
//   }});
export * from './config';
export * from './logger';
export * from './errors';
export * from './telemetry';
export * from './grpc-handlers';
export * from './grpc-server';
export * from './service-runner';
export * from './service-main';
export * from './service-lifecycle';
export * from './auth';
export * from './kafka';
export * from './kafka-retry';
export * from './mongo';
