/**
 * Contract rules of the wire that every service, the SDK and the CLI share (one home, so no two
 * spell them differently): CloudEvents types and sources of the Kafka events, the record-key
 * formats of the topics, and the `authority-*` gRPC metadata keys. The tenant-id rule lives next
 * door (identifiers.ts), token peeking in envelope/peek.ts. Changing a value here changes the wire:
 * consumers must keep accepting what is already in the topics.
 */

/** ce_type of each event (the proto message in proto/authority/v1/events.proto). */
export const EVENT_TYPES = {
  key: 'authority.key.v1',
  credential: 'authority.credential.v1',
  revocation: 'authority.revocation.v1',
  policy: 'authority.policy.v1',
  audit: 'authority.audit.v1',
  checkpoint: 'authority.checkpoint.v1',
  chain: 'authority.chain.v1',
} as const;

/** The services that publish events; also the AuditEvent `source` field of their audit events. */
export type EventProducer = 'issuer' | 'enforcer' | 'policy' | 'auditor';

/**
 * ce_source of a service's events: the URI-reference `/authority/<service>` (CloudEvents: a
 * URI-reference identifying the context). The AuditEvent's own `source` field is the bare service
 * name (what a trusted producer key's `sources=` lists); the header is not read by consumers, so
 * records written before this rule (the enforcer's plain `enforcer`) stay valid.
 */
export function eventSource(service: EventProducer): `/authority/${EventProducer}` {
  return `/authority/${service}`;
}

/** Digits of a policy version in its record key (zero-padded, so keys sort by version). */
export const POLICY_VERSION_KEY_DIGITS = 12;

/**
 * Record keys of the topics. Tenant ids never contain `/` (TENANT_ID_PATTERN), so the tenant is
 * always the first segment; audit and checkpoint records are keyed by the tenant alone, so one
 * tenant's events keep their order in one partition.
 */
export const recordKeys = {
  /** `<prefix>keys`, a KeyEvent. */
  key: (tenant: string, kid: string): string => `${tenant}/key/${kid}`,
  /** `<prefix>keys`, a CredentialEvent. */
  credential: (tenant: string, credentialId: string): string => `${tenant}/credential/${credentialId}`,
  /** `<prefix>revocations`, one link revoked by its jti. */
  revokedJti: (tenant: string, jti: string): string => `${tenant}/jti/${jti}`,
  /** `<prefix>revocations`, an agent's links issued up to a time. */
  revokedAgent: (tenant: string, agentId: string): string => `${tenant}/agent/${agentId}`,
  /** `<prefix>policies`, one version of a tenant's policy. */
  policyVersion: (tenant: string, version: number): string =>
    `${tenant}/${String(version).padStart(POLICY_VERSION_KEY_DIGITS, '0')}`,
  /** `<prefix>audit` and `<prefix>checkpoints`. */
  tenant: (tenant: string): string => tenant,
} as const;

/** A `<tenant>/<kind>/<id>` record key of the keys or revocations topic, split. */
export interface ParsedRecordKey {
  tenant: string;
  kind: string;
  /** Everything after the kind (may itself contain `/`, e.g. an agent lineage). */
  id: string;
}

/** Splits a `<tenant>/<kind>/<id>` record key; undefined when a part is missing. */
export function parseRecordKey(recordKey: string): ParsedRecordKey | undefined {
  const [tenant, kind, ...rest] = recordKey.split('/');
  const id = rest.join('/');
  if (!tenant || !kind || !id) return undefined;
  return { tenant, kind, id };
}

/** gRPC trailing-metadata keys the services set on error statuses, and clients read. */
export const METADATA_KEYS = {
  /** A stable reason code (a ReasonCode name or a platform reason such as `UNAVAILABLE`). */
  reason: 'authority-reason',
  /** The request or token field at fault. */
  field: 'authority-field',
  /** On INTERNAL errors: the id under which the server logged the details. */
  errorId: 'authority-error-id',
  /** On an invalid policy (PolicyService): JSON array of ValidationIssue. */
  issues: 'authority-issues-json',
} as const;
