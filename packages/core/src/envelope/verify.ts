/**
 * Chain verification: every link of a token, every time, in the architecture's order
 * (parse → signatures → possession (the seal) → time → revocation → chain narrowing → audience).
 * Throws an AuthorityError with a stable reason code and a message naming the link and field;
 * returns the effective leaf. Links enter the memo only once the whole chain has verified.
 */
import { ed25519Verify } from '../crypto';
import { AuthorityError } from '../errors';
import type { Constraints } from '../constraints';
import { OFFLINE_KID, audiencesOf } from './claims';
import { LINK_SEPARATOR, hashLink, parseLink, popSeal, splitToken, type ParsedLink } from './link';
import { sealSignatureFor, sealSigningInput } from './seal';
import { DEFAULT_MAX_DEPTH, DEFAULT_SKEW_SECONDS, resolveEnvelopeLimits, type EnvelopeLimits } from './limits';
import type { LinkMemo, MemoEntry } from './memo';
import { checkDepthLimit, checkNarrowing, checkRootLink } from './narrowing';
import { isoTime } from './iso-time';

/** Seconds since the epoch, or a clock returning them. */
export type NowSource = number | (() => number);

/** A tenant key as the verifier needs it. */
export interface ResolvedKey {
  /** 32-byte Ed25519 public key. */
  publicKey: Uint8Array;
  /**
   * When the key stopped signing (seconds; set for a superseded, VERIFY_ONLY key): a link it
   * signed verifies only if issued (`iat`) no later than this plus the clock skew.
   */
  signedUntil?: number;
}

export interface EnvelopeVerifyOptions {
  /**
   * A live public key of `tenant` named `kid` (its bytes, or with the time it stopped signing), or
   * undefined. Called for the root and for children signed online by the issuer (any kid but
   * "cnf"), always with the ROOT's tenant, so a child cannot pull in another tenant's keys. Never
   * called with kid "cnf".
   */
  resolveKey(tenant: string, kid: string): Uint8Array | ResolvedKey | undefined;
  /** Current time (seconds). */
  now: NowSource;
  /**
   * True when the link's `jti` is revoked, or its agent `sub` was revoked for everything issued
   * before some time T and `issuedAt` (`iat`) < T. Asked for every link of the chain, always with
   * the ROOT's tenant (`tnt` of link 0; every link's tenant is checked equal to it).
   */
  isRevoked(jti: string, agent: string, issuedAt: number, tenant: string): boolean;
  /** Clock-skew tolerance in seconds (default 30). */
  skewSeconds?: number;
  /** Maximum delegation depth (default 8; the root is depth 0). */
  maxDepth?: number;
  /** The tenant the token must belong to (TENANT_MISMATCH otherwise). */
  expectedTenant?: string;
  /**
   * This verifier's audience. A link carrying `aud` must name it; when undefined, any link with
   * `aud` is refused (RFC 7519 §4.1.3: a verifier that does not identify with the audience rejects).
   */
  audience?: string;
  /** Memo of verified links (see LinkMemo); without it every call parses and verifies. */
  memo?: LinkMemo;
  /** Size and TTL limits (defaults: DEFAULT_ENVELOPE_LIMITS). */
  limits?: Partial<EnvelopeLimits>;
  /** Signature verifier hook (default ed25519Verify); lets tests count Ed25519 calls. */
  verifySignature?: (signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array) => boolean;
  /**
   * Whether the token must end with its holder's seal (default true; PROOF_REQUIRED otherwise).
   * The check engine sets it false when the request carries a per-request proof instead. A seal
   * that is present is always verified.
   */
  requireSeal?: boolean;
}

/** A verified chain and its effective (leaf) authority. */
export interface VerifiedEnvelope {
  readonly tenant: string;
  /** The leaf's `sub`: the agent presenting the token. */
  readonly agent: string;
  /** The root's `sub`: the agent the issuer minted the grant for. */
  readonly rootAgent: string;
  /** Every distinct `sub` in the chain, root first. */
  readonly agents: readonly string[];
  /** `sub` of every link, root first (the delegation path; parallel to `jtis`). */
  readonly path: readonly string[];
  readonly links: readonly ParsedLink[];
  /** `jti` of every link, root first. */
  readonly jtis: readonly string[];
  readonly leaf: ParsedLink;
  readonly scopes: readonly string[];
  readonly resources: readonly string[];
  /**
   * True when the root grants resources: then every call must name one. A chain whose root grants
   * none is for resource-less calls. (Deciding by the root, not the leaf, keeps narrowing
   * monotone: a child with `res: []` under a resource-scoped parent gains no resource-less calls.)
   */
  readonly resourceRequired: boolean;
  readonly contextFields: readonly string[];
  readonly constraints: Readonly<Constraints>;
  /** Leaf `exp` (no later than any ancestor's, by the narrowing rule). */
  readonly expiresAt: number;
  /** Links whose signature check was served by the memo. */
  readonly memoHits: number;
  /** True when the token ended with a valid seal by the leaf's holder. */
  readonly sealed: boolean;
}

