// Envelopes: minting, delegation, attenuation, verification and their refusals (src/envelope).
// Size: one test per rule of the format, sharing this file's keys and chain fixtures.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, randomId } from '../src';
import {
  LinkMemo,
  OFFLINE_KID,
  deriveChild,
  encodeToken,
  findDuplicateKey,
  hashLink,
  holderKeyConfirmation,
  mintRoot,
  offlineSigner,
  parseStrictJson,
  parseToken,
  sealToken,
  signLink,
  splitSeal,
  verifyEnvelope,
  type EnvelopeClaims,
  type MintedToken,
} from '../src/envelope';
import {
  HEADER,
  NOW,
  TENANT,
  KeyRing,
  assertFails,
  b64,
  constraints,
  fixture,
  keyPair,
  forgeSeal,
  payloadOf,
  rawLink,
  rootParams,
  verifyOptions,
  childOf,
  counting,
} from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

/** The holder key pair of hand-made children. */
const childHolder = () => keyPair(20);

/**
 * Claims of a hand-made child of `parent` (no up-front narrowing check), bound to childHolder(),
 * with overrides.
 */
function childClaims(parent: MintedToken, overrides: Partial<EnvelopeClaims> = {}): EnvelopeClaims {
  const p = parent.claims;
  return {
    ...structuredClone(p),
    jti: randomId(16),
    dep: p.dep + 1,
    prn: p.jti,
    phs: hashLink(parent.link),
    cnf: holderKeyConfirmation(childHolder().publicKey),
    ...overrides,
  };
}

/** A hand-signed child of `parent`, sealed by its holder (childHolder()). */
function handChild(ring: KeyRing, parent: MintedToken, overrides: Partial<EnvelopeClaims> = {}, kid = 'k1'): string {
  const link = signLink(childClaims(parent, overrides), ring.secret(kid), kid);
  return sealToken(encodeToken([parent.chain, link]), childHolder().secretKey);
}

describe('mint and verify', () => {
  test('a minted root verifies and exposes its effective authority', () => {
    const { ring, root } = fixture();
    const v = verifyEnvelope(root.token, verifyOptions(ring));
    assert.equal(v.tenant, TENANT);
    assert.equal(v.agent, 'agent-a');
    assert.deepEqual(v.jtis, [root.claims.jti]);
    assert.deepEqual(v.scopes, ['vault:*:read', 'vault:finance:write']);
    assert.deepEqual(v.resources, ['slos://vaults/*']);
    assert.deepEqual(v.contextFields, ['user_id', 'session_id']);
    assert.equal(v.constraints.unconstrained, true);
    // No holder key given: one was generated, returned once, and the token is sealed with it.
    assert.equal(root.sealed, true);
    assert.equal(v.sealed, true);
    assert.equal(root.holderSecretKey?.length, 64);
    assert.equal(root.claims.cnf.jwk.x, b64(root.holderSecretKey!.subarray(32)));
    assert.equal(root.chain, root.link);
    assert.equal(root.token, sealToken(root.chain, root.holderSecretKey!));
    assert.deepEqual(splitSeal(root.token).chain, root.chain);
    // The bare chain is not presentable by default; a verifier that takes per-request proofs may
    // accept it unsealed.
    assertFails(() => verifyEnvelope(root.chain, verifyOptions(ring)), 'PROOF_REQUIRED', { field: 'seal' });
    assert.equal(verifyEnvelope(root.chain, verifyOptions(ring, { requireSeal: false })).sealed, false);
  });

  test('a holder public key gives the unsealed chain; a key pair gives a token sealed with it', () => {
    const holder = keyPair(9);
    const { ring, root } = fixture({ holderKey: holder.publicKey });
    assert.equal(root.sealed, false);
    assert.equal(root.token, root.chain);
    assert.equal(root.holderSecretKey, undefined);
    assert.equal(root.claims.cnf.jwk.x, b64(holder.publicKey));
    assertFails(() => verifyEnvelope(root.token, verifyOptions(ring)), 'PROOF_REQUIRED');
    assert.equal(verifyEnvelope(sealToken(root.token, holder.secretKey), verifyOptions(ring)).sealed, true);
    const { ring: r2, root: paired } = fixture({ holderKey: holder });
    assert.equal(paired.sealed, true);
    assert.equal(paired.token, sealToken(paired.chain, holder.secretKey));
    assert.equal(verifyEnvelope(paired.token, verifyOptions(r2)).sealed, true);
  });

  test('an online child (issuer key) and a grandchild verify; the leaf is effective', () => {
    const { ring, root } = fixture();
    const child = deriveChild(
      root.token,
      {
        agent: 'agent-a/b',
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        context: ['user_id'],
      },
      { secretKey: ring.secret('k1'), kid: 'k1' },
      NOW + 10,
    );
    const grand = deriveChild(child.token, { ttlSeconds: 600 }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW + 20);
    const v = verifyEnvelope(grand.token, verifyOptions(ring, { now: NOW + 30 }));
    assert.equal(v.links.length, 3);
    assert.deepEqual(v.jtis, [root.claims.jti, child.claims.jti, grand.claims.jti]);
    assert.equal(v.agent, 'agent-a/b');
    assert.equal(v.rootAgent, 'agent-a');
    assert.deepEqual(v.agents, ['agent-a', 'agent-a/b']);
    assert.equal(v.sealed, true);
    // The grandchild's own holder sealed it; no ancestor's seal travels along.
    assert.equal(grand.chain, encodeToken([root.link, child.link, grand.link]));
    assert.equal(grand.token, sealToken(grand.chain, grand.holderSecretKey!));
    assert.deepEqual(v.scopes, ['vault:finance:read']);
    assert.deepEqual(v.resources, ['slos://vaults/finance/*']);
    assert.equal(grand.claims.dep, 2);
    assert.equal(grand.claims.exp, NOW + 20 + 600);
    assert.equal(grand.claims.phs, hashLink(child.link));
  });

  test('claims are serialized in a fixed key order', () => {
    const holder = keyPair(9);
    const { root } = fixture({ holderKey: holder.publicKey, audience: 'enforcer', issuer: 'issuer-1' });
    const json = Buffer.from(root.link.split('.')[1]!, 'base64url').toString();
    assert.deepEqual(Object.keys(JSON.parse(json)), [
      'tnt',
      'sub',
      'iss',
      'aud',
      'jti',
      'iat',
      'nbf',
      'exp',
      'dep',
      'scp',
      'res',
      'ctx',
      'cns',
      'cnf',
    ]);
    const header = Buffer.from(root.link.split('.')[0]!, 'base64url').toString();
    assert.equal(header, '{"alg":"EdDSA","typ":"authority-envelope+jws","kid":"k1"}');
  });

  test('mintRoot refuses bad parameters with INVALID_REQUEST naming the field', () => {
    const ring = new KeyRing().add('k1', keyPair(1));
    const signer = { secretKey: ring.secret('k1'), kid: 'k1', now: NOW };
    assertFails(() => mintRoot(rootParams({ scopes: [] }), signer), 'INVALID_REQUEST', { field: 'scp' });
    assertFails(() => mintRoot(rootParams({ scopes: ['nocolon'] }), signer), 'INVALID_REQUEST', { field: 'scp' });
    assertFails(() => mintRoot(rootParams({ ttlSeconds: 59 }), signer), 'INVALID_REQUEST', { field: 'ttl_seconds' });
    assertFails(() => mintRoot(rootParams({ ttlSeconds: 86_401 }), signer), 'INVALID_REQUEST', {
      field: 'ttl_seconds',
    });
    assertFails(() => mintRoot(rootParams({ agent: '' }), signer), 'INVALID_REQUEST', { field: 'sub' });
    for (const tenant of ['Acme', 'ac', 'acme-', 'a/b', 'a~b', 'x'.repeat(64)]) {
      assertFails(() => mintRoot(rootParams({ tenant }), signer), 'INVALID_REQUEST', { field: 'tnt' });
    }
    assertFails(() => mintRoot(rootParams(), { ...signer, kid: OFFLINE_KID }), 'INVALID_REQUEST', { field: 'kid' });
    assertFails(() => mintRoot(rootParams({ holderKey: new Uint8Array(31) }), signer), 'INVALID_REQUEST', {
      field: 'cnf',
    });
  });

  test('parseToken reads claims without keys', () => {
    const { root } = fixture();
    const [link] = parseToken(root.token);
    assert.equal(link!.claims.jti, root.claims.jti);
    assert.equal(link!.hash, hashLink(root.link));
    assert.equal(link!.header.kid, 'k1');
    assert.ok(Object.isFrozen(link!.claims) && Object.isFrozen(link!.claims.scp));
  });
});

