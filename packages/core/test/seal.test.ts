// The holder's seal at the end of a token: no truncation, a seal binds one leaf, its place and
// form are fixed, and the memo remembers exactly the seal that verified.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorityError,
  cryptoReady,
  declareUnconstrained,
  ed25519Verify,
  generateEd25519KeyPair,
  mintRoot,
} from '../src';
import {
  LinkMemo,
  SEAL_PREFIX,
  deriveChild,
  encodeToken,
  hashLink,
  isSealSegment,
  offlineSigner,
  sealToken,
  signRequestProof,
  splitSeal,
  unsealedChain,
  verifyEnvelope,
  ReplayCache,
  type MintedToken,
} from '../src/envelope';
import { checkRequest, type CheckDeps, type CheckInput, type CheckResult } from '../src/check';
import {
  NOW,
  assertFails,
  b64,
  fixture,
  forgeSeal,
  keyPair,
  sealOf,
  verifyOptions,
  childOf,
  counting,
} from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

const READ: Omit<CheckInput, 'token'> = { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' };
/** Granted by the root below, not by its child. */
const WIDER: Omit<CheckInput, 'token'> = { requiredScope: 'vault:health:read', resource: 'slos://vaults/health/x' };

function expectDeny(r: CheckResult, reason: string, field?: string): void {
  assert.equal(r.decision, 'DENY', `expected DENY ${reason}, got ${r.reason}: ${r.message}`);
  assert.equal(r.reason, reason, r.message);
  if (field !== undefined) assert.equal(r.field, field, r.message);
}

/** A root (agent-a, sealed by its generated holder) and a narrower child for agent-a/sub. */
function delegation(offline: boolean) {
  const { ring, root } = fixture();
  const signer = offline ? offlineSigner(root.holderSecretKey!) : { secretKey: ring.secret('k1'), kid: 'k1' };
  const child = deriveChild(
    root.token,
    { agent: 'agent-a/sub', scopes: ['vault:finance:read'], resources: ['slos://vaults/finance/*'] },
    signer,
    NOW,
  );
  const deps: CheckDeps = {
    resolveKey: ring.resolve,
    now: NOW + 10,
    isRevoked: () => false,
    memo: new LinkMemo(),
    replay: new ReplayCache(100),
  };
  return { ring, root, child, deps };
}

describe('truncation: a sub-agent cannot present its parent alone', () => {
  for (const offline of [false, true]) {
    test(`holding root~child (${offline ? 'offline' : 'online'} child) and the child's key: no ALLOW from root alone`, () => {
      const { root, child, deps } = delegation(offline);
      const childKey = child.holderSecretKey!;
      // What the sub-agent legitimately has: its own token, allowed within its grant only.
      assert.equal(checkRequest({ token: child.token, ...READ }, deps).decision, 'ALLOW');
      expectDeny(checkRequest({ token: child.token, ...WIDER }, deps), 'SCOPE_MISSING');
      // The root link (memoized by now) is not presentable by the sub-agent, however it seals it.
      for (const req of [READ, WIDER]) {
        // Sealed with its own key.
        expectDeny(checkRequest({ token: forgeSeal(root.link, childKey), ...req }, deps), 'INVALID_PROOF', 'seal');
        // Its own (genuine) seal moved onto the root.
        expectDeny(
          checkRequest({ token: `${root.link}~${sealOf(child.token)}`, ...req }, deps),
          'INVALID_PROOF',
          'seal',
        );
        // Unsealed.
        expectDeny(checkRequest({ token: root.link, ...req }, deps), 'PROOF_REQUIRED', 'seal');
        // Unsealed, with a per-request proof over the root signed with its own key.
        const proof = signRequestProof(hashLink(root.link), req, childKey, NOW + 10);
        expectDeny(checkRequest({ token: root.link, ...req, proof }, deps), 'INVALID_PROOF', 'proof.signature');
        // Cut after the root, separator left in place.
        expectDeny(checkRequest({ token: `${root.link}~`, ...req }, deps), 'INVALID_TOKEN');
      }
      // sealToken refuses up front; deriveChild refuses the child key as the root's holder.
      assertFails(() => sealToken(root.link, childKey), 'INVALID_REQUEST', { field: 'holder_key' });
      assertFails(() => deriveChild(root.link, {}, offlineSigner(childKey), NOW), 'INVALID_REQUEST', {
        field: 'signer',
      });
      // The denial is about possession: the root's own holder is allowed the wider request.
      assert.equal(checkRequest({ token: root.token, ...WIDER }, deps).decision, 'ALLOW');
    });
  }
});

describe('seal: sealToken, splitSeal, unsealedChain', () => {
  test('a seal is a fixed header, the leaf hash and the holder signature; our forge helper matches it', () => {
    const { root } = fixture();
    const seal = sealOf(root.token);
    assert.ok(isSealSegment(seal));
    assert.ok(seal.startsWith(SEAL_PREFIX));
    const [h, p, s] = seal.split('.') as [string, string, string];
    assert.deepEqual(JSON.parse(Buffer.from(h, 'base64url').toString()), { alg: 'EdDSA', typ: 'authority-seal+jws' });
    assert.equal(Buffer.from(p, 'base64url').toString(), JSON.stringify({ lh: hashLink(root.link) }));
    assert.ok(ed25519Verify(Buffer.from(s, 'base64url'), Buffer.from(`${h}.${p}`), root.holderSecretKey!.subarray(32)));
    // Deterministic, so the test helper that seals with any key agrees with sealToken.
    assert.equal(forgeSeal(root.chain, root.holderSecretKey!), root.token);
    // Resealing a sealed token replaces its seal (here: by the same one).
    assert.equal(sealToken(root.token, root.holderSecretKey!), root.token);
  });

  test('splitSeal and unsealedChain', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    assert.deepEqual(splitSeal(child.token), { chain: child.chain, seal: sealOf(child.token) });
    assert.deepEqual(splitSeal(child.chain), { chain: child.chain, seal: undefined });
    assert.deepEqual(splitSeal(root.link), { chain: root.link, seal: undefined });
    assert.equal(unsealedChain(child.token), encodeToken([root.link, child.link]));
    assert.equal(unsealedChain(child.chain), child.chain);
    // A lone seal is not split off (there is no chain before it).
    assert.deepEqual(splitSeal(sealOf(root.token)), { chain: sealOf(root.token), seal: undefined });
  });

  test('sealToken refuses a key that is not the leaf holder, or not a 64-byte secret key', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    assertFails(() => sealToken(child.chain, root.holderSecretKey!), 'INVALID_REQUEST', { field: 'holder_key' });
    assertFails(() => sealToken(child.chain, keyPair(40).secretKey), 'INVALID_REQUEST', { field: 'holder_key' });
    assertFails(() => sealToken(child.chain, child.holderSecretKey!.subarray(0, 32)), 'INVALID_REQUEST', {
      field: 'holder_key',
    });
    assert.equal(sealToken(child.chain, child.holderSecretKey!), child.token);
  });
});

