// Two policy service replicas on the same MongoDB and Kafka: optimistic concurrency under a race
// (exactly one winner, no lost update) and WatchPolicies (backlog then live, each version once,
// in order, also for versions committed on the other replica; client cancel).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeEvent, pb } from '@authority/proto';
import type { KafkaEventBus } from '@authority/platform';
import type { PolicyServiceHandle } from '../../src/index';
import { PolicyStore, versionKey, VersionConflictError } from '../../src/adapters/mongo';
import {
  eventually,
  PolicyClient,
  publishCredential,
  readTopics,
  smallPolicy,
  startService,
  withMongo,
  type TestEnv,
  testRig,
  closeRig,
} from './helpers';

let env: TestEnv;
let bus: KafkaEventBus;
let one: PolicyServiceHandle;
let two: PolicyServiceHandle;
let adminSecret: string;
const clients: PolicyClient[] = [];

function client(svc: PolicyServiceHandle): PolicyClient {
  const c = new PolicyClient(svc.port, adminSecret);
  clients.push(c);
  return c;
}

before(async () => {
  ({ env, bus } = await testRig());
  adminSecret = (await publishCredential(bus, env, 'race-one', 'ADMIN')).secret;
  [one, two] = await Promise.all([startService(env), startService(env)]);
});

after(async () => {
  clients.forEach((c) => c.close());
  await Promise.all([one?.stop(), two?.stop()]);
  await closeRig({ env, bus });
});

/** Runs 10 puts with the same expected version at once; returns the outcomes. */
async function race(clientsFor: PolicyClient[], tenant: string, expected: number) {
  const results = await Promise.allSettled(
    Array.from({ length: 10 }, (_, i) =>
      clientsFor[i % clientsFor.length]!.put(tenant, smallPolicy(`writer-${i}`), expected),
    ),
  );
  const winners = results.flatMap((r, i) =>
    r.status === 'fulfilled' ? [{ i, version: r.value.policy!.version }] : [],
  );
  const losers = results.flatMap((r) =>
    r.status === 'rejected' ? [r.reason as { codeName: string; message: string }] : [],
  );
  return { winners, losers };
}

describe('optimistic concurrency', () => {
  test('the linearization point: 10 concurrent inserts of one (tenant, version) into FerretDB, exactly one succeeds', async () => {
    await withMongo(env, async (mongo) => {
      const store = new PolicyStore(mongo.db(env.database));
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, (_, i) =>
          store.insert({
            _id: versionKey('race-store', 1),
            tenant: 'race-store',
            version: 1,
            yaml: `w${i}`,
            sha256: '',
            author: 'test',
            createdAt: new Date(),
            deleted: false,
            diffSummary: '',
            auditEventId: `e${i}`,
            published: true,
          }),
        ),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
      for (const r of results)
        if (r.status === 'rejected') assert.ok(r.reason instanceof VersionConflictError, String(r.reason));
      // The compound unique index alone (a different _id) also refuses a second version 1.
      await assert.rejects(
        store.collection.insertOne({ _id: 'other-id', tenant: 'race-store', version: 1 } as never),
        (e: { code?: number }) => e.code === 11000,
      );
    });
  });

  test('10 concurrent puts with the same expected version on one replica: exactly one wins, the rest ABORTED', async () => {
    const c = client(one);
    const { winners, losers } = await race([c], 'race-one', 0);
    assert.equal(winners.length, 1, 'exactly one winner');
    assert.equal(winners[0]!.version, '1');
    assert.equal(losers.length, 9);
    for (const l of losers) {
      assert.equal(l.codeName, 'ABORTED');
      assert.match(l.message, /expected version 0 but the current version is 1/);
    }
    const got = await c.get('race-one');
    assert.equal(got.policy!.version, '1');
    assert.match(got.policy!.yaml, new RegExp(`writer-${winners[0]!.i}`), "the winner's text is the stored one");
  });

  test('the same across TWO replicas (5 writers each), then a second round on top: no lost update', async () => {
    const c1 = client(one);
    const c2 = client(two);
    for (const expected of [1, 2]) {
      const { winners, losers } = await race([c1, c2], 'race-one', expected);
      assert.equal(winners.length, 1, `round ${expected}: exactly one winner`);
      assert.equal(winners[0]!.version, String(expected + 1));
      assert.equal(losers.length, 9);
      for (const l of losers) assert.equal(l.codeName, 'ABORTED');
    }
    // Both replicas agree; every version is on the topic exactly once per record key, in a
    // contiguous sequence a consumer can rebuild.
    assert.equal((await c1.get('race-one')).policy!.version, '3');
    assert.equal((await c2.get('race-one')).policy!.version, '3');
    const records = await readTopics(bus, [`${env.prefix}policies`]);
    const versions = records
      .filter((m) => m.key?.toString().startsWith('race-one/'))
      .map((m) => decodeEvent(pb.PolicyVersionEventSchema, m.value!))
      .map((e) => Number(e.version))
      .sort((a, b) => a - b);
    assert.deepEqual([...new Set(versions)], [1, 2, 3]);
    const list = await c2.list('race-one');
    assert.deepEqual(
      list.versions.map((v) => v.version),
      ['3', '2', '1'],
    );
  });
});

