// Offline attenuation (Biscuit-style): the holder of an envelope minted with a holder key (`cnf`)
// derives a narrower child for a sub-agent without asking the issuer, signing it with the holder
// key (kid "cnf"). The enforcer verifies the whole chain: a child that widens anything is refused.
import {
  cryptoReady,
  deriveChild,
  ed25519KeyPairFromSeed,
  generateEd25519KeyPair,
  mergeConstraints,
  offlineSigner,
  parseConstraints,
  parseToken,
  decodeBase64Url,
  type ChildParams,
  type Ed25519KeyPair,
  type EnvelopeLimits,
  type MintedToken,
} from '@authority/core';

/** What the child narrows. Everything left out is inherited from the parent. */
export interface Narrowing {
  /** The sub-agent (default: the parent's agent). */
  agent?: string;
  /** A subset of the parent's scopes (wildcard containment: `vault:*:read` ⊇ `vault:finance:read`). */
  scopes?: readonly string[];
  /** Resource patterns each contained in one of the parent's. */
  resources?: readonly string[];
  /** Context field names, a subset of the parent's. */
  context?: readonly string[];
  /**
   * Extra constraints in wire form (`{require_purpose: true, max_records_per_request: 10,
   * denied_resources: [...], write_requires_approval: true}`); they are merged with the parent's,
   * so the child is always at least as tight.
   */
  constraints?: Record<string, unknown>;
  /** Lifetime in seconds (clamped to the parent's expiry; default: until the parent expires). */
  ttlSeconds?: number;
  /** The sub-agent's own holder public key (32 bytes), so it can attenuate further. */
  holderPublicKey?: Uint8Array;
  audience?: string | readonly string[];
}

export interface AttenuateOptions {
  /** Seconds since the epoch (default: now). */
  now?: number;
  limits?: Partial<EnvelopeLimits>;
  maxDepth?: number;
}

/**
 * Derives a narrower child of `token`'s leaf, signed with the holder's secret key (the key whose
 * public half is the leaf's `cnf`). Returns the extended token. Throws AuthorityError:
 * INVALID_REQUEST (no `cnf`, wrong key, bad parameter), CHAIN_VIOLATION (the child would widen
 * something, naming the field), EXPIRED (the parent has run out).
 */
export async function attenuate(
  token: string,
  narrower: Narrowing,
  holderSecretKey: Uint8Array,
  opts: AttenuateOptions = {},
): Promise<MintedToken> {
  await cryptoReady();
  const params: ChildParams = {};
  if (narrower.agent !== undefined) params.agent = narrower.agent;
  if (narrower.scopes !== undefined) params.scopes = narrower.scopes;
  if (narrower.resources !== undefined) params.resources = narrower.resources;
  if (narrower.context !== undefined) params.context = narrower.context;
  if (narrower.ttlSeconds !== undefined) params.ttlSeconds = narrower.ttlSeconds;
  if (narrower.holderPublicKey !== undefined) params.holderKey = narrower.holderPublicKey;
  if (narrower.audience !== undefined) params.audience = narrower.audience;
  if (narrower.constraints !== undefined) {
    const links = parseToken(token, opts.limits);
    const parent = links[links.length - 1];
    const extra = parseConstraints(narrower.constraints, 'INVALID_REQUEST', 'constraints');
    params.constraints = parent === undefined ? extra : mergeConstraints(parent.constraints, extra);
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const deriveOpts: { limits?: Partial<EnvelopeLimits>; maxDepth?: number } = {};
  if (opts.limits !== undefined) deriveOpts.limits = opts.limits;
  if (opts.maxDepth !== undefined) deriveOpts.maxDepth = opts.maxDepth;
  return deriveChild(token, params, offlineSigner(holderSecretKey), now, deriveOpts);
}

/** An Ed25519 holder key as a JWK (RFC 8037): `x` the public key, `d` the 32-byte seed. */
export interface HolderKeyJwk {
  kty: 'OKP';
  crv: 'Ed25519';
  x: string;
  d?: string;
  kid?: string;
}

/** A new holder key pair (give `publicKey` to Mint/Delegate as the holder key; keep `secretKey`). */
export async function generateHolderKey(): Promise<Ed25519KeyPair> {
  await cryptoReady();
  return generateEd25519KeyPair();
}

/** The JWK of a key pair; with `includePrivate`, `d` carries the seed (keep such a file 0600). */
export function holderKeyToJwk(kp: Ed25519KeyPair, includePrivate = true): HolderKeyJwk {
  const jwk: HolderKeyJwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(kp.publicKey).toString('base64url') };
  if (includePrivate) jwk.d = Buffer.from(kp.secretKey.subarray(0, 32)).toString('base64url');
  return jwk;
}

/**
 * Reads a holder key JWK. With `d`, returns the full key pair (and checks `x` matches); without,
 * only the public key. Throws TypeError naming what is wrong.
 */
export async function holderKeyFromJwk(raw: unknown): Promise<{ publicKey: Uint8Array; secretKey?: Uint8Array }> {
  if (typeof raw !== 'object' || raw === null) throw new TypeError('holder key: expected a JWK object');
  const jwk = raw as Partial<Record<string, unknown>>;
  if (jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519')
    throw new TypeError('holder key: expected {"kty":"OKP","crv":"Ed25519",...}');
  const x = typeof jwk.x === 'string' ? decodeBase64Url(jwk.x) : undefined;
  if (x?.length !== 32) throw new TypeError("holder key: 'x' must be a 32-byte base64url Ed25519 public key");
  if (jwk.d === undefined) return { publicKey: new Uint8Array(x) };
  const d = typeof jwk.d === 'string' ? decodeBase64Url(jwk.d) : undefined;
  if (d?.length !== 32) throw new TypeError("holder key: 'd' must be a 32-byte base64url Ed25519 seed");
  await cryptoReady();
  const kp = ed25519KeyPairFromSeed(new Uint8Array(d));
  if (!Buffer.from(kp.publicKey).equals(x)) throw new TypeError("holder key: 'x' does not match the private key 'd'");
  return { publicKey: kp.publicKey, secretKey: kp.secretKey };
}
