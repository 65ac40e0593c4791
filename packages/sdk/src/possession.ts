// Proof of possession, holder side: sealing a chain with the leaf's holder key, and signing a
// per-request proof (DPoP-style) over one check. The enforcer accepts a token that is sealed, or
// one that comes with a per-request proof; `pop: required` (in the envelope or the tenant policy)
// makes the proof mandatory. docs/envelope.md has the formats; core has the implementations.
import {
  AuthorityError,
  parseToken,
  sealToken,
  signRequestProof,
  splitSeal,
  type EnvelopeLimits,
  type ParsedLink,
} from '@authority/core';
import type { CheckRequest } from '@authority/proto';
import { holderSecretKey, type HolderKey } from './holder-key';

/**
 * When to attach a per-request proof (given a holder key):
 * - `auto`: when the envelope needs one: the token is not sealed, or a link says `pop: required`.
 *   A tenant-wide `pop: required` policy is not visible in the token: use `always` there.
 * - `always`: on every check (a token seen by a tool server or a log cannot be replayed).
 * - `never`: never (the token must be sealed).
 */
export type ProofMode = 'auto' | 'always' | 'never';

/**
 * Seals a chain (links joined by `~`, or a sealed token, whose seal is replaced) with the holder
 * key of its LAST link, making it presentable. Throws AuthorityError INVALID_REQUEST (field
 * `holder_key`) when the key is not the last link's `cnf` key, INVALID_TOKEN when the chain does
 * not parse.
 */
export function seal(chain: string, holderKey: HolderKey, opts: { limits?: Partial<EnvelopeLimits> } = {}): string {
  return sealToken(chain.trim(), holderSecretKey(holderKey), opts.limits);
}

/** True when the token ends with a seal (not verified). */
export function isSealed(token: string): boolean {
  return splitSeal(token.trim()).seal !== undefined;
}

/** `sub` of every link of a token, root first (the delegation path), as CLAIMED (not verified). */
export function agentChainOf(token: string): string[] {
  return parseToken(splitSeal(token.trim()).chain).map((l) => l.claims.sub);
}

/** The last link of a token (parsed, not verified). */
function leafOf(token: string, limits?: Partial<EnvelopeLimits>): ParsedLink {
  const links = parseToken(splitSeal(token).chain, limits);
  return links[links.length - 1] as ParsedLink;
}

function leafHeldBy(token: string, holderKey: HolderKey, limits?: Partial<EnvelopeLimits>): ParsedLink {
  const leaf = leafOf(token.trim(), limits);
  if (!Buffer.from(leaf.holderKey).equals(Buffer.from(holderKey.publicKey))) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      "the holder key is not the last link's 'cnf' key: only the leaf's holder can prove possession",
      'holder_key',
    );
  }
  return leaf;
}

/**
 * Throws AuthorityError INVALID_REQUEST (field `holder_key`) unless `holderKey` is the key of the
 * token's last link (INVALID_TOKEN when the token does not parse).
 */
export function assertLeafHolder(token: string, holderKey: HolderKey): void {
  leafHeldBy(token, holderKey);
}

/** What a per-request proof covers: the fields of one CheckRequest. */
export type ProvenCheck = Pick<CheckRequest, 'requiredScope' | 'resource' | 'action' | 'context' | 'approvalId'>;

/**
 * Signs a per-request proof for one check with the holder key of the token's last link: a compact
 * JWS over the leaf's hash, the scope, resource, action, a digest of the context, the approval id
 * the check presents (`apr`, only when it presents one), the time and a random nonce. Put it in
 * `CheckRequest.proof`. It is good for one check within the enforcer's window (60 s by default).
 * Fields are read exactly as the enforcer reads the request (proto3: an empty string is absent),
 * so sign the request as it will be sent: with its `approvalId`.
 * Throws AuthorityError INVALID_REQUEST (field `holder_key`) when the key is not the leaf's key.
 */
export function requestProof(
  token: string,
  holderKey: HolderKey,
  request: ProvenCheck,
  opts: { now?: number; nonce?: string; limits?: Partial<EnvelopeLimits> } = {},
): string {
  const secret = holderSecretKey(holderKey);
  const leaf = leafHeldBy(token, holderKey, opts.limits);
  const ctx = request.context ?? undefined;
  const context: { purpose?: string; recordCount?: number; fields?: Record<string, string> } = {};
  if (ctx) {
    if (typeof ctx.purpose === 'string' && ctx.purpose !== '') context.purpose = ctx.purpose;
    if (typeof ctx.recordCount === 'number') context.recordCount = ctx.recordCount;
    if (ctx.fields && Object.keys(ctx.fields).length > 0) context.fields = { ...ctx.fields };
  }
  const proven: {
    requiredScope: string;
    resource?: string;
    action?: string;
    context?: typeof context;
    approvalId?: string;
  } = {
    requiredScope: request.requiredScope ?? '',
  };
  if (request.resource) proven.resource = request.resource;
  if (request.action) proven.action = request.action;
  if (request.approvalId) proven.approvalId = request.approvalId;
  if (ctx) proven.context = context;
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  return opts.nonce === undefined
    ? signRequestProof(leaf.hash, proven, secret, now)
    : signRequestProof(leaf.hash, proven, secret, now, opts.nonce);
}

/**
 * Whether a check with `token` needs a per-request proof by what the token itself says: it is not
 * sealed, or its leaf carries `pop: required`. Tokens that do not parse need none (the enforcer
 * explains what is wrong with them).
 */
export function tokenNeedsProof(token: string): boolean {
  const t = token.trim();
  if (splitSeal(t).seal === undefined) return true;
  try {
    return leafOf(t).constraints.popRequired === true;
  } catch {
    return false;
  }
}

/** Whether to sign a proof for `token` in `mode`. */
export function shouldProve(token: string, mode: ProofMode): boolean {
  return mode === 'always' || (mode === 'auto' && tokenNeedsProof(token));
}