describe('parse: INVALID_TOKEN, naming link and field', () => {
  let ring: KeyRing;
  let sk: Uint8Array;
  before(() => {
    ring = new KeyRing().add('k1', keyPair(1));
    sk = ring.secret('k1');
  });
  const good = (): Record<string, unknown> => ({ ...payloadOf(fixture().root.link) });
  const check = (token: unknown, message?: RegExp, field?: string) =>
    assertFails(() => verifyEnvelope(token, verifyOptions(ring)), 'INVALID_TOKEN', { message, field });

  test('token shape and size limits', () => {
    const { root } = fixture();
    check(undefined, /non-empty string/);
    check('', /non-empty string/);
    check(42, /non-empty string/);
    check(`${root.token} `, /outside base64url/);
    check(`${root.link}~`, /link 1: empty link/);
    check(`${root.token}~`, /link 2: empty link/);
    check(`~${root.token}`, /link 0: empty link/);
    check(root.link.split('.').slice(0, 2).join('.'), /three/);
    check(`${root.link}.x`, /three/);
    check('a'.repeat(16 * 1024 + 1), /at most 16384/);
    check(Array(10).fill(root.link).join('~'), /10 links; at most 9/);
    // The seal does not count as a link, and does not make room for a tenth one.
    check(forgeSeal(Array(10).fill(root.link).join('~'), root.holderSecretKey!), /10 links; at most 9/);
    // A seal anywhere but at the end is not a link.
    check(`${root.token}~${root.link}`, /link 1: header 'typ' must be 'authority-envelope\+jws'/, 'typ');
    check('a'.repeat(4097), /link 0: 4097 bytes/);
    // Configurable.
    assertFails(
      () => verifyEnvelope(root.token, verifyOptions(ring, { limits: { maxTokenBytes: 100 } })),
      'INVALID_TOKEN',
      { message: /at most 100/ },
    );
  });

  test('strict base64url in every part', () => {
    const { root } = fixture();
    const [h, p, s] = root.link.split('.') as [string, string, string];
    check(`${h}=.${p}.${s}`, /outside base64url/);
    check(`${h.slice(0, -1)}.${p}.${s}`, /link 0: header is not/);
    check(`${h}.${p}A.${s}`, /link 0: payload is not/);
    check(`${h}.${p}.${s.slice(0, -2)}`, /link 0: signature must be 64 bytes/);
    // Non-canonical: last char with trailing bits set decodes to the same bytes, and is refused.
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const alt = alphabet[alphabet.indexOf(s[s.length - 1]!) ^ 1]!; // flips an unused trailing bit
    assert.deepEqual(Buffer.from(`${s.slice(0, -1)}${alt}`, 'base64url'), Buffer.from(s, 'base64url'));
    check(`${h}.${p}.${s.slice(0, -1)}${alt}`, /link 0: signature must be 64 bytes of canonical base64url/);
    check(`${b64('\ufeff{"alg":"EdDSA"}')}.${p}.${s}`, /header is not valid JSON/);
    check(`${b64(Buffer.from([0xff, 0xfe]))}.${p}.${s}`, /not valid UTF-8/);
  });

  const headerCases: [string, unknown, RegExp, string][] = [
    ['alg none', { alg: 'none', typ: 'authority-envelope+jws', kid: 'k1' }, /'alg' must be 'EdDSA'/, 'alg'],
    ['alg HS256', { alg: 'HS256', typ: 'authority-envelope+jws', kid: 'k1' }, /'alg'/, 'alg'],
    ['alg ES256', { alg: 'ES256', typ: 'authority-envelope+jws', kid: 'k1' }, /'alg'/, 'alg'],
    ['alg Ed25519 (not our spelling)', { alg: 'Ed25519', typ: 'authority-envelope+jws', kid: 'k1' }, /'alg'/, 'alg'],
    ['missing alg', { typ: 'authority-envelope+jws', kid: 'k1' }, /'alg'/, 'alg'],
    ['missing typ', { alg: 'EdDSA', kid: 'k1' }, /'typ'/, 'typ'],
    ['wrong typ', { alg: 'EdDSA', typ: 'JWT', kid: 'k1' }, /'typ'/, 'typ'],
    ['missing kid', { alg: 'EdDSA', typ: 'authority-envelope+jws' }, /'kid'/, 'kid'],
    ['empty kid', { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: '' }, /'kid'/, 'kid'],
    ['numeric kid', { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: 1 }, /'kid'/, 'kid'],
    [
      'crit',
      { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: 'k1', crit: ['exp'] },
      /'crit' is not allowed/,
      'crit',
    ],
    ['jku', { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: 'k1', jku: 'https://evil' }, /'jku'/, 'jku'],
    ['jwk', { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: 'k1', jwk: { kty: 'OKP' } }, /'jwk'/, 'jwk'],
    ['x5u', { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: 'k1', x5u: 'https://evil' }, /'x5u'/, 'x5u'],
    ['b64', { alg: 'EdDSA', typ: 'authority-envelope+jws', kid: 'k1', b64: false }, /'b64'/, 'b64'],
    ['array header', [1], /JSON object/, 'header'],
  ];
  for (const [name, header, message, field] of headerCases) {
    test(`header: ${name}`, () => {
      check(rawLink(header as object, good(), sk), message, field);
    });
  }

  test('duplicate JSON keys in header, payload and nested objects', () => {
    const payload = JSON.stringify(good());
    check(
      rawLink('{"alg":"EdDSA","typ":"authority-envelope+jws","kid":"k1","kid":"k1"}', payload, sk),
      /duplicate JSON key 'kid'/,
    );
    check(
      rawLink('{"alg":"none","alg":"EdDSA","typ":"authority-envelope+jws","kid":"k1"}', payload, sk),
      /duplicate JSON key 'alg'/,
    );
    check(
      rawLink(HEADER('k1'), payload.replace('{"tnt":"acme"', '{"tnt":"acme","tnt":"acme"'), sk),
      /link 0: payload .*duplicate JSON key 'tnt'/,
    );
    check(
      rawLink(HEADER('k1'), payload.replace('{"tnt":"acme"', '{"tnt":"other","\\u0074nt":"acme"'), sk),
      /duplicate JSON key 'tnt'/,
    );
    check(
      rawLink(HEADER('k1'), payload.replace('"cns":{', '"cns":{"require_purpose":true,"require_purpose":false,'), sk),
      /duplicate JSON key 'require_purpose'/,
    );
  });

  const claimCases: [string, (p: Record<string, unknown>) => void, RegExp, string][] = [
    ['unknown claim', (p) => (p.admin = true), /claim 'admin' is not a known claim/, 'admin'],
    ['exp float', (p) => (p.exp = (p.exp as number) + 0.5), /link 0: claim 'exp' must be an integer/, 'exp'],
    ['exp string', (p) => (p.exp = String(p.exp)), /claim 'exp' must be an integer/, 'exp'],
    ['nbf negative', (p) => (p.nbf = -1), /claim 'nbf' must not be negative/, 'nbf'],
    ['iat huge', (p) => (p.iat = 2 ** 60), /claim 'iat' must be an integer/, 'iat'],
    ['dep float', (p) => (p.dep = 0.5), /claim 'dep' must be an integer/, 'dep'],
    ['tnt empty', (p) => (p.tnt = ''), /claim 'tnt'/, 'tnt'],
    ['tnt not a tenant id', (p) => (p.tnt = 'Bad_Tenant'), /claim 'tnt' must be 3-63 lowercase/, 'tnt'],
    ['sub control char', (p) => (p.sub = 'a\nb'), /claim 'sub'/, 'sub'],
    ['iss number', (p) => (p.iss = 5), /claim 'iss'/, 'iss'],
    ['jti short', (p) => (p.jti = 'abc'), /claim 'jti'/, 'jti'],
    ['jti non-canonical', (p) => (p.jti = `${(p.jti as string).slice(0, 21)}B`), /claim 'jti'/, 'jti'],
    ['scp empty', (p) => (p.scp = []), /claim 'scp' must not be empty/, 'scp'],
    ['scp not array', (p) => (p.scp = 'vault:a:read'), /claim 'scp' must be an array/, 'scp'],
    ['scp invalid', (p) => (p.scp = ['vault']), /claim 'scp' entry 0 is not a valid scope/, 'scp'],
    ['scp duplicate', (p) => (p.scp = ['a:b', 'a:b']), /claim 'scp' entry 1 repeats/, 'scp'],
    ['scp too many', (p) => (p.scp = Array.from({ length: 65 }, (_, i) => `s:${i}`)), /65 entries; at most 64/, 'scp'],
    [
      'res too many',
      (p) => (p.res = Array.from({ length: 65 }, (_, i) => `r${i}`)),
      /claim 'res' has 65 entries/,
      'res',
    ],
    ['res empty string', (p) => (p.res = ['']), /claim 'res' entry 0/, 'res'],
    [
      'ctx too many',
      (p) => (p.ctx = Array.from({ length: 65 }, (_, i) => `f${i}`)),
      /claim 'ctx' has 65 entries/,
      'ctx',
    ],
    ['ctx number', (p) => (p.ctx = [1]), /claim 'ctx' entry 0/, 'ctx'],
    ['cns not object', (p) => (p.cns = []), /claim 'cns' must be a JSON object/, 'cns'],
    ['cns empty', (p) => (p.cns = {}), /link 0: claim 'cns': empty constraints/, 'cns'],
    ['cns unknown key', (p) => (p.cns = { max_amount: 5 }), /unknown constraint 'max_amount'/, 'cns.max_amount'],
    ['cns bad type', (p) => (p.cns = { require_purpose: 'yes' }), /require_purpose/, 'cns.require_purpose'],
    ['prn without phs', (p) => (p.prn = p.jti), /'phs' must appear together/, 'phs'],
    ['phs without prn', (p) => (p.phs = b64(new Uint8Array(32))), /'prn' must appear together/, 'prn'],
    ['phs bad', (p) => ((p.prn = p.jti), (p.phs = 'abc')), /claim 'phs'/, 'phs'],
    [
      'cnf extra member',
      (p) => (p.cnf = { jwk: { kty: 'OKP', crv: 'Ed25519', x: b64(new Uint8Array(32)), d: 'x' } }),
      /claim 'cnf'/,
      'cnf',
    ],
    [
      'cnf wrong curve',
      (p) => (p.cnf = { jwk: { kty: 'OKP', crv: 'X25519', x: b64(new Uint8Array(32)) } }),
      /claim 'cnf'/,
      'cnf',
    ],
    [
      'cnf short key',
      (p) => (p.cnf = { jwk: { kty: 'OKP', crv: 'Ed25519', x: b64(new Uint8Array(31)) } }),
      /32-byte/,
      'cnf',
    ],
    ['aud empty array', (p) => (p.aud = []), /claim 'aud'/, 'aud'],
    ['aud object', (p) => (p.aud = { a: 1 }), /claim 'aud'/, 'aud'],
    ['payload array', (p) => void p, /./, 'payload'],
  ];
  for (const [name, mutate, message, field] of claimCases) {
    test(`claims: ${name}`, () => {
      const p = good();
      mutate(p);
      check(rawLink(HEADER('k1'), name === 'payload array' ? '[1]' : p, sk), message, field);
    });
  }

  for (const claim of ['tnt', 'sub', 'jti', 'iat', 'nbf', 'exp', 'dep', 'scp', 'res', 'ctx', 'cns', 'cnf']) {
    test(`claims: missing '${claim}'`, () => {
      const p = good();
      delete p[claim];
      check(rawLink(HEADER('k1'), p, sk), new RegExp(`link 0: claim '${claim}' is required`), claim);
    });
  }

  test('a broken child link is reported as link 1', () => {
    const { root } = fixture();
    const p = { ...good(), exp: 'soon' };
    check(encodeToken([root.link, rawLink(HEADER('k1'), p, sk)]), /^link 1: claim 'exp' must be an integer$/, 'exp');
  });

  test('empty res and ctx are allowed (no resources, no context)', () => {
    const { ring: r, root } = fixture({ resources: [], context: [] });
    const v = verifyEnvelope(root.token, verifyOptions(r));
    assert.deepEqual(v.resources, []);
    assert.deepEqual(v.contextFields, []);
  });
});

