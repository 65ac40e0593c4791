// Interoperability with an independent JOSE implementation (panva/jose): our links and seals are
// standard RFC 7515/8037 compact JWS, and links and seals produced by jose verify with ours.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as jose from 'jose';
import { cryptoReady } from '../src';
import {
  SEAL_TYP,
  deriveChild,
  hashLink,
  mintRoot,
  offlineSigner,
  sealToken,
  splitSeal,
  verifyEnvelope,
  type EnvelopeClaims,
} from '../src/envelope';
import {
  HEADER,
  NOW,
  assertFails,
  b64,
  fixture,
  keyPair,
  payloadOf,
  rawLink,
  rootParams,
  sealOf,
  verifyOptions,
  childOf,
} from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

const encoder = new TextEncoder();

function publicJwk(publicKey: Uint8Array): jose.JWK {
  return { kty: 'OKP', crv: 'Ed25519', x: b64(publicKey) };
}

/** jose's private key for a libsodium secret key (seed ‖ public key). */
function privateJwk(secretKey: Uint8Array): jose.JWK {
  return { kty: 'OKP', crv: 'Ed25519', x: b64(secretKey.subarray(32)), d: b64(secretKey.subarray(0, 32)) };
}

async function joseSign(
  header: jose.CompactJWSHeaderParameters,
  payload: string | object,
  key: jose.CryptoKey | Uint8Array,
): Promise<string> {
  const bytes = encoder.encode(typeof payload === 'string' ? payload : JSON.stringify(payload));
  return new jose.CompactSign(bytes).setProtectedHeader(header).sign(key);
}

describe('our links verify with jose', () => {
  test('root, online child and offline child: signature, header and payload', async () => {
    const holder = keyPair(7);
    const { ring, root } = fixture({ holderKey: holder.publicKey, audience: ['enforcer-1'] });
    const child = deriveChild(
      root.token,
      { agent: 'agent-a/b', scopes: ['vault:finance:read'] },
      { secretKey: ring.secret('k1'), kid: 'k1' },
      NOW,
    );
    const offline = deriveChild(root.token, { scopes: ['vault:health:read'] }, offlineSigner(holder.secretKey), NOW);
    const issuerKey = await jose.importJWK(publicJwk(ring.keys.get('k1')!.publicKey), 'EdDSA');
    const holderKey = await jose.importJWK(publicJwk(holder.publicKey), 'EdDSA');
    const cases: [string, EnvelopeClaims, jose.CryptoKey | Uint8Array, string][] = [
      [root.link, root.claims, issuerKey, 'k1'],
      [child.link, child.claims, issuerKey, 'k1'],
      [offline.link, offline.claims, holderKey, 'cnf'],
    ];
    for (const [link, claims, key, kid] of cases) {
      const { payload, protectedHeader } = await jose.compactVerify(link, key, { algorithms: ['EdDSA'] });
      assert.deepEqual(protectedHeader, { alg: 'EdDSA', typ: 'authority-envelope+jws', kid });
      assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), claims);
    }
    // And jose refuses the offline link under the issuer's key (it really is the holder's signature).
    await assert.rejects(jose.compactVerify(offline.link, issuerKey));
    // Our verifier accepts the same links as a chain.
    verifyEnvelope(offline.token, verifyOptions(ring, { audience: 'enforcer-1' }));
  });

  test("a seal verifies with jose under the leaf's cnf JWK, and under no other key", async () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    for (const token of [root, child]) {
      // The JWK in the leaf's cnf is imported as it stands.
      const leafKey = await jose.importJWK(token.claims.cnf.jwk, 'EdDSA');
      const { payload, protectedHeader } = await jose.compactVerify(sealOf(token.token), leafKey, {
        algorithms: ['EdDSA'],
      });
      assert.deepEqual(protectedHeader, { alg: 'EdDSA', typ: 'authority-seal+jws' });
      assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)), { lh: hashLink(token.link) });
    }
    // The child's seal is not the root holder's signature, nor the issuer's.
    for (const jwk of [root.claims.cnf.jwk, publicJwk(ring.keys.get('k1')!.publicKey)]) {
      await assert.rejects(jose.compactVerify(sealOf(child.token), await jose.importJWK(jwk, 'EdDSA')));
    }
  });
});

