// What the issuer publishes, and how: proto3 JSON values, CloudEvents binary-mode headers (with W3C
// traceparent), through platform's EventBus (idempotent producer, acks=all). Every publish resolves
// only once Kafka acknowledged it; callers answer their RPC after that.
//   <prefix>keys         KeyEvent         key `<tenant>/key/<kid>`          ce_type authority.key.v1
//   <prefix>keys         CredentialEvent  key `<tenant>/credential/<id>`    ce_type authority.credential.v1
//   <prefix>revocations  RevocationEvent  key `<tenant>/jti/<jti>` | `<tenant>/agent/<agent>`  authority.revocation.v1
//   <prefix>audit        AuditEvent       key `<tenant>`                     ce_type authority.audit.v1
// Audit records are signed with the issuer's event key (header `authority-sig`, core
// events/signature.ts): the auditor chains only records a trusted key signed.
import { cloudEventHeaders, withEventSignature, type AuthorityTopics, type EventBus } from '@authority/platform';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';
import { EVENT_TYPES, eventSource, randomId, recordKeys, type EventSigningKey } from '@authority/core';
import { binaryBytes, type CredentialDoc, type KeyDoc } from './mongo';

export const CE_SOURCE = eventSource('issuer');
export const CE_TYPE_KEY = EVENT_TYPES.key;
export const CE_TYPE_CREDENTIAL = EVENT_TYPES.credential;
export const CE_TYPE_REVOCATION = EVENT_TYPES.revocation;
export const CE_TYPE_AUDIT = EVENT_TYPES.audit;

/** The issuer's outbound events (a port, so unit tests can record instead of publishing). */
export interface IssuerEvents {
  publishKey(doc: KeyDoc): Promise<void>;
  publishCredential(doc: CredentialDoc): Promise<void>;
  publishRevocation(event: pb.RevocationEvent): Promise<void>;
  publishAudit(event: pb.AuditEvent): Promise<void>;
}

const KEY_STATUS: Record<KeyDoc['status'], pb.KeyStatus> = {
  ACTIVE: pb.KeyStatus.ACTIVE,
  VERIFY_ONLY: pb.KeyStatus.VERIFY_ONLY,
  RETIRED: pb.KeyStatus.RETIRED,
};

const CREDENTIAL_KIND: Record<CredentialDoc['kind'], pb.CredentialKind> = {
  ADMIN: pb.CredentialKind.ADMIN,
  APPROVER: pb.CredentialKind.APPROVER,
  CHECKER: pb.CredentialKind.CHECKER,
  AUDITOR: pb.CredentialKind.AUDITOR,
};

export function keyEvent(doc: KeyDoc): pb.KeyEvent {
  const e = createMessage(pb.KeyEventSchema, {
    tenant: doc.tenant,
    keyId: doc.kid,
    publicKey: binaryBytes(doc.publicKey),
    status: KEY_STATUS[doc.status],
    createdAt: timestampFromDate(doc.createdAt),
  });
  if (doc.verifyUntil) e.verifyUntil = timestampFromDate(doc.verifyUntil);
  if (doc.signedUntil) e.signedUntil = timestampFromDate(doc.signedUntil);
  if (doc.compromised) e.compromised = true;
  return e;
}

export function credentialEvent(doc: CredentialDoc): pb.CredentialEvent {
  return createMessage(pb.CredentialEventSchema, {
    tenant: doc.tenant,
    credentialId: doc._id,
    kind: CREDENTIAL_KIND[doc.kind],
    secretSha256: doc.secretSha256,
    revoked: doc.revoked,
    createdAt: timestampFromDate(doc.createdAt),
  });
}

/** Record key of a revocation on the compacted topic. */
export function revocationKey(e: pb.RevocationEvent): string {
  return e.kind === pb.RevocationKind.AGENT
    ? recordKeys.revokedAgent(e.tenant, e.agentId)
    : recordKeys.revokedJti(e.tenant, e.jti);
}

export class KafkaIssuerEvents implements IssuerEvents {
  constructor(
    private readonly bus: Pick<EventBus, 'publish'>,
    private readonly topics: AuthorityTopics,
    private readonly eventKey: EventSigningKey,
  ) {}

  private headers(type: string, subject: string, time: Date, id = randomId(16)): Record<string, string> {
    return cloudEventHeaders({ id, type, source: CE_SOURCE, subject, time });
  }

  async publishKey(doc: KeyDoc): Promise<void> {
    const e = keyEvent(doc);
    await this.bus.publish(this.topics.keys, [
      {
        key: recordKeys.key(doc.tenant, doc.kid),
        value: encodeEvent(pb.KeyEventSchema, e),
        headers: this.headers(CE_TYPE_KEY, doc.tenant, new Date()),
      },
    ]);
  }

  async publishCredential(doc: CredentialDoc): Promise<void> {
    const e = credentialEvent(doc);
    await this.bus.publish(this.topics.keys, [
      {
        key: recordKeys.credential(doc.tenant, doc._id),
        value: encodeEvent(pb.CredentialEventSchema, e),
        headers: this.headers(CE_TYPE_CREDENTIAL, doc.tenant, new Date()),
      },
    ]);
  }

  async publishRevocation(e: pb.RevocationEvent): Promise<void> {
    await this.bus.publish(this.topics.revocations, [
      {
        key: revocationKey(e),
        value: encodeEvent(pb.RevocationEventSchema, e),
        headers: this.headers(CE_TYPE_REVOCATION, e.tenant, new Date()),
      },
    ]);
  }

  async publishAudit(e: pb.AuditEvent): Promise<void> {
    const time = e.time ? new Date(Number(e.time.seconds) * 1000 + Math.floor(e.time.nanos / 1e6)) : new Date();
    await this.bus.publish(this.topics.audit, [
      withEventSignature(
        {
          key: e.tenant,
          value: encodeEvent(pb.AuditEventSchema, e),
          headers: this.headers(CE_TYPE_AUDIT, e.tenant, time, e.eventId),
        },
        this.eventKey,
      ),
    ]);
  }
}
