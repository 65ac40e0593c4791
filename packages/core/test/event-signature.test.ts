// Producer signatures on audit records (events/signature.ts): the signed bytes cover every field
// the auditor reads (changing any one of them breaks the signature), the header format is strict,
// a key only signs for its sources and types, and the trusted-key list is parsed strictly.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash, createPublicKey, verify as nodeVerify } from 'node:crypto';
import fc from 'fast-check';
import { cryptoReady } from '../src/crypto';
import { merkleKnown, merkleLeafHash, merkleTree, merkleWalk } from '../src/events/merkle';
import {
  EVENT_SIGNATURE_HEADER,
  VerifiedBatchRoots,
  eventBatchSigningBytes,
  SIGNED_EVENT_HEADERS,
  decodeKey32,
  defaultEventKeyId,
  eventKeyScopeProblem,
  eventSigningBytes,
  eventSigningKey,
  parseTrustedEventKeys,
  signEvent,
  signEventBatch,
  verifyEventSignature,
  type EventRecord,
  type EventSigningKey,
  type TrustedEventKey,
} from '../src/events/signature';

const SEED_A = Buffer.alloc(32, 1);
/** Every header the auditor reads, written out here so that dropping one from the signed set fails. */
const AUDITOR_READS = ['ce_specversion', 'ce_id', 'ce_type', 'ce_source', 'ce_subject', 'ce_time', 'content-type'];
const SEED_B = Buffer.alloc(32, 2);

/** A record as the enforcer produces it (strings), with a trace header that is not signed. */
function producedRecord(): { key: string; value: string; headers: Record<string, string> } {
  return {
    key: 'acme',
    value: '{"eventId":"e-1","tenant":"acme","source":"enforcer","action":"read"}',
    headers: {
      ce_specversion: '1.0',
      ce_id: 'e-1',
      ce_type: 'authority.audit.v1',
      ce_source: 'enforcer',
      ce_subject: 'acme',
      ce_time: '2026-11-30T12:00:00.000Z',
      'content-type': 'application/json',
      traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
    },
  };
}

/** The same record as kafkajs hands it to a consumer: every key, value and header as a Buffer. */
function consumed(r: { key: string | null; value: string | null; headers: Record<string, string> }): EventRecord {
  return {
    key: r.key === null ? null : Buffer.from(r.key),
    value: r.value === null ? null : Buffer.from(r.value),
    headers: Object.fromEntries(Object.entries(r.headers).map(([k, v]) => [k, Buffer.from(v)])),
  };
}

let keyA: EventSigningKey;
let keyB: EventSigningKey;
let trusted: Map<string, TrustedEventKey>;
const resolve = (kid: string) => trusted.get(kid);

before(async () => {
  await cryptoReady();
  keyA = eventSigningKey(SEED_A, 'enforcer-1');
  keyB = eventSigningKey(SEED_B, 'issuer-1');
  trusted = new Map([
    ['enforcer-1', { kid: 'enforcer-1', publicKey: keyA.publicKey, sources: ['enforcer'] }],
    ['issuer-1', { kid: 'issuer-1', publicKey: keyB.publicKey, sources: ['issuer'] }],
  ]);
});

function signed(): { key: string; value: string; headers: Record<string, string> } {
  const r = producedRecord();
  r.headers[EVENT_SIGNATURE_HEADER] = signEvent(r, keyA);
  return r;
}