describe('WatchPolicies', () => {
  const tenant = 'race-one';

  test('backlog then live versions, each exactly once and in order, across replicas; cancel ends it', async () => {
    const c1 = client(one);
    const c2 = client(two);
    const start = Number((await c1.get(tenant)).policy!.version); // 3 after the races above
    // Watch on replica two from version 1: the backlog is 2..start.
    const watcher = c2.watch(tenant, 1);
    await watcher.waitFor(start - 1);
    // Live versions, alternately committed on replica one (the watcher learns of them through the
    // policies topic) and on replica two (locally).
    let expected = start;
    for (let i = 0; i < 4; i++) {
      const via = i % 2 === 0 ? c1 : c2;
      const put = await via.put(tenant, smallPolicy(`live-${i}`), expected);
      expected = Number(put.policy!.version);
    }
    const del = await c1.delete(tenant, expected);
    expected = Number(del.policy!.version);
    const received = await watcher.waitFor(expected - 1);
    assert.deepEqual(
      received.map((v) => Number(v.version)),
      Array.from({ length: expected - 1 }, (_, i) => i + 2),
      'versions 2..N, once each, in order',
    );
    const last = received[received.length - 1]!;
    assert.equal(last.deleted, true);
    assert.match(received.find((v) => v.version === String(start + 1))!.yaml, /live-0/);

    // A second watcher from the current version sees only what comes next.
    const tail = c1.watch(tenant, expected);
    const put = await c2.put(tenant, smallPolicy('after-delete'), expected);
    const tailGot = await tail.waitFor(1);
    assert.deepEqual(
      tailGot.map((v) => v.version),
      [put.policy!.version],
    );
    await watcher.waitFor(expected);
    assert.equal(watcher.received.length, expected, 'no duplicate delivered to the first watcher');

    // Client cancel: the server drops the streams (the watcher count returns to zero).
    watcher.cancel();
    tail.cancel();
    assert.equal((await watcher.waitForError()).codeName, 'CANCELLED');
    await eventually(
      () => (one.watchers() === 0 && two.watchers() === 0 ? true : undefined),
      'watch streams to close on cancel',
    );
  });

  test('a watch of a tenant with nothing yet stays open and delivers version 1 when it comes', async () => {
    const secret = (await publishCredential(bus, env, 'watch-fresh', 'ADMIN')).secret;
    const c = new PolicyClient(one.port, secret);
    clients.push(c);
    // The credential reaches the replicas through the keys topic.
    await eventually(
      async () =>
        c.get('watch-fresh').then(
          () => true,
          (e: { codeName: string }) => (e.codeName === 'NOT_FOUND' ? true : undefined),
        ),
      'credential to be known',
    );
    const w = c.watch('watch-fresh', 0);
    const other = new PolicyClient(two.port, secret);
    clients.push(other);
    await eventually(
      async () =>
        other.get('watch-fresh').then(
          () => true,
          (e: { codeName: string }) => (e.codeName === 'NOT_FOUND' ? true : undefined),
        ),
      'credential to be known on replica two',
    );
    await other.put('watch-fresh', smallPolicy('first'), 0);
    const got = await w.waitFor(1);
    assert.equal(got[0]!.version, '1');
    w.cancel();
  });
});
