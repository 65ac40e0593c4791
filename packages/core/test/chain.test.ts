import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { createPublicKey, createHash, verify as nodeVerify } from 'node:crypto';
import { cryptoReady, ed25519KeyPairFromSeed, type Ed25519KeyPair } from '../src/crypto';
import { AuthorityError } from '../src/errors';
import {
  ATTESTATION_TAG,
  attestationSigningBytes,
  auditGenesisHead,
  chainHash,
  checkpointSigningBytes,
  genesisHash,
  nextAuditChainEntry,
  signAttestation,
  signCheckpoint,
  verifyAttestation,
  verifyAuditChain,
  verifyCheckpoint,
  type AuditChainEntry,
  type AttestationClaims,
} from '../src/chain';

/** An independent check (node:crypto, not this library) of an Ed25519 signature (base64url). */
function assertNodeVerifies(publicKey: Uint8Array, bytes: Uint8Array, signature: string): void {
  const jwk = { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(publicKey).toString('base64url') };
  const key = createPublicKey({ key: jwk, format: 'jwk' });
  assert.equal(nodeVerify(null, bytes, key, Buffer.from(signature, 'base64url')), true);
}

// The test vector published in docs/audit-chain.md.
const VECTOR = {
  tenant: 'acme',
  genesis: '5e607967312bbed9d7e11f333402c43e640cd2b9c1574da2b347de27ca2deb2b',
  raw1: '{"id":"evt-0001","action":"check"}',
  hash1: 'c1a4eebe849ef9e5bb6f70299297334029ff35cae3f58b3b59c6eae588ed4e78',
  raw2: '{"id":"evt-0002","action":"check"}',
  hash2: 'fcbde5ce73041826ed49d1f6e27eba7b7ce1756ab1a4c11b1267373e8ddcfa9b',
  seed: Buffer.alloc(32, 7),
  publicKey: 'ea4a6c63e29c520abef5507b132ec5f9954776aebebe7b92421eea691446d22c',
  checkpointBytes:
    '0000001d617574686f726974792e61756469742e636865636b706f696e742e76310000000461636d650000000000000002' +
    'fcbde5ce73041826ed49d1f6e27eba7b7ce1756ab1a4c11b1267373e8ddcfa9b000000006955b9000000000961756469746f722d31',
  checkpointSignature: 'PT1B5JPZX-9YXTf7KRJNdQ7kz5BrdA-j6MmlIKQp4SZrXh20evxaSmC9b6i0-JcQU1w3utjiQD0DO3NPYJNnDA',
};

let auditor: Ed25519KeyPair;
let other: Ed25519KeyPair;
const keys = (keyId: string) => (keyId === 'auditor-1' ? auditor.publicKey : undefined);

before(async () => {
  await cryptoReady();
  auditor = ed25519KeyPairFromSeed(VECTOR.seed);
  other = ed25519KeyPairFromSeed(Buffer.alloc(32, 9));
});

