// Client machinery: error classes from status + metadata, deadlines, retries only where safe,
// failover across enforcer replicas, health.
import { describe, test } from 'node:test';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  AbortedError,
  AuthorityApiError,
  DeadlineExceededError,
  EnforcerClient,
  InternalError,
  InvalidArgumentError,
  IssuerClient,
  NotFoundError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  fromServiceError,
  decodeHealthResponse,
  encodeHealthRequest,
} from '../../src';
import { closedAddress, startFake, startFakeEnforcer, statusError, v1 } from './fake-server';

describe('error classes', { timeout: 30_000 }, () => {
  test('map from status and trailing metadata', () => {
    const cases: [grpc.status, new (...a: never[]) => AuthorityApiError][] = [
      [grpc.status.INVALID_ARGUMENT, InvalidArgumentError],
      [grpc.status.UNAUTHENTICATED, UnauthenticatedError],
      [grpc.status.PERMISSION_DENIED, PermissionDeniedError],
      [grpc.status.NOT_FOUND, NotFoundError],
      [grpc.status.ABORTED, AbortedError],
      [grpc.status.UNAVAILABLE, UnavailableError],
      [grpc.status.DEADLINE_EXCEEDED, DeadlineExceededError],
      [grpc.status.INTERNAL, InternalError],
    ];
    for (const [code, Cls] of cases) {
      const e = fromServiceError(statusError(code, 'ttl_seconds: too long', 'INVALID_REQUEST', 'ttl_seconds'), {
        method: 'm',
        address: 'a',
      });
      assert.ok(e instanceof Cls, `${grpc.status[code]} → ${e.name}`);
      assert.ok(e instanceof AuthorityApiError);
      assert.equal(e.code, code);
      assert.equal(e.reason, 'INVALID_REQUEST');
      assert.equal(e.field, 'ttl_seconds');
      assert.equal(e.message, 'ttl_seconds: too long');
      assert.equal(e.codeName, grpc.status[code]);
      assert.deepEqual(e.toJSON(), {
        error: e.name,
        code: grpc.status[code],
        message: 'ttl_seconds: too long',
        reason: 'INVALID_REQUEST',
        field: 'ttl_seconds',
        method: 'm',
        address: 'a',
      });
    }
    const plain = fromServiceError(new Error('weird'));
    assert.equal(plain.code, grpc.status.UNKNOWN);
    assert.equal(plain.reason, undefined);
  });

  test('a real call surfaces code, reason and field', async () => {
    const server = await startFake(v1().IssuerService.service, {
      Mint: (_c, cb) =>
        cb(
          statusError(
            grpc.status.PERMISSION_DENIED,
            "scope 'x:y' exceeds the policy",
            'POLICY_DENIED',
            'grant.scopes[0]',
          ),
        ),
    });
    const issuer = new IssuerClient(server.address, { credential: 'k', tenant: 'acme' });
    const err = await issuer.mint({ agentId: 'bot', ttlSeconds: 60 }).catch((e: unknown) => e);
    assert.ok(err instanceof PermissionDeniedError);
    assert.equal(err.reason, 'POLICY_DENIED');
    assert.equal(err.field, 'grant.scopes[0]');
    assert.equal(err.method, 'authority.v1.IssuerService/Mint');
    // The default tenant was filled in.
    assert.equal((server.calls[0]?.request as { tenant: string }).tenant, 'acme');
    issuer.close();
    await server.stop();
  });
});

