// The infrastructure integration tests run against: the real Kafka and MongoDB-wire server.

export interface Infra {
  brokers: string;
  mongo: string;
}

/** KAFKA_BROKERS and MONGODB_URI, or a loud failure (integration tests never skip). */
export function requireInfra(env: NodeJS.ProcessEnv = process.env): Infra {
  const brokers = env['KAFKA_BROKERS'];
  const mongo = env['MONGODB_URI'];
  if (!brokers || !mongo) {
    throw new Error(
      'integration tests need KAFKA_BROKERS and MONGODB_URI (run `source .infra/env` in the repository after `npm run infra:up`)',
    );
  }
  return { brokers, mongo };
}
