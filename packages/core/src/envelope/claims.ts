/**
 * The claims and protected header of one envelope link: their types, their validation (every
 * failure names the link and the field), and their serialization in a fixed key order.
 */
import { decodeBase64Url } from '../crypto';
import { AuthorityError, type Reason } from '../errors';
import { isValidScope } from '../scope';
import { MAX_GLOB_PATTERN_LENGTH } from '../glob';
import { parseConstraints, type Constraints } from '../constraints';
import { tenantIdProblem } from '../identifiers';
import { resourcePatternProblem } from '../resource';
import type { EnvelopeLimits } from './limits';

/** `typ` of every link's protected header. */
export const ENVELOPE_TYP = 'authority-envelope+jws';
/** The only accepted `alg` (RFC 8037 Ed25519). */
export const ENVELOPE_ALG = 'EdDSA';
/**
 * The reserved `kid` of a link signed offline by the holder of its parent's `cnf` key
 * (Biscuit-style attenuation). A verifier never looks `"cnf"` up among tenant keys, so no tenant
 * key may be named `"cnf"`; a root link signed with kid `"cnf"` is refused (UNKNOWN_KEY).
 */
export const OFFLINE_KID = 'cnf';

/** Longest accepted tenant, agent, issuer, audience, key id or context field name. */
export const MAX_IDENTIFIER_LENGTH = 256;
/** Entries of `aud` when it is an array. */
export const MAX_AUDIENCES = 16;

/** RFC 7800 confirmation key: the holder's Ed25519 public key as an OKP JWK. */
export interface HolderKeyConfirmation {
  jwk: { kty: 'OKP'; crv: 'Ed25519'; x: string };
}

/** Protected header of a link: exactly these three members. */
export interface LinkHeader {
  alg: typeof ENVELOPE_ALG;
  typ: typeof ENVELOPE_TYP;
  kid: string;
}

/**
 * Payload of a link, as signed. Names are short on purpose (they travel on every call):
 * - `tnt` tenant · `sub` agent id · `jti` 128-bit random id (22 base64url chars)
 * - `iat` `nbf` `exp` integer seconds since the epoch
 * - `scp` scopes (1..64, valid scope syntax) · `res` resource glob patterns (may be empty: no
 *   resources) · `ctx` context field names the agent may see or send (may be empty)
 * - `cns` constraints, wire form (`unconstrained: true` to declare none)
 * - `dep` depth, 0 for the root · `prn` parent `jti` and `phs` base64url SHA-256 of the parent
 *   link's exact compact bytes (children only)
 * - `cnf` holder key (RFC 7800): every link is bound to the key of its holder, who alone can seal
 *   the token, prove possession per request, or attenuate it offline
 * - optional `aud` audience(s), `iss` issuer (informational)
 * Unknown claims are refused.
 */
export interface EnvelopeClaims {
  tnt: string;
  sub: string;
  iss?: string;
  aud?: string | string[];
  jti: string;
  iat: number;
  nbf: number;
  exp: number;
  dep: number;
  prn?: string;
  phs?: string;
  scp: string[];
  res: string[];
  ctx: string[];
  cns: Record<string, unknown>;
  cnf: HolderKeyConfirmation;
}

/** The serialization order of claims (JSON.stringify keeps insertion order). */
const CLAIM_ORDER = [
  'tnt',
  'sub',
  'iss',
  'aud',
  'jti',
  'iat',
  'nbf',
  'exp',
  'dep',
  'prn',
  'phs',
  'scp',
  'res',
  'ctx',
  'cns',
  'cnf',
] as const satisfies readonly (keyof EnvelopeClaims)[];
const KNOWN_CLAIMS: ReadonlySet<string> = new Set(CLAIM_ORDER);
const REQUIRED_CLAIMS = ['tnt', 'sub', 'jti', 'iat', 'nbf', 'exp', 'dep', 'scp', 'res', 'ctx', 'cns', 'cnf'] as const;

/** The exact header of a link signed with `kid`, serialized. */
export function serializeHeader(kid: string): string {
  return JSON.stringify({ alg: ENVELOPE_ALG, typ: ENVELOPE_TYP, kid });
}

