/** A short, deterministic, human-readable summary of what a new policy version changes. */
import { constraintsToWire } from '../constraints';
import type { Policy, PolicyAgent } from './types';

const MAX_LIST = 20;
const MAX_SUMMARY = 4000;

function list(values: readonly string[]): string {
  const shown = values.slice(0, MAX_LIST).join(', ');
  return values.length > MAX_LIST ? `${shown}, ... (${values.length - MAX_LIST} more)` : shown;
}

function added(before: readonly string[], after: readonly string[]): string[] {
  const b = new Set(before);
  return after.filter((x) => !b.has(x));
}

function sameJson(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function agentChanges(before: PolicyAgent, after: PolicyAgent): string[] {
  const parts: string[] = [];
  const scopesAdded = added(before.scopes, after.scopes);
  const scopesRemoved = added(after.scopes, before.scopes);
  if (scopesAdded.length > 0) parts.push(`scopes added: ${list(scopesAdded)}`);
  if (scopesRemoved.length > 0) parts.push(`scopes removed: ${list(scopesRemoved)}`);
  const resAdded = added(before.resources, after.resources);
  const resRemoved = added(after.resources, before.resources);
  if (resAdded.length > 0) parts.push(`resources added: ${list(resAdded)}`);
  if (resRemoved.length > 0) parts.push(`resources removed: ${list(resRemoved)}`);
  const cb = constraintsToWire(before.constraints);
  const ca = constraintsToWire(after.constraints);
  if (!sameJson(cb, ca)) parts.push(`constraints ${JSON.stringify(cb)} -> ${JSON.stringify(ca)}`);
  if (before.maxTtlSeconds !== after.maxTtlSeconds) {
    parts.push(`max_ttl ${before.maxTtlSeconds ?? 'none'} -> ${after.maxTtlSeconds ?? 'none'}`);
  }
  if (!sameJson(before.roles, after.roles))
    parts.push(`roles [${before.roles.join(', ')}] -> [${after.roles.join(', ')}]`);
  return parts;
}

/**
 * Summarizes the change from `before` (undefined for a tenant's first policy) to `after`: version,
 * agents added/removed/changed (with scopes, resources, constraints, max_ttl and roles), and changes
 * to roles, deny rules and the organization/tenant. For the policy-changed audit event; capped at
 * 4000 characters.
 */
export function summarizePolicyDiff(before: Policy | undefined, after: Policy): string {
  if (before === undefined) {
    const agents = [...after.agents.keys()].sort();
    return cap(
      `first policy (version ${after.version}): ${agents.length} agent(s)${agents.length > 0 ? `: ${list(agents)}` : ''}`,
    );
  }
  const lines: string[] = [];
  if (before.version !== after.version) lines.push(`version ${before.version} -> ${after.version}`);
  if (before.organization !== after.organization)
    lines.push(`organization ${JSON.stringify(before.organization)} -> ${JSON.stringify(after.organization)}`);
  if (before.tenant !== after.tenant) lines.push(`tenant ${before.tenant ?? 'unset'} -> ${after.tenant ?? 'unset'}`);
  if (!sameJson(before.readOnlyActions, after.readOnlyActions)) {
    // Changes which actions need approval in the whole tenant: worth a line of its own.
    const show = (a: readonly string[] | undefined) => (a === undefined ? 'default' : `[${list(a)}]`);
    lines.push(`read_only_actions ${show(before.readOnlyActions)} -> ${show(after.readOnlyActions)}`);
  }
  const beforeIds = [...before.agents.keys()].sort();
  const afterIds = [...after.agents.keys()].sort();
  const agentsAdded = added(beforeIds, afterIds);
  const agentsRemoved = added(afterIds, beforeIds);
  if (agentsAdded.length > 0) lines.push(`agents added: ${list(agentsAdded)}`);
  if (agentsRemoved.length > 0) lines.push(`agents removed: ${list(agentsRemoved)}`);
  for (const id of afterIds) {
    const b = before.agents.get(id);
    const a = after.agents.get(id);
    if (b === undefined || a === undefined) continue;
    const changes = agentChanges(b, a);
    if (changes.length > 0) lines.push(`agent ${id}: ${changes.join('; ')}`);
  }
  const rolesAdded = added([...before.roles.keys()].sort(), [...after.roles.keys()].sort());
  const rolesRemoved = added([...after.roles.keys()].sort(), [...before.roles.keys()].sort());
  if (rolesAdded.length > 0) lines.push(`roles added: ${list(rolesAdded)}`);
  if (rolesRemoved.length > 0) lines.push(`roles removed: ${list(rolesRemoved)}`);
  for (const [name, role] of [...after.roles].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const old = before.roles.get(name);
    if (old === undefined) continue;
    const plus = added(old.scopes, role.scopes);
    const minus = added(role.scopes, old.scopes);
    const parts = [
      ...(plus.length > 0 ? [`scopes added: ${list(plus)}`] : []),
      ...(minus.length > 0 ? [`scopes removed: ${list(minus)}`] : []),
    ];
    if (parts.length > 0) lines.push(`role ${name}: ${parts.join('; ')}`);
  }
  const strip = (p: Policy) => p.denyRules.map(({ index: _index, ...rest }) => rest);
  if (!sameJson(strip(before), strip(after))) {
    lines.push(`deny rules changed (${before.denyRules.length} -> ${after.denyRules.length})`);
  }
  if (
    !sameJson([...before.dataClassifications.values()], [...after.dataClassifications.values()]) ||
    !sameJson(before.complianceFrameworks, after.complianceFrameworks)
  ) {
    lines.push('data classifications or compliance frameworks changed');
  }
  return cap(lines.length === 0 ? 'no changes' : lines.join('\n'));
}

function cap(s: string): string {
  return s.length > MAX_SUMMARY ? `${s.slice(0, MAX_SUMMARY - 15)}\n... (truncated)` : s;
}
