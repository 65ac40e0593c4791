// Property-based: for random chains, every single-entry edit, deletion and adjacent swap is
// detected with the exact first bad seq and kind; truncation and rewrites are caught by a
// checkpoint; forged checkpoints are refused; valid chains and ranges verify.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cryptoReady, ed25519KeyPairFromSeed, type Ed25519KeyPair } from '../src/crypto';
import {
  auditGenesisHead,
  chainHash,
  nextAuditChainEntry,
  signCheckpoint,
  verifyAuditChain,
  type AuditChainEntry,
  type SignedCheckpoint,
} from '../src/chain';

const TENANT = 'tenant-a';
let auditor: Ed25519KeyPair;
const keys = (keyId: string) => (keyId === 'auditor' ? auditor.publicKey : undefined);

before(async () => {
  await cryptoReady();
  auditor = ed25519KeyPairFromSeed(Buffer.alloc(32, 3));
});

// size: 'max' so lengths spread over the whole 1-60 range (the default size stays near 10).
const rawsArb = fc.array(fc.uint8Array({ minLength: 0, maxLength: 48 }), { minLength: 1, maxLength: 60, size: 'max' });

function build(raws: readonly Uint8Array[]): AuditChainEntry[] {
  let head = auditGenesisHead(TENANT);
  return raws.map((raw, i) => {
    const e = nextAuditChainEntry(TENANT, head, `evt-${i}`, raw);
    head = { seq: e.seq, hash: e.hash };
    return e;
  });
}

function checkpointAt(chain: readonly AuditChainEntry[], seq: number): SignedCheckpoint {
  const entry = chain[seq - 1] as AuditChainEntry;
  return signCheckpoint(
    { tenant: TENANT, seq, headHash: Buffer.from(entry.hash).toString('hex'), time: 1_700_000_000 + seq },
    auditor.secretKey,
    'auditor',
  );
}

type Verdict = { ok: true } | { ok: false; firstBadSeq: number; kind: string };
function verdict(entries: readonly AuditChainEntry[], cp?: SignedCheckpoint): Verdict {
  const r = verifyAuditChain(entries, { tenant: TENANT, ...(cp ? { checkpoint: cp, checkpointKeys: keys } : {}) });
  return r.ok ? { ok: true } : { ok: false, firstBadSeq: r.firstBadSeq, kind: r.kind };
}

function flipByte(b: Uint8Array, at: number): Uint8Array {
  if (b.length === 0) return Uint8Array.of(0);
  const copy = Uint8Array.from(b);
  const i = at % copy.length;
  copy[i] = (copy[i] as number) ^ 0x01;
  return copy;
}

test('a valid chain verifies, with and without a checkpoint at its head', () => {
  fc.assert(
    fc.property(rawsArb, (raws) => {
      const chain = build(raws);
      const r = verifyAuditChain(chain, { tenant: TENANT });
      assert.ok(r.ok);
      assert.equal(r.checked, chain.length);
      assert.deepEqual(verdict(chain, checkpointAt(chain, chain.length)), { ok: true });
    }),
    { numRuns: 200 },
  );
});

test('every single-entry edit of raw bytes or hash is "modified" at that seq', () => {
  fc.assert(
    fc.property(rawsArb, fc.nat(), (raws, at) => {
      const chain = build(raws);
      for (let i = 0; i < chain.length; i++) {
        const e = chain[i] as AuditChainEntry;
        const expected = { ok: false, firstBadSeq: i + 1, kind: 'modified' };
        const rawEdited = chain.map((x, j) => (j === i ? { ...e, raw: flipByte(e.raw, at) } : x));
        assert.deepEqual(verdict(rawEdited), expected);
        const hashEdited = chain.map((x, j) => (j === i ? { ...e, hash: flipByte(e.hash, at) } : x));
        assert.deepEqual(verdict(hashEdited), expected);
        const prevEdited = chain.map((x, j) => (j === i ? { ...e, prevHash: flipByte(e.prevHash, at) } : x));
        assert.deepEqual(verdict(prevEdited), expected);
      }
    }),
    { numRuns: 50 },
  );
});

test('every single deletion is "missing" at that seq, or "truncated" for the newest given a checkpoint', () => {
  fc.assert(
    fc.property(rawsArb, (raws) => {
      const chain = build(raws);
      const cp = checkpointAt(chain, chain.length);
      for (let i = 0; i < chain.length; i++) {
        const without = chain.filter((_, j) => j !== i);
        if (i === chain.length - 1) {
          // The newest entry: nothing in the chain says it existed; the checkpoint does.
          assert.deepEqual(verdict(without), { ok: true });
          assert.deepEqual(verdict(without, cp), { ok: false, firstBadSeq: i + 1, kind: 'truncated' });
        } else {
          assert.deepEqual(verdict(without), { ok: false, firstBadSeq: i + 1, kind: 'missing' });
          assert.deepEqual(verdict(without, cp), { ok: false, firstBadSeq: i + 1, kind: 'missing' });
        }
      }
    }),
    { numRuns: 50 },
  );
});

