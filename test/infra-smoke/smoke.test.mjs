// Infra smoke test: proves that the Kafka broker at KAFKA_BROKERS works with
// kafkajs (produce with headers, consume in a group, commit, read the commit
// back) and that the MongoDB-wire server at MONGODB_URI gives the chain store
// what it relies on (unique indexes, duplicate key = code 11000, majority write
// concern accepted).
//
//   scripts/infra/up.sh && . .infra/env && node --test test/infra-smoke/
//
// Never skips: without KAFKA_BROKERS / MONGODB_URI every test fails loudly.
// No sleeps: waiting is done on promises resolved by client callbacks/events;
// the per-test `timeout` only bounds a hang.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import { MongoClient } from 'mongodb';

const TEST_TIMEOUT_MS = 120_000;

function requireEnv(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(
      `${name} is not set. The infra smoke test needs a running Kafka and MongoDB-wire server: ` +
        'run `scripts/infra/up.sh && . .infra/env` (or export KAFKA_BROKERS and MONGODB_URI) first.',
    );
  }
  return value;
}

/** A promise plus its resolve/reject, for waiting on callbacks without timers. */
function deferred() {
  let resolve;
  let reject;
  const promise = new Promise((res, rej) => {
    resolve = res;
    reject = rej;
  });
  promise.catch(() => {}); // rejections are observed where the promise is awaited
  return { promise, resolve, reject };
}

describe('Kafka (kafkajs) against KAFKA_BROKERS', { timeout: TEST_TIMEOUT_MS }, () => {
  const run = randomUUID();
  const topic = `infra-smoke-${run}`;
  const groupId = `infra-smoke-group-${run}`;
  let kafka;
  let admin;
  const toDisconnect = [];

  before(async () => {
    const brokers = requireEnv('KAFKA_BROKERS')
      .split(',')
      .map((b) => b.trim())
      .filter(Boolean);
    kafka = new Kafka({ clientId: 'authority-infra-smoke', brokers, logLevel: logLevel.ERROR });
    admin = kafka.admin();
    await admin.connect();
    toDisconnect.push(admin);
  });

  after(async () => {
    if (admin) {
      await admin.deleteTopics({ topics: [topic] }).catch(() => {});
    }
    for (const client of toDisconnect.reverse()) {
      await client.disconnect().catch(() => {});
    }
  });

  test('creates a topic, produces with headers, consumes in a group, commits and fetches the offsets', async () => {
    const partitions = 3;
    const created = await admin.createTopics({
      topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }],
      waitForLeaders: true,
    });
    assert.equal(created, true, `topic ${topic} was not created`);
    const metadata = await admin.fetchTopicMetadata({ topics: [topic] });
    assert.equal(metadata.topics[0].partitions.length, partitions);

    const messages = Array.from({ length: 12 }, (_, i) => ({
      key: `tenant-${i % 4}`,
      value: JSON.stringify({ seq: i, run }),
      headers: { 'x-run-id': run, 'x-seq': String(i), traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
    }));

    const producer = kafka.producer({ allowAutoTopicCreation: false });
    await producer.connect();
    toDisconnect.push(producer);
    const sent = await producer.send({ topic, acks: -1, messages });
    assert.ok(sent.length > 0 && sent.every((r) => r.errorCode === 0), `produce errors: ${JSON.stringify(sent)}`);

    // Consume everything in a consumer group, with manual commits. A short fetch
    // long-poll: stop()/disconnect() wait for the in-flight fetch (default 5 s).
    const consumer = kafka.consumer({ groupId, allowAutoTopicCreation: false, maxWaitTimeInMs: 250 });
    await consumer.connect();
    toDisconnect.push(consumer);
    const joined = deferred();
    const allReceived = deferred();
    consumer.on(consumer.events.GROUP_JOIN, (e) => joined.resolve(e.payload));
    consumer.on(consumer.events.CRASH, (e) => {
      joined.reject(e.payload.error);
      allReceived.reject(e.payload.error);
    });
    await consumer.subscribe({ topics: [topic], fromBeginning: true });

    const received = [];
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ partition, message }) => {
        received.push({ partition, message });
        // Commit each message as it is processed (offset of the *next* message).
        await consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]);
        if (received.length === messages.length) allReceived.resolve();
      },
    });

    const joinPayload = await joined.promise;
    assert.equal(joinPayload.groupId, groupId);
    await allReceived.promise;

    // Every message arrived once, with its key and headers intact.
    const bySeq = new Map(
      received.map(({ partition, message }) => [JSON.parse(message.value.toString()).seq, { partition, message }]),
    );
    assert.equal(received.length, messages.length, 'duplicate messages');
    assert.equal(bySeq.size, messages.length, 'missing messages');
    for (const [seq, { message }] of bySeq) {
      assert.equal(message.key.toString(), `tenant-${seq % 4}`);
      assert.equal(message.headers['x-run-id'].toString(), run);
      assert.equal(message.headers['x-seq'].toString(), String(seq));
      assert.match(message.headers.traceparent.toString(), /^00-a{32}-b{16}-01$/);
    }
    // Same key -> same partition.
    for (let k = 0; k < 4; k++) {
      const parts = new Set([...bySeq].filter(([seq]) => seq % 4 === k).map(([, v]) => v.partition));
      assert.equal(parts.size, 1, `key tenant-${k} spread over partitions ${[...parts]}`);
    }

    // The committed offsets, read back through the admin API, equal the end offsets.
    const ends = await admin.fetchTopicOffsets(topic);
    const committed = await admin.fetchOffsets({ groupId, topics: [topic] });
    assert.equal(committed.length, 1);
    assert.equal(committed[0].topic, topic);
    const committedByPartition = new Map(committed[0].partitions.map((p) => [p.partition, p.offset]));
    let total = 0;
    for (const end of ends) {
      total += Number(end.high);
      const expected = Number(end.high) === 0 ? '-1' : end.high;
      assert.equal(
        committedByPartition.get(end.partition),
        expected,
        `partition ${end.partition}: committed vs high watermark`,
      );
    }
    assert.equal(total, messages.length);

    await consumer.stop();
    await consumer.disconnect();
    const groups = await admin.describeGroups([groupId]);
    assert.equal(groups.groups[0].groupId, groupId);
    assert.equal(groups.groups[0].state, 'Empty', 'group should be Empty after the consumer left');
  });
});

