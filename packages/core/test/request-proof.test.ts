// Per-request proofs of possession (DPoP-style): checked through checkRequest with a ReplayCache,
// and the `pop: required` rule of envelopes and policies.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, ed25519Sign, type Ed25519KeyPair } from '../src';
import {
  DEFAULT_REQUEST_PROOF_WINDOW_SECONDS,
  REQUEST_PROOF_TYP,
  ReplayCache,
  contextDigest,
  deriveChild,
  hashLink,
  mintRoot,
  signRequestProof,
  type MintedToken,
  type ProvenRequest,
  type RootParams,
} from '../src/envelope';
import {
  checkRequest,
  type CheckDeps,
  type CheckInput,
  type CheckResult,
  type PolicyEntry,
  type TenantPolicy,
} from '../src/check';
import { NOW, TENANT, KeyRing, b64, constraints, keyPair, rootParams } from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

const SKEW = 30;
const WINDOW = DEFAULT_REQUEST_PROOF_WINDOW_SECONDS;
const READ: ProvenRequest = {
  requiredScope: 'vault:finance:read',
  resource: 'slos://vaults/finance/q1',
  context: { purpose: 'audit', recordCount: 3, fields: { user_id: 'u1', session_id: 's1' } },
};

interface Setup {
  ring: KeyRing;
  holder: Ed25519KeyPair;
  root: MintedToken;
  leafHash: string;
  deps: CheckDeps;
}

function setup(overrides: Partial<RootParams> = {}, replay = new ReplayCache(100)): Setup {
  const ring = new KeyRing(overrides.tenant ?? TENANT).add('k1', keyPair(1));
  const holder = keyPair(30);
  const root = mintRoot(rootParams({ holderKey: holder, ...overrides }), {
    secretKey: ring.secret('k1'),
    kid: 'k1',
    now: NOW,
  });
  const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW, isRevoked: () => false, replay };
  return { ring, holder, root, leafHash: hashLink(root.link), deps };
}

function prove(s: Setup, request: ProvenRequest = READ, at = NOW, nonce?: string, key = s.holder.secretKey): string {
  return signRequestProof(s.leafHash, request, key, at, nonce);
}

function expectDecision(r: CheckResult, reason: string, field?: string): void {
  assert.equal(r.reason, reason, `reason (message: ${r.message})`);
  assert.equal(r.decision, reason === 'ALLOWED' ? 'ALLOW' : 'DENY');
  if (field !== undefined) assert.equal(r.field, field, `field (message: ${r.message})`);
}

