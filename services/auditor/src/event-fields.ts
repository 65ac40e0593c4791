// Reading audit events: admitting a Kafka record into a chain (the record must be signed by a
// trusted producer key allowed to speak for the event's source, and be an AuditEvent whose tenant
// is the record key and the CloudEvents subject), and pulling the fields the auditor indexes,
// filters and counts on out of the raw proto3 JSON bytes.
//
// The chain hashes the raw bytes; every derived value (the indexed fields of an entry, what a
// query matches, what an attestation counts) is read back from those bytes with `eventFields`,
// one fast JSON.parse that accepts every spelling proto3 JSON allows (lowerCamel or original
// field names, enum names or numbers). Ingest also decodes each record with protobuf-es as a
// schema check and refuses records on which the two readings disagree.
import {
  eventKeyScopeProblem,
  verifyEventSignature,
  type EventKeyResolver,
  type VerifiedBatchRoots,
} from '@authority/core';
import { decodeEvent, pb } from '@authority/proto';
import { headerString, type ConsumedMessage } from '@authority/platform';

/** The fields of an event the auditor indexes and counts on. */
export interface EventFields {
  eventId: string;
  tenant: string;
  /** Event time in ms since the epoch; undefined when the event has none (or it is unreadable). */
  timeMs: number | undefined;
  /** Actor.agent_id: the acting agent (the leaf of the delegation path). */
  agent: string;
  /** Actor.agent_chain: `sub` of every link, root first (empty for events written before it existed). */
  agentChain: string[];
  /** Actor.chain_unverified: the path is only what a token that failed verification claimed. */
  chainUnverified: boolean;
  action: string;
  resource: string;
  /** Enum value name, e.g. `ALLOW`; `DECISION_UNSPECIFIED` when absent. */
  decision: string;
  /** Enum value name, e.g. `ALLOWED`; `REASON_CODE_UNSPECIFIED` when absent. */
  reason: string;
  traceId: string;
  /** CheckDetail.purpose, when the event is a check that carries one. */
  purpose: string;
  /** AuditEvent.source: the service that produced the event (what a producer key may sign for). */
  source: string;
}

/**
 * The agent that acted: `agent_id`, or the leaf of the delegation path for an event that names
 * only a path.
 */
export function actingAgent(f: Pick<EventFields, 'agent' | 'agentChain'>): string {
  if (f.agent !== '') return f.agent;
  for (let i = f.agentChain.length - 1; i >= 0; i--) if (f.agentChain[i] !== '') return f.agentChain[i] as string;
  return '';
}

/**
 * The agents an event is attributed to, root first: its delegation path (`agent_chain`), followed
 * by the acting agent when the path does not name it; `[agent_id]` for an event without a path
 * (written before paths were recorded); empty when the event names no agent. An event counts for
 * every agent on it (QueryEvents, Attest, the report); the entry stores it as `agents`.
 */
export function agentPath(f: Pick<EventFields, 'agent' | 'agentChain'>): string[] {
  const path = f.agentChain.filter((a) => a !== '');
  if (f.agent !== '' && !path.includes(f.agent)) path.push(f.agent);
  return path;
}

/**
 * An agent's part in an event: ACTED when it is the acting agent, DELEGATED when it is earlier
 * on the delegation path, undefined when it is not on the path.
 */
export function agentRole(
  f: Pick<EventFields, 'agent' | 'agentChain'>,
  agent: string,
): 'ACTED' | 'DELEGATED' | undefined {
  if (agent === '') return undefined;
  if (actingAgent(f) === agent) return 'ACTED';
  return f.agentChain.includes(agent) ? 'DELEGATED' : undefined;
}

/** Longest tenant id and event id accepted into a chain. */
export const MAX_TENANT_LENGTH = 256;
export const MAX_EVENT_ID_LENGTH = 256;

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function pick(o: Json, camel: string, snake: string): unknown {
  const v = o[camel];
  return v !== undefined ? v : o[snake];
}

function str(v: unknown): string {
  return typeof v === 'string' ? v : '';
}

function strings(v: unknown): string[] {
  return Array.isArray(v) ? v.map(str) : [];
}

function enumName(v: unknown, names: Record<number, string | undefined>, unspecified: string): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return names[v] ?? String(v);
  return unspecified;
}

const DECISION_NAMES = pb.Decision as unknown as Record<number, string | undefined>;
const REASON_NAMES = pb.ReasonCode as unknown as Record<number, string | undefined>;

