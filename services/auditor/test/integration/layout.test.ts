// The auditor's storage layout (issue 17): one entry collection per tenant, keyed by the zero-padded
// seq, so the hot reads (a QueryEvents page, the chain head) are `_id` equality lookups, the only
// filter FerretDB 1.24 pushes down, on one tenant's collection; and the one-time migration of a store
// written with the single `entries` collection (idempotent, and correct after a crash half-way).
// The driver's command log says what each read asked the server for.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auditGenesisHead, cryptoReady, signCheckpoint } from '@authority/core';
import { silentLogger, type EventMessage } from '@authority/platform';
import { MongoClient, type CommandStartedEvent, type Document } from 'mongodb';
import { admitRecord, AuditorKeys, AuditReader, ChainAppender, ChainStore, verifyStored } from '../../src/index';
import {
  aggregatesCollectionName,
  ARCHIVES_COLLECTION,
  CHECKPOINT_HEADS_COLLECTION,
  checkpointsCollectionName,
  entriesCollectionName,
  entryId,
  LEGACY_CHECKPOINTS_COLLECTION,
  LEGACY_ENTRIES_COLLECTION,
  type EntryDoc,
} from '../../src/adapters/mongo';
import { encodePageToken } from '../../src/tokens';
import { auditEvent, auditRecord, newTestEnv, requireInfra, type TestEnv } from '../helpers';

const A = 'layout-a';
const B = 'layout-b';

function admitted(tenant: string, n: number) {
  const m: EventMessage = auditRecord(auditEvent({ tenant, eventId: `${tenant}-${n}`, message: String(n) }));
  const r = admitRecord({
    key: m.key === null ? null : Buffer.from(m.key),
    value: m.value === null ? null : Buffer.from(m.value),
    headers: m.headers ?? {},
    partition: 0,
    offset: String(n),
  });
  assert.ok(r.ok);
  return r;
}

