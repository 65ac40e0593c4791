/**
 * The seal: the holder's proof of possession that ends a presentable token. It is a compact JWS
 * (`typ: authority-seal+jws`, alg EdDSA) signed with the leaf link's `cnf` key over the leaf's
 * SHA-256, so it binds exactly one chain (the leaf's hash commits to every ancestor through `phs`)
 * to the one party that holds the leaf's key (Biscuit's sealed token, with the holder's signature
 * as the final proof).
 *
 * Why it stops truncation: a sub-agent given `root~child` holds only the child's key, so it can
 * seal `root~child` but never `root` alone; stripping, reordering, splicing or duplicating links
 * changes the leaf (or breaks `phs`), and a seal for one leaf verifies for no other.
 *
 * The header and payload are fixed by the leaf hash, so a seal parses by string comparison, and
 * Ed25519 is deterministic: one holder key and one leaf give exactly one seal, which the memo can
 * remember like a link.
 */
import { decodeBase64Url, ed25519Sign } from '../crypto';
import { AuthorityError } from '../errors';
import { LINK_SEPARATOR, SEAL_PREFIX, isSealSegment, parseToken, type ParsedLink } from './link';
import { resolveEnvelopeLimits, type EnvelopeLimits } from './limits';

export { SEAL_TYP, SEAL_PREFIX, isSealSegment } from './link';
/** Characters of a seal's signature part (64 bytes in base64url). */
const SEAL_SIGNATURE_CHARS = 86;

function sealPayloadB64(leafHash: string): string {
  return Buffer.from(JSON.stringify({ lh: leafHash })).toString('base64url');
}

/** A token split into its chain (links, unsealed) and its seal. */
export interface SealedParts {
  /** The links joined by `~`, root first. */
  chain: string;
  /** The seal, or undefined when the token is an unsealed chain. */
  seal: string | undefined;
}

/** Splits a token's trailing seal off (cheap: no decoding, no verification). */
export function splitSeal(token: string): SealedParts {
  const last = token.lastIndexOf(LINK_SEPARATOR);
  const tail = last < 0 ? token : token.slice(last + 1);
  if (last < 0 || !isSealSegment(tail)) return { chain: token, seal: undefined };
  return { chain: token.slice(0, last), seal: tail };
}

/** The chain of a token without its seal (a sealed token's authority, ready to hand on). */
export function unsealedChain(token: string): string {
  return splitSeal(token).chain;
}

/**
 * The signature part of a seal when its header and payload are exactly those for `leafHash`;
 * throws INVALID_PROOF naming `seal` otherwise. Does not verify the signature.
 */
export function sealSignatureFor(seal: string, leafHash: string): string {
  const expectedPrefix = `${SEAL_PREFIX}${sealPayloadB64(leafHash)}.`;
  if (!seal.startsWith(expectedPrefix)) {
    throw new AuthorityError(
      'INVALID_PROOF',
      'the seal is not for this token: it must be signed over the SHA-256 of the last link',
      'seal',
    );
  }
  const signature = seal.slice(expectedPrefix.length);
  if (signature.length !== SEAL_SIGNATURE_CHARS || decodeBase64Url(signature)?.length !== 64) {
    throw new AuthorityError('INVALID_PROOF', 'the seal signature must be 64 bytes of canonical base64url', 'seal');
  }
  return signature;
}

/** The bytes a seal signs (its JWS signing input). */
export function sealSigningInput(leafHash: string): Buffer {
  return Buffer.from(`${SEAL_PREFIX}${sealPayloadB64(leafHash)}`, 'latin1');
}

/**
 * Seals a chain (links joined by `~`, or an already sealed token, whose seal is replaced) with the
 * leaf's holder key (64-byte libsodium secret key). Throws INVALID_REQUEST when the key is not the
 * leaf's `cnf` key, so nobody produces a seal that will never verify.
 */
export function sealToken(token: string, holderSecretKey: Uint8Array, limits?: Partial<EnvelopeLimits>): string {
  const resolved = resolveEnvelopeLimits(limits);
  const { chain } = splitSeal(token);
  const links = parseToken(chain, resolved);
  const leaf = links[links.length - 1] as ParsedLink;
  const leafHash = leaf.hash;
  const x = leaf.claims.cnf.jwk.x;
  if (holderSecretKey.length !== 64) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      `holder key must be a 64-byte Ed25519 secret key, got ${holderSecretKey.length} bytes`,
      'holder_key',
    );
  }
  if (Buffer.from(holderSecretKey.subarray(32)).toString('base64url') !== x) {
    throw new AuthorityError('INVALID_REQUEST', "the key is not the last link's 'cnf' holder key", 'holder_key');
  }
  return appendSeal(chain, leafHash, holderSecretKey);
}

/**
 * `chain` followed by its seal over `leafHash` with `holderSecretKey`; the caller has checked that
 * the key is the leaf's `cnf` key (sealToken does, and a fresh mint knows it).
 */
export function appendSeal(chain: string, leafHash: string, holderSecretKey: Uint8Array): string {
  const signature = Buffer.from(ed25519Sign(sealSigningInput(leafHash), holderSecretKey)).toString('base64url');
  return `${chain}${LINK_SEPARATOR}${SEAL_PREFIX}${sealPayloadB64(leafHash)}.${signature}`;
}
