/**
 * Producing tokens: minting a root link, and deriving a narrower child link from a token, online
 * (signed by the issuer with a tenant key) or offline (signed by the holder of the parent's `cnf`
 * key, with kid "cnf"). A child is checked against the chain rule before it is signed. Every link
 * is bound to its holder's key (`cnf`); the result is sealed when this call knows the holder's
 * secret key, and is an unsealed chain for the holder to seal otherwise.
 */
import { generateEd25519KeyPair, randomId, type Ed25519KeyPair } from '../crypto';
import { AuthorityError } from '../errors';
import { constraintsToWire, type Constraints } from '../constraints';
import { OFFLINE_KID, holderKeyConfirmation, validateClaims, type EnvelopeClaims } from './claims';
import { hashLink, parseToken, signLink, LINK_SEPARATOR, type ParsedLink } from './link';
import { appendSeal, splitSeal } from './seal';
import { DEFAULT_MAX_DEPTH, resolveEnvelopeLimits, type EnvelopeLimits } from './limits';
import { isoTime } from './iso-time';
import { checkNarrowing } from './narrowing';

/**
 * A fresh envelope id: 128 random bits in base64url. One that starts with '-' is drawn again
 * (1 in 64): command-line parsers read `authority revoke envelope -Gh9…` as an unknown option.
 * Verification still accepts any 22-character id.
 */
export function newJti(): string {
  for (;;) {
    const id = randomId(16);
    if (!id.startsWith('-')) return id;
  }
}

/** A signing key and the `kid` that names it. */
export interface LinkSigner {
  /** 64-byte libsodium Ed25519 secret key (seed ‖ public key). */
  secretKey: Uint8Array;
  /** A tenant key id (online), or OFFLINE_KID ("cnf") when signing with the parent's holder key. */
  kid: string;
}

/** The signer for offline attenuation: the holder of the parent link's `cnf` key. */
export function offlineSigner(holderSecretKey: Uint8Array): LinkSigner {
  return { secretKey: holderSecretKey, kid: OFFLINE_KID };
}

/** What a root grants. */
export interface RootParams {
  tenant: string;
  agent: string;
  scopes: readonly string[];
  /** Resource glob patterns; empty grants no resources. */
  resources: readonly string[];
  /** Context field names the agent may see or send. */
  context: readonly string[];
  constraints: Constraints;
  /** Lifetime `exp - nbf` in seconds (within the TTL limits). */
  ttlSeconds: number;
  /** Start of validity (default: now). */
  notBefore?: number;
  /** The holder's key (`cnf`); see HolderKeyInput. */
  holderKey?: HolderKeyInput;
  audience?: string | readonly string[];
  issuer?: string;
}

/**
 * The new holder's key: its public key (32 bytes: the result is an unsealed chain that only the
 * holder can seal), its key pair (the result is sealed with it), or nothing (a key pair is
 * generated, the result is sealed, and its secret key is returned once).
 */
export type HolderKeyInput = Uint8Array | Ed25519KeyPair;

/** What a child changes; everything left out is inherited from the parent (except `holderKey`). */
export interface ChildParams {
  /** The sub-agent (default: the parent's agent). */
  agent?: string;
  scopes?: readonly string[];
  resources?: readonly string[];
  context?: readonly string[];
  constraints?: Constraints;
  /**
   * Lifetime in seconds from `notBefore`, clamped to the parent's `exp` (a child never outlives
   * its parent). Default: until the parent's `exp`.
   */
  ttlSeconds?: number;
  /** Default: max(now, parent nbf). */
  notBefore?: number;
  /** The sub-agent's holder key (see HolderKeyInput). Never inherited from the parent. */
  holderKey?: HolderKeyInput;
  /** Default: the parent's audience. */
  audience?: string | readonly string[];
  issuer?: string;
}

export interface MintOptions {
  now: number;
  limits?: Partial<EnvelopeLimits>;
}

export interface DeriveOptions {
  limits?: Partial<EnvelopeLimits>;
  maxDepth?: number;
}

/** A freshly signed link, and the token that ends with it. */
export interface MintedToken {
  /**
   * The token to present: sealed by the holder when `sealed`, else the unsealed chain (equal to
   * `chain`), which the holder seals (sealToken) or uses with per-request proofs.
   */
  token: string;
  /** The links, root first, joined by `~`, without a seal: what is handed to the holder. */
  chain: string;
  link: string;
  claims: EnvelopeClaims;
  sealed: boolean;
  /** The holder's 64-byte secret key when this call generated or was given it. */
  holderSecretKey?: Uint8Array;
}

interface ResolvedHolder {
  publicKey: Uint8Array;
  secretKey: Uint8Array | undefined;
}

function resolveHolder(input: HolderKeyInput | undefined): ResolvedHolder {
  if (input === undefined) {
    const pair = generateEd25519KeyPair();
    return { publicKey: pair.publicKey, secretKey: pair.secretKey };
  }
  if (input instanceof Uint8Array) return { publicKey: input, secretKey: undefined };
  // libsodium secret keys end with their public key: a pair that disagrees would seal in vain.
  if (
    input.secretKey.length !== 64 ||
    !Buffer.from(input.secretKey.subarray(32)).equals(Buffer.from(input.publicKey))
  ) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      "the holder key pair's secret key does not match its public key",
      'holder_key',
    );
  }
  return { publicKey: input.publicKey, secretKey: input.secretKey };
}

function finish(chain: string, link: string, claims: EnvelopeClaims, holder: ResolvedHolder): MintedToken {
  if (holder.secretKey === undefined) return { token: chain, chain, link, claims, sealed: false };
  // The new link is the leaf and is bound to this holder's public key: seal it without re-parsing.
  const token = appendSeal(chain, hashLink(link), holder.secretKey);
  return { token, chain, link, claims, sealed: true, holderSecretKey: holder.secretKey };
}

