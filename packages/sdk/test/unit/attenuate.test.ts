// Offline attenuation with a holder key, verified by core's chain verifier.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  AuthorityError,
  cryptoReady,
  declareUnconstrained,
  generateEd25519KeyPair,
  mintRoot,
  verifyEnvelope,
} from '@authority/core';
import { attenuate, generateHolderKey, holderKeyFromJwk, holderKeyToJwk } from '../../src';

const NOW = 1_800_000_000;

before(async () => {
  await cryptoReady();
});

describe('attenuate', { timeout: 30_000 }, () => {
  test('derives a narrower child signed with the holder key that the verifier accepts', async () => {
    const tenantKey = generateEd25519KeyPair();
    const holder = await generateHolderKey();
    const root = mintRoot(
      {
        tenant: 'acme',
        agent: 'planner',
        scopes: ['vault:*:read'],
        resources: ['slos://vaults/*'],
        context: ['purpose'],
        constraints: declareUnconstrained(),
        ttlSeconds: 3600,
        holderKey: holder.publicKey,
      },
      { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
    );
    const child = await attenuate(
      root.token,
      {
        agent: 'reader',
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        constraints: { require_purpose: true },
        ttlSeconds: 600,
      },
      holder.secretKey,
      { now: NOW },
    );
    assert.equal(child.claims.sub, 'reader');
    assert.deepEqual(child.claims.scp, ['vault:finance:read']);
    assert.equal(child.claims.exp, NOW + 600);
    assert.deepEqual(child.claims.cns, { require_purpose: true });
    const verified = verifyEnvelope(child.token, {
      resolveKey: (t, kid) => (t === 'acme' && kid === 'k1' ? tenantKey.publicKey : undefined),
      now: NOW + 10,
      isRevoked: () => false,
    });
    assert.equal(verified.agent, 'reader');
    assert.equal(verified.links.length, 2);
    assert.equal(verified.links[1]?.header.kid, 'cnf');
  });

  test('refuses to widen, a wrong key, and a parent without cnf', async () => {
    const tenantKey = generateEd25519KeyPair();
    const holder = await generateHolderKey();
    const params = {
      tenant: 'acme',
      agent: 'a',
      scopes: ['vault:finance:read'],
      resources: [],
      context: [],
      constraints: declareUnconstrained(),
      ttlSeconds: 3600,
    };
    const withCnf = mintRoot(
      { ...params, holderKey: holder.publicKey },
      { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW },
    );
    await assert.rejects(
      attenuate(withCnf.token, { scopes: ['vault:*:read'] }, holder.secretKey, { now: NOW }),
      (e: unknown) => e instanceof AuthorityError && e.reason === 'CHAIN_VIOLATION',
    );
    const other = await generateHolderKey();
    await assert.rejects(
      attenuate(withCnf.token, {}, other.secretKey, { now: NOW }),
      (e: unknown) => e instanceof AuthorityError && e.field === 'signer',
    );
    const bearer = mintRoot(params, { secretKey: tenantKey.secretKey, kid: 'k1', now: NOW });
    await assert.rejects(
      attenuate(bearer.token, {}, holder.secretKey, { now: NOW }),
      (e: unknown) => e instanceof AuthorityError && e.field === 'cnf',
    );
    await assert.rejects(
      attenuate(withCnf.token, { constraints: { bogus: 1 } }, holder.secretKey, { now: NOW }),
      (e: unknown) => e instanceof AuthorityError && e.reason === 'INVALID_REQUEST',
    );
  });

  test('holder keys round-trip through a JWK', async () => {
    const kp = await generateHolderKey();
    const jwk = holderKeyToJwk(kp);
    const back = await holderKeyFromJwk(JSON.parse(JSON.stringify(jwk)));
    assert.deepEqual(Buffer.from(back.publicKey), Buffer.from(kp.publicKey));
    assert.deepEqual(Buffer.from(back.secretKey!), Buffer.from(kp.secretKey));
    const pub = await holderKeyFromJwk(holderKeyToJwk(kp, false));
    assert.equal(pub.secretKey, undefined);
    await assert.rejects(
      holderKeyFromJwk({ ...jwk, x: holderKeyToJwk(await generateHolderKey()).x }),
      /does not match/,
    );
    await assert.rejects(holderKeyFromJwk({ kty: 'RSA' }), TypeError);
  });
});
