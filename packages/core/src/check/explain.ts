/**
 * `explain`: what a tenant's policy says about one request, rule by rule, in the order the check
 * engine (check.ts) applies them — possession (`pop`), the constraints of every agent's entry,
 * then for every agent the policy names its deny rules, scopes and resource patterns, then
 * approval. Every rule gets a verdict; the one the enforcer would report is marked deciding.
 *
 * It sees no token, so what only the envelope decides (signatures, expiry, revocation, the
 * envelope's own scopes, resources and constraints) is not evaluated: an ALLOW here means "the
 * policy does not refuse it", and the enforcer may still refuse for the envelope. It uses the
 * engine's own pieces (evaluateConstraints, the policy seam, scope and glob matching) and the
 * engine's precedence, so a DENY here is the DENY the enforcer gives (check.test.ts cross-checks
 * them on the same requests).
 */
import { DEFAULT_READ_ONLY_ACTIONS, actionNeedsApproval, evaluateConstraints, violationRank } from '../constraints';
import type { Reason } from '../errors';
import { globMatch } from '../glob';
import { findMatchingScope } from '../scope';
import { policyEntryConstraints } from './check';
import type { TenantPolicy } from './types';

export interface ExplainRequest {
  /** The agents of the presenting chain, root first (a root envelope: just the agent). */
  agents: readonly string[];
  requiredScope: string;
  resource?: string;
  /** Default: the last segment of requiredScope. */
  action?: string;
  purpose?: string;
  recordCount?: number;
  /** Whether the call carries a per-request proof (for `pop: required`). */
  proof?: boolean;
  /** Whether the call presents an approval (the enforcer then consumes it; explain cannot). */
  approval?: boolean;
}

/**
 * pass: the rule allows the request; fail: it refuses it; approval: it allows it only with a
 * human approval; skipped: it does not apply (an agent the policy does not name).
 */
export type RuleVerdict = 'pass' | 'fail' | 'approval' | 'skipped';

export interface ExplainedRule {
  /** What the rule is, e.g. `constraints.require_purpose`, `scopes`, `deny[0]`. */
  rule: string;
  /** The agent whose policy entry it belongs to (absent for tenant-wide rules). */
  agent?: string;
  verdict: RuleVerdict;
  /** Why, in words. */
  detail: string;
  /** The reason code the rule gives when it refuses (fail or approval). */
  reason?: Reason;
  /** The rule the enforcer reports. */
  deciding: boolean;
  /** False for rules after the deciding one: the engine stops there (their verdict is still shown). */
  reached: boolean;
}

export interface PolicyExplanation {
  decision: 'ALLOW' | 'DENY';
  reason: Reason;
  message: string;
  policyVersion: string;
  rules: ExplainedRule[];
}

type Draft = Omit<ExplainedRule, 'deciding' | 'reached'>;

