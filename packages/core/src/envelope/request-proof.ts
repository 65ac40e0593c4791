/**
 * Per-request proof of possession (DPoP-style, opt-in with `pop: required`): the holder of the
 * leaf's `cnf` key signs a short-lived statement over one request, so a token seen by a tool server
 * or a log cannot be replayed for another call, nor for the same call twice.
 *
 * Format: a compact JWS, header exactly `{"alg":"EdDSA","typ":"authority-pop+jws"}`, payload
 * exactly these members: `lh` (base64url SHA-256 of the leaf link: binds the chain), `scp` (the
 * required scope), `res` (the resource, "" for none), `act` (the declared action, "" for the
 * default), `cxd` (context digest, see contextDigest), `iat` (seconds), `nce` (16–64 base64url
 * characters, at least 96 random bits), and `apr` (the approval id) exactly when the request
 * presents an approval: a proof seen on the wire cannot carry someone else's approval, nor a
 * request's approval be swapped. Signed with the leaf's holder key. A proof without `apr` stays
 * valid for a request without an approval id.
 *
 * The verifier accepts `iat` within [now − window − skew, now + skew] and remembers `(lh, nce)`
 * until the statement could no longer be fresh, in a bounded ReplayCache; a full cache refuses
 * (fail closed) rather than forgetting a nonce that could still be replayed. The bound is per
 * tenant too, so one tenant's flood of proofs refuses only that tenant's proofs.
 */
import { createHash } from 'node:crypto';
import { decodeBase64Url, ed25519Sign, randomId } from '../crypto';
import { AuthorityError } from '../errors';
import { isoTime } from './iso-time';
import { parseStrictJson } from './strict-json';

/** `typ` of a per-request proof's protected header. */
export const REQUEST_PROOF_TYP = 'authority-pop+jws';
const PROOF_HEADER_B64 = Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: REQUEST_PROOF_TYP })).toString('base64url');
/** Longest accepted proof, in characters. */
export const MAX_REQUEST_PROOF_LENGTH = 8 * 1024;
/** Default freshness window of a proof's `iat`, in seconds. */
export const DEFAULT_REQUEST_PROOF_WINDOW_SECONDS = 60;
const NONCE = /^[A-Za-z0-9_-]{16,64}$/;
const PROOF_MEMBERS = ['lh', 'scp', 'res', 'act', 'cxd', 'iat', 'nce'] as const;
/** The member binding the proof to the request's approval id (present iff the request has one). */
const APPROVAL_MEMBER = 'apr';

/** What a proof is about: one request. */
export interface ProvenRequest {
  requiredScope: string;
  resource?: string;
  action?: string;
  context?: { purpose?: string; recordCount?: number; fields?: Record<string, string> };
  /** The approval the request presents (proto3: empty is none). */
  approvalId?: string;
}

/**
 * base64url SHA-256 of the request context in a canonical form: the JSON array
 * `[purpose or null, record_count or null, [[name, value], ...] sorted by name]`.
 */
export function contextDigest(context: ProvenRequest['context']): string {
  const fields = Object.entries(context?.fields ?? {}).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  const canonical = JSON.stringify([context?.purpose ?? null, context?.recordCount ?? null, fields]);
  return createHash('sha256').update(canonical, 'utf8').digest('base64url');
}

function proofPayload(leafHash: string, request: ProvenRequest, iat: number, nonce: string): Record<string, unknown> {
  return {
    lh: leafHash,
    scp: request.requiredScope,
    res: request.resource ?? '',
    act: request.action ?? '',
    cxd: contextDigest(request.context),
    iat,
    nce: nonce,
    ...(hasApproval(request) ? { [APPROVAL_MEMBER]: request.approvalId } : {}),
  };
}

function hasApproval(request: ProvenRequest): boolean {
  return request.approvalId !== undefined && request.approvalId !== '';
}

/**
 * Signs a proof for `request` with the leaf's holder key (64-byte libsodium secret key). `leafHash`
 * is the base64url SHA-256 of the token's last link (hashLink).
 */
export function signRequestProof(
  leafHash: string,
  request: ProvenRequest,
  holderSecretKey: Uint8Array,
  now: number,
  nonce: string = randomId(16),
): string {
  const payload = Buffer.from(JSON.stringify(proofPayload(leafHash, request, now, nonce))).toString('base64url');
  const input = `${PROOF_HEADER_B64}.${payload}`;
  const signature = ed25519Sign(Buffer.from(input, 'latin1'), holderSecretKey);
  return `${input}.${Buffer.from(signature).toString('base64url')}`;
}

