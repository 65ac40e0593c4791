// Configuration of the auditor: the common service variables, MongoDB, the checkpoint-signing key
// (and the previous public keys that still verify), the producers' event keys it trusts, the
// checkpoint cadence and the consumer's knobs. Every variable is documented with .describe(); docs/auditor.md lists them with defaults.
import { readFileSync, statSync } from 'node:fs';
import { z } from 'zod';
import { decodeKey32, parseTrustedEventKeys, type TrustedEventKey } from '@authority/core';
import {
  ConfigError,
  csv,
  DEFAULT_CONFIG_CHECKS,
  duration,
  integer,
  mongoConfigShape,
  serviceConfigSchema,
  text,
  type ConfigCheck,
  type ConfigIssue,
  apiKeySecret,
  key32Secret,
  bool,
} from '@authority/platform';

export const AUDITOR_DEFAULT_PORT = 50054;

const MONGO_DB_NAME = /^[A-Za-z0-9_-]{1,63}$/;
/** The auditor's Ed25519 seed: base64 of exactly 32 bytes. Never echoed. */
const signingSeed = () =>
  key32Secret('expected the base64 encoding of a 32-byte Ed25519 seed (e.g. `openssl rand -base64 32`)');

/** Comma-separated base64 Ed25519 public keys (32 bytes each). */
function publicKeys() {
  return csv().transform((items, ctx): Buffer[] => {
    const out: Buffer[] = [];
    items.forEach((item, i) => {
      const bytes = decodeKey32(item);
      if (bytes === undefined) {
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

/** A trusted event key list (core parseTrustedEventKeys); every problem reported. */
function trustedKeysFrom(text: string, ctx: { issues: unknown[] }): TrustedEventKey[] {
  const { keys, problems } = parseTrustedEventKeys(text);
  for (const problem of problems) (ctx.issues as object[]).push({ code: 'custom', message: problem, input: '' });
  if (problems.length === 0 && keys.length === 0)
    (ctx.issues as object[]).push({
      code: 'custom',
      message: 'expected at least one <key id>=<public key>',
      input: '',
    });
  return problems.length > 0 ? (z.NEVER as never) : keys;
}

function trustedKeys() {
  return z.string().transform((s, ctx): TrustedEventKey[] => trustedKeysFrom(s, ctx));
}

function trustedKeysFile() {
  return z.string().transform((s, ctx): TrustedEventKey[] => {
    let content: string;
    try {
      if (!statSync(s.trim()).isFile()) throw new Error('not a file');
      content = readFileSync(s.trim(), 'utf8');
    } catch {
      ctx.issues.push({ code: 'custom', message: 'file not found or not readable', input: s });
      return z.NEVER;
    }
    return trustedKeysFrom(content, ctx);
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
    AUTHORITY_EVENT_TRUSTED_KEYS: trustedKeys()
      .optional()
      .describe(
        'Producer keys whose audit records are chained: comma-separated `<key id>=<base64url Ed25519 public key>[;sources=<source>|…][;types=<ce_type>|…]` (e.g. `enforcer-1=…;sources=enforcer`). A record that is unsigned, badly signed, signed by another key, or by a key not allowed its event source or type is quarantined, never chained. This and/or AUTHORITY_EVENT_TRUSTED_KEYS_FILE is required.',
      ),
    AUTHORITY_EVENT_TRUSTED_KEYS_FILE: trustedKeysFile()
      .optional()
      .describe(
        'File with more trusted producer keys, the same entries one per line (`#` comments allowed); added to AUTHORITY_EVENT_TRUSTED_KEYS.',
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
    AUTHORITY_AUDITOR_AGGREGATES: bool()
      .prefault('true')
      .describe(
        'Store an aggregate with every appended chunk, so Attest and compliance reports read aggregates instead of rescanning the chain. false only to measure ingest without them: readers then recompute missing aggregates from the entries.',
      ),
    AUTHORITY_AUDITOR_AGGREGATE_MERGE_SPAN: integer({ min: 0, max: 10_000_000 })
      .prefault('25000')
      .describe(
        'Entries one merged aggregate counts: after an Attest or report, runs of consecutive aggregates that add up to it are merged into one in the background, so reads stay a few dozen documents at 1,000,000 entries. 0: no merging.',
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

/** At least one trusted event key, and no key id listed in both the variable and the file. */
export const checkTrustedEventKeys: ConfigCheck = (config) => {
  const inline = (config['AUTHORITY_EVENT_TRUSTED_KEYS'] as TrustedEventKey[] | undefined) ?? [];
  const file = (config['AUTHORITY_EVENT_TRUSTED_KEYS_FILE'] as TrustedEventKey[] | undefined) ?? [];
  const issues: ConfigIssue[] = [];
  if (inline.length + file.length === 0) {
    issues.push({
      variable: 'AUTHORITY_EVENT_TRUSTED_KEYS',
      problem:
        "required (or AUTHORITY_EVENT_TRUSTED_KEYS_FILE): the producers' public keys; without them every audit record would be quarantined",
    });
  }
  const inlineIds = new Set(inline.map((k) => k.kid));
  for (const k of file) {
    if (inlineIds.has(k.kid))
      issues.push({
        variable: 'AUTHORITY_EVENT_TRUSTED_KEYS_FILE',
        problem: `key id '${k.kid}' is also in AUTHORITY_EVENT_TRUSTED_KEYS`,
      });
  }
  return issues;
};

/** Cross-variable checks of the auditor's configuration (pass to loadConfig). */
export function auditorConfigChecks(): ConfigCheck[] {
  return [...DEFAULT_CONFIG_CHECKS, checkTrustedEventKeys];
}

/** The trusted event keys of a parsed config, by key id. Throws ConfigError (checkTrustedEventKeys). */
export function trustedEventKeysFromConfig(config: AuditorConfig): Map<string, TrustedEventKey> {
  const issues = checkTrustedEventKeys(config as unknown as Record<string, unknown>);
  if (issues.length > 0) throw new ConfigError(issues);
  const keys = [...(config.AUTHORITY_EVENT_TRUSTED_KEYS ?? []), ...(config.AUTHORITY_EVENT_TRUSTED_KEYS_FILE ?? [])];
  return new Map(keys.map((k) => [k.kid, k]));
}
