// The memo's fast paths: the text index in front of the hash-keyed LRU, slim entries, the
// remembered chain rule, shared key copies, and the root tenant passed to isRevoked.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, randomId, type Reason } from '../src';
import {
  LinkMemo,
  deriveChild,
  offlineSigner,
  encodeToken,
  hashLink,
  mintRoot,
  sealToken,
  signLink,
  verifyEnvelope,
  type EnvelopeClaims,
  type MintedToken,
} from '../src/envelope';
import { checkRequest, type CheckDeps } from '../src/check';
import {
  NOW,
  KeyRing,
  assertFails,
  fixture,
  forgeSeal,
  keyPair,
  rootParams,
  verifyOptions,
  childOf,
  counting,
} from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

describe('memo: text index', () => {
  test('a repeated token is served by exact text, without hashing or Ed25519', () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    const memo = new LinkMemo(100);
    const { calls, verifySignature } = counting();
    const opts = verifyOptions(ring, { memo, verifySignature });
    assert.equal(verifyEnvelope(child.token, opts).memoHits, 0);
    assert.equal(memo.size, 2);
    assert.equal(memo.textSize, 2);
    const before = { ...memo.stats };
    const v = verifyEnvelope(child.token, opts);
    assert.equal(v.memoHits, 2);
    assert.equal(calls.n, 3, 'two links and the seal, on the first call only');
    assert.equal(memo.stats.textHits, before.textHits + 2);
    assert.equal(memo.stats.hits, before.hits + 2);
    assert.equal(memo.stats.misses, before.misses, 'no hash lookup on the fast path');
    // Same answer as without a memo.
    assert.deepEqual(v.jtis, verifyEnvelope(child.token, verifyOptions(ring)).jtis);
    assert.equal(v.leaf.claims.jti, child.claims.jti);
  });

  test('a partial hit (memoized root, new child) takes the full path and memoizes the child', () => {
    const { ring, root } = fixture();
    const memo = new LinkMemo(100);
    const { calls, verifySignature } = counting();
    const opts = verifyOptions(ring, { memo, verifySignature });
    verifyEnvelope(root.token, opts);
    const child = childOf(ring, root);
    assert.equal(calls.n, 2, "the root and the root holder's seal");
    const hits = memo.stats.hits;
    assert.equal(verifyEnvelope(child.token, opts).memoHits, 1);
    assert.equal(memo.stats.hits, hits + 1, 'the root counted once, not once per path');
    assert.equal(calls.n, 4, "the child and the child holder's seal");
    assert.equal(verifyEnvelope(child.token, opts).memoHits, 2);
    assert.equal(calls.n, 4);
  });

  test('a text hit needs the exact text: a link sharing only its tail is not served', () => {
    const { ring, root } = fixture();
    const memo = new LinkMemo(100);
    verifyEnvelope(root.token, verifyOptions(ring, { memo }));
    // Same signature (tail), other payload: refused exactly as without a memo.
    const [h, p, s] = root.link.split('.') as [string, string, string];
    const otherClaims: EnvelopeClaims = { ...root.claims, scp: ['vault:*:*'] };
    const otherPayload = Buffer.from(JSON.stringify(otherClaims)).toString('base64url');
    assert.notEqual(otherPayload, p);
    const forged = `${h}.${otherPayload}.${s}`;
    assertFails(() => verifyEnvelope(forged, verifyOptions(ring, { memo })), 'INVALID_SIGNATURE');
    assertFails(() => verifyEnvelope(forged, verifyOptions(ring)), 'INVALID_SIGNATURE');
    // The genuine link is still served.
    assert.equal(verifyEnvelope(root.token, verifyOptions(ring, { memo })).memoHits, 1);
  });

  test('a token that is only memoized links still obeys the token limits', () => {
    const { ring, root } = fixture();
    const memo = new LinkMemo(100);
    const child = childOf(ring, root);
    verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    assertFails(
      () => verifyEnvelope(child.token, verifyOptions(ring, { memo, limits: { maxLinks: 1 } })),
      'INVALID_TOKEN',
    );
    assertFails(
      () => verifyEnvelope(child.token, verifyOptions(ring, { memo, limits: { maxTokenBytes: 100 } })),
      'INVALID_TOKEN',
    );
    assertFails(() => verifyEnvelope(`${child.token}~`, verifyOptions(ring, { memo })), 'INVALID_TOKEN');
  });

  test('bounded in bytes (FIFO); eviction and clear drop indexed text; it can be disabled', () => {
    const { ring } = fixture();
    const signer = { secretKey: ring.secret('k1'), kid: 'k1', now: NOW };
    const tokens = Array.from({ length: 120 }, (_, i) => mintRoot(rootParams({ agent: `agent-${i}` }), signer));
    // 1 MiB: 64 KiB of text index, fewer than 120 texts of ~700 characters.
    const memo = new LinkMemo(undefined, { maxBytes: 1024 * 1024, tenantShare: 1 });
    for (const t of tokens) verifyEnvelope(t.token, verifyOptions(ring, { memo }));
    assert.equal(memo.size, 120);
    assert.ok(memo.textSize > 10 && memo.textSize < 120, `text index holds ${memo.textSize}`);
    assert.ok(memo.bytes <= memo.maxBytes);
    assert.equal(memo.getByText(tokens[0]!.link), undefined, 'the oldest text was dropped');
    assert.ok(memo.getByText(tokens[119]!.link));
    // The dropped text is still memoized by hash; using it indexes it again.
    assert.equal(verifyEnvelope(tokens[0]!.token, verifyOptions(ring, { memo })).memoHits, 1);
    assert.ok(memo.getByText(tokens[0]!.link));
    const indexed = memo.textSize;
    assert.equal(memo.evict(tokens[119]!.claims.jti), 1);
    assert.equal(memo.getByText(tokens[119]!.link), undefined);
    assert.equal(memo.textSize, indexed - 1);
    memo.clear();
    assert.equal(memo.textSize, 0);
    assert.equal(memo.bytes, 0);
    assert.equal(memo.getByText(tokens[0]!.link), undefined);

    const noText = new LinkMemo(100, { textIndex: false });
    verifyEnvelope(tokens[0]!.token, verifyOptions(ring, { memo: noText }));
    assert.equal(noText.textSize, 0);
    assert.equal(verifyEnvelope(tokens[0]!.token, verifyOptions(ring, { memo: noText })).memoHits, 1);
    assert.throws(() => new LinkMemo(10, { maxBytes: 1000 }), RangeError);
    assert.throws(() => new LinkMemo(10, { tenantShare: 0 }), RangeError);
    assert.throws(() => new LinkMemo(10, { tenantShare: 1.5 }), RangeError);
  });

  test('an entry evicted from the LRU is not served by its text', () => {
    const { ring } = fixture();
    const signer = { secretKey: ring.secret('k1'), kid: 'k1', now: NOW };
    const tokens = [0, 1].map((i) => mintRoot(rootParams({ agent: `agent-${i}` }), signer));
    const memo = new LinkMemo(1);
    const { calls, verifySignature } = counting();
    verifyEnvelope(tokens[0]!.token, verifyOptions(ring, { memo, verifySignature }));
    verifyEnvelope(tokens[1]!.token, verifyOptions(ring, { memo, verifySignature }));
    assert.equal(memo.getByText(tokens[0]!.link), undefined);
    assert.equal(verifyEnvelope(tokens[0]!.token, verifyOptions(ring, { memo, verifySignature })).memoHits, 0);
    // Link and seal for each token, and both again for the evicted one (its seal went with it).
    assert.equal(calls.n, 6);
  });
});

