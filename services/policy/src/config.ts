// Configuration of the policy service: the common variables plus MongoDB, the audit-event signing
// key and the service's own.
import { z } from 'zod';
import {
  checkEventSigningKey,
  DEFAULT_CONFIG_CHECKS,
  duration,
  eventSigningConfigShape,
  integer,
  mongoConfigShape,
  serviceConfigSchema,
  text,
  apiKeySecret,
  type ConfigCheck,
} from '@authority/platform';

export const POLICY_DEFAULT_GRPC_PORT = 50053;

export const policyConfigSchema = serviceConfigSchema({
  serviceName: 'policy',
  grpcPort: POLICY_DEFAULT_GRPC_PORT,
}).extend({
  MONGODB_URI: mongoConfigShape.MONGODB_URI.describe(
    'MongoDB connection string (mongodb://...) of the store of policy versions, the linearization point of PutPolicy. Required; may contain a password, so it is never logged.',
  ),
  AUTHORITY_OPERATOR_API_KEY: apiKeySecret().describe(
    'Operator API key (Bearer): may act for every tenant. Required; never logged.',
  ),
  AUTHORITY_POLICY_DB: text()
    .prefault('authority_policy')
    .describe('MongoDB database holding the policy versions (collection `policy_versions`).'),
  AUTHORITY_POLICY_REPUBLISH_INTERVAL: duration()
    .prefault('15s')
    .describe(
      'How often a replica looks for stored but unpublished versions (a crash or a Kafka outage between the MongoDB insert and the publish) and publishes them. Also done once at start, before SERVING.',
    ),
  AUTHORITY_POLICY_WATCH_POLL_INTERVAL: duration()
    .prefault('2s')
    .describe(
      'WatchPolicies safety net: how often open watch streams look for versions they have not been told about. New versions normally reach watchers at once (local puts and the policies topic).',
    ),
  AUTHORITY_POLICY_MAX_WATCHERS: integer({ min: 1, max: 100_000 })
    .prefault('1000')
    .describe('Most concurrent WatchPolicies streams per replica; further ones get RESOURCE_EXHAUSTED.'),
  AUTHORITY_POLICY_MAX_RECORD_BYTES: integer({ min: 10_000, max: 100_000_000 })
    .prefault('1000000')
    .describe(
      "Largest policy accepted, measured as its JSON-escaped YAML in the Kafka record, so every stored version can be published. Keep it below the brokers' message.max.bytes (1 MiB by default); raise both together.",
    ),
  AUTHORITY_POLICY_MAX_PAGE_SIZE: integer({ min: 1, max: 10_000 })
    .prefault('500')
    .describe('Largest page ListPolicyVersions returns (page_size is capped to it; default page is 50).'),
  // The audit-event signing key (every audit record of the service is signed with it).
  ...eventSigningConfigShape,
});

export type PolicyConfig = z.output<typeof policyConfigSchema>;

/** Cross-variable checks of the policy service's configuration (pass to loadConfig). */
export function policyConfigChecks(): ConfigCheck[] {
  return [...DEFAULT_CONFIG_CHECKS, checkEventSigningKey];
}
