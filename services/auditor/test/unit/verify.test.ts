// verifyStored over an in-memory store: checkpoints applied where they fall across read batches,
// each kind of tampering located, ranges anchored on checkpoints, index fields held to the raw bytes.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { chainHash, cryptoReady, ed25519KeyPairFromSeed, signCheckpoint } from '@authority/core';
import { Binary } from 'mongodb';
import { AuditorKeys, verifyStored } from '../../src/index';
import { buildChain, newKeys, type MemoryStore } from './fixtures';

const T = 'acme';

describe('verifyStored', () => {
  let keys: AuditorKeys;
  before(async () => {
    await cryptoReady();
    keys = newKeys();
  });

  const run = (mem: MemoryStore, extra: Partial<Parameters<typeof verifyStored>[1]> = {}) =>
    verifyStored(mem.asStore(), {
      tenant: T,
      checkpoints: mem.checkpoints,
      keys: keys.resolve,
      batchSize: 7,
      ...extra,
    });

  it('verifies an intact chain across batch and checkpoint boundaries', async () => {
    const mem = buildChain(keys, T, 53, 5);
    const seen: number[] = [];
    const r = await run(mem, { onEntry: (s) => seen.push(s.entry.seq) });
    assert.equal(r.ok, true, r.message);
    assert.equal(r.checked, 53);
    assert.equal(r.head.seq, 53);
    assert.equal(r.matchedCheckpoint?.seq, 50);
    assert.deepEqual(
      seen,
      Array.from({ length: 53 }, (_, i) => i + 1),
    );
    for (const batchSize of [1, 2, 5, 6, 1000]) {
      assert.equal((await run(mem, { batchSize })).ok, true, `batch size ${batchSize}`);
    }
  });

  it('locates an edited raw event, a gap, a truncation and an edited index field', async () => {
    const edited = buildChain(keys, T, 40, 10);
    const doc = edited.entries[16]!;
    const e = JSON.parse(Buffer.from(doc.raw.value()).toString());
    e.resource = 'elsewhere';
    doc.raw = new Binary(Buffer.from(JSON.stringify(e)));
    let r = await run(edited);
    assert.deepEqual([r.ok, r.fault, r.firstBadSeq, r.checked], [false, 'modified', 17, 16]);

    const gap = buildChain(keys, T, 40, 10);
    gap.entries.splice(22, 1);
    r = await run(gap);
    assert.deepEqual([r.fault, r.firstBadSeq], ['missing', 23]);

    const gapAtCheckpoint = buildChain(keys, T, 40, 10);
    gapAtCheckpoint.entries.splice(19, 1); // seq 20, where a checkpoint falls
    r = await run(gapAtCheckpoint);
    assert.deepEqual([r.fault, r.firstBadSeq], ['missing', 20]);

    const truncated = buildChain(keys, T, 40, 10);
    truncated.entries.length = 33;
    r = await run(truncated);
    assert.deepEqual([r.fault, r.firstBadSeq], ['truncated', 34]);

    const renamed = buildChain(keys, T, 40, 10);
    renamed.entries[5]!.eventId = 'acme-999'; // would let a redelivery of acme-999 be skipped
    r = await run(renamed);
    assert.deepEqual([r.fault, r.firstBadSeq], ['modified', 6]);
    assert.match(r.message!, /eventId 'acme-999' is not the id in its raw bytes/);

    const index = buildChain(keys, T, 40, 10);
    index.entries[8]!.agent = 'someone-else';
    r = await run(index);
    assert.deepEqual([r.fault, r.firstBadSeq], ['modified', 9]);
    assert.match(r.message!, /indexed field 'agent'/);
  });

  it('names a swap REORDERED even when a checkpoint lies between the two entries', async () => {
    const mem = buildChain(keys, T, 40, 10);
    const a = mem.entries[11]!;
    const b = mem.entries[15]!;
    const { seq: sa, ...ca } = a;
    const { seq: sb, ...cb } = b;
    Object.assign(a, cb, { seq: sa });
    Object.assign(b, ca, { seq: sb });
    const r = await run(mem, { batchSize: 1000 });
    assert.deepEqual([r.fault, r.firstBadSeq], ['reordered', 12]);
  });

  it('catches a rewrite with recomputed hashes at the first checkpoint after it, and says where it lies', async () => {
    const mem = buildChain(keys, T, 40, 10);
    let prev: Buffer = Buffer.from(mem.entries[12]!.hash, 'hex');
    for (const d of mem.entries.slice(13)) {
      const raw =
        d.seq === 14
          ? Buffer.from(Buffer.from(d.raw.value()).toString().replace('"ALLOW"', '"DENY"'))
          : Buffer.from(d.raw.value());
      if (d.seq === 14) d.decision = 'DENY';
      const hash = chainHash(T, d.seq, prev, raw);
      Object.assign(d, { raw: new Binary(raw), prevHash: prev.toString('hex'), hash: hash.toString('hex') });
      prev = hash;
    }
    const r = await run(mem);
    assert.deepEqual([r.fault, r.firstBadSeq], ['forked', 20]);
    assert.match(r.message!, /rewrite lies in seqs 11-20/);
    // Without checkpoints nothing outside the chain says what it was.
    assert.equal((await run(mem, { checkpoints: [] })).ok, true);
  });

  it('refuses forged, altered and foreign checkpoints', async () => {
    const mem = buildChain(keys, T, 30, 10);
    const attacker = ed25519KeyPairFromSeed(Buffer.alloc(32, 1));
    const forged = signCheckpoint(
      { tenant: T, seq: 30, headHash: mem.entries[29]!.hash, time: 1 },
      attacker.secretKey,
      keys.keyId,
    );
    let r = await run(mem, { checkpoints: [...mem.checkpoints.slice(0, 2), forged] });
    assert.deepEqual([r.fault, r.firstBadSeq], ['forged_checkpoint', 30]);
    r = await run(mem, { checkpoints: [{ ...mem.checkpoints[0]!, headHash: mem.entries[8]!.hash }] });
    assert.deepEqual([r.fault, r.firstBadSeq], ['forged_checkpoint', 10]);
    const other = buildChain(keys, 'other', 30, 10);
    r = await run(mem, { checkpoints: other.checkpoints });
    assert.equal(r.fault, 'forged_checkpoint');
  });

  it('verifies a range from a checkpoint (the anchor is checked too) and stops at toSeq', async () => {
    const mem = buildChain(keys, T, 40, 10);
    const anchor = mem.checkpoints[1]!; // seq 20
    const r = await run(mem, { from: { seq: 21, prevHash: Buffer.from(anchor.headHash, 'hex') }, toSeq: 35 });
    assert.equal(r.ok, true, r.message);
    assert.equal(r.checked, 15);
    assert.equal(r.head.seq, 35);
    const wrongAnchor = await run(mem, { from: { seq: 21, prevHash: Buffer.alloc(32) }, toSeq: 35 });
    assert.deepEqual([wrongAnchor.fault, wrongAnchor.firstBadSeq], ['forked', 20]);
  });

  it('keeps reading to the end after a fault when asked (the head seq for the response)', async () => {
    const mem = buildChain(keys, T, 40, 10);
    mem.entries.splice(3, 1);
    const r = await run(mem, { scanToEnd: true });
    assert.equal(r.fault, 'missing');
    assert.equal(r.lastSeqSeen, 40);
  });
});
