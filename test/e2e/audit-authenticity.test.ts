// Audit events are authenticated, end to end (issue 12): the four services with their own event
// keys, the auditor trusting each for its own source. Genuine events of the real issuer, of both
// kinds of enforcer producers (its producer thread and platform's publisher) and of the policy
// service are chained; records a writer of the audit topic forges around them (unsigned, or signed
// with the enforcer's real key but claiming to be the issuer) are quarantined and never chained,
// and the tenant's chain still verifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { MongoClient } from 'mongodb';
import {
  cloudEventHeaders,
  createKafka,
  silentLogger,
  withEventSignature,
  type EventMessage,
  type KafkaEventBus,
} from '@authority/platform';
import {
  createMessage,
  encodeEvent,
  pb,
  timestampFromDate,
  type CheckResponse__Output,
  type QueryEventsResponse__Output,
  type VerifyChainResponse__Output,
} from '@authority/proto';
import { mintEnvelope, requireInfra, rpc, startStack, type Stack, type StackTenant } from '../src/stack';
import { eventually } from '@authority/test-helpers';

let stack: Stack;
let tenant: StackTenant;
let attackerBus: KafkaEventBus;
/** A plain kafkajs producer (no Authority code on the write path): what any client with write access has. */
let attacker: ReturnType<KafkaEventBus['kafka']['producer']>;
let mongo: MongoClient;

/** A forged event of the tenant whose key, ce_subject and tenant all agree. */
function forgedRecord(eventId: string, source: string, action: string): EventMessage {
  const event = createMessage(pb.AuditEventSchema, {
    eventId,
    tenant: tenant.tenant,
    time: timestampFromDate(new Date()),
    source,
    actor: createMessage(pb.ActorSchema, { agentId: 'mallory', principal: 'operator' }),
    action,
    resource: 'slos://records/everything',
    decision: pb.Decision.ALLOW,
    reason: pb.ReasonCode.ALLOWED,
  });
  return {
    key: tenant.tenant,
    value: encodeEvent(pb.AuditEventSchema, event),
    headers: cloudEventHeaders({
      id: eventId,
      type: 'authority.audit.v1',
      source: source === 'issuer' ? '/authority/issuer' : source,
      subject: tenant.tenant,
      time: new Date(),
    }),
  };
}

before(async () => {
  stack = await startStack({
    enforcers: 2,
    withPolicy: true,
    withAuditor: true,
    enforcerAudit: ['thread', 'platform'],
    auditorEnv: { AUTHORITY_AUDITOR_GROUP_ID: `e2e-auditor-${randomBytes(4).toString('hex')}` },
  });
  tenant = await stack.createTenant();
  attackerBus = createKafka({ brokers: stack.brokers, clientId: 'attacker', logger: silentLogger() });
  attacker = attackerBus.kafka.producer();
  await attacker.connect();
  mongo = new MongoClient(requireInfra().mongo);
  await mongo.connect();
});

after(async () => {
  await attacker?.disconnect();
  await mongo?.close();
  await stack?.stop();
});

describe('signed audit events across the real services', { timeout: 180_000 }, () => {
  test('genuine events of issuer, both enforcer producers and policy are chained; forged ones are quarantined', async () => {
    const send = (m: EventMessage) =>
      attacker.send({
        topic: stack.topics.audit,
        acks: -1,
        messages: [{ key: m.key, value: m.value, headers: m.headers as Record<string, string | Buffer> }],
      });
    await send(forgedRecord('forged-unsigned', 'enforcer', 'read'));
    // The enforcer's own key, on an issuer life-cycle event: the key may only speak for the enforcer.
    await send(
      withEventSignature(forgedRecord('forged-issuer-event', 'issuer', 'key.rotate'), stack.eventKeys.enforcer),
    );

    const minted = await mintEnvelope(
      stack,
      tenant,
      'advisor',
      { scopes: ['records:read'], resources: ['slos://records/*'] },
      { ttlSeconds: 3600 },
    );
    const decisionIds: string[] = [];
    for (const e of stack.enforcers) {
      const r = await eventually(async () => {
        const res = await rpc<CheckResponse__Output>(
          e.client,
          'Check',
          { token: minted.envelope!.token, requiredScope: 'records:read', resource: 'slos://records/t-1' },
          tenant.checker,
        );
        return res.decision === 'ALLOW' ? res : undefined;
      }, `${e.id} allowing the read`);
      decisionIds.push(r.decisionId);
    }
    const yaml = 'organization: E2E\nversion: "1"\nagents:\n  advisor:\n    scopes: ["records:read"]\n';
    await rpc(stack.policy!.client, 'PutPolicy', { tenant: tenant.tenant, yaml, expectedVersion: 0 }, tenant.admin);

    const query = (req: object) =>
      rpc<QueryEventsResponse__Output>(
        stack.auditor!.client,
        'QueryEvents',
        { tenant: tenant.tenant, pageSize: 1000, ...req },
        tenant.auditor,
      );
    const events = await eventually(async () => {
      const page = await query({});
      const ids = new Set(page.entries.map((e) => e.event?.eventId));
      const sources = new Set(page.entries.map((e) => e.event?.source));
      const done =
        decisionIds.every((id) => ids.has(id)) &&
        page.entries.some((e) => e.event?.action === 'envelope.mint') &&
        page.entries.some((e) => e.event?.action === 'policy.put') &&
        sources.has('issuer') &&
        sources.has('enforcer') &&
        sources.has('policy');
      return done ? page.entries : undefined;
    }, 'events of every producer chained');
    const ids = events.map((e) => e.event?.eventId);
    assert.ok(!ids.includes('forged-unsigned') && !ids.includes('forged-issuer-event'), 'no forged event is chained');
    assert.equal((await query({ agentId: 'mallory' })).entries.length, 0);

    const rejected = mongo.db(stack.databases.auditor).collection('rejected');
    const docs = await eventually(async () => {
      const d = await rejected.find({}).toArray();
      return d.length >= 2 ? d : undefined;
    }, 'the forged records quarantined');
    assert.deepEqual(
      Object.fromEntries(docs.map((d) => [d['eventId'], d['code']])),
      { 'forged-unsigned': 'unsigned', 'forged-issuer-event': 'source_not_allowed' },
      'only the forged records are quarantined: every genuine event verified',
    );

    const v = await rpc<VerifyChainResponse__Output>(
      stack.auditor!.client,
      'VerifyChain',
      { tenant: tenant.tenant },
      stack.operatorKey,
    );
    assert.equal(v.ok, true, v.message);
    assert.equal(Number(v.checked), events.length);
  });
});
