// A batch that runs longer than the consumer session keeps its membership (issue 14): on FerretDB a
// replica taking over a partition (tenant heads dropped at the group join) resolves its first insert's
// duplicate key with a verified reload of the tenant's tail and a lookup of the ids already chained,
// which took 45-80 s in the fault suite, longer than the session timeout. Without a heartbeat between
// those steps the coordinator dropped the replica mid-batch, the partition moved, and the replicas
// passed it back and forth for minutes. Here the store is slowed down (the injected delay of the
// reload alone is longer than the 6 s session, the broker's minimum) and the real broker decides.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumerHandle, KafkaEventBus } from '@authority/platform';
import type { FindCursor, MongoClient } from 'mongodb';
import { ChainStore } from '../../src/index';
import type { EntryDoc } from '../../src/adapters/mongo';
import {
  auditEvent,
  auditRecord,
  eventually,
  publishAll,
  type TestEnv,
  testRig,
  closeRig,
  writePath,
} from '../helpers';

const TENANT = 'long-batch';
const SESSION_TIMEOUT_MS = 6_000;
/** Entries read per pause, and the pause: 2,000 entries take 10 s to read. */
const PAUSE_EVERY = 100;
const PAUSE_MS = 500;

/** FerretDB on a bad day: reading a tenant's entries pauses every PAUSE_EVERY documents once armed. */
class SlowStore extends ChainStore {
  armed = false;
  /** Total pause injected (ms): what the batch waited on the store, whatever the machine's speed. */
  injectedMs = 0;

  override entriesCursor(...args: Parameters<ChainStore['entriesCursor']>): FindCursor<EntryDoc> {
    const inner = super.entriesCursor(...args);
    if (!this.armed) return inner;
    let read = 0;
    const pause = async () => {
      await new Promise<void>((r) => setTimeout(r, PAUSE_MS));
      this.injectedMs += PAUSE_MS;
    };
    const slow = {
      async *[Symbol.asyncIterator]() {
        for await (const doc of inner) {
          if (++read % PAUSE_EVERY === 0) await pause();
          yield doc;
        }
      },
      close: () => inner.close(),
    };
    return slow as unknown as FindCursor<EntryDoc>;
  }
}

describe('a batch longer than the consumer session', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let mongo: MongoClient;
  let handle: ConsumerHandle | undefined;

  before(async () => {
    ({ env, bus, mongo } = await testRig('long-batch'));
  });

  after(async () => {
    await handle?.disconnect();
    await closeRig({ env, bus, mongo });
  });

  it('keeps the group membership: no rejoin, the batch committed once, every event chained once', async () => {
    const store = new SlowStore(mongo.db(env.db));
    await store.ensureIndexes();
    // No checkpoint: the reload verifies the tail from genesis.
    const { appender, ingest } = writePath(store, env, 1_000_000);
    const topic = `${env.prefix}audit`;
    const record = (n: number) => auditRecord(auditEvent({ tenant: TENANT, eventId: `e-${n}`, message: String(n) }));
    let joins = 0;
    let crashes = 0;
    handle = await bus.consume({
      groupId: `${env.prefix}long-batch`,
      topics: [topic],
      fromBeginning: true,
      eachBatch: ingest.handleBatch,
      consumer: { sessionTimeoutMs: SESSION_TIMEOUT_MS, heartbeatIntervalMs: 1_000, rebalanceTimeoutMs: 10_000 },
    });
    handle.on('rebalanced', () => joins++);
    handle.on('crash', () => crashes++);

    const first = Array.from({ length: 2_000 }, (_, n) => record(n));
    await publishAll(bus, topic, first);
    await eventually(
      async () => (ingest.stats.records >= 2_000 ? true : undefined),
      '2,000 events chained',
      60_000,
      100,
    );

    // A takeover: heads forgotten, the store slow. Copies of chained events, then new ones.
    const joinsBefore = joins; // the first join may come before the listener
    appender.invalidateAll();
    store.armed = true;
    const copies = first.slice(1_990);
    const fresh = Array.from({ length: 10 }, (_, i) => record(2_000 + i));
    await publishAll(bus, topic, [...copies, ...fresh]);
    await eventually(
      async () => (ingest.stats.records >= 2_020 ? true : undefined),
      'the long batch committed',
      120_000,
      100,
    );
    assert.ok(store.injectedMs > SESSION_TIMEOUT_MS, `the batch waited ${store.injectedMs} ms on the store`);
    assert.equal(joins, joinsBefore, 'the member never left the group (no rejoin)');
    assert.equal(crashes, 0);
    assert.equal(ingest.stats.batches >= 2 && ingest.stats.records, 2_020, 'each record committed once');
    const entries = await store
      .entriesOf(TENANT)
      .find({}, { projection: { _id: 0, seq: 1, eventId: 1 } })
      .sort({ seq: 1 })
      .toArray();
    assert.equal(entries.length, 2_010);
    entries.forEach((d, i) => assert.equal(d.eventId, `e-${i}`));
  });
});
