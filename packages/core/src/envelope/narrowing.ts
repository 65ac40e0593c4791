/**
 * The chain rule between a parent link and its child: the child is bound to exactly that parent
 * and grants nothing the parent does not (ARCHITECTURE §2). Shared by the verifier and by
 * deriveChild, which checks a new child up front.
 */
import { AuthorityError } from '../errors';
import { findUncoveredScope } from '../scope';
import { findUncoveredPattern } from '../glob';
import { findLoosenedConstraint, type Constraints } from '../constraints';
import { audiencesOf, type EnvelopeClaims } from './claims';
import { lineageProblem } from '../identifiers';
import { isoTime } from './iso-time';

/** What the narrowing rule reads from a link. */
export interface NarrowingView {
  readonly claims: Readonly<EnvelopeClaims>;
  readonly constraints: Readonly<Constraints>;
}

/** The rules for the root (index 0): depth 0 and no parent. */
export function checkRootLink(root: NarrowingView): void {
  const c = root.claims;
  if (c.dep !== 0)
    throw new AuthorityError('CHAIN_VIOLATION', `link 0: claim 'dep' of the root must be 0, got ${c.dep}`, 'dep');
  if (c.prn !== undefined)
    throw new AuthorityError('CHAIN_VIOLATION', "link 0: the root link must not name a parent ('prn'/'phs')", 'prn');
}

/**
 * The depth limit (a verifier setting, so checked on every call even when the rest of the chain
 * rule is remembered for the link).
 */
export function checkDepthLimit(child: NarrowingView, index: number, maxDepth: number): void {
  const dep = child.claims.dep;
  if (dep > maxDepth) {
    throw new AuthorityError(
      'CHAIN_VIOLATION',
      `link ${index}: claim 'dep' is ${dep}; the maximum delegation depth is ${maxDepth}`,
      'dep',
    );
  }
}

/**
 * Throws CHAIN_VIOLATION (or TENANT_MISMATCH) naming the first field in which `child` (at
 * `index`) is not a narrowing of `parent`, whose exact link text hashes to `parentHash`.
 */
export function checkNarrowing(
  parent: NarrowingView,
  parentHash: string,
  child: NarrowingView,
  index: number,
  maxDepth: number,
): void {
  const p = parent.claims;
  const c = child.claims;
  const violation = (field: string, what: string): never => {
    throw new AuthorityError('CHAIN_VIOLATION', `link ${index}: ${what}`, field);
  };
  if (c.tnt !== p.tnt) {
    throw new AuthorityError(
      'TENANT_MISMATCH',
      `link ${index}: claim 'tnt' is '${c.tnt}' but its parent's is '${p.tnt}'`,
      'tnt',
    );
  }
  if (c.prn === undefined || c.phs === undefined)
    violation('prn', "a child link must name its parent ('prn' and 'phs')");
  if (c.prn !== p.jti) violation('prn', `claim 'prn' is '${c.prn}' but the parent's jti is '${p.jti}'`);
  if (c.phs !== parentHash) violation('phs', "claim 'phs' is not the SHA-256 of the parent link's bytes");
  if (c.dep !== p.dep + 1)
    violation('dep', `claim 'dep' is ${c.dep} but must be the parent's depth + 1 = ${p.dep + 1}`);
  checkDepthLimit(child, index, maxDepth);
  const lineage = lineageProblem(p.sub, c.sub);
  if (lineage !== undefined) violation('sub', `claim 'sub' ${lineage}`);

  const scope = findUncoveredScope(p.scp, c.scp);
  if (scope !== undefined)
    violation('scp', `claim 'scp' widens the parent: scope '${scope}' is not covered by the parent's scopes`);
  const pattern = findUncoveredPattern(p.res, c.res);
  if (pattern !== undefined)
    violation(
      'res',
      `claim 'res' widens the parent: resource pattern '${pattern}' is not covered by the parent's patterns`,
    );
  for (const field of c.ctx) {
    if (!p.ctx.includes(field))
      violation('ctx', `claim 'ctx' widens the parent: context field '${field}' is not in the parent's`);
  }
  const loosened = findLoosenedConstraint(parent.constraints as Constraints, child.constraints as Constraints);
  if (loosened !== undefined) violation('cns', `claim 'cns' loosens the parent's constraint '${loosened}'`);

  if (c.exp > p.exp)
    violation(
      'exp',
      `claim 'exp' (${isoTime(c.exp)}) is after the parent's (${isoTime(p.exp)}): a child cannot outlive its parent`,
    );
  if (c.nbf < p.nbf) violation('nbf', `claim 'nbf' (${isoTime(c.nbf)}) is before the parent's (${isoTime(p.nbf)})`);
  if (c.iat < p.iat)
    violation(
      'iat',
      `claim 'iat' (${isoTime(c.iat)}) is before the parent's (${isoTime(p.iat)}): a child cannot predate its parent`,
    );

  const parentAudiences = audiencesOf(p);
  if (parentAudiences.length > 0) {
    for (const a of audiencesOf(c)) {
      if (!parentAudiences.includes(a))
        violation('aud', `claim 'aud' widens the parent: audience '${a}' is not in the parent's`);
    }
  }
}