describe('strict JSON', () => {
  test('duplicates are found at any depth, after unescaping, and only within one object', () => {
    assert.equal(findDuplicateKey('{"a":1,"b":{"c":1,"c":2}}'), 'c');
    assert.equal(findDuplicateKey('{"a":[{"x":1},{"x":2}],"b":{"x":{"x":1}}}'), undefined);
    assert.equal(findDuplicateKey('{"a":"}{\\"a\\":","a":2}'), 'a');
    assert.equal(findDuplicateKey('{"k\\"":1,"k\\u0022":2}'), 'k"');
    assert.equal(findDuplicateKey('[{"a":1,"b":[1,{"a":2}],"a":3}]'), 'a');
    assert.equal(findDuplicateKey('{"a":{},"b":[],"c":"a"}'), undefined);
    assert.throws(() => parseStrictJson('{"a":1,"a":1}'), /duplicate JSON key 'a'/);
    assert.throws(() => parseStrictJson('{"a":1'), SyntaxError);
    assert.deepEqual(parseStrictJson('{"a":[1,{"b":"c"}]}'), { a: [1, { b: 'c' }] });
  });
});

describe('signatures and keys', () => {
  test('unknown kid → UNKNOWN_KEY; wrong key under a known kid → INVALID_SIGNATURE', () => {
    const ring = new KeyRing().add('k1', keyPair(1)).add('k2', keyPair(2));
    const signer = { secretKey: ring.secret('k2'), kid: 'k9', now: NOW };
    const unknown = mintRoot(rootParams(), signer);
    assertFails(() => verifyEnvelope(unknown.token, verifyOptions(ring)), 'UNKNOWN_KEY', {
      field: 'kid',
      message: /link 0: tenant 'acme' has no live key 'k9'/,
    });
    const forged = mintRoot(rootParams(), { ...signer, kid: 'k1' });
    assertFails(() => verifyEnvelope(forged.token, verifyOptions(ring)), 'INVALID_SIGNATURE', {
      message: /link 0: signature does not verify with key 'k1'/,
    });
  });

  test("another tenant's key does not verify this tenant's root", () => {
    const other = new KeyRing('globex').add('k1', keyPair(1));
    const { root } = fixture();
    assertFails(() => verifyEnvelope(root.token, verifyOptions(other)), 'UNKNOWN_KEY');
  });

  test("a root signed with kid 'cnf' is refused", () => {
    const ring = new KeyRing().add('k1', keyPair(1));
    const link = signLink(fixture().root.claims, ring.secret('k1'), OFFLINE_KID);
    assertFails(() => verifyEnvelope(link, verifyOptions(ring)), 'UNKNOWN_KEY', { message: /reserved/ });
  });

  test('a child signed online by another live tenant key verifies', () => {
    const { ring, root } = fixture();
    ring.add('k2', keyPair(2));
    const child = deriveChild(
      root.token,
      { scopes: ['vault:finance:read'] },
      { secretKey: ring.secret('k2'), kid: 'k2' },
      NOW,
    );
    verifyEnvelope(child.token, verifyOptions(ring));
  });

  test('a tampered payload with the original signature → INVALID_SIGNATURE', () => {
    const { ring, root } = fixture();
    const [h, , s] = root.link.split('.') as [string, string, string];
    const p = { ...payloadOf(root.link), scp: ['*:*'] };
    assertFails(() => verifyEnvelope(`${h}.${b64(JSON.stringify(p))}.${s}`, verifyOptions(ring)), 'INVALID_SIGNATURE');
  });
});