describe('signing and verifying', () => {
  test('a record signed as produced verifies as consumed (Buffers), and names its key', () => {
    const r = signed();
    const check = verifyEventSignature(consumed(r), resolve);
    assert.equal(check.ok, true, check.ok ? '' : check.message);
    assert.equal(check.ok && check.key.kid, 'enforcer-1');
    // And as strings (platform's publisher on the producer side).
    assert.equal(verifyEventSignature(r, resolve).ok, true);
  });

  test('the header is <kid>.<86 base64url characters>', () => {
    assert.match(signed().headers[EVENT_SIGNATURE_HEADER]!, /^enforcer-1\.[A-Za-z0-9_-]{86}$/);
  });

  test('an independent Ed25519 (node:crypto) verifies the signature over the documented bytes', () => {
    const r = signed();
    const sig = Buffer.from(r.headers[EVENT_SIGNATURE_HEADER]!.split('.')[1]!, 'base64url');
    // The layout written out by hand: str(tag) ‖ str(kid) ‖ opt(key) ‖ opt(7 headers) ‖ opt(value).
    const str = (s: string) => {
      const b = Buffer.from(s, 'utf8');
      const len = Buffer.alloc(4);
      len.writeUInt32BE(b.length);
      return Buffer.concat([len, b]);
    };
    const opt = (s: string | undefined) =>
      s === undefined ? Buffer.from([0]) : Buffer.concat([Buffer.from([1]), str(s)]);
    const expected = Buffer.concat([
      str('authority.event.v1'),
      str('enforcer-1'),
      opt(r.key),
      ...AUDITOR_READS.map((h) => opt(r.headers[h])),
      opt(r.value),
    ]);
    assert.deepEqual(eventSigningBytes(r, 'enforcer-1'), expected);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), keyA.publicKey]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    assert.equal(nodeVerify(null, expected, pub, sig), true);
  });

  test('changing ANY signed field breaks the signature: key, every signed header, value', () => {
    assert.deepEqual([...SIGNED_EVENT_HEADERS], AUDITOR_READS);
    const base = signed();
    const mutations: [string, (r: ReturnType<typeof signed>) => void][] = [
      ['record key', (r) => (r.key = 'globex')],
      ['record value', (r) => (r.value = r.value.replace('"read"', '"write"'))],
      ['record value, one byte appended', (r) => (r.value += ' ')],
      ...AUDITOR_READS.map((h): [string, (r: ReturnType<typeof signed>) => void] => [
        `header ${h}`,
        (r) => (r.headers[h] += 'x'),
      ]),
      ...AUDITOR_READS.map((h): [string, (r: ReturnType<typeof signed>) => void] => [
        `header ${h} removed`,
        (r) => delete r.headers[h],
      ]),
      ...AUDITOR_READS.map((h): [string, (r: ReturnType<typeof signed>) => void] => [
        `header ${h} emptied`,
        (r) => (r.headers[h] = ''),
      ]),
    ];
    for (const [what, mutate] of mutations) {
      const r = structuredClone(base);
      mutate(r);
      const check = verifyEventSignature(consumed(r), resolve);
      assert.equal(check.ok, false, `${what}: still verifies`);
      assert.equal(!check.ok && check.problem, 'bad_signature', what);
    }
    // A record without a key, or without a value, is signed as absent, which is not empty.
    const noKey = { ...structuredClone(base), key: null as string | null };
    noKey.headers[EVENT_SIGNATURE_HEADER] = signEvent(noKey, keyA);
    assert.equal(verifyEventSignature(consumed(noKey), resolve).ok, true);
    assert.equal(verifyEventSignature(consumed({ ...noKey, key: '' }), resolve).ok, false);
  });

  test('the key id is signed: the same signature under another trusted kid fails', () => {
    const r = signed();
    const sig = r.headers[EVENT_SIGNATURE_HEADER]!.split('.')[1];
    // Even a kid that resolves to the SAME public key: the kid is part of the signed bytes.
    trusted.set('enforcer-alias', { kid: 'enforcer-alias', publicKey: keyA.publicKey });
    try {
      r.headers[EVENT_SIGNATURE_HEADER] = `enforcer-alias.${sig}`;
      const check = verifyEventSignature(consumed(r), resolve);
      assert.equal(!check.ok && check.problem, 'bad_signature');
      r.headers[EVENT_SIGNATURE_HEADER] = `issuer-1.${sig}`;
      const other = verifyEventSignature(consumed(r), resolve);
      assert.equal(!other.ok && other.problem, 'bad_signature');
    } finally {
      trusted.delete('enforcer-alias');
    }
  });

  test('headers that are not signed (trace context, extra ones) may change', () => {
    const r = signed();
    r.headers['traceparent'] = '00-11111111111111111111111111111111-2222222222222222-01';
    r.headers['x-extra'] = 'anything';
    assert.equal(verifyEventSignature(consumed(r), resolve).ok, true);
  });

  test('unsigned, malformed, repeated, unknown-key and wrong-key records are refused with their problem', () => {
    const problem = (r: EventRecord) => {
      const c = verifyEventSignature(r, resolve);
      return c.ok ? 'ok' : c.problem;
    };
    const base = signed();
    const without = structuredClone(base);
    delete without.headers[EVENT_SIGNATURE_HEADER];
    assert.equal(problem(consumed(without)), 'unsigned');
    const sig = base.headers[EVENT_SIGNATURE_HEADER]!;
    for (const bad of [
      'enforcer-1',
      sig.replace('.', ''),
      `${sig}=`,
      `${sig.slice(0, -2)}`,
      `enforcer 1.${sig.split('.')[1]}`,
      `.${sig.split('.')[1]}`,
      `enforcer-1.${sig.split('.')[1]!.replace(/^./, '+')}`,
    ]) {
      assert.equal(
        problem(consumed({ ...base, headers: { ...base.headers, [EVENT_SIGNATURE_HEADER]: bad } })),
        'malformed_signature',
        bad,
      );
    }
    const twice: EventRecord = {
      ...consumed(base),
      headers: { ...consumed(base).headers, [EVENT_SIGNATURE_HEADER]: [sig, sig] },
    };
    assert.equal(problem(twice), 'malformed_signature');
    // A repeated signed header is ambiguous (the auditor would read the first): refused, not verified.
    const repeated: EventRecord = {
      ...consumed(base),
      headers: { ...consumed(base).headers, ce_subject: ['acme', 'globex'] },
    };
    assert.equal(problem(repeated), 'malformed_signature');
    assert.equal(
      problem(
        consumed({
          ...base,
          headers: { ...base.headers, [EVENT_SIGNATURE_HEADER]: sig.replace('enforcer-1', 'nobody') },
        }),
      ),
      'unknown_key',
    );
    // Signed by a key the auditor does not trust, under a trusted key's id.
    const rogue = eventSigningKey(Buffer.alloc(32, 9), 'enforcer-1');
    const forged = producedRecord();
    forged.headers[EVENT_SIGNATURE_HEADER] = signEvent(forged, rogue);
    assert.equal(problem(consumed(forged)), 'bad_signature');
  });

  test('default key id: first 16 hex digits of SHA-256 of the public key', () => {
    const k = eventSigningKey(SEED_A);
    assert.match(k.kid, /^[0-9a-f]{16}$/);
    assert.equal(k.kid, defaultEventKeyId(k.publicKey));
    assert.throws(() => eventSigningKey(SEED_A, 'has.dot'), /key id/);
  });

  test('published test vector (docs/audit-chain.md): seed 32 × 0x01, kid enforcer-1', () => {
    assert.equal(
      signed().headers[EVENT_SIGNATURE_HEADER],
      'enforcer-1.HlKYBLA4U7CwHy3FzdZpim18cV1vMwmdl_ZHmknBpGCcPhwNfoQJGxv7cvbU7J1-FBEZaMY6TKi04Gqg_MIWAw',
    );
  });
});

