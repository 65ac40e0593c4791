// Integration tests run against the REAL local broker and server: they fail (never skip) when
// KAFKA_BROKERS / MONGODB_URI are unset. `source .infra/env` (npm run infra:up) sets them.
export function requireEnv(name: 'KAFKA_BROKERS' | 'MONGODB_URI'): string {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set: integration tests need the real service (run \`npm run infra:up && source .infra/env\`)`,
    );
  }
  return value;
}
