// Configuration of the enforcer: the common service variables plus the hot path's own knobs.
// Every variable is documented with .describe(); docs/enforcer.md lists them with their defaults.
import { hostname } from 'node:os';
import { z } from 'zod';
import {
  checkEventSigningKey,
  checkKafkaSecurity,
  checkTlsSettings,
  duration,
  eventSigningConfigShape,
  integer,
  serviceConfigSchema,
  text,
  type ConfigCheck,
  apiKeySecret,
  wholeSeconds,
} from '@authority/platform';

export const ENFORCER_DEFAULT_PORT = 50052;

export const AUDIT_MODES = ['sync', 'async'] as const;
export type AuditMode = (typeof AUDIT_MODES)[number];

function auditMode() {
  return z.string().transform((s, ctx): AuditMode => {
    const t = s.trim().toLowerCase();
    if ((AUDIT_MODES as readonly string[]).includes(t)) return t as AuditMode;
    ctx.issues.push({ code: 'custom', message: `expected one of ${AUDIT_MODES.join(', ')}`, input: s });
    return z.NEVER;
  });
}

const BYTE_UNITS: Record<string, number> = { '': 1, b: 1, kib: 1024, mib: 1024 ** 2, gib: 1024 ** 3 };

/** A size in bytes: an integer, optionally with a unit `B`, `KiB`, `MiB` or `GiB` (e.g. `64MiB`). */
export function byteSize(opts: { min: number; max: number }) {
  return z.string().transform((s, ctx): number => {
    const m = /^(\d+)\s*([A-Za-z]*)$/.exec(s.trim());
    const unit = BYTE_UNITS[m?.[2]?.toLowerCase() ?? ''];
    const n = m !== null && unit !== undefined ? Number(m[1]) * unit : NaN;
    if (!Number.isSafeInteger(n) || n < opts.min || n > opts.max) {
      ctx.issues.push({
        code: 'custom',
        message: `expected a size between ${opts.min / 1024 ** 2}MiB and ${opts.max / 1024 ** 3}GiB (an integer of bytes, or with a unit B, KiB, MiB or GiB)`,
        input: s,
      });
      return z.NEVER;
    }
    return n;
  });
}

/** A share: a percentage (`25%`) or a fraction (`0.25`), more than 0 and at most 100 %. */
export function share() {
  return z.string().transform((s, ctx): number => {
    const t = s.trim();
    const m = /^(\d+(?:\.\d+)?)(%?)$/.exec(t);
    const n = m === null ? NaN : m[2] === '%' ? Number(m[1]) / 100 : Number(m[1]);
    if (!(n > 0 && n <= 1)) {
      ctx.issues.push({
        code: 'custom',
        message: 'expected a share above 0 and at most 100% (e.g. 25% or 0.25)',
        input: s,
      });
      return z.NEVER;
    }
    return n;
  });
}

/**
 * The default replica id: the host name (a pod's name), plus `-<pid>` unless the process is pid 1
 * (a container's main process), so two enforcers started on one machine never share an id.
 */
export function defaultEnforcerId(host = hostname(), pid = process.pid): string {
  return pid === 1 ? host : `${host}-${pid}`;
}

