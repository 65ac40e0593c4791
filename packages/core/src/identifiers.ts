/**
 * Contract rules for identifiers that cross services: one home, imported by the issuer, the policy
 * service, the enforcer, the auditor and the SDK, so no service accepts an id another one refuses.
 */

/**
 * A tenant id: 3–63 lowercase letters, digits and dashes, starting and ending with a letter or
 * digit (a DNS label). Never contains `/` or `~`, so `<tenant>/...` Kafka keys are unambiguous and
 * a tenant id is safe in logs, metric labels and database names.
 */
export const TENANT_ID_PATTERN = /^[a-z0-9][a-z0-9-]{1,61}[a-z0-9]$/;

/** True when `value` is a tenant id (TENANT_ID_PATTERN). */
export function isValidTenantId(value: unknown): value is string {
  return typeof value === 'string' && TENANT_ID_PATTERN.test(value);
}

/** Why `value` is not a tenant id (a message naming the rule), or undefined when it is one. */
export function tenantIdProblem(value: unknown): string | undefined {
  if (isValidTenantId(value)) return undefined;
  const shown = typeof value === 'string' ? JSON.stringify(value.slice(0, 80)) : typeof value;
  return `must be 3-63 lowercase letters, digits or dashes, starting and ending with a letter or digit, got ${shown}`;
}

/** Separator of an agent's name and the names of the sub-agents it delegates to. */
export const AGENT_LINEAGE_SEPARATOR = '/';

/**
 * The attribution rule of delegation: a child link may name its parent's agent itself, or an agent
 * under it (`<parent>/<name>`, at any depth). A child can therefore never be booked to an agent
 * outside its own lineage (another top-level agent, a sibling, an ancestor's other sub-agents).
 */
export function isInLineage(parentAgent: string, childAgent: string): boolean {
  return (
    childAgent === parentAgent ||
    (childAgent.length > parentAgent.length + 1 &&
      childAgent.startsWith(parentAgent) &&
      childAgent.charCodeAt(parentAgent.length) === 0x2f) /* '/' */
  );
}

/** Why `childAgent` may not be a child of `parentAgent` (isInLineage), or undefined when it may. */
export function lineageProblem(parentAgent: string, childAgent: string): string | undefined {
  return isInLineage(parentAgent, childAgent)
    ? undefined
    : `is '${childAgent}', outside its parent's lineage: a child is its parent '${parentAgent}' or an agent under it ('${parentAgent}/<name>')`;
}
