/**
 * Producer signatures on audit records. Every service that writes to the audit topic (enforcer,
 * issuer, policy) has its own Ed25519 identity and signs each record it produces; the auditor
 * chains a record only when a key it trusts signed it, and only for the event sources that key
 * may speak for. Whoever can merely write to the topic can no longer chain an event.
 *
 * The signature covers everything the auditor reads from a record, as the bytes Kafka carries
 * (strings are their UTF-8 encoding, as the Kafka client writes them), in a domain-separated,
 * length-prefixed encoding (the framing of chain/framing.ts):
 *
 *   signed = str("authority.event.v1") ‖ str(kid) ‖ opt(record key)
 *            ‖ opt(ce_specversion) ‖ opt(ce_id) ‖ opt(ce_type) ‖ opt(ce_source) ‖ opt(ce_subject)
 *            ‖ opt(ce_time) ‖ opt(content-type) ‖ opt(record value)
 *   str(x) = u32 big-endian length ‖ bytes
 *   opt(x) = 0x00 when absent, 0x01 ‖ str(x) when present (so absent and empty differ)
 *
 * and travels in the header `authority-sig: <kid>.<base64url of the 64-byte signature>`. The W3C
 * trace headers are deliberately NOT signed: they only link telemetry spans, and the producer
 * replaces them with its own span's context after the record is built (platform's publisher).
 * The topic is not signed either: only audit records are signed, and the auditor reads one topic.
 * A signed record replayed on the topic is a redelivery: the chain's unique (tenant, event id)
 * index makes it a no-op.
 *
 * Pure: no I/O; Ed25519 is crypto.ts (libsodium). Await cryptoReady() before signing or verifying.
 */
import {
  decodeBase64Url,
  ed25519KeyPairFromSeed,
  ed25519Sign,
  ed25519Verify,
  encodeBase64Url,
  sha256,
} from '../crypto';
import { AuthorityError } from '../errors';

/** Kafka header carrying `<kid>.<base64url signature>`. */
export const EVENT_SIGNATURE_HEADER = 'authority-sig';
/** Domain tag: first field of the signed bytes. */
export const EVENT_SIGNATURE_TAG = 'authority.event.v1';
/** The headers a signature covers, in the order they are framed. */
export const SIGNED_EVENT_HEADERS = [
  'ce_specversion',
  'ce_id',
  'ce_type',
  'ce_source',
  'ce_subject',
  'ce_time',
  'content-type',
] as const;

/** Bytes as the Kafka client takes or returns them: a string is its UTF-8 encoding. */
export type EventBytes = string | Uint8Array;
/** A header value as kafkajs delivers it (an array when the header is repeated). */
export type EventHeaderValue = EventBytes | readonly EventBytes[] | undefined;

/** A Kafka record as far as its signature is concerned. */
export interface EventRecord {
  key: EventBytes | null | undefined;
  value: EventBytes | null | undefined;
  headers: Readonly<Record<string, EventHeaderValue>> | undefined;
}

/** A producer's signing identity. */
export interface EventSigningKey {
  readonly kid: string;
  readonly publicKey: Uint8Array;
  /** The 64-byte libsodium secret key (seed ‖ public key). */
  readonly secretKey: Uint8Array;
}

/** A public key the auditor trusts, and what it may sign. */
export interface TrustedEventKey {
  readonly kid: string;
  readonly publicKey: Uint8Array;
  /** AuditEvent `source` values this key may sign (e.g. `enforcer`); undefined: any. */
  readonly sources?: readonly string[];
  /** `ce_type` values this key may sign (e.g. `authority.audit.v1`); undefined: any. */
  readonly types?: readonly string[];
}

export type EventKeyResolver = (kid: string) => TrustedEventKey | undefined;

/** Why a record's signature is not acceptable (stable: the auditor's quarantine reasons). */
export type EventSignatureProblem = 'unsigned' | 'malformed_signature' | 'unknown_key' | 'bad_signature';

export type EventSignatureCheck =
  | { ok: true; key: TrustedEventKey }
  | { ok: false; problem: EventSignatureProblem; message: string };

const KEY_ID = /^[A-Za-z0-9_-]{1,64}$/;
const MAX_U32 = 0xffff_ffff;

/** Whether `kid` is a valid event key id: 1-64 of A-Z a-z 0-9 _ - (no dot: it ends at the header's dot). */
export function isEventKeyId(kid: unknown): kid is string {
  return typeof kid === 'string' && KEY_ID.test(kid);
}

/** The default key id of a public key: the first 16 hex digits of its SHA-256 (as the auditor's keys). */
export function defaultEventKeyId(publicKey: Uint8Array): string {
  return sha256(publicKey).toString('hex').slice(0, 16);
}

