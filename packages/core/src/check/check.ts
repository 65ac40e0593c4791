/**
 * The pure check engine: one request against a token, in the architecture's order
 * (parse → signatures → time → revocation → chain narrowing → scope → resource → context →
 * constraints → policy → approval). It never throws: every failure is a DENY with one stable
 * reason code, a message, and the field at fault.
 */
import {
  DEFAULT_READ_ONLY_ACTIONS,
  actionNeedsApproval,
  evaluateConstraints,
  violationRank,
  type Constraints,
  type ConstraintRequest,
} from '../constraints';
import { AuthorityError, type Reason } from '../errors';
import { ed25519Verify } from '../crypto';
import { MAX_GLOB_INPUT_LENGTH, globMatch } from '../glob';
import { findMatchingScope, isValidScope } from '../scope';
import { resourceProblem } from '../resource';
import { isValidIdentifier } from '../envelope/claims';
import { readNow, verifyEnvelopeFor, type VerifiedEnvelope } from '../envelope/verify';
import { DEFAULT_REQUEST_PROOF_WINDOW_SECONDS, verifyRequestProof } from '../envelope/request-proof';
import { peekClaimedPath } from '../envelope/peek';
import { DEFAULT_SKEW_SECONDS } from '../envelope/limits';
import type {
  ApprovalRequest,
  CheckDeps,
  CheckInput,
  CheckResult,
  CheckViolation,
  PolicyEntry,
  TenantPolicy,
} from './types';

/** Most context fields one request may carry. */
export const MAX_CONTEXT_FIELDS_PER_REQUEST = 256;
/** Longest action name. */
export const MAX_ACTION_LENGTH = 64;

