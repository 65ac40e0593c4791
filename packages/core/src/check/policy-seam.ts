/** Adapts the core policy engine's `Policy` to the check engine's TenantPolicy seam. */
import { policyDenies, policyViewFor, type Policy } from '../policy';
import type { TenantPolicy } from './types';

/**
 * A TenantPolicy over a parsed Policy. Deny rules are applied to agents the policy names; a
 * sub-agent it does not name is bounded through the root agent (so `*` deny rules still bite via
 * the root), but rules naming only that sub-agent are not consulted (policyDenies refuses unnamed
 * agents outright, which would make ad-hoc sub-agents unusable).
 */
export function tenantPolicyFrom(policy: Policy): TenantPolicy {
  return {
    version: policy.version,
    ...(policy.popRequired === true ? { popRequired: true } : {}),
    ...(policy.readOnlyActions !== undefined ? { readOnlyActions: new Set(policy.readOnlyActions) } : {}),
    agent: (agentId) => policyViewFor(policy, agentId),
    deny: (agentId, scope, resource) =>
      policy.agents.has(agentId) ? policyDenies(policy, agentId, scope, resource) : undefined,
  };
}