describe('per-request proof: checkRequest with a replay cache', () => {
  test('a valid proof with an unsealed chain → ALLOW; the same proof again → PROOF_REPLAYED', () => {
    const s = setup();
    const proof = prove(s);
    const input: CheckInput = { token: s.root.chain, ...READ, proof };
    expectDecision(checkRequest(input, s.deps), 'ALLOWED');
    assert.equal((s.deps.replay as ReplayCache).size, 1);
    const again = checkRequest(input, s.deps);
    expectDecision(again, 'PROOF_REPLAYED', 'proof.nce');
    // A denial after the chain verified: attributed to the verified chain.
    assert.equal(again.chainUnverified, undefined);
    assert.deepEqual(again.agentChain, ['agent-a']);
    // Also replayed behind a sealed token.
    expectDecision(checkRequest({ ...input, token: s.root.token }, s.deps), 'PROOF_REPLAYED');
    // Without a proof, the unsealed chain is not enough.
    expectDecision(checkRequest({ token: s.root.chain, ...READ }, s.deps), 'PROOF_REQUIRED', 'seal');
    // A fresh proof for the same request is fine.
    expectDecision(checkRequest({ ...input, proof: prove(s) }, s.deps), 'ALLOWED');
  });

  test('a proof binds the request: scope, resource, action and context each', () => {
    const s = setup();
    const proof = prove(s, { ...READ, action: 'read' });
    const base: CheckInput = { token: s.root.chain, ...READ, action: 'read', proof };
    const cases: [Partial<CheckInput>, string][] = [
      [{ requiredScope: 'vault:health:read', resource: 'slos://vaults/finance/q1' }, 'proof.scp'],
      [{ resource: 'slos://vaults/finance/q2' }, 'proof.res'],
      [{ action: 'export' }, 'proof.act'],
      [{ action: undefined }, 'proof.act'],
      [{ context: { ...READ.context, purpose: 'marketing' } }, 'proof.cxd'],
      [{ context: { ...READ.context, recordCount: 4 } }, 'proof.cxd'],
      [{ context: { ...READ.context, fields: { user_id: 'u2', session_id: 's1' } } }, 'proof.cxd'],
      [{ context: undefined }, 'proof.cxd'],
    ];
    for (const [change, field] of cases) {
      const r = checkRequest({ ...base, ...change }, s.deps);
      expectDecision(r, 'INVALID_PROOF', field);
      assert.match(r.message, /another request/);
    }
    assert.equal((s.deps.replay as ReplayCache).size, 0, 'a refused proof records no nonce');
    expectDecision(checkRequest(base, s.deps), 'ALLOWED');
    // A proof without resource binds "no resource".
    const bare = setup({ resources: [] });
    const noRes = signRequestProof(bare.leafHash, { requiredScope: 'vault:finance:read' }, bare.holder.secretKey, NOW);
    expectDecision(
      checkRequest({ token: bare.root.chain, requiredScope: 'vault:finance:read', proof: noRes }, bare.deps),
      'ALLOWED',
    );
  });

  test("a proof binds the request's approval_id (apr): absent, another or extra → INVALID_PROOF (proof.apr)", () => {
    const s = setup();
    const presenting: CheckInput = { token: s.root.chain, ...READ, approvalId: 'apr-1' };
    const cases: [string, ProvenRequest, CheckInput][] = [
      // An old-style proof (no apr) captured with a request cannot carry an approval id.
      ['proof without apr, request with an approval', READ, presenting],
      ['proof for another approval', { ...READ, approvalId: 'apr-2' }, presenting],
      [
        'proof with apr, request without an approval',
        { ...READ, approvalId: 'apr-1' },
        { token: s.root.chain, ...READ },
      ],
    ];
    for (const [what, proven, input] of cases) {
      const r = checkRequest({ ...input, proof: prove(s, proven) }, s.deps);
      assert.deepEqual([r.reason, r.field], ['INVALID_PROOF', 'proof.apr'], `${what}: ${r.message}`);
    }
    assert.equal((s.deps.replay as ReplayCache).size, 0, 'a refused proof records no nonce');
    // The proof covering the approval id verifies (the request then reaches its other rules).
    expectDecision(
      checkRequest({ ...presenting, proof: prove(s, { ...READ, approvalId: 'apr-1' }) }, s.deps),
      'ALLOWED',
    );
    // An empty approval id is none (proto3): an old proof stays valid.
    expectDecision(checkRequest({ token: s.root.chain, ...READ, approvalId: '', proof: prove(s) }, s.deps), 'ALLOWED');
    // apr is a member of the signed payload exactly when an approval is presented.
    const members = (proof: string) =>
      Object.keys(JSON.parse(Buffer.from(proof.split('.')[1]!, 'base64url').toString()) as object).sort();
    assert.deepEqual(members(prove(s)), ['act', 'cxd', 'iat', 'lh', 'nce', 'res', 'scp']);
    assert.deepEqual(members(prove(s, { ...READ, approvalId: 'apr-1' })), [
      'act',
      'apr',
      'cxd',
      'iat',
      'lh',
      'nce',
      'res',
      'scp',
    ]);
  });

  test('a proof binds the token: another leaf → INVALID_PROOF (proof.lh)', () => {
    const s = setup();
    // Same holder key, another root: its proofs verify under the key but name another leaf.
    const other = mintRoot(rootParams({ holderKey: s.holder }), {
      secretKey: s.ring.secret('k1'),
      kid: 'k1',
      now: NOW,
    });
    const proof = signRequestProof(hashLink(other.link), READ, s.holder.secretKey, NOW);
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof }, s.deps), 'INVALID_PROOF', 'proof.lh');
    expectDecision(checkRequest({ token: other.chain, ...READ, proof }, s.deps), 'ALLOWED');
    // A child's proof for its parent chain, and the parent's proof for the child: refused.
    const child = deriveChild(
      s.root.chain,
      { holderKey: s.holder },
      { secretKey: s.ring.secret('k1'), kid: 'k1' },
      NOW,
    );
    const parentProof = prove(s);
    expectDecision(
      checkRequest({ token: child.chain, ...READ, proof: parentProof }, s.deps),
      'INVALID_PROOF',
      'proof.lh',
    );
  });

  test('freshness: iat within [now - window - skew, now + skew]', () => {
    const s = setup({ ttlSeconds: 3600 });
    const at = (iat: number, now = NOW + 1000) =>
      checkRequest({ token: s.root.chain, ...READ, proof: prove(s, READ, iat) }, { ...s.deps, now });
    expectDecision(at(NOW + 1000 - WINDOW - SKEW), 'ALLOWED');
    expectDecision(at(NOW + 1000 - WINDOW - SKEW - 1), 'INVALID_PROOF', 'proof.iat');
    expectDecision(at(NOW + 1000 - 10_000), 'INVALID_PROOF', 'proof.iat');
    expectDecision(at(NOW + 1000 + SKEW), 'ALLOWED');
    expectDecision(at(NOW + 1000 + SKEW + 1), 'INVALID_PROOF', 'proof.iat');
    // The window is configurable.
    const narrow = { ...s.deps, now: NOW + 1000, requestProofWindowSeconds: 5 };
    const stale = prove(s, READ, NOW + 1000 - 5 - SKEW - 1);
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof: stale }, narrow), 'INVALID_PROOF', 'proof.iat');
  });

  test('signed by anyone but the leaf holder → INVALID_PROOF', () => {
    const s = setup();
    const child = deriveChild(s.root.chain, {}, { secretKey: s.ring.secret('k1'), kid: 'k1' }, NOW);
    const cases: [string, Uint8Array, string][] = [
      ['a stranger', keyPair(31).secretKey, s.leafHash],
      ['the issuer', s.ring.secret('k1'), s.leafHash],
      // The parent's holder over the child: the child's holder alone can prove.
      ['the parent holder', s.holder.secretKey, hashLink(child.link)],
    ];
    for (const [who, key, leafHash] of cases) {
      const token = leafHash === s.leafHash ? s.root.chain : child.chain;
      const r = checkRequest({ token, ...READ, proof: signRequestProof(leafHash, READ, key, NOW) }, s.deps);
      assert.deepEqual([r.reason, r.field], ['INVALID_PROOF', 'proof.signature'], `${who}: ${r.message}`);
    }
    expectDecision(
      checkRequest(
        {
          token: child.chain,
          ...READ,
          proof: signRequestProof(hashLink(child.link), READ, child.holderSecretKey!, NOW),
        },
        s.deps,
      ),
      'ALLOWED',
    );
  });

  test('malformed proofs → INVALID_PROOF (proof)', () => {
    const s = setup();
    const good = prove(s);
    const [h, p, sig] = good.split('.') as [string, string, string];
    const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
    const resign = (header: string, body: Record<string, unknown> | string) => {
      const input = `${header}.${b64(typeof body === 'string' ? body : JSON.stringify(body))}`;
      return `${input}.${b64(ed25519Sign(Buffer.from(input), s.holder.secretKey))}`;
    };
    const cases: [string, string, string][] = [
      ['two parts', `${h}.${p}`, 'proof'],
      ['four parts', `${good}.x`, 'proof'],
      ['seal header', resign(b64(JSON.stringify({ alg: 'EdDSA', typ: 'authority-seal+jws' })), payload), 'proof'],
      ['link header', resign(b64(JSON.stringify({ alg: 'EdDSA', typ: 'authority-envelope+jws' })), payload), 'proof'],
      ['extra member', resign(h, { ...payload, adm: true }), 'proof'],
      ['missing member', resign(h, { ...payload, nce: undefined }), 'proof'],
      ['duplicate member', resign(h, JSON.stringify(payload).replace('"scp":', '"scp":"*:*","scp":')), 'proof'],
      ['not JSON', resign(h, 'not json'), 'proof'],
      ['array', resign(h, '[1]'), 'proof'],
      ['short signature', `${h}.${p}.${sig.slice(0, -4)}`, 'proof'],
      ['too long', `${h}.${'A'.repeat(9000)}.${sig}`, 'proof'],
      ['iat string', resign(h, { ...payload, iat: String(NOW) }), 'proof.iat'],
      ['short nonce', prove(s, READ, NOW, 'abc'), 'proof.nce'],
      ['nonce outside base64url', prove(s, READ, NOW, 'a'.repeat(15) + '+'), 'proof.nce'],
    ];
    for (const [name, proof, field] of cases) {
      const r = checkRequest({ token: s.root.chain, ...READ, proof }, s.deps);
      assert.equal(r.reason, 'INVALID_PROOF', `${name}: ${r.reason} ${r.message}`);
      assert.equal(r.field, field, `${name}: ${r.message}`);
    }
    // An empty proof counts as none.
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof: '' }, s.deps), 'PROOF_REQUIRED', 'seal');
    assert.equal(REQUEST_PROOF_TYP, JSON.parse(Buffer.from(h, 'base64url').toString()).typ);
  });

  test('contextDigest: canonical (field order does not matter), and every part counts', () => {
    const a = contextDigest({ purpose: 'p', recordCount: 1, fields: { a: '1', b: '2' } });
    assert.equal(a, contextDigest({ fields: { b: '2', a: '1' }, recordCount: 1, purpose: 'p' }));
    assert.match(a, /^[A-Za-z0-9_-]{43}$/);
    const others = [
      contextDigest({ purpose: 'q', recordCount: 1, fields: { a: '1', b: '2' } }),
      contextDigest({ purpose: 'p', recordCount: 2, fields: { a: '1', b: '2' } }),
      contextDigest({ purpose: 'p', recordCount: 1, fields: { a: '1', b: '3' } }),
      contextDigest({ purpose: 'p', recordCount: 1, fields: { a: '1' } }),
      contextDigest({ purpose: 'p', fields: { a: '1', b: '2' } }),
      contextDigest(undefined),
    ];
    assert.equal(new Set([a, ...others]).size, 7);
    assert.equal(contextDigest(undefined), contextDigest({}));
  });
});