class Denial {
  constructor(
    readonly reason: Reason,
    readonly message: string,
    readonly field?: string,
    /** Set on a denial for constraints: every violation, the first being the one reported. */
    readonly violations?: readonly CheckViolation[],
  ) {}
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Checks one request; see the module comment. */
export function checkRequest(input: CheckInput, deps: CheckDeps): CheckResult {
  let chain: VerifiedEnvelope | undefined;
  try {
    if (!isPlainObject(input)) return deny(new Denial('INVALID_REQUEST', 'request must be an object', 'request'));
    const expectedTenant = input.tenant;
    if (expectedTenant !== undefined && !isValidIdentifier(expectedTenant)) {
      return deny(new Denial('INVALID_REQUEST', "'tenant' must be a non-empty string", 'tenant'));
    }

    // parse → signatures → possession (seal) → time → revocation → chain narrowing (→ audience);
    // with a per-request proof the seal is optional, the proof is checked right after.
    const proof = input.proof;
    const hasProof = proof !== undefined && proof !== '';
    chain = verifyEnvelopeFor(input.token, deps, expectedTenant, !hasProof);
    // The tenant's current policy, looked up once for the possession and policy steps, with the
    // entry of each agent of the chain (undefined where the policy does not name the agent).
    const policy = deps.policy?.(chain.tenant);
    const entries = policy === undefined ? undefined : chain.agents.map((agent) => policy.agent(agent));
    const possession = checkPossession(input, chain, deps, policy, entries, hasProof);
    if (possession !== undefined) return deny(possession, chain);

    const outcome = checkAuthority(input, chain, deps, policy, entries);
    if (outcome instanceof Denial) return deny(outcome, chain);
    return outcome;
  } catch (err) {
    if (err instanceof AuthorityError) return deny(new Denial(err.reason, err.message, err.field), chain, input);
    // A bug or a failing dependency (key resolver, revocation view): fail closed, and say so.
    const message = err instanceof Error ? err.message : String(err);
    return {
      ...deny(new Denial('INVALID_REQUEST', `internal error while checking: ${message}`), chain, input),
      internalError: true,
    };
  }
}

/**
 * A denial, attributed: to the verified chain when there is one, else to the path the token
 * claims (marked unverified), so an attempt is never lost from an agent's record.
 */
function deny(d: Denial, chain?: VerifiedEnvelope, input?: CheckInput): CheckResult {
  const result: CheckResult = { decision: 'DENY', reason: d.reason, message: d.message };
  if (d.field !== undefined) result.field = d.field;
  if (d.violations !== undefined) result.violations = d.violations;
  if (chain !== undefined) {
    attribute(result, chain);
  } else if (input !== undefined && isPlainObject(input)) {
    const claimed = peekClaimedPath(input.token);
    if (claimed !== undefined && claimed.links.length > 0) {
      result.chain = claimed.links.map((l) => l.jti);
      result.agentChain = claimed.links.map((l) => l.agent);
      result.agent = (claimed.links[claimed.links.length - 1] as { agent: string }).agent;
      result.rootAgent = (claimed.links[0] as { agent: string }).agent;
      if (claimed.tenant !== undefined) result.tenant = claimed.tenant;
      result.chainUnverified = true;
    }
  }
  return result;
}

function attribute(result: CheckResult, chain: VerifiedEnvelope): void {
  result.chain = chain.jtis;
  result.agentChain = chain.path;
  result.agent = chain.agent;
  result.rootAgent = chain.rootAgent;
  result.tenant = chain.tenant;
}

/**
 * Possession beyond the seal: a per-request proof, checked when sent and required when the
 * envelope, the tenant's policy, or the policy entry of any agent of the chain says
 * `pop: required`. Checked before anything about the request's authority is said, so a replayed
 * token learns nothing from the answer.
 */
function checkPossession(
  input: CheckInput,
  chain: VerifiedEnvelope,
  deps: CheckDeps,
  policy: TenantPolicy | undefined,
  entries: readonly (PolicyEntry | undefined)[] | undefined,
  hasProof: boolean,
): Denial | undefined {
  if (!hasProof) {
    if (chain.constraints.popRequired === true) {
      return new Denial('PROOF_REQUIRED', "the envelope says 'pop: required': send a per-request proof", 'proof');
    }
    if (policy === undefined || entries === undefined) return undefined;
    if (policy.popRequired === true) {
      return new Denial(
        'PROOF_REQUIRED',
        `policy ${policy.version} of tenant '${chain.tenant}' says 'pop: required': send a per-request proof`,
        'proof',
      );
    }
    for (let i = 0; i < entries.length; i++) {
      if (entries[i]?.constraints?.popRequired === true) {
        return new Denial(
          'PROOF_REQUIRED',
          `policy ${policy.version} of tenant '${chain.tenant}' says 'pop: required' for agent '${chain.agents[i] as string}': send a per-request proof`,
          'proof',
        );
      }
    }
    return undefined;
  }
  if (deps.replay === undefined) {
    return new Denial('INVALID_PROOF', 'this verifier cannot check per-request proofs (no replay cache)', 'proof');
  }
  verifyRequestProof(input.proof, {
    tenant: chain.tenant,
    leafHash: chain.leaf.hash,
    holderKey: chain.leaf.holderKey,
    request: input,
    now: readNow(deps.now),
    skewSeconds: deps.skewSeconds ?? DEFAULT_SKEW_SECONDS,
    windowSeconds: deps.requestProofWindowSeconds ?? DEFAULT_REQUEST_PROOF_WINDOW_SECONDS,
    replay: deps.replay,
    verifySignature: deps.verifySignature ?? ed25519Verify,
  });
  return undefined;
}

/** The steps after the chain verified: scope → resource → context → constraints → policy → approval. */
function checkAuthority(
  input: CheckInput,
  chain: VerifiedEnvelope,
  deps: CheckDeps,
  policy: TenantPolicy | undefined,
  entries: readonly (PolicyEntry | undefined)[] | undefined,
): CheckResult | Denial {
  // Scope.
  const requiredScope = input.requiredScope;
  if (typeof requiredScope !== 'string' || !isValidScope(requiredScope)) {
    return new Denial(
      'INVALID_REQUEST',
      "'required_scope' must be a valid scope (segment:segment[:...])",
      'required_scope',
    );
  }
  if (findMatchingScope(chain.scopes, requiredScope) === undefined) {
    return new Denial(
      'SCOPE_MISSING',
      `scope '${requiredScope}' is not granted (granted: ${chain.scopes.join(', ')})`,
      'required_scope',
    );
  }

  // Resource. A chain whose root grants resources must be exercised against a named resource:
  // otherwise a call that touches data without naming it would escape resource scoping. Only a
  // chain whose root grants no resources makes resource-less calls (see resourceRequired).
  const resource = input.resource;
  if (resource !== undefined) {
    if (typeof resource !== 'string' || resource.length === 0 || resource.length > MAX_GLOB_INPUT_LENGTH) {
      return new Denial(
        'INVALID_REQUEST',
        `'resource' must be a non-empty string of at most ${MAX_GLOB_INPUT_LENGTH} characters`,
        'resource',
      );
    }
    // Canonical form only (docs/resources.md): never normalized silently, so a backend that
    // resolves `..`, `%2e` or `\` cannot be steered outside the grant.
    const problem = resourceProblem(resource);
    if (problem !== undefined) {
      return new Denial('INVALID_REQUEST', `'resource' is not canonical: ${problem}`, 'resource');
    }
    if (!matchesAny(chain.resources, resource)) {
      return new Denial(
        'RESOURCE_NOT_ALLOWED',
        `resource '${resource}' matches none of the envelope's resource patterns`,
        'resource',
      );
    }
  } else if (chain.resourceRequired) {
    return new Denial(
      'INVALID_REQUEST',
      "the envelope is limited to resources, so the request must name its 'resource'",
      'resource',
    );
  }

  // Context: purpose and record_count are always allowed; other fields must be in `ctx`.
  const context = input.context;
  let purpose: string | undefined;
  let recordCount: number | undefined;
  if (context !== undefined) {
    if (!isPlainObject(context)) return new Denial('INVALID_REQUEST', "'context' must be an object", 'context');
    const rawPurpose: unknown = context.purpose;
    if (rawPurpose !== undefined && typeof rawPurpose !== 'string') {
      return new Denial('INVALID_REQUEST', "'context.purpose' must be a string", 'context.purpose');
    }
    purpose = rawPurpose;
    const rawCount: unknown = context.recordCount;
    if (rawCount !== undefined && (typeof rawCount !== 'number' || !Number.isSafeInteger(rawCount) || rawCount < 0)) {
      return new Denial(
        'INVALID_REQUEST',
        "'context.record_count' must be a non-negative integer",
        'context.record_count',
      );
    }
    recordCount = rawCount;
    const fields = context.fields;
    if (fields !== undefined) {
      if (!isPlainObject(fields))
        return new Denial('INVALID_REQUEST', "'context.fields' must be an object of strings", 'context.fields');
      let count = 0;
      for (const name in fields) {
        if (!Object.prototype.hasOwnProperty.call(fields, name)) continue;
        if (++count > MAX_CONTEXT_FIELDS_PER_REQUEST) {
          return new Denial(
            'INVALID_REQUEST',
            `'context.fields' has more than ${MAX_CONTEXT_FIELDS_PER_REQUEST} fields`,
            'context.fields',
          );
        }
        if (typeof fields[name] !== 'string') {
          return new Denial('INVALID_REQUEST', `'context.fields.${name}' must be a string`, `context.fields.${name}`);
        }
        if (!chain.contextFields.includes(name)) {
          return new Denial(
            'CONTEXT_NOT_ALLOWED',
            `context field '${name}' is not allowed by the envelope`,
            `context.fields.${name}`,
          );
        }
      }
    }
  }

  // Constraints: the envelope's and those of the policy entry of every agent of the chain, with
  // every violation collected so an agent can fix its request in one retry.
  const derivedAction = requiredScope.slice(requiredScope.lastIndexOf(':') + 1);
  let action = derivedAction;
  if (input.action !== undefined) {
    if (typeof input.action !== 'string' || input.action.length === 0 || input.action.length > MAX_ACTION_LENGTH) {
      return new Denial(
        'INVALID_REQUEST',
        `'action' must be a non-empty string of at most ${MAX_ACTION_LENGTH} characters`,
        'action',
      );
    }
    action = input.action;
  }
  const request: ConstraintRequest = { action, resource, purpose, recordCount };
  // The tenant admin owns the tenant: its read-only list applies to envelope and policy alike.
  const readOnly = policy?.readOnlyActions ?? DEFAULT_READ_ONLY_ACTIONS;
  const violations: CheckViolation[] = [];
  const requiredBy: ('envelope' | 'policy')[] = [];
  if (collectConstraints(chain.constraints, request, derivedAction, readOnly, 'envelope', violations)) {
    requiredBy.push('envelope');
  }
  let policyRequiresApproval = false;
  if (policy !== undefined && entries !== undefined) {
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i];
      const constraints = entry === undefined ? undefined : policyEntryConstraints(entry);
      if (constraints === undefined) continue;
      const source = `policy:${chain.agents[i] as string}`;
      if (collectConstraints(constraints, request, derivedAction, readOnly, source, violations)) {
        policyRequiresApproval = true;
      }
    }
  }
  if (violations.length > 0) return constraintDenial(violations, policy);

  // Policy: the tenant's current policy, applied at check time so tightening it bites at once.
  let policyVersion: string | undefined;
  if (policy !== undefined && entries !== undefined) {
    const denial = applyPolicy(policy, chain, entries, requiredScope, resource);
    if (denial !== undefined) return denial;
    policyVersion = policy.version;
    if (policyRequiresApproval) requiredBy.push('policy');
  }

  const result: CheckResult = { decision: 'ALLOW', reason: 'ALLOWED', message: 'allowed' };
  attribute(result, chain);
  if (policyVersion !== undefined) result.policyVersion = policyVersion;

  // Approval.
  if (requiredBy.length > 0) {
    // The whole request, so an approval granted for it is usable for nothing else.
    const approval: ApprovalRequest = {
      tenant: chain.tenant,
      agent: chain.agent,
      requiredScope,
      action,
      chain: chain.jtis,
      agentChain: chain.path,
      requiredBy,
    };
    if (resource !== undefined) approval.resource = resource;
    if (purpose !== undefined && purpose !== '') approval.purpose = purpose;
    if (recordCount !== undefined) approval.recordCount = recordCount;
    // Validated above: an object of strings, every name allowed by the envelope.
    const fields = input.context?.fields;
    if (fields !== undefined && Object.keys(fields).length > 0) approval.contextFields = { ...fields };
    const approvalId = input.approvalId;
    if (approvalId === undefined || deps.approvals === undefined) {
      return {
        ...result,
        decision: 'DENY',
        reason: 'APPROVAL_REQUIRED',
        message: `action '${action}' requires human approval (required by ${requiredBy.join(' and ')})`,
        approvalRequired: approval,
      };
    }
    if (typeof approvalId !== 'string' || approvalId.length === 0 || approvalId.length > 256) {
      return new Denial('INVALID_REQUEST', "'approval_id' must be a non-empty string", 'approval_id');
    }
    const decided = deps.approvals.consume(approvalId, approval);
    if (decided.approved !== true) {
      return {
        ...result,
        decision: 'DENY',
        reason: 'APPROVAL_INVALID',
        message: `approval '${approvalId}' is not valid for this call${decided.message ? `: ${decided.message}` : ''}`,
        field: 'approval_id',
        approvalRequired: approval,
      };
    }
    result.approvalRequired = approval;
  }
  return result;
}