/** Claims as JSON in the fixed order above; absent optional claims are omitted. */
export function serializeClaims(claims: EnvelopeClaims): string {
  const ordered: Record<string, unknown> = {};
  for (const name of CLAIM_ORDER) {
    const value = claims[name];
    if (value === undefined) continue;
    ordered[name] =
      name === 'cnf' ? { jwk: { kty: 'OKP', crv: 'Ed25519', x: (value as HolderKeyConfirmation).jwk.x } } : value;
  }
  return JSON.stringify(ordered);
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

// No C0/C1 control characters, no lone surrogates: identifiers end up in logs and audit events.
const IDENTIFIER_FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

/** A non-empty string of at most MAX_IDENTIFIER_LENGTH characters without control characters. */
export function isValidIdentifier(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_IDENTIFIER_LENGTH && !IDENTIFIER_FORBIDDEN.test(v);
}

/** Validates a protected header; `where` prefixes messages (e.g. `link 1`). */
export function validateHeader(raw: unknown, where: string): LinkHeader {
  if (!isPlainObject(raw))
    throw new AuthorityError('INVALID_TOKEN', `${where}: protected header must be a JSON object`, 'header');
  for (const name of Object.keys(raw)) {
    if (name !== 'alg' && name !== 'typ' && name !== 'kid') {
      // crit, jku, jwk, x5u, x5c, b64, ... : anything that could change how the link is read.
      throw new AuthorityError('INVALID_TOKEN', `${where}: header parameter '${name}' is not allowed`, name);
    }
  }
  if (raw.alg !== ENVELOPE_ALG) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `${where}: header 'alg' must be '${ENVELOPE_ALG}', got ${describe(raw.alg)}`,
      'alg',
    );
  }
  if (raw.typ !== ENVELOPE_TYP) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `${where}: header 'typ' must be '${ENVELOPE_TYP}', got ${describe(raw.typ)}`,
      'typ',
    );
  }
  if (!isValidIdentifier(raw.kid)) {
    throw new AuthorityError(
      'INVALID_TOKEN',
      `${where}: header 'kid' must be a non-empty string of at most ${MAX_IDENTIFIER_LENGTH} characters`,
      'kid',
    );
  }
  return { alg: ENVELOPE_ALG, typ: ENVELOPE_TYP, kid: raw.kid };
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  const s = JSON.stringify(v) ?? String(v);
  return s.length > 40 ? `${s.slice(0, 40)}…` : s;
}

/** The result of validating a payload: the claims plus their decoded forms. */
export interface ValidatedClaims {
  claims: EnvelopeClaims;
  constraints: Constraints;
  /** Decoded `cnf.jwk.x` (32 bytes): the holder's Ed25519 public key. */
  holderKey: Uint8Array;
}

/**
 * Validates a payload object against the claim rules. Index-independent (so a memoized link can
 * be reused at any position): whether a link may or must carry `prn`/`phs` is a chain rule.
 * `reason` is INVALID_TOKEN when parsing and INVALID_REQUEST when minting.
 */
