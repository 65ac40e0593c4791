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
import { randomId } from '@authority/core';
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
  ): Promise<void> {
    await this.o.audit.record({
      tenant: doc.tenant,
      action,
      principal,
      agentId: doc.agent,
      ...(doc.rootJti ? { jtiChain: [doc.rootJti] } : {}),
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
        }),
      },
    });
  }

  async request(principal: string, req: RequestApprovalRequest__Output): Promise<Approval> {
    const tenant = req.tenant;
    const agent = v.identifier(req.agentId, 'agent_id');
    const scope = v.scope(req.requiredScope, 'required_scope');
    const action = v.identifier(req.action, 'action');
    const resource = v.resource(req.resource, 'resource');
    const purpose = v.optionalText(req.purpose, 'purpose', 1024);
    const rootJti = req.rootJti === '' ? '' : v.jti(req.rootJti, 'root_jti');
    const now = this.o.clock.now();
    const approvalId = `apr-${randomId(16)}`;
    const doc: ApprovalDoc = {
      _id: `${tenant}/${approvalId}`,
      tenant,
      approvalId,
      agent,
      scope,
      action,
      resource,
      purpose,
      rootJti,
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
      `approval '${approvalId}' requested for agent '${agent}' to ${action} ${resource}`,
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
    );
    return this.toMessage({ ...doc, status: outcome }, eff);
  }

  /**
   * Uses an approval once, for exactly the agent, scope, action and resource it was requested for.
   * Of any number of concurrent calls, exactly one gets consumed=true.
   */
  async consume(principal: string, req: ConsumeApprovalRequest__Output): Promise<ConsumeOutcome> {
    const tenant = req.tenant;
    const agent = v.identifier(req.agentId, 'agent_id');
    const scope = v.scope(req.requiredScope, 'required_scope');
    const action = v.identifier(req.action, 'action');
    const resource = v.resource(req.resource, 'resource');
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
    if (eff.status === 'PENDING') {
      if (now.getTime() >= doc.decideBy.getTime())
        return invalid(`approval '${approvalId}' was not decided in time and is auto-denied`);
      return { consumed: false, reason: 'APPROVAL_REQUIRED', message: `approval '${approvalId}' is still pending` };
    }
    if (eff.status === 'CONSUMED') return invalid(`approval '${approvalId}' was already used`);
    if (eff.status !== 'APPROVED') return invalid(`approval '${approvalId}' is ${eff.status}`);
    const mismatch =
      doc.agent !== agent
        ? `agent_id: approval '${approvalId}' is for agent '${doc.agent}', not '${agent}'`
        : doc.scope !== scope
          ? `required_scope: approval '${approvalId}' is for scope '${doc.scope}', not '${scope}'`
          : doc.action !== action
            ? `action: approval '${approvalId}' is for action '${doc.action}', not '${action}'`
            : doc.resource !== resource
              ? `resource: approval '${approvalId}' is for resource '${doc.resource}', not '${resource}'`
              : doc.rootJti !== '' && req.rootJti !== doc.rootJti
                ? `root_jti: approval '${approvalId}' was requested by the envelope chain rooted at '${doc.rootJti}', not '${req.rootJti}'`
                : undefined;
    if (mismatch !== undefined) return invalid(mismatch);
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
      `approval '${approvalId}' used by agent '${agent}' to ${action} ${resource}`,
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
    if (await this.claim(doc, 'decide', 'EXPIRED_UNUSED', 'system:auto-deny', now)) {
      await this.o.store.approvals.updateOne(
        { _id: doc._id },
        { $set: { status: 'EXPIRED_UNUSED', decidedAt: now, decidedBy: 'system:auto-deny' } },
      );
      await this.audit(
        doc,
        'approval.decide',
        'system',
        'EXPIRED_UNUSED',
        now,
        `approval '${doc.approvalId}' auto-denied: no decision before ${doc.decideBy.toISOString()}`,
      );
    }
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
          (await this.claim(doc, 'consume', 'EXPIRED_UNUSED', 'system:expiry', now))
        ) {
          await this.o.store.approvals.updateOne({ _id: doc._id }, { $set: { status: 'EXPIRED_UNUSED' } });
          await this.audit(
            doc,
            'approval.decide',
            'system',
            'EXPIRED_UNUSED',
            now,
            `approval '${doc.approvalId}' expired unused at ${useUntil.toISOString()}`,
          );
          expired++;
        }
      }
    }
    return { autoDenied, expired };
  }
}
