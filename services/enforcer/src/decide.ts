// The hot path: one CheckRequest → one decision, audited. Rules come from core's pure check
// engine (checkRequest); this module feeds it live state (keys, revocations, policy, memo, clock),
// adds what needs I/O (approvals through the issuer, the audit event), and fails closed on stale
// state and on an unaudited ALLOW.
import { randomUUID } from 'node:crypto';
import { status as grpcStatus } from '@grpc/grpc-js';
import {
  checkRequest,
  peekClaimedPath,
  tenantPolicyFrom,
  type ApprovalRequest,
  type CheckDeps,
  type CheckInput,
  type CheckResult,
  type CheckViolation,
  type LinkMemo,
  type PolicyLookup,
  type Reason,
  type ReplayGuard,
  type TenantPolicy,
} from '@authority/core';
import type { CheckRequest__Output, CheckResponse__Output, ConstraintViolation__Output } from '@authority/proto';
import type { Logger } from '@authority/platform';
import type { KeyDirectory, PolicyView, RevocationView } from '@authority/views';
import type { ApprovalConsumeResult, ApprovalsPort } from './adapters/issuer';
import {
  activeTrace,
  auditEntry,
  type AuditEntry,
  type AuditTrace,
  type AuditWriter,
  type CheckEventInput,
} from './audit';
import type { Caller } from './caller';
import type { FreshnessMonitor } from './freshness';

export type { Caller } from './caller';

export interface DecideSettings {
  skewSeconds: number;
  maxDepth: number;
  audience?: string;
  enforcerId: string;
  /** Freshness window of per-request proofs (seconds, plus the skew). */
  requestProofWindowSeconds: number;
}

export interface DecideDeps {
  keys: KeyDirectory;
  revocations: RevocationView;
  policies: PolicyView;
  memo: LinkMemo;
  /** Nonces of per-request proofs seen on this replica within their window. */
  replay: ReplayGuard;
  freshness: FreshnessMonitor;
  audit: AuditWriter;
  approvals?: ApprovalsPort;
  logger: Logger;
  /** Milliseconds since the epoch (injectable for tests). */
  clock: () => number;
  settings: DecideSettings;
}

/** Audit tenant of a decision nobody can attribute (operator caller, unreadable token). */
export const UNATTRIBUTED_TENANT = '_unattributed';

/** Longest approval id the engine accepts (core's check refuses longer ones before the gate). */
const MAX_APPROVAL_ID_LENGTH = 256;

/** A decision with its id and time, before it is audited and answered. */
interface Decided {
  decisionId: string;
  nowMs: number;
  outcome: Outcome;
}

/** What the rules decided. */
interface Outcome {
  result: CheckResult;
  /** Approval request created (APPROVAL_REQUIRED) or presented (ALLOW after approval). */
  approvalId: string;
  approvalRequestId: string;
}

export class Decider {
  /** Decisions by reason (cheap counters for metrics/tests). */
  readonly counts = new Map<string, number>();

  constructor(private readonly deps: DecideDeps) {}

  /** Decides, audits and answers one request. Never throws. */
  async check(caller: Caller, req: CheckRequest__Output): Promise<CheckResponse__Output> {
    const [response] = await this.checkMany(caller, [req]);
    return response!;
  }

  /**
   * Decides, audits and answers independent requests (a BatchCheck) in one pass: every decision
   * that needs no I/O is made synchronously (only approvals wait for the issuer), all audit events
   * are built together and go to Kafka in one publish, results come back in order. Never throws.
   */
  async checkMany(caller: Caller, reqs: readonly CheckRequest__Output[]): Promise<CheckResponse__Output[]> {
    const trace = activeTrace();
    const n = reqs.length;
    const decided = new Array<Decided>(n);
    let waits: Promise<void>[] | undefined;
    for (let k = 0; k < n; k++) {
      const d = this.decideSafely(caller, reqs[k]!);
      if (d instanceof Promise) (waits ??= []).push(d.then((v) => void (decided[k] = v)));
      else decided[k] = d;
    }
    if (waits !== undefined) await Promise.all(waits);
    const entries = new Array<AuditEntry>(n);
    const allow = new Array<boolean>(n);
    for (let k = 0; k < n; k++) {
      const d = decided[k]!;
      entries[k] = auditEntry(this.eventInput(caller, reqs[k]!, d, trace), trace);
      allow[k] = d.outcome.result.decision === 'ALLOW';
    }
    const recorded = await this.deps.audit.write(entries, allow);
    const responses = new Array<CheckResponse__Output>(n);
    for (let k = 0; k < n; k++) responses[k] = this.answer(decided[k]!, entries[k]!.input, recorded[k] === true);
    return responses;
  }

