// Human approvals: requested by an enforcer (APPROVAL_REQUIRED), decided by an APPROVER, consumed
// exactly once by the retried check, on whichever enforcer replica it lands.
//
// Exactly-once without transactions: each transition that may happen only once is CLAIMED by
// inserting `<tenant>/<approvalId>/decide` or `.../consume` into approval_claims (a unique `_id`:
// the first insert wins, every concurrent one gets duplicate key 11000). FerretDB does not make
// `findOneAndUpdate({status:'APPROVED',...}, {$set:{status:'CONSUMED'}})` atomic (several
// concurrent callers see the match and "win"), so the claim, not the status field, decides. The
// approval document's status is updated after its claim and is a copy of what the claims say;
// reads derive the status from the claims.
//
// Life cycle: PENDING → APPROVED | REJECTED | EXPIRED_UNUSED (no decision within
// AUTHORITY_APPROVAL_TIMEOUT: auto-denied by the sweep) ; APPROVED → CONSUMED (used once) |
// EXPIRED_UNUSED (not used within AUTHORITY_APPROVAL_USE_WINDOW after approval).
//
// Bound to what the approver saw: an approval stores the whole request (agent, scope, action,
// resource or none, purpose, record count, every context field, the presenting chain) and core's
// approvalRequestDigest of it. Consuming recomputes both digests — of the stored fields and of the
// presented request — and uses the approval only when they are equal; a digest is never taken on
// trust from a caller. A refusal names the first field that differs, and leaves the approval unused.
// Size: the whole approval state machine (request, decide, consume, expire, list) in one file, so
// every transition's claim is reviewed next to the others.
import {
  approvalBindingDifference,
  approvalRequestDigest,
  AuthorityError,
  DEFAULT_ENVELOPE_LIMITS,
  MAX_CONTEXT_FIELDS_PER_REQUEST,
  MAX_GLOB_INPUT_LENGTH,
  randomId,
  sortedContextFields,
  type ApprovalBinding,
} from '@authority/core';
import { FailedPreconditionError, NotFoundError, InvalidArgumentError, type Logger } from '@authority/platform';
import {
  createMessage,
  pb,
  timestampFromDate,
  timestampToGrpc,
  type Approval,
  type ReasonCode__Output,
} from '@authority/proto';
import {
  isDuplicateKey,
  type ApprovalClaimDoc,
  type ApprovalDoc,
  type ApprovalStatusName,
  type IssuerStore,
} from './adapters/mongo';
import type { AuditTrail } from './audit';
import type { Clock } from './clock';
import * as v from './validate';
import type { ConsumeApprovalRequest__Output, RequestApprovalRequest__Output } from '@authority/proto';

export interface ApprovalsOptions {
  store: IssuerStore;
  audit: AuditTrail;
  clock: Clock;
  logger: Logger;
  /** Unanswered requests are auto-denied after this (ms). */
  timeoutMs: number;
  /** An approval may be used (once) this long after it was approved (ms). */
  useWindowMs: number;
}

export interface ConsumeOutcome {
  consumed: boolean;
  reason: ReasonCode__Output;
  message: string;
}

const STATUS: Record<ApprovalStatusName, pb.ApprovalStatus> = {
  PENDING: pb.ApprovalStatus.PENDING,
  APPROVED: pb.ApprovalStatus.APPROVED,
  REJECTED: pb.ApprovalStatus.REJECTED,
  CONSUMED: pb.ApprovalStatus.CONSUMED,
  EXPIRED_UNUSED: pb.ApprovalStatus.EXPIRED_UNUSED,
};

/** The state an approval is in according to its claims (authoritative). */
interface Effective {
  status: ApprovalStatusName;
  decide?: ApprovalClaimDoc;
  consume?: ApprovalClaimDoc;
}

const MAX_PAGE = 1000;
const DEFAULT_PAGE = 100;
/** Longest context field value an approval records (names follow the identifier rule). */
const MAX_CONTEXT_VALUE_LENGTH = 4096;

/** The request fields of a RequestApproval or ConsumeApproval call (proto3: empty is absent). */
type BindingFields = Pick<
  RequestApprovalRequest__Output,
  | 'tenant'
  | 'agentId'
  | 'requiredScope'
  | 'action'
  | 'resource'
  | 'purpose'
  | 'rootJti'
  | 'recordCount'
  | 'contextFields'
  | 'chain'
  | 'agentChain'
