// Audit events are authenticated (issue 12), against the real broker and FerretDB: whoever can
// write to the audit topic cannot chain an event. Records written with a raw kafkajs producer
// whose key, ce_subject and tenant all agree, but that are unsigned, signed by a key the auditor
// does not trust, signed by a trusted key for a source it may not sign (the enforcer's key on an
// issuer key-rotation event), tampered after signing (alone, or one record of a batch signed at
// once, as the enforcer signs a produce request), or carry a malformed signature, go to the
// quarantine (with the raw record, topic/partition/offset, headers and a reason code), are counted
// by authority_auditor_quarantined_total{reason}, and never reach a chain: QueryEvents does not
// return them, VerifyChain passes, the offsets reach the high-water mark. Genuine events around
// them are chained in order. A second auditor re-reading everything (a redelivery) chains nothing
// twice and quarantines nothing twice.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import type { MongoClient } from 'mongodb';
import { eventSigningKey, type EventSigningKey } from '@authority/core';
import { silentLogger, withEventBatchSignature, type EventMessage, type KafkaEventBus } from '@authority/platform';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';
import { startAuditor, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  producerKey,
  publishCredential,
  randomSecret,
  StoredEntries,
  testBus,
  type TestEnv,
  closeRig,
  testRig,
} from '../helpers';

const TENANT = 'lakeside';

/** The metric's value by reason, as a Prometheus scrape would show authority_auditor_quarantined_total. */
async function quarantinedByReason(reader: PeriodicExportingMetricReader): Promise<Record<string, number>> {
  const { resourceMetrics } = await reader.collect();
  const out: Record<string, number> = {};
  for (const m of resourceMetrics.scopeMetrics.flatMap((s) => s.metrics)) {
    if (m.descriptor.name !== 'authority.auditor.quarantined') continue;
    for (const p of m.dataPoints) out[String(p.attributes['reason'])] = p.value as number;
  }
  return out;
}

/** An issuer life-cycle event (a key rotation), as the issuer writes it. */
function keyRotation(eventId: string): pb.AuditEvent {
  return createMessage(pb.AuditEventSchema, {
    eventId,
    tenant: TENANT,
    time: timestampFromDate(new Date()),
    source: 'issuer',
    actor: createMessage(pb.ActorSchema, { principal: 'operator' }),
    action: 'key.rotate',
    resource: 'key/k-attacker',
    decision: pb.Decision.ALLOW,
    reason: pb.ReasonCode.ALLOWED,
    message: "key 'k-attacker' created",
  });
}