function matchesAny(patterns: readonly string[], resource: string): boolean {
  for (let i = 0; i < patterns.length; i++) if (globMatch(patterns[i] as string, resource)) return true;
  return false;
}

/**
 * Evaluates one constraint set, appending its violations (tagged with `source`) to `out`; returns
 * whether it requires approval. A declared action that differs from the scope's own action can only
 * add an approval requirement: both are judged against the read-only list.
 */
function collectConstraints(
  c: Readonly<Constraints>,
  request: ConstraintRequest,
  derivedAction: string,
  readOnly: ReadonlySet<string>,
  source: string,
  out: CheckViolation[],
): boolean {
  const outcome = evaluateConstraints(c as Constraints, request, readOnly);
  const found = outcome.violations;
  for (let i = 0; i < found.length; i++) {
    const v = found[i] as (typeof found)[number];
    out.push({ reason: v.reason, constraint: v.constraint, field: v.field, message: v.message, source });
  }
  if (found.length > 0) return false;
  return outcome.approvalRequired || actionNeedsApproval(c, derivedAction, readOnly);
}

/** Constraints of a policy entry with its own `deniedResources` list added (once, not twice). */
export function policyEntryConstraints(entry: PolicyEntry): Constraints | undefined {
  const c = entry.constraints;
  const extra = entry.deniedResources;
  if (extra === undefined || extra.length === 0) return c;
  // The core policy's entries carry the same list in both places.
  if (c !== undefined && sameList(c.deniedResources, extra)) return c;
  const base: Constraints = c ?? {
    requirePurpose: false,
    deniedResources: [],
    writeRequiresApproval: false,
    unconstrained: false,
  };
  return { ...base, deniedResources: [...new Set([...base.deniedResources, ...extra])] };
}