describe('offline attenuation (cnf)', () => {
  let holder: ReturnType<typeof keyPair>;
  before(() => {
    holder = keyPair(7);
  });

  test("the holder of the parent's cnf key may sign a narrower child with kid 'cnf'", () => {
    const { ring, root } = fixture({ holderKey: holder.publicKey });
    const child = deriveChild(
      root.token,
      { agent: 'agent-a/sub-agent', scopes: ['vault:finance:read'] },
      offlineSigner(holder.secretKey),
      NOW,
    );
    assert.equal(payloadOf(child.link).prn, root.claims.jti);
    assert.equal(JSON.parse(Buffer.from(child.link.split('.')[0]!, 'base64url').toString()).kid, OFFLINE_KID);
    const v = verifyEnvelope(child.token, verifyOptions(ring));
    assert.equal(v.agent, 'agent-a/sub-agent');
    // The tenant resolver is never asked for 'cnf'.
    verifyEnvelope(
      child.token,
      verifyOptions(ring, { resolveKey: (t, kid) => (assert.notEqual(kid, OFFLINE_KID), ring.resolve(t, kid)) }),
    );
  });

  test("another key signing as 'cnf' is refused (INVALID_SIGNATURE), and deriveChild refuses it up front", () => {
    const { ring, root } = fixture({ holderKey: holder.publicKey });
    const intruder = keyPair(8);
    assertFails(() => deriveChild(root.token, {}, offlineSigner(intruder.secretKey), NOW), 'INVALID_REQUEST', {
      field: 'signer',
    });
    const link = signLink(childClaims(root, { scp: ['vault:finance:read'] }), intruder.secretKey, OFFLINE_KID);
    assertFails(() => verifyEnvelope(encodeToken([root.token, link]), verifyOptions(ring)), 'INVALID_SIGNATURE', {
      message: /^link 1:/,
    });
  });

  test("every link carries 'cnf': a link without it is refused, and nobody can make one", () => {
    const { ring, root } = fixture();
    const sk = ring.secret('k1');
    const noCnf = (claims: EnvelopeClaims): Record<string, unknown> => {
      const c: Record<string, unknown> = { ...claims };
      delete c.cnf;
      return c;
    };
    // A root without cnf.
    assertFails(
      () => verifyEnvelope(rawLink(HEADER('k1'), noCnf(root.claims), sk), verifyOptions(ring)),
      'INVALID_TOKEN',
      {
        field: 'cnf',
        message: /^link 0: claim 'cnf' is required$/,
      },
    );
    // A child without cnf, online or signed offline by the parent's holder.
    for (const [kid, key] of [
      ['k1', sk],
      [OFFLINE_KID, root.holderSecretKey!],
    ] as const) {
      const link = rawLink(HEADER(kid), noCnf(childClaims(root)), key);
      assertFails(() => verifyEnvelope(encodeToken([root.chain, link]), verifyOptions(ring)), 'INVALID_TOKEN', {
        field: 'cnf',
        message: /^link 1: claim 'cnf' is required$/,
      });
    }
    // signLink refuses to produce one.
    assertFails(() => signLink(noCnf(root.claims) as unknown as EnvelopeClaims, sk, 'k1'), 'INVALID_REQUEST', {
      field: 'cnf',
    });
    // The generated holder key of a root attenuates offline; another key is refused up front.
    assertFails(() => deriveChild(root.token, {}, offlineSigner(holder.secretKey), NOW), 'INVALID_REQUEST', {
      field: 'signer',
    });
    const child = deriveChild(
      root.token,
      { scopes: ['vault:finance:read'] },
      offlineSigner(root.holderSecretKey!),
      NOW,
    );
    assert.deepEqual(verifyEnvelope(child.token, verifyOptions(ring)).scopes, ['vault:finance:read']);
  });

  test('the child may name its own holder for further offline attenuation', () => {
    const { ring, root } = fixture({ holderKey: holder.publicKey });
    const second = keyPair(12);
    const child = deriveChild(root.token, { holderKey: second.publicKey }, offlineSigner(holder.secretKey), NOW);
    const grand = deriveChild(child.token, { scopes: ['vault:finance:write'] }, offlineSigner(second.secretKey), NOW);
    verifyEnvelope(grand.token, verifyOptions(ring));
    // The first holder's key is not the grandchild's signer.
    assertFails(() => deriveChild(child.token, {}, offlineSigner(holder.secretKey), NOW), 'INVALID_REQUEST');
  });
});