describe('MongoDB wire protocol (mongodb driver) against MONGODB_URI', { timeout: TEST_TIMEOUT_MS }, () => {
  const dbName = `infra_smoke_${randomUUID().replaceAll('-', '')}`;
  let client;
  let db;

  before(async () => {
    client = new MongoClient(requireEnv('MONGODB_URI'), {
      // What the chain store uses (ecosystem.md §2.4): must be accepted.
      writeConcern: { w: 'majority', journal: true },
      readConcern: { level: 'majority' },
      serverSelectionTimeoutMS: 10_000,
    });
    await client.connect();
    db = client.db(dbName);
  });

  after(async () => {
    if (db) await db.dropDatabase().catch(() => {});
    if (client) await client.close();
  });

  test('ping answers', async () => {
    const res = await db.admin().command({ ping: 1 });
    assert.equal(res.ok, 1);
  });

  test('inserts and reads documents', async () => {
    const col = db.collection('docs');
    const docs = Array.from({ length: 5 }, (_, i) => ({ tenantId: 't1', seq: i, payload: { n: i, tags: ['a', 'b'] } }));
    const res = await col.insertMany(docs);
    assert.equal(res.insertedCount, docs.length);
    const found = await col
      .find({ tenantId: 't1' }, { projection: { _id: 0 } })
      .sort({ seq: 1 })
      .toArray();
    assert.deepEqual(
      found,
      docs.map(({ _id, ...rest }) => rest),
    );
    const one = await col.findOne({ tenantId: 't1', seq: 3 });
    assert.equal(one.payload.n, 3);
    assert.equal(await col.countDocuments({ tenantId: 't1' }), docs.length);
  });

  test('a unique index rejects a duplicate with code 11000', async () => {
    const col = db.collection('chain');
    const name = await col.createIndex({ tenantId: 1, seq: 1 }, { unique: true, name: 'tenant_seq_unique' });
    assert.equal(name, 'tenant_seq_unique');
    const indexes = await col.indexes();
    const idx = indexes.find((i) => i.name === 'tenant_seq_unique');
    assert.ok(idx, `index missing: ${JSON.stringify(indexes)}`);
    assert.equal(idx.unique, true);

    await col.insertOne({ tenantId: 't1', seq: 0, hash: 'h0' });
    await col.insertOne({ tenantId: 't2', seq: 0, hash: 'h0' }); // other tenant: allowed
    await assert.rejects(col.insertOne({ tenantId: 't1', seq: 0, hash: 'other' }), (err) => {
      assert.equal(err.code, 11000, `expected duplicate key code 11000, got ${err.code}: ${err.message}`);
      return true;
    });
    assert.equal(await col.countDocuments({ tenantId: 't1' }), 1);
  });

  test('concurrent appends of the same link: exactly one wins, the rest get 11000', async () => {
    const col = db.collection('race');
    await col.createIndex({ tenantId: 1, seq: 1 }, { unique: true });
    const attempts = 10;
    const results = await Promise.allSettled(
      Array.from({ length: attempts }, (_, i) => col.insertOne({ tenantId: 't1', seq: 1, writer: i })),
    );
    const won = results.filter((r) => r.status === 'fulfilled');
    const lost = results.filter((r) => r.status === 'rejected');
    assert.equal(won.length, 1, `winners: ${won.length}`);
    for (const r of lost) assert.equal(r.reason.code, 11000, `loser failed with ${r.reason.code}: ${r.reason.message}`);
    assert.equal(await col.countDocuments({ tenantId: 't1', seq: 1 }), 1);
  });
});