describe('memo: same answer as without a memo', () => {
  // Fails on branch `pop` (src bug): verify.ts splitMemoized skips splitToken's alphabet and
  // per-segment size checks for the trailing seal segment, so when every link is memoized a
  // malformed seal is INVALID_PROOF (seal) instead of INVALID_TOKEN (token).
  test('a malformed seal segment gets the same reason and field with a warm memo', () => {
    const { ring, root } = fixture();
    const memo = new LinkMemo(100);
    verifyEnvelope(root.token, verifyOptions(ring, { memo }));
    const malformed = [
      `${root.token.slice(0, -2)}+A`, // outside base64url
      `${root.token} `, // trailing space
      `${root.token}${'A'.repeat(5000)}`, // seal longer than a link may be
    ];
    for (const token of malformed) {
      const cold = assertFails(() => verifyEnvelope(token, verifyOptions(ring)), 'INVALID_TOKEN');
      const warm = assertFails(() => verifyEnvelope(token, verifyOptions(ring, { memo })), cold.reason, {
        field: cold.field!,
      });
      assert.equal(warm.message, cold.message);
    }
  });
});

describe('memo: entries', () => {
  test('entries keep only what a hit reads, and share one copy of each key', () => {
    const { ring } = fixture();
    const signer = { secretKey: ring.secret('k1'), kid: 'k1', now: NOW };
    const a = mintRoot(rootParams({ agent: 'a' }), signer);
    const b = mintRoot(rootParams({ agent: 'b' }), signer);
    const memo = new LinkMemo(10);
    verifyEnvelope(a.token, verifyOptions(ring, { memo }));
    verifyEnvelope(b.token, verifyOptions(ring, { memo }));
    const ea = memo.get(hashLink(a.link))!;
    const eb = memo.get(hashLink(b.link))!;
    assert.equal(ea.link.raw, '');
    assert.equal(ea.link.signature.length, 0);
    assert.equal(ea.link.signingInput.length, 0);
    assert.equal(ea.link.hash, hashLink(a.link));
    assert.deepEqual(ea.link.claims, a.claims);
    assert.ok(Object.isFrozen(ea.link));
    assert.deepEqual(ea.verifiedKey, ring.keys.get('k1')!.publicKey);
    assert.equal(ea.verifiedKey, eb.verifiedKey, 'one shared copy of the key');
    assert.notEqual(ea.verifiedKey, ring.keys.get('k1')!.publicKey, 'a copy, not the caller array');
  });

  test('other key bytes under the kid: the link is parsed again from the token and verified', () => {
    const { ring, root } = fixture();
    const memo = new LinkMemo(10);
    const { calls, verifySignature } = counting();
    verifyEnvelope(root.token, verifyOptions(ring, { memo, verifySignature }));
    const rotated = new KeyRing().add('k1', keyPair(3));
    assertFails(
      () => verifyEnvelope(root.token, verifyOptions(rotated, { memo, verifySignature })),
      'INVALID_SIGNATURE',
    );
    assert.equal(calls.n, 3, 'a real verification, not a shortcut');
    // The original key still gets the memo hit (and the remembered seal).
    assert.equal(verifyEnvelope(root.token, verifyOptions(ring, { memo, verifySignature })).memoHits, 1);
    assert.equal(calls.n, 3);
  });
});

