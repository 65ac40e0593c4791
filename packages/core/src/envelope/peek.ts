/**
 * Reading what a token CLAIMS without verifying anything: the tenant and the delegation path
 * (agent and jti of each link, root first). Used only to attribute a denial raised while the chain
 * was being verified (expired, revoked, bad signature, ...) so the attempt is never lost from the
 * claimed agents' records; the result is untrusted and is always marked so. Bounded work: the
 * token's size limits apply and only well-formed identifiers are reported.
 */
import { isValidTenantId } from '../identifiers';
import { isValidIdentifier } from './claims';
import { DEFAULT_ENVELOPE_LIMITS } from './limits';
import { LINK_SEPARATOR, popSeal } from './link';

/** One link as claimed. */
export interface ClaimedLink {
  agent: string;
  jti: string;
}

export interface ClaimedPath {
  /** The root's claimed tenant, when it is a valid tenant id. */
  tenant: string | undefined;
  /** The links that could be read, root first (stops at the first unreadable one). */
  links: ClaimedLink[];
}

const JTI = /^[A-Za-z0-9_-]{22}$/;

function readPayload(link: string): Record<string, unknown> | undefined {
  const first = link.indexOf('.');
  const second = first < 0 ? -1 : link.indexOf('.', first + 1);
  if (second < 0) return undefined;
  try {
    const value: unknown = JSON.parse(Buffer.from(link.slice(first + 1, second), 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

/** The claimed tenant and path of `token`, or undefined when not even the root can be read. */
export function peekClaimedPath(token: unknown): ClaimedPath | undefined {
  if (typeof token !== 'string' || token.length === 0 || token.length > DEFAULT_ENVELOPE_LIMITS.maxTokenBytes)
    return undefined;
  const raws = token.split(LINK_SEPARATOR);
  popSeal(raws);
  if (raws.length > DEFAULT_ENVELOPE_LIMITS.maxLinks) raws.length = DEFAULT_ENVELOPE_LIMITS.maxLinks;
  const links: ClaimedLink[] = [];
  let tenant: string | undefined;
  for (let i = 0; i < raws.length; i++) {
    const raw = raws[i] as string;
    if (raw.length > DEFAULT_ENVELOPE_LIMITS.maxLinkBytes) break;
    const payload = readPayload(raw);
    if (payload === undefined || !isValidIdentifier(payload.sub)) break;
    const jti = typeof payload.jti === 'string' && JTI.test(payload.jti) ? payload.jti : '';
    if (i === 0 && isValidTenantId(payload.tnt)) tenant = payload.tnt;
    links.push({ agent: payload.sub, jti });
  }
  return links.length === 0 && tenant === undefined ? undefined : { tenant, links };
}