describe("per-request proof: 'pop: required'", () => {
  test('in the envelope: a sealed token without a proof → PROOF_REQUIRED; with one → ALLOW', () => {
    const s = setup({ constraints: constraints({ popRequired: true }) });
    assert.equal(s.root.claims.cns.pop, 'required');
    const sealed = checkRequest({ token: s.root.token, ...READ }, s.deps);
    expectDecision(sealed, 'PROOF_REQUIRED', 'proof');
    assert.deepEqual(sealed.agentChain, ['agent-a']);
    expectDecision(checkRequest({ token: s.root.chain, ...READ }, s.deps), 'PROOF_REQUIRED');
    expectDecision(checkRequest({ token: s.root.token, ...READ, proof: prove(s) }, s.deps), 'ALLOWED');
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof: prove(s) }, s.deps), 'ALLOWED');
    // A child cannot drop it, and a child that keeps it is bound by it.
    const signer = { secretKey: s.ring.secret('k1'), kid: 'k1' };
    assert.throws(() => deriveChild(s.root.token, { constraints: constraints() }, signer, NOW), /'pop'/);
    const child = deriveChild(s.root.token, { scopes: ['vault:finance:read'] }, signer, NOW);
    expectDecision(checkRequest({ token: child.token, ...READ }, s.deps), 'PROOF_REQUIRED', 'proof');
  });

  test('in the policy: tenant-wide, or for an agent on the chain', () => {
    const s = setup();
    const full: PolicyEntry = { scopes: ['vault:*:read'] };
    const policy = (p: Partial<TenantPolicy>, entries: Record<string, PolicyEntry>) => ({
      ...s.deps,
      policy: (tenant: string): TenantPolicy | undefined =>
        tenant === TENANT ? { version: 'v2', agent: (a) => entries[a], ...p } : undefined,
    });
    const tenantWide = policy({ popRequired: true }, { 'agent-a': full });
    const r = checkRequest({ token: s.root.token, ...READ }, tenantWide);
    expectDecision(r, 'PROOF_REQUIRED', 'proof');
    assert.match(r.message, /policy v2 of tenant 'acme' says 'pop: required'/);
    expectDecision(checkRequest({ token: s.root.token, ...READ, proof: prove(s) }, tenantWide), 'ALLOWED');
    // For the root agent, seen from a sub-agent's token.
    const forRoot = policy({}, { 'agent-a': { ...full, constraints: constraints({ popRequired: true }) } });
    const child = deriveChild(
      s.root.token,
      { agent: 'agent-a/helper' },
      { secretKey: s.ring.secret('k1'), kid: 'k1' },
      NOW,
    );
    const viaChild = checkRequest({ token: child.token, ...READ }, forRoot);
    expectDecision(viaChild, 'PROOF_REQUIRED', 'proof');
    assert.match(viaChild.message, /for agent 'agent-a'/);
    const childProof = signRequestProof(hashLink(child.link), READ, child.holderSecretKey!, NOW);
    expectDecision(checkRequest({ token: child.token, ...READ, proof: childProof }, forRoot), 'ALLOWED');
    // Not required by the policy: the seal suffices.
    expectDecision(checkRequest({ token: s.root.token, ...READ }, policy({}, { 'agent-a': full })), 'ALLOWED');
  });
});

