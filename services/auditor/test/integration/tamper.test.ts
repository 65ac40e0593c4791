// Tampering directly in MongoDB, each case on its own tenant, each detected by VerifyChain and
// located exactly: an edited raw event, a deleted middle entry, deleted newest entries (through a
// checkpoint), two swapped entries, a chain rewritten with recomputed hashes (through the
// checkpoints' signed heads), an edited index field, and forged or altered checkpoints.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { chainHash, ed25519KeyPairFromSeed, signCheckpoint } from '@authority/core';
import { silentLogger, type EventMessage, type KafkaEventBus } from '@authority/platform';
import { Binary, type Collection, type Document, type MongoClient } from 'mongodb';
import type { VerifyChainRequest } from '@authority/proto';
import { startAuditor, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  grpcError,
  publishAll,
  StoredEntries,
  type TestEnv,
  testRig,
  closeRig,
} from '../helpers';
import { checkpointsCollectionName, entryId } from '../../src/adapters/mongo';

const N = 120;
const CASES = ['edit', 'delete', 'truncate', 'swap', 'rewrite', 'index', 'forged', 'altered', 'intact'] as const;
const tenantOf = (c: (typeof CASES)[number]) => `t-${c}`;

describe('tamper detection (real FerretDB)', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  let entries: StoredEntries;
  /** A tenant's checkpoint collection (one per tenant, _id = zero-padded seq). */
  let checkpoints: (tenant: string) => Collection<{ _id: string } & Document>;
  const verify = (tenant: string, req: Omit<VerifyChainRequest, 'tenant'> = {}) =>
    call(auditorClient(auditor.address), 'VerifyChain', { tenant, ...req }, env.operatorKey);

  before(async () => {
    ({ env, bus, mongo } = await testRig('tamper'));
    entries = new StoredEntries(mongo.db(env.db));
    checkpoints = (tenant) => mongo.db(env.db).collection(checkpointsCollectionName(tenant));
    // A checkpoint every 10 entries: a rewrite is caught at the first checkpoint after it.
    // No timer-driven checkpoints, so they fall exactly at 10, 20, ..., 120.
    auditor = await startAuditor(
      auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '10', AUTHORITY_CHECKPOINT_INTERVAL: '1h' }),
      {
        logger: silentLogger(),
      },
    );
    const records: EventMessage[] = [];
    for (let n = 0; n < N; n++) {
      for (const c of CASES)
        records.push(
          auditRecord(
            auditEvent({
              tenant: tenantOf(c),
              eventId: `${c}-${n}`,
              message: String(n),
              timeMs: Date.now() - 1000 + n,
            }),
          ),
        );
    }
    await publishAll(bus, `${env.prefix}audit`, records);
    for (const c of CASES) {
      await eventually(
        async () => ((await checkpoints(tenantOf(c)).findOne({ seq: N })) ? true : undefined),
        `checkpoint at seq ${N} of ${tenantOf(c)}`,
        60_000,
        100,
      );
    }
    for (const c of CASES) {
      const v = await verify(tenantOf(c));
      assert.equal(v.ok, true, `${c} verifies before tampering: ${v.message}`);
    }
  });

  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  const entry = (c: (typeof CASES)[number], seq: number) => entries.of(tenantOf(c)).findOne({ seq });

  it('an edited field of a raw event: MODIFIED at that entry', async () => {
    const doc = (await entry('edit', 37))!;
    const event = JSON.parse(Buffer.from((doc['raw'] as Binary).value()).toString('utf8'));
    event.resource = 'slos://vaults/student-health/innocent';
    await entries
      .of(tenantOf('edit'))
      .updateOne(
        { _id: doc['_id'] },
        { $set: { raw: new Binary(Buffer.from(JSON.stringify(event))), resource: event.resource } },
      );
    const v = await verify(tenantOf('edit'));
    assert.equal(v.ok, false);
    assert.equal(v.fault, 'MODIFIED');
    assert.equal(v.firstBadSeq, '37');
    assert.equal(v.checked, '36');
  });

  it('a deleted middle entry: MISSING at its seq', async () => {
    await entries.of(tenantOf('delete')).deleteOne({ seq: 60 });
    const v = await verify(tenantOf('delete'));
    assert.equal(v.fault, 'MISSING');
    assert.equal(v.firstBadSeq, '60');
  });

  it('deleted newest entries: TRUNCATED, detected through the checkpoint', async () => {
    await entries.of(tenantOf('truncate')).deleteMany({ seq: { $gt: 111 } });
    const v = await verify(tenantOf('truncate'));
    assert.equal(v.fault, 'TRUNCATED');
    assert.equal(v.firstBadSeq, '112');
    assert.equal(v.checkpoint?.seq, String(N));
    assert.match(v.message, /checkpoint/);
  });

  it('two swapped entries: REORDERED at the first of them', async () => {
    const a = (await entry('swap', 30))!;
    const b = (await entry('swap', 45))!;
    const content = (d: Document) => {
      const { _id, seq, ...rest } = d;
      void _id;
      void seq;
      return rest;
    };
    // (Through a temporary event id: the unique index would refuse the swap in two steps.)
    const swap = entries.of(tenantOf('swap'));
    await swap.updateOne({ _id: a['_id'] }, { $set: { eventId: 'tmp' } });
    await swap.updateOne({ _id: b['_id'] }, { $set: content(a) });
    await swap.updateOne({ _id: a['_id'] }, { $set: content(b) });
    const v = await verify(tenantOf('swap'));
    assert.equal(v.fault, 'REORDERED');
    assert.equal(v.firstBadSeq, '30');
  });

  it('a chain rewritten with recomputed hashes: FORKED at the first checkpoint after the rewrite', async () => {
    const tenant = tenantOf('rewrite');
    const docs = await entries
      .of(tenant)
      .find({ seq: { $gte: 22 } })
      .sort({ seq: 1 })
      .toArray();
    let prev: Buffer = Buffer.from((await entry('rewrite', 21))!['hash'] as string, 'hex');
    for (const d of docs) {
      let raw = Buffer.from((d['raw'] as Binary).value());
      if (d['seq'] === 22) {
        const event = JSON.parse(raw.toString('utf8'));
        event.decision = 'DENY';
        raw = Buffer.from(JSON.stringify(event));
      }
      const hash = chainHash(tenant, d['seq'] as number, prev, raw);
      await entries.of(tenant).updateOne(
        { _id: d['_id'] },
        {
          $set: {
            raw: new Binary(raw),
            prevHash: prev.toString('hex'),
            hash: hash.toString('hex'),
            decision: d['seq'] === 22 ? 'DENY' : d['decision'],
          },
        },
      );
      prev = hash;
    }
    const v = await verify(tenant);
    assert.equal(v.ok, false);
    assert.equal(v.fault, 'FORKED');
    assert.equal(v.firstBadSeq, '30', 'the checkpoint at 30 is the first whose signed head differs');
    assert.match(v.message, /rewrite lies in seqs 21-30/);
    // Without the checkpoints the rewrite would be invisible: the range up to seq 20 still verifies.
    const before20 = await verify(tenant, { toSeq: 20 });
    assert.equal(before20.ok, true, before20.message);
  });

  it('an edited index field (raw untouched): MODIFIED at that entry', async () => {
    await entries.of(tenantOf('index')).updateOne({ seq: 15 }, { $set: { decision: 'DENY' } });
    const v = await verify(tenantOf('index'));
    assert.equal(v.fault, 'MODIFIED');
    assert.equal(v.firstBadSeq, '15');
    assert.match(v.message, /indexed field 'decision'/);
  });

  it('a forged checkpoint (signed by another key, or altered): FORGED_CHECKPOINT at its seq', async () => {
    const tenant = tenantOf('forged');
    // The attacker rewrites entry 115 and signs a checkpoint over the rewritten head with its own key.
    const attacker = ed25519KeyPairFromSeed(randomBytes(32));
    const forged = signCheckpoint(
      { tenant, seq: 125, headHash: randomBytes(32).toString('hex'), time: Math.floor(Date.now() / 1000) },
      attacker.secretKey,
      'attacker',
    );
    await checkpoints(tenant).insertOne({ ...forged, _id: entryId(125), createdAt: new Date(), published: true });
    const v = await verify(tenant);
    assert.equal(v.fault, 'FORGED_CHECKPOINT');
    assert.equal(v.firstBadSeq, '125');
    assert.match(v.message, /unknown key 'attacker'/);

    const altered = tenantOf('altered');
    await checkpoints(altered).updateOne({ seq: 50 }, { $set: { headHash: randomBytes(32).toString('hex') } });
    const w = await verify(altered);
    assert.equal(w.fault, 'FORGED_CHECKPOINT');
    assert.equal(w.firstBadSeq, '50');
  });

  it('leaves untouched tenants verifying, and verifies ranges from the checkpoint before them', async () => {
    const ok = await verify(tenantOf('intact'));
    assert.equal(ok.ok, true, ok.message);
    assert.equal(ok.checked, String(N));
    // A range rests on the newest checkpoint before it (seq 40 for a range starting at 45).
    const range = await verify(tenantOf('intact'), { fromSeq: 45, toSeq: 80 });
    assert.equal(range.ok, true, range.message);
    assert.equal(range.checked, '40');
    assert.equal(range.checkpoint?.seq, '80');
    assert.equal(range.headSeq, String(N));
    // A range after the edit of `edit` (at 37) verifies; one that contains it does not.
    assert.equal((await verify(tenantOf('edit'), { fromSeq: 41 })).ok, true);
    const containing = await verify(tenantOf('edit'), { fromSeq: 35, toSeq: 50 });
    assert.equal(containing.fault, 'MODIFIED');
    assert.equal(containing.firstBadSeq, '37');
    // Against an explicit checkpoint.
    const atCp = await verify(tenantOf('intact'), { checkpointSeq: 60 });
    assert.equal(atCp.ok, true);
    assert.equal(atCp.checkpoint?.seq, '60');
    await assert.rejects(verify(tenantOf('intact'), { checkpointSeq: 61 }), grpcError('NOT_FOUND'));
    await assert.rejects(
      verify(tenantOf('intact'), { fromSeq: 50, toSeq: 10 }),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'to_seq'),
    );
  });

  it('refuses to attest over a chain that does not verify', async () => {
    await assert.rejects(
      call(
        auditorClient(auditor.address),
        'Attest',
        { tenant: tenantOf('truncate'), agentId: 'agent-1', resourcePattern: 'slos://*' },
        env.operatorKey,
      ),
      grpcError(
        'FAILED_PRECONDITION',
        (e) => e.reason === 'CHAIN_NOT_VERIFIED' && /TRUNCATED at seq 112/.test(e.message),
      ),
    );
  });
});