describe('time', () => {
  let ring: KeyRing;
  let root: MintedToken;
  before(() => {
    ({ ring, root } = fixture({ ttlSeconds: 600 }));
  });
  const exp = NOW + 600;
  const at = (now: number, skewSeconds?: number) => () =>
    verifyEnvelope(root.token, verifyOptions(ring, { now, skewSeconds }));

  test('expiry edges with the default 30 s skew', () => {
    at(exp + 29)();
    // Times in messages are ISO-8601 (UTC), not epoch seconds.
    assertFails(at(exp + 30), 'EXPIRED', {
      field: 'exp',
      message: /^link 0: expired at 2025-06-15T15:16:40Z \(now 2025-06-15T15:17:10Z, skew 30 s\)$/,
    });
    assertFails(at(exp + 10_000), 'EXPIRED');
  });

  test('not-before edges with the default 30 s skew', () => {
    at(NOW - 30)();
    assertFails(at(NOW - 31), 'NOT_YET_VALID', {
      field: 'nbf',
      message: /^link 0: not valid before 2025-06-15T15:06:40Z \(now 2025-06-15T15:06:09Z, skew 30 s\)$/,
    });
  });

  test('skew is configurable (0 s)', () => {
    at(exp - 1, 0)();
    assertFails(at(exp, 0), 'EXPIRED');
    at(NOW, 0)();
    assertFails(at(NOW - 1, 0), 'NOT_YET_VALID');
  });

  test('a link issued in the future → NOT_YET_VALID (iat)', () => {
    const r = new KeyRing().add('k1', keyPair(1));
    const t = mintRoot(rootParams(), { secretKey: r.secret('k1'), kid: 'k1', now: NOW + 100 });
    const early = mintRoot(rootParams({ notBefore: NOW }), { secretKey: r.secret('k1'), kid: 'k1', now: NOW + 100 });
    assertFails(() => verifyEnvelope(t.token, verifyOptions(r)), 'NOT_YET_VALID');
    assertFails(() => verifyEnvelope(early.token, verifyOptions(r)), 'NOT_YET_VALID', { field: 'iat' });
  });

  test('an expired child in a live chain → EXPIRED naming link 1', () => {
    const child = deriveChild(root.token, { ttlSeconds: 60 }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    assertFails(() => verifyEnvelope(child.token, verifyOptions(ring, { now: NOW + 90 })), 'EXPIRED', {
      message: /^link 1:/,
    });
  });

  test('lifetime outside 60 s – 24 h → INVALID_TOKEN (exp), configurable', () => {
    const r = new KeyRing().add('k1', keyPair(1));
    const base = fixture().root;
    const claims = { ...base.claims };
    // Hand-signed roots, sealed by the holder named in their cnf (the fixture root's).
    const sign = (c: EnvelopeClaims) => sealToken(signLink(c, r.secret('k1'), 'k1'), base.holderSecretKey!);
    const short = sign({ ...claims, exp: claims.nbf + 59 });
    const long = sign({ ...claims, exp: claims.nbf + 86_401 });
    const inverted = sign({ ...claims, exp: claims.nbf - 1 });
    assertFails(() => verifyEnvelope(short, verifyOptions(r)), 'INVALID_TOKEN', {
      field: 'exp',
      message: /lifetime exp - nbf = 59 s/,
    });
    assertFails(() => verifyEnvelope(long, verifyOptions(r)), 'INVALID_TOKEN', { field: 'exp' });
    assertFails(() => verifyEnvelope(inverted, verifyOptions(r)), 'INVALID_TOKEN', { field: 'exp' });
    verifyEnvelope(short, verifyOptions(r, { limits: { minTtlSeconds: 30 } }));
    verifyEnvelope(sign({ ...claims, exp: claims.nbf + 60 }), verifyOptions(r));
    verifyEnvelope(sign({ ...claims, exp: claims.nbf + 86_400 }), verifyOptions(r));
  });
});

describe('revocation', () => {
  test('a revoked root kills its child; a revoked child kills only itself', () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    const revoked = new Set([root.claims.jti]);
    const opts = verifyOptions(ring, { isRevoked: (jti) => revoked.has(jti) });
    assertFails(() => verifyEnvelope(child.token, opts), 'REVOKED', { message: /^link 0:/ });
    revoked.clear();
    revoked.add(child.claims.jti);
    assertFails(() => verifyEnvelope(child.token, opts), 'REVOKED', { message: /^link 1:/ });
    verifyEnvelope(root.token, opts);
  });

  test('agent revocation covers envelopes issued before the revocation time (by iat)', () => {
    const { ring } = fixture();
    const revokedAt = new Map([['agent-a', NOW + 50]]);
    const isRevoked = (_jti: string, agent: string, iat: number) => iat < (revokedAt.get(agent) ?? -Infinity);
    const before = mintRoot(rootParams(), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW + 49 });
    const after = mintRoot(rootParams(), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW + 50 });
    const opts = verifyOptions(ring, { now: NOW + 60, isRevoked });
    assertFails(() => verifyEnvelope(before.token, opts), 'REVOKED');
    verifyEnvelope(after.token, opts);
    // A sub-agent's child under a revoked agent's root dies with the root.
    const child = deriveChild(
      before.token,
      { agent: 'agent-a/b' },
      { secretKey: ring.secret('k1'), kid: 'k1' },
      NOW + 55,
    );
    assertFails(() => verifyEnvelope(child.token, opts), 'REVOKED', { message: /^link 0:/ });
  });

  test('every link is asked about with (jti, sub, iat)', () => {
    const { ring, root } = fixture();
    const child = deriveChild(root.token, { agent: 'agent-a/b' }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW + 5);
    const asked: [string, string, number][] = [];
    verifyEnvelope(
      child.token,
      verifyOptions(ring, { now: NOW + 5, isRevoked: (j, s, i) => (asked.push([j, s, i]), false) }),
    );
    assert.deepEqual(asked, [
      [root.claims.jti, 'agent-a', NOW],
      [child.claims.jti, 'agent-a/b', NOW + 5],
    ]);
  });
});