describe('memo: remembered chain rule', () => {
  test('a child remembers that it narrows its parent; the depth limit is still applied per call', () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    const memo = new LinkMemo(10);
    verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    assert.equal(memo.get(hashLink(child.link))!.narrowsParent, true);
    assert.equal(memo.get(hashLink(root.link))!.narrowsParent, false, 'the root has no parent');
    const v = verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    assert.deepEqual(v.scopes, ['vault:finance:read']);
    assertFails(() => verifyEnvelope(child.token, verifyOptions(ring, { memo, maxDepth: 0 })), 'CHAIN_VIOLATION', {
      field: 'dep',
    });
  });

  test('under another parent the remembered rule does not apply', () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    const memo = new LinkMemo(10);
    verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    const otherRoot = mintRoot(rootParams({ agent: 'agent-z' }), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW });
    verifyEnvelope(otherRoot.token, verifyOptions(ring, { memo }));
    // Sealed by the child's holder, so only the chain rule can refuse them.
    const sealed = (links: string[]) => sealToken(encodeToken(links), child.holderSecretKey!);
    assertFails(
      () => verifyEnvelope(sealed([otherRoot.link, child.link]), verifyOptions(ring, { memo })),
      'CHAIN_VIOLATION',
      { field: 'prn' },
    );
    // Child reused as a root, root reused as a child: still refused.
    assertFails(() => verifyEnvelope(sealed([child.link]), verifyOptions(ring, { memo })), 'CHAIN_VIOLATION');
    assertFails(
      () => verifyEnvelope(sealed([child.link, child.link]), verifyOptions(ring, { memo })),
      'CHAIN_VIOLATION',
    );
  });

  test('a widening child is never remembered, nor is its genuine parent; each attempt pays in full', () => {
    const { ring, root } = fixture();
    const wide: EnvelopeClaims = {
      ...structuredClone(root.claims),
      jti: randomId(16),
      dep: 1,
      prn: root.claims.jti,
      phs: hashLink(root.link),
      scp: ['vault:*:*'],
    };
    // Its cnf is the root holder's (copied), so that holder seals it.
    const token = sealToken(encodeToken([root.link, signLink(wide, ring.secret('k1'), 'k1')]), root.holderSecretKey!);
    const memo = new LinkMemo(10);
    const { calls, verifySignature } = counting();
    for (let i = 1; i <= 2; i++) {
      assertFails(() => verifyEnvelope(token, verifyOptions(ring, { memo, verifySignature })), 'CHAIN_VIOLATION', {
        field: 'scp',
      });
      assert.equal(calls.n, 3 * i, 'two links and the seal, every time');
    }
    assert.equal(memo.size, 0);
    assert.equal(memo.textSize, 0);
    assert.equal(memo.get(hashLink(token.split('~')[1]!)), undefined);
  });
});

