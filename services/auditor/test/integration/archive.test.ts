// Archival on real FerretDB, at the RPC: ArchiveChainSegment deletes only a verified segment that
// ends at a signed checkpoint before the head, records the boundary before it deletes (a crash in
// between is finished by a repeated call, and every verifier skips what is left), touches no other
// tenant, and is ADMIN-only; VerifyChain then starts at the boundary and refuses ranges inside it.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type EventMessage, type KafkaEventBus } from '@authority/platform';
import { Binary, type Collection, type Document, type MongoClient } from 'mongodb';
import { ChainStore, startAuditor, type RunningAuditor } from '../../src/index';
import { checkpointsCollectionName, entriesCollectionName, HEADS_COLLECTION } from '../../src/adapters/mongo';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  grpcError,
  publishAll,
  publishCredential,
  randomSecret,
  type TestEnv,
  testRig,
  closeRig,
} from '../helpers';

const SHA = 'ab'.repeat(32);

describe('archival of chain segments (real FerretDB)', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  let archives: Collection<Document>;
  const T = 'arch-main';
  const HEAD_ONLY = 'arch-head';
  const BROKEN = 'arch-broken';
  const OTHER = 'arch-other';
  const auditorSecret = randomSecret('arch-auditor');
  const client = () => auditorClient(auditor.address);
  const archive = (tenant: string, throughSeq: number, secret = env.operatorKey) =>
    call(client(), 'ArchiveChainSegment', { tenant, throughSeq: String(throughSeq), archiveSha256: SHA }, secret);
  const verify = (tenant: string, toSeq = 0) =>
    call(client(), 'VerifyChain', { tenant, toSeq: String(toSeq) }, env.operatorKey);
  // Each tenant's entries live in their own collection (docs/operations.md, storage layout).
  const entries = (tenant: string): Collection<Document> => mongo.db(env.db).collection(entriesCollectionName(tenant));
  const count = (tenant: string) => entries(tenant).countDocuments({ tenant });

  before(async () => {
    ({ env, bus, mongo } = await testRig('archive'));
    archives = mongo.db(env.db).collection('archives');
    await publishCredential(bus, env.prefix, T, 'AUDITOR', auditorSecret);
    // Checkpoints exactly every 10 entries (no timer).
    auditor = await startAuditor(
      auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '10', AUTHORITY_CHECKPOINT_INTERVAL: '1h' }),
      { logger: silentLogger() },
    );
    const sizes: [string, number][] = [
      [T, 35],
      [HEAD_ONLY, 30],
      [BROKEN, 35],
      [OTHER, 35],
    ];
    const records: EventMessage[] = [];
    for (const [tenant, n] of sizes)
      for (let i = 0; i < n; i++)
        records.push(auditRecord(auditEvent({ tenant, eventId: `${tenant}-${i}`, timeMs: Date.now() - 1000 + i })));
    await publishAll(bus, `${env.prefix}audit`, records);
    for (const [tenant, n] of sizes) {
      await eventually(
        async () => ((await count(tenant)) === n ? true : undefined),
        `${n} entries of ${tenant}`,
        60_000,
        100,
      );
      await eventually(
        async () =>
          (await mongo.db(env.db).collection(checkpointsCollectionName(tenant)).findOne({ tenant, seq: 30 }))
            ? true
            : undefined,
        `the checkpoint at seq 30 of ${tenant}`,
        60_000,
        100,
      );
    }
  });
  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  it('refuses a seq without a checkpoint, the head, a broken segment and a non-ADMIN caller, deleting nothing', async () => {
    await assert.rejects(
      archive(T, 15),
      grpcError('NOT_FOUND', (e) => e.reason === 'CHECKPOINT_NOT_FOUND' && e.field === 'through_seq'),
    );
    await assert.rejects(
      archive(HEAD_ONLY, 30),
      grpcError('FAILED_PRECONDITION', (e) => e.reason === 'ARCHIVE_INCLUDES_HEAD'),
    );
    // One edited raw event inside the segment: the auditor will not delete what does not verify.
    const doc = await entries(BROKEN).findOne({ tenant: BROKEN, seq: 5 });
    const raw = Buffer.from((doc?.raw as Binary).value());
    raw.writeUInt8((raw.at(-2) as number) ^ 1, raw.length - 2);
    await entries(BROKEN).updateOne({ tenant: BROKEN, seq: 5 }, { $set: { raw: new Binary(raw) } });
    await assert.rejects(
      archive(BROKEN, 10),
      grpcError('FAILED_PRECONDITION', (e) => e.reason === 'CHAIN_NOT_VERIFIED' && /seq 5/.test(e.message)),
    );
    assert.equal(await count(BROKEN), 35);
    await assert.rejects(archive(T, 10, auditorSecret), grpcError('PERMISSION_DENIED'));
    await assert.rejects(archive(T, 10, 'not-a-credential'), grpcError('UNAUTHENTICATED'));
    assert.equal(await count(T), 35);
    assert.equal(await archives.countDocuments({}), 0);
  });

  it('records the boundary before deleting: after a crash in between, verifiers skip the rest and a repeat deletes it', async () => {
    const cp10 = await mongo.db(env.db).collection(checkpointsCollectionName(T)).findOne({ tenant: T, seq: 10 });
    // What a crash right after the boundary write leaves: the boundary, and every entry.
    await archives.insertOne({
      _id: T as never,
      throughSeq: 10,
      headHash: cp10?.headHash,
      archiveSha256: SHA,
      archivedAt: new Date(),
    });
    const v = await verify(T);
    assert.deepEqual([v.ok, v.checked, v.headSeq], [true, '25', '35'], v.message);
    const again = await archive(T, 10);
    assert.deepEqual([again.archivedThroughSeq, again.deleted], ['10', '10']);
    assert.equal(await count(T), 25);

    // The next segment, 11-30: verified, boundary moved, deleted; the live chain verifies from 31.
    const next = await archive(T, 30);
    assert.deepEqual([next.archivedThroughSeq, next.deleted], ['30', '20']);
    assert.equal(await count(T), 5);
    const after30 = await verify(T);
    assert.deepEqual([after30.ok, after30.checked, after30.headSeq], [true, '5', '35'], after30.message);
    await assert.rejects(
      verify(T, 20),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'to_seq'),
    );
    const status = await call(client(), 'GetChainStatus', { tenant: T }, auditorSecret);
    assert.deepEqual([status.archivedThroughSeq, status.headSeq], ['30', '35']);
    // What a restarted auditor does first: find the head, here with no head hint and the newest
    // checkpoint (30) archived. Entries 1-30 are gone; the head is still 35, not an empty chain
    // (which would restart the chain at seq 1).
    await mongo
      .db(env.db)
      .collection(HEADS_COLLECTION)
      .deleteOne({ _id: T as never });
    assert.equal((await new ChainStore(mongo.db(env.db)).lastEntry(T))?.seq, 35);
    // Other tenants are untouched.
    assert.equal(await count(OTHER), 35);
    assert.equal((await verify(OTHER)).ok, true);
  });
});
