// Configuration of the issuer: the common service variables, MongoDB, the audit-event signing key,
// the key-encryption key, the credentials from configuration, and the approval and key life-cycle knobs. Every variable is
// documented with .describe(); docs/issuer.md lists them with their defaults.
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
  type ConfigCheck,
  apiKeySecret,
  key32Secret,
  wholeSeconds,
} from '@authority/platform';

export const ISSUER_DEFAULT_PORT = 50051;

/** The key-encryption key: never echoed; a wrong length names the variable. */
const keyEncryptionKey = () =>
  key32Secret('expected the base64 encoding of exactly 32 random bytes (e.g. `openssl rand -base64 32`)');

const MONGO_DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;

export const issuerConfigSchema = serviceConfigSchema({ serviceName: 'issuer', grpcPort: ISSUER_DEFAULT_PORT })
  .extend(mongoConfigShape)
  .extend(eventSigningConfigShape)
  .extend({
    AUTHORITY_ISSUER_DB: z
      .string()
      .regex(MONGO_DB_NAME, 'expected 1-63 letters, digits, "_" or "-"')
      .prefault('authority_issuer')
      .describe('MongoDB database holding tenants, encrypted signing keys, credential hashes and approvals.'),
    AUTHORITY_ISSUER_KEK: keyEncryptionKey().describe(
      'Key-encryption key: base64 of 32 random bytes (a Kubernetes Secret in production). Private signing keys are stored AES-256-GCM-encrypted under it; the process refuses to start when it cannot decrypt what is stored. Required.',
    ),
    AUTHORITY_OPERATOR_API_KEY: apiKeySecret().describe(
      'Operator credential (Bearer API key): creates tenants and may act for any tenant. Required.',
    ),
    AUTHORITY_SERVICE_API_KEY: apiKeySecret()
      .optional()
      .describe(
        'Internal service credential of the enforcers: may call RequestApproval, ConsumeApproval and GetApproval for any tenant.',
      ),
    AUTHORITY_ISSUER_NAME: text()
      .optional()
      .describe('When set, written as the `iss` claim of every link the issuer signs (informational).'),
    AUTHORITY_CLOCK_SKEW: wholeSeconds()
      .prefault('30s')
      .describe(
        'Clock-skew tolerance applied when verifying a parent token for Delegate, and added to revocation and key retention times (whole seconds).',
      ),
    AUTHORITY_MAX_DEPTH: integer({ min: 0, max: 8 })
      .prefault('8')
      .describe('Maximum delegation depth (the root is depth 0).'),
    AUTHORITY_APPROVAL_TIMEOUT: duration()
      .prefault('15m')
      .describe('An approval request not decided within this time is auto-denied (EXPIRED_UNUSED, audited).'),
    AUTHORITY_APPROVAL_USE_WINDOW: duration()
      .prefault('10m')
      .describe('How long an approved request may be used (once) after its approval.'),
    AUTHORITY_SWEEP_INTERVAL: duration()
      .prefault('30s')
      .describe('Period of the background sweep that auto-denies or expires approvals and retires verify-only keys.'),
  });

export type IssuerConfig = z.output<typeof issuerConfigSchema>;

/** Cross-variable checks of the issuer's configuration (pass to loadConfig). */
export function issuerConfigChecks(): ConfigCheck[] {
  return [...DEFAULT_CONFIG_CHECKS, checkEventSigningKey];
}