>;

/**
 * Validates the request an approval is (to be) bound to; INVALID_ARGUMENT naming the field
 * otherwise. The chain is required: without it an approval would be usable by any envelope of
 * the agent.
 */
function bindingOf(req: BindingFields): ApprovalBinding {
  const agent = v.identifier(req.agentId, 'agent_id');
  const binding: ApprovalBinding = {
    tenant: req.tenant,
    agent,
    requiredScope: v.scope(req.requiredScope, 'required_scope'),
    action: v.identifier(req.action, 'action'),
    chain: [],
    agentChain: [],
  };
  if (req.resource !== '') {
    if (req.resource.length > MAX_GLOB_INPUT_LENGTH)
      throw new InvalidArgumentError('resource', `resource: at most ${MAX_GLOB_INPUT_LENGTH} characters`);
    binding.resource = req.resource;
  }
  const purpose = v.optionalText(req.purpose, 'purpose', 1024);
  if (purpose !== '') binding.purpose = purpose;
  if (req.recordCount !== undefined && req.recordCount !== null) binding.recordCount = req.recordCount;
  const names = Object.keys(req.contextFields ?? {});
  if (names.length > MAX_CONTEXT_FIELDS_PER_REQUEST)
    throw new InvalidArgumentError(
      'context_fields',
      `context_fields: at most ${MAX_CONTEXT_FIELDS_PER_REQUEST} fields, got ${names.length}`,
    );
  if (names.length > 0) {
    const fields: Record<string, string> = {};
    for (const name of names) {
      v.identifier(name, 'context_fields');
      const value = req.contextFields[name] as string;
      if (value.length > MAX_CONTEXT_VALUE_LENGTH)
        throw new InvalidArgumentError(
          `context_fields.${name}`,
          `context_fields.${name}: at most ${MAX_CONTEXT_VALUE_LENGTH} characters`,
        );
      fields[name] = value;
    }
    binding.contextFields = fields;
  }
  const maxLinks = DEFAULT_ENVELOPE_LIMITS.maxLinks;
  if (req.chain.length === 0)
    throw new InvalidArgumentError(
      'chain',
      'chain: required: the jti of every link of the presenting envelope, root first (an approval without it would be usable by any envelope of the agent)',
    );
  if (req.chain.length > maxLinks)
    throw new InvalidArgumentError('chain', `chain: at most ${maxLinks} links, got ${req.chain.length}`);
  binding.chain = req.chain.map((jti, i) => v.jti(jti, `chain[${i}]`));
  if (req.agentChain.length !== req.chain.length)
    throw new InvalidArgumentError(
      'agent_chain',
      `agent_chain: must name the agent of every link of the chain (${req.chain.length}), got ${req.agentChain.length}`,
    );
  binding.agentChain = req.agentChain.map((a, i) => v.identifier(a, `agent_chain[${i}]`));
  if (binding.agentChain[binding.agentChain.length - 1] !== agent)
    throw new InvalidArgumentError('agent_chain', `agent_chain: its last agent must be agent_id '${agent}'`);
  if (req.rootJti !== '' && req.rootJti !== binding.chain[0])
    throw new InvalidArgumentError('root_jti', 'root_jti: must be chain[0] when set');
  try {
    approvalRequestDigest(binding);
  } catch (err) {
    if (err instanceof AuthorityError && err.field !== undefined)
      throw new InvalidArgumentError(err.field, err.message);
    throw err;
  }
  return binding;
}

/** The request a stored approval is bound to; undefined for approvals stored before binding. */
function storedBinding(doc: ApprovalDoc): ApprovalBinding | undefined {
  if (doc.requestDigest === undefined || doc.chain === undefined || doc.agentChain === undefined) return undefined;
  const binding: ApprovalBinding = {
    tenant: doc.tenant,
    agent: doc.agent,
    requiredScope: doc.scope,
    action: doc.action,
    chain: doc.chain,
    agentChain: doc.agentChain,
  };
  if (doc.resource !== '') binding.resource = doc.resource;
  if (doc.purpose !== '') binding.purpose = doc.purpose;
  if (doc.recordCount !== undefined && doc.recordCount !== null) binding.recordCount = doc.recordCount;
  if (doc.contextFields !== undefined && doc.contextFields.length > 0)
    binding.contextFields = Object.fromEntries(doc.contextFields.map((f) => [f.name, f.value]));
  return binding;
}

