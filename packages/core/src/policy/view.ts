/**
 * What the issuer and enforcer ask of a loaded policy: an agent's bounds (AgentPolicyView), whether an
 * explicit deny rule refuses a request, and whether a mint request stays within the bounds.
 */
import { constraintsToWire, findLoosenedConstraint, type Constraints } from '../constraints';
import type { Reason } from '../errors';
import { MAX_GLOB_INPUT_LENGTH, findUncoveredPattern, globMatch } from '../glob';
import { findUncoveredScope, scopeMatches } from '../scope';
import { ANY_AGENT } from './keys';
import type { Policy, PolicyDenyRule } from './types';

/**
 * One agent's bounds under a policy (what the enforcer applies at check time). Structurally it is
 * also a check-engine `PolicyEntry` (scopes, resources, constraints, deniedResources), so a policy
 * lookup can answer `{ version: view.version, entry: view }`.
 */
export interface AgentPolicyView {
  scopes: readonly string[];
  resources: readonly string[];
  constraints: Constraints;
  /** Same as constraints.deniedResources. */
  deniedResources: readonly string[];
  maxTtlSeconds?: number;
  /** The policy document's `version`. */
  version: string;
}

/** The agent's bounds, or undefined when the policy does not name the agent (deny it). */
export function policyViewFor(policy: Policy, agentId: string): AgentPolicyView | undefined {
  const agent = policy.agents.get(agentId);
  if (agent === undefined) return undefined;
  const view: AgentPolicyView = {
    scopes: agent.scopes,
    resources: agent.resources,
    constraints: agent.constraints,
    // The very list of the constraints (same content as agent.deniedResources), so the check
    // engine sees at once that it need not merge the two.
    deniedResources: agent.constraints.deniedResources,
    version: policy.version,
  };
  if (agent.maxTtlSeconds !== undefined) view.maxTtlSeconds = agent.maxTtlSeconds;
  return view;
}

export interface PolicyDenial {
  reason: Reason;
  message: string;
}

function ruleAppliesToAgent(rule: PolicyDenyRule, agentId: string): boolean {
  return rule.agents.includes(ANY_AGENT) || rule.agents.includes(agentId);
}

function ruleLabel(rule: PolicyDenyRule): string {
  return `deny rule ${rule.index}${rule.description ? ` (${rule.description})` : ''}`;
}

/**
 * The first explicit `deny` rule that refuses this request, or undefined. A rule matches when it
 * names the agent (or `*`), some of its `scopes` matches `scope` the way a granted scope would
 * (`vault:*:write` matches `vault:finance:write`), and some of its `resources` globs matches
 * `resource`. A missing condition matches everything. Fail closed: a rule with `resources` also
 * matches a request that names no resource, or one too long to match against a glob.
 *
 * An agent the policy does not name is denied too (POLICY_DENIED), since it has no bounds.
 */
export function policyDenies(
  policy: Policy,
  agentId: string,
  scope: string,
  resource?: string,
): PolicyDenial | undefined {
  if (!policy.agents.has(agentId)) {
    return {
      reason: 'POLICY_DENIED',
      message: `agent '${agentId}' is not in policy version ${policy.version} of ${policy.organization}`,
    };
  }
  for (const rule of policy.denyRules) {
    if (!ruleAppliesToAgent(rule, agentId)) continue;
    if (rule.scopes !== undefined && !rule.scopes.some((s) => scopeMatches(s, scope))) continue;
    if (rule.resources !== undefined) {
      const unknowable = resource === undefined || resource === '' || resource.length > MAX_GLOB_INPUT_LENGTH;
      if (!unknowable && !rule.resources.some((p) => globMatch(p, resource))) continue;
      if (unknowable) {
        return {
          reason: 'POLICY_DENIED',
          message: `${ruleLabel(rule)} restricts resources, and the request ${resource === undefined || resource === '' ? 'names none' : 'names one too long to check'}`,
        };
      }
    }
    const what = [`scope '${scope}'`, ...(resource !== undefined && resource !== '' ? [`resource '${resource}'`] : [])];
    return {
      reason: 'POLICY_DENIED',
      message: `${ruleLabel(rule)} denies agent '${agentId}' ${what.join(' on ')} (policy version ${policy.version})`,
    };
  }
  return undefined;
}

export interface MintRequestBounds {
  scopes: readonly string[];
  resources: readonly string[];
  constraints: Constraints;
  ttlSeconds: number;
}

export interface PolicyExcess {
  /** The request field at fault, e.g. `scopes[1]`, `resources[0]`, `constraints.require_purpose`, `ttl_seconds`, `agent`. */
  field: string;
  message: string;
}

/**
 * Does a mint request stay within the agent's policy? Returns the first excess (the issuer answers
 * POLICY_DENIED with it), checked in this order: agent named by the policy; every scope contained
 * by a policy scope and not wholly denied by a resource-independent deny rule; every resource
 * pattern contained by a policy resource pattern; constraints at least as tight as the policy's;
 * TTL within max_ttl.
 */
export function checkMintAgainstPolicy(
  policy: Policy,
  agentId: string,
  req: MintRequestBounds,
): PolicyExcess | undefined {
  const view = policyViewFor(policy, agentId);
  if (view === undefined) {
    return { field: 'agent', message: `agent '${agentId}' is not in policy version ${policy.version}` };
  }
  const scope = findUncoveredScope(view.scopes, req.scopes);
  if (scope !== undefined) {
    return {
      field: `scopes[${req.scopes.indexOf(scope)}]`,
      message: `scope '${scope}' is outside the policy for agent '${agentId}' (policy version ${policy.version} grants: ${view.scopes.join(', ')})`,
    };
  }
  for (const [i, s] of req.scopes.entries()) {
    const rule = policy.denyRules.find(
      (r) =>
        ruleAppliesToAgent(r, agentId) &&
        r.resources === undefined &&
        (r.scopes === undefined || r.scopes.some((d) => scopeMatches(d, s))),
    );
    if (rule !== undefined) {
      return { field: `scopes[${i}]`, message: `scope '${s}' is denied to agent '${agentId}' by ${ruleLabel(rule)}` };
    }
  }
  const resource = findUncoveredPattern(view.resources, req.resources);
  if (resource !== undefined) {
    return {
      field: `resources[${req.resources.indexOf(resource)}]`,
      message: `resource pattern '${resource}' is outside the policy for agent '${agentId}' (policy version ${policy.version} allows: ${view.resources.join(', ')})`,
    };
  }
  const loosened = findLoosenedConstraint(view.constraints, req.constraints);
  if (loosened !== undefined) {
    return {
      field: `constraints.${loosened}`,
      message: `constraint '${loosened}' is weaker than the policy for agent '${agentId}' requires (policy constraints: ${JSON.stringify(constraintsToWire(view.constraints))})`,
    };
  }
  if (!Number.isFinite(req.ttlSeconds)) {
    return { field: 'ttl_seconds', message: `ttl must be a number of seconds, got ${String(req.ttlSeconds)}` };
  }
  if (view.maxTtlSeconds !== undefined && req.ttlSeconds > view.maxTtlSeconds) {
    return {
      field: 'ttl_seconds',
      message: `ttl ${req.ttlSeconds}s exceeds max_ttl ${view.maxTtlSeconds}s for agent '${agentId}'`,
    };
  }
  return undefined;
}