function sameList(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * The denial for constraint violations: the reason and field of the first violation by
 * VIOLATION_PRECEDENCE (ties keep collection order: envelope first, then the policy entries root
 * first), a message naming every violation, and the violations themselves.
 */
function constraintDenial(violations: CheckViolation[], policy: TenantPolicy | undefined): Denial {
  const sorted =
    violations.length > 1 ? violations.sort((a, b) => violationRank(a.reason) - violationRank(b.reason)) : violations;
  const first = sorted[0] as CheckViolation;
  const describe = (v: CheckViolation): string =>
    v.source === 'envelope'
      ? v.message
      : `policy ${policy?.version ?? '?'}, agent '${v.source.slice('policy:'.length)}': ${v.message}`;
  const message =
    sorted.length === 1
      ? describe(first)
      : `${sorted.length} constraint violations: ${sorted.map((v, i) => `(${i + 1}) ${describe(v)}`).join('; ')}`;
  return new Denial(first.reason, message, first.field, sorted);
}

/**
 * The policy step after the constraints. The root agent (the one the grant was minted for) must be
 * named by the policy; any other agent in the chain that the policy names is held to its own
 * bounds too (sub-agents the policy does not name are bounded by the root agent's through the
 * chain). For each such agent: explicit deny rules, then scope, then resource patterns. (Its
 * constraints, deny list included, were applied with the envelope's; its `pop` with possession.)
 */
function applyPolicy(
  policy: TenantPolicy,
  chain: VerifiedEnvelope,
  entries: readonly (PolicyEntry | undefined)[],
  requiredScope: string,
  resource: string | undefined,
): Denial | undefined {
  const version = policy.version;
  for (let i = 0; i < entries.length; i++) {
    const agent = chain.agents[i] as string;
    const view = entries[i];
    if (view === undefined) {
      if (i > 0) continue;
      return new Denial(
        'POLICY_DENIED',
        `policy ${version} of tenant '${chain.tenant}' does not name agent '${agent}'`,
        'agent',
      );
    }
    const where = `policy ${version}, agent '${agent}'`;
    const denial = policy.deny?.(agent, requiredScope, resource);
    if (denial !== undefined) return new Denial(denial.reason, `${where}: ${denial.message}`, 'policy');
    if (findMatchingScope(view.scopes, requiredScope) === undefined) {
      return new Denial('POLICY_DENIED', `${where}: scope '${requiredScope}' is not granted`, 'required_scope');
    }
    if (resource !== undefined && view.resources !== undefined && !matchesAny(view.resources, resource)) {
      return new Denial(
        'POLICY_DENIED',
        `${where}: resource '${resource}' matches none of the policy's resource patterns`,
        'resource',
      );
    }
  }
  return undefined;
}
