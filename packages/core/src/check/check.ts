/**
 * The pure check engine: one request against a token, in the architecture's order
 * (parse → signatures → time → revocation → chain narrowing → scope → resource → context →
 * constraints → policy → approval). It never throws: every failure is a DENY with one stable
 * reason code, a message, and the field at fault.
 */
import { evaluateConstraints, type Constraints, type ConstraintRequest } from '../constraints';
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
import type { ApprovalRequest, CheckDeps, CheckInput, CheckResult, TenantPolicy } from './types';

/** Most context fields one request may carry. */
export const MAX_CONTEXT_FIELDS_PER_REQUEST = 256;
/** Longest action name. */
export const MAX_ACTION_LENGTH = 64;

class Denial {
  constructor(
    readonly reason: Reason,
    readonly message: string,
    readonly field?: string,
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
    // The tenant's current policy, looked up once for the possession and policy steps.
    const policy = deps.policy?.(chain.tenant);
    const possession = checkPossession(input, chain, deps, policy, hasProof);
    if (possession !== undefined) return deny(possession, chain);

    const outcome = checkAuthority(input, chain, deps, policy, hasProof);
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
 * envelope or the tenant's policy says `pop: required` (a policy agent's own `pop: required` is
 * applied with the rest of its entry, in the policy step).
 */
function checkPossession(
  input: CheckInput,
  chain: VerifiedEnvelope,
  deps: CheckDeps,
  policy: TenantPolicy | undefined,
  hasProof: boolean,
): Denial | undefined {
  if (!hasProof) {
    if (chain.constraints.popRequired === true) {
      return new Denial('PROOF_REQUIRED', "the envelope says 'pop: required': send a per-request proof", 'proof');
    }
    if (policy?.popRequired === true) {
      return new Denial(
        'PROOF_REQUIRED',
        `policy ${policy.version} of tenant '${chain.tenant}' says 'pop: required': send a per-request proof`,
        'proof',
      );
    }
    return undefined;
  }
  if (deps.replay === undefined) {
    return new Denial('INVALID_PROOF', 'this verifier cannot check per-request proofs (no replay cache)', 'proof');
  }
  verifyRequestProof(input.proof, {
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
  hasProof: boolean,
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

  // Constraints of the envelope.
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
  const requiredBy: ('envelope' | 'policy')[] = [];
  const envelopeVerdict = applyConstraints(chain.constraints, request, derivedAction);
  if (envelopeVerdict instanceof Denial) return envelopeVerdict;
  if (envelopeVerdict) requiredBy.push('envelope');

  // Policy: the tenant's current policy, applied at check time so tightening it bites at once.
  let policyVersion: string | undefined;
  if (policy !== undefined) {
    const verdict = applyPolicy(policy, chain, requiredScope, resource, request, derivedAction, hasProof);
    if (verdict instanceof Denial) return verdict;
    policyVersion = verdict.version;
    if (verdict.approvalRequired) requiredBy.push('policy');
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
 * Evaluates one constraint set: a Denial for the first violation, else whether approval is needed.
 * A declared action that differs from the scope's own action can only add an approval requirement.
 */
function applyConstraints(
  c: Readonly<Constraints>,
  request: ConstraintRequest,
  derivedAction: string,
): Denial | boolean {
  const outcome = evaluateConstraints(c as Constraints, request);
  const first = outcome.violations[0];
  if (first !== undefined) return new Denial(first.reason, first.message, first.constraint);
  if (outcome.approvalRequired) return true;
  if (request.action !== derivedAction && c.writeRequiresApproval) {
    return evaluateConstraints(c as Constraints, { ...request, action: derivedAction }).approvalRequired;
  }
  return false;
}

/**
 * The policy step. The root agent (the one the grant was minted for) must be named by the policy;
 * any other agent in the chain that the policy names is held to its own bounds too (sub-agents the
 * policy does not name are bounded by the root agent's through the chain). For each such agent:
 * explicit deny rules, then scope, denied resources, resource patterns, `pop: required`,
 * constraints.
 */
function applyPolicy(
  policy: TenantPolicy,
  chain: VerifiedEnvelope,
  requiredScope: string,
  resource: string | undefined,
  request: ConstraintRequest,
  derivedAction: string,
  hasProof: boolean,
): Denial | { version: string; approvalRequired: boolean } {
  const version = policy.version;
  let approvalRequired = false;
  for (let i = 0; i < chain.agents.length; i++) {
    const agent = chain.agents[i] as string;
    const view = policy.agent(agent);
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
    if (resource !== undefined) {
      const denied = view.deniedResources?.find((pattern) => globMatch(pattern, resource));
      if (denied !== undefined) {
        return new Denial(
          'DENIED_RESOURCE',
          `${where}: resource '${resource}' matches denied pattern '${denied}'`,
          'resource',
        );
      }
      if (view.resources !== undefined && !matchesAny(view.resources, resource)) {
        return new Denial(
          'POLICY_DENIED',
          `${where}: resource '${resource}' matches none of the policy's resource patterns`,
          'resource',
        );
      }
    }
    if (view.constraints !== undefined) {
      if (view.constraints.popRequired === true && !hasProof) {
        return new Denial(
          'PROOF_REQUIRED',
          `policy ${version} of tenant '${chain.tenant}' says 'pop: required' for agent '${agent}': send a per-request proof`,
          'proof',
        );
      }
      const verdict = applyConstraints(view.constraints, request, derivedAction);
      if (verdict instanceof Denial) return new Denial(verdict.reason, `${where}: ${verdict.message}`, verdict.field);
      if (verdict) approvalRequired = true;
    }
  }
  return { version, approvalRequired };
}