describe('chain narrowing: CHAIN_VIOLATION naming the field', () => {
  const limited = () =>
    fixture({
      scopes: ['vault:finance:read', 'vault:health:*'],
      resources: ['slos://vaults/finance/*'],
      context: ['user_id'],
      constraints: constraints({
        requirePurpose: true,
        deniedResources: ['*secret*'],
        maxRecordsPerRequest: 50,
        writeRequiresApproval: true,
      }),
      audience: ['enforcer-1', 'enforcer-2'],
    });
  const tight = constraints({
    requirePurpose: true,
    deniedResources: ['*secret*'],
    maxRecordsPerRequest: 50,
    writeRequiresApproval: true,
  });
  const wire = (c: typeof tight) => {
    const w: Record<string, unknown> = {};
    if (c.requirePurpose) w.require_purpose = true;
    if (c.deniedResources.length) w.denied_resources = c.deniedResources;
    if (c.maxRecordsPerRequest !== undefined) w.max_records_per_request = c.maxRecordsPerRequest;
    if (c.writeRequiresApproval) w.write_requires_approval = true;
    if (Object.keys(w).length === 0) w.unconstrained = true;
    return w;
  };

  const cases: [string, Partial<EnvelopeClaims>, Parameters<typeof deriveChild>[1] | undefined, string, RegExp][] = [
    [
      'scope wider (wildcard)',
      { scp: ['vault:*:read'] },
      { scopes: ['vault:*:read'] },
      'scp',
      /scope 'vault:\*:read' is not covered/,
    ],
    ['scope outside', { scp: ['audit:finance:read'] }, { scopes: ['audit:finance:read'] }, 'scp', /scp/],
    [
      'resource wider',
      { res: ['slos://vaults/*'] },
      { resources: ['slos://vaults/*'] },
      'res',
      /resource pattern 'slos:\/\/vaults\/\*'/,
    ],
    ['ctx wider', { ctx: ['user_id', 'ssn'] }, { context: ['user_id', 'ssn'] }, 'ctx', /context field 'ssn'/],
    [
      'require_purpose dropped',
      { cns: wire({ ...tight, requirePurpose: false }) },
      { constraints: { ...tight, requirePurpose: false } },
      'cns',
      /'require_purpose'/,
    ],
    [
      'denied_resources dropped',
      { cns: wire({ ...tight, deniedResources: [] }) },
      { constraints: { ...tight, deniedResources: [] } },
      'cns',
      /'denied_resources'/,
    ],
    [
      'denied_resources narrowed',
      { cns: wire({ ...tight, deniedResources: ['*secret'] }) },
      { constraints: { ...tight, deniedResources: ['*secret'] } },
      'cns',
      /'denied_resources'/,
    ],
    [
      'max_records raised',
      { cns: wire({ ...tight, maxRecordsPerRequest: 51 }) },
      { constraints: { ...tight, maxRecordsPerRequest: 51 } },
      'cns',
      /'max_records_per_request'/,
    ],
    [
      'max_records dropped',
      { cns: wire({ ...tight, maxRecordsPerRequest: undefined }) },
      { constraints: { ...tight, maxRecordsPerRequest: undefined } },
      'cns',
      /'max_records_per_request'/,
    ],
    [
      'approval dropped',
      { cns: wire({ ...tight, writeRequiresApproval: false }) },
      { constraints: { ...tight, writeRequiresApproval: false } },
      'cns',
      /'write_requires_approval'/,
    ],
    ['unconstrained', { cns: { unconstrained: true } }, { constraints: constraints() }, 'cns', /loosens/],
    // Times in these messages are ISO-8601 (UTC), not epoch seconds.
    [
      'exp after parent',
      { exp: NOW + 3601 },
      undefined,
      'exp',
      /claim 'exp' \(2025-06-15T16:06:41Z\) is after the parent's \(2025-06-15T16:06:40Z\): a child cannot outlive/,
    ],
    [
      'nbf before parent',
      { nbf: NOW - 1 },
      { notBefore: NOW - 1 },
      'nbf',
      /claim 'nbf' \(2025-06-15T15:06:39Z\) is before the parent's \(2025-06-15T15:06:40Z\)/,
    ],
    ['iat before parent', { iat: NOW - 1 }, undefined, 'iat', /\(2025-06-15T15:06:39Z\) .*: a child cannot predate/],
    [
      'audience wider',
      { aud: ['enforcer-1', 'enforcer-3'] },
      { audience: ['enforcer-3'] },
      'aud',
      /audience 'enforcer-3'/,
    ],
  ];
  for (const [name, claims, params, field, message] of cases) {
    test(`${name}: verifyEnvelope refuses a hand-signed child${params ? ', deriveChild refuses up front' : ''}`, () => {
      const { ring, root } = limited();
      const token = handChild(ring, root, claims);
      assertFails(() => verifyEnvelope(token, verifyOptions(ring, { audience: 'enforcer-1' })), 'CHAIN_VIOLATION', {
        field,
        message: new RegExp(`^link 1: .*${message.source}`),
      });
      if (params)
        assertFails(
          () => deriveChild(root.token, params, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW),
          'CHAIN_VIOLATION',
          { field },
        );
    });
  }

  test('the same narrowing passes when the child is equal or tighter', () => {
    const { ring, root } = limited();
    const token = handChild(ring, root, {
      scp: ['vault:health:read'],
      res: ['slos://vaults/finance/q1'],
      ctx: [],
      cns: wire({ ...tight, deniedResources: ['*secret*', '*ssn*'], maxRecordsPerRequest: 10 }),
      aud: 'enforcer-1',
    });
    verifyEnvelope(token, verifyOptions(ring, { audience: 'enforcer-1' }));
    // deriveChild clamps a too-long ttl to the parent's exp instead of failing.
    const child = deriveChild(
      root.token,
      { ttlSeconds: 86_400 },
      { secretKey: ring.secret('k1'), kid: 'k1' },
      NOW + 100,
    );
    assert.equal(child.claims.exp, root.claims.exp);
  });

  test('wrong prn, wrong phs, missing prn', () => {
    const { ring, root } = fixture();
    assertFails(
      () => verifyEnvelope(handChild(ring, root, { prn: randomId(16) }), verifyOptions(ring)),
      'CHAIN_VIOLATION',
      { field: 'prn' },
    );
    assertFails(
      () => verifyEnvelope(handChild(ring, root, { phs: b64(new Uint8Array(32)) }), verifyOptions(ring)),
      'CHAIN_VIOLATION',
      { field: 'phs' },
    );
    const orphan = childClaims(root);
    delete orphan.prn;
    delete orphan.phs;
    const orphanToken = sealToken(
      encodeToken([root.chain, signLink(orphan, ring.secret('k1'), 'k1')]),
      childHolder().secretKey,
    );
    assertFails(() => verifyEnvelope(orphanToken, verifyOptions(ring)), 'CHAIN_VIOLATION', {
      field: 'prn',
      message: /must name its parent/,
    });
  });

  test('splicing a child onto another parent', () => {
    const { ring, root } = fixture();
    const other = mintRoot(rootParams(), { secretKey: ring.secret('k1'), kid: 'k1', now: NOW });
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    // Sealed by the child's own holder, so only the chain rule can refuse these.
    const sealed = (links: string[]) => sealToken(encodeToken(links), child.holderSecretKey!);
    assertFails(() => verifyEnvelope(sealed([other.link, child.link]), verifyOptions(ring)), 'CHAIN_VIOLATION', {
      field: 'prn',
    });
    // Same jti, different bytes (re-signed under another key): the hash binding catches it.
    ring.add('k2', keyPair(2));
    const resigned = signLink(root.claims, ring.secret('k2'), 'k2');
    assertFails(() => verifyEnvelope(sealed([resigned, child.link]), verifyOptions(ring)), 'CHAIN_VIOLATION', {
      field: 'phs',
    });
    // A child alone (its parent dropped) is refused.
    assertFails(() => verifyEnvelope(sealed([child.link]), verifyOptions(ring)), 'CHAIN_VIOLATION', { field: 'dep' });
  });

  test('root rules: dep 0 and no parent', () => {
    const ring = new KeyRing().add('k1', keyPair(1));
    const { root } = fixture();
    const claims = root.claims;
    const sign = (c: EnvelopeClaims) => sealToken(signLink(c, ring.secret('k1'), 'k1'), root.holderSecretKey!);
    assertFails(() => verifyEnvelope(sign({ ...claims, dep: 1 }), verifyOptions(ring)), 'CHAIN_VIOLATION', {
      field: 'dep',
    });
    assertFails(
      () => verifyEnvelope(sign({ ...claims, prn: randomId(16), phs: b64(new Uint8Array(32)) }), verifyOptions(ring)),
      'CHAIN_VIOLATION',
      { field: 'prn' },
    );
  });

  test('depth must be parent + 1 and at most maxDepth', () => {
    const { ring, root } = fixture();
    assertFails(() => verifyEnvelope(handChild(ring, root, { dep: 2 }), verifyOptions(ring)), 'CHAIN_VIOLATION', {
      field: 'dep',
    });
    const signer = { secretKey: ring.secret('k1'), kid: 'k1' };
    let token = root.token;
    for (let i = 0; i < 3; i++) token = deriveChild(token, {}, signer, NOW).token;
    verifyEnvelope(token, verifyOptions(ring, { maxDepth: 3 }));
    assertFails(() => verifyEnvelope(token, verifyOptions(ring, { maxDepth: 2 })), 'CHAIN_VIOLATION', {
      field: 'dep',
      message: /^link 3: .*maximum delegation depth is 2/,
    });
    assertFails(() => deriveChild(token, {}, signer, NOW, { maxDepth: 3 }), 'CHAIN_VIOLATION', { field: 'dep' });
    // Default: depth 8 passes, a 9th child does not fit.
    for (let i = 3; i < 8; i++) token = deriveChild(token, {}, signer, NOW).token;
    assert.equal(verifyEnvelope(token, verifyOptions(ring)).links.length, 9);
    assertFails(() => deriveChild(token, {}, signer, NOW), 'CHAIN_VIOLATION', { field: 'dep' });
  });

  test('tenant: links of different tenants, and a token for another tenant', () => {
    const { ring, root } = fixture();
    assertFails(
      () => verifyEnvelope(handChild(ring, root, { tnt: 'globex' }), verifyOptions(ring)),
      'TENANT_MISMATCH',
      { field: 'tnt', message: /^link 1:/ },
    );
    assertFails(
      () => verifyEnvelope(root.token, verifyOptions(ring, { expectedTenant: 'globex' })),
      'TENANT_MISMATCH',
      { field: 'tnt' },
    );
    verifyEnvelope(root.token, verifyOptions(ring, { expectedTenant: TENANT }));
  });

  test('deriveChild: expired parent, too little time left, defaults', () => {
    const { ring, root } = fixture({ ttlSeconds: 600 });
    const signer = { secretKey: ring.secret('k1'), kid: 'k1' };
    assertFails(() => deriveChild(root.token, {}, signer, NOW + 600), 'EXPIRED');
    assertFails(() => deriveChild(root.token, {}, signer, NOW + 550), 'INVALID_REQUEST', { field: 'ttl_seconds' });
    const child = deriveChild(root.token, {}, signer, NOW + 100);
    assert.deepEqual(
      [child.claims.sub, child.claims.scp, child.claims.res, child.claims.ctx, child.claims.cns],
      [root.claims.sub, root.claims.scp, root.claims.res, root.claims.ctx, root.claims.cns],
    );
    assert.equal(child.claims.nbf, NOW + 100);
    assert.equal(child.claims.exp, root.claims.exp);
    // The holder key is never inherited: a fresh one is generated, and seals the child's token;
    // the parent's seal does not travel.
    assert.notEqual(child.claims.cnf.jwk.x, root.claims.cnf.jwk.x);
    assert.equal(child.claims.cnf.jwk.x, b64(child.holderSecretKey!.subarray(32)));
    assert.equal(child.chain, encodeToken([root.link, child.link]));
    assert.equal(child.token, sealToken(child.chain, child.holderSecretKey!));
  });
});