describe('seal: verification', () => {
  test("a seal from another token (another leaf's hash) → INVALID_PROOF (seal)", () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    // The root's seal on the child chain, the child's seal on the root.
    assertFails(() => verifyEnvelope(`${child.chain}~${sealOf(root.token)}`, verifyOptions(ring)), 'INVALID_PROOF', {
      field: 'seal',
      message: /not for this token/,
    });
    assertFails(() => verifyEnvelope(`${root.chain}~${sealOf(child.token)}`, verifyOptions(ring)), 'INVALID_PROOF', {
      field: 'seal',
    });
    // Another root of the same agent and holder key: same holder, other leaf.
    const { root: other } = fixture({
      holderKey: { publicKey: keyPair(21).publicKey, secretKey: keyPair(21).secretKey },
    });
    const { root: again } = fixture({
      holderKey: { publicKey: keyPair(21).publicKey, secretKey: keyPair(21).secretKey },
    });
    assert.notEqual(other.link, again.link);
    assertFails(() => verifyEnvelope(`${again.chain}~${sealOf(other.token)}`, verifyOptions(ring)), 'INVALID_PROOF', {
      field: 'seal',
    });
    // The right leaf hash, signed by another key.
    assertFails(
      () => verifyEnvelope(forgeSeal(child.chain, keyPair(41).secretKey), verifyOptions(ring)),
      'INVALID_PROOF',
      {
        field: 'seal',
        message: /does not verify with the holder key of link 1/,
      },
    );
  });

  test('a malformed seal signature → INVALID_PROOF', () => {
    const { ring, root } = fixture();
    const seal = sealOf(root.token);
    const cut = seal.lastIndexOf('.') + 1;
    const s = seal.slice(cut);
    // Non-canonical: the last character with an unused trailing bit set decodes to the same bytes.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alt = alphabet[alphabet.indexOf(s[s.length - 1]!) ^ 1]!;
    const nonCanonical = `${s.slice(0, -1)}${alt}`;
    assert.deepEqual(Buffer.from(nonCanonical, 'base64url'), Buffer.from(s, 'base64url'));
    for (const sig of [nonCanonical, s.slice(0, -2), `${s}AA`, '', b64(new Uint8Array(64))]) {
      assertFails(
        () => verifyEnvelope(`${root.chain}~${seal.slice(0, cut)}${sig}`, verifyOptions(ring)),
        'INVALID_PROOF',
        {
          field: 'seal',
        },
      );
    }
    // A seal with another header or payload shape is not this token's seal.
    const otherPayload = `${SEAL_PREFIX}${b64(JSON.stringify({ lh: hashLink(root.link), x: 1 }))}.${s}`;
    assertFails(() => verifyEnvelope(`${root.chain}~${otherPayload}`, verifyOptions(ring)), 'INVALID_PROOF', {
      field: 'seal',
    });
  });

  test('a seal anywhere but at the end, two seals, or a seal alone → INVALID_TOKEN', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    const childSeal = sealOf(child.token);
    assertFails(
      () => verifyEnvelope(`${root.token}~${child.link}~${childSeal}`, verifyOptions(ring)),
      'INVALID_TOKEN',
      { field: 'typ', message: /^link 1: header 'typ'/ },
    );
    assertFails(() => verifyEnvelope(`${child.token}~${childSeal}`, verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /^link 2: header 'typ'/,
    });
    assertFails(() => verifyEnvelope(`${sealOf(root.token)}~${root.link}`, verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /^link 0: header 'typ'/,
    });
    assertFails(() => verifyEnvelope(childSeal, verifyOptions(ring)), 'INVALID_TOKEN');
    assertFails(() => verifyEnvelope(`~${childSeal}`, verifyOptions(ring)), 'INVALID_TOKEN');
    // Also when every link is memoized.
    const memo = new LinkMemo();
    verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    assertFails(
      () => verifyEnvelope(`${root.token}~${child.link}~${childSeal}`, verifyOptions(ring, { memo })),
      'INVALID_TOKEN',
    );
  });

  test('a sealed token at the maximum of links (9 links + seal) is accepted', () => {
    const { ring, root } = fixture();
    let token: MintedToken = root;
    for (let i = 0; i < 8; i++) {
      token = deriveChild(
        token.token,
        { agent: `agent-a${'/s'.repeat(i + 1)}` },
        { secretKey: ring.secret('k1'), kid: 'k1' },
        NOW,
      );
    }
    assert.equal(token.token.split('~').length, 10);
    for (const memo of [undefined, new LinkMemo()]) {
      for (let round = 0; round < 2; round++) {
        const v = verifyEnvelope(token.token, verifyOptions(ring, memo ? { memo } : {}));
        assert.equal(v.links.length, 9);
        assert.equal(v.sealed, true);
        assert.equal(v.agent, `agent-a${'/s'.repeat(8)}`);
      }
    }
    const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW, isRevoked: () => false };
    assert.equal(checkRequest({ token: token.token, ...READ }, deps).decision, 'ALLOW');
  });
});