function describeRequest(b: ApprovalBinding): string {
  const parts = [`to ${b.action} ${b.resource ?? '(no resource)'}`];
  if (b.recordCount !== undefined) parts.push(`${b.recordCount} record(s)`);
  if (b.purpose !== undefined) parts.push(`purpose ${JSON.stringify(b.purpose.slice(0, 80))}`);
  return parts.join(', ');
}

function claimId(doc: Pick<ApprovalDoc, '_id'>, step: 'decide' | 'consume'): string {
  return `${doc._id}/${step}`;
}

export class Approvals {
  constructor(private readonly o: ApprovalsOptions) {}

  private async claimsOf(docs: readonly ApprovalDoc[]): Promise<Map<string, ApprovalClaimDoc>> {
    if (docs.length === 0) return new Map();
    const ids = docs.flatMap((d) => [claimId(d, 'decide'), claimId(d, 'consume')]);
    const claims = await this.o.store.approvalClaims.find({ _id: { $in: ids } }).toArray();
    return new Map(claims.map((c) => [c._id, c]));
  }

  private effective(doc: ApprovalDoc, claims: Map<string, ApprovalClaimDoc>): Effective {
    const decide = claims.get(claimId(doc, 'decide'));
    const consume = claims.get(claimId(doc, 'consume'));
    const status = consume?.outcome ?? decide?.outcome ?? 'PENDING';
    return { status, ...(decide ? { decide } : {}), ...(consume ? { consume } : {}) };
  }

  private useUntil(decide: ApprovalClaimDoc | undefined): Date | undefined {
    return decide?.outcome === 'APPROVED' ? new Date(decide.at.getTime() + this.o.useWindowMs) : undefined;
  }

  toMessage(doc: ApprovalDoc, eff: Effective): Approval {
    const useUntil = this.useUntil(eff.decide);
    const expiresAt = eff.status === 'PENDING' || !useUntil ? doc.decideBy : useUntil;
    return {
      approvalId: doc.approvalId,
      tenant: doc.tenant,
      agentId: doc.agent,
      requiredScope: doc.scope,
      action: doc.action,
      resource: doc.resource,
      purpose: doc.purpose,
      status: eff.status,
      createdAt: timestampToGrpc(doc.createdAt),
      expiresAt: timestampToGrpc(expiresAt),
      decidedBy: eff.decide?.by ?? '',
      rootJti: doc.rootJti,
      ...(doc.recordCount !== undefined && doc.recordCount !== null ? { recordCount: doc.recordCount } : {}),
      contextFields: Object.fromEntries((doc.contextFields ?? []).map((f) => [f.name, f.value])),
      chain: doc.chain ?? (doc.rootJti ? [doc.rootJti] : []),
      agentChain: doc.agentChain ?? [],
      requestDigest: doc.requestDigest ?? '',
    };
  }

  private async audit(
    doc: ApprovalDoc,
    action: 'approval.request' | 'approval.decide' | 'approval.consume',
    principal: string,
    status: ApprovalStatusName,
    expiresAt: Date,
    message: string,
    denied?: { reason: 'APPROVAL_INVALID' | 'APPROVAL_REQUIRED' },
    comment = '',
  ): Promise<void> {
    await this.o.audit.record({
      tenant: doc.tenant,
      action,
      principal,
      agentId: doc.agent,
      ...(doc.chain ? { jtiChain: doc.chain } : doc.rootJti ? { jtiChain: [doc.rootJti] } : {}),
      resource: doc.resource,
      ...(denied ? { decision: 'DENY' as const, reason: denied.reason } : {}),
      message,
      detail: {
        case: 'approval',
        value: createMessage(pb.ApprovalDetailSchema, {
          approvalId: doc.approvalId,
          status: STATUS[status],
          requiredScope: doc.scope,
          purpose: doc.purpose,
          expiresAt: timestampFromDate(expiresAt),
          requestDigest: doc.requestDigest ?? '',
          // The approver's words belong to the evidence: the compliance report lists them.
          comment,
        }),
      },
    });
  }