  /** One decision: synchronous unless it needs the issuer (approvals). Never throws or rejects. */
  private decideSafely(caller: Caller, req: CheckRequest__Output): Decided | Promise<Decided> {
    const decisionId = randomUUID();
    const nowMs = this.deps.clock();
    try {
      const outcome = this.decide(caller, req, nowMs);
      if (outcome instanceof Promise) {
        return outcome.then(
          (o) => ({ decisionId, nowMs, outcome: o }),
          (err: unknown) => this.failed(decisionId, nowMs, err),
        );
      }
      return { decisionId, nowMs, outcome };
    } catch (err) {
      return this.failed(decisionId, nowMs, err);
    }
  }

  private failed(decisionId: string, nowMs: number, err: unknown): Decided {
    // Unreachable by design (checkRequest never throws; adapters are caught); fail closed.
    this.deps.logger.error({ err, decision_id: decisionId }, 'unexpected error while deciding');
    return { decisionId, nowMs, outcome: denyOutcome('INVALID_REQUEST', 'internal error while checking; denied') };
  }

  private decide(caller: Caller, req: CheckRequest__Output, nowMs: number): Outcome | Promise<Outcome> {
    // Freshness is about real time (when Kafka last answered), not the decision clock.
    const stale = this.deps.freshness.staleReason();
    if (stale !== undefined) return denyOutcome('STALE_STATE', `enforcer state is stale, failing closed: ${stale}`);

    const input = toCheckInput(req, caller);
    const result = checkRequest(input, this.engineDeps(Math.floor(nowMs / 1000)));
    if (result.internalError)
      this.deps.logger.error({ message: result.message }, 'check engine reported an internal error');
    if (result.reason !== 'APPROVAL_REQUIRED' || result.approvalRequired === undefined) {
      return { result, approvalId: '', approvalRequestId: '' };
    }
    return this.approve(input, result, result.approvalRequired);
  }

  /**
   * The approval step (needs the issuer): create a request, or consume the presented approval.
   * Both name the whole request the engine reported (`needed`), so an approval is usable only for
   * the request the approver saw.
   */
  private async approve(input: CheckInput, first: CheckResult, needed: ApprovalRequest): Promise<Outcome> {
    let result = first;
    const approvals = this.deps.approvals;
    if (approvals === undefined) {
      result = { ...result, message: `${result.message}; approvals are not configured on this enforcer` };
      return { result, approvalId: '', approvalRequestId: '' };
    }
    const { requiredBy: _requiredBy, ...binding } = needed;
    const approvalId = input.approvalId;
    if (approvalId === undefined) {
      try {
        const id = await approvals.request(binding);
        return { result, approvalId: id, approvalRequestId: id };
      } catch (err) {
        this.deps.logger.warn({ err_message: (err as Error).message }, 'approval request could not be recorded');
        result = {
          ...result,
          message: `${result.message}; the approval request could not be recorded (${issuerFailure(err)})`,
        };
        return { result, approvalId: '', approvalRequestId: '' };
      }
    }

    let consumed: ApprovalConsumeResult | undefined;
    if (approvalId.length <= MAX_APPROVAL_ID_LENGTH) {
      try {
        consumed = await approvals.consume({ ...binding, approvalId });
      } catch (err) {
        this.deps.logger.warn({ err_message: (err as Error).message }, 'approval could not be consumed');
        result = {
          ...result,
          message: `${result.message}; approval '${approvalId}' could not be checked now (${issuerFailure(err)})`,
        };
        return { result, approvalId, approvalRequestId: approvalId };
      }
    }
    // Second pass through the engine with the issuer's answer as the (synchronous) approval gate,
    // so the rules and messages stay core's. State may have moved on meanwhile: the engine
    // re-checks everything against the current views (the memo keeps this cheap).
    const outcomeOfIssuer = consumed;
    const second = checkRequest(input, {
      ...this.engineDeps(Math.floor(this.deps.clock() / 1000)),
      // The first pass claimed the proof's nonce; this pass re-verifies it without claiming again.
      replay: ALREADY_CLAIMED,
      approvals: {
        consume: () =>
          outcomeOfIssuer?.consumed === true
            ? { approved: true }
            : { approved: false, message: outcomeOfIssuer?.message || 'not approved' },
      },
    });
    result = second;
    if (result.reason === 'APPROVAL_INVALID' && outcomeOfIssuer?.reason === 'APPROVAL_REQUIRED') {
      // The issuer says the request is still pending: ask again with the same id.
      result = {
        ...result,
        reason: 'APPROVAL_REQUIRED',
        message: outcomeOfIssuer.message || `approval '${approvalId}' is still pending`,
      };
      return { result, approvalId, approvalRequestId: approvalId };
    }
    return { result, approvalId, approvalRequestId: '' };
  }

