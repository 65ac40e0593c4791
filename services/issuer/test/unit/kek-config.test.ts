// Unit tests (no infrastructure): the KEK envelope encryption, configuration errors naming the
// variable, request validation naming the field, and the corrected contract loader.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { ConfigError, InvalidArgumentError, loadConfig } from '@authority/platform';
import { issuerConfigSchema } from '../../src/config';
import { KeyEncryptionKey, KekError } from '../../src/kek';
import { loadAuthorityProto } from '@authority/proto';
import * as v from '../../src/validate';

const baseEnv = {
  KAFKA_BROKERS: '127.0.0.1:9092',
  MONGODB_URI: 'mongodb://127.0.0.1:27017/',
  AUTHORITY_OPERATOR_API_KEY: 'operator-key-0123456789',
};

test('KEK: seal/open round-trips; a wrong key, other associated data or a flipped bit fail naming the variable', () => {
  const kek = new KeyEncryptionKey(randomBytes(32));
  const secret = randomBytes(32);
  const sealed = kek.seal(secret, 'acme/k1-abc');
  assert.equal(sealed.nonce.length, 12);
  assert.equal(sealed.tag.length, 16);
  assert.ok(!sealed.ciphertext.equals(secret));
  assert.deepEqual(kek.open(sealed, 'acme/k1-abc'), secret);
  assert.notDeepEqual(kek.seal(secret, 'acme/k1-abc').nonce, sealed.nonce, 'a fresh nonce per seal');
  assert.throws(
    () => new KeyEncryptionKey(randomBytes(32)).open(sealed, 'acme/k1-abc'),
    (e: Error) => e instanceof KekError && /AUTHORITY_ISSUER_KEK/.test(e.message),
  );
  assert.throws(() => kek.open(sealed, 'other/k1-abc'), KekError);
  const flipped = { ...sealed, ciphertext: Buffer.from(sealed.ciphertext) };
  flipped.ciphertext[0]! ^= 1;
  assert.throws(() => kek.open(flipped, 'acme/k1-abc'), KekError);
  assert.equal(String(kek), '[redacted]');
  assert.equal(JSON.stringify({ kek }), '{"kek":"[redacted]"}');
});

test('config: a missing or malformed AUTHORITY_ISSUER_KEK is named, its value never echoed', () => {
  const missing = (() => {
    try {
      loadConfig(issuerConfigSchema, baseEnv);
    } catch (e) {
      return e;
    }
    return undefined;
  })();
  assert.ok(missing instanceof ConfigError);
  assert.ok(missing.issues.some((i) => i.variable === 'AUTHORITY_ISSUER_KEK' && /required/.test(i.problem)));
  const short = Buffer.alloc(16, 7).toString('base64');
  try {
    loadConfig(issuerConfigSchema, { ...baseEnv, AUTHORITY_ISSUER_KEK: short });
    assert.fail('accepted a 16-byte KEK');
  } catch (e) {
    assert.ok(e instanceof ConfigError);
    const issue = e.issues.find((i) => i.variable === 'AUTHORITY_ISSUER_KEK');
    assert.ok(issue);
    assert.match(issue.problem, /32 random bytes/);
    assert.ok(!e.message.includes(short), 'the KEK value is not echoed');
  }
  const ok = loadConfig(issuerConfigSchema, { ...baseEnv, AUTHORITY_ISSUER_KEK: randomBytes(32).toString('base64') });
  assert.equal(ok.AUTHORITY_GRPC_PORT, 50051);
  assert.equal(ok.AUTHORITY_APPROVAL_TIMEOUT, 15 * 60_000);
  assert.equal(ok.AUTHORITY_APPROVAL_USE_WINDOW, 10 * 60_000);
  assert.equal(ok.AUTHORITY_CLOCK_SKEW, 30);
  assert.equal(ok.AUTHORITY_ISSUER_DB, 'authority_issuer');
});

test('validation names the request field', () => {
  const field = (fn: () => unknown): string | undefined => {
    try {
      fn();
    } catch (e) {
      assert.ok(e instanceof InvalidArgumentError, String(e));
      return e.field;
    }
    return undefined;
  };
  assert.equal(
    field(() => v.tenantId('UPPER')),
    'tenant',
  );
  // Core's tenant-id rule: what the enforcer parses (no id of dashes only, none at either end).
  for (const bad of ['---', '-ab', 'ab-'])
    assert.equal(
      field(() => v.tenantId(bad)),
      'tenant',
      bad,
    );
  assert.equal(v.tenantId('a-b'), 'a-b');
  assert.equal(
    field(() => v.ttlSeconds(30)),
    'ttl_seconds',
  );
  assert.equal(
    field(() => v.jti('x')),
    'jti',
  );
  const grant = {
    scopes: ['a:b'],
    resources: ['r/*'],
    contextFields: ['purpose'],
    constraintsJson: '{"unconstrained":true}',
  };
  assert.equal(
    field(() => v.grant({ ...grant, scopes: ['a:b', 'a:b'] }, 'grant', { requireConstraints: true })),
    'grant.scopes[1]',
  );
  assert.equal(
    field(() => v.grant({ ...grant, contextFields: ['ok', ''] }, 'grant', { requireConstraints: true })),
    'grant.context_fields[1]',
  );
  assert.equal(
    field(() =>
      v.grant({ ...grant, constraintsJson: '{"unconstrained":false}' }, 'grant', { requireConstraints: true }),
    ),
    'grant.constraints_json.unconstrained',
  );
  assert.equal(
    field(() => v.grant({ ...grant, constraintsJson: '{"a":1,"a":2}' }, 'grant', { requireConstraints: true })),
    'grant.constraints_json',
  );
  assert.equal(
    v.grant({ ...grant, constraintsJson: '' }, 'grant', { requireConstraints: false }).constraints,
    undefined,
  );
  assert.equal(
    field(() => v.holderKey(Buffer.alloc(33), 'holder_public_key')),
    'holder_public_key',
  );
  assert.equal(
    field(() => v.audience(['a', 'a'])),
    'audience[1]',
  );
});

test('the contract loader gives camelCase fields, map fields and optional scalars as the generated types say', () => {
  const { grpcObject } = loadAuthorityProto();
  const check = grpcObject.authority.v1.EnforcerService.service.Check;
  const req = check.requestDeserialize(
    check.requestSerialize({
      token: 't',
      requiredScope: 'a:b',
      context: { purpose: 'p', recordCount: 0, fields: { k: 'v' } },
      approvalId: 'x',
    }),
  );
  assert.equal(req.requiredScope, 'a:b');
  assert.equal(req.approvalId, 'x');
  assert.deepEqual(req.context?.fields, { k: 'v' });
  assert.equal(req.context?.recordCount, 0, 'explicit optional zero survives');
  const noCount = check.requestDeserialize(check.requestSerialize({ token: 't', context: { purpose: 'p' } }));
  assert.equal(noCount.context?.recordCount, undefined);
  const create = grpcObject.authority.v1.IssuerService.service.CreateTenant;
  assert.equal(
    create.requestDeserialize(create.requestSerialize({ tenant: 'abc', displayName: 'Acme' })).displayName,
    'Acme',
  );
});
