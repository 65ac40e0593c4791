// Several writers on the real broker and FerretDB: two auditor replicas in one consumer group with a
// rebalance in the middle (the second joins during ingest, the first leaves); two appenders racing
// on one tenant's chain (the (tenant, seq) index forbids forks, the loser reloads and re-appends);
// and a batch appended but never committed, redelivered: a no-op.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type BatchContext, type EventMessage, type KafkaEventBus } from '@authority/platform';
import type { MongoClient } from 'mongodb';
import {
  admitRecord,
  AuditorKeys,
  ChainAppender,
  ChainStore,
  startAuditor,
  verifyStored,
  type RunningAuditor,
} from '../../src/index';
import {
  auditEvent,
  auditorConfig,
  auditRecord,
  eventually,
  StoredEntries,
  type TestEnv,
  testRig,
  warningsLogger,
  closeRig,
  writePath,
} from '../helpers';

const TENANTS = ['r-a', 'r-b', 'r-c', 'r-d', 'r-e', 'r-f'];

/** Entries stored for these tenants (one collection each). */
async function countEntries(store: ChainStore, tenants: readonly string[]): Promise<number> {
  let n = 0;
  for (const t of tenants) n += await store.entriesOf(t).countDocuments({});
  return n;
}

describe('replicas, races and redelivery', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let mongo: MongoClient;
  let entries: StoredEntries;
  const running: RunningAuditor[] = [];

  before(async () => {
    ({ env, bus, mongo } = await testRig('replicas'));
    entries = new StoredEntries(mongo.db(env.db));
  });

  after(async () => {
    for (const a of running) await a.stop().catch(() => undefined);
    await closeRig({ env, bus, mongo });
  });

  it('two replicas, the second joining during ingest and the first leaving: every event once, in order, chains verify', async () => {
    const produced = new Map<string, string[]>(TENANTS.map((t) => [t, []]));
    let total = 0;
    const wave = async (n: number) => {
      const records: EventMessage[] = [];
      for (let i = 0; i < n; i++) {
        const tenant = TENANTS[i % TENANTS.length] as string;
        const ids = produced.get(tenant)!;
        const eventId = `${tenant}-${ids.length}`;
        ids.push(eventId);
        records.push(auditRecord(auditEvent({ tenant, eventId })));
      }
      for (let i = 0; i < records.length; i += 30) await bus.publish(`${env.prefix}audit`, records.slice(i, i + 30));
      total += n;
    };
    const count = () => entries.count();
    const config = auditorConfig(env, {
      AUTHORITY_AUDITOR_FETCH_MAX_BYTES: '16384',
      AUTHORITY_CHECKPOINT_EVERY: '200',
    });

    await wave(1200);
    const a = await startAuditor(config, { logger: silentLogger() });
    running.push(a);
    await eventually(async () => ((await count()) >= 200 ? true : undefined), 'replica A ingesting', 60_000, 20);
    // B joins while A ingests: the group rebalances and the partitions split.
    const b = await startAuditor(config, { logger: silentLogger() });
    running.push(b);
    await wave(1200);
    await eventually(async () => ((await count()) >= 1500 ? true : undefined), 'both ingesting', 60_000, 20);
    // A leaves: B takes every partition over, from the committed offsets.
    assert.equal(a.grpc.health.status('authority.v1.AuditorService'), 'SERVING');
    await a.stop();
    assert.equal(a.grpc.health.status('authority.v1.AuditorService'), 'NOT_SERVING');
    await wave(1200);
    await eventually(
      async () => ((await entries.count()) === total ? true : undefined),
      'every event chained',
      90_000,
      200,
    );

    assert.ok(a.ingest.stats.appended > 0, 'replica A appended');
    assert.ok(b.ingest.stats.appended > 0, 'replica B appended');
    for (const tenant of TENANTS) {
      const ids = produced.get(tenant)!;
      const docs = await entries.inSeqOrder(tenant);
      assert.deepEqual(
        docs.map((d) => d.eventId),
        ids,
        `${tenant}: every event once, in order`,
      );
      const v = await verifyStored(b.store, { tenant, checkpoints: [], keys: b.keys.resolve });
      assert.equal(v.ok, true, `${tenant}: ${v.message}`);
      assert.equal(v.checked, ids.length);
    }
  });

  it('two appenders racing on one tenant: no fork, every event once, the chain verifies', async () => {
    const store = new ChainStore(mongo.db(`${env.db}_race`));
    await store.ensureIndexes();
    try {
      const keys = AuditorKeys.fromBase64Seed(env.seed);
      const one = new ChainAppender({ store, keys, logger: silentLogger() });
      const two = new ChainAppender({ store, keys, logger: silentLogger() });
      const events = admittedEvents('race', 'race', 450);
      // Same events, same order, both writers at once (a rebalance while the old owner still writes).
      const [r1, r2] = await Promise.all([one.append('race', events), two.append('race', events)]);
      assert.equal(r1.appended + r2.appended, events.length);
      assert.equal(r1.skipped + r2.skipped, events.length);
      // Overlapping halves, racing again after the chain already has entries.
      const more = admittedEvents('race', 'more', 300, 1000);
      await Promise.all([one.append('race', more.slice(0, 200)), two.append('race', more.slice(100))]);
      const docs = await store.entriesOf('race').find({}).sort({ seq: 1 }).toArray();
      assert.equal(docs.length, 750);
      assert.equal(new Set(docs.map((d) => d.eventId)).size, 750);
      assert.deepEqual(
        docs.slice(0, 450).map((d) => d.eventId),
        events.map((e) => e.eventId),
        'identical streams keep their order',
      );
      const v = await verifyStored(store, { tenant: 'race', checkpoints: [], keys: keys.resolve });
      assert.equal(v.ok, true, v.message);
      assert.equal(v.checked, 750);
    } finally {
      await store.db.dropDatabase().catch(() => undefined);
    }
  });

  it('a rebalance forgets a tenant with unsigned entries: the next timer pass reloads its head and signs it', async () => {
    const store = new ChainStore(mongo.db(`${env.db}_forgotten`));
    await store.ensureIndexes();
    try {
      const published: number[] = [];
      const warnings = warningsLogger();
      // Only the timer signs.
      const { appender, checkpointer } = writePath(
        store,
        env,
        1_000_000,
        async (cp) => void published.push(cp.seq),
        warnings.logger,
      );
      const events = admittedEvents('forgotten', 'f', 7);
      await appender.append('forgotten', events);
      // The rebalance comes before the timer: the head is dropped from the cache, no event follows.
      appender.invalidateAll();
      const signed = await checkpointer.tick();
      assert.equal(signed, 1, `the forgotten tenant was signed; logged: ${warnings.lines.join('') || 'nothing'}`);
      await checkpointer.flush();
      const cp = await store.checkpointAt('forgotten', 7);
      assert.ok(cp, `a checkpoint at the head, seq 7; logged: ${warnings.lines.join('') || 'nothing'}`);
      // Once: the first pass after start also republishes what was never acknowledged, and the
      // checkpoint it had just signed was still in flight (CI once saw it published twice).
      assert.deepEqual(published, [7]);
      assert.equal(await checkpointer.tick(), 0, 'signed once');
      await checkpointer.flush();
      assert.deepEqual(published, [7], 'published once');
    } finally {
      await store.db.dropDatabase().catch(() => undefined);
    }
  });

  it('republishing what Kafka never acknowledged skips a checkpoint whose publication is in flight', async () => {
    const store = new ChainStore(mongo.db(`${env.db}_inflight`));
    await store.ensureIndexes();
    try {
      const published: number[] = [];
      let release!: () => void;
      const gate = new Promise<void>((resolve) => (release = resolve));
      // The broker holds the first publication until the republish has started.
      const { appender, checkpointer } = writePath(store, env, 1_000_000, async (cp) => {
        published.push(cp.seq);
        await gate;
      });
      // The broker acknowledges once the republish has read the markers (the one in flight among them).
      const markers = store.unpublishedCheckpoints.bind(store);
      store.unpublishedCheckpoints = async (limit) => {
        const docs = await markers(limit);
        release();
        return docs;
      };
      const events = admittedEvents('inflight', 'i', 7);
      await appender.append('inflight', events);
      const [state] = appender.knownStates();
      assert.ok(state);
      assert.ok(await checkpointer.sign(state), 'signed and stored; its publication waits at the broker');
      assert.deepEqual(published, [7]);
      const republished = await checkpointer.publishPending();
      await checkpointer.flush();
      assert.equal(republished, 0, 'nothing left to republish once the publication in flight ended');
      assert.deepEqual(published, [7], 'published once');
      assert.equal((await store.checkpointAt('inflight', 7))?.published, true);
    } finally {
      await store.db.dropDatabase().catch(() => undefined);
    }
  });

  it('a batch appended but not committed (crash before the commit) is a no-op when redelivered', async () => {
    const store = new ChainStore(mongo.db(`${env.db}_redeliver`));
    await store.ensureIndexes();
    try {
      const { keys, ingest } = writePath(store, env, 1000);
      const messages = Array.from({ length: 120 }, (_, i) => {
        const m = auditRecord(auditEvent({ tenant: i % 2 === 0 ? 'even' : 'odd', eventId: `e-${i}` }));
        return {
          topic: 'audit',
          partition: 0,
          key: Buffer.from(m.key as string),
          value: m.value as Buffer,
          headers: m.headers as Record<string, Buffer | string>,
          offset: String(i),
          timestamp: '0',
        };
      });
      const commits: string[] = [];
      const payload = (commit: (offset: string) => Promise<void>): BatchContext => ({
        batch: { topic: 'audit', partition: 0, messages, highWatermark: '120' },
        heartbeat: async () => undefined,
        isStale: () => false,
        commit,
      });
      await assert.rejects(
        ingest.handleBatch(
          payload(async () => {
            throw new Error('crash before the commit');
          }),
        ),
        /crash before the commit/,
      );
      assert.equal(await countEntries(store, ['even', 'odd']), 120, 'written before the failed commit');
      // The new owner of the partition (fresh caches) gets the same batch again.
      const { ingest: again } = writePath(store, env, 1000);
      await again.handleBatch(payload(async (o) => void commits.push(o)));
      assert.equal(await countEntries(store, ['even', 'odd']), 120, 'nothing chained twice');
      assert.equal(again.stats.skipped, 120);
      assert.deepEqual(commits, ['119'], 'committed through the last record of the batch');
      for (const tenant of ['even', 'odd']) {
        const v = await verifyStored(store, { tenant, checkpoints: [], keys: keys.resolve });
        assert.equal(v.ok, true, v.message);
        assert.equal(v.checked, 60);
      }
    } finally {
      await store.db.dropDatabase().catch(() => undefined);
    }
  });
});

/** `count` admitted events of `tenant` (event ids `<prefix>-<i>`), at offsets from `offsetBase`. */
function admittedEvents(tenant: string, prefix: string, count: number, offsetBase = 0) {
  return Array.from({ length: count }, (_, i) => {
    const r = admitRecord({
      ...asConsumed(auditRecord(auditEvent({ tenant, eventId: `${prefix}-${i}` }))),
      partition: 0,
      offset: String(offsetBase + i),
    });
    assert.ok(r.ok);
    return r;
  });
}

function asConsumed(m: EventMessage) {
  return {
    key: m.key === null ? null : Buffer.from(m.key),
    value: m.value === null ? null : Buffer.from(m.value),
    headers: m.headers ?? {},
  };
}