  /**
   * The engine's dependencies at `nowSec` (shared by the decisions of the same second: the engine
   * only reads them).
   */
  engineDeps(nowSec: number): CheckDeps {
    const cached = this.depsCache;
    if (cached !== undefined && cached.nowSec === nowSec) return cached.deps;
    const { keys, memo, settings } = this.deps;
    const deps: CheckDeps = {
      // core asks with the ROOT's tenant for every link, so a child cannot pull in another tenant's state.
      resolveKey: (tenant, kid) => keys.resolveKey(tenant, kid, nowSec),
      now: nowSec,
      isRevoked: this.isRevoked,
      skewSeconds: settings.skewSeconds,
      maxDepth: settings.maxDepth,
      memo,
      policy: this.policyLookup,
      replay: this.deps.replay,
      requestProofWindowSeconds: settings.requestProofWindowSeconds,
    };
    if (settings.audience !== undefined) deps.audience = settings.audience;
    this.depsCache = { nowSec, deps };
    return deps;
  }

  private depsCache: { nowSec: number; deps: CheckDeps } | undefined;

  private readonly isRevoked: CheckDeps['isRevoked'] = (jti, agent, issuedAt, tenant) =>
    this.deps.revocations.isRevoked(tenant, jti, agent, issuedAt);

  /**
   * The tenant's current policy for the engine (core's tenantPolicyFrom: agent bounds and explicit
   * deny rules), reporting the policy service's version number as the policy version. Adapted
   * once per tenant and version.
   */
  private readonly adapted = new Map<string, { version: number; policy: TenantPolicy }>();
  private readonly policyLookup: PolicyLookup = (tenant) => {
    const current = this.deps.policies.get(tenant);
    if (current === undefined) return undefined;
    const cached = this.adapted.get(tenant);
    if (cached !== undefined && cached.version === current.version) return cached.policy;
    const policy: TenantPolicy = { ...tenantPolicyFrom(current.policy), version: String(current.version) };
    this.adapted.set(tenant, { version: current.version, policy });
    return policy;
  };

  /** What the decision's audit event says. */
  private eventInput(caller: Caller, req: CheckRequest__Output, d: Decided, trace: AuditTrace): CheckEventInput {
    const { result } = d.outcome;
    return {
      decisionId: d.decisionId,
      tenant: this.auditTenant(caller, req, result),
      timeMs: d.nowMs,
      caller,
      request: boundedRequest(req),
      result:
        result.message.length > MAX_AUDIT_MESSAGE
          ? { ...result, message: truncate(result.message, MAX_AUDIT_MESSAGE) }
          : result,
      policyVersion: result.policyVersion ?? this.currentPolicyVersion(result.tenant ?? caller.tenant),
      approvalId: d.outcome.approvalId,
      enforcerId: this.deps.settings.enforcerId,
      traceId: trace.traceId,
      spanId: trace.spanId,
    };
  }

  /** The answer; an ALLOW whose event was not recorded as the audit mode demands becomes a DENY. */
  private answer(d: Decided, event: CheckEventInput, recorded: boolean): CheckResponse__Output {
    let { result } = d.outcome;
    if (!recorded) {
      if (result.decision === 'ALLOW') {
        result = {
          decision: 'DENY',
          reason: 'AUDIT_UNAVAILABLE',
          message: 'the decision could not be written to the audit stream, so it is not an ALLOW; retry',
          ...(result.agent !== undefined ? { agent: result.agent } : {}),
          ...(result.agentChain !== undefined ? { agentChain: result.agentChain } : {}),
          ...(result.tenant !== undefined ? { tenant: result.tenant } : {}),
        };
      } else {
        this.deps.logger.warn(
          { decision_id: d.decisionId, reason: result.reason },
          'deny decision could not be audited',
        );
      }
    }
    this.counts.set(result.reason, (this.counts.get(result.reason) ?? 0) + 1);
    return {
      decision: result.decision,
      reason: result.reason,
      message: result.message,
      decisionId: d.decisionId,
      approvalRequestId: result.reason === 'APPROVAL_REQUIRED' ? d.outcome.approvalRequestId : '',
      agentId: result.agent ?? '',
      // A tenant only CLAIMED by an unverified token is not reported as the token's tenant.
      tenant: result.chainUnverified === true ? '' : (result.tenant ?? ''),
      policyVersion: event.policyVersion ?? '',
      field: result.field ?? '',
      // Shared, never mutated: the serializer only reads it.
      agentChain: (result.agentChain ?? NO_AGENTS) as string[],
      chainUnverified: result.chainUnverified === true,
      // The engine's violations have exactly the proto message's fields.
      violations: (result.violations ?? NO_VIOLATIONS) as ConstraintViolation__Output[],
    };
  }