describe('retries', { timeout: 30_000 }, () => {
  test('never retries Mint/Revoke; retries reads on UNAVAILABLE', async () => {
    const server = await startFake(v1().IssuerService.service, {
      Mint: (_c, cb) => cb(statusError(grpc.status.UNAVAILABLE, 'down')),
      Revoke: (_c, cb) => cb(statusError(grpc.status.UNAVAILABLE, 'down')),
      ListKeys: (_c, cb) => cb(statusError(grpc.status.UNAVAILABLE, 'down')),
    });
    const issuer = new IssuerClient(server.address, {
      retry: { maxAttempts: 3, initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    await assert.rejects(issuer.mint({ tenant: 't', agentId: 'a' }), UnavailableError);
    await assert.rejects(issuer.revoke({ tenant: 't', jti: 'j' }), UnavailableError);
    await assert.rejects(issuer.listKeys({ tenant: 't' }), UnavailableError);
    const count = (m: string) => server.calls.filter((c) => c.method === m).length;
    assert.equal(count('Mint'), 1);
    assert.equal(count('Revoke'), 1);
    assert.equal(count('ListKeys'), 3);
    issuer.close();
    await server.stop();
  });

  test('a read that recovers within the deadline succeeds', async () => {
    let n = 0;
    const server = await startFake(v1().IssuerService.service, {
      ListKeys: (_c, cb) => (++n < 3 ? cb(statusError(grpc.status.UNAVAILABLE, 'starting')) : cb(null, { keys: [] })),
    });
    const issuer = new IssuerClient(server.address, {
      retry: { maxAttempts: 5, initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    assert.deepEqual(await issuer.listKeys({ tenant: 't' }), { keys: [] });
    assert.equal(n, 3);
    issuer.close();
    await server.stop();
  });

  test('non-retryable errors are not retried', async () => {
    const server = await startFake(v1().IssuerService.service, {
      ListKeys: (_c, cb) => cb(statusError(grpc.status.PERMISSION_DENIED, 'no')),
    });
    const issuer = new IssuerClient(server.address);
    await assert.rejects(issuer.listKeys({ tenant: 't' }), PermissionDeniedError);
    assert.equal(server.calls.length, 1);
    issuer.close();
    await server.stop();
  });

  test('cancellation through an AbortSignal', async () => {
    const server = await startFakeEnforcer(() => 'hang');
    const client = new EnforcerClient(server.address, { deadlineMs: 10_000 });
    const ac = new AbortController();
    const p = client.check({ token: 't', requiredScope: 'a:b' }, { signal: ac.signal });
    ac.abort(new Error('user gave up'));
    await assert.rejects(p, (e: unknown) => e instanceof AuthorityApiError && e.code === grpc.status.CANCELLED);
    client.close();
    await server.stop();
  });
});

describe('enforcer failover', { timeout: 30_000 }, () => {
  test('a replica that answers UNAVAILABLE or is gone is failed over, and the next call goes to the live one', async () => {
    const allow = { decision: 'ALLOW' as const, reason: 'ALLOWED' as const, decisionId: 'x' };
    const a = await startFakeEnforcer(() => ({ ...allow, decisionId: 'from-a' }));
    const b = await startFakeEnforcer(() => ({ ...allow, decisionId: 'from-b' }));
    const client = new EnforcerClient([a.address, b.address], {
      deadlineMs: 3000,
      retry: { initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    assert.equal((await client.check({ token: 't', requiredScope: 'a:b' })).decisionId, 'from-a');
    await a.stop();
    assert.equal((await client.check({ token: 't', requiredScope: 'a:b' })).decisionId, 'from-b');
    assert.equal(client.currentAddress, b.address);
    assert.equal((await client.check({ token: 't', requiredScope: 'a:b' })).decisionId, 'from-b');
    client.close();
    await b.stop();
  });

  test('a stale replica (UNAVAILABLE STALE_STATE) is failed over', async () => {
    const stale = await startFakeEnforcer(() => statusError(grpc.status.UNAVAILABLE, 'stale', 'STALE_STATE'));
    const fresh = await startFakeEnforcer(() => ({ decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'fresh' }));
    const client = new EnforcerClient([stale.address, fresh.address]);
    assert.equal((await client.check({ token: 't', requiredScope: 'a:b' })).decisionId, 'fresh');
    client.close();
    await stale.stop();
    await fresh.stop();
  });

  test('a hung replica is failed over by the per-attempt timeout', async () => {
    const hung = await startFakeEnforcer(() => 'hang');
    const live = await startFakeEnforcer(() => ({ decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'live' }));
    const client = new EnforcerClient([hung.address, live.address], { deadlineMs: 4000, attemptTimeoutMs: 200 });
    assert.equal((await client.check({ token: 't', requiredScope: 'a:b' })).decisionId, 'live');
    client.close();
    await hung.stop();
    await live.stop();
  });

  test('every replica down: UNAVAILABLE', async () => {
    const client = new EnforcerClient([await closedAddress(), await closedAddress()], {
      retry: { initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    await assert.rejects(client.check({ token: 't', requiredScope: 'a:b' }), UnavailableError);
    client.close();
  });
});

describe('health', { timeout: 30_000 }, () => {
  test('encodes and decodes the grpc.health.v1 messages', () => {
    assert.deepEqual([...encodeHealthRequest('ab')], [0x0a, 2, 0x61, 0x62]);
    assert.equal(encodeHealthRequest('').length, 0);
    assert.equal(decodeHealthResponse(Buffer.from([0x08, 1])), 'SERVING');
    assert.equal(decodeHealthResponse(Buffer.from([0x08, 2])), 'NOT_SERVING');
    assert.equal(decodeHealthResponse(Buffer.alloc(0)), 'UNKNOWN');
    assert.throws(() => decodeHealthResponse(Buffer.from([0x08])));
  });

  test('health() reports unreachable addresses without throwing', async () => {
    const addr = await closedAddress();
    const client = new EnforcerClient(addr);
    const [h] = await client.health({ deadlineMs: 500 });
    assert.equal(h?.address, addr);
    assert.ok(h?.error);
    client.close();
  });
});

describe('TLS', { timeout: 30_000 }, () => {
  const dir = path.resolve(__dirname, '../../../test/fixtures/tls');
  const read = (f: string) => readFileSync(path.join(dir, f));

  test('mutual TLS with a private CA and a server name override', async () => {
    const creds = grpc.ServerCredentials.createSsl(
      read('ca.pem'),
      [{ cert_chain: read('server.pem'), private_key: read('server.key') }],
      true,
    );
    const server = await startFake(v1().IssuerService.service, { ListKeys: (_c, cb) => cb(null, { keys: [] }) }, creds);
    const ok = new IssuerClient(server.address, {
      tls: { ca: read('ca.pem'), cert: read('client.pem'), key: read('client.key'), serverName: 'authority.test' },
      retry: { maxAttempts: 1 },
    });
    assert.deepEqual(await ok.listKeys({ tenant: 't' }), { keys: [] });
    ok.close();

    const noClientCert = new IssuerClient(server.address, {
      tls: { ca: read('ca.pem'), serverName: 'authority.test' },
      retry: { maxAttempts: 1 },
      deadlineMs: 2000,
    });
    await assert.rejects(noClientCert.listKeys({ tenant: 't' }), AuthorityApiError);
    noClientCert.close();

    const untrusted = new IssuerClient(server.address, { tls: true, retry: { maxAttempts: 1 }, deadlineMs: 2000 });
    await assert.rejects(untrusted.listKeys({ tenant: 't' }), UnavailableError);
    untrusted.close();

    const plaintext = new IssuerClient(server.address, { retry: { maxAttempts: 1 }, deadlineMs: 2000 });
    await assert.rejects(plaintext.listKeys({ tenant: 't' }), AuthorityApiError);
    plaintext.close();
    assert.equal(server.calls.length, 1);
    await server.stop();
  });

  test('a client certificate without its key is refused up front', () => {
    assert.throws(() => new IssuerClient('127.0.0.1:1', { tls: { cert: read('client.pem') } }), /together/);
  });
});
