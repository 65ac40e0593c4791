// Token forgery for tests: a child link signed with any claims (deriveChild refuses to produce a
// child that is not a narrowing, so tests that need one build it here).
import {
  LINK_SEPARATOR,
  generateEd25519KeyPair,
  holderKeyConfirmation,
  parseToken,
  randomId,
  sealToken,
  signLink,
  unsealedChain,
  type EnvelopeClaims,
} from '@authority/core';

/**
 * Appends to `parentToken` (its seal dropped) a child of its leaf with `overrides` applied, signed
 * by (secretKey, kid), bound to a fresh holder key and sealed with it (unless `overrides.cnf` names
 * another holder: then the chain is returned unsealed).
 */
export function forgeChild(
  parentToken: string,
  overrides: Partial<EnvelopeClaims>,
  secretKey: Uint8Array,
  kid: string,
): string {
  const parentChain = unsealedChain(parentToken);
  const holder = generateEd25519KeyPair();
  const links = parseToken(parentChain);
  const parent = links[links.length - 1]!;
  const p = parent.claims;
  const claims: EnvelopeClaims = {
    tnt: p.tnt,
    sub: p.sub,
    jti: randomId(16),
    iat: p.iat,
    nbf: p.nbf,
    exp: p.exp,
    dep: p.dep + 1,
    prn: p.jti,
    phs: parent.hash,
    scp: [...p.scp],
    res: [...p.res],
    ctx: [...p.ctx],
    cns: structuredClone(p.cns) as Record<string, unknown>,
    cnf: holderKeyConfirmation(holder.publicKey),
    ...overrides,
  };
  const chain = `${parentChain}${LINK_SEPARATOR}${signLink(claims, secretKey, kid)}`;
  return overrides.cnf === undefined ? sealToken(chain, holder.secretKey) : chain;
}