/** What the verifier needs of a replay cache: claim a nonce of a tenant until it expires. */
export interface ReplayGuard {
  claim(key: string, expiresAt: number, now: number, tenant: string): 'fresh' | 'replayed' | 'full';
}

/** Default share of the replay cache one tenant may fill. */
export const DEFAULT_REPLAY_TENANT_SHARE = 0.25;

interface Claimed {
  readonly key: string;
  readonly expiresAt: number;
  readonly tenant: string;
}

/**
 * Remembers used nonces until they expire; bounded (see the module comment), and per tenant: a
 * tenant may hold at most `tenantShare` of `maxEntries` unexpired nonces, so a flood of proofs in
 * one tenant fills only its own share and refuses only its own proofs. Other tenants are refused
 * only once the whole cache is full, which takes ⌈1 / tenantShare⌉ tenants flooding at once.
 */
export class ReplayCache implements ReplayGuard {
  private readonly seen = new Map<string, Claimed>();
  /** Claims in insertion order, for sweeping. */
  private readonly queue: Claimed[] = [];
  private head = 0;
  /** Unexpired nonces held per tenant. */
  private readonly perTenant = new Map<string, number>();
  /** Most nonces one tenant may hold. */
  readonly maxPerTenant: number;

  constructor(
    readonly maxEntries: number,
    readonly tenantShare: number = DEFAULT_REPLAY_TENANT_SHARE,
  ) {
    if (!Number.isSafeInteger(maxEntries) || maxEntries < 1)
      throw new RangeError(`replay cache size must be a positive integer, got ${maxEntries}`);
    if (!(tenantShare > 0 && tenantShare <= 1))
      throw new RangeError(`replay cache tenant share must be in (0, 1], got ${tenantShare}`);
    this.maxPerTenant = Math.max(1, Math.floor(maxEntries * tenantShare));
  }

  get size(): number {
    return this.seen.size;
  }

  /** Unexpired nonces `tenant` holds (as of the last sweep). */
  tenantSize(tenant: string): number {
    return this.perTenant.get(tenant) ?? 0;
  }

  /** Tenants holding at least one nonce. */
  get tenants(): number {
    return this.perTenant.size;
  }

  /**
   * Records `key` of `tenant` until `expiresAt` (seconds). 'fresh' when it was unseen; 'replayed'
   * when it is still remembered; 'full' (nothing recorded) when the tenant already holds its share
   * of unexpired keys, or the cache holds maxEntries.
   */
  claim(key: string, expiresAt: number, now: number, tenant: string): 'fresh' | 'replayed' | 'full' {
    const known = this.seen.get(key);
    if (known !== undefined && known.expiresAt >= now) return 'replayed';
    this.sweep(now);
    // An expired claim the sweep has not reached yet (behind a longer-lived one) gives way.
    const stale = this.seen.get(key);
    if (stale !== undefined) this.release(stale);
    const held = this.perTenant.get(tenant) ?? 0;
    if (held >= this.maxPerTenant || this.seen.size >= this.maxEntries) return 'full';
    const claimed: Claimed = { key, expiresAt, tenant };
    this.seen.set(key, claimed);
    this.perTenant.set(tenant, held + 1);
    this.queue.push(claimed);
    return 'fresh';
  }

  private release(claimed: Claimed): void {
    this.seen.delete(claimed.key);
    const held = (this.perTenant.get(claimed.tenant) ?? 1) - 1;
    if (held > 0) this.perTenant.set(claimed.tenant, held);
    else this.perTenant.delete(claimed.tenant);
  }

  private sweep(now: number): void {
    // Expiries are nearly monotone in insertion order (iat within a window), so a sweep from the
    // front frees what has expired; an entry behind a longer-lived one waits at most one window.
    while (this.head < this.queue.length) {
      const item = this.queue[this.head] as Claimed;
      if (item.expiresAt >= now) break;
      if (this.seen.get(item.key) === item) this.release(item);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.queue.length) {
      this.queue.splice(0, this.head);
      this.head = 0;
    }
  }
}

export interface RequestProofVerification {
  /** The token's tenant (its nonces count against this tenant's share of the replay cache). */
  tenant: string;
  /** base64url SHA-256 of the token's leaf link. */
  leafHash: string;
  /** The leaf's holder key (32 bytes). */
  holderKey: Uint8Array;
  request: ProvenRequest;
  now: number;
  skewSeconds: number;
  windowSeconds: number;
  replay: ReplayGuard;
  verifySignature: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
}

