/**
 * The shapes of the pure check engine: the request, its dependencies (keys, clock, revocations,
 * memo, and the seams for policy and approvals), and the decision.
 */
import type { ConstraintViolation, Constraints } from '../constraints';
import type { PolicyDenial } from '../policy';
import type { Reason } from '../errors';
import type { EnvelopeVerifyOptions } from '../envelope/verify';
import type { ReplayGuard } from '../envelope/request-proof';

export interface CheckContext {
  /** Why the agent acts (for `require_purpose`). Always allowed. */
  purpose?: string;
  /** How many records the call touches (for `max_records_per_request`). Always allowed. */
  recordCount?: number;
  /** Context fields the call carries; every key must be in the envelope's `ctx`. */
  fields?: Record<string, string>;
}

export interface CheckInput {
  token: string;
  /** The scope the tool call needs, e.g. `vault:finance:read`. */
  requiredScope: string;
  /** The resource the call touches, if any. */
  resource?: string;
  /**
   * The action (for `write_requires_approval`). Default: the last segment of requiredScope. A
   * declared action can only add approval requirements: both it and the derived one are evaluated.
   */
  action?: string;
  context?: CheckContext;
  /** The tenant the caller expects the token to belong to. */
  tenant?: string;
  /** An approval presented for this call (consumed only when approval is required). */
  approvalId?: string;
  /**
   * A per-request proof of possession (compact JWS signed by the leaf's holder key over this
   * request). With it the token need not be sealed; `pop: required` makes it mandatory.
   */
  proof?: string;
}

/**
 * One agent's bounds in a tenant's policy, as the check engine applies them (the policy engine's
 * AgentPolicyView satisfies it as it is).
 */
export interface PolicyEntry {
  scopes: readonly string[];
  /** When set, a resource the call names must match one of these patterns (else POLICY_DENIED). */
  resources?: readonly string[];
  constraints?: Constraints;
  /** Resources refused to this agent (DENIED_RESOURCE), on top of constraints.deniedResources. */
  deniedResources?: readonly string[];
}

/**
 * The policy seam: a tenant's current policy as the check engine consults it. `tenantPolicyFrom`
 * adapts the core policy engine's `Policy`; any other source can implement it directly.
 */
export interface TenantPolicy {
  /** Policy version, reported in the decision (for the audit event). */
  readonly version: string;
  /** The agent's bounds; undefined when the policy does not name the agent. */
  agent(agentId: string): PolicyEntry | undefined;
  /** An explicit deny rule that refuses this request for this agent, if any. */
  deny?(agentId: string, scope: string, resource: string | undefined): PolicyDenial | undefined;
  /** `pop: required` for the whole tenant: every check carries a per-request proof. */
  readonly popRequired?: boolean;
  /**
   * The tenant's read-only actions (policy `read_only_actions`): under `write_requires_approval`,
   * of the envelope or of the policy, every other action needs approval. Default:
   * DEFAULT_READ_ONLY_ACTIONS.
   */
  readonly readOnlyActions?: ReadonlySet<string>;
}

/**
 * The tenant's current policy, or undefined when the tenant has none (then the policy step is
 * skipped: the envelope alone decides).
 */
export type PolicyLookup = (tenant: string) => TenantPolicy | undefined;

/**
 * The exact request an approval is bound to: what the approver is shown, and what
 * approvalRequestDigest covers. An approval is usable only for a request equal in every field.
 */
export interface ApprovalBinding {
  tenant: string;
  /** The acting (leaf) agent. */
  agent: string;
  requiredScope: string;
  action: string;
  /** Absent: the call names no resource (a bound value: it never matches a call naming one). */
  resource?: string;
  /** Absent (or empty): no purpose. */
  purpose?: string;
  /** Absent: the call gave no record count. */
  recordCount?: number;
  /** Every context field of the call (absent or empty: none). */
  contextFields?: Readonly<Record<string, string>>;
  /** `jti` of every link of the presenting chain, root first. */
  chain: readonly string[];
  /** `sub` of every link, root first (parallel to `chain`). */
  agentChain: readonly string[];
}

/** What needs approving, reported with APPROVAL_REQUIRED and passed to the approval seam. */
export interface ApprovalRequest extends ApprovalBinding {
  /** Which constraint sets asked for approval: 'envelope' and/or 'policy'. */
  requiredBy: readonly ('envelope' | 'policy')[];
}

export interface ApprovalOutcome {
  approved: boolean;
  /** Why not (expired, denied, already used, for another request); shown in the decision. */
  message?: string;
}

/**
 * The approval seam: decides (and consumes, so it is single-use) a presented approval, for exactly
 * the request it was granted for (compare every field of the binding, e.g. by approvalRequestDigest).
 */
export interface ApprovalGate {
  consume(approvalId: string, request: ApprovalRequest): ApprovalOutcome;
}

export interface CheckDeps extends Omit<EnvelopeVerifyOptions, 'expectedTenant' | 'requireSeal'> {
  policy?: PolicyLookup;
  approvals?: ApprovalGate;
  /**
   * Nonces of per-request proofs seen within their window. Without it a request carrying a proof
   * is refused (a proof cannot be checked for replay).
   */
  replay?: ReplayGuard;
  /** Freshness window of a per-request proof's `iat` (default 60 s, plus the clock skew). */
  requestProofWindowSeconds?: number;
}

export type CheckDecision = 'ALLOW' | 'DENY';

export interface CheckResult {
  decision: CheckDecision;
  /** ALLOWED on ALLOW; otherwise the first failing rule's stable reason code. */
  reason: Reason;
  message: string;
  /** The request or token field at fault, when there is one. */
  field?: string;
  /**
   * `jti` of every link, root first: verified, or as claimed when `chainUnverified` (a denial
   * raised while verifying a token that could still be read).
   */
  chain?: readonly string[];
  /** `sub` of every link, root first (the delegation path), parallel to `chain`. */
  agentChain?: readonly string[];
  /** True when `chain`, `agentChain`, `agent` and `tenant` are claimed by an unverified token. */
  chainUnverified?: boolean;
  /** The leaf (acting) agent. */
  agent?: string;
  /** The agent the root was minted for. */
  rootAgent?: string;
  tenant?: string;
  /** Version of the tenant policy that was applied. */
  policyVersion?: string;
  /** Set with APPROVAL_REQUIRED (what to ask a human for), and on an ALLOW that used an approval. */
  approvalRequired?: ApprovalRequest;
  /** True when the denial came from an unexpected error (a bug or a failing dependency), not a rule. */
  internalError?: boolean;
  /**
   * Set on a denial for constraints: every violation, in precedence order (the first is the one
   * `reason` and `field` report). Absent on every other decision.
   */
  violations?: readonly CheckViolation[];
}

/** One violated constraint, with where it comes from (CheckResponse.violations). */
export interface CheckViolation extends ConstraintViolation {
  /** `envelope`, or `policy:<agent id>` for that agent's entry in the tenant's policy. */
  source: string;
}