export { isoTime } from './iso-time';

export function readNow(now: NowSource): number {
  return typeof now === 'function' ? now() : now;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The public key that must have signed link `index` (UNKNOWN_KEY when there is none, or when the
 * link was issued after its key stopped signing).
 */
function signingKeyOf(
  links: readonly ParsedLink[],
  index: number,
  tenant: string,
  opts: Omit<EnvelopeVerifyOptions, 'expectedTenant'>,
  skew: number,
): Uint8Array {
  const link = links[index] as ParsedLink;
  const kid = link.header.kid;
  if (kid === OFFLINE_KID) {
    if (index === 0) {
      throw new AuthorityError(
        'UNKNOWN_KEY',
        "link 0: the root must be signed by a tenant key; kid 'cnf' is reserved for offline attenuation",
        'kid',
      );
    }
    const holderKey = (links[index - 1] as ParsedLink).holderKey;
    if (holderKey === undefined) {
      throw new AuthorityError(
        'UNKNOWN_KEY',
        `link ${index}: kid 'cnf' names the parent's holder key, but link ${index - 1} has no 'cnf'`,
        'kid',
      );
    }
    return holderKey;
  }
  const resolved = opts.resolveKey(tenant, kid);
  if (resolved === undefined)
    throw new AuthorityError('UNKNOWN_KEY', `link ${index}: tenant '${tenant}' has no live key '${kid}'`, 'kid');
  if (resolved instanceof Uint8Array) return resolved;
  const until = resolved.signedUntil;
  // Fail closed on a nonsensical time (NaN would compare false and let any link through).
  if (until !== undefined && (!Number.isFinite(until) || link.claims.iat > until + skew)) {
    throw new AuthorityError(
      'UNKNOWN_KEY',
      `link ${index}: key '${kid}' stopped signing at ${isoTime(until)}, but the link was issued at ${isoTime(link.claims.iat)}`,
      'kid',
    );
  }
  return resolved.publicKey;
}

const SEGMENT_ALPHABET = /^[A-Za-z0-9_\-.]+$/;

/** A token split into links, parsed or served by the memo. */
interface SplitToken {
  raws: string[];
  /** The trailing seal, when the token has one. */
  seal: string | undefined;
  links: ParsedLink[];
  /** The memo entry of each link (a hit, or remembered once verified). */
  entries: (MemoEntry | undefined)[];
  /** Whether each link was served by the memo (its signature not checked by this call). */
  memoized: boolean[];
}

/**
 * The fast path: every link found in the memo's text index. Such text passed splitToken's checks
 * when it was first memoized (alphabet, per-link size), so only the token-level bounds remain.
 * Undefined when any link misses (the caller takes the full path).
 */
function splitMemoized(token: unknown, limits: Readonly<EnvelopeLimits>, memo: LinkMemo): SplitToken | undefined {
  if (typeof token !== 'string' || token.length === 0 || token.length > limits.maxTokenBytes) return undefined;
  const raws = token.split(LINK_SEPARATOR);
  const seal = popSeal(raws);
  const n = raws.length;
  if (n > limits.maxLinks) return undefined;
  const links = new Array<ParsedLink>(n);
  const entries = new Array<MemoEntry | undefined>(n);
  const memoized = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    const entry = memo.getByText(raws[i] as string, false);
    if (entry === undefined) return undefined;
    links[i] = entry.link;
    entries[i] = entry;
    memoized[i] = true;
  }
  // A seal is not in the text index: unless it is the exact text remembered for this leaf (which
  // passed them), check it as splitToken checks every segment, so a token gets the same answer
  // with and without the memo.
  if (
    seal !== undefined &&
    seal !== (entries[n - 1] as MemoEntry).seal &&
    (seal.length > limits.maxLinkBytes || !SEGMENT_ALPHABET.test(seal))
  )
    return undefined;
  // Counted only now: on a partial hit the full path looks every link up again.
  memo.stats.hits += n;
  memo.stats.textHits += n;
  return { raws, seal, links, entries, memoized };
}