describe('isRevoked', () => {
  test("is asked for every link with the root's tenant, memo or not", () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    for (const memo of [undefined, new LinkMemo(10)]) {
      for (let round = 0; round < 2; round++) {
        const asked: [string, string, number, string][] = [];
        verifyEnvelope(
          child.token,
          verifyOptions(ring, {
            ...(memo ? { memo } : {}),
            isRevoked: (j, s, i, t) => (asked.push([j, s, i, t]), false),
          }),
        );
        assert.deepEqual(asked, [
          [root.claims.jti, root.claims.sub, root.claims.iat, root.claims.tnt],
          [child.claims.jti, child.claims.sub, child.claims.iat, root.claims.tnt],
        ]);
      }
    }
  });
});

describe('memo: only links of fully verified chains are remembered', () => {
  function widening(ring: KeyRing, root: MintedToken): string {
    const wide: EnvelopeClaims = {
      ...structuredClone(root.claims),
      jti: randomId(16),
      dep: 1,
      prn: root.claims.jti,
      phs: hashLink(root.link),
      scp: ['vault:*:*'],
    };
    return sealToken(encodeToken([root.link, signLink(wide, ring.secret('k1'), 'k1')]), root.holderSecretKey!);
  }

  test('expired, not yet valid, revoked, not a narrowing, wrong audience, bad or missing seal: memo stays empty', () => {
    const { ring, root } = fixture({ ttlSeconds: 600 });
    const child = childOf(ring, root);
    const cases: [Reason, string, Partial<Parameters<typeof verifyOptions>[1]>][] = [
      ['EXPIRED', child.token, { now: NOW + 600 + 30 }],
      ['NOT_YET_VALID', child.token, { now: NOW - 31 }],
      ['REVOKED', child.token, { isRevoked: (jti) => jti === child.claims.jti }],
      ['REVOKED', child.token, { isRevoked: (_jti, agent) => agent === 'agent-a' }],
      ['CHAIN_VIOLATION', widening(ring, root), {}],
      ['CHAIN_VIOLATION', child.token, { maxDepth: 0 }],
      ['INVALID_PROOF', forgeSeal(child.chain, keyPair(60).secretKey), {}],
      ['PROOF_REQUIRED', child.chain, {}],
      ['TENANT_MISMATCH', child.token, { expectedTenant: 'globex' }],
    ];
    for (const [reason, token, over] of cases) {
      const memo = new LinkMemo(100);
      for (let round = 0; round < 2; round++) {
        assertFails(() => verifyEnvelope(token, verifyOptions(ring, { memo, ...over })), reason);
      }
      assert.equal(memo.size, 0, reason);
      assert.equal(memo.textSize, 0, reason);
    }
    // Audience: a link restricted to another verifier.
    const { ring: r2, root: aud } = fixture({ audience: 'enforcer-1' });
    const memo = new LinkMemo(100);
    assertFails(
      () => verifyEnvelope(aud.token, verifyOptions(r2, { memo, audience: 'enforcer-2' })),
      'AUDIENCE_MISMATCH',
    );
    assert.equal(memo.size, 0);
    verifyEnvelope(aud.token, verifyOptions(r2, { memo, audience: 'enforcer-1' }));
    assert.equal(memo.size, 1);
  });

  test('a remembered parent does not carry a failing child into the memo; through checkRequest too', () => {
    const { ring, root } = fixture({ ttlSeconds: 600 });
    const memo = new LinkMemo(100);
    const { calls, verifySignature } = counting();
    const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW, isRevoked: () => false, memo, verifySignature };
    const read = { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' };
    assert.equal(checkRequest({ token: root.token, ...read }, deps).decision, 'ALLOW');
    assert.equal(memo.size, 1);
    const short = deriveChild(root.token, { ttlSeconds: 60 }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    const late = { ...deps, now: NOW + 200 };
    calls.n = 0;
    for (let i = 1; i <= 2; i++) {
      assert.equal(checkRequest({ token: short.token, ...read }, late).reason, 'EXPIRED');
      assert.equal(memo.size, 1, 'the expired child is not remembered');
      assert.equal(calls.n, 2 * i, 'the child and its seal are verified on every attempt');
    }
    const widened = widening(ring, root);
    assert.equal(checkRequest({ token: widened, ...read }, deps).reason, 'CHAIN_VIOLATION');
    assert.equal(memo.size, 1);
    // A chain that passes is remembered whole.
    const ok = childOf(ring, root);
    assert.equal(checkRequest({ token: ok.token, ...read }, deps).decision, 'ALLOW');
    assert.equal(memo.size, 2);
  });
});

describe('memo: bounded in bytes, fair between tenants', () => {
  /** Two tenants with their own keys, and one resolver for both (as the enforcer's key directory). */
  function twoTenants() {
    const acme = new KeyRing('acme').add('k1', keyPair(1));
    const globex = new KeyRing('globex').add('k1', keyPair(2));
    const resolveKey = (tenant: string, kid: string) => (tenant === 'acme' ? acme : globex).resolve(tenant, kid);
    const mint = (ring: KeyRing, agent: string) =>
      mintRoot(rootParams({ tenant: ring.tenant, agent }), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW });
    return { acme, globex, resolveKey, mint };
  }

  /**
   * A distinct ~3.9 KB child of `root` (34 resources of 63 characters), signed offline with the
   * root's holder key and sealed by its own holder: valid, so it enters the memo.
   */
  function largeChild(root: MintedToken, i: number): MintedToken {
    const resources = Array.from(
      { length: 34 },
      (_, k) => `slos://vaults/finance/${String(i).padStart(8, '0')}-${String(k).padStart(3, '0')}-${'x'.repeat(28)}`,
    );
    return deriveChild(root.token, { resources }, offlineSigner(root.holderSecretKey!), NOW);
  }

  test('a tenant flooding distinct valid chains does not evict the hot entries of another (entry bound)', () => {
    // Fails before the memo was fair: one LRU over all tenants, so acme's flood evicted globex.
    const { acme, globex, resolveKey, mint } = twoTenants();
    const memo = new LinkMemo(50);
    const { calls, verifySignature } = counting();
    const opts = { resolveKey, now: NOW, isRevoked: () => false, memo, verifySignature };
    const hot = Array.from({ length: 5 }, (_, i) => mint(globex, `hot-${i}`));
    for (const t of hot) verifyEnvelope(t.token, opts);
    for (let i = 0; i < 200; i++) verifyEnvelope(mint(acme, `flood-${i}`).token, opts);
    assert.ok(memo.size <= 50);
    assert.ok(memo.stats.evictions >= 150);
    calls.n = 0;
    for (const t of hot) assert.equal(verifyEnvelope(t.token, opts).memoHits, 1, 'still memoized');
    assert.equal(calls.n, 0, 'no Ed25519 for the hot tokens: link and seal came from the memo');
  });

  test('flooding the largest distinct links keeps the memo within its byte budget and the tenant within its share', () => {
    const { acme, globex, resolveKey, mint } = twoTenants();
    const maxBytes = 2 * 1024 * 1024;
    const memo = new LinkMemo(undefined, { maxBytes, tenantShare: 0.25 });
    const { calls, verifySignature } = counting();
    const opts = { resolveKey, now: NOW, isRevoked: () => false, memo, verifySignature };
    const hot = Array.from({ length: 5 }, (_, i) => mint(globex, `hot-${i}`));
    for (const t of hot) verifyEnvelope(t.token, opts);
    const hotBytes = memo.tenantBytes('globex');
    assert.ok(hotBytes > 0);
    const root = mint(acme, 'flooder');
    let largest = 0;
    for (let i = 0; i < 1500; i++) {
      const child = largeChild(root, i);
      largest = Math.max(largest, child.link.length);
      verifyEnvelope(child.token, opts);
      assert.ok(memo.bytes <= maxBytes, `${memo.bytes} bytes charged after ${i + 1} children`);
    }
    assert.ok(largest > 3500, `children are ${largest} characters`);
    // acme holds at most its share of the budget, and had to evict its own entries to stay there.
    assert.ok(memo.tenantBytes('acme') <= 0.25 * maxBytes);
    assert.ok(memo.stats.evictions > 1000, `${memo.stats.evictions} evictions`);
    assert.ok(memo.size < 1500 && memo.size > 20, `${memo.size} entries`);
    assert.equal(memo.tenantBytes('globex'), hotBytes, "globex's entries and texts untouched");
    calls.n = 0;
    for (const t of hot) assert.equal(verifyEnvelope(t.token, opts).memoHits, 1);
    assert.equal(calls.n, 0);
  });

  test('when the whole budget is full, the tenant holding the most pays', () => {
    const { acme, globex, resolveKey, mint } = twoTenants();
    // Shares of 100 %: only the total bounds each tenant.
    const memo = new LinkMemo(40, { tenantShare: 1 });
    const opts = { resolveKey, now: NOW, isRevoked: () => false, memo };
    const held = (tokens: MintedToken[]) => tokens.filter((t) => memo.get(hashLink(t.link)) !== undefined).length;
    const g = Array.from({ length: 20 }, (_, i) => mint(globex, `g-${i}`));
    const a = Array.from({ length: 100 }, (_, i) => mint(acme, `a-${i}`));
    for (const t of g.slice(0, 10)) verifyEnvelope(t.token, opts);
    for (const t of a) verifyEnvelope(t.token, opts);
    // globex (10) stayed below an equal share (20), so acme paid for its own flood.
    assert.equal(memo.size, 40);
    assert.equal(held(g), 10);
    assert.equal(held(a), 30);
    assert.deepEqual(
      a.slice(70).map((t) => memo.get(hashLink(t.link)) !== undefined),
      new Array(30).fill(true),
      'acme keeps its newest',
    );
    // Now globex inserts while acme holds the most: acme pays again, down to an equal share.
    for (const t of g.slice(10)) verifyEnvelope(t.token, opts);
    assert.equal(memo.size, 40);
    assert.equal(held(g), 20);
    assert.equal(held(a), 20);
  });

  test('a link larger than a tenant share is verified but not remembered', () => {
    const { acme, resolveKey, mint } = twoTenants();
    const memo = new LinkMemo(undefined, { maxBytes: 1024 * 1024, tenantShare: 0.0001 });
    const opts = { resolveKey, now: NOW, isRevoked: () => false, memo };
    const t = mint(acme, 'a');
    assert.equal(verifyEnvelope(t.token, opts).memoHits, 0);
    assert.equal(verifyEnvelope(t.token, opts).memoHits, 0);
    assert.equal(memo.size, 0);
    assert.equal(memo.textSize, 0);
    assert.equal(memo.stats.oversized, 2);
  });
});