/** A signing identity from a 32-byte seed (await cryptoReady() first); kid defaults to defaultEventKeyId. */
export function eventSigningKey(seed: Uint8Array, kid?: string): EventSigningKey {
  const pair = ed25519KeyPairFromSeed(seed);
  const id = kid ?? defaultEventKeyId(pair.publicKey);
  if (!isEventKeyId(id))
    throw new AuthorityError('INVALID_REQUEST', `event key id '${id}' is not 1-64 of A-Z a-z 0-9 _ -`, 'kid');
  return { kid: id, publicKey: pair.publicKey, secretKey: pair.secretKey };
}

/** Byte length of a field (strings as UTF-8). */
function lengthOf(v: EventBytes): number {
  return typeof v === 'string' ? Buffer.byteLength(v, 'utf8') : v.length;
}

/** The one value of a header, undefined when absent; throws when it is repeated (ambiguous). */
function single(headers: EventRecord['headers'], name: string): EventBytes | undefined {
  const v = headers?.[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string' || v instanceof Uint8Array) return v;
  if (Array.isArray(v)) {
    if (v.length === 1) return v[0] as EventBytes;
    if (v.length === 0) return undefined;
    throw new AuthorityError('INVALID_REQUEST', `header '${name}' is repeated`, name);
  }
  throw new AuthorityError('INVALID_REQUEST', `header '${name}' is not bytes or a string`, name);
}

/**
 * The exact bytes an event signature covers (see the module comment). Throws
 * AuthorityError(INVALID_REQUEST) for a bad key id or a repeated signed header.
 */
export function eventSigningBytes(record: EventRecord, kid: string): Buffer {
  if (!isEventKeyId(kid)) throw new AuthorityError('INVALID_REQUEST', 'kid is not a valid event key id', 'kid');
  const fields: (EventBytes | undefined)[] = [
    record.key ?? undefined,
    ...SIGNED_EVENT_HEADERS.map((h) => single(record.headers, h)),
    record.value ?? undefined,
  ];
  const tag = Buffer.byteLength(EVENT_SIGNATURE_TAG);
  const kidLength = Buffer.byteLength(kid);
  let size = 4 + tag + 4 + kidLength;
  const lengths = fields.map((f) => {
    if (f === undefined) {
      size += 1;
      return -1;
    }
    const n = lengthOf(f);
    if (n > MAX_U32) throw new AuthorityError('INVALID_REQUEST', 'a signed field is longer than 2^32-1 bytes');
    size += 5 + n;
    return n;
  });
  const out = Buffer.allocUnsafe(size);
  let o = out.writeUInt32BE(tag, 0);
  o += out.write(EVENT_SIGNATURE_TAG, o, 'utf8');
  o = out.writeUInt32BE(kidLength, o);
  o += out.write(kid, o, 'utf8');
  for (let i = 0; i < fields.length; i++) {
    const f = fields[i];
    const n = lengths[i] as number;
    if (f === undefined) {
      out[o++] = 0;
      continue;
    }
    out[o++] = 1;
    o = out.writeUInt32BE(n, o);
    if (typeof f === 'string') o += out.write(f, o, n, 'utf8');
    else {
      out.set(f, o);
      o += n;
    }
  }
  return out;
}

/** The `authority-sig` header value of a record signed with `key`. */
export function signEvent(record: EventRecord, key: EventSigningKey): string {
  return `${key.kid}.${encodeBase64Url(ed25519Sign(eventSigningBytes(record, key.kid), key.secretKey))}`;
}

/**
 * Checks a consumed record's `authority-sig` header against the trusted keys. Never throws. A
 * valid signature says the key's holder produced exactly these bytes; what the key may sign is
 * eventKeyScopeProblem's question.
 */
export function verifyEventSignature(record: EventRecord, resolveKey: EventKeyResolver): EventSignatureCheck {
  let header: EventBytes | undefined;
  try {
    header = single(record.headers, EVENT_SIGNATURE_HEADER);
  } catch {
    return { ok: false, problem: 'malformed_signature', message: `header '${EVENT_SIGNATURE_HEADER}' is repeated` };
  }
  if (header === undefined) {
    return { ok: false, problem: 'unsigned', message: `record has no '${EVENT_SIGNATURE_HEADER}' header` };
  }
  const text = typeof header === 'string' ? header : Buffer.from(header).toString('latin1');
  const dot = text.indexOf('.');
  const kid = dot < 0 ? '' : text.slice(0, dot);
  const sig = dot < 0 ? undefined : decodeBase64Url(text.slice(dot + 1));
  if (!isEventKeyId(kid) || sig === undefined || sig.length !== 64) {
    return {
      ok: false,
      problem: 'malformed_signature',
      message: `header '${EVENT_SIGNATURE_HEADER}' is not '<key id>.<base64url Ed25519 signature>'`,
    };
  }
  let key: TrustedEventKey | undefined;
  try {
    key = resolveKey(kid);
  } catch {
    key = undefined;
  }
  if (key === undefined) return { ok: false, problem: 'unknown_key', message: `signed by unknown key '${kid}'` };
  let bytes: Buffer;
  try {
    bytes = eventSigningBytes(record, kid);
  } catch (err) {
    const detail = err instanceof AuthorityError ? err.message : 'unreadable';
    return { ok: false, problem: 'malformed_signature', message: `the signed fields are ambiguous: ${detail}` };
  }
  if (!ed25519Verify(sig, bytes, key.publicKey)) {
    return { ok: false, problem: 'bad_signature', message: `signature does not verify with key '${kid}'` };
  }
  return { ok: true, key };
}

/**
 * Whether `key` may sign an event of this source (the AuditEvent's `source` field) and CloudEvents
 * type: undefined when it may, otherwise the reason.
 */
export function eventKeyScopeProblem(
  key: TrustedEventKey,
  event: { source: string; type: string | undefined },
): { problem: 'source_not_allowed' | 'type_not_allowed'; message: string } | undefined {
  if (key.sources !== undefined && !key.sources.includes(event.source)) {
    return {
      problem: 'source_not_allowed',
      message: `key '${key.kid}' may sign events of source ${key.sources.map((s) => `'${s}'`).join(', ')}, not '${event.source}'`,
    };
  }
  if (key.types !== undefined && (event.type === undefined || !key.types.includes(event.type))) {
    return {
      problem: 'type_not_allowed',
      message: `key '${key.kid}' may sign events of type ${key.types.map((t) => `'${t}'`).join(', ')}, not '${event.type ?? '(none)'}'`,
    };
  }
  return undefined;
}

const BASE64_ANY = /^[A-Za-z0-9+/_-]+={0,2}$/;

/** 32 bytes from base64 or base64url text (padding optional); undefined for anything else. */
export function decodeKey32(text: string): Buffer | undefined {
  const t = text.trim();
  if (!BASE64_ANY.test(t)) return undefined;
  const bytes = Buffer.from(t.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  return bytes.length === 32 ? bytes : undefined;
}

const SCOPE_VALUE = /^[A-Za-z0-9._/:-]{1,128}$/;

/** The result of parsing a trusted-key list: the keys, and every problem found (empty when valid). */
export interface TrustedEventKeysParse {
  keys: TrustedEventKey[];
  problems: string[];
}

/**
 * Parses a trusted event key list: entries separated by commas or newlines, `#` starts a comment
 * to the end of the line, each entry
 *
 *   <kid>=<base64url or base64 Ed25519 public key>[;sources=<source>|<source>…][;types=<ce_type>|…]
 *
 * e.g. `enforcer-1=Jx0…;sources=enforcer`. A key id may appear once. Every problem is reported
 * (item numbers count from 1), never the key material.
 */
export function parseTrustedEventKeys(text: string): TrustedEventKeysParse {
  const keys: TrustedEventKey[] = [];
  const problems: string[] = [];
  const items = text
    .split('\n')
    .map((line) => line.replace(/#.*$/, ''))
    .join(',')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const seen = new Set<string>();
  items.forEach((item, index) => {
    const where = `item ${index + 1}`;
    const [head = '', ...attributes] = item.split(';').map((s) => s.trim());
    const eq = head.indexOf('=');
    const kid = eq < 0 ? '' : head.slice(0, eq).trim();
    if (!isEventKeyId(kid)) {
      problems.push(`${where}: expected <key id>=<public key>, the key id 1-64 of A-Z a-z 0-9 _ -`);
      return;
    }
    const publicKey = decodeKey32(head.slice(eq + 1));
    if (publicKey === undefined) {
      problems.push(`${where} ('${kid}'): expected base64url (or base64) of a 32-byte Ed25519 public key`);
      return;
    }
    if (seen.has(kid)) {
      problems.push(`${where}: key id '${kid}' is listed twice`);
      return;
    }
    seen.add(kid);
    const key: { kid: string; publicKey: Uint8Array; sources?: string[]; types?: string[] } = { kid, publicKey };
    for (const attribute of attributes) {
      const m = /^(sources|types)\s*=\s*(.*)$/.exec(attribute);
      const values = m ? (m[2] as string).split('|').map((s) => s.trim()) : [];
      if (!m || values.length === 0 || !values.every((v) => SCOPE_VALUE.test(v))) {
        problems.push(
          `${where} ('${kid}'): expected ';sources=<a>|<b>' or ';types=<a>|<b>' (values of A-Z a-z 0-9 . _ / : -)`,
        );
        continue;
      }
      const name = m[1] as 'sources' | 'types';
      if (key[name] !== undefined) problems.push(`${where} ('${kid}'): '${name}' is given twice`);
      else key[name] = values;
    }
    keys.push(key);
  });
  return { keys, problems };
}
