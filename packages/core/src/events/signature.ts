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
 * and travels in the header `authority-sig: <kid>.<base64url of the 64-byte signature>`.
 *
 * A producer may sign a batch (one produce request) with ONE signature: each record's leaf is
 * SHA-256(0x00 ‖ its signed bytes above), the records are the leaves of an RFC 9162 Merkle tree
 * (events/merkle.ts), and the signature covers
 *
 *   batch signed = str("authority.event.batch.v1") ‖ str(kid) ‖ u32(tree size) ‖ root
 *
 * Every record of the batch then carries `authority-sig: <kid>.<signature>.<leaf index>.<tree
 * size>.<base64url of its inclusion path, 32 bytes per hash>`: it still verifies alone (leaf +
 * path give the root the signature covers), and a verifier that keeps a VerifiedBatchRoots checks
 * the Ed25519 signature once per batch instead of once per record. A verifier of the one-record
 * form refuses this one as malformed (fails closed). The W3C
 * trace headers are deliberately NOT signed: they only link telemetry spans, and the producer
 * replaces them with its own span's context after the record is built (platform's publisher).
 * The topic is not signed either: only audit records are signed, and the auditor reads one topic.
 * A signed record replayed on the topic is a redelivery: the chain's unique (tenant, event id)
 * index makes it a no-op.
 *
 * Pure: no I/O; Ed25519 is crypto.ts (libsodium). Await cryptoReady() before signing or verifying.
 */