describe('links produced by jose verify with ours', () => {
  test('an EdDSA root and child signed by jose (independent producer), sealed by jose', async () => {
    const { ring, root } = fixture();
    const key = await jose.importJWK(privateJwk(ring.secret('k1')), 'EdDSA');
    const joseSeal = async (chain: string, leaf: string, holderSecretKey: Uint8Array) =>
      `${chain}~${await joseSign(
        { alg: 'EdDSA', typ: SEAL_TYP },
        { lh: hashLink(leaf) },
        await jose.importJWK(privateJwk(holderSecretKey), 'EdDSA'),
      )}`;
    const rootLink = await joseSign(HEADER('k1') as jose.CompactJWSHeaderParameters, root.claims, key);
    const sealedRoot = await joseSeal(rootLink, rootLink, root.holderSecretKey!);
    // Ed25519 is deterministic: jose's seal is byte-identical to ours.
    assert.equal(sealedRoot, sealToken(rootLink, root.holderSecretKey!));
    const v = verifyEnvelope(sealedRoot, verifyOptions(ring));
    assert.deepEqual(v.scopes, root.claims.scp);
    assert.equal(v.sealed, true);
    // A child built on the jose-made root, also signed by jose, and sealed by jose with its holder key.
    const child = deriveChild(
      sealedRoot,
      { scopes: ['vault:finance:read'] },
      { secretKey: ring.secret('k1'), kid: 'k1' },
      NOW,
    );
    assert.equal(splitSeal(child.token).chain.startsWith(`${rootLink}~`), true);
    const childByJose = await joseSign(HEADER('k1') as jose.CompactJWSHeaderParameters, payloadOf(child.link), key);
    const token = await joseSeal(`${rootLink}~${childByJose}`, childByJose, child.holderSecretKey!);
    assert.deepEqual(verifyEnvelope(token, verifyOptions(ring)).scopes, ['vault:finance:read']);
    // A jose seal over the child by the wrong holder (the root's), or the root's seal moved onto
    // the child's chain, is refused.
    const wrongHolder = await joseSeal(`${rootLink}~${childByJose}`, childByJose, root.holderSecretKey!);
    assertFails(() => verifyEnvelope(wrongHolder, verifyOptions(ring)), 'INVALID_PROOF', {
      field: 'seal',
      message: /does not verify with the holder key of link 1/,
    });
    assertFails(
      () => verifyEnvelope(`${rootLink}~${childByJose}~${sealOf(sealedRoot)}`, verifyOptions(ring)),
      'INVALID_PROOF',
      {
        field: 'seal',
        message: /not for this token/,
      },
    );
  });
});