/**
 * Verifies a per-request proof; throws INVALID_PROOF (malformed, wrong key, another token or
 * request, stale) or PROOF_REPLAYED naming the field, and records its nonce when it is good.
 */
export function verifyRequestProof(proof: unknown, v: RequestProofVerification): void {
  const bad = (message: string, field = 'proof'): never => {
    throw new AuthorityError('INVALID_PROOF', `per-request proof: ${message}`, field);
  };
  if (typeof proof !== 'string' || proof.length === 0 || proof.length > MAX_REQUEST_PROOF_LENGTH)
    bad(`must be a compact JWS of at most ${MAX_REQUEST_PROOF_LENGTH} characters`);
  const text = proof as string;
  const parts = text.split('.');
  if (parts.length !== 3 || parts[0] !== PROOF_HEADER_B64)
    bad(`must be a compact JWS with header {"alg":"EdDSA","typ":"${REQUEST_PROOF_TYP}"}`);
  const payloadBytes = decodeBase64Url(parts[1] as string);
  const signature = decodeBase64Url(parts[2] as string);
  if (payloadBytes === undefined || signature?.length !== 64) bad('payload or signature is not canonical base64url');
  let payload: Record<string, unknown>;
  try {
    const parsed = parseStrictJson((payloadBytes as Buffer).toString('utf8'));
    if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
    payload = parsed as Record<string, unknown>;
  } catch (err) {
    return bad(`payload is not a JSON object (${err instanceof Error ? err.message : String(err)})`);
  }
  const members = Object.keys(payload);
  const withApproval = Object.prototype.hasOwnProperty.call(payload, APPROVAL_MEMBER);
  if (
    members.length !== PROOF_MEMBERS.length + (withApproval ? 1 : 0) ||
    !PROOF_MEMBERS.every((m) => Object.prototype.hasOwnProperty.call(payload, m))
  )
    bad(`payload must have exactly the members ${PROOF_MEMBERS.join(', ')} (and ${APPROVAL_MEMBER} with an approval)`);
  if (!v.verifySignature(signature as Uint8Array, Buffer.from(`${parts[0]}.${parts[1]}`, 'latin1'), v.holderKey))
    bad("signature does not verify with the last link's holder key", 'proof.signature');
  const expected = proofPayload(v.leafHash, v.request, 0, '');
  if (payload.lh !== expected.lh) bad('it is for another token (lh)', 'proof.lh');
  for (const member of ['scp', 'res', 'act', 'cxd'] as const) {
    if (payload[member] !== expected[member]) bad(`it is for another request (${member})`, `proof.${member}`);
  }
  if (hasApproval(v.request)) {
    if (!withApproval)
      bad(`the request presents approval_id but the proof does not cover it (${APPROVAL_MEMBER})`, 'proof.apr');
    if (payload[APPROVAL_MEMBER] !== v.request.approvalId)
      bad(`it is for another approval_id (${APPROVAL_MEMBER})`, 'proof.apr');
  } else if (withApproval) {
    bad(`it names an approval (${APPROVAL_MEMBER}) that the request does not present`, 'proof.apr');
  }
  const iat = payload.iat;
  if (typeof iat !== 'number' || !Number.isSafeInteger(iat)) return bad('iat must be an integer', 'proof.iat');
  if (iat > v.now + v.skewSeconds) bad(`issued in the future at ${isoTime(iat)} (now ${isoTime(v.now)})`, 'proof.iat');
  const expiresAt = iat + v.windowSeconds + v.skewSeconds;
  if (v.now > expiresAt)
    bad(`stale: issued at ${isoTime(iat)}, older than the ${v.windowSeconds} s window`, 'proof.iat');
  const nonce = payload.nce;
  if (typeof nonce !== 'string' || !NONCE.test(nonce))
    return bad('nce must be 16-64 base64url characters', 'proof.nce');
  const outcome = v.replay.claim(`${v.leafHash}.${nonce}`, expiresAt, v.now, v.tenant);
  if (outcome === 'replayed')
    throw new AuthorityError('PROOF_REPLAYED', `per-request proof: nonce '${nonce}' was already used`, 'proof.nce');
  if (outcome === 'full')
    bad(
      `the replay cache is full for tenant '${v.tenant}' (too many proofs within the window); retry shortly`,
      'proof.nce',
    );
}
