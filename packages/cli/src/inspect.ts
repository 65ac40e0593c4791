// `envelope inspect`: decode and explain a token WITHOUT trusting it. Signatures and the seal are
// not verified (that needs the tenant's keys and the revocation feed: use `envelope check`), so
// everything shown is what the token CLAIMS. Structural problems, broken parent bindings,
// chain-rule violations (lineage included), a seal made for another chain and time problems are
// reported; the output is always marked unverified.
import {
  AuthorityError,
  DEFAULT_MAX_DEPTH,
  OFFLINE_KID,
  checkNarrowing,
  checkRootLink,
  constraintsToWire,
  SEAL_PREFIX,
  hashLink,
  isInLineage,
  parseConstraints,
  parseToken,
  scopeContains,
  splitSeal,
  type ParsedLink,
} from '@authority/core';
import { formatDuration, relativeTime } from './duration';

export interface InspectedLink {
  index: number;
  header: Record<string, unknown> | undefined;
  claims: Record<string, unknown> | undefined;
  /** Who signed this link, as claimed by its header. */
  signer: string;
  times?: {
    issuedAt: string;
    notBefore: string;
    expiresAt: string;
    lifetime: string;
    status: string;
    relative: { iat: string; nbf: string; exp: string };
  };
  /** What this link narrows relative to its parent (children only). */
  narrows: string[];
  problems: string[];
}

/** The holder's seal at the end of a token, as far as it can be read without keys. */
export interface InspectedSeal {
  present: boolean;
  /** Never verified here (the signature needs the leaf's key check at the enforcer). */
  verified: false;
  /** Whether the seal names this chain's last link (its `lh` is the leaf's SHA-256); absent when there is no seal. */
  forLastLink?: boolean;
  description: string;
}

export interface Inspection {
  verified: false;
  note: string;
  /** Whether core's strict parser accepts the token's structure and claims. */
  wellFormed: boolean;
  tenant: string | undefined;
  /** The leaf's agent and effective grant. */
  agent: string | undefined;
  /** `sub` of every link, root first: the delegation path (sub-agents are named `<parent>/<name>`). */
  agentChain: string[];
  seal: InspectedSeal;
  links: InspectedLink[];
  problems: string[];
}

const NOTE =
  'UNVERIFIED: signatures, the seal, keys and revocation were not checked; use `authority envelope check` for a decision';