describe('per-request proof: the replay cache', () => {
  test('a full cache refuses (fail closed) rather than forgetting a live nonce', () => {
    const s = setup({}, new ReplayCache(1));
    const first = prove(s);
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof: first }, s.deps), 'ALLOWED');
    const full = checkRequest({ token: s.root.chain, ...READ, proof: prove(s) }, s.deps);
    expectDecision(full, 'INVALID_PROOF', 'proof.nce');
    assert.match(full.message, /replay cache is full/);
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof: first }, s.deps), 'PROOF_REPLAYED');
    // Once the first nonce can no longer be fresh, its entry is freed.
    const later = { ...s.deps, now: NOW + WINDOW + SKEW + 1 };
    expectDecision(
      checkRequest({ token: s.root.chain, ...READ, proof: prove(s, READ, NOW + WINDOW + SKEW + 1) }, later),
      'ALLOWED',
    );
    // The old proof is now stale, not replayable.
    expectDecision(checkRequest({ token: s.root.chain, ...READ, proof: first }, later), 'INVALID_PROOF', 'proof.iat');
  });

  test('ReplayCache: expiry frees entries, sweeps in order, and a replay is caught until expiry', () => {
    const cache = new ReplayCache(2, 1);
    assert.equal(cache.claim('a', 100, 10, 't'), 'fresh');
    assert.equal(cache.claim('a', 100, 20, 't'), 'replayed');
    assert.equal(cache.claim('b', 150, 20, 't'), 'fresh');
    assert.equal(cache.claim('c', 160, 30, 't'), 'full');
    assert.equal(cache.size, 2);
    // At its expiry time a nonce is still remembered.
    assert.equal(cache.claim('a', 200, 100, 't'), 'replayed');
    assert.equal(cache.claim('c', 200, 100, 't'), 'full');
    // After it, 'a' is freed; 'b' is still live.
    assert.equal(cache.claim('c', 200, 101, 't'), 'fresh');
    assert.equal(cache.size, 2);
    assert.equal(cache.claim('b', 250, 101, 't'), 'replayed');
    assert.equal(cache.claim('a', 250, 101, 't'), 'full');
    // Everything expired: both slots free again; an old key is fresh again.
    assert.equal(cache.claim('a', 300, 201, 't'), 'fresh');
    assert.equal(cache.claim('b', 300, 201, 't'), 'fresh');
    assert.equal(cache.size, 2);
    assert.equal(cache.tenantSize('t'), 2);
    for (const bad of [0, -1, 1.5, Number.NaN]) assert.throws(() => new ReplayCache(bad), RangeError);
    for (const bad of [0, -0.5, 1.01, Number.NaN]) assert.throws(() => new ReplayCache(10, bad), RangeError);
  });

  test('many proofs over time stay bounded', () => {
    const cache = new ReplayCache(10, 1);
    for (let t = 0; t < 5000; t++) assert.equal(cache.claim(`n${t}`, t + 5, t, 't'), 'fresh');
    assert.ok(cache.size <= 10);
    assert.ok(cache.tenantSize('t') <= 10);
  });

  test('ReplayCache: each tenant fills at most its share; expiry frees it', () => {
    const cache = new ReplayCache(100, 0.25);
    assert.equal(cache.maxPerTenant, 25);
    for (let i = 0; i < 25; i++) assert.equal(cache.claim(`a${i}`, 100, 10, 'a'), 'fresh');
    assert.equal(cache.claim('a-more', 100, 10, 'a'), 'full');
    assert.equal(cache.tenantSize('a'), 25);
    // Another tenant is unaffected by a's flood.
    for (let i = 0; i < 25; i++) assert.equal(cache.claim(`b${i}`, 100, 10, 'b'), 'fresh');
    // The whole cache fills only once four tenants hold their share: then everyone is refused.
    for (const t of ['c', 'd']) for (let i = 0; i < 25; i++) assert.equal(cache.claim(`${t}${i}`, 100, 10, t), 'fresh');
    assert.equal(cache.size, 100);
    assert.equal(cache.claim('e0', 100, 10, 'e'), 'full');
    // Once a's nonces expire, a (and e) may claim again.
    assert.equal(cache.claim('a-later', 300, 101, 'a'), 'fresh');
    assert.equal(cache.tenantSize('a'), 1);
    assert.equal(cache.claim('e0', 300, 101, 'e'), 'fresh');
    assert.equal(cache.tenants, 2);
  });

  test("one tenant's flood of proofs refuses only that tenant's proofs (checkRequest)", () => {
    // Fails before the cache was per tenant: acme's proofs filled it and globex's were refused.
    const cache = new ReplayCache(8);
    const acme = setup({}, cache);
    const globex = setup({ tenant: 'globex' }, cache);
    const outcomes = Array.from(
      { length: 8 },
      () => checkRequest({ token: acme.root.chain, ...READ, proof: prove(acme) }, acme.deps).reason,
    );
    assert.deepEqual(outcomes.slice(0, 2), ['ALLOWED', 'ALLOWED'], 'acme holds 2 of 8 (25 %)');
    const refused = checkRequest({ token: acme.root.chain, ...READ, proof: prove(acme) }, acme.deps);
    expectDecision(refused, 'INVALID_PROOF', 'proof.nce');
    assert.match(refused.message, /replay cache is full for tenant 'acme'/);
    for (let i = 0; i < 2; i++) {
      expectDecision(checkRequest({ token: globex.root.chain, ...READ, proof: prove(globex) }, globex.deps), 'ALLOWED');
    }
  });
});
