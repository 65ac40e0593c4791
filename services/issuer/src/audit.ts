// The issuer's audit events on `<prefix>audit` (keyed by tenant, acks=all): tenant, key and
// credential creation, mint, delegate, revocations and the approval life cycle. Successful admin
// actions are ALLOW/ALLOWED; a refused mint or delegate of an authenticated caller is DENY with
// its reason, so compliance reports see attempts beyond policy too.
import { randomId, type EventProducer } from '@authority/core';
import { currentTraceIds } from '@authority/platform';
import { createMessage, pb, timestampFromDate } from '@authority/proto';
import type { IssuerEvents } from './adapters/kafka';
import type { KeyStatusName } from './adapters/mongo';
import type { Clock } from './clock';
import type { KeyAuditSink } from './keys';
import type { Reason } from '@authority/core';

export const AUDIT_SOURCE: EventProducer = 'issuer';

export interface AuditInput {
  tenant: string;
  action: string;
  /** Credential id of the caller (`operator`, `service`, a tenant credential id, or `system`). */
  principal: string;
  resource?: string;
  agentId?: string;
  jtiChain?: readonly string[];
  /** `sub` of every link, root first, parallel to `jtiChain` (the delegation path). */
  agentChain?: readonly string[];
  decision?: 'ALLOW' | 'DENY';
  reason?: Reason;
  message: string;
  policyVersion?: string;
  detail?: pb.AuditEvent['detail'];
}

const KEY_STATUS: Record<KeyStatusName, pb.KeyStatus> = {
  ACTIVE: pb.KeyStatus.ACTIVE,
  VERIFY_ONLY: pb.KeyStatus.VERIFY_ONLY,
  RETIRED: pb.KeyStatus.RETIRED,
};

export class AuditTrail implements KeyAuditSink {
  constructor(
    private readonly events: IssuerEvents,
    private readonly clock: Clock,
  ) {}

  build(i: AuditInput): pb.AuditEvent {
    const trace = currentTraceIds();
    const decision = i.decision ?? 'ALLOW';
    return createMessage(pb.AuditEventSchema, {
      eventId: randomId(16),
      tenant: i.tenant,
      time: timestampFromDate(this.clock.now()),
      source: AUDIT_SOURCE,
      actor: createMessage(pb.ActorSchema, {
        agentId: i.agentId ?? '',
        jtiChain: [...(i.jtiChain ?? [])],
        agentChain: [...(i.agentChain ?? [])],
        principal: i.principal,
      }),
      action: i.action,
      resource: i.resource ?? '',
      decision: decision === 'ALLOW' ? pb.Decision.ALLOW : pb.Decision.DENY,
      reason: pb.ReasonCode[i.reason ?? 'ALLOWED'],
      message: i.message,
      policyVersion: i.policyVersion ?? '',
      traceId: trace?.traceId ?? '',
      spanId: trace?.spanId ?? '',
      ...(i.detail ? { detail: i.detail } : {}),
    });
  }

  /** Publishes and waits for the acknowledgement. */
  async record(i: AuditInput): Promise<pb.AuditEvent> {
    const event = this.build(i);
    await this.events.publishAudit(event);
    return event;
  }

  async keyChanged(
    tenant: string,
    action: 'key.create' | 'key.rotate' | 'key.retire',
    kid: string,
    status: KeyStatusName,
    principal: string,
    message: string,
  ): Promise<void> {
    await this.record({
      tenant,
      action,
      principal,
      resource: `key/${kid}`,
      message,
      detail: { case: 'key', value: createMessage(pb.KeyDetailSchema, { keyId: kid, status: KEY_STATUS[status] }) },
    });
  }
}
