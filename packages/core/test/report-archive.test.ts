// The compliance report's canonical content and an archived chain segment, verified offline.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, ed25519KeyPairFromSeed, type Ed25519KeyPair } from '../src/crypto';
import {
  ARCHIVE_FORMAT,
  canonicalJson,
  chainHash,
  genesisHash,
  reportContentSha256,
  signCheckpoint,
  verifyChainArchive,
  type ChainArchive,
} from '../src/chain';

let key: Ed25519KeyPair;
const resolve = (id: string) => (id === 'k1' ? key.publicKey : undefined);
before(async () => {
  await cryptoReady();
  key = ed25519KeyPairFromSeed(Buffer.alloc(32, 7));
});

test('canonical JSON sorts keys at every level, so a re-formatted report has the same digest', () => {
  assert.equal(
    canonicalJson({ b: 1, a: { d: [2, { y: 1, x: 'é' }], c: null } }),
    '{"a":{"c":null,"d":[2,{"x":"é","y":1}]},"b":1}',
  );
  const a = { tenant: 't', counts: { denied: 1, allowed: 2 }, rows: [{ z: 1, a: 2 }] };
  const b = JSON.parse(
    JSON.stringify({ rows: [{ a: 2, z: 1 }], counts: { allowed: 2, denied: 1 }, tenant: 't' }, null, 4),
  );
  assert.equal(reportContentSha256(a), reportContentSha256(b));
  assert.notEqual(reportContentSha256(a), reportContentSha256({ ...a, counts: { denied: 0, allowed: 2 } }));
  assert.equal(canonicalJson({ a: undefined, b: [undefined] }), '{"b":[null]}');
  assert.throws(() => canonicalJson({ n: Number.NaN }), /non-finite/);
});

/** A chain of `n` entries of tenant `t` and the archive of seqs [from, through]. */
function archiveOf(n: number, from: number, through: number, checkpointsAt: number[]): ChainArchive {
  const tenant = 't';
  const entries: ChainArchive['entries'] = [];
  let prev = genesisHash(tenant);
  for (let seq = 1; seq <= n; seq++) {
    const rawEvent = JSON.stringify({ eventId: `e${seq}`, tenant });
    const hash = chainHash(tenant, seq, prev, Buffer.from(rawEvent));
    entries.push({ seq, hash: hash.toString('hex'), prevHash: prev.toString('hex'), rawEvent });
    prev = hash;
  }
  const checkpoints = checkpointsAt.map((seq) =>
    signCheckpoint({ tenant, seq, headHash: entries[seq - 1]!.hash, time: 1_767_225_600 + seq }, key.secretKey, 'k1'),
  );
  return {
    format: ARCHIVE_FORMAT,
    tenant,
    fromSeq: from,
    throughSeq: through,
    entries: entries.slice(from - 1, through),
    checkpoints,
  };
}

test('an archived segment verifies from genesis or from the previous segment’s end checkpoint', () => {
  const first = verifyChainArchive(archiveOf(30, 1, 10, [10]), resolve);
  assert.deepEqual(first.ok && [first.fromSeq, first.throughSeq, first.entries], [1, 10, 10]);
  const second = verifyChainArchive(archiveOf(30, 11, 20, [10, 20]), resolve);
  assert.equal(second.ok, true, JSON.stringify(second));
});

test('an archived segment fails offline, naming why, when anything is off', () => {
  const bad = (a: ChainArchive, re: RegExp) => {
    const v = verifyChainArchive(a, resolve);
    assert.equal(v.ok, false);
    assert.match((v as { message: string }).message, re);
  };
  bad(archiveOf(30, 1, 10, [5]), /no signed checkpoint at throughSeq 10/);
  bad(archiveOf(30, 11, 20, [20]), /no signed checkpoint at seq 10: the segment's start is not anchored/);
  const edited = archiveOf(30, 1, 10, [10]);
  edited.entries[3]!.rawEvent = edited.entries[3]!.rawEvent.replace('e4', 'e5');
  bad(edited, /MODIFIED at seq 4/);
  const dropped = archiveOf(30, 1, 10, [10]);
  dropped.entries.splice(4, 1);
  bad(dropped, /9 entries for seqs 1-10/);
  const stranger = verifyChainArchive(archiveOf(30, 1, 10, [10]), () => undefined);
  assert.match((stranger as { message: string }).message, /unknown key 'k1'/);
  const otherTenant = archiveOf(30, 1, 10, [10]);
  otherTenant.tenant = 'u';
  bad(otherTenant, /of tenant 't', not 'u'/);
});
