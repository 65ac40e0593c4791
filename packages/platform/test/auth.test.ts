import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import { z } from 'zod';
import {
  apiKeysConfigShape,
  authenticate,
  bearerMetadata,
  bearerToken,
  callByName,
  ConfigError,
  credentialOfKind,
  hashApiKey,
  InvalidArgumentError,
  loadConfig,
  parseApiKeys,
  PermissionDeniedError,
  requireKind,
  requireTenant,
  StaticCredentialStore,
  UnauthenticatedError,
  type CredentialStore,
  type Principal,
} from '../src';

const KEY_A = 'key-for-tenant-a-0123456789';
const KEY_OP = 'operator-key-0123456789abcdef';
const store = StaticCredentialStore.fromKeys([
  { key: KEY_A, principal: { kind: 'admin', id: 'alice', tenant: 'tenant-a' } },
  { key: KEY_OP, principal: { kind: 'operator', id: 'ops' } },
]);

function metadata(authorization?: string): grpc.Metadata {
  const md = new grpc.Metadata();
  if (authorization !== undefined) md.set('authorization', authorization);
  return md;
}

describe('authenticate', () => {
  it('accepts a known key and returns its principal', async () => {
    assert.deepEqual(await authenticate(metadata(`Bearer ${KEY_A}`), store), {
      kind: 'admin',
      id: 'alice',
      tenant: 'tenant-a',
    });
    assert.deepEqual(await authenticate(metadata(`bearer ${KEY_OP}`), store), { kind: 'operator', id: 'ops' });
  });

  it('rejects missing, malformed, unknown and near-miss keys as UNAUTHENTICATED', async () => {
    for (const auth of [
      undefined,
      '',
      KEY_A,
      `Basic ${KEY_A}`,
      'Bearer',
      `Bearer ${KEY_A}x`,
      `Bearer ${KEY_A.slice(0, -1)}`,
      `Bearer ${KEY_A} extra`,
    ]) {
      await assert.rejects(authenticate(metadata(auth), store), UnauthenticatedError, String(auth));
    }
  });

  it('never tells which part of a key was wrong', async () => {
    const messages = new Set<string>();
    for (const k of ['x'.repeat(27), KEY_A.slice(0, -1) + 'X', 'short']) {
      await authenticate(metadata(`Bearer ${k}`), store).catch((e: Error) => messages.add(e.message));
    }
    assert.deepEqual([...messages], ['invalid credentials']);
  });

  it('compares hashes, so a store that returns a wrong entry still fails', async () => {
    const sloppy: CredentialStore = {
      findByKeyHash: async () => ({
        keyHash: hashApiKey('another key entirely!'),
        principal: { kind: 'service', id: 's' },
      }),
    };
    await assert.rejects(authenticate(metadata(`Bearer ${KEY_A}`), sloppy), UnauthenticatedError);
  });

  it('rejects repeated authorization headers', () => {
    const md = metadata(`Bearer ${KEY_A}`);
    md.add('authorization', `Bearer ${KEY_OP}`);
    assert.throws(() => bearerToken(md), UnauthenticatedError);
  });
});

describe('requireTenant', () => {
  const admin: Principal = { kind: 'admin', id: 'alice', tenant: 'tenant-a' };
  const operator: Principal = { kind: 'operator', id: 'ops' };
  const service: Principal = { kind: 'service', id: 'enforcer' };

  it('allows a principal for its own tenant only', () => {
    requireTenant(admin, 'tenant-a');
    assert.throws(
      () => requireTenant(admin, 'tenant-b'),
      (e: PermissionDeniedError) =>
        e instanceof PermissionDeniedError && e.reason === 'TENANT_MISMATCH' && e.field === 'tenant',
    );
  });

  it('allows an operator only where explicitly allowed', () => {
    assert.throws(() => requireTenant(operator, 'tenant-a'), PermissionDeniedError);
    requireTenant(operator, 'tenant-a', { allowOperator: true });
    assert.throws(() => requireTenant(admin, 'tenant-b', { allowOperator: true }), PermissionDeniedError);
  });

  it('allows a tenant-less service identity only where explicitly allowed', () => {
    assert.throws(() => requireTenant(service, 'tenant-a'), PermissionDeniedError);
    assert.throws(() => requireTenant(service, 'tenant-a', { allowOperator: true }), PermissionDeniedError);
    requireTenant(service, 'tenant-a', { allowService: true });
  });

  it('requires a tenant', () => {
    assert.throws(() => requireTenant(admin, ''), InvalidArgumentError);
  });

  it('requireKind', () => {
    requireKind(admin, 'admin', 'operator');
    assert.throws(() => requireKind(admin, 'approver'), PermissionDeniedError);
  });
});