/** The full path: splitToken's checks, then each link from the memo (by hash) or parsed. */
function splitAndParse(token: unknown, limits: Readonly<EnvelopeLimits>, memo: LinkMemo | undefined): SplitToken {
  const raws = splitToken(token, limits);
  const seal = popSeal(raws);
  const n = raws.length;
  const links = new Array<ParsedLink>(n);
  const entries = new Array<MemoEntry | undefined>(n);
  const memoized = new Array<boolean>(n);
  for (let i = 0; i < n; i++) {
    const raw = raws[i] as string;
    let entry = memo?.getByText(raw);
    let hash: string | undefined;
    if (entry === undefined && memo !== undefined) {
      hash = hashLink(raw);
      entry = memo.get(hash);
      if (entry !== undefined) memo.indexText(raw, entry);
    }
    entries[i] = entry;
    memoized[i] = entry !== undefined;
    links[i] = entry !== undefined ? entry.link : parseLink(raw, i, limits, hash ?? hashLink(raw));
  }
  return { raws, seal, links, entries, memoized };
}

/** Verifies every link of `token`; see EnvelopeVerifyOptions. Throws AuthorityError on the first failure. */
export function verifyEnvelope(token: unknown, opts: EnvelopeVerifyOptions): VerifiedEnvelope {
  return verifyEnvelopeFor(token, opts, opts.expectedTenant);
}