describe('audience', () => {
  test('a link with aud must name the verifier; a verifier without an audience refuses it', () => {
    const { ring, root } = fixture({ audience: ['enforcer-1'] });
    verifyEnvelope(root.token, verifyOptions(ring, { audience: 'enforcer-1' }));
    assertFails(
      () => verifyEnvelope(root.token, verifyOptions(ring, { audience: 'enforcer-2' })),
      'AUDIENCE_MISMATCH',
      { field: 'aud' },
    );
    assertFails(() => verifyEnvelope(root.token, verifyOptions(ring)), 'AUDIENCE_MISMATCH');
    const { ring: r2, root: open } = fixture();
    verifyEnvelope(open.token, verifyOptions(r2, { audience: 'enforcer-1' }));
  });

  test("a child's own aud restricts further", () => {
    const { ring, root } = fixture({ audience: ['enforcer-1', 'enforcer-2'] });
    const child = deriveChild(root.token, { audience: 'enforcer-2' }, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    verifyEnvelope(child.token, verifyOptions(ring, { audience: 'enforcer-2' }));
    assertFails(
      () => verifyEnvelope(child.token, verifyOptions(ring, { audience: 'enforcer-1' })),
      'AUDIENCE_MISMATCH',
      { message: /^link 1:/ },
    );
  });
});

describe('memo', () => {
  test('a repeated token costs no Ed25519; a revocation after memoization denies at once', () => {
    const { ring, root } = fixture();
    const child = childOf(ring, root);
    const memo = new LinkMemo(100);
    const { calls, verifySignature } = counting();
    const revoked = new Set<string>();
    const opts = verifyOptions(ring, { memo, verifySignature, isRevoked: (j) => revoked.has(j) });
    assert.equal(verifyEnvelope(child.token, opts).memoHits, 0);
    assert.equal(calls.n, 3, 'two links and the seal');
    assert.equal(verifyEnvelope(child.token, opts).memoHits, 2);
    assert.equal(calls.n, 3);
    // The root alone is also served from the memo; only its own seal is new.
    verifyEnvelope(root.token, opts);
    assert.equal(calls.n, 4);
    verifyEnvelope(root.token, opts);
    assert.equal(calls.n, 4);
    revoked.add(root.claims.jti);
    assertFails(() => verifyEnvelope(child.token, opts), 'REVOKED');
    assert.equal(calls.n, 4);
  });

  test('time, key liveness and rotation are still checked on a memo hit', () => {
    const { ring, root } = fixture({ ttlSeconds: 600 });
    const memo = new LinkMemo();
    const { calls, verifySignature } = counting();
    verifyEnvelope(root.token, verifyOptions(ring, { memo, verifySignature }));
    assertFails(
      () => verifyEnvelope(root.token, verifyOptions(ring, { memo, verifySignature, now: NOW + 10_000 })),
      'EXPIRED',
    );
    // Key retired: UNKNOWN_KEY despite the memo.
    const retired = new KeyRing();
    assertFails(() => verifyEnvelope(root.token, verifyOptions(retired, { memo, verifySignature })), 'UNKNOWN_KEY');
    // Another key under the same kid: the memo does not vouch for it, and Ed25519 says no.
    const rotated = new KeyRing().add('k1', keyPair(3));
    assertFails(
      () => verifyEnvelope(root.token, verifyOptions(rotated, { memo, verifySignature })),
      'INVALID_SIGNATURE',
    );
    // The link and its seal on the first call, the link again under the rotated key.
    assert.equal(calls.n, 3);
    // Narrowing is re-evaluated too: a stricter maxDepth applies to memoized links.
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    assertFails(() => verifyEnvelope(child.token, verifyOptions(ring, { memo, maxDepth: 0 })), 'CHAIN_VIOLATION');
  });

  test('a failed signature is not memoized; the LRU is bounded; evict and clear', () => {
    const { ring } = fixture();
    const memo = new LinkMemo(2);
    const signer = { secretKey: ring.secret('k1'), kid: 'k1', now: NOW };
    const tokens = [0, 1, 2].map(() => mintRoot(rootParams(), signer));
    const forged = mintRoot(rootParams(), { ...signer, secretKey: keyPair(5).secretKey });
    assertFails(() => verifyEnvelope(forged.token, verifyOptions(ring, { memo })), 'INVALID_SIGNATURE');
    assert.equal(memo.size, 0);
    for (const t of tokens) verifyEnvelope(t.token, verifyOptions(ring, { memo }));
    assert.equal(memo.size, 2);
    assert.equal(memo.stats.evictions, 1);
    assert.equal(memo.get(hashLink(tokens[0]!.link)), undefined);
    assert.equal(memo.evict(tokens[1]!.claims.jti), 1);
    assert.equal(memo.size, 1);
    assert.equal(memo.evictAgent('agent-a'), 1);
    verifyEnvelope(tokens[2]!.token, verifyOptions(ring, { memo }));
    memo.clear();
    assert.equal(memo.size, 0);
  });

  test('a memoized link reused at another position is still chain-checked', () => {
    const { ring, root } = fixture();
    const memo = new LinkMemo();
    const child = deriveChild(root.token, {}, { secretKey: ring.secret('k1'), kid: 'k1' }, NOW);
    verifyEnvelope(child.token, verifyOptions(ring, { memo }));
    // Sealed by the root's holder (the leaf of both), so only the chain rule can refuse them.
    const sealedByRoot = (links: string[]) => sealToken(encodeToken(links), root.holderSecretKey!);
    assertFails(
      () => verifyEnvelope(sealedByRoot([child.link, root.link]), verifyOptions(ring, { memo })),
      'CHAIN_VIOLATION',
    );
    assertFails(
      () => verifyEnvelope(sealedByRoot([root.link, root.link]), verifyOptions(ring, { memo })),
      'CHAIN_VIOLATION',
    );
  });
});
