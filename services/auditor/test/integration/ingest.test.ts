// Ingest against the real broker and FerretDB: 10,000 events over 5 tenants become 5 chains that
// verify, in production order; records whose key or ce_subject does not name the event's tenant
// (or that are not audit events) are quarantined, never chained; checkpoints are stored, signed
// and published; the group's offsets reach the high-water mark.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, withEventSignature, type EventMessage, type KafkaEventBus } from '@authority/platform';
import { auditGenesisHead, chainHash, verifyCheckpoint } from '@authority/core';
import { decodeEvent, pb } from '@authority/proto';
import type { MongoClient } from 'mongodb';
import { startAuditor, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  producerKey,
  publishAll,
  StoredEntries,
  testBus,
  type TestEnv,
  testRig,
  closeRig,
} from '../helpers';

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];
const PER_TENANT = 2000;

describe('ingest: 10,000 events over 5 tenants', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  const client = () => auditorClient(auditor.address);
  const badIds: string[] = [];

  before(async () => {
    ({ env, bus, mongo } = await testRig('ingest'));
    auditor = await startAuditor(auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '500' }), { logger: silentLogger() });
  });

  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  it('chains every event exactly once per tenant, in order, and every chain verifies against a checkpoint', async () => {
    const records: EventMessage[] = [];
    const base = Date.now() - 60_000;
    for (let n = 0; n < PER_TENANT; n++) {
      for (const tenant of TENANTS) {
        records.push(
          auditRecord(
            auditEvent({
              tenant,
              eventId: `${tenant}-${n}`,
              message: String(n),
              timeMs: base + n,
              agent: `agent-${n % 7}`,
            }),
          ),
        );
      }
    }
    // Records that must never reach a chain: wrong key, wrong subject, no key, not an event.
    const wrongKey = auditEvent({ tenant: 'globex', eventId: 'bad-key' });
    const wrongSubject = auditEvent({ tenant: 'globex', eventId: 'bad-subject' });
    const noKey = auditEvent({ tenant: 'acme', eventId: 'bad-nokey' });
    badIds.push('bad-key', 'bad-subject', 'bad-nokey');
    records.splice(17, 0, auditRecord(wrongKey, { key: 'acme' }));
    records.splice(4001, 0, auditRecord(wrongSubject, { subject: 'acme' }));
    records.splice(9000, 0, auditRecord(noKey, { key: null }));
    // Signed by a trusted producer, but not an event: the signature does not make it one.
    records.splice(
      5000,
      0,
      withEventSignature(
        { key: 'acme', value: Buffer.from('{"eventId": 12, "tenant": ['), headers: { ce_subject: 'acme' } },
        producerKey('enforcer'),
      ),
    );

    await publishAll(bus, `${env.prefix}audit`, records);

    const entries = new StoredEntries(mongo.db(env.db));
    await eventually(
      async () => ((await entries.count()) === TENANTS.length * PER_TENANT ? true : undefined),
      'all events chained',
      90_000,
      250,
    );
    // The timer seals each chain's head.
    for (const tenant of TENANTS) {
      await eventually(
        async () => {
          const r = await call(client(), 'GetCheckpoint', { tenant }, env.operatorKey);
          return r.checkpoint?.seq === String(PER_TENANT) ? r : undefined;
        },
        `checkpoint at the head of ${tenant}`,
        20_000,
        100,
      );
    }
    for (const tenant of TENANTS) {
      const v = await call(client(), 'VerifyChain', { tenant }, env.operatorKey);
      assert.equal(v.ok, true, `${tenant}: ${v.message}`);
      assert.equal(v.fault, 'NONE');
      assert.equal(v.checked, String(PER_TENANT));
      assert.equal(v.headSeq, String(PER_TENANT));
      assert.equal(v.checkpoint?.seq, String(PER_TENANT));

      // Order within a tenant is the production order; each event exactly once.
      const docs = await entries
        .of(tenant)
        .find({}, { projection: { _id: 0, seq: 1, eventId: 1, raw: 1 } })
        .sort({ seq: 1 })
        .toArray();
      assert.equal(docs.length, PER_TENANT);
      docs.forEach((d, i) => {
        assert.equal(d['seq'], i + 1);
        assert.equal(d['eventId'], `${tenant}-${i}`);
        const e = decodeEvent(pb.AuditEventSchema, (d['raw'] as { value(): Uint8Array }).value());
        assert.equal(e.tenant, tenant);
        assert.equal(e.message, String(i));
      });
    }
    assert.equal((await entries.distinct('eventId')).length, TENANTS.length * PER_TENANT);
  });

  it('quarantines records whose key or subject does not name the event tenant, and records that are not events', async () => {
    const rejected = mongo.db(env.db).collection('rejected');
    const docs = await eventually(async () => {
      const d = await rejected.find({}).toArray();
      return d.length >= 4 ? d : undefined;
    }, 'quarantined records');
    const byId = new Map(docs.map((d) => [d['eventId'] as string, d]));
    for (const id of ['bad-key', 'bad-subject', 'bad-nokey']) assert.equal(byId.get(id)?.['code'], 'tenant_mismatch');
    assert.match(
      String(byId.get('bad-key')?.['reason']),
      /record key 'acme' does not match the event's tenant 'globex'/,
    );
    assert.match(
      String(byId.get('bad-subject')?.['reason']),
      /ce_subject 'acme' does not match the event's tenant 'globex'/,
    );
    assert.match(String(byId.get('bad-nokey')?.['reason']), /record has no key/);
    assert.ok(
      docs.some(
        (d) => /not a JSON object|not an AuditEvent/.test(String(d['reason'])) && d['code'] === 'invalid_event',
      ),
      'the unparseable record is quarantined',
    );
    const chained = await new StoredEntries(mongo.db(env.db)).count({ eventId: { $in: badIds } });
    assert.equal(chained, 0, 'no refused record is in any chain');
  });

  it('publishes signed checkpoints on <prefix>checkpoints and commits offsets to the high-water mark', async () => {
    const keys = await call(client(), 'ListAuditorKeys', {}, env.operatorKey);
    assert.equal(keys.keys.length, 1);
    const key0 = keys.keys[0]!;
    assert.equal(key0.active, true);
    const publicKey = new Uint8Array(key0.publicKey);
    const seen = new Map<string, number>();
    const tap = testBus('tap');
    try {
      await tap.consume({
        groupId: `tap-${env.id}`,
        topics: [`${env.prefix}checkpoints`],
        fromBeginning: true,
        eachMessage: async (m) => {
          const cp = decodeEvent(pb.CheckpointSchema, m.value!);
          const ok = verifyCheckpoint(
            {
              tenant: cp.tenant,
              seq: Number(cp.seq),
              headHash: cp.headHash,
              time: Number(cp.time?.seconds ?? 0n),
              keyId: cp.keyId,
              signature: Buffer.from(cp.signature).toString('base64url'),
            },
            (kid) => (kid === key0.keyId ? publicKey : undefined),
          );
          assert.ok(ok.ok, 'published checkpoint signature verifies');
          assert.equal(m.key?.toString(), cp.tenant);
          seen.set(cp.tenant, Math.max(seen.get(cp.tenant) ?? 0, Number(cp.seq)));
        },
      });
      await eventually(
        () => (TENANTS.every((t) => seen.get(t) === PER_TENANT) ? true : undefined),
        'checkpoints on the topic',
      );
    } finally {
      await tap.disconnect();
    }
    const committed = await bus.withAdmin(async (admin) => {
      const high = await admin.fetchTopicOffsets(`${env.prefix}audit`);
      return eventually(async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: `auditor-${env.id}`, topics: [`${env.prefix}audit`] });
        const at = (p: number) => offsets?.partitions.find((o) => o.partition === p)?.offset;
        const all = high.every((h) => at(h.partition) === h.high || (h.high === h.low && at(h.partition) === '-1'));
        return all ? offsets : undefined;
      }, 'committed offsets at the high-water mark');
    });
    assert.ok(committed);
  });

  it('publishes what it chained on <prefix>chain: gap-free per tenant, every hash recomputable from the raw event', async () => {
    const heads = new Map<string, { seq: number; hash: string }>();
    const problems: string[] = [];
    const tap = testBus('chain-tap');
    try {
      await tap.consume({
        groupId: `chain-tap-${env.id}`,
        topics: [`${env.prefix}chain`],
        fromBeginning: true,
        eachMessage: async (m) => {
          const r = decodeEvent(pb.ChainRecordSchema, m.value!);
          const seq = Number(r.seq);
          const head = heads.get(r.tenant) ?? {
            seq: 0,
            hash: Buffer.from(auditGenesisHead(r.tenant).hash).toString('hex'),
          };
          if (m.key?.toString() !== r.tenant) problems.push(`${r.tenant}/${seq}: key ${m.key?.toString()}`);
          if (seq !== head.seq + 1) problems.push(`${r.tenant}: seq ${seq} after ${head.seq}`);
          if (r.prevHash !== head.hash) problems.push(`${r.tenant}/${seq}: prev_hash is not the previous hash`);
          const recomputed = chainHash(r.tenant, seq, Buffer.from(r.prevHash, 'hex'), r.rawEvent).toString('hex');
          if (recomputed !== r.hash) problems.push(`${r.tenant}/${seq}: hash does not recompute`);
          const event = decodeEvent(pb.AuditEventSchema, Buffer.from(r.rawEvent));
          if (event.eventId !== r.eventId || event.eventId !== `${r.tenant}-${seq - 1}`)
            problems.push(`${r.tenant}/${seq}: event id ${r.eventId}`);
          heads.set(r.tenant, { seq, hash: r.hash });
        },
      });
      await eventually(
        () => (TENANTS.every((t) => heads.get(t)?.seq === PER_TENANT) ? true : undefined),
        'every chained entry on the chain topic',
      );
    } finally {
      await tap.disconnect();
    }
    assert.deepEqual(problems, []);
    // The feed's heads are the heads the signed checkpoints vouch for.
    for (const tenant of TENANTS) {
      const cps = await call(client(), 'ListCheckpoints', { tenant }, env.operatorKey);
      const newest = cps.checkpoints.reduce((a, b) => (Number(b.seq) > Number(a.seq) ? b : a));
      assert.equal(Number(newest.seq), PER_TENANT);
      assert.equal(newest.headHash, heads.get(tenant)?.hash, tenant);
    }
  });
});
