import { before, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, generateEd25519KeyPair, mintRoot, sha256Hex, verifyEnvelope } from '@authority/core';
import { createMessage, pb, timestampFromDate } from '@authority/proto';
import { KeyDirectory, PolicyView, RevocationView } from '../src';

const pk = new Uint8Array(32).fill(7);
const at = (sec: number) => timestampFromDate(new Date(sec * 1000));

before(async () => {
  await cryptoReady();
});

test('KeyDirectory: ACTIVE verifies, VERIFY_ONLY until its time, RETIRED never, other tenants never', () => {
  const d = new KeyDirectory();
  d.applyKey(
    createMessage(pb.KeyEventSchema, { tenant: 'a', keyId: 'k1', publicKey: pk, status: pb.KeyStatus.ACTIVE }),
  );
  assert.deepEqual(d.resolveKey('a', 'k1', 100), { publicKey: pk });
  assert.equal(d.resolveKey('b', 'k1', 100), undefined);
  assert.equal(d.resolveKey('a', 'k2', 100), undefined);
  d.applyKey(
    createMessage(pb.KeyEventSchema, {
      tenant: 'a',
      keyId: 'k1',
      publicKey: pk,
      status: pb.KeyStatus.VERIFY_ONLY,
      verifyUntil: at(200),
      signedUntil: at(50),
    }),
  );
  assert.deepEqual(d.resolveKey('a', 'k1', 200), { publicKey: pk, signedUntil: 50 });
  assert.equal(d.resolveKey('a', 'k1', 201), undefined);
  d.applyKey(
    createMessage(pb.KeyEventSchema, { tenant: 'a', keyId: 'k1', publicKey: pk, status: pb.KeyStatus.RETIRED }),
  );
  assert.equal(d.resolveKey('a', 'k1', 0), undefined);
  // A malformed key (wrong length) is ignored rather than trusted.
  d.applyKey(
    createMessage(pb.KeyEventSchema, {
      tenant: 'a',
      keyId: 'bad',
      publicKey: new Uint8Array(5),
      status: pb.KeyStatus.ACTIVE,
    }),
  );
  assert.equal(d.resolveKey('a', 'bad', 0), undefined);
  d.applyTombstone('a/key/k1');
  assert.equal(d.keysOf('a').length, 0);
});

type KeyInit = Parameters<typeof createMessage<typeof pb.KeyEventSchema>>[1];
const key = (over: KeyInit) =>
  createMessage(pb.KeyEventSchema, { tenant: 'a', keyId: 'k1', publicKey: pk, status: pb.KeyStatus.ACTIVE, ...over });

test('KeyDirectory: a RETIRED key is dropped at once and never comes back through a stale event', () => {
  const d = new KeyDirectory();
  d.applyKey(key({}));
  d.applyKey(key({ keyId: 'k2' }));
  assert.deepEqual(
    d.keysOf('a').map((k) => k.keyId),
    ['k1', 'k2'],
  );
  // Retired while ACTIVE (RetireKey, compromised): gone from resolution and from the listing.
  d.applyKey(key({ status: pb.KeyStatus.RETIRED, signedUntil: at(100), compromised: true }));
  assert.equal(d.resolveKey('a', 'k1', 100), undefined);
  assert.deepEqual(
    d.keysOf('a').map((k) => k.keyId),
    ['k2'],
  );
  assert.equal(d.size.keys, 1);
  // An older state of the same key arriving later (replayed, duplicated) does not resurrect it.
  d.applyKey(key({}));
  d.applyKey(key({ status: pb.KeyStatus.VERIFY_ONLY, verifyUntil: at(10_000), signedUntil: at(100) }));
  assert.equal(d.resolveKey('a', 'k1', 100), undefined);
  assert.equal(d.hasTenant('a'), true);
  // The same kid of another tenant is another key.
  d.applyKey(key({ tenant: 'b' }));
  assert.deepEqual(d.resolveKey('b', 'k1', 100), { publicKey: pk });
  // A compaction tombstone forgets the key entirely (the issuer never reuses a kid).
  d.applyTombstone('a/key/k1');
  d.applyKey(key({}));
  assert.deepEqual(d.resolveKey('a', 'k1', 100), { publicKey: pk });
});

