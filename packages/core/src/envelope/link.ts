/**
 * One link as bytes: signing a claims object into a compact JWS, and splitting and parsing a token
 * into links (structure, header and claims; no signature verification, which is verify.ts's job).
 */
import { hash as oneShotHash } from 'node:crypto';
import { decodeBase64Url, ed25519Sign } from '../crypto';
import { AuthorityError } from '../errors';
import type { Constraints } from '../constraints';
import {
  serializeClaims,
  serializeHeader,
  validateClaims,
  validateHeader,
  type EnvelopeClaims,
  type LinkHeader,
} from './claims';
import { parseStrictJson } from './strict-json';
import { resolveEnvelopeLimits, type EnvelopeLimits } from './limits';

/** Separator between the links of a token (not in the base64url alphabet, nor `.`). */
export const LINK_SEPARATOR = '~';

/** `typ` of a seal's protected header (see seal.ts). */
export const SEAL_TYP = 'authority-seal+jws';
/** Every seal starts with its fixed header and a dot; no link can (a link's typ differs). */
export const SEAL_PREFIX = `${Buffer.from(JSON.stringify({ alg: 'EdDSA', typ: SEAL_TYP })).toString('base64url')}.`;

/** True when a token segment is a seal (by its fixed header), not a link. */
export function isSealSegment(segment: string): boolean {
  return segment.startsWith(SEAL_PREFIX);
}

/**
 * Removes and returns the trailing seal of a token's segments (split at `~`), or undefined when
 * the last segment is a link (a lone segment is always a link).
 */
export function popSeal(segments: string[]): string | undefined {
  return segments.length > 1 && isSealSegment(segments[segments.length - 1] as string) ? segments.pop() : undefined;
}

/** A link split, decoded and validated (immutable: memoized links are shared between calls). */
export interface ParsedLink {
  /** The exact compact JWS text. */
  readonly raw: string;
  /** base64url SHA-256 of `raw`: what a child's `phs` must equal, and the memo key. */
  readonly hash: string;
  readonly header: Readonly<LinkHeader>;
  readonly claims: Readonly<EnvelopeClaims>;
  /** `cns`, parsed. */
  readonly constraints: Readonly<Constraints>;
  /** Decoded `cnf` key (32 bytes): the holder's public key. */
  readonly holderKey: Uint8Array;
  /** ASCII bytes of `<header>.<payload>`, the JWS signing input. */
  readonly signingInput: Uint8Array;
  /** The 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
}

const TOKEN_ALPHABET = /^[A-Za-z0-9_\-.~]+$/;

/** base64url SHA-256 of a link's exact text (ASCII; splitToken guarantees it). */
export function hashLink(raw: string): string {
  // One-shot hashing (Node ≥ 20.12): no Hash object per call.
  return oneShotHash('sha256', raw, 'base64url');
}

/**
 * Signs claims into one compact JWS link with `kid` in the header. The claims are validated first
 * (INVALID_REQUEST naming the field), so we never produce a link that we would refuse to parse.
 */
export function signLink(
  claims: EnvelopeClaims,
  secretKey: Uint8Array,
  kid: string,
  limits?: Partial<EnvelopeLimits>,
): string {
  const resolved = resolveEnvelopeLimits(limits);
  validateHeader({ alg: 'EdDSA', typ: 'authority-envelope+jws', kid }, 'link');
  validateClaims(claims, 'link', resolved, 'INVALID_REQUEST');
  if (secretKey.length !== 64)
    throw new AuthorityError(
      'INVALID_REQUEST',
      `signing key must be a 64-byte Ed25519 secret key, got ${secretKey.length} bytes`,
      'secretKey',
    );
  const signingInput = `${Buffer.from(serializeHeader(kid)).toString('base64url')}.${Buffer.from(serializeClaims(claims)).toString('base64url')}`;
  const signature = ed25519Sign(Buffer.from(signingInput, 'latin1'), secretKey);
  const link = `${signingInput}.${Buffer.from(signature).toString('base64url')}`;
  if (link.length > resolved.maxLinkBytes) {
    throw new AuthorityError(
      'INVALID_REQUEST',
      `link is ${link.length} bytes; at most ${resolved.maxLinkBytes} are allowed`,
      'token',
    );
  }
  return link;
}

/** Joins links (root first) into a token. */
export function encodeToken(links: readonly string[]): string {
  return links.join(LINK_SEPARATOR);
}

/**
 * Splits a token into its segments (the links, then the seal when the token has one), enforcing
 * the size limits (INVALID_TOKEN): at most maxLinks links plus the seal. Cheap: no decoding.
 */
export function splitToken(token: unknown, limits: Readonly<EnvelopeLimits>): string[] {
  if (typeof token !== 'string' || token.length === 0)
    throw new AuthorityError('INVALID_TOKEN', 'token must be a non-empty string', 'token');
  if (token.length > limits.maxTokenBytes) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `token is ${token.length} bytes; at most ${limits.maxTokenBytes} are allowed`,
      'token',
    );
  }
  // Only base64url, '.' and '~' can occur in a token. Checking this up front also keeps hashing
  // injective (link text is hashed as single bytes), so a memo entry can never match other text.
  if (!TOKEN_ALPHABET.test(token)) {
    throw new AuthorityError('INVALID_TOKEN', "token contains a character outside base64url, '.' and '~'", 'token');
  }
  const links = token.split(LINK_SEPARATOR);
  const linkCount =
    links.length > 1 && isSealSegment(links[links.length - 1] as string) ? links.length - 1 : links.length;
  if (linkCount > limits.maxLinks) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `token has ${linkCount} links; at most ${limits.maxLinks} are allowed`,
      'token',
    );
  }
  for (let i = 0; i < links.length; i++) {
    const len = (links[i] as string).length;
    if (len === 0) throw new AuthorityError('INVALID_TOKEN', `link ${i}: empty link`, 'token');
    if (len > limits.maxLinkBytes) {
      throw new AuthorityError(
        'INVALID_TOKEN',
        `link ${i}: ${len} bytes; at most ${limits.maxLinkBytes} are allowed`,
        'token',
      );
    }
  }
  return links;
}

