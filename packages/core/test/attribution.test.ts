// Honest attribution: a child is its parent's agent or an agent under it (in core narrowing, so
// deriveChild, offline attenuation and the verifier all apply it), and a denial raised while
// verifying still names the path the token claims (marked unverified).
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, isInLineage, randomId } from '../src';
import {
  deriveChild,
  encodeToken,
  hashLink,
  holderKeyConfirmation,
  offlineSigner,
  peekClaimedPath,
  sealToken,
  signLink,
  verifyEnvelope,
  type EnvelopeClaims,
  type LinkSigner,
  type MintedToken,
} from '../src/envelope';
import { checkRequest, type CheckDeps, type CheckInput, type CheckResult } from '../src/check';
import {
  HEADER,
  NOW,
  TENANT,
  assertFails,
  fixture,
  forgeSeal,
  keyPair,
  payloadOf,
  rawLink,
  verifyOptions,
} from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

const READ: Omit<CheckInput, 'token'> = { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' };

describe('isInLineage', () => {
  const table: [string, string, boolean][] = [
    ['academic-advisor', 'academic-advisor', true],
    ['academic-advisor', 'academic-advisor/summarizer', true],
    ['academic-advisor', 'academic-advisor/summarizer/x', true],
    ['academic-advisor/summarizer', 'academic-advisor/summarizer/x', true],
    ['academic-advisor', 'registrar', false],
    ['academic-advisor', 'academic-advisorx', false],
    ['academic-advisor', 'academic-advisorx/summarizer', false],
    ['academic-advisor', 'academic-advisor/', false],
    ['academic-advisor', 'academic', false],
    ['academic-advisor/summarizer', 'academic-advisor', false],
    ['academic-advisor/summarizer', 'academic-advisor/other', false],
    ['academic-advisor', 'Academic-advisor/x', false],
    ['academic-advisor', 'x/academic-advisor', false],
    ['academic-advisor', '', false],
  ];
  for (const [parent, child, expected] of table) {
    test(`${JSON.stringify(parent)} → ${JSON.stringify(child)}: ${expected}`, () => {
      assert.equal(isInLineage(parent, child), expected);
    });
  }
});

describe("attribution: a child's sub is in its parent's lineage", () => {
  function advisor() {
    const f = fixture({ agent: 'academic-advisor' });
    const online: LinkSigner = { secretKey: f.ring.secret('k1'), kid: 'k1' };
    const deps: CheckDeps = { resolveKey: f.ring.resolve, now: NOW, isRevoked: () => false };
    return { ...f, online, deps };
  }

  /** A child of `parent` named `sub`, signed by hand (no deriveChild), sealed by its holder. */
  function handChild(parent: MintedToken, sub: string, secretKey: Uint8Array, kid: string): string {
    const holder = keyPair(50);
    const claims: EnvelopeClaims = {
      ...structuredClone(parent.claims),
      sub,
      jti: randomId(16),
      dep: parent.claims.dep + 1,
      prn: parent.claims.jti,
      phs: hashLink(parent.link),
      cnf: holderKeyConfirmation(holder.publicKey),
    };
    return sealToken(encodeToken([parent.chain, signLink(claims, secretKey, kid)]), holder.secretKey);
  }

  for (const sub of ['registrar', 'academic-advisorx', 'academic', 'academic-advisor/', 'registrar/academic-advisor']) {
    test(`'${sub}' under 'academic-advisor' is refused by deriveChild, and by verify when signed by hand`, () => {
      const { root, online, ring, deps } = advisor();
      for (const signer of [online, offlineSigner(root.holderSecretKey!)]) {
        assertFails(() => deriveChild(root.token, { agent: sub }, signer, NOW), 'CHAIN_VIOLATION', {
          field: 'sub',
          message: /outside its parent's lineage/,
        });
        const token = handChild(root, sub, signer.secretKey, signer.kid);
        assertFails(() => verifyEnvelope(token, verifyOptions(ring)), 'CHAIN_VIOLATION', {
          field: 'sub',
          message: new RegExp(`^link 1: claim 'sub' is '${sub}', outside its parent's lineage`),
        });
        const r = checkRequest({ token, ...READ }, deps);
        assert.deepEqual([r.decision, r.reason, r.field], ['DENY', 'CHAIN_VIOLATION', 'sub']);
        // Booked to the path the token claims, marked as such.
        assert.equal(r.chainUnverified, true);
        assert.deepEqual(r.agentChain, ['academic-advisor', sub]);
        assert.equal(r.agent, sub);
      }
    });
  }

  test("'academic-advisor/summarizer' and its '/x' are accepted, online and offline", () => {
    const { root, online, ring, deps } = advisor();
    for (const signer of [online, offlineSigner(root.holderSecretKey!)]) {
      const child = deriveChild(root.token, { agent: 'academic-advisor/summarizer' }, signer, NOW);
      for (const grandSigner of [online, offlineSigner(child.holderSecretKey!)]) {
        const grand = deriveChild(child.token, { agent: 'academic-advisor/summarizer/x' }, grandSigner, NOW);
        const v = verifyEnvelope(grand.token, verifyOptions(ring));
        assert.deepEqual(v.agents, [
          'academic-advisor',
          'academic-advisor/summarizer',
          'academic-advisor/summarizer/x',
        ]);
        const r = checkRequest({ token: grand.token, ...READ }, deps);
        assert.equal(r.decision, 'ALLOW', r.message);
        assert.deepEqual(r.agentChain, v.agents);
        assert.equal(r.agent, 'academic-advisor/summarizer/x');
        assert.equal(r.rootAgent, 'academic-advisor');
        assert.equal(r.chainUnverified, undefined);
        // The same agent again is fine; a sibling, the parent, or the root are not.
        deriveChild(grand.token, {}, grandSigner.kid === 'k1' ? online : offlineSigner(grand.holderSecretKey!), NOW);
        for (const sub of ['academic-advisor/other', 'academic-advisor/summarizer', 'academic-advisor']) {
          assertFails(() => deriveChild(grand.token, { agent: sub }, online, NOW), 'CHAIN_VIOLATION', {
            field: 'sub',
          });
        }
      }
      // Signed by hand, a grandchild that jumps to a sibling branch is refused at link 2.
      const summarizer = deriveChild(root.token, { agent: 'academic-advisor/summarizer' }, signer, NOW);
      const sibling = handChild(summarizer, 'academic-advisor/other', summarizer.holderSecretKey!, 'cnf');
      assertFails(() => verifyEnvelope(sibling, verifyOptions(ring)), 'CHAIN_VIOLATION', {
        field: 'sub',
        message: /^link 2:/,
      });
    }
  });

  test('the verifier applies the rule even to an otherwise valid narrowing', () => {
    const { root, online, ring } = advisor();
    const token = handChild(root, 'registrar', online.secretKey, 'k1');
    // Everything else about the child is the parent's: only `sub` is at fault.
    assert.deepEqual(
      { ...payloadOf(token.split('~')[1]!), sub: root.claims.sub, jti: '', prn: '', phs: '', dep: 0, cnf: '' },
      { ...root.claims, jti: '', prn: '', phs: '', dep: 0, cnf: '' },
    );
    assertFails(() => verifyEnvelope(token, verifyOptions(ring)), 'CHAIN_VIOLATION', { field: 'sub' });
  });
});

describe('verify-stage denials keep the actor (claimed, marked unverified)', () => {
  function chain() {
    const f = fixture({ ttlSeconds: 600 });
    const child = deriveChild(
      f.root.token,
      { agent: 'agent-a/b', scopes: ['vault:finance:read'] },
      { secretKey: f.ring.secret('k1'), kid: 'k1' },
      NOW,
    );
    const deps: CheckDeps = { resolveKey: f.ring.resolve, now: NOW, isRevoked: () => false };
    return { ...f, child, deps };
  }

  function expectClaimed(r: CheckResult, reason: string, jtis: string[], tenant: string | undefined) {
    assert.equal(r.decision, 'DENY');
    assert.equal(r.reason, reason, r.message);
    assert.equal(r.chainUnverified, true, `${reason}: chainUnverified`);
    assert.deepEqual(r.chain, jtis);
    assert.deepEqual(r.agentChain, ['agent-a', 'agent-a/b']);
    assert.equal(r.agent, 'agent-a/b');
    assert.equal(r.rootAgent, 'agent-a');
    assert.equal(r.tenant, tenant);
  }

  test('expired, revoked, bad signature, unsealed, bad seal, unknown key, tenant and depth', () => {
    const { root, child, deps } = chain();
    const jtis = [root.claims.jti, child.claims.jti];
    const token = child.token;
    const [, childLink, seal] = token.split('~') as [string, string, string];
    const badSig = `${root.link}~${childLink.slice(0, -3)}${childLink.endsWith('AAA') ? 'BAA' : 'AAA'}~${seal}`;
    const cases: [string, CheckInput, Partial<CheckDeps>][] = [
      ['EXPIRED', { token, ...READ }, { now: NOW + 600 + 30 }],
      ['NOT_YET_VALID', { token, ...READ }, { now: NOW - 31 }],
      ['REVOKED', { token, ...READ }, { isRevoked: (jti) => jti === child.claims.jti }],
      ['INVALID_SIGNATURE', { token: badSig, ...READ }, {}],
      ['PROOF_REQUIRED', { token: child.chain, ...READ }, {}],
      ['INVALID_PROOF', { token: forgeSeal(child.chain, keyPair(51).secretKey), ...READ }, {}],
      ['UNKNOWN_KEY', { token, ...READ }, { resolveKey: () => undefined }],
      ['TENANT_MISMATCH', { token, ...READ, tenant: 'globex' }, {}],
      ['CHAIN_VIOLATION', { token, ...READ }, { maxDepth: 0 }],
    ];
    for (const [reason, input, over] of cases) {
      expectClaimed(checkRequest(input, { ...deps, ...over }), reason, jtis, TENANT);
    }
    // An internal failure while verifying is attributed the same way.
    const failing = checkRequest(
      { token, ...READ },
      {
        ...deps,
        isRevoked: () => {
          throw new Error('revocation view down');
        },
      },
    );
    expectClaimed(failing, 'INVALID_REQUEST', jtis, TENANT);
    assert.equal(failing.internalError, true);
  });

  test('a claimed path with an invalid tenant id reports no tenant; an unreadable token reports no actor', () => {
    const { root, child, deps } = chain();
    // Re-signed root whose tnt is not a tenant id: refused at parse, still attributed to its agents.
    const rootPayload = { ...payloadOf(root.link), tnt: 'Bad_Tenant' };
    const badRoot = rawLink(HEADER('k1'), rootPayload, keyPair(1).secretKey);
    const r = checkRequest({ token: `${badRoot}~${child.link}`, ...READ }, deps);
    expectClaimed(r, 'INVALID_TOKEN', [root.claims.jti, child.claims.jti], undefined);
    assert.equal(r.field, 'tnt');
    for (const token of ['garbage', '', 'a.b.c', `${'A'.repeat(20_000)}`]) {
      const g = checkRequest({ token, ...READ }, deps);
      assert.equal(g.decision, 'DENY');
      assert.equal(g.chainUnverified, undefined);
      assert.equal(g.agent, undefined);
      assert.equal(g.agentChain, undefined);
      assert.equal(g.chain, undefined);
    }
  });

  test('an ALLOW and a post-verification DENY carry the verified path, root first, not marked', () => {
    const { root, child, deps } = chain();
    const allow = checkRequest({ token: child.token, ...READ }, deps);
    const deny = checkRequest({ token: child.token, ...READ, requiredScope: 'vault:health:read' }, deps);
    assert.equal(allow.decision, 'ALLOW');
    assert.equal(deny.reason, 'SCOPE_MISSING');
    for (const r of [allow, deny]) {
      assert.equal(r.chainUnverified, undefined);
      assert.deepEqual(r.agentChain, ['agent-a', 'agent-a/b']);
      assert.deepEqual(r.chain, [root.claims.jti, child.claims.jti]);
      assert.equal(r.agent, 'agent-a/b');
      assert.equal(r.rootAgent, 'agent-a');
      assert.equal(r.tenant, TENANT);
    }
    // One agent at two depths is listed at each (parallel to `chain`).
    const again = deriveChild(child.token, {}, { secretKey: keyPair(1).secretKey, kid: 'k1' }, NOW);
    const r = checkRequest({ token: again.token, ...READ }, deps);
    assert.equal(r.decision, 'ALLOW', r.message);
    assert.deepEqual(r.agentChain, ['agent-a', 'agent-a/b', 'agent-a/b']);
    assert.equal(r.chain?.length, 3);
  });
});

describe('peekClaimedPath', () => {
  test('garbage, oversize and a seal alone: undefined', () => {
    const { root } = fixture();
    for (const token of [undefined, null, 42, {}, '', 'x', 'not.a.token', '~~~', 'a.b.c~d.e.f', '..']) {
      assert.equal(peekClaimedPath(token), undefined, String(token));
    }
    // Over the token size limit, even with a readable root in front.
    assert.equal(peekClaimedPath(`${root.token}~${'A'.repeat(16 * 1024)}`), undefined);
    // A seal is not a link (its payload names no agent).
    assert.equal(peekClaimedPath(root.token.split('~')[1]), undefined);
    // A payload that is JSON but not an object, or names no valid agent.
    assert.equal(peekClaimedPath(`x.${Buffer.from('[1]').toString('base64url')}.y`), undefined);
    assert.equal(peekClaimedPath(`x.${Buffer.from('{"sub":""}').toString('base64url')}.y`), undefined);
  });

  test('a valid chain: the root tenant and each link, root first; the seal is skipped', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, { agent: 'agent-a/b' }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    const expected = {
      tenant: TENANT,
      links: [
        { agent: 'agent-a', jti: root.claims.jti },
        { agent: 'agent-a/b', jti: child.claims.jti },
      ],
    };
    assert.deepEqual(peekClaimedPath(child.token), expected);
    assert.deepEqual(peekClaimedPath(child.chain), expected);
    assert.deepEqual(peekClaimedPath(root.token), { tenant: TENANT, links: [expected.links[0]] });
  });

  test('stops at the first unreadable link; reports what it could read', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, { agent: 'agent-a/b' }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    const rootOnly = { tenant: TENANT, links: [{ agent: 'agent-a', jti: root.claims.jti }] };
    for (const second of ['garbage', 'a.!!!.b', `x.${Buffer.from('{"sub":1}').toString('base64url')}.y`, '']) {
      assert.deepEqual(peekClaimedPath(`${root.link}~${second}~${child.link}`), rootOnly, second);
    }
    // A bad jti is reported empty; a bad tenant is not reported.
    const odd = `x.${Buffer.from(JSON.stringify({ tnt: 'Bad_Tenant', sub: 'a', jti: 'short' })).toString('base64url')}.y`;
    assert.deepEqual(peekClaimedPath(odd), { tenant: undefined, links: [{ agent: 'a', jti: '' }] });
    // At most maxLinks links are read.
    assert.equal(peekClaimedPath(Array(12).fill(root.link).join('~'))?.links.length, 9);
  });
});