describe('only records signed by a trusted producer key are chained', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let raw: ReturnType<KafkaEventBus['kafka']['producer']>;
  let mongo: MongoClient;
  let auditor: RunningAuditor;
  let reader: PeriodicExportingMetricReader;
  const auditorSecret = randomSecret('lakeside-auditor');
  const genuine = ['genuine-1', 'genuine-2', 'genuine-issuer', 'genuine-3', 'batch-1', 'batch-2', 'batch-3'];
  const forged = new Map<string, string>(); // event id → expected quarantine code
  let topic: string;

  before(async () => {
    ({ env, bus, mongo } = await testRig('authenticity'));
    topic = `${env.prefix}audit`;
    await publishCredential(bus, env.prefix, TENANT, 'AUDITOR', auditorSecret);
    // The attacker: any client that can write to the topic, no Authority code on the produce path (a
    // plain kafkajs producer of the adapter's client, not the platform publisher).
    raw = testBus('attacker').kafka.producer();
    await raw.connect();
    reader = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000,
    });
    auditor = await startAuditor(auditorConfig(env), {
      logger: silentLogger(),
      meter: new MeterProvider({ readers: [reader] }).getMeter('test'),
    });
  });

  after(async () => {
    await auditor?.stop();
    await raw?.disconnect();
    await closeRig({ env, bus, mongo });
  });

  it('quarantines forged records (unsigned, untrusted key, wrong source, tampered, malformed); chains the genuine ones in order', async () => {
    const send = (m: EventMessage) =>
      raw.send({
        topic,
        acks: -1,
        messages: [{ key: m.key, value: m.value, headers: m.headers as Record<string, string | Buffer> }],
      });
    const forgedEvent = (id: string) =>
      auditEvent({ tenant: TENANT, eventId: id, agent: 'mallory', resource: 'slos://vaults/student-health/all' });

    await send(auditRecord(auditEvent({ tenant: TENANT, eventId: 'genuine-1', agent: 'advisor' })));

    // 1. Key, ce_subject and tenant agree, no signature: what anyone with write access could do before.
    forged.set('forged-unsigned', 'unsigned');
    await send(auditRecord(forgedEvent('forged-unsigned'), { signer: null }));

    // 2. Signed by a key the auditor does not know, and by an attacker's key under the enforcer's key id.
    const rogue: EventSigningKey = eventSigningKey(randomBytes(32), 'rogue-1');
    forged.set('forged-unknown-key', 'unknown_key');
    await send(auditRecord(forgedEvent('forged-unknown-key'), { signer: rogue }));
    const impostor = eventSigningKey(randomBytes(32), producerKey('enforcer').kid);
    forged.set('forged-impostor', 'bad_signature');
    await send(auditRecord(forgedEvent('forged-impostor'), { signer: impostor }));

    // 3. The enforcer's real key on an issuer life-cycle event: valid signature, wrong source.
    forged.set('forged-key-rotation', 'source_not_allowed');
    await send(auditRecord(keyRotation('forged-key-rotation'), { signer: producerKey('enforcer') }));

    // 4. A genuine record whose value was changed after signing (DENY rewritten as ALLOW).
    const original = auditRecord(
      auditEvent({ tenant: TENANT, eventId: 'forged-tampered', agent: 'advisor', decision: 'DENY' }),
    );
    const tampered = encodeEvent(
      pb.AuditEventSchema,
      auditEvent({ tenant: TENANT, eventId: 'forged-tampered', agent: 'advisor', decision: 'ALLOW' }),
    );
    forged.set('forged-tampered', 'bad_signature');
    await send({ ...original, value: tampered });

    // 5. A signature header that is not <kid>.<signature>.
    forged.set('forged-malformed', 'malformed_signature');
    const malformed = auditRecord(forgedEvent('forged-malformed'));
    await send({ ...malformed, headers: { ...malformed.headers, 'authority-sig': 'enforcer-test.not-a-signature' } });

    await send(auditRecord(auditEvent({ tenant: TENANT, eventId: 'genuine-2', agent: 'advisor' })));
    // The issuer's own key on its own event is fine.
    await send(auditRecord(keyRotation('genuine-issuer'), { signer: producerKey('issuer') }));
    await send(auditRecord(auditEvent({ tenant: TENANT, eventId: 'genuine-3', agent: 'advisor' })));

    // 6. Four records signed as one batch (one signature over their Merkle root, as the enforcer
    // signs a produce request), the second changed after signing: the other three are chained.
    const batch = withEventBatchSignature(
      ['batch-1', 'batch-tampered', 'batch-2', 'batch-3'].map((id) =>
        auditRecord(auditEvent({ tenant: TENANT, eventId: id, agent: 'advisor', decision: 'DENY' }), { signer: null }),
      ),
      producerKey('enforcer'),
    );
    assert.match(String(batch[1]!.headers?.['authority-sig']), /^[^.]+\.[^.]+\.1\.4\.[A-Za-z0-9_-]+$/);
    forged.set('batch-tampered', 'bad_signature');
    batch[1] = {
      ...batch[1]!,
      value: encodeEvent(
        pb.AuditEventSchema,
        auditEvent({ tenant: TENANT, eventId: 'batch-tampered', agent: 'advisor', decision: 'ALLOW' }),
      ),
    };
    await raw.send({
      topic,
      acks: -1,
      messages: batch.map((m) => ({ key: m.key, value: m.value, headers: m.headers as Record<string, string> })),
    });

    const entries = new StoredEntries(mongo.db(env.db)).of(TENANT);
    await eventually(
      async () => ((await entries.countDocuments({})) === genuine.length ? true : undefined),
      'the genuine events chained',
    );
    const chain = await entries.find({}).sort({ seq: 1 }).toArray();
    assert.deepEqual(
      chain.map((e) => e['eventId']),
      genuine,
      'exactly the genuine events, in production order',
    );

    const rejected = mongo.db(env.db).collection('rejected');
    const docs = await eventually(async () => {
      const d = await rejected.find({}).toArray();
      return d.length >= forged.size ? d : undefined;
    }, 'the forged records quarantined');
    assert.equal(docs.length, forged.size);
    for (const doc of docs) {
      const id = String(doc['eventId']);
      assert.equal(doc['code'], forged.get(id), `${id}: ${String(doc['reason'])}`);
      assert.equal(doc['tenant'], TENANT, 'what the record claimed is kept for the investigation');
      assert.equal(doc['topic'], topic);
      assert.equal(typeof doc['partition'], 'number');
      assert.equal(doc['_id'], `${topic}/${String(doc['partition'])}/${String(doc['offset'])}`);
      assert.ok((doc['raw'] as { value(): Uint8Array }).value().length > 0, 'the raw record value is kept');
      const names = (doc['headers'] as { name: string }[]).map((h) => h.name);
      assert.ok(names.includes('ce_subject'), 'the headers are kept');
    }
    assert.match(
      String(docs.find((d) => d['eventId'] === 'forged-key-rotation')?.['reason']),
      /may sign events of source 'enforcer', not 'issuer'/,
    );
  });

  it('no forged event is returned by QueryEvents or is in the chain; VerifyChain passes over the genuine ones', async () => {
    const client = auditorClient(auditor.address);
    const page = await call(client, 'QueryEvents', { tenant: TENANT, pageSize: 1000 }, auditorSecret);
    assert.deepEqual(
      page.entries.map((e) => e.event?.eventId),
      genuine,
    );
    const mallory = await call(client, 'QueryEvents', { tenant: TENANT, agentId: 'mallory' }, auditorSecret);
    assert.equal(mallory.entries.length, 0);
    const rotations = await call(client, 'QueryEvents', { tenant: TENANT, action: 'key.rotate' }, auditorSecret);
    assert.deepEqual(
      rotations.entries.map((e) => e.event?.eventId),
      ['genuine-issuer'],
    );
    const v = await call(client, 'VerifyChain', { tenant: TENANT }, env.operatorKey);
    assert.equal(v.ok, true, v.message);
    assert.equal(v.checked, String(genuine.length));
    client.close();
  });

  it('counts each quarantined record once by reason, and commits the offsets past them (nothing lost, nothing re-read)', async () => {
    assert.deepEqual(await quarantinedByReason(reader), {
      unsigned: 1,
      unknown_key: 1,
      bad_signature: 3,
      source_not_allowed: 1,
      malformed_signature: 1,
    });
    await eventually(async () => {
      const [high, committed] = await bus.withAdmin(async (admin) => [
        await admin.fetchTopicOffsets(topic),
        await admin.fetchOffsets({ groupId: `auditor-${env.id}`, topics: [topic] }),
      ]);
      const hw = new Map((high as { partition: number; high: string }[]).map((p) => [p.partition, p.high]));
      const parts = (committed as { partitions: { partition: number; offset: string }[] }[])[0]!.partitions;
      return parts.every((p) => BigInt(hw.get(p.partition) ?? '0') === 0n || p.offset === hw.get(p.partition))
        ? true
        : undefined;
    }, 'offsets committed to the high-water mark');
  });

  it('a redelivery of everything (a second auditor, new group) chains nothing twice and quarantines nothing twice', async () => {
    const reader2 = new PeriodicExportingMetricReader({
      exporter: new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE),
      exportIntervalMillis: 3_600_000,
    });
    const second = await startAuditor(auditorConfig(env, { AUTHORITY_AUDITOR_GROUP_ID: `auditor-${env.id}-again` }), {
      logger: silentLogger(),
      meter: new MeterProvider({ readers: [reader2] }).getMeter('test'),
      checkpointTimer: false,
    });
    try {
      const high = await bus.withAdmin((admin) => admin.fetchTopicOffsets(topic));
      const total = high.reduce((n, p) => n + Number(p.high), 0);
      await eventually(
        () => (second.ingest.stats.records >= total ? true : undefined),
        'the second auditor re-read the topic',
      );
      assert.equal(second.ingest.stats.appended, 0, 'nothing chained twice');
      assert.equal(second.ingest.stats.rejected, forged.size, 'the forged records were refused again…');
      assert.equal(await mongo.db(env.db).collection('rejected').countDocuments({}), forged.size, '…but stored once');
      assert.deepEqual(await quarantinedByReason(reader2), {}, 'and not counted again');
      assert.equal(await new StoredEntries(mongo.db(env.db)).of(TENANT).countDocuments({}), genuine.length);
    } finally {
      await second.stop();
    }
  });
});