/** An independent implementation of the documented layout, with node:crypto only. */
function referenceChainHash(tenant: string, seq: number, prev: Buffer, raw: Buffer): string {
  const str = (b: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const seqBytes = Buffer.alloc(8);
  seqBytes.writeBigUInt64BE(BigInt(seq));
  return createHash('sha256')
    .update(
      Buffer.concat([str(Buffer.from('authority.audit.chain.v1')), str(Buffer.from(tenant)), seqBytes, prev, str(raw)]),
    )
    .digest('hex');
}

function buildChain(tenant: string, raws: string[]): AuditChainEntry[] {
  let head = auditGenesisHead(tenant);
  return raws.map((raw, i) => {
    const entry = nextAuditChainEntry(tenant, head, `evt-${i + 1}`, Buffer.from(raw));
    head = { seq: entry.seq, hash: entry.hash };
    return entry;
  });
}

test('test vector: genesis and chain hashes (docs/audit-chain.md)', () => {
  assert.equal(genesisHash(VECTOR.tenant).toString('hex'), VECTOR.genesis);
  const h1 = chainHash(VECTOR.tenant, 1, Buffer.from(VECTOR.genesis, 'hex'), Buffer.from(VECTOR.raw1));
  assert.equal(h1.toString('hex'), VECTOR.hash1);
  const h2 = chainHash(VECTOR.tenant, 2, h1, Buffer.from(VECTOR.raw2));
  assert.equal(h2.toString('hex'), VECTOR.hash2);
  assert.equal(referenceChainHash(VECTOR.tenant, 2, h1, Buffer.from(VECTOR.raw2)), VECTOR.hash2);
  const genesisRef = createHash('sha256')
    .update(
      Buffer.concat([
        Buffer.from([0, 0, 0, 26]),
        Buffer.from('authority.audit.genesis.v1'),
        Buffer.from([0, 0, 0, 4]),
        Buffer.from('acme'),
      ]),
    )
    .digest('hex');
  assert.equal(genesisRef, VECTOR.genesis);
});

test('test vector: checkpoint bytes and signature, verified with node:crypto', () => {
  assert.equal(Buffer.from(auditor.publicKey).toString('hex'), VECTOR.publicKey);
  const cp = signCheckpoint(
    { tenant: 'acme', seq: 2, headHash: VECTOR.hash2, time: 1767225600 },
    auditor.secretKey,
    'auditor-1',
  );
  assert.equal(checkpointSigningBytes(cp).toString('hex'), VECTOR.checkpointBytes);
  assert.equal(cp.signature, VECTOR.checkpointSignature);
  assertNodeVerifies(Buffer.from(VECTOR.publicKey, 'hex'), Buffer.from(VECTOR.checkpointBytes, 'hex'), cp.signature);
});

test('framing is unambiguous: moving bytes between tenant and raw changes the hash', () => {
  const prev = genesisHash('ab');
  assert.notEqual(
    chainHash('ab', 1, prev, Buffer.from('c')).toString('hex'),
    chainHash('a', 1, prev, Buffer.from('bc')).toString('hex'),
  );
  assert.notEqual(genesisHash('a').toString('hex'), genesisHash('b').toString('hex'));
});

test('chainHash refuses malformed input', () => {
  const prev = genesisHash('t');
  assert.throws(() => chainHash('', 1, prev, Buffer.alloc(0)), AuthorityError);
  assert.throws(() => chainHash('t', 0, prev, Buffer.alloc(0)), /seq must be an integer >= 1/);
  assert.throws(() => chainHash('t', 1.5, prev, Buffer.alloc(0)), /seq/);
  assert.throws(() => chainHash('t', 1, Buffer.alloc(31), Buffer.alloc(0)), /prevHash must be 32 bytes/);
  assert.throws(() => chainHash('t\uD800', 1, prev, Buffer.alloc(0)), /lone surrogate/);
});

test('a valid chain verifies and reports its head', () => {
  const chain = buildChain('acme', ['a', 'b', 'c']);
  const r = verifyAuditChain(chain, { tenant: 'acme' });
  assert.ok(r.ok);
  assert.equal(r.checked, 3);
  assert.equal(r.head.seq, 3);
  assert.deepEqual(Buffer.from(r.head.hash), Buffer.from((chain[2] as AuditChainEntry).hash));
  assert.equal(r.checkpointMatched, false);
  const empty = verifyAuditChain([], { tenant: 'acme' });
  assert.ok(empty.ok);
  assert.equal(empty.head.seq, 0);
  assert.deepEqual(Buffer.from(empty.head.hash), genesisHash('acme'));
});

test("another tenant's entry, or a chain built for another tenant, is modified", () => {
  const chain = buildChain('acme', ['a', 'b']);
  const swapped = chain.map((e, i) => (i === 1 ? { ...e, tenant: 'globex' } : e));
  assert.deepEqual(pick(verifyAuditChain(swapped, { tenant: 'acme' })), {
    ok: false,
    firstBadSeq: 2,
    kind: 'modified',
  });
  assert.deepEqual(
    pick(
      verifyAuditChain(
        buildChain('globex', ['a']).map((e) => ({ ...e, tenant: 'acme' })),
        { tenant: 'acme' },
      ),
    ),
    {
      ok: false,
      firstBadSeq: 1,
      kind: 'modified',
    },
  );
});

test('an entry re-hashed after an edit breaks the link to its successor', () => {
  const chain = buildChain('acme', ['a', 'b', 'c']);
  const e2 = chain[1] as AuditChainEntry;
  const raw = Buffer.from('B');
  chain[1] = { ...e2, raw, hash: chainHash('acme', 2, e2.prevHash, raw) };
  const r = verifyAuditChain(chain, { tenant: 'acme' });
  assert.deepEqual(pick(r), { ok: false, firstBadSeq: 3, kind: 'modified' });
  assert.ok(!r.ok && /does not follow entry 2's hash/.test(r.message));
  assert.ok(!r.ok && r.checked === 2);
});

test('sequence numbers swapped in place (storage sorted by seq) are reordered', () => {
  const chain = buildChain('acme', ['a', 'b', 'c', 'd']);
  const [e1, e2, e3, e4] = chain as [AuditChainEntry, AuditChainEntry, AuditChainEntry, AuditChainEntry];
  const stored = [e1, e2, { ...e4, seq: 3 }, { ...e3, seq: 4 }];
  const r = verifyAuditChain(stored, { tenant: 'acme' });
  assert.deepEqual(pick(r), { ok: false, firstBadSeq: 3, kind: 'reordered' });
  assert.ok(!r.ok && /authentic only as seq 4/.test(r.message));
});

test('two different entries with one seq are a fork; an identical duplicate is not a fault', () => {
  const chain = buildChain('acme', ['a', 'b', 'c']);
  const fork = buildChain('acme', ['a', 'X'])[1] as AuditChainEntry;
  assert.deepEqual(
    pick(verifyAuditChain([chain[0], chain[1], fork, chain[2]] as AuditChainEntry[], { tenant: 'acme' })),
    {
      ok: false,
      firstBadSeq: 2,
      kind: 'forked',
    },
  );
  const dup = verifyAuditChain([chain[0], chain[1], chain[1], chain[2]] as AuditChainEntry[], { tenant: 'acme' });
  assert.ok(dup.ok && dup.checked === 3);
});

test('eventIdOf cross-checks the stored event id against the raw bytes', () => {
  const chain = buildChain('acme', ['{"id":"evt-1"}', '{"id":"evt-2"}']);
  const eventIdOf = (raw: Uint8Array) => (JSON.parse(Buffer.from(raw).toString()) as { id: string }).id;
  assert.ok(verifyAuditChain(chain, { tenant: 'acme', eventIdOf }).ok);
  const edited = chain.map((e, i) => (i === 1 ? { ...e, eventId: 'evt-9' } : e));
  assert.deepEqual(pick(verifyAuditChain(edited, { tenant: 'acme', eventIdOf })), {
    ok: false,
    firstBadSeq: 2,
    kind: 'modified',
  });
});

test('range verification from a known (seq, prevHash), and from a checkpoint', () => {
  const chain = buildChain('acme', ['a', 'b', 'c', 'd', 'e']);
  const tail = chain.slice(2);
  const from = { seq: 3, prevHash: (chain[1] as AuditChainEntry).hash };
  const r = verifyAuditChain(tail, { tenant: 'acme', from });
  assert.ok(r.ok && r.checked === 3 && r.head.seq === 5);
  // The original reported every range that did not start at the first row as broken; a wrong
  // starting hash is still caught.
  assert.deepEqual(pick(verifyAuditChain(tail, { tenant: 'acme', from: { seq: 3, prevHash: Buffer.alloc(32) } })), {
    ok: false,
    firstBadSeq: 3,
    kind: 'modified',
  });
  const cp = signCheckpoint(
    { tenant: 'acme', seq: 2, headHash: Buffer.from(from.prevHash).toString('hex'), time: 1 },
    auditor.secretKey,
    'auditor-1',
  );
  const fromCp = verifyAuditChain(tail, { tenant: 'acme', from, checkpoint: cp, checkpointKeys: keys });
  assert.ok(fromCp.ok && fromCp.checkpointMatched);
  // A range starting after a hash the checkpoint contradicts: the earlier history was rewritten.
  const forged = buildChain('acme', ['a', 'B', 'c', 'd', 'e']);
  const r2 = verifyAuditChain(forged.slice(2), {
    tenant: 'acme',
    from: { seq: 3, prevHash: (forged[1] as AuditChainEntry).hash },
    checkpoint: cp,
    checkpointKeys: keys,
  });
  assert.deepEqual(pick(r2), { ok: false, firstBadSeq: 2, kind: 'forked' });
});

test('checkpoints: a later checkpoint catches truncation and a rewrite', () => {
  const chain = buildChain('acme', ['a', 'b', 'c', 'd']);
  const head = chain[3] as AuditChainEntry;
  const cp = signCheckpoint(
    { tenant: 'acme', seq: 4, headHash: Buffer.from(head.hash).toString('hex'), time: 1767225600 },
    auditor.secretKey,
    'auditor-1',
  );
  const ok = verifyAuditChain(chain, { tenant: 'acme', checkpoint: cp, checkpointKeys: keys });
  assert.ok(ok.ok && ok.checkpointMatched);
  // A checkpoint older than the head still pins the prefix.
  const older = signCheckpoint(
    { tenant: 'acme', seq: 2, headHash: Buffer.from((chain[1] as AuditChainEntry).hash).toString('hex'), time: 1 },
    auditor.secretKey,
    'auditor-1',
  );
  assert.ok(verifyAuditChain(chain, { tenant: 'acme', checkpoint: older, checkpointKeys: keys }).ok);

  const truncated = verifyAuditChain(chain.slice(0, 2), { tenant: 'acme', checkpoint: cp, checkpointKeys: keys });
  assert.deepEqual(pick(truncated), { ok: false, firstBadSeq: 3, kind: 'truncated' });
  assert.ok(!truncated.ok && /entries 3-4 were deleted/.test(truncated.message));
  assert.deepEqual(pick(verifyAuditChain([], { tenant: 'acme', checkpoint: cp, checkpointKeys: keys })), {
    ok: false,
    firstBadSeq: 1,
    kind: 'truncated',
  });

  const rewritten = buildChain('acme', ['a', 'b', 'C', 'd']);
  assert.ok(verifyAuditChain(rewritten, { tenant: 'acme' }).ok, 'without a checkpoint a rewrite is self-consistent');
  assert.deepEqual(pick(verifyAuditChain(rewritten, { tenant: 'acme', checkpoint: cp, checkpointKeys: keys })), {
    ok: false,
    firstBadSeq: 4,
    kind: 'forked',
  });
});

test('forged, foreign or unverifiable checkpoints are refused before the chain is trusted', () => {
  const chain = buildChain('acme', ['a', 'b']);
  const headHash = Buffer.from((chain[1] as AuditChainEntry).hash).toString('hex');
  const cp = signCheckpoint({ tenant: 'acme', seq: 2, headHash, time: 5 }, auditor.secretKey, 'auditor-1');
  const kind = (c: typeof cp, k: typeof keys | null = keys) =>
    pick(verifyAuditChain(chain, { tenant: 'acme', checkpoint: c, ...(k === null ? {} : { checkpointKeys: k }) }));
  const forged = { ok: false, firstBadSeq: 2, kind: 'forged_checkpoint' };
  const sig = Buffer.from(cp.signature, 'base64url');
  sig[0] = (sig[0] as number) ^ 1;
  assert.deepEqual(kind({ ...cp, signature: sig.toString('base64url') }), forged);
  assert.deepEqual(kind({ ...cp, seq: 3 }), { ...forged, firstBadSeq: 3 });
  assert.deepEqual(kind({ ...cp, time: 6 }), forged);
  assert.deepEqual(
    kind(signCheckpoint({ tenant: 'acme', seq: 2, headHash, time: 5 }, other.secretKey, 'auditor-1')),
    forged,
  );
  assert.deepEqual(kind({ ...cp, keyId: 'auditor-2' }), forged);
  assert.deepEqual(kind(cp, null), forged);
  assert.deepEqual(kind({ ...cp, headHash: headHash.toUpperCase() }), forged);
  const foreign = signCheckpoint({ tenant: 'globex', seq: 2, headHash, time: 5 }, auditor.secretKey, 'auditor-1');
  const r = verifyAuditChain(chain, { tenant: 'acme', checkpoint: foreign, checkpointKeys: keys });
  assert.deepEqual(pick(r), forged);
  assert.ok(!r.ok && /for tenant 'globex'/.test(r.message));
});

test('verifyCheckpoint never throws on malformed input', () => {
  const throwing = () => {
    throw new Error('key store down');
  };
  const cp = signCheckpoint({ tenant: 'acme', seq: 0, headHash: VECTOR.genesis, time: 0 }, auditor.secretKey, 'k');
  assert.deepEqual(
    verifyCheckpoint(cp, () => auditor.publicKey),
    { ok: true },
  );
  assert.equal(verifyCheckpoint(cp, throwing).ok, false);
  assert.equal(verifyCheckpoint({ ...cp, signature: 'not base64!' }, () => auditor.publicKey).ok, false);
  assert.equal(verifyCheckpoint({ ...cp, seq: -1 }, () => auditor.publicKey).ok, false);
  assert.equal(verifyCheckpoint(null as never, () => auditor.publicKey).ok, false);
  assert.equal(verifyCheckpoint({ ...cp, tenant: undefined } as never, () => auditor.publicKey).ok, false);
});

test('attestations v1 (no acted/delegated split): signed over canonical bytes, bound to a checkpoint, tamper-evident', () => {
  const claims: AttestationClaims = {
    tenant: 'acme',
    agent: 'academic-advisor',
    resourcePattern: 'slos://vaults/student-health/*',
    from: 1767225600,
    to: 1767312000,
    allowedCount: 0,
    deniedCount: 1,
    checkpoint: { seq: 2, headHash: VECTOR.hash2 },
    issuedAt: 1767312060,
  };
  const signed = signAttestation(claims, auditor.secretKey, 'auditor-1');
  assert.equal(
    signed.signature,
    'y7bnfokTg6ECQM3B-C28pSXbM5AFOERl-Ds8so24J0suftxX6upJIKvhJdtl32eurKi8nwJ6SemV23FmfJhkBw',
  );
  assert.deepEqual(verifyAttestation(signed, keys), { ok: true });
  // Independent check of the signature over the documented bytes.
  assertNodeVerifies(auditor.publicKey, attestationSigningBytes(signed), signed.signature);
  for (const tampered of [
    { ...signed, allowedCount: 1 },
    { ...signed, deniedCount: 0 },
    { ...signed, agent: 'registrar-agent' },
    { ...signed, resourcePattern: 'slos://vaults/*' },
    { ...signed, to: 1767312001 },
    { ...signed, checkpoint: { seq: 3, headHash: VECTOR.hash2 } },
    { ...signed, checkpoint: { seq: 2, headHash: VECTOR.hash1 } },
    { ...signed, keyId: 'auditor-2' },
  ]) {
    assert.equal(verifyAttestation(tampered, keys).ok, false, JSON.stringify(tampered));
  }
  assert.throws(
    () => signAttestation({ ...claims, to: claims.from - 1 }, auditor.secretKey, 'auditor-1'),
    /to must not be before from/,
  );
  assert.throws(() => signAttestation({ ...claims, allowedCount: -1 }, auditor.secretKey, 'auditor-1'), AuthorityError);
});

test('attestations v2: the acted/delegated split of the allowed count is signed under its own tag', () => {
  // The v2 vector published in docs/audit-chain.md: academic-advisor never acted itself, but an
  // agent it delegated to was allowed twice.
  const claims: AttestationClaims = {
    tenant: 'acme',
    agent: 'academic-advisor',
    resourcePattern: 'slos://vaults/student-health/*',
    from: 1767225600,
    to: 1767312000,
    allowedCount: 2,
    allowedActedCount: 0,
    allowedDelegatedCount: 2,
    deniedCount: 1,
    checkpoint: { seq: 2, headHash: VECTOR.hash2 },
    issuedAt: 1767312060,
  };
  const signed = signAttestation(claims, auditor.secretKey, 'auditor-1');
  // An independent encoding of the documented v2 layout, with Buffer only.
  const str = (s: string) => {
    const b = Buffer.from(s, 'utf8');
    const len = Buffer.alloc(4);
    len.writeUInt32BE(b.length);
    return Buffer.concat([len, b]);
  };
  const u64 = (n: number) => {
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(BigInt(n));
    return b;
  };
  const reference = Buffer.concat([
    str('authority.audit.attestation.v2'),
    str('acme'),
    str('academic-advisor'),
    str('slos://vaults/student-health/*'),
    u64(1767225600),
    u64(1767312000),
    u64(2),
    u64(0),
    u64(2),
    u64(1),
    u64(2),
    Buffer.from(VECTOR.hash2, 'hex'),
    u64(1767312060),
    str('auditor-1'),
  ]);
  assert.equal(attestationSigningBytes(signed).toString('hex'), reference.toString('hex'));
  assert.equal(ATTESTATION_TAG, 'authority.audit.attestation.v2');
  assert.equal(
    signed.signature,
    'ty3m4DcFslTbtKaxWabsLGd3flBTj-1wdBIaDd8oUBr0IXzXaaDXwX9U5BSBk4NtlH7Zv3oNbFAyvlKzYgN9AA',
  );
  assert.deepEqual(verifyAttestation(signed, keys), { ok: true });
  assertNodeVerifies(auditor.publicKey, reference, signed.signature);
  const { allowedActedCount: _acted, allowedDelegatedCount: _delegated, ...withoutSplit } = signed;
  for (const tampered of [
    { ...signed, allowedActedCount: 2, allowedDelegatedCount: 0 },
    { ...signed, allowedActedCount: 1, allowedDelegatedCount: 1 },
    { ...signed, allowedCount: 3, allowedDelegatedCount: 3 },
    // Read as a v1 attestation (the split dropped), the same signature does not verify.
    withoutSplit,
  ]) {
    assert.equal(verifyAttestation(tampered, keys).ok, false, JSON.stringify(tampered));
  }
  // A v1 signature does not verify with a split added either.
  const v1 = signAttestation({ ...withoutSplit, allowedCount: 2 }, auditor.secretKey, 'auditor-1');
  assert.equal(
    verifyAttestation({ ...v1, allowedActedCount: 0, allowedDelegatedCount: 2 }, keys).ok,
    false,
    'a v1 signature is not a v2 signature',
  );
  assert.deepEqual(verifyAttestation(v1, keys), { ok: true });
  // The split must add up, and comes in pairs.
  assert.throws(
    () => signAttestation({ ...claims, allowedActedCount: 1 }, auditor.secretKey, 'auditor-1'),
    /must equal allowedCount/,
  );
  assert.throws(
    () => signAttestation({ ...withoutSplit, allowedActedCount: 2 }, auditor.secretKey, 'auditor-1'),
    (e: unknown) => e instanceof AuthorityError && e.field === 'allowedDelegatedCount',
  );
  assert.throws(
    () => signAttestation({ ...claims, allowedActedCount: -1, allowedDelegatedCount: 3 }, auditor.secretKey, 'k'),
    AuthorityError,
  );
  assert.equal(verifyAttestation({ ...signed, allowedActedCount: 1 }, keys).ok, false, 'never throws');
});

function pick(r: ReturnType<typeof verifyAuditChain>): { ok: boolean; firstBadSeq?: number; kind?: string } {
  return r.ok ? { ok: true } : { ok: false, firstBadSeq: r.firstBadSeq, kind: r.kind };
}
