// Incremental aggregates against real Kafka and FerretDB (issue 17): the auditor ingests a chain
// through Kafka and stores one sealed aggregate per chunk; Attest and the compliance report read
// them and must equal the full scan (a reader with aggregates off) on the same chain, for windows
// that cut chunks and for scopes; missing aggregates (a crash between a chunk and its aggregate)
// are recomputed; an edited aggregate is caught by VerifyChain (AGGREGATE_MISMATCH at its seq)
// and never counted; tenants never mix.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, parsePolicy } from '@authority/core';
import { authorityTopicSpecs, silentLogger, type EventMessage, type KafkaEventBus } from '@authority/platform';
import { Binary, type MongoClient } from 'mongodb';
import { AuditorKeys, AuditReader, ChainStore, startAuditor, type RunningAuditor } from '../../src/index';
import { aggregatesCollectionName, aggregatesListedCollectionName, type AggregateDoc } from '../../src/adapters/mongo';
import { deflateStored, inflateStored, STORED_COMPRESSION } from '../../src/aggregates';
import type { ReportScope, ReportWindow } from '../../src/report/model';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  mongoClient,
  newTestEnv,
  publishAll,
  testBus,
  type TestEnv,
} from '../helpers';

const A = 'agg-alpha';
const B = 'agg-beta';
const N = 600;
const T0 = Date.UTC(2026, 0, 5, 8, 0, 0);
const POLICY = parsePolicy(`
version: '1'
organization: Lakeside
data_classifications:
  student-health: {sensitivity: restricted, pii_fields: [dx], retention_days: 30, description: health}
  student-records: {sensitivity: confidential, pii_fields: [grade], retention_days: 30, description: grades}
agents:
  advisor: {scopes: ['vault:student-records:read'], constraints: {unconstrained: true}}
`);

/** Event n of a tenant: agents, delegations, resources and decisions vary; times 1 s apart. */
function eventOf(tenant: string, n: number) {
  const delegated = n % 5 === 0;
  const agent = delegated ? 'advisor/summarizer' : ['advisor', 'finaid', 'registrar'][n % 3]!;
  const deny = n % 7 === 0;
  return auditEvent({
    tenant,
    eventId: `${tenant}-${n}`,
    timeMs: T0 + n * 1000,
    agent,
    ...(delegated ? { chain: ['advisor', 'advisor/summarizer'] } : {}),
    resource: `slos://vaults/${n % 2 === 0 ? 'student-health' : 'student-records'}/r${n % 13}`,
    decision: deny ? 'DENY' : 'ALLOW',
    // Tenant B only touches health records as the advisor: counted in A, it would show.
    ...(tenant === B ? { agent: 'advisor', resource: 'slos://vaults/student-health/b' } : {}),
  });
}

