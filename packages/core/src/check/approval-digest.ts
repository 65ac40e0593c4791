/**
 * What a human approval is bound to: one exact request. An approver decides on the tenant, the
 * acting agent, the scope and action, the resource (or none), the purpose, the record count, every
 * context field and the presenting envelope chain; an approval granted for "fix a typo, 1 record"
 * must never be usable for "overwrite all grades, 500 records". The issuer stores these fields and
 * their digest; consuming an approval requires the digest of the presented request to be equal.
 *
 * Canonical encoding, version 1 (integers big-endian; no field can run into the next):
 *
 *     str("authority.approval-request.v1")
 *     str(tenant) str(agent) str(required_scope) str(action)
 *     opt(resource) opt(purpose) count(record_count)
 *     u32(number of context fields), then per field sorted by the UTF-8 bytes of its name:
 *       str(name) str(value)
 *     u32(number of links), then per link, root first: str(jti) str(agent)
 *
 *   str(s)   = u32(byte length of UTF-8 s) ‖ UTF-8 s
 *   opt(s)   = 0x00 when absent, else 0x01 ‖ str(s)
 *   count(n) = 0x00 when absent, else 0x01 ‖ u64(n)
 *
 * The digest is the lowercase hex SHA-256 of the encoding. An empty resource or purpose is absent
 * (proto3 cannot tell them apart), and no context fields is the same as none: so "no resource" is a
 * bound value of its own, and an approval for no resource never matches a call naming one.
 */
import { createHash } from 'node:crypto';
import { AuthorityError } from '../errors';
import type { ApprovalBinding } from './types';

/** Domain tag of version 1 of the encoding. */
export const APPROVAL_DIGEST_TAG = 'authority.approval-request.v1';

// Lone surrogates would both encode as U+FFFD in UTF-8: two different strings, one digest.
const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function bad(field: string, message: string): never {
  throw new AuthorityError('INVALID_REQUEST', `${field}: ${message}`, field);
}

function utf8(s: unknown, field: string): Buffer {
  if (typeof s !== 'string') bad(field, 'must be a string');
  if (LONE_SURROGATE.test(s as string)) bad(field, 'must not contain lone surrogates');
  return Buffer.from(s as string, 'utf8');
}

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

const ABSENT = Buffer.from([0]);
const PRESENT = Buffer.from([1]);

/** The context fields of a binding as [name, value] pairs, sorted by the UTF-8 bytes of the name. */
export function sortedContextFields(fields: Readonly<Record<string, string>> | undefined): [string, string][] {
  if (fields === undefined) return [];
  // Each name encoded once (not per comparison).
  const keyed = Object.keys(fields).map((name) => ({ key: Buffer.from(name, 'utf8'), name }));
  keyed.sort((a, b) => Buffer.compare(a.key, b.key));
  return keyed.map(({ name }) => [name, fields[name] as string]);
}

/**
 * The canonical encoding of a binding (see the module comment). Throws AuthorityError
 * INVALID_REQUEST naming the field when one is malformed (not a string, a lone surrogate, a record
 * count that is not a non-negative safe integer, chain and agent chain of different lengths).
 */
