// A copy of an event chained long ago is skipped, whenever it arrives (issue 14): the enforcers'
// audit producers are not idempotent and resend a request whose outcome was unknown, so Kafka can
// hold an event twice, the copy far behind the first (after hundreds of other events, checkpoints,
// a restart of the auditor). The chain's unique (tenant, eventId) index is not a window: the copy
// is never chained, and the events around it are, in order, in a chain that verifies.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type EventMessage, type KafkaEventBus } from '@authority/platform';
import type { MongoClient } from 'mongodb';
import { startAuditor, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  publishAll,
  StoredEntries,
  type TestEnv,
  testRig,
  closeRig,
} from '../helpers';

const TENANT = 'late-dup';

describe('a duplicate event arriving long after the first', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor | undefined;
  let mongo: MongoClient;
  const records = new Map<string, EventMessage>();

  /** The record of event `n` (built once: a resend carries the very same bytes). */
  const record = (n: number): EventMessage => {
    let r = records.get(`e-${n}`);
    if (r === undefined) {
      r = auditRecord(auditEvent({ tenant: TENANT, eventId: `e-${n}`, message: String(n) }));
      records.set(`e-${n}`, r);
    }
    return r;
  };
  const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => record(from + i));
  const chained = async (count: number) => {
    const entries = new StoredEntries(mongo.db(env.db)).of(TENANT);
    await eventually(
      async () => ((await entries.countDocuments({})) >= count ? true : undefined),
      `${count} entries chained`,
      60_000,
      100,
    );
  };

  before(async () => {
    ({ env, bus, mongo } = await testRig('late-dup'));
  });

  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  it('is skipped by the running auditor and after a restart; the chain holds each event once, in order, and verifies', async () => {
    const topic = `${env.prefix}audit`;
    const config = auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '100' });
    auditor = await startAuditor(config, { logger: silentLogger() });
    await publishAll(bus, topic, range(0, 300));
    await chained(300);
    // Copies of early events (behind 3 checkpoints), each followed by new ones.
    await publishAll(bus, topic, [record(0), ...range(300, 350), record(5), record(299), ...range(350, 400)]);
    await chained(400);
    // A restarted auditor (no cached head, no recent ids) meets copies again.
    await auditor.stop();
    auditor = await startAuditor(config, { logger: silentLogger() });
    // One partition (the tenant is the key): e-450 chained means every copy before it was read.
    await publishAll(bus, topic, [record(1), record(350), ...range(400, 450), record(0), record(450)]);
    await chained(451);
    const client = auditorClient(auditor.address);
    await eventually(
      async () => {
        const r = await call(client, 'GetCheckpoint', { tenant: TENANT }, env.operatorKey);
        return r.checkpoint?.seq === '451' ? r : undefined;
      },
      'a checkpoint at the head',
      30_000,
      100,
    );
    const docs = await new StoredEntries(mongo.db(env.db)).inSeqOrder(TENANT);
    assert.equal(docs.length, 451, 'no copy chained');
    docs.forEach((d, i) => {
      assert.equal(d.seq, i + 1);
      assert.equal(d.eventId, `e-${i}`, 'each event once, in production order');
    });
    const v = await call(client, 'VerifyChain', { tenant: TENANT }, env.operatorKey);
    assert.equal(v.ok, true, v.message);
    assert.equal(v.headSeq, '451');
    client.close();
  });
});