describe('aggregates: Attest and the report without rescanning (real Kafka + FerretDB)', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  let store: ChainStore;
  let fast: AuditReader;
  let full: AuditReader;
  /** A stored body or events bytes as JSON, and JSON in their stored form (deflated, as the auditor writes them). */
  const storedJson = (b: Binary | undefined, z: unknown): unknown =>
    JSON.parse(Buffer.from(inflateStored(b?.value(), z) ?? new Uint8Array(0)).toString('utf8'));
  const asStored = (o: unknown) => new Binary(deflateStored(Buffer.from(JSON.stringify(o))));
  const aggs = (tenant: string) => mongo.db(env.db).collection<AggregateDoc>(aggregatesCollectionName(tenant));

  before(async () => {
    await cryptoReady();
    env = newTestEnv();
    bus = testBus('aggregates');
    await bus.ensureTopics(authorityTopicSpecs(env.prefix));
    mongo = await mongoClient();
    // Checkpoints every 50 entries, none by the timer: chunks end on them.
    auditor = await startAuditor(
      auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '50', AUTHORITY_CHECKPOINT_INTERVAL: '1h' }),
      { logger: silentLogger() },
    );
    const records: EventMessage[] = [];
    for (let n = 1; n <= N; n++) for (const t of [A, B]) records.push(auditRecord(eventOf(t, n)));
    await publishAll(bus, `${env.prefix}audit`, records);
    store = new ChainStore(mongo.db(env.db), mongo);
    for (const t of [A, B]) {
      await eventually(
        async () => ((await store.checkpointAt(t, N)) ? true : undefined),
        `checkpoint at seq ${N} of ${t}`,
        90_000,
        100,
      );
    }
    const keys = AuditorKeys.fromBase64Seed(env.seed);
    const policies = { get: () => ({ tenant: A, version: 1, sha256: 'a'.repeat(64), policy: POLICY }) };
    fast = new AuditReader({ store, keys, policies, scanLimit: 10_000 });
    full = new AuditReader({ store, keys, policies, scanLimit: 10_000, useAggregates: false });
  });

  after(async () => {
    await auditor?.stop();
    await bus?.disconnect();
    await mongo
      ?.db(env.db)
      .dropDatabase()
      .catch(() => undefined);
    await mongo?.close();
  });

  /** The report without what differs by construction (generation time, the verification's wording). */
  const comparable = async (reader: AuditReader, window: ReportWindow, scope: ReportScope) => {
    const r = await reader.report(A, window, undefined, scope);
    return { ...r, generatedAt: '', chainVerification: { ...r.chainVerification, message: '' } };
  };
  const counts = async (
    reader: AuditReader,
    agentId: string,
    resourcePattern: string,
    fromSec: number,
    toSec: number,
  ) => {
    const a = await reader.attest({ tenant: A, agentId, resourcePattern, fromSec, toSec });
    return [a.allowedActedCount, a.allowedDelegatedCount, a.deniedCount, a.checkpoint.seq];
  };
  // Windows: everything, one cutting chunks on both edges, one inside a single chunk.
  const windows: [number, number][] = [
    [0, Math.floor(T0 / 1000) + 10_000],
    [Math.floor(T0 / 1000) + 73, Math.floor(T0 / 1000) + 431],
    [Math.floor(T0 / 1000) + 205, Math.floor(T0 / 1000) + 207],
  ];

  it('ingest stores one sealed aggregate per chunk, covering the chain without gaps, per tenant', async () => {
    for (const t of [A, B]) {
      const docs = (await aggs(t).find({}).toArray()).sort((x, y) => x.firstSeq - y.firstSeq);
      assert.ok(docs.length >= N / 100, `${t}: ${docs.length} aggregates`);
      let next = 1;
      for (const d of docs) {
        assert.equal(d.firstSeq, next, `${t}: aggregates are contiguous`);
        assert.equal(d.tenant, t);
        assert.match(d.seal, /^[0-9a-f]{64}$/);
        next = d.lastSeq + 1;
      }
      assert.ok(next > N, `${t}: aggregates reach seq ${N}`);
    }
  });

  it('Attest and the report equal the full scan, for windows that cut chunks and for scopes', async () => {
    const before = { ...fast.stats };
    for (const [from, to] of windows) {
      for (const [agent, pattern] of [
        ['advisor', 'slos://vaults/student-health/*'],
        ['advisor/summarizer', 'slos://vaults/*'],
        ['finaid', 'slos://vaults/student-records/r1*'],
      ] as const) {
        assert.deepEqual(await counts(fast, agent, pattern, from, to), await counts(full, agent, pattern, from, to));
      }
      const window = { startMs: from * 1000, endMs: to * 1000 + 999 };
      for (const scope of [{}, { agentId: 'advisor' }, { resourceGlob: 'slos://vaults/student-health/*' }]) {
        assert.deepEqual(await comparable(fast, window, scope), await comparable(full, window, scope));
      }
    }
    assert.deepEqual(
      await comparable(fast, { endMs: T0 + 10_000_000 }, {}),
      await comparable(full, { endMs: T0 + 10_000_000 }, {}),
    );
    assert.equal(fast.stats.fullScans, before.fullScans, 'every call was served from aggregates');
    assert.ok(fast.stats.fromAggregates - before.fromAggregates >= 18);
    assert.equal(fast.stats.aggregatesRepaired, 0);
    // B's events (the advisor on health records) are not A's: the expected count is A's alone.
    const expected = Array.from({ length: N }, (_, k) => k + 1).filter(
      (n) => n % 2 === 0 && n % 7 !== 0 && n % 5 !== 0 && n % 3 === 0,
    ).length;
    const [acted] = await counts(fast, 'advisor', 'slos://vaults/student-health/*', 0, Math.floor(T0 / 1000) + 10_000);
    assert.equal(acted, expected);
    // Over the RPC too.
    const rpc = await call(
      auditorClient(auditor.address),
      'Attest',
      {
        tenant: A,
        agentId: 'advisor',
        resourcePattern: 'slos://vaults/student-health/*',
        endTime: { seconds: String(Math.floor(T0 / 1000) + 10_000), nanos: 0 },
      },
      env.operatorKey,
    );
    assert.equal(Number(rpc.attestation?.allowedActedCount ?? -1), expected);
  });

  it('recomputes aggregates lost between a chunk and its aggregate (a crash), counting each entry once', async () => {
    const before = await aggs(A).countDocuments({});
    const lost = (await aggs(A).find({}).toArray()).filter((d) => d.firstSeq > 100 && d.firstSeq < 300);
    assert.ok(lost.length > 0);
    for (const d of lost) await aggs(A).deleteOne({ _id: d._id });
    const [from, to] = windows[1]!;
    assert.deepEqual(
      await counts(fast, 'advisor', 'slos://*', from, to),
      await counts(full, 'advisor', 'slos://*', from, to),
    );
    const window = { startMs: from * 1000, endMs: to * 1000 + 999 };
    assert.deepEqual(await comparable(fast, window, {}), await comparable(full, window, {}));
    assert.ok(fast.stats.aggregatesRepaired > 0, 'the hole was recomputed');
    assert.equal(fast.stats.fullScans, 0);
    // The hole was filled with aggregates recomputed from the verified entries.
    const after = (await aggs(A).find({}).toArray()).sort((x, y) => x.firstSeq - y.firstSeq);
    assert.ok(after.length >= before - lost.length + 1);
    let next = 1;
    for (const d of after) {
      assert.equal(d.firstSeq, next);
      next = d.lastSeq + 1;
    }
    const v = await call(auditorClient(auditor.address), 'VerifyChain', { tenant: A }, env.operatorKey);
    assert.equal(v.ok, true, v.message);
  });

  it("an edited copy of a listed event: the report shows the chained event (the sealed aggregate's digest decides)", async () => {
    const listed = mongo
      .db(env.db)
      .collection<{ _id: string; listed: { s: number; r: Binary }[] }>(aggregatesListedCollectionName(A));
    const holder = await listed.findOne({ 'listed.0': { $exists: true } });
    assert.ok(holder, 'some aggregate keeps listed events');
    const victim = holder.listed[0]!;
    const event = JSON.parse(Buffer.from(victim.r.value()).toString('utf8')) as Record<string, unknown>;
    const forged = JSON.stringify(event).replaceAll('slos://vaults/', 'slos://forged/');
    assert.notEqual(forged, JSON.stringify(event), 'the edit changes the event');
    const edited = holder.listed.map((x, k) => (k === 0 ? { s: x.s, r: new Binary(Buffer.from(forged)) } : x));
    await listed.updateOne({ _id: holder._id }, { $set: { listed: edited } });
    const whole = { endMs: T0 + 10_000_000 };
    const report = await comparable(fast, whole, {});
    assert.doesNotMatch(JSON.stringify(report), /slos:\/\/forged\//, 'the forged copy reached the report');
    assert.deepEqual(report, await comparable(full, whole, {}));
  });

  it('an edited events detail of an aggregate a window cuts: counted from its entries, not from the edit', async () => {
    const details = mongo
      .db(env.db)
      .collection<{ _id: string; events?: Binary; z?: string }>(aggregatesListedCollectionName(A));
    const [from, to] = windows[1]!;
    // The aggregate the window's start cuts (events are 1 s apart from T0 + 1 s: seq n at T0 + n s).
    const victim = (await aggs(A).find({}).toArray()).find((d) => d.firstSeq <= 73 && d.lastSeq >= 73)!;
    assert.ok(victim.firstSeq < 73, 'the window cuts the aggregate');
    const detail = await details.findOne({ _id: victim._id });
    assert.ok(detail?.events, 'the aggregate has its events detail');
    // Every event moved into the window: the counts an attacker would like to raise.
    assert.equal(detail.z, STORED_COMPRESSION, 'stored deflated');
    const events = storedJson(detail.events, detail.z) as { t: number[][] };
    const moved = { ...events, t: events.t.map((ts) => ts.map(() => (to - from) * 500)) };
    await details.updateOne({ _id: victim._id }, { $set: { events: asStored(moved) } });
    const repairedBefore = fast.stats.aggregatesRepaired;
    assert.deepEqual(
      await counts(fast, 'advisor', 'slos://*', from, to),
      await counts(full, 'advisor', 'slos://*', from, to),
    );
    assert.equal(fast.stats.fullScans, 0);
    assert.ok(fast.stats.aggregatesRepaired > repairedBefore, 'the aggregate was recomputed with its events');
    const window = { startMs: from * 1000, endMs: to * 1000 + 999 };
    assert.deepEqual(await comparable(fast, window, {}), await comparable(full, window, {}));
  });

  it('an edited aggregate: VerifyChain reports AGGREGATE_MISMATCH at its first seq, and Attest does not count it', async () => {
    const victim = (await aggs(A).find({}).toArray()).find((d) => d.firstSeq > 300 && d.firstSeq < 500)!;
    const body = storedJson(victim.body, victim.z) as { r: unknown[][] };
    // Hide the victim's rows: the counts an attacker would like an attestation to say.
    const edited = { ...body, r: body.r.slice(0, 1) };
    await aggs(A).updateOne({ _id: victim._id }, { $set: { body: asStored(edited) } });
    const v = await call(auditorClient(auditor.address), 'VerifyChain', { tenant: A }, env.operatorKey);
    assert.equal(v.ok, false);
    assert.equal(v.fault, 'AGGREGATE_MISMATCH');
    assert.equal(v.firstBadSeq, String(victim.firstSeq));
    assert.match(v.message, new RegExp(`seqs ${victim.firstSeq}-${victim.lastSeq}`));
    // Its seal no longer matches: Attest reads the victim's entries instead.
    const whole = windows[0]!;
    assert.deepEqual(
      await counts(fast, 'advisor', 'slos://*', whole[0], whole[1]),
      await counts(full, 'advisor', 'slos://*', whole[0], whole[1]),
    );
    // ...and stored a recomputed aggregate over it: VerifyChain is clean again.
    const again = await call(auditorClient(auditor.address), 'VerifyChain', { tenant: A }, env.operatorKey);
    assert.equal(again.ok, true, again.message);
  });

  it('merges runs of aggregates (compaction): fewer documents, the same counts, VerifyChain recomputes the merged ones', async () => {
    const keys = AuditorKeys.fromBase64Seed(env.seed);
    const policies = { get: () => ({ tenant: A, version: 1, sha256: 'a'.repeat(64), policy: POLICY }) };
    const merging = new AuditReader({ store, keys, policies, scanLimit: 10_000, compactSpan: 200 });
    const before = await aggs(A).countDocuments({});
    const whole = windows[0]!;
    const [from, to] = windows[1]!;
    const expected = await counts(full, 'advisor', 'slos://*', from, to);
    assert.deepEqual(await counts(merging, 'advisor', 'slos://*', from, to), expected);
    await merging.compacted();
    // (Earlier tests leave some aggregates recomputed over longer runs: at least one run is merged.)
    assert.ok(merging.stats.mergedStored >= 1, 'runs were merged');
    const after = (await aggs(A).find({}).toArray()).sort((x, y) => x.firstSeq - y.firstSeq);
    assert.equal(after.length, before - merging.stats.aggregatesCompacted);
    assert.ok(after.length < before);
    assert.ok(
      after.some((d) => d.lastSeq - d.firstSeq + 1 >= 200),
      'a merged aggregate counts at least the span',
    );
    let next = 1;
    for (const d of after) {
      assert.equal(d.firstSeq, next, 'merged aggregates still cover the chain without gaps or overlaps');
      next = d.lastSeq + 1;
    }
    // Windows that cut merged aggregates, and the whole chain: the same as the full scan.
    for (const [f, t] of windows) {
      assert.deepEqual(
        await counts(merging, 'advisor', 'slos://*', f, t),
        await counts(full, 'advisor', 'slos://*', f, t),
      );
      const window = { startMs: f * 1000, endMs: t * 1000 + 999 };
      assert.deepEqual(await comparable(merging, window, {}), await comparable(full, window, {}));
    }
    assert.equal(merging.stats.fullScans, 0);
    assert.equal(merging.stats.aggregatesRepaired, 0, 'the merged aggregates were used as stored');
    const v = await call(auditorClient(auditor.address), 'VerifyChain', { tenant: A }, env.operatorKey);
    assert.equal(v.ok, true, v.message);
    // An edited merged aggregate: VerifyChain names it, and Attest counts its entries instead.
    const victim = after.find((d) => d.lastSeq - d.firstSeq + 1 >= 200)!;
    const body = storedJson(victim.body, victim.z) as { r: unknown[][] };
    await aggs(A).updateOne({ _id: victim._id }, { $set: { body: asStored({ ...body, r: body.r.slice(1) }) } });
    const bad = await call(auditorClient(auditor.address), 'VerifyChain', { tenant: A }, env.operatorKey);
    assert.equal(bad.fault, 'AGGREGATE_MISMATCH');
    assert.equal(bad.firstBadSeq, String(victim.firstSeq));
    assert.deepEqual(
      await counts(merging, 'advisor', 'slos://*', whole[0], whole[1]),
      await counts(full, 'advisor', 'slos://*', whole[0], whole[1]),
    );
  });
});
