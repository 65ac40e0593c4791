// Keys that stopped signing (signedUntil), and the one tenant-id rule.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { TENANT_ID_PATTERN, cryptoReady, isValidTenantId, tenantIdProblem } from '../src';
import {
  LinkMemo,
  deriveChild,
  mintRoot,
  offlineSigner,
  verifyEnvelope,
  type ResolvedKey,
  type EnvelopeVerifyOptions,
} from '../src/envelope';
import { checkRequest } from '../src/check';
import {
  HEADER,
  NOW,
  KeyRing,
  assertFails,
  fixture,
  keyPair,
  payloadOf,
  rawLink,
  rootParams,
  verifyOptions,
} from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

describe('keys: a key that stopped signing (signedUntil)', () => {
  /** A resolver where k1 stopped signing at `until` (VERIFY_ONLY) and k2 is active. */
  function resolver(ring: KeyRing, until: number | undefined): EnvelopeVerifyOptions['resolveKey'] {
    return (tenant, kid): ResolvedKey | Uint8Array | undefined => {
      const key = ring.resolve(tenant, kid);
      if (key === undefined || kid !== 'k1') return key;
      return until === undefined ? { publicKey: key } : { publicKey: key, signedUntil: until };
    };
  }

  for (const memo of [false, true]) {
    test(`iat <= signedUntil + skew verifies; a link issued after → UNKNOWN_KEY (${memo ? 'memoized' : 'no memo'})`, () => {
      const { ring, root } = fixture();
      const opts = (until: number | undefined, extra: Partial<EnvelopeVerifyOptions> = {}) =>
        verifyOptions(ring, { resolveKey: resolver(ring, until), ...(memo ? { memo: m } : {}), ...extra });
      const m = new LinkMemo();
      // Active (plain object without signedUntil): verifies, and is memoized when a memo is used.
      verifyEnvelope(root.token, opts(undefined));
      assert.equal(m.size, memo ? 1 : 0);
      // Stopped at NOW - 30: the root (iat NOW) is within the 30 s skew.
      assert.equal(verifyEnvelope(root.token, opts(NOW - 30)).links.length, 1);
      verifyEnvelope(root.token, opts(NOW + 1000));
      // Stopped before: refused, memo or not.
      assertFails(() => verifyEnvelope(root.token, opts(NOW - 31)), 'UNKNOWN_KEY', {
        field: 'kid',
        message:
          /^link 0: key 'k1' stopped signing at 2025-06-15T15:06:09(\.000)?Z, but the link was issued at 2025-06-15T15:06:40(\.000)?Z/,
      });
      // With no skew, the boundary is exact.
      verifyEnvelope(root.token, opts(NOW, { skewSeconds: 0 }));
      assertFails(() => verifyEnvelope(root.token, opts(NOW - 1, { skewSeconds: 0 })), 'UNKNOWN_KEY');
    });
  }

  test('a child signed online after its key stopped signing is refused; the older parent still verifies', () => {
    const { ring, root } = fixture({ ttlSeconds: 3600 });
    ring.add('k2', keyPair(2));
    const stopped = NOW + 100;
    const late = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW + 200);
    const rotated = deriveChild(root.token, {}, { secretKey: ring.secret('k2'), kid: 'k2' }, NOW + 200);
    const early = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW + 50);
    const opts = verifyOptions(ring, { resolveKey: resolver(ring, stopped), now: NOW + 300 });
    assertFails(() => verifyEnvelope(late.token, opts), 'UNKNOWN_KEY', {
      message: /^link 1: key 'k1' stopped signing/,
    });
    verifyEnvelope(rotated.token, opts);
    verifyEnvelope(early.token, opts);
    verifyEnvelope(root.token, opts);
    // Offline links are signed by holder keys: the tenant's key lifecycle does not apply to them.
    const offline = deriveChild(root.token, {}, offlineSigner(root.holderSecretKey!), NOW + 200);
    verifyEnvelope(offline.token, opts);
    // Through checkRequest too.
    const r = checkRequest(
      { token: late.token, requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' },
      { resolveKey: resolver(ring, stopped), now: NOW + 300, isRevoked: () => false, memo: new LinkMemo() },
    );
    assert.deepEqual([r.decision, r.reason, r.field], ['DENY', 'UNKNOWN_KEY', 'kid']);
  });
});

describe('tenant ids', () => {
  const table: [unknown, boolean][] = [
    ['abc', true],
    ['acme', true],
    ['a-b', true],
    ['a--b', true],
    ['0ab', true],
    ['ab9', true],
    ['123', true],
    ['x'.repeat(63), true],
    [`a${'-'.repeat(61)}b`, true],
    ['x'.repeat(64), false],
    ['ab', false],
    ['a', false],
    ['', false],
    ['-ab', false],
    ['ab-', false],
    ['-', false],
    ['---', false],
    ['Abc', false],
    ['aBc', false],
    ['ACME', false],
    ['Bad_Tenant', false],
    ['a_b', false],
    ['a.b', false],
    ['a/b', false],
    ['a~b', false],
    ['a b', false],
    [' abc', false],
    ['abc ', false],
    ['abc\n', false],
    ['\nabc', false],
    ['äbc', false],
    [123, false],
    [null, false],
    [undefined, false],
    [['abc'], false],
  ];
  for (const [value, valid] of table) {
    test(`isValidTenantId(${JSON.stringify(value) ?? 'undefined'}) is ${valid}`, () => {
      assert.equal(isValidTenantId(value), valid);
      assert.equal(typeof value === 'string' && TENANT_ID_PATTERN.test(value), valid);
      const problem = tenantIdProblem(value);
      if (valid) assert.equal(problem, undefined);
      else assert.match(problem ?? '', /^must be 3-63 lowercase letters, digits or dashes/);
    });
  }

  test('tenantIdProblem names the value (truncated) or its type', () => {
    assert.match(tenantIdProblem('Bad_Tenant')!, /got "Bad_Tenant"$/);
    assert.match(tenantIdProblem(7)!, /got number$/);
    assert.ok(tenantIdProblem('X'.repeat(1000))!.length < 200);
  });

  test("a link with tnt 'Bad_Tenant' → INVALID_TOKEN (tnt); mintRoot refuses it", () => {
    const { ring, root } = fixture();
    const link = rawLink(HEADER('k1'), { ...payloadOf(root.link), tnt: 'Bad_Tenant' }, ring.secret('k1'));
    // Whatever key the resolver has for that name, the link is refused while parsing.
    const any = new KeyRing('Bad_Tenant').add('k1', keyPair(1));
    for (const r of [ring, any]) {
      assertFails(() => verifyEnvelope(link, verifyOptions(r)), 'INVALID_TOKEN', {
        field: 'tnt',
        message: /^link 0: claim 'tnt' must be 3-63 lowercase/,
      });
    }
    assertFails(
      () => mintRoot(rootParams({ tenant: 'Bad_Tenant' }), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW }),
      'INVALID_REQUEST',
      { field: 'tnt' },
    );
  });
});