describe('seal: memo', () => {
  test('a repeated sealed token costs 0 Ed25519; another seal on the same chain is checked every time', () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    const memo = new LinkMemo();
    const { calls, verifySignature } = counting();
    const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW, isRevoked: () => false, memo, verifySignature };
    const garbage = `${child.chain}~${sealOf(child.token).replace(/\.[^.]+$/, `.${b64(new Uint8Array(64).fill(7))}`)}`;
    // A garbage seal before the good one was seen: refused, nothing remembered.
    expectDeny(checkRequest({ token: garbage, ...READ }, deps), 'INVALID_PROOF', 'seal');
    assert.equal(memo.size, 0);
    calls.n = 0;
    assert.equal(checkRequest({ token: child.token, ...READ }, deps).decision, 'ALLOW');
    assert.equal(calls.n, 3, 'two links and the seal');
    calls.n = 0;
    assert.equal(checkRequest({ token: child.token, ...READ }, deps).decision, 'ALLOW');
    assert.equal(calls.n, 0, 'a memoized chain and seal: no Ed25519 at all');
    // The same (memoized) chain with a garbage seal: the seal is verified, and refused, every time.
    for (let i = 1; i <= 2; i++) {
      expectDeny(checkRequest({ token: garbage, ...READ }, deps), 'INVALID_PROOF', 'seal');
      assert.equal(calls.n, i, 'only the seal is verified');
    }
    // ... and a forged seal by another key, and the unsealed chain.
    expectDeny(checkRequest({ token: forgeSeal(child.chain, keyPair(42).secretKey), ...READ }, deps), 'INVALID_PROOF');
    expectDeny(checkRequest({ token: child.chain, ...READ }, deps), 'PROOF_REQUIRED', 'seal');
    // The good seal is still remembered.
    calls.n = 0;
    assert.equal(checkRequest({ token: child.token, ...READ }, deps).decision, 'ALLOW');
    assert.equal(calls.n, 0);
  });

  test('a root remembered as a parent has no remembered seal: its own seal is verified once', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    const memo = new LinkMemo();
    const { calls, verifySignature } = counting();
    const opts = verifyOptions(ring, { memo, verifySignature });
    verifyEnvelope(child.token, opts);
    calls.n = 0;
    verifyEnvelope(root.token, opts);
    assert.equal(calls.n, 1);
    assertFails(() => verifyEnvelope(forgeSeal(root.chain, child.holderSecretKey!), opts), 'INVALID_PROOF');
    calls.n = 0;
    verifyEnvelope(root.token, opts);
    verifyEnvelope(child.token, opts);
    assert.equal(calls.n, 0);
  });

  test('a link memoized under one chain never vouches for a seal by another key', () => {
    // Two tokens whose leaves differ only in their holder (cnf): distinct leaves, distinct seals.
    const { ring, root } = fixture();
    const a = deriveChild(root.token, { holderKey: keyPair(43) }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    const memo = new LinkMemo();
    verifyEnvelope(a.token, verifyOptions(ring, { memo }));
    assertFails(
      () => verifyEnvelope(forgeSeal(a.chain, keyPair(44).secretKey), verifyOptions(ring, { memo })),
      'INVALID_PROOF',
    );
    const b = deriveChild(root.token, { holderKey: keyPair(44) }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    assert.notEqual(hashLink(a.link), hashLink(b.link));
    verifyEnvelope(b.token, verifyOptions(ring, { memo }));
    assertFails(() => verifyEnvelope(`${a.chain}~${sealOf(b.token)}`, verifyOptions(ring, { memo })), 'INVALID_PROOF');
    assertFails(() => verifyEnvelope(`${b.chain}~${sealOf(a.token)}`, verifyOptions(ring, { memo })), 'INVALID_PROOF');
  });
});

test('minting with a holder key pair whose halves disagree is refused up front (no seal that never verifies)', () => {
  const a = generateEd25519KeyPair();
  const b = generateEd25519KeyPair();
  assert.throws(
    () =>
      mintRoot(
        {
          tenant: 'acme-co',
          agent: 'agent-a',
          scopes: ['vault:a:read'],
          resources: [],
          context: [],
          constraints: declareUnconstrained(),
          ttlSeconds: 600,
          holderKey: { publicKey: a.publicKey, secretKey: b.secretKey },
        },
        { secretKey: a.secretKey, kid: 'k1', now: 1_000_000 },
      ),
    (err: unknown) => err instanceof AuthorityError && err.reason === 'INVALID_REQUEST' && err.field === 'holder_key',
  );
});