describe('storage layout: entries and checkpoints in one collection per tenant, _id = zero-padded seq', () => {
  let env: TestEnv;
  let mongo: MongoClient;
  const commands: CommandStartedEvent[] = [];

  before(async () => {
    await cryptoReady();
    env = newTestEnv();
    mongo = new MongoClient(requireInfra().mongo, { monitorCommands: true });
    mongo.on('commandStarted', (e) => commands.push(e));
    await mongo.connect();
  });

  after(async () => {
    for (const suffix of ['', '_migrate', '_unplaceable']) {
      await mongo
        ?.db(`${env.db}${suffix}`)
        .dropDatabase()
        .catch(() => undefined);
    }
    await mongo?.close();
  });

  /** The finds sent while `fn` ran: collection and filter. */
  async function findsDuring(fn: () => Promise<unknown>): Promise<{ collection: string; filter: Document }[]> {
    commands.length = 0;
    await fn();
    return commands
      .filter((c) => c.commandName === 'find')
      .map((c) => ({ collection: c.command['find'] as string, filter: (c.command['filter'] ?? {}) as Document }));
  }

  it('stores each tenant in its own collection, keyed by seq; pages and heads are _id lookups on it', async () => {
    const store = new ChainStore(mongo.db(env.db));
    await store.ensureIndexes();
    const keys = AuditorKeys.fromBase64Seed(env.seed);
    const appender = new ChainAppender({ store, keys, logger: silentLogger() });
    await appender.append(
      A,
      Array.from({ length: 30 }, (_, n) => admitted(A, n)),
    );
    await appender.append(
      B,
      Array.from({ length: 12 }, (_, n) => admitted(B, n)),
    );

    for (const [tenant, count] of [
      [A, 30],
      [B, 12],
    ] as const) {
      const docs = await mongo.db(env.db).collection(entriesCollectionName(tenant)).find({}).sort({ _id: 1 }).toArray();
      assert.equal(docs.length, count, `${tenant}: its entries, no other tenant's`);
      docs.forEach((d, i) => {
        assert.equal(d['_id'], entryId(i + 1));
        assert.equal(d['tenant'], tenant);
      });
    }
    assert.equal(entryId(7), '000000000000007');
    assert.equal(
      await mongo.db(env.db).listCollections({ name: LEGACY_ENTRIES_COLLECTION }).hasNext(),
      false,
      'no single collection of all tenants',
    );

    const reader = new AuditReader({ store, keys, policies: { get: () => undefined }, scanLimit: 10_000 });
    const query = { tenant: A, agentId: '', action: '', resourceGlob: '', decision: '', reason: '' };
    let page: Awaited<ReturnType<AuditReader['query']>> | undefined;
    const pageFinds = await findsDuring(async () => {
      page = await reader.query({ ...query, pageSize: 1, pageToken: '' });
    });
    assert.deepEqual(
      page?.entries.map((e) => e.entry.seq),
      [1],
    );
    const next = await reader.query({ ...query, pageSize: 5, pageToken: page?.nextPageToken ?? '' });
    assert.deepEqual(
      next.entries.map((e) => e.entry.seq),
      [2, 3, 4, 5, 6],
    );
    const end = await reader.query({ ...query, pageSize: 5, pageToken: encodePageToken('q', A, 28) });
    assert.deepEqual(
      end.entries.map((e) => e.entry.seq),
      [29, 30],
    );
    assert.equal(end.nextPageToken, '', 'the last page says so');

    const headFinds = await findsDuring(async () => {
      assert.equal((await store.lastEntry(A))?.seq, 30);
      assert.equal((await store.lastEntry(B))?.seq, 12);
      assert.equal(await store.lastEntry('layout-empty'), undefined);
    });
    await appender.saveHints();
    const hintedFinds = await findsDuring(async () => assert.equal((await store.lastEntry(A))?.seq, 30));

    for (const [what, finds, tenants] of [
      ['a page of A', pageFinds, [A]],
      ['the heads', headFinds, [A, B, 'layout-empty']],
      ['the head of A from its hint', hintedFinds, [A]],
    ] as const) {
      assert.ok(finds.length > 0, what);
      for (const f of finds) {
        if (
          f.collection === 'heads' ||
          f.collection === CHECKPOINT_HEADS_COLLECTION ||
          f.collection === ARCHIVES_COLLECTION
        ) {
          assert.ok(
            (tenants as readonly string[]).includes(f.filter['_id'] as string),
            `${what}: the hint or archive boundary of a tenant asked for`,
          );
          continue;
        }
        assert.ok(
          tenants.some((t) => f.collection === entriesCollectionName(t)),
          `${what}: read ${f.collection}, a collection of a tenant it was not about`,
        );
        assert.deepEqual(Object.keys(f.filter), ['_id'], `${what}: ${JSON.stringify(f.filter)} is more than _id`);
        assert.equal(typeof f.filter['_id'], 'string', `${what}: _id equality on a string (FerretDB pushes it down)`);
      }
    }
    // From the hint: the hint and the checkpoint pointer, the hinted entry and the one after it
    // (not there): no search.
    assert.ok(hintedFinds.length <= 4, `${hintedFinds.length} reads`);
    // Where the server tells (FerretDB's explain), such a lookup is pushed down to the backend.
    const explained = await mongo
      .db(env.db)
      .command({ explain: { find: entriesCollectionName(A), filter: { _id: entryId(3) } } });
    if ('filterPushdown' in explained) assert.equal(explained['filterPushdown'], true);
    // And it is an index search, not a scan of the collection: FerretDB's explain carries SQLite's
    // query plan (unpatched FerretDB 1.24.2 says `SCAN`: scripts/infra/ferretdb-patches/0001),
    // MongoDB's its winning plan.
    const planner = (explained['queryPlanner'] ?? {}) as Document;
    const sqlitePlan: unknown = planner['Plan'];
    if (Array.isArray(sqlitePlan)) {
      const lines = sqlitePlan.map(String);
      assert.ok(
        lines.some((l) => /\bSEARCH\b.*\bUSING INDEX\b/.test(l)) && !lines.some((l) => /\bSCAN\b/.test(l)),
        `an _id lookup is an index search: ${lines.join(' | ')}`,
      );
    } else {
      assert.ok(planner['winningPlan'] !== undefined, `the server explains its plan: ${JSON.stringify(explained)}`);
      assert.doesNotMatch(JSON.stringify(planner['winningPlan']), /COLLSCAN/, 'an _id lookup is an index search');
    }

    // VerifyChain of A reads A's collection only, and B's entries never show up in A's answers.
    const verifyFinds = await findsDuring(async () => {
      const v = await reader.verify({ tenant: A, fromSeq: 0, toSeq: 0, checkpointSeq: 0 });
      assert.equal(v.ok, true, v.message);
      assert.equal(v.checked, 30);
    });
    const ownedByA: Record<string, string> = {
      [entriesCollectionName(A)]: '',
      [checkpointsCollectionName(A)]: '',
      heads: A,
      [CHECKPOINT_HEADS_COLLECTION]: A,
      [ARCHIVES_COLLECTION]: A, // the archive boundary, where verification starts
      [aggregatesCollectionName(A)]: '', // recomputed and compared (AGGREGATE_MISMATCH)
    };
    for (const f of verifyFinds) {
      assert.ok(f.collection in ownedByA, `VerifyChain of A read ${f.collection}`);
      if (ownedByA[f.collection] !== '') assert.equal(f.filter['_id'], A, `${f.collection}: A's document`);
    }
    const all = await reader.query({ ...query, tenant: B, pageSize: 100, pageToken: '' });
    assert.equal(all.entries.length, 12);
    for (const e of all.entries) assert.equal(e.entry.tenant, B);
  });

  it('an entry filed under another seq is reported by verification (the key is checked)', async () => {
    const store = new ChainStore(mongo.db(env.db));
    const keys = AuditorKeys.fromBase64Seed(env.seed);
    const collection = mongo.db(env.db).collection<EntryDoc>(entriesCollectionName(B));
    const doc = (await collection.findOne({ _id: entryId(12) })) as EntryDoc;
    await collection.deleteOne({ _id: entryId(12) });
    await collection.insertOne({ ...doc, _id: entryId(13) });
    const v = await verifyStored(store, { tenant: B, checkpoints: [], keys: keys.resolve });
    assert.equal(v.ok, false);
    assert.equal(v.firstBadSeq, 12);
    assert.match(v.message ?? '', /stored under _id '000000000000013'/);
  });

  it('keeps the agent indexes on MongoDB only: a FerretDB store that has them loses them at the first append', async () => {
    const tenant = 'layout-indexes';
    const collection = mongo.db(env.db).collection(entriesCollectionName(tenant));
    // A store written before: the agent indexes were created on every server.
    await collection.createIndex({ agents: 1, _id: 1 }, { name: 'ix_agents_id' });
    await collection.createIndex({ agent: 1, _id: 1 }, { name: 'ix_agent_id' });
    const store = new ChainStore(mongo.db(env.db));
    const ferretDB = await store.isFerretDB();
    const info = await mongo.db('admin').command({ buildInfo: 1 });
    assert.equal(ferretDB, typeof info['ferretdbVersion'] === 'string');
    const appender = new ChainAppender({ store, keys: AuditorKeys.fromBase64Seed(env.seed), logger: silentLogger() });
    await appender.append(tenant, [admitted(tenant, 1)]);
    const names = (await collection.listIndexes().toArray()).map((i) => i['name'] as string).sort();
    assert.deepEqual(
      names,
      ferretDB ? ['_id_', 'uq_event'] : ['_id_', 'ix_agent_id', 'ix_agents_id', 'uq_event'],
      `indexes on ${ferretDB ? 'FerretDB' : 'MongoDB'}`,
    );
    assert.equal((await store.entryAt(tenant, 1))?.eventId, `${tenant}-1`);
  });

  it('migrates a single-collection store at start: every entry and checkpoint once, chains verify, again is a no-op', async () => {
    const db = mongo.db(`${env.db}_migrate`);
    const keys = AuditorKeys.fromBase64Seed(env.seed);
    const store = new ChainStore(db);
    const appender = new ChainAppender({ store, keys, logger: silentLogger() });
    // The old layout: {tenant, seq, ...} with ObjectId _ids, every tenant in `entries`.
    const legacyDocs = (tenant: string, n: number) =>
      appender
        .buildDocs(
          tenant,
          { seq: 0, hash: Buffer.from(auditGenesisHead(tenant).hash) },
          Array.from({ length: n }, (_, i) => admitted(tenant, i)),
        )
        .map(({ _id, ...old }) => {
          void _id;
          return old;
        });
    const oldA = legacyDocs(A, 250);
    const oldB = legacyDocs(B, 40);
    const legacy = db.collection(LEGACY_ENTRIES_COLLECTION);
    // Interleaved, as a store that chained both tenants at once holds them.
    for (let i = 0; i < 250; i += 50)
      await legacy.insertMany([...oldA.slice(i, i + 50), ...oldB.slice((i / 50) * 8, (i / 50) * 8 + 8)]);
    // A run that crashed half-way: some of A's entries are copied already.
    const crashed: EntryDoc[] = oldA.slice(0, 120).map((d) => ({ ...d, _id: entryId(d.seq) }) as EntryDoc);
    await db.collection<EntryDoc>(entriesCollectionName(A)).insertMany(crashed);

    // Legacy checkpoints: every 100 entries of A (the newest not yet published), one of B.
    const legacyCheckpoint = (tenant: string, seq: number, published: boolean) => {
      const d = (tenant === A ? oldA : oldB)[seq - 1]!;
      const cp = signCheckpoint(
        { tenant, seq, headHash: d.hash, time: 1_767_225_600 + seq },
        keys.secretKey(),
        keys.keyId,
      );
      return { ...cp, createdAt: new Date(), published };
    };
    await db
      .collection(LEGACY_CHECKPOINTS_COLLECTION)
      .insertMany([legacyCheckpoint(A, 100, true), legacyCheckpoint(B, 40, true), legacyCheckpoint(A, 200, false)]);

    const result = await store.ensureIndexes();
    assert.deepEqual(result, { copied: 130 + 40 + 3, alreadyThere: 120, unplaceable: 0 });
    assert.equal(await db.listCollections({ name: LEGACY_CHECKPOINTS_COLLECTION }).hasNext(), false);
    assert.deepEqual(
      (await store.checkpointsAsc(A, 0)).map((c) => c.seq),
      [100, 200],
    );
    assert.deepEqual(
      (await store.unpublishedCheckpoints()).map((c) => [c.tenant, c.seq]),
      [[A, 200]],
      'an unpublished checkpoint is still republished after the move',
    );
    const latestFinds = await findsDuring(async () => {
      assert.equal((await store.checkpointsDesc(A, 1))[0]?.seq, 200);
      assert.equal((await store.checkpointsDesc(B, 1))[0]?.seq, 40);
    });
    for (const f of latestFinds) {
      assert.deepEqual(Object.keys(f.filter), ['_id'], `the latest checkpoint: ${JSON.stringify(f.filter)}`);
    }
    await store.markPublished(A, 200);
    assert.deepEqual(await store.unpublishedCheckpoints(), []);
    assert.equal(await db.listCollections({ name: LEGACY_ENTRIES_COLLECTION }).hasNext(), false, 'dropped once copied');
    for (const [tenant, n] of [
      [A, 250],
      [B, 40],
    ] as const) {
      const docs = await store.entriesOf(tenant).find({}).sort({ _id: 1 }).toArray();
      assert.equal(docs.length, n);
      assert.deepEqual(
        docs.map((d) => d.eventId),
        Array.from({ length: n }, (_, i) => `${tenant}-${i}`),
      );
      const v = await verifyStored(store, { tenant, checkpoints: [], keys: keys.resolve });
      assert.equal(v.ok, true, `${tenant}: ${v.message}`);
      assert.equal(v.checked, n);
      assert.equal((await store.lastEntry(tenant))?.seq, n);
    }
    // Appending after the migration continues the migrated chain.
    const fresh = new ChainAppender({ store, keys, logger: silentLogger() });
    await fresh.reload(A);
    await fresh.append(A, [admitted(A, 250), admitted(A, 3)]);
    const after = await store.entriesOf(A).find({}).sort({ _id: 1 }).toArray();
    assert.deepEqual(
      after.map((d) => d.eventId),
      Array.from({ length: 251 }, (_, i) => `${A}-${i}`),
      'the new event appended at seq 251; the redelivered one found in the migrated chain',
    );
    assert.deepEqual(await new ChainStore(db).ensureIndexes(), { copied: 0, alreadyThere: 0, unplaceable: 0 });
    // VerifyChain rests on the migrated checkpoints.
    const reader = new AuditReader({ store, keys, policies: { get: () => undefined }, scanLimit: 10_000 });
    const v = await reader.verify({ tenant: B, fromSeq: 0, toSeq: 0, checkpointSeq: 0 });
    assert.equal(v.ok, true, v.message);
    assert.equal(v.checkpoint?.seq, 40);
  });

  it('keeps the legacy collection when an entry cannot be placed (evidence), copying the rest', async () => {
    const db = mongo.db(`${env.db}_unplaceable`);
    const legacy = db.collection(LEGACY_ENTRIES_COLLECTION);
    await legacy.insertMany([{ tenant: A, seq: 'one' }, { seq: 2 }]);
    const result = await new ChainStore(db).ensureIndexes();
    assert.deepEqual(result, { copied: 0, alreadyThere: 0, unplaceable: 2 });
    assert.equal(await legacy.countDocuments({}), 2, 'left for an operator');
  });
});