describe('hostile JWS are refused with the right reason', () => {
  test('alg none, HS256, ES256', async () => {
    const { ring, root } = fixture();
    const none = `${b64(JSON.stringify({ alg: 'none', typ: 'authority-envelope+jws', kid: 'k1' }))}.${b64(JSON.stringify(root.claims))}.`;
    assertFails(() => verifyEnvelope(none, verifyOptions(ring)), 'INVALID_TOKEN', { field: 'alg' });
    const hs = await joseSign(
      { alg: 'HS256', typ: 'authority-envelope+jws', kid: 'k1' },
      root.claims,
      new Uint8Array(32).fill(1),
    );
    assertFails(() => verifyEnvelope(hs, verifyOptions(ring)), 'INVALID_TOKEN', { field: 'alg' });
    // HS256 keyed with the tenant's *public* key (the classic algorithm-confusion attack).
    const confused = await joseSign(
      { alg: 'HS256', typ: 'authority-envelope+jws', kid: 'k1' },
      root.claims,
      ring.keys.get('k1')!.publicKey,
    );
    assertFails(() => verifyEnvelope(confused, verifyOptions(ring)), 'INVALID_TOKEN', { field: 'alg' });
    const { privateKey } = await jose.generateKeyPair('ES256');
    const es = await joseSign({ alg: 'ES256', typ: 'authority-envelope+jws', kid: 'k1' }, root.claims, privateKey);
    assertFails(() => verifyEnvelope(es, verifyOptions(ring)), 'INVALID_TOKEN', { field: 'alg' });
  });

  test('bad base64url', async () => {
    const { ring, root } = fixture();
    const [h, p, s] = root.link.split('.') as [string, string, string];
    assertFails(() => verifyEnvelope(`${h}.${p.replace(/.$/, '+')}.${s}`, verifyOptions(ring)), 'INVALID_TOKEN');
    assertFails(() => verifyEnvelope(`${h}.${p}=.${s}`, verifyOptions(ring)), 'INVALID_TOKEN');
    assertFails(() => verifyEnvelope(`${h}.${p.slice(0, -1)}.${s}`, verifyOptions(ring)), 'INVALID_TOKEN', {
      field: 'payload',
    });
  });

  test('duplicate JSON keys in header and payload (jose-signed, so the signature is valid)', async () => {
    const { ring, root } = fixture();
    const key = await jose.importJWK(privateJwk(ring.secret('k1')), 'EdDSA');
    const dupPayload = JSON.stringify(root.claims).replace('"scp":', '"scp":["*:*"],"scp":');
    const viaJose = await joseSign(HEADER('k1') as jose.CompactJWSHeaderParameters, dupPayload, key);
    assertFails(() => verifyEnvelope(viaJose, verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /duplicate JSON key 'scp'/,
    });
    // jose itself is lenient here (JSON.parse keeps the last key): exactly why we refuse.
    const { payload } = await jose.compactVerify(
      viaJose,
      await jose.importJWK(publicJwk(ring.keys.get('k1')!.publicKey), 'EdDSA'),
    );
    assert.deepEqual(JSON.parse(new TextDecoder().decode(payload)).scp, root.claims.scp);
    // jose serializes the header itself, so the duplicate-key header is built by hand.
    const dupHeader = rawLink(
      '{"alg":"EdDSA","typ":"authority-envelope+jws","kid":"k2","kid":"k1"}',
      root.claims,
      ring.secret('k1'),
    );
    assertFails(() => verifyEnvelope(dupHeader, verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /duplicate JSON key 'kid'/,
    });
  });

  for (const claim of ['tnt', 'sub', 'jti', 'iat', 'nbf', 'exp', 'dep', 'scp', 'res', 'ctx', 'cns', 'cnf'] as const) {
    test(`missing required claim '${claim}' (jose-signed)`, async () => {
      const { ring, root } = fixture();
      const key = await jose.importJWK(privateJwk(ring.secret('k1')), 'EdDSA');
      const claims: Record<string, unknown> = { ...root.claims };
      delete claims[claim];
      const link = await joseSign(HEADER('k1') as jose.CompactJWSHeaderParameters, claims, key);
      assertFails(() => verifyEnvelope(link, verifyOptions(ring)), 'INVALID_TOKEN', {
        field: claim,
        message: new RegExp(`claim '${claim}' is required`),
      });
    });
  }

  test('unknown claim and crit header (jose-signed)', async () => {
    const { ring, root } = fixture();
    const key = await jose.importJWK(privateJwk(ring.secret('k1')), 'EdDSA');
    const extra = await joseSign(
      HEADER('k1') as jose.CompactJWSHeaderParameters,
      { ...root.claims, role: 'admin' },
      key,
    );
    assertFails(() => verifyEnvelope(extra, verifyOptions(ring)), 'INVALID_TOKEN', { field: 'role' });
    const crit = await joseSign(
      { ...HEADER('k1'), crit: ['b64'], b64: true } as jose.CompactJWSHeaderParameters,
      root.claims,
      key,
    );
    assertFails(() => verifyEnvelope(crit, verifyOptions(ring)), 'INVALID_TOKEN');
    const jku = await joseSign(
      { ...HEADER('k1'), jku: 'https://attacker.example/keys' } as jose.CompactJWSHeaderParameters,
      root.claims,
      key,
    );
    assertFails(() => verifyEnvelope(jku, verifyOptions(ring)), 'INVALID_TOKEN', { field: 'jku' });
  });

  test('oversize token, oversize link, too many links', () => {
    const { ring, root } = fixture();
    assertFails(() => verifyEnvelope(`${root.link}~`.repeat(10).slice(0, -1), verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /10 links/,
    });
    const context = Array.from({ length: 64 }, (_, i) => `field_${'x'.repeat(40)}_${i}`);
    // We refuse to mint it under the default limits, and refuse to verify it when minted under larger ones.
    assertFails(
      () => mintRoot(rootParams({ context }), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW }),
      'INVALID_REQUEST',
      { message: /at most 4096/ },
    );
    const big = mintRoot(rootParams({ context }), {
      secretKey: ring.secret('k1'),
      kid: 'k1',
      now: NOW,
      limits: { maxLinkBytes: 8192 },
    });
    assert.ok(big.link.length > 4096);
    assertFails(() => verifyEnvelope(big.token, verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /link 0: \d+ bytes; at most 4096/,
    });
    verifyEnvelope(big.token, verifyOptions(ring, { limits: { maxLinkBytes: 8192 } }));
    assertFails(() => verifyEnvelope(`${root.token}${'A'.repeat(16 * 1024)}`, verifyOptions(ring)), 'INVALID_TOKEN', {
      message: /at most 16384/,
    });
  });
});