// fatal: invalid UTF-8 is an error; ignoreBOM: a BOM is kept, so JSON.parse refuses it.
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function decodeJsonSegment(segment: string, where: string, what: 'header' | 'payload'): unknown {
  const bytes = decodeBase64Url(segment);
  if (bytes === undefined || bytes.length === 0) {
    throw new AuthorityError('INVALID_TOKEN', `${where}: ${what} is not canonical base64url`, what);
  }
  let text: string;
  try {
    text = utf8.decode(bytes);
  } catch {
    throw new AuthorityError('INVALID_TOKEN', `${where}: ${what} is not valid UTF-8`, what);
  }
  try {
    return parseStrictJson(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new AuthorityError('INVALID_TOKEN', `${where}: ${what} is not valid JSON (${detail})`, what);
  }
}

/**
 * Parses one link (structure, header, claims). `index` only labels messages; `hash` may be passed
 * when the caller has already computed it.
 */
export function parseLink(
  raw: string,
  index: number,
  limits: Readonly<EnvelopeLimits>,
  hash: string = hashLink(raw),
): ParsedLink {
  const where = `link ${index}`;
  const firstDot = raw.indexOf('.');
  const secondDot = firstDot < 0 ? -1 : raw.indexOf('.', firstDot + 1);
  if (secondDot < 0 || raw.indexOf('.', secondDot + 1) >= 0) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `${where}: not a compact JWS (expected three '.'-separated parts)`,
      'token',
    );
  }
  const header = validateHeader(decodeJsonSegment(raw.slice(0, firstDot), where, 'header'), where);
  const payload = decodeJsonSegment(raw.slice(firstDot + 1, secondDot), where, 'payload');
  const { claims, constraints, holderKey } = validateClaims(payload, where, limits);
  const signature = decodeBase64Url(raw.slice(secondDot + 1));
  if (signature?.length !== 64) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `${where}: signature must be 64 bytes of canonical base64url`,
      'signature',
    );
  }
  return deepFreeze({
    raw,
    hash,
    header,
    claims,
    constraints,
    holderKey,
    signingInput: Buffer.from(raw.slice(0, secondDot), 'latin1'),
    signature,
  });
}

/**
 * Splits and parses every link of a token (a trailing seal is skipped), without verifying
 * signatures, the seal or chain rules (use verifyEnvelope for that). Useful to read a token's
 * claims, e.g. before deriving a child.
 */
export function parseToken(token: string, limits?: Partial<EnvelopeLimits>): ParsedLink[] {
  const resolved = resolveEnvelopeLimits(limits);
  const raws = splitToken(token, resolved);
  popSeal(raws);
  return raws.map((raw, i) => parseLink(raw, i, resolved));
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !ArrayBuffer.isView(value) && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
