// Configuration of the auditor: the common service variables, MongoDB, the checkpoint-signing key
// (and the previous public keys that still verify), the checkpoint cadence and the consumer's
// knobs. Every variable is documented with .describe(); docs/auditor.md lists them with defaults.
import { z } from 'zod';
import {
  csv,
  duration,
  integer,
  mongoConfigShape,
  secret,
  serviceConfigSchema,
  text,
  Secret,
  apiKeySecret,
} from '@authority/platform';

export const AUDITOR_DEFAULT_PORT = 50054;

const MONGO_DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;
const BASE64 = /^[A-Za-z0-9+/_-]+={0,2}$/;

function decodeBase64(text: string): Buffer | undefined {
  return BASE64.test(text) ? Buffer.from(text, 'base64') : undefined;
}

/** The auditor's Ed25519 seed: base64 of exactly 32 bytes. Never echoed. */
function signingSeed() {
  return secret().transform((s, ctx): Secret => {
    const bytes = decodeBase64(s.reveal());
    if (bytes === undefined || bytes.length !== 32) {
      ctx.issues.push({
        code: 'custom',
        message: 'expected the base64 encoding of a 32-byte Ed25519 seed (e.g. `openssl rand -base64 32`)',
        input: '',
      });
      return z.NEVER;
    }
    return s;
  });
}

/** Comma-separated base64 Ed25519 public keys (32 bytes each). */
function publicKeys() {
  return csv().transform((items, ctx): Buffer[] => {
    const out: Buffer[] = [];
    items.forEach((item, i) => {
      const bytes = decodeBase64(item);
      if (bytes === undefined || bytes.length !== 32) {
        ctx.issues.push({
          code: 'custom',
          message: `item ${i + 1}: expected base64 of a 32-byte Ed25519 public key`,
          input: item,
        });
      } else {
        out.push(bytes);
      }
    });
    return out;
  });
}

export const auditorConfigSchema = serviceConfigSchema({ serviceName: 'auditor', grpcPort: AUDITOR_DEFAULT_PORT })
  .extend(mongoConfigShape)
  .extend({
    AUTHORITY_AUDITOR_DB: z
      .string()
      .regex(MONGO_DB_NAME, 'expected 1-63 letters, digits, "_" or "-"')
      .prefault('authority_auditor')
      .describe(
        'MongoDB database holding the chains (`entries`), `checkpoints`, quarantined records (`rejected`) and head hints (`heads`).',
      ),
    AUTHORITY_AUDITOR_SIGNING_KEY: signingSeed().describe(
      'Checkpoint and attestation signing key: base64 of a 32-byte Ed25519 seed (a Kubernetes Secret in production). Its key id is the first 16 hex digits of SHA-256 of the public key. Required.',
    ),
    AUTHORITY_AUDITOR_PREVIOUS_KEYS: publicKeys()
      .optional()
      .describe(
        'Comma-separated base64 Ed25519 public keys of earlier signing keys (rotation): checkpoints and attestations they signed still verify; they sign nothing new.',
      ),
    AUTHORITY_OPERATOR_API_KEY: apiKeySecret().describe(
      'Operator credential (Bearer API key): may query, verify, attest and report for any tenant. Required.',
    ),
    AUTHORITY_CHECKPOINT_EVERY: integer({ min: 1, max: 100_000_000 })
      .prefault('1000')
      .describe('Sign a checkpoint of a tenant chain at least every this many new entries.'),
    AUTHORITY_CHECKPOINT_INTERVAL: duration()
      .prefault('30s')
      .describe('Also sign a checkpoint of every tenant chain with new entries this often.'),
    AUTHORITY_AUDITOR_GROUP_ID: text()
      .prefault('authority-auditor')
      .describe('Kafka consumer group of the auditor replicas (they split the audit partitions).'),
    AUTHORITY_AUDITOR_SESSION_TIMEOUT: duration()
      .prefault('30s')
      .describe(
        'Kafka consumer session timeout: how long a crashed replica holds its partitions (the broker requires >= 6s by default).',
      ),
    AUTHORITY_AUDITOR_FETCH_MAX_WAIT: duration()
      .prefault('500ms')
      .describe('Longest a fetch waits for new audit records (also bounds how long stopping the consumer takes).'),
    AUTHORITY_AUDITOR_FETCH_MAX_BYTES: integer({ min: 1024, max: 64 * 1024 * 1024 })
      .prefault(String(1024 * 1024))
      .describe('Bytes fetched per partition per batch; one batch is appended and committed at a time.'),
    AUTHORITY_AUDITOR_PARTITIONS_CONCURRENCY: integer({ min: 1, max: 64 })
      .prefault('3')
      .describe('Audit partitions processed at once (each partition still one batch at a time, in order).'),
    AUTHORITY_AUDITOR_WRITE_CONCURRENCY: integer({ min: 1, max: 64 })
      .prefault('1')
      .describe(
        'Chain inserts in flight at once across tenants. 1 suits FerretDB/SQLite (one writer; concurrent writers wait in its busy handler); raise it on MongoDB.',
      ),
    AUTHORITY_QUERY_SCAN_LIMIT: integer({ min: 100, max: 10_000_000 })
      .prefault('50000')
      .describe(
        'Most chain entries one QueryEvents call examines; when reached, the page is returned with a cursor to continue.',
      ),
    AUTHORITY_MAX_SCAN_ENTRIES: integer({ min: 100, max: 1_000_000_000 })
      .prefault('1000000')
      .describe(
        'Most chain entries one VerifyChain, Attest or GetComplianceReport call reads. A call that would read more is refused before it reads anything: VerifyChain with INVALID_ARGUMENT (verify a smaller [from_seq, to_seq]), Attest and GetComplianceReport with FAILED_PRECONDITION (they verify the chain from its start), reason SCAN_LIMIT_EXCEEDED.',
      ),
  });

export type AuditorConfig = z.output<typeof auditorConfigSchema>;
