// Request field validation: every failure is INVALID_ARGUMENT (reason INVALID_REQUEST) naming the
// request field, e.g. `grant.scopes[1]`, `ttl_seconds`, `grant.constraints_json.max_records`.
import {
  AuthorityError,
  decodeBase64Url,
  isValidScope,
  MAX_GLOB_PATTERN_LENGTH,
  parseConstraints,
  parseStrictJson,
  tenantIdProblem,
  DEFAULT_ENVELOPE_LIMITS,
  type Constraints,
} from '@authority/core';
import { InvalidArgumentError } from '@authority/platform';
import type { Grant__Output } from '@authority/proto';

/** Longest agent id, audience, context field name (the envelope's identifier rule). */
export const MAX_IDENTIFIER_LENGTH = 256;
export const MAX_AUDIENCES = 16;

// No C0/C1 control characters, no lone surrogates: identifiers end up in tokens, logs and events.
const IDENTIFIER_FORBIDDEN =
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  /[\u0000-\u001f\u007f-\u009f]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/;

function isValidIdentifier(v: string): boolean {
  return v.length > 0 && v.length <= MAX_IDENTIFIER_LENGTH && !IDENTIFIER_FORBIDDEN.test(v);
}

/** A tenant id by core's rule (TENANT_ID_PATTERN: the one every service applies). */
export function tenantId(v: string, field = 'tenant'): string {
  if (v === '') throw new InvalidArgumentError(field, `${field}: required`);
  const problem = tenantIdProblem(v);
  if (problem !== undefined) throw new InvalidArgumentError(field, `${field}: ${problem}`);
  return v;
}

export function identifier(v: string, field: string): string {
  if (v === '') throw new InvalidArgumentError(field, `${field}: required`);
  if (!isValidIdentifier(v)) {
    throw new InvalidArgumentError(
      field,
      `${field}: must be at most ${MAX_IDENTIFIER_LENGTH} characters without control characters`,
    );
  }
  return v;
}

export function optionalText(v: string, field: string, max: number): string {
  if (v.length > max) throw new InvalidArgumentError(field, `${field}: at most ${max} characters`);
  // eslint-disable-next-line no-control-regex -- matching control characters is the point
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/.test(v))
    throw new InvalidArgumentError(field, `${field}: must not contain control characters`);
  return v;
}

/** An envelope link id: 128 bits in base64url (22 characters). */
export function jti(v: string, field = 'jti'): string {
  if (v === '') throw new InvalidArgumentError(field, `${field}: required`);
  if (v.length !== 22 || decodeBase64Url(v)?.length !== 16)
    throw new InvalidArgumentError(field, `${field}: must be an envelope id (22 base64url characters)`);
  return v;
}

export function scope(v: string, field: string): string {
  if (v === '') throw new InvalidArgumentError(field, `${field}: required`);
  if (!isValidScope(v))
    throw new InvalidArgumentError(field, `${field}: '${v.slice(0, 80)}' is not a valid scope (segment:segment[:...])`);
  return v;
}

export function resource(v: string, field: string): string {
  if (v === '') throw new InvalidArgumentError(field, `${field}: required`);
  if (v.length > 4096) throw new InvalidArgumentError(field, `${field}: at most 4096 characters`);
  return v;
}

export function ttlSeconds(v: number, field = 'ttl_seconds'): number {
  const { minTtlSeconds: min, maxTtlSeconds: max } = DEFAULT_ENVELOPE_LIMITS;
  if (!Number.isSafeInteger(v) || v < min || v > max)
    throw new InvalidArgumentError(field, `${field}: must be between ${min} and ${max} seconds, got ${v}`);
  return v;
}

/** A raw 32-byte Ed25519 public key, or undefined when empty. */
export function holderKey(v: Buffer, field: string): Uint8Array | undefined {
  if (v.length === 0) return undefined;
  if (v.length !== 32)
    throw new InvalidArgumentError(field, `${field}: must be a raw 32-byte Ed25519 public key, got ${v.length} bytes`);
  return new Uint8Array(v);
}

export function audience(v: readonly string[], field = 'audience'): string[] | undefined {
  if (v.length === 0) return undefined;
  if (v.length > MAX_AUDIENCES) throw new InvalidArgumentError(field, `${field}: at most ${MAX_AUDIENCES} entries`);
  const seen = new Set<string>();
  v.forEach((a, i) => {
    identifier(a, `${field}[${i}]`);
    if (seen.has(a)) throw new InvalidArgumentError(`${field}[${i}]`, `${field}[${i}]: repeats '${a}'`);
    seen.add(a);
  });
  return [...v];
}

function list(
  v: readonly string[],
  field: string,
  max: number,
  check: (s: string, f: string) => string,
  allowEmpty: boolean,
): string[] {
  if (!allowEmpty && v.length === 0) throw new InvalidArgumentError(field, `${field}: at least one entry is required`);
  if (v.length > max) throw new InvalidArgumentError(field, `${field}: at most ${max} entries, got ${v.length}`);
  const seen = new Set<string>();
  v.forEach((s, i) => {
    check(s, `${field}[${i}]`);
    if (seen.has(s)) throw new InvalidArgumentError(`${field}[${i}]`, `${field}[${i}]: repeats '${s.slice(0, 80)}'`);
    seen.add(s);
  });
  return [...v];
}

export interface ParsedGrant {
  scopes: string[];
  resources: string[];
  context: string[];
  /** Undefined only when constraints were optional and not given (inherit). */
  constraints: Constraints | undefined;
}

/** Parses a constraints JSON text: JSON errors and every constraint error name the key. */
export function constraintsJson(text: string, field: string): Constraints {
  let raw: unknown;
  try {
    raw = parseStrictJson(text);
  } catch (err) {
    throw new InvalidArgumentError(
      field,
      `${field}: not valid JSON (${err instanceof Error ? err.message : String(err)})`,
    );
  }
  try {
    return parseConstraints(raw, 'INVALID_REQUEST', field);
  } catch (err) {
    if (err instanceof AuthorityError)
      throw new InvalidArgumentError(
        err.field ?? field,
        err.message.includes(field) ? err.message : `${field}: ${err.message}`,
      );
    throw err;
  }
}

/**
 * The grant of a Mint (constraints required: `{"unconstrained":true}` declares none) or a Delegate
 * (constraints optional: empty inherits the parent's).
 */
export function grant(g: Grant__Output | null, field: string, opts: { requireConstraints: boolean }): ParsedGrant {
  if (g === null) throw new InvalidArgumentError(field, `${field}: required`);
  const limits = DEFAULT_ENVELOPE_LIMITS;
  const scopes = list(g.scopes, `${field}.scopes`, limits.maxScopes, scope, false);
  const resources = list(
    g.resources,
    `${field}.resources`,
    limits.maxResources,
    (s, f) => {
      if (s === '' || s.length > MAX_GLOB_PATTERN_LENGTH)
        throw new InvalidArgumentError(
          f,
          `${f}: must be a non-empty pattern of at most ${MAX_GLOB_PATTERN_LENGTH} characters`,
        );
      return s;
    },
    true,
  );
  const context = list(g.contextFields, `${field}.context_fields`, limits.maxContextFields, identifier, true);
  let constraints: Constraints | undefined;
  const cfield = `${field}.constraints_json`;
  if (g.constraintsJson.trim() === '') {
    if (opts.requireConstraints) {
      throw new InvalidArgumentError(
        cfield,
        `${cfield}: required; send {"unconstrained":true} to declare that no constraint applies`,
      );
    }
  } else {
    constraints = constraintsJson(g.constraintsJson, cfield);
  }
  return { scopes, resources, context, constraints };
}