/** RFC 3339 → ms since the epoch (sub-millisecond digits dropped); undefined when unreadable. */
export function parseRfc3339(v: unknown): number | undefined {
  if (typeof v !== 'string') return undefined;
  const ms = Date.parse(v);
  return Number.isFinite(ms) ? ms : undefined;
}

/** The indexed fields of raw proto3 JSON event bytes; undefined when the bytes are not a JSON object. */
export function eventFields(raw: Uint8Array): EventFields | undefined {
  let o: unknown;
  try {
    o = JSON.parse(Buffer.from(raw.buffer, raw.byteOffset, raw.byteLength).toString('utf8'));
  } catch {
    return undefined;
  }
  if (!isObject(o)) return undefined;
  const actor = pick(o, 'actor', 'actor');
  const check = pick(o, 'check', 'check');
  return {
    eventId: str(pick(o, 'eventId', 'event_id')),
    tenant: str(o['tenant']),
    timeMs: parseRfc3339(o['time']),
    agent: isObject(actor) ? str(pick(actor, 'agentId', 'agent_id')) : '',
    agentChain: isObject(actor) ? strings(pick(actor, 'agentChain', 'agent_chain')) : [],
    chainUnverified: isObject(actor) ? pick(actor, 'chainUnverified', 'chain_unverified') === true : false,
    action: str(o['action']),
    resource: str(o['resource']),
    decision: enumName(o['decision'], DECISION_NAMES, 'DECISION_UNSPECIFIED'),
    reason: enumName(o['reason'], REASON_NAMES, 'REASON_CODE_UNSPECIFIED'),
    traceId: str(pick(o, 'traceId', 'trace_id')),
    purpose: isObject(check) ? str(check['purpose']) : '',
    source: str(o['source']),
  };
}

/** The event id inside raw bytes (core's `eventIdOf` for verification). */
export function eventIdOf(raw: Uint8Array): string | undefined {
  return eventFields(raw)?.eventId;
}

/** A record admitted into its tenant's chain. */
export interface AdmittedEvent {
  ok: true;
  tenant: string;
  eventId: string;
  /** The record value exactly as received. */
  raw: Buffer;
  fields: EventFields;
  partition: number;
  offset: string;
}

/**
 * Why a record was quarantined, as a stable code (the quarantine document's `code`, and the
 * `reason` attribute of authority.auditor.quarantined): the signature problems of core's
 * verifyEventSignature, a key signing beyond its scope, a record that is not a well-formed audit
 * event, or one whose key or ce_subject does not name the event's tenant.
 */
export type QuarantineCode =
  | 'unsigned'
  | 'malformed_signature'
  | 'unknown_key'
  | 'bad_signature'
  | 'source_not_allowed'
  | 'type_not_allowed'
  | 'invalid_event'
  | 'tenant_mismatch';

export const QUARANTINE_CODES: readonly QuarantineCode[] = [
  'unsigned',
  'malformed_signature',
  'unknown_key',
  'bad_signature',
  'source_not_allowed',
  'type_not_allowed',
  'invalid_event',
  'tenant_mismatch',
];