function decodeJson(segment: string | undefined): Record<string, unknown> | undefined {
  if (segment === undefined) return undefined;
  try {
    const v: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

function iso(sec: unknown): string {
  return typeof sec === 'number' && Number.isFinite(sec) ? new Date(sec * 1000).toISOString() : String(sec);
}

function list(v: unknown): string[] {
  return Array.isArray(v) ? v.map(String) : [];
}

function describeList(
  kind: string,
  parent: string[],
  child: string[],
  contains: (p: string, c: string) => boolean,
): string[] {
  const out: string[] = [];
  const dropped = parent.filter((p) => !child.includes(p));
  const narrowed = child.filter((c) => !parent.includes(c) && parent.some((p) => contains(p, c)));
  const widened = child.filter((c) => !parent.some((p) => p === c || contains(p, c)));
  if (dropped.length === 0 && narrowed.length === 0 && widened.length === 0) return [`${kind}: unchanged`];
  if (dropped.length > 0) out.push(`${kind}: drops ${dropped.join(', ')}`);
  if (narrowed.length > 0) out.push(`${kind}: narrows to ${narrowed.join(', ')}`);
  if (widened.length > 0)
    out.push(`${kind}: WIDENS with ${widened.join(', ')} (the enforcer refuses this: CHAIN_VIOLATION)`);
  return out;
}

function naiveGlobContains(parent: string, child: string): boolean {
  // For explanation only (the enforcer uses core's sound containment): a parent ending in `*`
  // covers children that share its prefix.
  return parent === child || (parent.endsWith('*') && child.startsWith(parent.slice(0, -1)));
}

function explainNarrowing(parent: Record<string, unknown>, child: Record<string, unknown>): string[] {
  const out: string[] = [];
  if (child.sub !== parent.sub) {
    const inLineage =
      typeof parent.sub === 'string' && typeof child.sub === 'string' && isInLineage(parent.sub, child.sub);
    out.push(
      `agent: ${String(parent.sub)} → ${String(child.sub)} ${
        inLineage
          ? `(a sub-agent of ${String(parent.sub)})`
          : `(OUTSIDE ${String(parent.sub)}'s lineage: the enforcer refuses this, CHAIN_VIOLATION)`
      }`,
    );
  }
  out.push(...describeList('scopes', list(parent.scp), list(child.scp), scopeContains));
  out.push(...describeList('resources', list(parent.res), list(child.res), naiveGlobContains));
  out.push(...describeList('context fields', list(parent.ctx), list(child.ctx), (p, c) => p === c));
  try {
    const pc = JSON.stringify(constraintsToWire(parseConstraints(parent.cns, 'INVALID_TOKEN', 'cns')));
    const cc = JSON.stringify(constraintsToWire(parseConstraints(child.cns, 'INVALID_TOKEN', 'cns')));
    out.push(pc === cc ? 'constraints: unchanged' : `constraints: ${pc} → ${cc}`);
  } catch (err) {
    out.push(`constraints: unreadable (${(err as Error).message})`);
  }
  if (typeof parent.exp === 'number' && typeof child.exp === 'number') {
    const d = parent.exp - child.exp;
    out.push(
      d > 0
        ? `expiry: ${formatDuration(d)} earlier than the parent`
        : d === 0
          ? 'expiry: same as the parent'
          : `expiry: ${formatDuration(-d)} AFTER the parent (refused)`,
    );
  }
  if (typeof parent.nbf === 'number' && typeof child.nbf === 'number' && child.nbf !== parent.nbf) {
    out.push(
      `not before: ${child.nbf > parent.nbf ? `${formatDuration(child.nbf - parent.nbf)} later` : 'EARLIER (refused)'} than the parent`,
    );
  }
  const pa = parent.aud === undefined ? [] : list(Array.isArray(parent.aud) ? parent.aud : [parent.aud]);
  const ca = child.aud === undefined ? [] : list(Array.isArray(child.aud) ? child.aud : [child.aud]);
  if (JSON.stringify(pa) !== JSON.stringify(ca)) out.push(`audience: [${pa.join(', ')}] → [${ca.join(', ')}]`);
  const px = (parent.cnf as { jwk?: { x?: unknown } } | undefined)?.jwk?.x;
  const cx = (child.cnf as { jwk?: { x?: unknown } } | undefined)?.jwk?.x;
  out.push(
    cx === undefined
      ? "holder key: MISSING (refused: every link must name its holder's key in 'cnf')"
      : cx === px
        ? "holder key: the parent's own (the holder narrowed its own authority)"
        : "holder key: the child's own (only the child's holder can present or attenuate it)",
  );
  return out;
}

/** Decodes and explains a token. Never throws for a malformed token: problems are listed. */
export function inspectToken(
  token: string,
  nowSec: number,
  opts: { maxDepth?: number; skewSeconds?: number } = {},
): Inspection {
  const problems: string[] = [];
  const skew = opts.skewSeconds ?? 30;
  let strict: ParsedLink[] | undefined;
  try {
    strict = parseToken(token.trim());
  } catch (err) {
    problems.push(err instanceof AuthorityError ? `${err.reason}: ${err.message}` : String(err));
  }
  const { chain, seal: sealText } = splitSeal(token.trim());
  const raws = chain.split('~');
  const links: InspectedLink[] = raws.map((raw, index) => {
    const parts = raw.split('.');
    const header = decodeJson(parts[0]);
    const claims = decodeJson(parts[1]);
    const linkProblems: string[] = [];
    if (parts.length !== 3) linkProblems.push(`not a compact JWS (${parts.length} parts, expected 3)`);
    if (header === undefined) linkProblems.push('the header does not decode');
    if (claims === undefined) linkProblems.push('the payload does not decode');
    const kid = typeof header?.kid === 'string' ? header.kid : '?';
    const signer =
      index === 0
        ? `tenant key ${JSON.stringify(kid)} (root, minted by the issuer)`
        : kid === OFFLINE_KID
          ? `the holder of link ${index - 1}'s 'cnf' key (offline attenuation)`
          : `tenant key ${JSON.stringify(kid)} (online delegation by the issuer)`;
    if (index === 0 && kid === OFFLINE_KID)
      linkProblems.push("a root link signed with kid 'cnf' is refused (UNKNOWN_KEY): roots are signed by a tenant key");
    const link: InspectedLink = { index, header, claims, signer, narrows: [], problems: linkProblems };
    if (claims && typeof claims.iat === 'number' && typeof claims.nbf === 'number' && typeof claims.exp === 'number') {
      const status =
        nowSec >= claims.exp + skew
          ? `EXPIRED ${relativeTime(claims.exp, nowSec)}`
          : nowSec < claims.nbf - skew
            ? `NOT YET VALID (starts ${relativeTime(claims.nbf, nowSec)})`
            : `valid for ${formatDuration(claims.exp - nowSec)} more`;
      link.times = {
        issuedAt: iso(claims.iat),
        notBefore: iso(claims.nbf),
        expiresAt: iso(claims.exp),
        lifetime: formatDuration(claims.exp - claims.nbf),
        status,
        relative: {
          iat: relativeTime(claims.iat, nowSec),
          nbf: relativeTime(claims.nbf, nowSec),
          exp: relativeTime(claims.exp, nowSec),
        },
      };
      if (status.startsWith('EXPIRED') || status.startsWith('NOT YET')) linkProblems.push(status.toLowerCase());
    }
    if (index > 0) {
      const parentRaw = raws[index - 1] as string;
      const parentClaims = decodeJson(parentRaw.split('.')[1]);
      if (claims && parentClaims) {
        if (claims.prn !== parentClaims.jti) linkProblems.push(`'prn' does not name link ${index - 1}'s jti`);
        if (claims.phs !== hashLink(parentRaw))
          linkProblems.push(`'phs' is not the hash of link ${index - 1}: the link was not derived from this parent`);
        link.narrows = explainNarrowing(parentClaims, claims);
      }
    }
    return link;
  });
  if (strict) {
    try {
      checkRootLink(strict[0] as ParsedLink);
      for (let i = 1; i < strict.length; i++) {
        const p = strict[i - 1] as ParsedLink;
        checkNarrowing(p, p.hash, strict[i] as ParsedLink, i, opts.maxDepth ?? DEFAULT_MAX_DEPTH);
      }
    } catch (err) {
      problems.push(err instanceof AuthorityError ? `${err.reason}: ${err.message}` : String(err));
    }
  }
  const leaf = links[links.length - 1]?.claims;
  const root = links[0]?.claims;
  const seal = inspectSeal(sealText, raws[raws.length - 1] as string);
  if (seal.forLastLink === false) problems.push(`INVALID_PROOF: ${seal.description}`);
  return {
    verified: false,
    note: NOTE,
    wellFormed: strict !== undefined,
    tenant: typeof root?.tnt === 'string' ? root.tnt : undefined,
    agent: typeof leaf?.sub === 'string' ? leaf.sub : undefined,
    agentChain: links.map((l) => (typeof l.claims?.sub === 'string' ? l.claims.sub : '?')),
    seal,
    links,
    problems,
  };
}

function inspectSeal(seal: string | undefined, lastLink: string): InspectedSeal {
  if (seal === undefined) {
    return {
      present: false,
      verified: false,
      description:
        'absent: an unsealed chain is presentable only with a per-request proof; its holder seals it with `authority envelope seal`',
    };
  }
  const payload = decodeJson(seal.slice(SEAL_PREFIX.length).split('.')[0]);
  const forLastLink = payload?.lh === hashLink(lastLink);
  return {
    present: true,
    verified: false,
    forLastLink,
    description: forLastLink
      ? "present, for this chain's last link (signature not verified: the enforcer checks it against the last link's holder key)"
      : "present but made for another chain: its 'lh' is not the SHA-256 of the last link (refused: INVALID_PROOF)",
  };
}

/** Human rendering of an inspection. */
export function renderInspection(ins: Inspection): string[] {
  const out: string[] = [];
  out.push(`!! ${ins.note}`);
  out.push(
    `token: ${ins.links.length} link(s), tenant ${ins.tenant ?? '?'}, presented by agent ${ins.agent ?? '?'}${ins.wellFormed ? '' : ' — MALFORMED'}`,
  );
  if (ins.agentChain.length > 1) out.push(`lineage: ${ins.agentChain.join(' > ')}`);
  out.push(`seal: ${ins.seal.description}`);
  for (const l of ins.links) {
    const c = l.claims ?? {};
    out.push('');
    out.push(`link ${l.index}${l.index === 0 ? ' (root)' : ''}: signed by ${l.signer}`);
    const row = (k: string, v: unknown) => {
      if (v !== undefined && v !== '')
        out.push(`  ${`${k}:`.padEnd(14)} ${typeof v === 'string' ? v : JSON.stringify(v)}`);
    };
    row('agent (sub)', c.sub);
    row('tenant (tnt)', c.tnt);
    row('jti', c.jti);
    row('depth (dep)', c.dep);
    if (l.times) {
      row('issued', `${l.times.issuedAt} (${l.times.relative.iat})`);
      row('not before', `${l.times.notBefore} (${l.times.relative.nbf})`);
      row('expires', `${l.times.expiresAt} (${l.times.relative.exp})`);
      row('lifetime', l.times.lifetime);
      row('status', l.times.status);
    }
    row('scopes', list(c.scp).join(', '));
    row('resources', list(c.res).join(', ') || '(none)');
    row('context', list(c.ctx).join(', ') || '(none)');
    row('constraints', c.cns);
    if (c.aud !== undefined) row('audience', c.aud);
    if (c.iss !== undefined) row('issuer', c.iss);
    if (c.cnf !== undefined) row('holder key', (c.cnf as { jwk?: { x?: string } }).jwk?.x ?? c.cnf);
    if (c.prn !== undefined) row('parent (prn)', c.prn);
    for (const n of l.narrows) out.push(`  narrows: ${n}`);
    for (const p of l.problems) out.push(`  PROBLEM: ${p}`);
  }
  if (ins.problems.length > 0) {
    out.push('');
    for (const p of ins.problems) out.push(`PROBLEM: ${p}`);
  }
  return out;
}