  async request(principal: string, req: RequestApprovalRequest__Output): Promise<Approval> {
    const tenant = req.tenant;
    const binding = bindingOf(req);
    const now = this.o.clock.now();
    const approvalId = `apr-${randomId(16)}`;
    const fields = sortedContextFields(binding.contextFields);
    const doc: ApprovalDoc = {
      _id: `${tenant}/${approvalId}`,
      tenant,
      approvalId,
      agent: binding.agent,
      scope: binding.requiredScope,
      action: binding.action,
      resource: binding.resource ?? '',
      purpose: binding.purpose ?? '',
      rootJti: binding.chain[0] as string,
      ...(binding.recordCount !== undefined ? { recordCount: binding.recordCount } : {}),
      contextFields: fields.map(([name, value]) => ({ name, value })),
      chain: [...binding.chain],
      agentChain: [...binding.agentChain],
      requestDigest: approvalRequestDigest(binding),
      status: 'PENDING',
      requestedBy: principal,
      createdAt: now,
      decideBy: new Date(now.getTime() + this.o.timeoutMs),
    };
    await this.o.store.approvals.insertOne(doc);
    await this.audit(
      doc,
      'approval.request',
      principal,
      'PENDING',
      doc.decideBy,
      `approval '${approvalId}' requested for agent '${binding.agent}' ${describeRequest(binding)}`,
    );
    return this.toMessage(doc, { status: 'PENDING' });
  }

  private async load(tenant: string, approvalIdIn: string): Promise<ApprovalDoc> {
    const approvalId = v.identifier(approvalIdIn, 'approval_id');
    const doc = await this.o.store.approvals.findOne({ _id: `${tenant}/${approvalId}` });
    if (!doc) throw new NotFoundError(`tenant '${tenant}' has no approval request '${approvalId}'`, 'approval_id');
    return doc;
  }

  async get(tenant: string, approvalId: string): Promise<Approval> {
    const doc = await this.load(tenant, approvalId);
    return this.toMessage(doc, this.effective(doc, await this.claimsOf([doc])));
  }

  /** Claims a transition; returns false when another caller claimed it first. */
  private async claim(
    doc: ApprovalDoc,
    step: 'decide' | 'consume',
    outcome: ApprovalStatusName,
    by: string,
    at: Date,
    comment?: string,
  ): Promise<boolean> {
    try {
      await this.o.store.approvalClaims.insertOne({
        _id: claimId(doc, step),
        tenant: doc.tenant,
        approvalId: doc.approvalId,
        step,
        outcome,
        by,
        at,
        ...(comment ? { comment } : {}),
      });
      return true;
    } catch (err) {
      if (isDuplicateKey(err)) return false;
      throw err;
    }
  }

  async decide(
    principal: string,
    tenant: string,
    approvalId: string,
    approve: boolean,
    commentIn: string,
  ): Promise<Approval> {
    const comment = v.optionalText(commentIn, 'comment', 1024);
    const doc = await this.load(tenant, approvalId);
    const now = this.o.clock.now();
    const before = this.effective(doc, await this.claimsOf([doc]));
    if (before.status !== 'PENDING') {
      throw new FailedPreconditionError(
        `approval '${doc.approvalId}' is already ${before.status}`,
        'APPROVAL_INVALID',
        'approval_id',
      );
    }
    if (now.getTime() >= doc.decideBy.getTime()) {
      await this.expirePending(doc, now);
      throw new FailedPreconditionError(
        `approval '${doc.approvalId}' was not decided before ${doc.decideBy.toISOString()} and is auto-denied`,
        'APPROVAL_INVALID',
        'approval_id',
      );
    }
    const outcome: ApprovalStatusName = approve ? 'APPROVED' : 'REJECTED';
    if (!(await this.claim(doc, 'decide', outcome, principal, now, comment))) {
      const after = this.effective(doc, await this.claimsOf([doc]));
      throw new FailedPreconditionError(
        `approval '${doc.approvalId}' is already ${after.status}`,
        'APPROVAL_INVALID',
        'approval_id',
      );
    }
    const useUntil = approve ? new Date(now.getTime() + this.o.useWindowMs) : undefined;
    await this.o.store.approvals.updateOne(
      { _id: doc._id },
      {
        $set: {
          status: outcome,
          decidedAt: now,
          decidedBy: principal,
          ...(comment ? { comment } : {}),
          ...(useUntil ? { useUntil } : {}),
        },
      },
    );
    const eff: Effective = {
      status: outcome,
      decide: {
        _id: claimId(doc, 'decide'),
        tenant,
        approvalId: doc.approvalId,
        step: 'decide',
        outcome,
        by: principal,
        at: now,
      },
    };
    await this.audit(
      doc,
      'approval.decide',
      principal,
      outcome,
      useUntil ?? now,
      approve
        ? `approval '${doc.approvalId}' approved by '${principal}'; usable once until ${useUntil?.toISOString()}`
        : `approval '${doc.approvalId}' rejected by '${principal}'`,
      undefined,
      comment ?? '',
    );
    return this.toMessage({ ...doc, status: outcome }, eff);
  }