function checkLifetime(nbf: number, exp: number, limits: Readonly<EnvelopeLimits>): void {
  const lifetime = exp - nbf;
  if (!Number.isSafeInteger(lifetime) || lifetime < limits.minTtlSeconds || lifetime > limits.maxTtlSeconds) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      `lifetime ${lifetime} s is outside ${limits.minTtlSeconds} s – ${limits.maxTtlSeconds} s`,
      'ttl_seconds',
    );
  }
}

function audienceClaim(a: string | readonly string[] | undefined): string | string[] | undefined {
  return a === undefined ? undefined : typeof a === 'string' ? a : [...a];
}

/** Mints and signs a root link with a tenant key. Throws INVALID_REQUEST naming a bad field. */
export function mintRoot(params: RootParams, signer: LinkSigner & MintOptions): MintedToken {
  const limits = resolveEnvelopeLimits(signer.limits);
  if (signer.kid === OFFLINE_KID)
    throw new AuthorityError('INVALID_REQUEST', "a root must be signed by a tenant key, not kid 'cnf'", 'kid');
  const nbf = params.notBefore ?? signer.now;
  const exp = nbf + params.ttlSeconds;
  checkLifetime(nbf, exp, limits);
  const holder = resolveHolder(params.holderKey);
  const claims: EnvelopeClaims = {
    tnt: params.tenant,
    sub: params.agent,
    jti: newJti(),
    iat: signer.now,
    nbf,
    exp,
    dep: 0,
    scp: [...params.scopes],
    res: [...params.resources],
    ctx: [...params.context],
    cns: constraintsToWire(params.constraints),
    cnf: holderKeyConfirmation(holder.publicKey),
  };
  if (params.issuer !== undefined) claims.iss = params.issuer;
  const aud = audienceClaim(params.audience);
  if (aud !== undefined) claims.aud = aud;
  const link = signLink(claims, signer.secretKey, signer.kid, limits);
  return finish(link, link, claims, holder);
}

/**
 * Derives a child of the token's leaf and returns the chain extended by it (the parent's seal, if
 * any, is dropped: it never travels to the child). The parent token is parsed but NOT verified
 * here (no keys at hand): the verifier checks the whole chain anyway.
 * Throws CHAIN_VIOLATION naming the field that would exceed the parent, INVALID_REQUEST for a bad
 * parameter or signer, EXPIRED when the parent has run out.
 */
export function deriveChild(
  parentToken: string,
  params: ChildParams,
  signer: LinkSigner,
  now: number,
  options: DeriveOptions = {},
): MintedToken {
  const limits = resolveEnvelopeLimits(options.limits);
  const parentChain = splitSeal(parentToken).chain;
  const chain = parseToken(parentChain, limits);
  const parent = chain[chain.length - 1] as ParsedLink;
  const p = parent.claims;
  if (chain.length + 1 > limits.maxLinks) {
    throw new AuthorityError(
      'CHAIN_VIOLATION',
      `the token already has ${chain.length} links; at most ${limits.maxLinks} are allowed`,
      'dep',
    );
  }

  if (signer.kid === OFFLINE_KID) {
    const signerPublicKey = signer.secretKey.subarray(32);
    if (signer.secretKey.length !== 64 || !Buffer.from(signerPublicKey).equals(Buffer.from(parent.holderKey))) {
      throw new AuthorityError('INVALID_REQUEST', "the signing key is not the parent's 'cnf' holder key", 'signer');
    }
  }
  if (now >= p.exp)
    throw new AuthorityError('EXPIRED', `the parent expired at ${isoTime(p.exp)}; cannot derive a child`, 'exp');

  const nbf = params.notBefore ?? Math.max(now, p.nbf);
  const exp = params.ttlSeconds === undefined ? p.exp : Math.min(nbf + params.ttlSeconds, p.exp);
  checkLifetime(nbf, exp, limits);
  const holder = resolveHolder(params.holderKey);

  const claims: EnvelopeClaims = {
    tnt: p.tnt,
    sub: params.agent ?? p.sub,
    jti: newJti(),
    iat: Math.max(now, p.iat),
    nbf,
    exp,
    dep: p.dep + 1,
    prn: p.jti,
    phs: parent.hash,
    scp: [...(params.scopes ?? p.scp)],
    res: [...(params.resources ?? p.res)],
    ctx: [...(params.context ?? p.ctx)],
    cns: params.constraints === undefined ? structuredClone(p.cns) : constraintsToWire(params.constraints),
    cnf: holderKeyConfirmation(holder.publicKey),
  };
  if (params.issuer !== undefined) claims.iss = params.issuer;
  const aud = params.audience === undefined ? audienceClaim(p.aud) : audienceClaim(params.audience);
  if (aud !== undefined) claims.aud = aud;

  // Validate the child's claims on their own, then against the parent, before signing anything.
  const child = validateClaims(claims, 'child link', limits, 'INVALID_REQUEST');
  checkNarrowing(parent, parent.hash, child, chain.length, options.maxDepth ?? DEFAULT_MAX_DEPTH);

  const link = signLink(claims, signer.secretKey, signer.kid, limits);
  const token = `${parentChain}${LINK_SEPARATOR}${link}`;
  if (token.length > limits.maxTokenBytes) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      `the derived token would be ${token.length} bytes; at most ${limits.maxTokenBytes} are allowed`,
      'token',
    );
  }
  return finish(token, link, claims, holder);
}