  private currentPolicyVersion(tenant: string | undefined): string | undefined {
    if (tenant === undefined) return undefined;
    const current = this.deps.policies.get(tenant);
    return current === undefined ? undefined : String(current.version);
  }

  /**
   * Which tenant's chain records the decision: always the caller's own tenant for a tenant
   * credential (a tenant never writes into another's chain, even when it presents a foreign
   * token); for the operator, the verified token's tenant, else the root link's claimed tenant
   * when that tenant exists, else UNATTRIBUTED_TENANT.
   */
  private auditTenant(caller: Caller, req: CheckRequest__Output, result: CheckResult): string {
    if (caller.tenant !== undefined) return caller.tenant;
    if (result.tenant !== undefined && result.chainUnverified !== true) return result.tenant;
    const claimed = result.chainUnverified === true ? result.tenant : peekClaimedPath(req.token)?.tenant;
    if (claimed !== undefined && this.deps.keys.hasTenant(claimed)) return claimed;
    return UNATTRIBUTED_TENANT;
  }
}

/**
 * Bounds on request text copied into an audit event. Fields are checked by the engine, but a
 * denied request still gets its event, and one oversized record would fail the whole produce
 * request it shares with other decisions (Kafka's message size limit): so copies are truncated.
 */
const MAX_AUDIT_FIELD = 4096;
const MAX_AUDIT_MESSAGE = 8192;

function truncate(s: string, max: number): string {
  return s.length <= max ? s : `${s.slice(0, max)}…[${s.length - max} more characters]`;
}

function boundedRequest(req: CheckRequest__Output): CheckRequest__Output {
  const purpose = req.context?.purpose ?? '';
  if (
    req.resource.length <= MAX_AUDIT_FIELD &&
    req.requiredScope.length <= MAX_AUDIT_FIELD &&
    purpose.length <= MAX_AUDIT_FIELD
  )
    return req;
  return {
    ...req,
    resource: truncate(req.resource, MAX_AUDIT_FIELD),
    requiredScope: truncate(req.requiredScope, MAX_AUDIT_FIELD),
    context: req.context ? { ...req.context, purpose: truncate(purpose, MAX_AUDIT_FIELD) } : null,
  };
}

const NO_AGENTS: readonly string[] = Object.freeze([]);
const NO_VIOLATIONS: readonly CheckViolation[] = Object.freeze([]);

/**
 * Why an approval call failed, for the caller: a request the issuer refuses as malformed (a field
 * it cannot record, e.g. an over-long purpose) is not worth retrying; anything else may be.
 */
function issuerFailure(err: unknown): string {
  const e = err as { code?: unknown; details?: unknown };
  if (e.code === grpcStatus.INVALID_ARGUMENT && typeof e.details === 'string')
    return `the issuer refused it: ${e.details}`;
  return 'issuer unavailable, retry';
}

/** The approval pass's guard: the nonce was claimed by the first pass of the same decision. */
const ALREADY_CLAIMED: ReplayGuard = { claim: () => 'fresh' };

function denyOutcome(reason: Reason, message: string): Outcome {
  return { result: { decision: 'DENY', reason, message }, approvalId: '', approvalRequestId: '' };
}

/** proto3 (empty string = absent) → the engine's input; the caller's tenant binds the token. */
export function toCheckInput(req: CheckRequest__Output, caller: Caller): CheckInput {
  const input: CheckInput = { token: req.token, requiredScope: req.requiredScope };
  if (req.resource !== '') input.resource = req.resource;
  if (req.action !== '') input.action = req.action;
  if (req.approvalId !== '') input.approvalId = req.approvalId;
  if (req.proof !== '') input.proof = req.proof;
  if (caller.tenant !== undefined) input.tenant = caller.tenant;
  const ctx = req.context;
  if (ctx) {
    const context: NonNullable<CheckInput['context']> = {};
    if (ctx.purpose !== '') context.purpose = ctx.purpose;
    if (ctx.recordCount !== undefined && ctx.recordCount !== null) context.recordCount = ctx.recordCount;
    if (ctx.fields && Object.keys(ctx.fields).length > 0) context.fields = ctx.fields;
    input.context = context;
  }
  return input;
}