test('KeyDirectory + core: a superseded key verifies links issued by its signed_until (plus skew), never later ones', () => {
  const tenantKey = generateEd25519KeyPair();
  const d = new KeyDirectory();
  const rotatedAt = 1_000_000;
  d.applyKey(
    key({
      tenant: 'acme',
      publicKey: tenantKey.publicKey,
      status: pb.KeyStatus.VERIFY_ONLY,
      verifyUntil: at(rotatedAt + 7200),
      signedUntil: at(rotatedAt),
    }),
  );
  const mint = (iat: number) =>
    mintRoot(
      {
        tenant: 'acme',
        agent: 'bot',
        scopes: ['vault:x:read'],
        resources: [],
        context: [],
        constraints: { requirePurpose: false, deniedResources: [], writeRequiresApproval: false, unconstrained: true },
        ttlSeconds: 3600,
      },
      { secretKey: tenantKey.secretKey, kid: 'k1', now: iat },
    ).token;
  const now = rotatedAt + 600;
  const verify = (token: string) =>
    verifyEnvelope(token, {
      resolveKey: (t, kid) => d.resolveKey(t, kid, now),
      now,
      isRevoked: () => false,
      skewSeconds: 30,
    });
  // Signed before the rotation (and within the skew after it): still verifies until verify_until.
  assert.equal(verify(mint(rotatedAt - 60)).agent, 'bot');
  assert.equal(verify(mint(rotatedAt + 30)).agent, 'bot');
  // Signed after the rotation with the superseded key (whoever holds the old private key).
  assert.throws(
    () => verify(mint(rotatedAt + 31)),
    (e: Error & { reason?: string; field?: string }) => e.reason === 'UNKNOWN_KEY' && e.field === 'kid',
  );
  // Once RETIRED (e.g. RetireKey compromised), nothing it signed verifies.
  d.applyKey(key({ tenant: 'acme', publicKey: tenantKey.publicKey, status: pb.KeyStatus.RETIRED, compromised: true }));
  assert.throws(
    () => verify(mint(rotatedAt - 60)),
    (e: Error & { reason?: string }) => e.reason === 'UNKNOWN_KEY',
  );
});

test('KeyDirectory: credentials authenticate by secret, per tenant and kind, and revocation disables them', () => {
  const d = new KeyDirectory();
  const cred = (id: string, tenant: string, secret: string, revoked = false) =>
    d.applyCredential(
      createMessage(pb.CredentialEventSchema, {
        tenant,
        credentialId: id,
        kind: pb.CredentialKind.CHECKER,
        secretSha256: sha256Hex(secret),
        revoked,
      }),
    );
  cred('c1', 'a', 'secret-a');
  cred('c2', 'b', 'secret-b');
  assert.deepEqual(d.authenticate('secret-a'), { id: 'c1', tenant: 'a', kind: 'CHECKER' });
  assert.deepEqual(d.authenticate('secret-b'), { id: 'c2', tenant: 'b', kind: 'CHECKER' });
  assert.equal(d.authenticate('secret-c'), undefined);
  assert.equal(d.authenticate(''), undefined);
  cred('c1', 'a', 'secret-a', true);
  assert.equal(d.authenticate('secret-a'), undefined);
  d.applyTombstone('b/credential/c2');
  assert.equal(d.authenticate('secret-b'), undefined);
});

test('RevocationView: jti revocation is per tenant; agent revocation covers envelopes issued up to the cut-off', () => {
  const r = new RevocationView();
  r.apply(createMessage(pb.RevocationEventSchema, { tenant: 'a', kind: pb.RevocationKind.JTI, jti: 'j1' }));
  r.apply(
    createMessage(pb.RevocationEventSchema, {
      tenant: 'a',
      kind: pb.RevocationKind.AGENT,
      agentId: 'bot',
      revokedBefore: at(1000),
    }),
  );
  assert.equal(r.isRevoked('a', 'j1', 'x', 0), true);
  assert.equal(r.isRevoked('b', 'j1', 'x', 0), false);
  assert.equal(r.isRevoked('a', 'j2', 'bot', 1000), true);
  assert.equal(r.isRevoked('a', 'j2', 'bot', 1001), false);
  assert.equal(r.isRevoked('b', 'j2', 'bot', 10), false);
  r.applyTombstone('a/jti/j1');
  assert.equal(r.isRevoked('a', 'j1', 'x', 0), false);
});

const yaml = (org: string) =>
  `version: "1"\norganization: ${org}\nagents:\n  bot:\n    scopes: [vault:x:read]\n    constraints: {unconstrained: true}\n`;

test('PolicyView: the highest version wins whatever the arrival order; a tombstone removes; invalid keeps the last good', () => {
  const v = new PolicyView();
  const ev = (version: number, extra: Partial<{ yaml: string; deleted: boolean }> = {}) =>
    createMessage(pb.PolicyVersionEventSchema, {
      tenant: 'a',
      version: BigInt(version),
      yaml: yaml(`v${version}`),
      ...extra,
    });
  assert.equal(v.apply(ev(2)), undefined);
  assert.equal(v.apply(ev(1)), undefined); // late, older: ignored
  assert.equal(v.get('a')?.version, 2);
  assert.equal(v.get('a')?.policy.organization, 'v2');
  assert.match(v.apply(ev(3, { yaml: 'agents: [' })) ?? '', /invalid/);
  assert.equal(v.get('a')?.version, 2);
  v.apply(ev(4, { deleted: true, yaml: '' }));
  assert.equal(v.get('a'), undefined);
  assert.equal(v.versionOf('a'), 4);
  assert.equal(v.get('b'), undefined);
});