import { MERKLE_HASH_BYTES, merkleKnown, merkleLeafHash, merkleTree, merkleWalk, type MerklePosition } from './merkle';
import {
  constantTimeEqual,
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
/** Domain tag of a batch signature's signed bytes (the Merkle root of the batch's records). */
export const EVENT_BATCH_SIGNATURE_TAG = 'authority.event.batch.v1';
/** The most records one batch signature may cover (a path is at most 16 hashes long). */
export const MAX_EVENT_BATCH = 1 << 16;
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

/** The bytes a batch signature covers: the tag, the key id, the tree size and the Merkle root. */
export function eventBatchSigningBytes(kid: string, size: number, root: Uint8Array): Buffer {
  const tag = Buffer.byteLength(EVENT_BATCH_SIGNATURE_TAG);
  const kidLength = Buffer.byteLength(kid);
  const out = Buffer.allocUnsafe(4 + tag + 4 + kidLength + 4 + root.length);
  let o = out.writeUInt32BE(tag, 0);
  o += out.write(EVENT_BATCH_SIGNATURE_TAG, o, 'utf8');
  o = out.writeUInt32BE(kidLength, o);
  o += out.write(kid, o, 'utf8');
  o = out.writeUInt32BE(size, o);
  out.set(root, o);
  return out;
}

/**
 * The `authority-sig` header values of `records` signed as one batch (one Ed25519 signature over
 * their Merkle root), in order. A batch of one is signed as a single record (signEvent); more than
 * MAX_EVENT_BATCH records are signed as consecutive batches of at most that many.
 */
export function signEventBatch(records: readonly EventRecord[], key: EventSigningKey): string[] {
  if (records.length <= 1) return records.map((r) => signEvent(r, key));
  if (records.length > MAX_EVENT_BATCH) {
    const out: string[] = [];
    for (let i = 0; i < records.length; i += MAX_EVENT_BATCH)
      out.push(...signEventBatch(records.slice(i, i + MAX_EVENT_BATCH), key));
    return out;
  }
  const { root, paths } = merkleTree(records.map((r) => merkleLeafHash(eventSigningBytes(r, key.kid))));
  const signature = encodeBase64Url(ed25519Sign(eventBatchSigningBytes(key.kid, records.length, root), key.secretKey));
  const prefix = `${key.kid}.${signature}.`;
  const suffix = `.${records.length}.`;
  return paths.map((path, i) => `${prefix}${i}${suffix}${encodeBase64Url(Buffer.concat(path))}`);
}

/**
 * Batches whose signature already verified, so the records of one batch cost one Ed25519
 * verification and a hash or two each: `<kid>.<signature>.<size>` → the public key it verified
 * with and every tree node the verified records' paths authenticated (by position). A later record
 * of the batch is checked against those nodes: hashed up to the first one it reaches, its path
 * above must hold exactly the known siblings, so it is accepted exactly when verifying it against
 * the signed root would accept it. A kid that now resolves to another key is verified in full
 * (and fails). Bounded: at most `capacity` batches (the oldest goes first: a batch's records
 * arrive together, in one produce request) and `maxNodes` nodes per batch (beyond, its records
 * are verified in full).
 */
export class VerifiedBatchRoots {
  private readonly batches = new Map<string, { publicKey: Uint8Array; nodes: Map<MerklePosition, Buffer> }>();
  constructor(
    private readonly capacity = 64,
    private readonly maxNodes = 8192,
  ) {}

  /** true/false: what verification would answer; undefined: not known here (verify in full). */
  vouches(id: string, publicKey: Uint8Array, leaf: Buffer, index: number, size: number, path: Buffer[]) {
    const known = this.batches.get(id);
    if (known === undefined || !constantTimeEqual(known.publicKey, publicKey)) return undefined;
    return merkleKnown(known.nodes, leaf, index, size, path, this.maxNodes);
  }

  /** Remembers the nodes of a record's path whose root's signature verified with `publicKey`. */
  add(id: string, publicKey: Uint8Array, nodes: ReadonlyMap<MerklePosition, Buffer>): void {
    let known = this.batches.get(id);
    if (known === undefined || !constantTimeEqual(known.publicKey, publicKey)) {
      if (this.batches.size >= this.capacity) this.batches.delete(this.batches.keys().next().value as string);
      known = { publicKey, nodes: new Map() };
      this.batches.set(id, known);
    }
    if (known.nodes.size + nodes.size > this.maxNodes) return;
    for (const [at, hash] of nodes) known.nodes.set(at, hash);
  }
}

const MALFORMED = `header '${EVENT_SIGNATURE_HEADER}' is not '<key id>.<base64url Ed25519 signature>' (one record) or '<key id>.<signature>.<leaf index>.<tree size>.<base64url path>' (a batch)`;
const DECIMAL = /^(0|[1-9][0-9]{0,9})$/;

/** The parts of an `authority-sig` header, or undefined when it is not one of the two forms. */
function parseSignatureHeader(
  text: string,
): { kid: string; sig: Buffer; batch?: { id: string; index: number; size: number; path: Buffer[] } } | undefined {
  const parts = text.split('.');
  const [kid = '', sigText = ''] = parts;
  const sig = decodeBase64Url(sigText);
  if (!isEventKeyId(kid) || sig === undefined || sig.length !== 64) return undefined;
  if (parts.length === 2) return { kid, sig };
  if (parts.length !== 5) return undefined;
  const [, , indexText = '', sizeText = '', pathText = ''] = parts;
  if (!DECIMAL.test(indexText) || !DECIMAL.test(sizeText)) return undefined;
  const index = Number(indexText);
  const size = Number(sizeText);
  const pathBytes = pathText === '' ? Buffer.alloc(0) : decodeBase64Url(pathText);
  if (size < 2 || size > MAX_EVENT_BATCH || index >= size || pathBytes === undefined) return undefined;
  if (pathBytes.length % MERKLE_HASH_BYTES !== 0) return undefined;
  const path: Buffer[] = [];
  for (let o = 0; o < pathBytes.length; o += MERKLE_HASH_BYTES) path.push(pathBytes.subarray(o, o + MERKLE_HASH_BYTES));
  return { kid, sig, batch: { id: `${kid}.${sigText}.${size}`, index, size, path } };
}

/**
 * Checks a consumed record's `authority-sig` header against the trusted keys. Never throws. A
 * valid signature says the key's holder produced exactly these bytes (alone, or as a record of a
 * batch it signed); what the key may sign is eventKeyScopeProblem's question. `roots` (optional,
 * long-lived) remembers batch roots already verified.
 */
export function verifyEventSignature(
  record: EventRecord,
  resolveKey: EventKeyResolver,
  roots?: VerifiedBatchRoots,
): EventSignatureCheck {
  let header: EventBytes | undefined;
  try {
    header = single(record.headers, EVENT_SIGNATURE_HEADER);
  } catch {
    return { ok: false, problem: 'malformed_signature', message: `header '${EVENT_SIGNATURE_HEADER}' is repeated` };
  }
  if (header === undefined) {
    return { ok: false, problem: 'unsigned', message: `record has no '${EVENT_SIGNATURE_HEADER}' header` };
  }
  const parsed = parseSignatureHeader(typeof header === 'string' ? header : Buffer.from(header).toString('latin1'));
  if (parsed === undefined) return { ok: false, problem: 'malformed_signature', message: MALFORMED };
  const { kid, sig, batch } = parsed;
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
  const badSignature: EventSignatureCheck = {
    ok: false,
    problem: 'bad_signature',
    message: `signature does not verify with key '${kid}'`,
  };
  if (batch === undefined) return ed25519Verify(sig, bytes, key.publicKey) ? { ok: true, key } : badSignature;
  const leaf = merkleLeafHash(bytes);
  const vouched = roots?.vouches(batch.id, key.publicKey, leaf, batch.index, batch.size, batch.path);
  if (vouched === true) return { ok: true, key };
  const walked = merkleWalk(leaf, batch.index, batch.size, batch.path);
  if (walked === undefined) {
    return {
      ok: false,
      problem: 'malformed_signature',
      message: `the inclusion path does not fit leaf ${batch.index} of a batch of ${batch.size}`,
    };
  }
  if (vouched === false) return badSignature;
  if (!ed25519Verify(sig, eventBatchSigningBytes(kid, batch.size, walked.root), key.publicKey)) return badSignature;
  roots?.add(batch.id, key.publicKey, walked.nodes);
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