/** verifyEnvelope with the expected tenant passed separately (saves the caller copying its options). */
export function verifyEnvelopeFor(
  token: unknown,
  opts: Omit<EnvelopeVerifyOptions, 'expectedTenant'>,
  expectedTenant: string | undefined,
  requireSeal: boolean = opts.requireSeal !== false,
): VerifiedEnvelope {
  const limits = resolveEnvelopeLimits(opts.limits);
  const memo = opts.memo;
  const verify = opts.verifySignature ?? ed25519Verify;

  // 1. Parse (a memo hit skips decoding: same bytes, same parse).
  const parsed = memo !== undefined ? splitMemoized(token, limits, memo) : undefined;
  const { raws, seal, links, entries, memoized } = parsed ?? splitAndParse(token, limits, memo);
  const n = raws.length;
  const root = links[0] as ParsedLink;
  const tenant = root.claims.tnt;
  const skew = opts.skewSeconds ?? DEFAULT_SKEW_SECONDS;

  // 2. Signatures. Keys are resolved on every call, so a retired key fails even when memoized.
  // Links verified here are remembered only once the whole chain has passed (step 8).
  let memoHits = 0;
  let verifiedKeys: (Uint8Array | undefined)[] | undefined;
  for (let i = 0; i < n; i++) {
    let link = links[i] as ParsedLink;
    const key = signingKeyOf(links, i, tenant, opts, skew);
    if (memoized[i] === true) {
      if (sameBytes((entries[i] as MemoEntry).verifiedKey, key)) {
        memoHits++;
        continue;
      }
      // The kid now names other key bytes: the memo does not vouch for them; verify the link
      // itself (parsed again from the token in hand: the memo keeps no signature).
      link = parseLink(raws[i] as string, i, limits, link.hash);
      links[i] = link;
      entries[i] = undefined;
    }
    if (!verify(link.signature, link.signingInput, key)) {
      throw new AuthorityError(
        'INVALID_SIGNATURE',
        `link ${i}: signature does not verify with key '${link.header.kid}'`,
        'signature',
      );
    }
    (verifiedKeys ??= new Array<Uint8Array | undefined>(n))[i] = key;
  }

  // 3. Possession: the seal, by the leaf's holder key over the leaf's hash (memoized on the leaf:
  // the exact seal text that verified).
  const leaf = links[n - 1] as ParsedLink;
  let sealToRemember: string | undefined;
  if (seal !== undefined) {
    if (entries[n - 1]?.seal !== seal) {
      const signature = Buffer.from(sealSignatureFor(seal, leaf.hash), 'base64url');
      if (!verify(signature, sealSigningInput(leaf.hash), leaf.holderKey)) {
        throw new AuthorityError(
          'INVALID_PROOF',
          `the seal does not verify with the holder key of link ${n - 1} ('cnf'): only the holder of the last link's key can present this token`,
          'seal',
        );
      }
      sealToRemember = seal;
    }
  } else if (requireSeal) {
    throw new AuthorityError(
      'PROOF_REQUIRED',
      `the token is not sealed: its holder must seal it with the key of link ${n - 1} ('cnf') or send a per-request proof`,
      'seal',
    );
  }

  // 4. Time, with skew: valid while nbf - skew <= now < exp + skew.
  const now = readNow(opts.now);
  for (let i = 0; i < n; i++) {
    const c = (links[i] as ParsedLink).claims;
    const lifetime = c.exp - c.nbf;
    if (lifetime < limits.minTtlSeconds || lifetime > limits.maxTtlSeconds) {
      throw new AuthorityError(
        'INVALID_TOKEN',
        `link ${i}: lifetime exp - nbf = ${lifetime} s is outside ${limits.minTtlSeconds} s – ${limits.maxTtlSeconds} s`,
        'exp',
      );
    }
    if (now >= c.exp + skew)
      throw new AuthorityError(
        'EXPIRED',
        `link ${i}: expired at ${isoTime(c.exp)} (now ${isoTime(now)}, skew ${skew} s)`,
        'exp',
      );
    if (now < c.nbf - skew)
      throw new AuthorityError(
        'NOT_YET_VALID',
        `link ${i}: not valid before ${isoTime(c.nbf)} (now ${isoTime(now)}, skew ${skew} s)`,
        'nbf',
      );
    if (c.iat > now + skew)
      throw new AuthorityError(
        'NOT_YET_VALID',
        `link ${i}: issued in the future at ${isoTime(c.iat)} (now ${isoTime(now)}, skew ${skew} s)`,
        'iat',
      );
  }

  // 5. Revocation: any link's jti, or its agent revoked for tokens issued before its iat.
  for (let i = 0; i < n; i++) {
    const c = (links[i] as ParsedLink).claims;
    if (opts.isRevoked(c.jti, c.sub, c.iat, tenant)) {
      throw new AuthorityError('REVOKED', `link ${i}: envelope '${c.jti}' of agent '${c.sub}' is revoked`, 'jti');
    }
  }

  // 6. Chain narrowing (tenant first).
  if (expectedTenant !== undefined && tenant !== expectedTenant) {
    throw new AuthorityError(
      'TENANT_MISMATCH',
      `link 0: token belongs to tenant '${tenant}', not '${expectedTenant}'`,
      'tnt',
    );
  }
  checkRootLink(root);
  const maxDepth = opts.maxDepth ?? DEFAULT_MAX_DEPTH;
  for (let i = 1; i < n; i++) {
    const parent = links[i - 1] as ParsedLink;
    const child = links[i] as ParsedLink;
    const entry = entries[i];
    if (entry !== undefined && entry.narrowsParent && child.claims.phs === parent.hash) {
      // Remembered: a valid narrowing of exactly this parent; only the depth limit is a setting.
      checkDepthLimit(child, i, maxDepth);
      continue;
    }
    checkNarrowing(parent, parent.hash, child, i, maxDepth);
    if (entry !== undefined) entry.narrowsParent = true;
  }

  // 7. Audience: every link that restricts it must name this verifier.
  for (let i = 0; i < n; i++) {
    const c = (links[i] as ParsedLink).claims;
    if (c.aud === undefined) continue;
    if (opts.audience === undefined || !audiencesOf(c).includes(opts.audience)) {
      throw new AuthorityError(
        'AUDIENCE_MISMATCH',
        `link ${i}: audience ${JSON.stringify(c.aud)} does not include ${opts.audience === undefined ? 'this verifier (no audience configured)' : `'${opts.audience}'`}`,
        'aud',
      );
    }
  }

  // 8. Remember what verified: only links of a chain that passed every step above, so junk that
  // is signed but expired, revoked or not a narrowing never occupies the memo.
  if (memo !== undefined) {
    for (let i = 0; verifiedKeys !== undefined && i < n; i++) {
      const key = verifiedKeys[i];
      if (key === undefined) continue;
      const entry = memo.remember(links[i] as ParsedLink, key);
      entry.narrowsParent = i > 0;
      entries[i] = entry;
      memo.indexText(raws[i] as string, entry);
    }
    const leafEntry = entries[n - 1];
    if (sealToRemember !== undefined && leafEntry !== undefined) memo.rememberSeal(leafEntry, sealToRemember);
  }

  const jtis = new Array<string>(n);
  const path = new Array<string>(n);
  const agents: string[] = [];
  for (let i = 0; i < n; i++) {
    const c = (links[i] as ParsedLink).claims;
    jtis[i] = c.jti;
    path[i] = c.sub;
    if (!agents.includes(c.sub)) agents.push(c.sub);
  }
  return {
    tenant,
    agent: leaf.claims.sub,
    rootAgent: root.claims.sub,
    agents,
    path,
    links,
    jtis,
    leaf,
    scopes: leaf.claims.scp,
    resources: leaf.claims.res,
    resourceRequired: root.claims.res.length > 0,
    contextFields: leaf.claims.ctx,
    constraints: leaf.constraints,
    expiresAt: leaf.claims.exp,
    memoHits,
    sealed: seal !== undefined,
  };
}