test('every adjacent swap is "reordered" at the first swapped seq', () => {
  fc.assert(
    fc.property(
      rawsArb.filter((r) => r.length >= 2),
      (raws) => {
        const chain = build(raws);
        for (let i = 0; i + 1 < chain.length; i++) {
          const swapped = [...chain];
          [swapped[i], swapped[i + 1]] = [swapped[i + 1] as AuditChainEntry, swapped[i] as AuditChainEntry];
          assert.deepEqual(verdict(swapped), { ok: false, firstBadSeq: i + 1, kind: 'reordered' });
        }
      },
    ),
    { numRuns: 100 },
  );
});

test('deleting the newest k >= 1 entries is "truncated" given a later checkpoint', () => {
  fc.assert(
    fc.property(rawsArb, fc.nat(), (raws, kSeed) => {
      const chain = build(raws);
      const k = 1 + (kSeed % chain.length);
      const kept = chain.slice(0, chain.length - k);
      assert.deepEqual(verdict(kept), { ok: true });
      assert.deepEqual(verdict(kept, checkpointAt(chain, chain.length)), {
        ok: false,
        firstBadSeq: chain.length - k + 1,
        kind: 'truncated',
      });
    }),
    { numRuns: 200 },
  );
});

test('a rewrite with recomputed hashes passes alone but is caught by a checkpoint at or after it', () => {
  fc.assert(
    fc.property(rawsArb, fc.nat(), fc.nat(), (raws, fromSeed, cpSeed) => {
      const chain = build(raws);
      const from = fromSeed % chain.length; // first rewritten index
      const rewritten = build(raws.map((r, j) => (j === from ? flipByte(r, 0) : r)));
      assert.deepEqual(verdict(rewritten), { ok: true });
      const cpSeq = from + 1 + (cpSeed % (chain.length - from)); // a checkpoint covering the rewrite
      assert.deepEqual(verdict(rewritten, checkpointAt(chain, cpSeq)), {
        ok: false,
        firstBadSeq: cpSeq,
        kind: 'forked',
      });
      // A checkpoint before the rewrite cannot see it.
      if (from > 0) assert.deepEqual(verdict(rewritten, checkpointAt(chain, from)), { ok: true });
    }),
    { numRuns: 200 },
  );
});

test('a checkpoint with a forged signature is "forged_checkpoint"', () => {
  fc.assert(
    fc.property(rawsArb, fc.nat(), (raws, bit) => {
      const chain = build(raws);
      const cp = checkpointAt(chain, chain.length);
      const sig = Buffer.from(cp.signature, 'base64url');
      sig[bit % 64] = (sig[bit % 64] as number) ^ (1 << bit % 8);
      const forged = { ...cp, signature: sig.toString('base64url') };
      assert.deepEqual(verdict(chain, forged), { ok: false, firstBadSeq: chain.length, kind: 'forged_checkpoint' });
    }),
    { numRuns: 200 },
  );
});

test('a range verifies from a known (seq, prevHash), and an edit inside it is found', () => {
  fc.assert(
    fc.property(
      rawsArb.filter((r) => r.length >= 2),
      fc.nat(),
      fc.nat(),
      (raws, splitSeed, editSeed) => {
        const chain = build(raws);
        const split = 1 + (splitSeed % (chain.length - 1)); // entries[split..] is the range
        const range = chain.slice(split);
        const from = { seq: split + 1, prevHash: (chain[split - 1] as AuditChainEntry).hash };
        const ok = verifyAuditChain(range, { tenant: TENANT, from });
        assert.ok(ok.ok && ok.checked === range.length && ok.head.seq === chain.length);
        const at = editSeed % range.length;
        const e = range[at] as AuditChainEntry;
        const edited = range.map((x, j) => (j === at ? { ...x, raw: flipByte(e.raw, 0) } : x));
        const r = verifyAuditChain(edited, { tenant: TENANT, from });
        assert.ok(!r.ok && r.kind === 'modified' && r.firstBadSeq === split + 1 + at);
        // A recomputed hash at the edit is still caught, at its successor (or not at all for the last).
        const rehashed = range.map((x, j) =>
          j === at
            ? { ...x, raw: flipByte(e.raw, 0), hash: chainHash(TENANT, e.seq, e.prevHash, flipByte(e.raw, 0)) }
            : x,
        );
        const r2 = verifyAuditChain(rehashed, { tenant: TENANT, from });
        if (at === range.length - 1) assert.ok(r2.ok);
        else assert.ok(!r2.ok && r2.kind === 'modified' && r2.firstBadSeq === split + 2 + at);
      },
    ),
    { numRuns: 200 },
  );
});
