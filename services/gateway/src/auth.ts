// Who is calling: the agent's envelope, presented as `Authorization: Bearer <token>` on streamable
// HTTP (or configured for stdio). The gateway reads the token (it does not verify signatures: the
// enforcer does, on every tool call) to refuse early, with a 401 per the MCP authorization spec
// (RFC 6750 + RFC 9728 `resource_metadata`), what can never be allowed: no token, a token that does
// not parse, an expired one, or one that is not bound to this gateway's audience. The token is
// never sent to an upstream.
import { AuthorityError, audiencesOf, parseToken, splitSeal } from '@authority/core';

/** What the gateway knows about the caller before the enforcer has verified anything. */
export interface ClaimedCaller {
  token: string;
  /** `tnt` and the leaf's `sub`, as CLAIMED (unverified). */
  tenant: string;
  agent: string;
  /** The earliest `exp` of the chain, seconds. */
  expiresAt: number;
  /**
   * Called once a service verified this envelope as this caller's (the enforcer's answer names
   * it with the chain verified and possession proven, or the issuer delegated from it): the HTTP
   * layer then counts the session as verified (see http.ts, session eviction).
   */
  onVerified?: () => void;
}

export interface AudienceRule {
  /** This gateway's audience (RFC 8707 resource indicator or a plain name). */
  audience: string;
  /** True: a token whose links carry no `aud` at all is refused (the MCP spec's audience MUST). */
  required: boolean;
}

/** A refusal at the door: HTTP 401 with an RFC 6750 error code. */
export class GatewayAuthError extends Error {
  override readonly name = 'GatewayAuthError';
  constructor(
    /** `invalid_request` (no or malformed credentials) or `invalid_token`. */
    readonly code: 'invalid_request' | 'invalid_token',
    message: string,
    /** Authority reason code, for logs and metrics. */
    readonly reason: string,
    /** True when the request carried no credentials at all (the 401 then names no error). */
    readonly noCredentials = false,
  ) {
    super(message);
  }
}

const BEARER = /^Bearer +([A-Za-z0-9._~+/=-]+)$/;

/** The bearer token of an `Authorization` header value; throws GatewayAuthError when absent or malformed. */
export function bearerFromHeader(header: string | string[] | undefined): string {
  if (header === undefined || header === '') {
    throw new GatewayAuthError(
      'invalid_request',
      'no bearer token: send your envelope as Authorization: Bearer <token>',
      'UNAUTHENTICATED',
      true,
    );
  }
  const value = Array.isArray(header) ? (header.length === 1 ? header[0] : undefined) : header;
  const m = value === undefined ? null : BEARER.exec(value.trim());
  if (m === null) {
    throw new GatewayAuthError(
      'invalid_request',
      'the Authorization header must be exactly one "Bearer <token>"',
      'UNAUTHENTICATED',
    );
  }
  return m[1] as string;
}

/**
 * Reads the caller from `token` and applies the audience rule; throws GatewayAuthError when the
 * token cannot be used. `nowSeconds` and `skewSeconds` bound expiry the way the enforcer does.
 */
export function claimedCaller(
  token: string,
  rule: AudienceRule,
  nowSeconds: number,
  skewSeconds: number,
): ClaimedCaller {
  let links;
  try {
    links = parseToken(splitSeal(token).chain);
  } catch (err) {
    const detail = err instanceof AuthorityError ? err.message : 'unreadable';
    throw new GatewayAuthError('invalid_token', `the envelope does not parse: ${detail}`, 'INVALID_TOKEN');
  }
  const leaf = links[links.length - 1];
  if (leaf === undefined) throw new GatewayAuthError('invalid_token', 'the envelope has no link', 'INVALID_TOKEN');
  let expiresAt = Number.POSITIVE_INFINITY;
  let bound = false;
  for (const [i, l] of links.entries()) {
    expiresAt = Math.min(expiresAt, l.claims.exp);
    const auds = audiencesOf(l.claims);
    if (auds.length === 0) continue;
    bound = true;
    if (!auds.includes(rule.audience)) {
      throw new GatewayAuthError(
        'invalid_token',
        `link ${i} of the envelope is for audience ${JSON.stringify(auds)}, not this gateway ('${rule.audience}')`,
        'AUDIENCE_MISMATCH',
      );
    }
  }
  if (rule.required && !bound) {
    throw new GatewayAuthError(
      'invalid_token',
      `the envelope is not bound to this gateway: mint or delegate it with audience '${rule.audience}'`,
      'AUDIENCE_MISMATCH',
    );
  }
  if (expiresAt + skewSeconds < nowSeconds) {
    throw new GatewayAuthError('invalid_token', 'the envelope has expired', 'EXPIRED');
  }
  return { token, tenant: leaf.claims.tnt, agent: leaf.claims.sub, expiresAt };
}

/** The `WWW-Authenticate` value of a 401 (RFC 6750 §3, RFC 9728 §5.1). */
export function wwwAuthenticate(resourceMetadataUrl: string, err?: GatewayAuthError): string {
  const q = (s: string) => `"${s.replace(/[\\"]/g, '\\$&').replace(/[^\x20-\x7e]/g, '?')}"`;
  const parts = [`resource_metadata=${q(resourceMetadataUrl)}`];
  // RFC 6750 §3.1: with no credentials at all, the error attribute SHOULD be left out.
  if (err !== undefined && !err.noCredentials) {
    parts.push(`error=${q(err.code)}`, `error_description=${q(err.message)}`);
  }
  return `Bearer ${parts.join(', ')}`;
}