describe('what a key may sign', () => {
  test('sources and types limit a key; an unlimited key signs anything', () => {
    const k: TrustedEventKey = {
      kid: 'k',
      publicKey: new Uint8Array(32),
      sources: ['enforcer'],
      types: ['authority.audit.v1'],
    };
    assert.equal(eventKeyScopeProblem(k, { source: 'enforcer', type: 'authority.audit.v1' }), undefined);
    assert.equal(
      eventKeyScopeProblem(k, { source: 'issuer', type: 'authority.audit.v1' })?.problem,
      'source_not_allowed',
    );
    assert.equal(
      eventKeyScopeProblem(k, { source: 'enforcer', type: 'authority.key.v1' })?.problem,
      'type_not_allowed',
    );
    assert.equal(eventKeyScopeProblem(k, { source: 'enforcer', type: undefined })?.problem, 'type_not_allowed');
    assert.equal(
      eventKeyScopeProblem({ kid: 'k', publicKey: new Uint8Array(32) }, { source: 'x', type: undefined }),
      undefined,
    );
  });
});

describe('trusted key list', () => {
  const pubA = () => Buffer.from(keyA.publicKey).toString('base64url');
  const pubB = () => Buffer.from(keyB.publicKey).toString('base64');

  test('entries by comma or line, comments, scopes, base64url or base64', () => {
    const text = `# enforcer replicas\nenforcer-1=${pubA()};sources=enforcer;types=authority.audit.v1\n  issuer-1 = ${pubB()} ; sources = issuer|policy , \n`;
    const { keys, problems } = parseTrustedEventKeys(text);
    assert.deepEqual(problems, []);
    assert.equal(keys.length, 2);
    assert.deepEqual(keys[0], {
      kid: 'enforcer-1',
      publicKey: Buffer.from(keyA.publicKey),
      sources: ['enforcer'],
      types: ['authority.audit.v1'],
    });
    assert.deepEqual(keys[1]?.sources, ['issuer', 'policy']);
    assert.equal(keys[1]?.types, undefined);
  });

  test('every problem is reported, with its item, and no key material', () => {
    const secretish = pubA();
    const { keys, problems } = parseTrustedEventKeys(
      `noequals,bad.kid=${secretish},short=${secretish.slice(0, 20)},dup=${secretish},dup=${secretish},scoped=${secretish};sources=,x=${secretish};colour=blue,y=${secretish};sources=a;sources=b`,
    );
    assert.equal(problems.length, 7, problems.join('\n'));
    assert.match(problems[0]!, /^item 1:/);
    assert.match(problems[1]!, /^item 2:/);
    assert.match(problems[2]!, /^item 3 \('short'\): expected base64url/);
    assert.match(problems[3]!, /^item 5: key id 'dup' is listed twice/);
    assert.match(problems[4]!, /^item 6 \('scoped'\)/);
    assert.match(problems[5]!, /^item 7 \('x'\)/);
    assert.match(problems[6]!, /^item 8 \('y'\): 'sources' is given twice/);
    for (const p of problems) assert.ok(!p.includes(secretish.slice(0, 20)), p);
    assert.deepEqual(
      keys.map((k) => k.kid),
      ['dup', 'scoped', 'x', 'y'],
    );
  });

  test('decodeKey32 takes exactly 32 bytes', () => {
    assert.equal(decodeKey32(Buffer.alloc(32, 7).toString('base64url'))?.length, 32);
    assert.deepEqual(decodeKey32(Buffer.alloc(32, 7).toString('base64')), Buffer.alloc(32, 7));
    assert.equal(decodeKey32(Buffer.alloc(31).toString('base64')), undefined);
    assert.equal(decodeKey32('not base64!'), undefined);
  });
});