export function validateClaims(
  raw: unknown,
  where: string,
  limits: Readonly<EnvelopeLimits>,
  reason: Reason = 'INVALID_TOKEN',
): ValidatedClaims {
  const bad = (field: string, what: string): never => {
    throw new AuthorityError(reason, `${where}: claim '${field}' ${what}`, field);
  };
  if (!isPlainObject(raw)) throw new AuthorityError(reason, `${where}: payload must be a JSON object`, 'payload');
  for (const name of Object.keys(raw)) {
    if (!KNOWN_CLAIMS.has(name)) bad(name, 'is not a known claim (unknown claims are refused)');
  }
  for (const name of REQUIRED_CLAIMS) {
    if (raw[name] === undefined) bad(name, 'is required');
  }
  const identifier = (field: string): string => {
    const v = raw[field];
    if (!isValidIdentifier(v))
      bad(
        field,
        `must be a non-empty string of at most ${MAX_IDENTIFIER_LENGTH} characters without control characters`,
      );
    return v as string;
  };
  const seconds = (field: string): number => {
    const v = raw[field];
    if (typeof v !== 'number' || !Number.isSafeInteger(v)) bad(field, 'must be an integer');
    if ((v as number) < 0) bad(field, 'must not be negative');
    return v as number;
  };
  const stringList = (
    field: string,
    max: number,
    allowEmpty: boolean,
    check: (s: string) => boolean,
    rule: string,
  ): string[] => {
    const v = raw[field];
    if (!Array.isArray(v)) bad(field, 'must be an array');
    const list = v as unknown[];
    if (!allowEmpty && list.length === 0) bad(field, 'must not be empty');
    if (list.length > max) bad(field, `has ${list.length} entries; at most ${max} are allowed`);
    const seen = new Set<string>();
    for (let k = 0; k < list.length; k++) {
      const s = list[k];
      if (typeof s !== 'string' || !check(s)) bad(field, `entry ${k} ${rule}`);
      if (seen.has(s as string)) bad(field, `entry ${k} repeats ${JSON.stringify(s)}`);
      seen.add(s as string);
    }
    return list as string[];
  };

  const tnt = identifier('tnt');
  const tenantProblem = tenantIdProblem(tnt);
  if (tenantProblem !== undefined) bad('tnt', tenantProblem);
  const sub = identifier('sub');
  const iss = raw.iss === undefined ? undefined : identifier('iss');

  const jti = raw.jti;
  if (typeof jti !== 'string' || jti.length !== 22 || decodeBase64Url(jti)?.length !== 16) {
    bad('jti', 'must be 128 random bits in base64url (22 characters)');
  }
  const iat = seconds('iat');
  const nbf = seconds('nbf');
  const exp = seconds('exp');
  const dep = seconds('dep');

  const prn = raw.prn;
  const phs = raw.phs;
  if ((prn === undefined) !== (phs === undefined))
    bad(prn === undefined ? 'prn' : 'phs', "must appear together with 'prn' and 'phs'");
  if (prn !== undefined && (typeof prn !== 'string' || prn.length !== 22 || decodeBase64Url(prn)?.length !== 16)) {
    bad('prn', "must be the parent's jti (22 base64url characters)");
  }
  if (phs !== undefined && (typeof phs !== 'string' || phs.length !== 43 || decodeBase64Url(phs)?.length !== 32)) {
    bad('phs', 'must be a base64url SHA-256 digest (43 characters)');
  }

  const scp = stringList('scp', limits.maxScopes, false, isValidScope, 'is not a valid scope (segment:segment[:...])');
  const res = stringList(
    'res',
    limits.maxResources,
    true,
    (s) => s.length > 0 && s.length <= MAX_GLOB_PATTERN_LENGTH,
    `must be a non-empty pattern of at most ${MAX_GLOB_PATTERN_LENGTH} characters`,
  );
  for (let k = 0; k < res.length; k++) {
    const problem = resourcePatternProblem(res[k] as string);
    if (problem !== undefined) bad('res', `entry ${k} is not a canonical resource pattern: ${problem}`);
  }
  const ctx = stringList(
    'ctx',
    limits.maxContextFields,
    true,
    isValidIdentifier,
    'must be a non-empty field name without control characters',
  );

  const cnsRaw = raw.cns;
  if (!isPlainObject(cnsRaw)) bad('cns', 'must be a JSON object');
  let constraints: Constraints;
  try {
    constraints = parseConstraints(cnsRaw, reason, 'cns');
  } catch (err) {
    if (err instanceof AuthorityError)
      throw new AuthorityError(reason, `${where}: claim 'cns': ${err.message}`, err.field ?? 'cns');
    throw err;
  }

  let cnf: HolderKeyConfirmation;
  let holderKey: Uint8Array;
  {
    const c = raw.cnf;
    const jwk = isPlainObject(c) ? c.jwk : undefined;
    const ok =
      isPlainObject(c) &&
      Object.keys(c).length === 1 &&
      isPlainObject(jwk) &&
      Object.keys(jwk).length === 3 &&
      jwk.kty === 'OKP' &&
      jwk.crv === 'Ed25519' &&
      typeof jwk.x === 'string';
    if (!ok) bad('cnf', 'must be exactly {"jwk":{"kty":"OKP","crv":"Ed25519","x":"<base64url public key>"}}');
    const x = (jwk as Record<string, unknown>).x as string;
    const key = decodeBase64Url(x);
    if (key?.length !== 32) bad('cnf', "must carry a 32-byte Ed25519 public key in 'x'");
    holderKey = new Uint8Array(key as Buffer);
    cnf = { jwk: { kty: 'OKP', crv: 'Ed25519', x } };
  }

  let aud: string | string[] | undefined;
  if (raw.aud !== undefined) {
    const a = raw.aud;
    if (typeof a === 'string') {
      if (!isValidIdentifier(a)) bad('aud', 'must be a non-empty string or a non-empty array of strings');
      aud = a;
    } else {
      aud = stringList('aud', MAX_AUDIENCES, false, isValidIdentifier, 'must be a non-empty string');
    }
  }

  const claims: EnvelopeClaims = {
    tnt,
    sub,
    jti: jti as string,
    iat,
    nbf,
    exp,
    dep,
    scp,
    res,
    ctx,
    cns: cnsRaw as Record<string, unknown>,
    cnf,
  };
  if (iss !== undefined) claims.iss = iss;
  if (aud !== undefined) claims.aud = aud;
  if (prn !== undefined) claims.prn = prn as string;
  if (phs !== undefined) claims.phs = phs as string;
  return { claims, constraints, holderKey };
}

/** The holder-key confirmation claim for a 32-byte Ed25519 public key. */
export function holderKeyConfirmation(publicKey: Uint8Array): HolderKeyConfirmation {
  if (publicKey.length !== 32)
    throw new AuthorityError(
      'INVALID_REQUEST',
      `holder key must be a 32-byte Ed25519 public key, got ${publicKey.length} bytes`,
      'cnf',
    );
  return { jwk: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') } };
}

/** The audiences a link restricts itself to (empty when it has no `aud`). */
export function audiencesOf(claims: EnvelopeClaims): readonly string[] {
  const a = claims.aud;
  return a === undefined ? [] : typeof a === 'string' ? [a] : a;
}
