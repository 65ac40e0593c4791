// Kafka side of the policy service (through the platform EventBus):
// - publishes each version as a PolicyVersionEvent on `<prefix>policies` (compacted, record key
//   `<tenant>/<version zero-padded to 12>`) and a `policy.put`/`policy.delete` AuditEvent on
//   `<prefix>audit` (record key `<tenant>`), acks=all, CloudEvents binary-mode headers;
//   following `<prefix>keys` (credentials) and `<prefix>policies` is @authority/views (index.ts).
// Audit records are signed with the service's event key (header `authority-sig`, core
// events/signature.ts): the auditor chains only records a trusted key signed.
import { pb, createMessage, encodeEvent, timestampFromDate } from '@authority/proto';
import {
  authorityTopicSpecs,
  cloudEventHeaders,
  extractTraceContext,
  topics as topicNames,
  withEventSignature,
  type KafkaEventBus,
} from '@authority/platform';
import { EVENT_TYPES, eventSource, recordKeys, type EventProducer, type EventSigningKey } from '@authority/core';
import { versionKey, type PolicyVersionDoc } from './mongo';
import type { VersionPublisher } from '../registry';

export const CE_TYPE_POLICY = EVENT_TYPES.policy;
export const CE_TYPE_AUDIT = EVENT_TYPES.audit;
export const CE_SOURCE = eventSource('policy');
/** AuditEvent.source of the policy service's audit events. */
export const AUDIT_SOURCE: EventProducer = 'policy';

export interface PolicyTopics {
  policies: string;
  audit: string;
  keys: string;
}

export function policyTopics(prefix: string): PolicyTopics {
  const t = topicNames(prefix);
  return { policies: t.policies, audit: t.audit, keys: t.keys };
}

/** W3C traceparent → trace id and span id (empty when absent or malformed). */
function traceIds(traceparent: string | undefined): { traceId: string; spanId: string } {
  const m = traceparent ? /^[0-9a-f]{2}-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/.exec(traceparent) : null;
  return m ? { traceId: m[1]!, spanId: m[2]! } : { traceId: '', spanId: '' };
}

/** The PolicyVersionEvent of a stored version. */
export function policyVersionEvent(doc: PolicyVersionDoc): pb.PolicyVersionEvent {
  return createMessage(pb.PolicyVersionEventSchema, {
    tenant: doc.tenant,
    version: BigInt(doc.version),
    yaml: doc.yaml,
    sha256: doc.sha256,
    author: doc.author,
    createdAt: timestampFromDate(doc.createdAt),
    deleted: doc.deleted,
  });
}

/** The audit event of a stored version (`policy.put` or `policy.delete`). */
export function policyAuditEvent(doc: PolicyVersionDoc): pb.AuditEvent {
  const { traceId, spanId } = traceIds(doc.traceparent);
  const action = doc.deleted ? 'policy.delete' : 'policy.put';
  return createMessage(pb.AuditEventSchema, {
    eventId: doc.auditEventId,
    tenant: doc.tenant,
    time: timestampFromDate(doc.createdAt),
    source: AUDIT_SOURCE,
    actor: { principal: doc.author },
    action,
    resource: `policy/${doc.tenant}`,
    decision: pb.Decision.ALLOW,
    reason: pb.ReasonCode.ALLOWED,
    message: doc.deleted
      ? `policy of tenant ${doc.tenant} deleted by ${doc.author} (tombstone version ${doc.version})`
      : `policy version ${doc.version} of tenant ${doc.tenant} put by ${doc.author}`,
    policyVersion: String(doc.version),
    traceId,
    spanId,
    detail: {
      case: 'policyChange',
      value: createMessage(pb.PolicyChangeDetailSchema, {
        version: BigInt(doc.version),
        sha256: doc.sha256,
        diffSummary: doc.diffSummary,
      }),
    },
  });
}

/** Both events of a version: the record key of the policies topic and the headers. */
export function versionMessages(doc: PolicyVersionDoc): {
  policyKey: string;
  policyHeaders: Record<string, string>;
  auditHeaders: Record<string, string>;
} {
  const policyKey = versionKey(doc.tenant, doc.version);
  // The trace of the request that made the version (also when republished after a crash).
  const ctx = extractTraceContext(doc.traceparent ? { traceparent: doc.traceparent } : {});
  return {
    policyKey,
    policyHeaders: cloudEventHeaders(
      { id: policyKey, type: CE_TYPE_POLICY, source: CE_SOURCE, subject: doc.tenant, time: doc.createdAt },
      ctx,
    ),
    auditHeaders: cloudEventHeaders(
      { id: doc.auditEventId, type: CE_TYPE_AUDIT, source: CE_SOURCE, subject: doc.tenant, time: doc.createdAt },
      ctx,
    ),
  };
}

/** Publishes versions through the platform's EventBus (acks=all). */
export class KafkaVersionPublisher implements VersionPublisher {
  constructor(
    private readonly bus: Pick<KafkaEventBus, 'publish'>,
    private readonly topics: PolicyTopics,
    private readonly eventKey: EventSigningKey,
  ) {}

  /** Resolves when both the PolicyVersionEvent and the AuditEvent are acknowledged. */
  async publishVersion(doc: PolicyVersionDoc): Promise<void> {
    const { policyKey, policyHeaders, auditHeaders } = versionMessages(doc);
    await Promise.all([
      this.bus.publish(this.topics.policies, [
        {
          key: policyKey,
          value: encodeEvent(pb.PolicyVersionEventSchema, policyVersionEvent(doc)),
          headers: policyHeaders,
        },
      ]),
      this.bus.publish(this.topics.audit, [
        withEventSignature(
          {
            key: recordKeys.tenant(doc.tenant),
            value: encodeEvent(pb.AuditEventSchema, policyAuditEvent(doc)),
            headers: auditHeaders,
          },
          this.eventKey,
        ),
      ]),
    ]);
  }
}

/** Creates the topics this service writes or reads when they are missing (platform specs). */
export async function ensurePolicyTopics(bus: KafkaEventBus, prefix: string): Promise<void> {
  const wanted = new Set(Object.values(policyTopics(prefix)));
  await bus.ensureTopics(authorityTopicSpecs(prefix).filter((s) => wanted.has(s.topic)));
}