  /**
   * Uses an approval once, for exactly the request it was requested for (every field: see the
   * module comment). Of any number of concurrent calls, exactly one gets consumed=true; a call for
   * another request is refused naming the first field that differs, and uses nothing up.
   */
  async consume(principal: string, req: ConsumeApprovalRequest__Output): Promise<ConsumeOutcome> {
    const tenant = req.tenant;
    const presented = bindingOf(req);
    const approvalId = v.identifier(req.approvalId, 'approval_id');
    const doc = await this.o.store.approvals.findOne({ _id: `${tenant}/${approvalId}` });
    if (!doc)
      return {
        consumed: false,
        reason: 'APPROVAL_INVALID',
        message: `tenant '${tenant}' has no approval request '${approvalId}'`,
      };

    const now = this.o.clock.now();
    const eff = this.effective(doc, await this.claimsOf([doc]));
    const invalid = async (message: string): Promise<ConsumeOutcome> => {
      await this.audit(doc, 'approval.consume', principal, eff.status, now, message, { reason: 'APPROVAL_INVALID' });
      return { consumed: false, reason: 'APPROVAL_INVALID', message };
    };
    // The request first: an approval for another request is refused whatever its state.
    const approved = storedBinding(doc);
    if (approved === undefined)
      return invalid(
        `approval '${approvalId}' was requested before approvals were bound to the whole request; request a new one`,
      );
    let digest: string | undefined;
    try {
      digest = approvalRequestDigest(approved);
    } catch {
      digest = undefined; // stored fields that cannot even be encoded: inconsistent
    }
    if (digest === undefined || digest !== doc.requestDigest) {
      this.o.logger.error(
        { tenant, approval_id: approvalId },
        'stored approval does not match its request digest; refusing it',
      );
      return invalid(`approval '${approvalId}' is inconsistent with its recorded request digest`);
    }
    const mismatch = approvalBindingDifference(approved, presented);
    if (mismatch !== undefined) return invalid(mismatch);
    // Equal fields give equal digests; checked anyway so the digest, not this comparison, decides.
    if (approvalRequestDigest(presented) !== digest)
      return invalid(`request_digest: approval '${approvalId}' was granted for another request`);
    if (eff.status === 'PENDING') {
      if (now.getTime() >= doc.decideBy.getTime())
        return invalid(`approval '${approvalId}' was not decided in time and is auto-denied`);
      return { consumed: false, reason: 'APPROVAL_REQUIRED', message: `approval '${approvalId}' is still pending` };
    }
    if (eff.status === 'CONSUMED') return invalid(`approval '${approvalId}' was already used`);
    if (eff.status !== 'APPROVED') return invalid(`approval '${approvalId}' is ${eff.status}`);
    const useUntil = this.useUntil(eff.decide) as Date;
    if (now.getTime() >= useUntil.getTime())
      return invalid(`approval '${approvalId}' expired unused at ${useUntil.toISOString()}`);

    if (!(await this.claim(doc, 'consume', 'CONSUMED', principal, now))) {
      const after = this.effective(doc, await this.claimsOf([doc]));
      const message =
        after.status === 'CONSUMED'
          ? `approval '${approvalId}' was already used`
          : `approval '${approvalId}' is ${after.status}`;
      await this.audit(doc, 'approval.consume', principal, after.status, now, message, { reason: 'APPROVAL_INVALID' });
      return { consumed: false, reason: 'APPROVAL_INVALID', message };
    }
    await this.o.store.approvals.updateOne({ _id: doc._id }, { $set: { status: 'CONSUMED', consumedAt: now } });
    await this.audit(
      doc,
      'approval.consume',
      principal,
      'CONSUMED',
      now,
      `approval '${approvalId}' used by agent '${presented.agent}' ${describeRequest(presented)}`,
    );
    return { consumed: true, reason: 'ALLOWED', message: `approval '${approvalId}' consumed` };
  }