export const enforcerConfigSchema = serviceConfigSchema({
  serviceName: 'enforcer',
  grpcPort: ENFORCER_DEFAULT_PORT,
}).extend({
  AUTHORITY_OPERATOR_API_KEY: apiKeySecret().describe(
    'Operator credential (Bearer API key). May call Check/BatchCheck for any tenant. Required.',
  ),
  AUTHORITY_SERVICE_API_KEY: apiKeySecret()
    .optional()
    .describe(
      'Internal service credential the enforcer presents to the issuer for RequestApproval/ConsumeApproval. Without it (or AUTHORITY_ISSUER_ADDR) a check that needs an approval is denied APPROVAL_REQUIRED without a request id.',
    ),
  AUTHORITY_ISSUER_ADDR: text()
    .optional()
    .describe('host:port of the issuer gRPC service (approval requests and single-use consumption).'),
  AUTHORITY_ISSUER_TIMEOUT: duration()
    .prefault('2s')
    .describe('Deadline of each approval call to the issuer; on timeout the check is denied (fail closed).'),
  AUTHORITY_MEMO_BYTES: byteSize({ min: 1024 ** 2, max: 64 * 1024 ** 3 })
    .prefault('64MiB')
    .describe(
      'Byte budget of the memo of verified links (entries, the values they share and the text index; each link is charged an upper estimate of the heap it holds). Keep it well under the heap limit (--max-old-space-size).',
    ),
  AUTHORITY_MEMO_TENANT_SHARE: share()
    .prefault('25%')
    .describe(
      'Most of the memo one tenant may hold (a percentage or a fraction): a tenant over it evicts its own oldest links, so a flood of distinct links in one tenant never evicts the others. 100% for a single-tenant deployment.',
    ),
  AUTHORITY_MEMO_SIZE: integer({ min: 1, max: 10_000_000 })
    .optional()
    .describe(
      'Optional bound on the number of links in the memo, on top of AUTHORITY_MEMO_BYTES (which is what bounds its memory).',
    ),
  AUTHORITY_POP_WINDOW: duration()
    .prefault('60s')
    .describe(
      "Freshness window of a per-request proof of possession: its 'iat' may be this old (plus the clock skew); its nonce is remembered that long.",
    ),
  AUTHORITY_REPLAY_CACHE_SIZE: integer({ min: 1, max: 100_000_000 })
    .prefault('200000')
    .describe(
      'Nonces of per-request proofs remembered per replica (size it as proofs per second × (window + skew)); when full, proofs are refused INVALID_PROOF until nonces expire (fail closed).',
    ),
  AUTHORITY_REPLAY_TENANT_SHARE: share()
    .prefault('25%')
    .describe(
      "Most of the replay cache one tenant's unexpired nonces may fill: beyond it only that tenant's proofs are refused INVALID_PROOF. 100% for a single-tenant deployment.",
    ),
  AUTHORITY_MAX_STALENESS: duration()
    .prefault('10s')
    .describe(
      'Fail-closed bound (at least 6s): when the revocation feed is disconnected, or its consumer has not completed a fetch for longer than this, every check is denied STALE_STATE and health is NOT_SERVING.',
    ),
  AUTHORITY_AUDIT_MODE: auditMode()
    .prefault('sync')
    .describe(
      'sync: an ALLOW is answered only after its audit event is acknowledged by Kafka (acks=all). async: decisions are answered at once and their events flushed from a bounded buffer; a full buffer denies AUDIT_UNAVAILABLE.',
    ),
  AUTHORITY_AUDIT_BUFFER: integer({ min: 1, max: 10_000_000 })
    .prefault('10000')
    .describe(
      'async: capacity of the audit buffer (events buffered or in flight). sync: unacknowledged events beyond which DENY answers also wait for their ack (bounded memory under a flood of bad tokens).',
    ),
  AUTHORITY_AUDIT_PRODUCE_REQUESTS: integer({ min: 1, max: 16 })
    .prefault('1')
    .describe(
      'Audit produce requests in flight at once (each acknowledged on its own, resent whole on a retriable failure). Above 1, events of one tenant may reach the topic out of decision order; the auditor chains each event id once.',
    ),
  AUTHORITY_AUDIT_TIMEOUT: duration()
    .prefault('10s')
    .describe(
      'How long an audit event may wait for its Kafka acknowledgement; an ALLOW not acknowledged in time is answered DENY AUDIT_UNAVAILABLE.',
    ),
  AUTHORITY_CLOCK_SKEW: wholeSeconds()
    .prefault('30s')
    .describe('Clock-skew tolerance applied to exp, nbf and iat of every link (whole seconds).'),
  AUTHORITY_MAX_DEPTH: integer({ min: 0, max: 8 })
    .prefault('8')
    .describe('Maximum delegation depth of a token (the root is depth 0).'),
  AUTHORITY_ENFORCER_ID: text()
    .prefault(defaultEnforcerId())
    .describe(
      'Id of this enforcer replica, recorded in every decision event (default: the host name, i.e. the pod name, plus the process id unless it is 1, so two replicas on one host differ).',
    ),
  AUTHORITY_AUDIENCE: text()
    .optional()
    .describe(
      'Audience of this enforcer. A link carrying `aud` must name it; when unset, tokens with `aud` are denied AUDIENCE_MISMATCH.',
    ),
  // The audit-event signing key (the producer thread signs every decision event with it).
  ...eventSigningConfigShape,
});

export type EnforcerConfig = z.output<typeof enforcerConfigSchema>;

/** Cross-variable checks of the enforcer's configuration (pass to loadConfig). */
export function enforcerConfigChecks(): ConfigCheck[] {
  return [checkTlsSettings, checkApprovalSettings, checkStalenessBound, checkKafkaSecurity, checkEventSigningKey];
}

/**
 * The state consumer long-polls Kafka with kafkajs' default maxWaitTimeInMs (5 s): an idle but
 * healthy feed completes a fetch at least every 5 s, so a staleness bound below 6 s would flap.
 */
export const MIN_MAX_STALENESS_MS = 6_000;

export const checkStalenessBound: ConfigCheck = (config) => {
  const bound = config['AUTHORITY_MAX_STALENESS'];
  if (typeof bound === 'number' && bound < MIN_MAX_STALENESS_MS) {
    return [
      {
        variable: 'AUTHORITY_MAX_STALENESS',
        problem: `must be at least ${MIN_MAX_STALENESS_MS / 1000}s (an idle feed completes a fetch every 5 s)`,
      },
    ];
  }
  return [];
};

/** Approval calls need both the issuer's address and the service credential. */
export const checkApprovalSettings: ConfigCheck = (config) => {
  const addr = config['AUTHORITY_ISSUER_ADDR'];
  const key = config['AUTHORITY_SERVICE_API_KEY'];
  if (addr !== undefined && key === undefined) {
    return [{ variable: 'AUTHORITY_SERVICE_API_KEY', problem: 'required when AUTHORITY_ISSUER_ADDR is set' }];
  }
  return [];
};