/** Explains the policy's decision on one request; see the module comment. Never throws. */
export function explainPolicy(policy: TenantPolicy, req: ExplainRequest): PolicyExplanation {
  const rules: Draft[] = [];
  const version = policy.version;
  const agents = [...new Set(req.agents)];
  const entries = agents.map((a) => policy.agent(a));
  let deciding = -1;
  const decide = (i: number) => {
    if (deciding < 0) deciding = i;
  };

  // Possession: tenant-wide, then every agent's entry.
  if (policy.popRequired === true) {
    const i = pushRule(rules, popRule(undefined, req.proof === true));
    if (req.proof !== true) decide(i);
  }
  entries.forEach((entry, k) => {
    if (entry?.constraints?.popRequired === true) {
      const i = pushRule(rules, popRule(agents[k], req.proof === true));
      if (req.proof !== true) decide(i);
    }
  });

  // Constraints of every entry: all violations are collected, the highest-ranked one decides.
  const derivedAction = req.requiredScope.slice(req.requiredScope.lastIndexOf(':') + 1);
  const action = req.action ?? derivedAction;
  const readOnly = policy.readOnlyActions ?? DEFAULT_READ_ONLY_ACTIONS;
  const violating: { index: number; rank: number }[] = [];
  let approvalRule = -1;
  entries.forEach((entry, i) => {
    const c = entry === undefined ? undefined : policyEntryConstraints(entry);
    if (c === undefined) return;
    const agent = agents[i] as string;
    const outcome = evaluateConstraints(
      c,
      { action, resource: req.resource, purpose: req.purpose, recordCount: req.recordCount },
      readOnly,
    );
    const named: [string, boolean][] = [
      ['require_purpose', c.requirePurpose],
      ['max_records_per_request', c.maxRecordsPerRequest !== undefined],
      ['denied_resources', c.deniedResources.length > 0],
    ];
    for (const [name, set] of named) {
      if (!set) continue;
      const v = outcome.violations.find((x) => x.constraint === name);
      const index = rules.length;
      if (v !== undefined) {
        rules.push({ rule: `constraints.${name}`, agent, verdict: 'fail', detail: v.message, reason: v.reason });
        violating.push({ index, rank: violationRank(v.reason) });
      } else {
        rules.push({ rule: `constraints.${name}`, agent, verdict: 'pass', detail: constraintPass(name, c, req) });
      }
    }
    if (c.writeRequiresApproval) {
      const needs =
        outcome.violations.length === 0 &&
        (outcome.approvalRequired || actionNeedsApproval(c, derivedAction, readOnly));
      if (needs && approvalRule < 0) approvalRule = rules.length;
      rules.push({
        rule: 'constraints.write_requires_approval',
        agent,
        verdict: needs ? 'approval' : 'pass',
        detail: needs
          ? `action '${action}' is not read-only: it needs a human approval`
          : outcome.violations.length > 0
            ? 'not judged: another constraint of this entry is violated'
            : `action '${action}' is read-only`,
        ...(needs ? { reason: 'APPROVAL_REQUIRED' as Reason } : {}),
      });
    }
  });
  // Stable: ties keep collection order (root first), as the engine's sort does.
  const first = [...violating].sort((a, b) => a.rank - b.rank)[0];
  if (first !== undefined) decide(first.index);

  // The policy's own rules, agent by agent.
  entries.forEach((entry, i) => {
    const agent = agents[i] as string;
    const where = `policy ${version}, agent '${agent}'`;
    if (entry === undefined) {
      if (i === 0) {
        decide(
          rules.push({
            rule: 'agents',
            agent,
            verdict: 'fail',
            reason: 'POLICY_DENIED',
            detail: `the policy does not name agent '${agent}'`,
          }) - 1,
        );
      } else {
        rules.push({
          rule: 'agents',
          agent,
          verdict: 'skipped',
          detail: `the policy does not name sub-agent '${agent}': it is bounded by its root's entry`,
        });
      }
      return;
    }
    rules.push({ rule: 'agents', agent, verdict: 'pass', detail: `the policy names agent '${agent}'` });
    const denial = policy.deny?.(agent, req.requiredScope, req.resource);
    if (denial !== undefined) {
      decide(
        rules.push({
          rule: 'deny',
          agent,
          verdict: 'fail',
          reason: denial.reason,
          detail: `${where}: ${denial.message}`,
        }) - 1,
      );
    } else {
      rules.push({ rule: 'deny', agent, verdict: 'pass', detail: 'no deny rule matches' });
    }
    const scope = findMatchingScope(entry.scopes, req.requiredScope);
    if (scope === undefined) {
      decide(
        rules.push({
          rule: 'scopes',
          agent,
          verdict: 'fail',
          reason: 'POLICY_DENIED',
          detail: `scope '${req.requiredScope}' is not granted (granted: ${entry.scopes.join(', ') || 'none'})`,
        }) - 1,
      );
    } else {
      rules.push({ rule: 'scopes', agent, verdict: 'pass', detail: `'${req.requiredScope}' is granted by '${scope}'` });
    }
    if (entry.resources !== undefined) {
      if (req.resource === undefined) {
        rules.push({ rule: 'resources', agent, verdict: 'pass', detail: 'the request names no resource' });
      } else {
        const match = entry.resources.find((p) => globMatch(p, req.resource as string));
        if (match === undefined) {
          decide(
            rules.push({
              rule: 'resources',
              agent,
              verdict: 'fail',
              reason: 'POLICY_DENIED',
              detail: `resource '${req.resource}' matches none of ${entry.resources.join(', ')}`,
            }) - 1,
          );
        } else {
          rules.push({ rule: 'resources', agent, verdict: 'pass', detail: `'${req.resource}' matches '${match}'` });
        }
      }
    }
  });

  // Approval comes last: only a request nothing refused can need one.
  if (approvalRule >= 0 && req.approval !== true) decide(approvalRule);

  const out: ExplainedRule[] = rules.map((r, i) => ({
    ...r,
    deciding: i === deciding,
    reached: deciding < 0 || i <= deciding || isSameStageAsConstraint(rules, deciding, i),
  }));
  if (deciding < 0) {
    return {
      decision: 'ALLOW',
      reason: 'ALLOWED',
      message:
        approvalRule >= 0
          ? `policy ${version} allows it with the presented approval (the enforcer checks and consumes it)`
          : `policy ${version} allows it (the envelope's own checks are not part of this explanation)`,
      policyVersion: version,
      rules: out,
    };
  }
  const d = out[deciding] as ExplainedRule;
  return {
    decision: 'DENY',
    reason: d.reason as Reason,
    message: d.agent === undefined ? d.detail : `agent '${d.agent}', ${d.rule}: ${d.detail}`,
    policyVersion: version,
    rules: out,
  };
}

/** Appends a rule; returns its index. */
function pushRule(rules: Draft[], r: Draft): number {
  return rules.push(r) - 1;
}

function popRule(agent: string | undefined, proof: boolean): Draft {
  return {
    rule: 'pop',
    ...(agent !== undefined ? { agent } : {}),
    verdict: proof ? 'pass' : 'fail',
    detail: proof
      ? "'pop: required': the call carries a per-request proof"
      : "'pop: required': the call must carry a per-request proof",
    ...(proof ? {} : { reason: 'PROOF_REQUIRED' as Reason }),
  };
}

function constraintPass(
  name: string,
  c: { maxRecordsPerRequest?: number; deniedResources: readonly string[] },
  req: ExplainRequest,
): string {
  if (name === 'require_purpose') return `purpose '${req.purpose ?? ''}' is stated`;
  if (name === 'max_records_per_request') return `${req.recordCount ?? 0} record(s), at most ${c.maxRecordsPerRequest}`;
  return req.resource === undefined
    ? 'the request names no resource'
    : `'${req.resource}' matches none of ${c.deniedResources.join(', ')}`;
}

/** Constraints are judged together (every violation is collected): all of them are reached. */
function isSameStageAsConstraint(rules: readonly Draft[], deciding: number, i: number): boolean {
  const d = rules[deciding] as Draft;
  const r = rules[i] as Draft;
  return d.rule.startsWith('constraints.') && r.rule.startsWith('constraints.');
}