describe('static API keys from configuration', () => {
  it('parses kind:id[:tenant]=key entries, plaintext or sha256', async () => {
    const hashed = hashApiKey('a-pre-hashed-service-key').toString('hex');
    const { entries, problems } = parseApiKeys(
      `operator:ops=${KEY_OP}, admin:alice:tenant-a=${KEY_A}, service:enforcer=sha256:${hashed}`,
    );
    assert.deepEqual(problems, []);
    const s = new StaticCredentialStore(entries);
    assert.deepEqual(await authenticate(metadata('Bearer a-pre-hashed-service-key'), s), {
      kind: 'service',
      id: 'enforcer',
    });
    assert.equal((await authenticate(metadata(`Bearer ${KEY_A}`), s)).tenant, 'tenant-a');
  });

  it('reports bad entries by position without echoing keys', () => {
    const schema = z.object(apiKeysConfigShape);
    try {
      loadConfig(schema, {
        AUTHORITY_API_KEYS:
          'root:x=supersecretvalue123,admin:bob=anothersecret4567,operator:o:t1=yetanothersecret89,service:s=short',
      });
      assert.fail('expected ConfigError');
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      assert.match(err.message, /entry 1: expected kind:id/);
      assert.match(err.message, /entry 2: an admin key needs a tenant/);
      assert.match(err.message, /entry 3: an operator key takes no tenant/);
      assert.match(err.message, /entry 4: key too short/);
      assert.doesNotMatch(err.message, /supersecret|anothersecret|yetanother/);
    }
  });
});

describe('credentialOfKind', () => {
  it('reads as English: "an ADMIN credential", "a CHECKER credential"', () => {
    assert.equal(credentialOfKind('ADMIN'), 'an ADMIN credential');
    assert.equal(credentialOfKind('AUDITOR'), 'an AUDITOR credential');
    assert.equal(credentialOfKind('APPROVER'), 'an APPROVER credential');
    assert.equal(credentialOfKind('CHECKER'), 'a CHECKER credential');
  });
});

describe('bearerMetadata', () => {
  it('is what bearerToken reads; without a secret the call carries none', () => {
    assert.equal(bearerToken(bearerMetadata('k-0123456789abcdef')), 'k-0123456789abcdef');
    assert.deepEqual(bearerMetadata(undefined).get('authorization'), []);
    assert.throws(() => bearerToken(bearerMetadata(undefined)), UnauthenticatedError);
  });
});

describe('callByName', () => {
  it('calls the named unary method with the metadata; an unknown name throws', async () => {
    const seen: string[] = [];
    const client = {
      Get: (req: { q: number }, md: grpc.Metadata, _o: grpc.CallOptions, cb: (e: null, r: unknown) => void) => {
        seen.push(String(md.get('authorization')[0]));
        cb(null, { echo: req.q });
      },
    } as unknown as grpc.Client;
    assert.deepEqual(await callByName(client, 'Get', { q: 7 }, { metadata: bearerMetadata('s') }), { echo: 7 });
    assert.deepEqual(seen, ['Bearer s']);
    assert.throws(() => callByName(client, 'Missing', {}), /Missing is not a method of this client/);
  });
});