export function encodeApprovalBinding(b: ApprovalBinding): Buffer {
  const parts: Buffer[] = [];
  const str = (s: unknown, field: string) => {
    const bytes = utf8(s, field);
    parts.push(u32(bytes.length), bytes);
  };
  const opt = (s: string | undefined, field: string) => {
    if (s === undefined || s === '') parts.push(ABSENT);
    else {
      parts.push(PRESENT);
      str(s, field);
    }
  };
  str(APPROVAL_DIGEST_TAG, 'tag');
  str(b.tenant, 'tenant');
  str(b.agent, 'agent_id');
  str(b.requiredScope, 'required_scope');
  str(b.action, 'action');
  opt(b.resource, 'resource');
  opt(b.purpose, 'purpose');
  if (b.recordCount === undefined) parts.push(ABSENT);
  else {
    if (!Number.isSafeInteger(b.recordCount) || b.recordCount < 0)
      bad('record_count', 'must be a non-negative integer');
    const n = Buffer.alloc(8);
    n.writeBigUInt64BE(BigInt(b.recordCount));
    parts.push(PRESENT, n);
  }
  const fields = sortedContextFields(b.contextFields);
  parts.push(u32(fields.length));
  for (const [name, value] of fields) {
    str(name, 'context_fields');
    str(value, `context_fields.${name}`);
  }
  if (!Array.isArray(b.chain) || !Array.isArray(b.agentChain) || b.chain.length !== b.agentChain.length)
    bad('agent_chain', 'must name the agent of every link of the chain');
  parts.push(u32(b.chain.length));
  for (let i = 0; i < b.chain.length; i++) {
    str(b.chain[i], `chain[${i}]`);
    str(b.agentChain[i], `agent_chain[${i}]`);
  }
  return Buffer.concat(parts);
}

/** Lowercase hex SHA-256 of the canonical encoding of `b` (see the module comment). */
export function approvalRequestDigest(b: ApprovalBinding): string {
  return createHash('sha256').update(encodeApprovalBinding(b)).digest('hex');
}

const SHOWN = 80;

/** A string as a message shows it: quoted (control characters visible), a long one cut. */
function quoted(v: string): string {
  return JSON.stringify(v.length > SHOWN ? `${v.slice(0, SHOWN)}…` : v);
}

/** A bound value as a message shows it: `none` when absent. */
function shown(v: string | number | undefined): string {
  if (v === undefined || v === '') return 'none';
  return typeof v === 'number' ? String(v) : quoted(v);
}

function chainText(chain: readonly string[], agents: readonly string[]): string {
  return chain.map((jti, i) => `${jti} (${agents[i] ?? '?'})`).join(' → ') || 'none';
}

/**
 * The first field in which a presented request differs from the approved one, as a message that
 * starts with the field's name (`record_count: approved for 1, presented 500`); undefined when
 * they are the same request (then their digests are equal too).
 */
export function approvalBindingDifference(approved: ApprovalBinding, presented: ApprovalBinding): string | undefined {
  const scalar = (field: string, a: string | number | undefined, p: string | number | undefined) =>
    (a === '' ? undefined : a) === (p === '' ? undefined : p)
      ? undefined
      : `${field}: approved for ${shown(a)}, presented ${shown(p)}`;
  const first =
    scalar('tenant', approved.tenant, presented.tenant) ??
    scalar('agent_id', approved.agent, presented.agent) ??
    scalar('required_scope', approved.requiredScope, presented.requiredScope) ??
    scalar('action', approved.action, presented.action) ??
    scalar('resource', approved.resource, presented.resource) ??
    scalar('purpose', approved.purpose, presented.purpose) ??
    scalar('record_count', approved.recordCount, presented.recordCount);
  if (first !== undefined) return first;
  // A context field's empty value is a value (unlike an empty purpose): compare presence exactly.
  const a = new Map(sortedContextFields(approved.contextFields));
  const p = new Map(sortedContextFields(presented.contextFields));
  const field = (name: string, av: string | undefined, pv: string | undefined) =>
    `context_fields.${name}: approved for ${av === undefined ? 'none' : quoted(av)}, presented ${pv === undefined ? 'none' : quoted(pv)}`;
  for (const [name, value] of a) {
    if (!p.has(name) || p.get(name) !== value) return field(name, value, p.get(name));
  }
  for (const [name, value] of p) {
    if (!a.has(name)) return field(name, undefined, value);
  }
  const sameChain =
    approved.chain.length === presented.chain.length &&
    approved.chain.every((jti, i) => jti === presented.chain[i] && approved.agentChain[i] === presented.agentChain[i]);
  if (!sameChain) {
    return `chain: approved for the envelope chain ${chainText(approved.chain, approved.agentChain)}, presented by ${chainText(presented.chain, presented.agentChain)}`;
  }
  return undefined;
}