/** RFC 9162 §2.1.1's MTH written out recursively (split at the largest power of two below n). */
function referenceRoot(leaves: Buffer[]): Buffer {
  const h = (...parts: Buffer[]) => parts.reduce((c, p) => c.update(p), createHash('sha256')).digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return h(Buffer.from([1]), referenceRoot(leaves.slice(0, k)), referenceRoot(leaves.slice(k)));
}

/** n produced records with distinct ids and values. */
function producedBatch(n: number): ReturnType<typeof producedRecord>[] {
  return Array.from({ length: n }, (_, i) => {
    const r = producedRecord();
    r.value = r.value.replace('e-1', `e-${i}`);
    r.headers['ce_id'] = `e-${i}`;
    return r;
  });
}

function signedBatch(n: number): ReturnType<typeof producedRecord>[] {
  const records = producedBatch(n);
  signEventBatch(records, keyA).forEach((h, i) => (records[i]!.headers[EVENT_SIGNATURE_HEADER] = h));
  return records;
}

describe('batch signatures (one Ed25519 signature over a Merkle root)', () => {
  test('the tree is RFC 9162: the root of every size 1-70 equals the recursive definition; every path leads to it', () => {
    for (let n = 1; n <= 70; n++) {
      const leaves = Array.from({ length: n }, (_, i) => merkleLeafHash(Buffer.from(`leaf ${i}`)));
      const { root, paths } = merkleTree(leaves);
      assert.deepEqual(root, referenceRoot(leaves), `size ${n}`);
      paths.forEach((path, i) => {
        assert.deepEqual(merkleWalk(leaves[i]!, i, n, path)?.root, root, `size ${n} leaf ${i}`);
        // The same path claimed for another position or size does not lead to the root.
        // The same path claimed for another position does not lead to the root. (It may fit another
        // size: leaf 0 of 3 and of 4 have the same path shape; that is why the size is signed.)
        const other = merkleWalk(leaves[i]!, i + 1, n, path)?.root;
        assert.ok(other === undefined || !other.equals(root), `size ${n} leaf ${i} as ${i + 1}`);
        if (path.length > 0) assert.equal(merkleWalk(leaves[i]!, i, n, path.slice(1)), undefined, 'one hash short');
        assert.equal(merkleWalk(leaves[i]!, i, n, [...path, root]), undefined, 'a path one hash too long');
      });
    }
  });

  test('property: checking a path against nodes already authenticated answers exactly as the full walk to the root', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 90 }),
        fc.array(fc.nat(), { minLength: 1, maxLength: 4 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('as is', 'other leaf', 'other index', 'sibling swapped', 'short', 'long', 'other size'),
        (n, verified, pick, other, change) => {
          const leaves = Array.from({ length: n }, (_, i) => merkleLeafHash(Buffer.from(`leaf ${i}`)));
          const { root, paths } = merkleTree(leaves);
          const known = new Map();
          for (const v of verified) {
            const walked = merkleWalk(leaves[v % n]!, v % n, n, paths[v % n]!);
            assert.ok(walked?.root.equals(root));
            for (const [at, h] of walked!.nodes) known.set(at, h);
          }
          const i = pick % n;
          let leaf = leaves[i]!;
          let index = i;
          let size = n;
          let path = [...paths[i]!];
          const j = (i + 1 + (other % (n - 1))) % n;
          if (change === 'other leaf') leaf = merkleLeafHash(Buffer.from('forged'));
          else if (change === 'other index') index = j;
          else if (change === 'sibling swapped' && path.length > 0)
            path[other % path.length] = [...known.values()][other % known.size]!;
          else if (change === 'short') path = path.slice(0, -1);
          else if (change === 'long') path = [...path, leaf];
          else if (change === 'other size') size = n + 1 + (other % n);
          const full = merkleWalk(leaf, index, size, path)?.root.equals(root) ?? false;
          assert.equal(merkleKnown(known, leaf, index, size, path), full, `${change}: leaf ${i} of ${n}`);
        },
      ),
      { numRuns: 400 },
    );
  });

  test('an independent Ed25519 (node:crypto) verifies the batch signature over the documented bytes', () => {
    const records = signedBatch(5);
    const header = records[3]!.headers[EVENT_SIGNATURE_HEADER]!;
    assert.match(header, /^enforcer-1\.[A-Za-z0-9_-]{86}\.3\.5\.[A-Za-z0-9_-]+$/);
    const [, sigText, , , pathText] = header.split('.');
    assert.equal(Buffer.from(pathText!, 'base64url').length, 3 * 32, 'leaf 3 of 5: three sibling hashes');
    const root = referenceRoot(records.map((r) => merkleLeafHash(eventSigningBytes(r, 'enforcer-1'))));
    const len = (n: number) => {
      const b = Buffer.alloc(4);
      b.writeUInt32BE(n);
      return b;
    };
    const expected = Buffer.concat([
      len(24),
      Buffer.from('authority.event.batch.v1'),
      len(10),
      Buffer.from('enforcer-1'),
      len(5),
      root,
    ]);
    assert.deepEqual(eventBatchSigningBytes('enforcer-1', 5, root), expected);
    const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), keyA.publicKey]);
    const pub = createPublicKey({ key: spki, format: 'der', type: 'spki' });
    assert.equal(nodeVerify(null, expected, pub, Buffer.from(sigText!, 'base64url')), true);
  });

  test('published test vector (docs/audit-chain.md): the vector record and two more, signed as one batch', () => {
    const records = ['e-1', 'e-2', 'e-3'].map((id) => {
      const r = producedRecord();
      delete r.headers['traceparent'];
      r.headers['ce_id'] = id;
      r.value = r.value.replace('e-1', id);
      return r;
    });
    const sig = 'enforcer-1.wQgst29P6AM3ZzJRnn4djm6Zx0I36yqmXZEwhXR603-RLLAHTwZzm1Rd4B2dlMVWssjUiZHA9a-nQBskcZ3xAg';
    assert.deepEqual(signEventBatch(records, keyA), [
      `${sig}.0.3.ocBARARpQay3cCcZ1LTvXwuyZsgA_RQH2XEH4WwR3gy476Nq-fT31NFk6uHvg85MSP2DDh4X2jg3bwjJDj56uQ`,
      `${sig}.1.3.oZWl3hVi8jiL74giodRS6q1huvGW36kJDxrwcfYepje476Nq-fT31NFk6uHvg85MSP2DDh4X2jg3bwjJDj56uQ`,
      `${sig}.2.3.lAIQABsXfqkhGit6q5B0KWN4cqK5vY1PjkQnluWEj8U`,
    ]);
  });

  test('a batch of one is signed as a single record', () => {
    const [one] = producedBatch(1);
    assert.deepEqual(signEventBatch([one!], keyA), [signEvent(one!, keyA)]);
  });

  test('property: every record of a batch verifies alone and through the cache; a changed one, or a header moved to another record, does not', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 140 }),
        fc.nat(),
        fc.nat(),
        fc.constantFrom('value', 'subject', 'header moved', 'other batch', 'size claimed'),
        (n, pick, other, change) => {
          const records = signedBatch(n);
          const roots = new VerifiedBatchRoots();
          for (const r of records) {
            assert.equal(verifyEventSignature(consumed(r), resolve).ok, true);
            assert.equal(verifyEventSignature(consumed(r), resolve, roots).ok, true);
          }
          const i = pick % n;
          const j = (i + 1 + (other % (n - 1))) % n;
          const bad = structuredClone(records[i]!);
          if (change === 'value') bad.value = bad.value.replace('"read"', '"write"');
          else if (change === 'subject') bad.headers['ce_subject'] = 'globex';
          else if (change === 'header moved')
            bad.headers[EVENT_SIGNATURE_HEADER] = records[j]!.headers[EVENT_SIGNATURE_HEADER]!;
          else if (change === 'other batch')
            bad.headers[EVENT_SIGNATURE_HEADER] = signedBatch(n + 1)[j]!.headers[EVENT_SIGNATURE_HEADER]!;
          else {
            const parts = bad.headers[EVENT_SIGNATURE_HEADER]!.split('.');
            parts[3] = String(n + 1 + (other % 3));
            bad.headers[EVENT_SIGNATURE_HEADER] = parts.join('.');
          }
          // Rejected both cold and with the batch's root remembered (the cache never vouches for it).
          for (const cache of [undefined, roots]) {
            const check = verifyEventSignature(consumed(bad), resolve, cache);
            assert.equal(check.ok, false, `${change} of record ${i}/${n}`);
          }
        },
      ),
      { numRuns: 60 },
    );
  });

  test('a remembered root does not outlive its key: the same kid resolving to another key fails', () => {
    const records = signedBatch(4);
    const roots = new VerifiedBatchRoots();
    assert.equal(verifyEventSignature(consumed(records[0]!), resolve, roots).ok, true);
    const rogue = eventSigningKey(Buffer.alloc(32, 9), 'enforcer-1');
    const check = verifyEventSignature(
      consumed(records[1]!),
      () => ({ kid: 'enforcer-1', publicKey: rogue.publicKey }),
      roots,
    );
    assert.equal(!check.ok && check.problem, 'bad_signature');
  });

  test('the bounds of the remembered batches only cost speed: interleaved batches through a tiny cache verify the same', () => {
    const a = signedBatch(9);
    const b = signedBatch(7);
    const roots = new VerifiedBatchRoots(1, 4);
    for (let i = 0; i < 9; i++)
      for (const r of [a[i], b[i]]) if (r) assert.equal(verifyEventSignature(consumed(r), resolve, roots).ok, true);
    const bad = structuredClone(a[4]!);
    bad.headers['ce_subject'] = 'globex';
    assert.equal(verifyEventSignature(consumed(bad), resolve, roots).ok, false);
  });

  test('more than 65,536 records are signed as consecutive batches of at most that many', () => {
    const records = Array.from({ length: 65_537 }, () => producedRecord());
    const headers = signEventBatch(records, keyA);
    assert.equal(headers.length, 65_537);
    assert.match(headers[0]!, /^enforcer-1\.[A-Za-z0-9_-]{86}\.0\.65536\./);
    assert.match(headers[65_535]!, /^enforcer-1\.[A-Za-z0-9_-]{86}\.65535\.65536\./);
    assert.match(headers[65_536]!, /^enforcer-1\.[A-Za-z0-9_-]{86}$/, 'the rest: a batch of one, signed alone');
    for (const i of [0, 40_000, 65_535, 65_536]) {
      const r = { ...records[i]!, headers: { ...records[i]!.headers, [EVENT_SIGNATURE_HEADER]: headers[i]! } };
      assert.equal(verifyEventSignature(consumed(r), resolve).ok, true, `record ${i}`);
    }
  });

  test('malformed batch headers are refused as malformed, never verified', () => {
    const [r] = signedBatch(3);
    const [kid, sig, , , path] = r!.headers[EVENT_SIGNATURE_HEADER]!.split('.');
    for (const bad of [
      `${kid}.${sig}.0`,
      `${kid}.${sig}.0.3`,
      `${kid}.${sig}.00.3.${path}`,
      `${kid}.${sig}.0.03.${path}`,
      `${kid}.${sig}.3.3.${path}`,
      `${kid}.${sig}.0.1.`,
      `${kid}.${sig}.-1.3.${path}`,
      `${kid}.${sig}.0.3.${path}A`,
      `${kid}.${sig}.0.3.${path!.slice(0, -4)}`,
      `${kid}.${sig}.0.3.${path}.x`,
      `${kid}.${sig}.0.99999999999.${path}`,
    ]) {
      const check = verifyEventSignature(
        consumed({ ...r!, headers: { ...r!.headers, [EVENT_SIGNATURE_HEADER]: bad } }),
        resolve,
      );
      assert.equal(!check.ok && check.problem, 'malformed_signature', bad);
    }
  });
});