  async list(
    tenant: string,
    statusIn: string,
    pageSizeIn: number,
    pageToken: string,
  ): Promise<{ approvals: Approval[]; next: string }> {
    const pageSize = pageSizeIn === 0 ? DEFAULT_PAGE : pageSizeIn;
    if (pageSize > MAX_PAGE) throw new InvalidArgumentError('page_size', `page_size: at most ${MAX_PAGE}`);
    const filter: Record<string, unknown> = { tenant };
    if (statusIn !== '' && statusIn !== 'APPROVAL_STATUS_UNSPECIFIED') filter['status'] = statusIn;
    if (pageToken !== '') {
      const m = /^(\d{1,15})\.([A-Za-z0-9_-]{1,64})$/.exec(Buffer.from(pageToken, 'base64url').toString('utf8'));
      if (!m) throw new InvalidArgumentError('page_token', 'page_token: not a token returned by ListApprovals');
      const at = new Date(Number(m[1]));
      filter['$or'] = [{ createdAt: { $lt: at } }, { createdAt: at, approvalId: { $lt: m[2] } }];
    }
    const docs = await this.o.store.approvals
      .find(filter)
      .sort({ createdAt: -1, approvalId: -1 })
      .limit(pageSize + 1)
      .toArray();
    const page = docs.slice(0, pageSize);
    const claims = await this.claimsOf(page);
    const approvals = page.map((d) => this.toMessage(d, this.effective(d, claims)));
    const last = page[page.length - 1];
    const next =
      docs.length > pageSize && last
        ? Buffer.from(`${last.createdAt.getTime()}.${last.approvalId}`).toString('base64url')
        : '';
    return { approvals, next };
  }

  private async expirePending(doc: ApprovalDoc, now: Date): Promise<void> {
    await this.expire(
      doc,
      'decide',
      'system:auto-deny',
      { decidedAt: now, decidedBy: 'system:auto-deny' },
      `approval '${doc.approvalId}' auto-denied: no decision before ${doc.decideBy.toISOString()}`,
      now,
    );
  }

  /**
   * Claims `step` of `doc` as EXPIRED_UNUSED for `by`, then brings the status copy (plus `set`) and
   * the audit trail in line; false when another caller claimed the step first.
   */
  private async expire(
    doc: ApprovalDoc,
    step: 'decide' | 'consume',
    by: string,
    set: Partial<ApprovalDoc>,
    message: string,
    now: Date,
  ): Promise<boolean> {
    if (!(await this.claim(doc, step, 'EXPIRED_UNUSED', by, now))) return false;
    await this.o.store.approvals.updateOne({ _id: doc._id }, { $set: { status: 'EXPIRED_UNUSED', ...set } });
    await this.audit(doc, 'approval.decide', 'system', 'EXPIRED_UNUSED', now, message);
    return true;
  }

  /**
   * Auto-denies requests not decided in time, expires approvals not used in their window, and
   * brings status copies in line with the claims (after a crash between claim and update).
   */
  async sweep(): Promise<{ autoDenied: number; expired: number }> {
    const now = this.o.clock.now();
    let autoDenied = 0;
    let expired = 0;
    const pending = await this.o.store.approvals.find({ status: 'PENDING' }).limit(1000).toArray();
    const approved = await this.o.store.approvals.find({ status: 'APPROVED' }).limit(1000).toArray();
    const claims = await this.claimsOf([...pending, ...approved]);
    for (const doc of [...pending, ...approved]) {
      const eff = this.effective(doc, claims);
      if (eff.status !== doc.status) {
        await this.o.store.approvals.updateOne({ _id: doc._id }, { $set: { status: eff.status } });
        if (eff.status !== 'APPROVED') continue;
      }
      if (eff.status === 'PENDING' && now.getTime() >= doc.decideBy.getTime()) {
        await this.expirePending(doc, now);
        autoDenied++;
      } else if (eff.status === 'APPROVED') {
        const useUntil = this.useUntil(eff.decide) as Date;
        if (
          now.getTime() >= useUntil.getTime() &&
          (await this.expire(
            doc,
            'consume',
            'system:expiry',
            {},
            `approval '${doc.approvalId}' expired unused at ${useUntil.toISOString()}`,
            now,
          ))
        ) {
          expired++;
        }
      }
    }
    return { autoDenied, expired };
  }
}
