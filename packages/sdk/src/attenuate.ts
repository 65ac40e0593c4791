// Offline attenuation (Biscuit-style): the holder of an envelope derives a narrower child for a
// sub-agent without asking the issuer, signing it with its holder key (kid "cnf"). The child is
// bound to the SUB-AGENT's key: the result is the unsealed child chain, which only the sub-agent
// can seal or prove possession of. The parent's seal never travels to the child. The enforcer
// verifies the whole chain: a child that widens anything, or names an agent outside the parent's
// lineage (`<parent>/<name>`), is refused.
import {
  deriveChild,
  mergeConstraints,
  offlineSigner,
  parseConstraints,
  parseToken,
  splitSeal,
  type ChildParams,
  type EnvelopeClaims,
  type EnvelopeLimits,
} from '@authority/core';
import { HolderKey, holderPublicKey, holderSecretKey } from './holder-key';

/** What the child narrows. Everything left out is inherited from the parent. */
export interface Narrowing {
  /**
   * The sub-agent: the parent's agent itself, or a name under it, `<parent>/<name>` (default: the
   * parent's agent). Any other name is refused (CHAIN_VIOLATION, field `sub`).
   */
  agent?: string;
  /** A subset of the parent's scopes (wildcard containment: `vault:*:read` ⊇ `vault:finance:read`). */
  scopes?: readonly string[];
  /** Resource patterns each contained in one of the parent's. */
  resources?: readonly string[];
  /** Context field names, a subset of the parent's. */
  context?: readonly string[];
  /**
   * Extra constraints in wire form (`{require_purpose: true, max_records_per_request: 10,
   * denied_resources: [...], write_requires_approval: true, pop: 'required'}`); they are merged
   * with the parent's, so the child is always at least as tight.
   */
  constraints?: Record<string, unknown>;
  /** Lifetime in seconds (clamped to the parent's expiry; default: until the parent expires). */
  ttlSeconds?: number;
  audience?: string | readonly string[];
}

/** The child and who it is bound to. */
export interface AttenuateParams extends Narrowing {
  /**
   * The sub-agent's holder PUBLIC key (32 bytes, or base64url): the sub-agent generated its key
   * and keeps the secret. Without it a key is generated here and returned as `childKey`, to be
   * handed to the sub-agent over a channel you trust.
   */
  childPublicKey?: Uint8Array | string;
}

export interface AttenuateOptions {
  /** Seconds since the epoch (default: now). */
  now?: number;
  limits?: Partial<EnvelopeLimits>;
  maxDepth?: number;
}

/** A derived child. */
export interface Attenuated {
  /**
   * The UNSEALED chain ending with the child: hand it to the sub-agent, which seals it with its own
   * key (`seal(chain, childKey)`) or sends per-request proofs. It cannot be presented as it is.
   */
  chain: string;
  /** The child link alone. */
  link: string;
  claims: EnvelopeClaims;
  /** `sub` of every link, root first. */
  agentChain: string[];
  /** Set only when this call generated the child's key (no `childPublicKey` was given). */
  childKey?: HolderKey;
}

/**
 * Derives a narrower child of `token`'s leaf, signed with `holderKey` (the holder key of the leaf,
 * whose public half is its `cnf`). `token` may be sealed or not; its seal is dropped. Throws
 * AuthorityError: INVALID_REQUEST (wrong key, bad parameter), CHAIN_VIOLATION (the child would
 * widen something or leave the lineage, naming the field), EXPIRED (the parent has run out).
 */
export async function attenuate(
  token: string,
  holderKey: HolderKey,
  params: AttenuateParams = {},
  opts: AttenuateOptions = {},
): Promise<Attenuated> {
  const signer = offlineSigner(holderSecretKey(holderKey));
  const parentChain = splitSeal(token.trim()).chain;
  const childKey = params.childPublicKey === undefined ? await HolderKey.generate() : undefined;
  const child: ChildParams = {
    holderKey: childKey?.publicKey ?? holderPublicKey(params.childPublicKey as string | Uint8Array, 'child_public_key'),
  };
  if (params.agent !== undefined) child.agent = params.agent;
  if (params.scopes !== undefined) child.scopes = params.scopes;
  if (params.resources !== undefined) child.resources = params.resources;
  if (params.context !== undefined) child.context = params.context;
  if (params.ttlSeconds !== undefined) child.ttlSeconds = params.ttlSeconds;
  if (params.audience !== undefined) child.audience = params.audience;
  let agentChain: string[] = [];
  {
    const links = parseToken(parentChain, opts.limits);
    agentChain = links.map((l) => l.claims.sub);
    if (params.constraints !== undefined) {
      const parent = links[links.length - 1];
      const extra = parseConstraints(params.constraints, 'INVALID_REQUEST', 'constraints');
      child.constraints = parent === undefined ? extra : mergeConstraints(parent.constraints, extra);
    }
  }
  const now = opts.now ?? Math.floor(Date.now() / 1000);
  const deriveOpts: { limits?: Partial<EnvelopeLimits>; maxDepth?: number } = {};
  if (opts.limits !== undefined) deriveOpts.limits = opts.limits;
  if (opts.maxDepth !== undefined) deriveOpts.maxDepth = opts.maxDepth;
  try {
    const minted = deriveChild(parentChain, child, signer, now, deriveOpts);
    const out: Attenuated = {
      chain: minted.chain,
      link: minted.link,
      claims: minted.claims,
      agentChain: [...agentChain, minted.claims.sub],
    };
    if (childKey !== undefined) out.childKey = childKey;
    return out;
  } catch (err) {
    childKey?.destroy();
    throw err;
  }
}