/** A record refused (quarantined in `rejected`, never chained). */
export interface RefusedRecord {
  ok: false;
  code: QuarantineCode;
  /** What is wrong, for people. */
  reason: string;
  /** What the record claimed, for the quarantine document (may be empty). */
  tenant: string;
  eventId: string;
  key: string | undefined;
  subject: string | undefined;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

// A lone surrogate cannot be framed unambiguously (core refuses it): such a tenant is refused here.
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/**
 * Decides whether a consumed audit record may enter a chain: its value must be an AuditEvent
 * (proto3 JSON) with an event id and a tenant, and the record key and the `ce_subject` header must
 * both name that same tenant, so no record can be chained into another tenant's chain.
 */
export function admitRecord(
  m: Pick<ConsumedMessage, 'key' | 'value' | 'headers' | 'partition' | 'offset'>,
): AdmittedEvent | RefusedRecord {
  const key = m.key === null ? undefined : m.key.toString('utf8');
  const subject = headerString(m.headers, 'ce_subject');
  const refuse = (
    reason: string,
    tenant = '',
    eventId = '',
    code: QuarantineCode = 'invalid_event',
  ): RefusedRecord => ({
    ok: false,
    code,
    reason,
    tenant,
    eventId,
    key,
    subject,
  });
  if (m.value === null || m.value.length === 0) return refuse('empty record value (tombstone)');
  const raw = m.value;
  const fields = eventFields(raw);
  if (fields === undefined) return refuse('record value is not a JSON object');
  let decoded: pb.AuditEvent;
  try {
    decoded = decodeEvent(pb.AuditEventSchema, raw);
  } catch (err) {
    return refuse(`record value is not an AuditEvent: ${(err as Error).message}`, fields.tenant, fields.eventId);
  }
  const { tenant, eventId } = fields;
  if (decoded.tenant !== tenant || decoded.eventId !== eventId || decoded.source !== fields.source) {
    return refuse(
      'ambiguous event: tenant, event_id or source is spelled twice with different values',
      tenant,
      eventId,
    );
  }
  // Attribution is read from the JSON like every other field: both readings must name the same agents.
  const dActor = decoded.actor;
  if (
    (dActor?.agentId ?? '') !== fields.agent ||
    (dActor?.chainUnverified ?? false) !== fields.chainUnverified ||
    !sameStrings(dActor?.agentChain ?? [], fields.agentChain)
  ) {
    return refuse(
      'ambiguous event: actor agent_id, agent_chain or chain_unverified is spelled twice with different values',
      tenant,
      eventId,
    );
  }
  if (tenant === '') return refuse('event has no tenant', tenant, eventId);
  if (tenant.length > MAX_TENANT_LENGTH || LONE_SURROGATE.test(tenant))
    return refuse('tenant is too long or not well-formed Unicode', tenant, eventId);
  if (eventId === '') return refuse('event has no event_id', tenant, eventId);
  if (eventId.length > MAX_EVENT_ID_LENGTH)
    return refuse(`event_id is longer than ${MAX_EVENT_ID_LENGTH} characters`, tenant, eventId);
  const mismatch: QuarantineCode = 'tenant_mismatch';
  if (key === undefined)
    return refuse(`record has no key (expected the tenant '${tenant}')`, tenant, eventId, mismatch);
  if (key !== tenant)
    return refuse(`record key '${key}' does not match the event's tenant '${tenant}'`, tenant, eventId, mismatch);
  if (subject === undefined)
    return refuse(`record has no ce_subject header (expected the tenant '${tenant}')`, tenant, eventId, mismatch);
  if (subject !== tenant)
    return refuse(`ce_subject '${subject}' does not match the event's tenant '${tenant}'`, tenant, eventId, mismatch);
  return { ok: true, tenant, eventId, raw, fields, partition: m.partition, offset: m.offset };
}

/** An admitted record with the id of the key that signed it. */
export interface AuthenticatedEvent extends AdmittedEvent {
  keyId: string;
}

/**
 * What ingest admits: a record whose `authority-sig` verifies with a trusted key (core
 * verifyEventSignature: over the key, the value and the CloudEvents headers, so nothing the
 * checks below read can be altered), that is a well-formed AuditEvent of its record key's and
 * ce_subject's tenant (admitRecord), and whose source (the event's `source` field) and ce_type the
 * key may sign for. Anything else is refused with its QuarantineCode; no tenant chain is touched.
 * `roots` remembers verified batch signatures (one Ed25519 verify per signed batch).
 */
export function admitSignedRecord(
  m: Pick<ConsumedMessage, 'key' | 'value' | 'headers' | 'partition' | 'offset'>,
  resolveKey: EventKeyResolver,
  roots?: VerifiedBatchRoots,
): AuthenticatedEvent | RefusedRecord {
  const signature = verifyEventSignature(m, resolveKey, roots);
  if (!signature.ok) {
    // The claims of an unauthenticated record, for the quarantine document only.
    const claimed = m.value === null ? undefined : eventFields(m.value);
    return {
      ok: false,
      code: signature.problem,
      reason: signature.message,
      tenant: claimed?.tenant ?? '',
      eventId: claimed?.eventId ?? '',
      key: m.key === null ? undefined : m.key.toString('utf8'),
      subject: headerString(m.headers, 'ce_subject'),
    };
  }
  const admitted = admitRecord(m);
  if (!admitted.ok) return admitted;
  const scope = eventKeyScopeProblem(signature.key, {
    source: admitted.fields.source,
    type: headerString(m.headers, 'ce_type'),
  });
  if (scope !== undefined) {
    return {
      ok: false,
      code: scope.problem,
      reason: scope.message,
      tenant: admitted.tenant,
      eventId: admitted.eventId,
      key: admitted.tenant,
      subject: admitted.tenant,
    };
  }
  return { ...admitted, keyId: signature.key.kid };
}
