// The door: a request without an envelope, with one that does not parse, that expired, or that is
// not bound to this gateway's audience is refused before anything else happens, with an RFC 6750
// error code and the RFC 9728 resource-metadata pointer.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, declareUnconstrained, generateEd25519KeyPair, mintRoot, type RootParams } from '@authority/core';
import { GatewayAuthError, bearerFromHeader, claimedCaller, wwwAuthenticate } from '../../src/auth';

const NOW = 1_800_000_000;
const RULE = { audience: 'authority-gateway', required: true };

function token(extra: Partial<RootParams> = {}): string {
  const key = generateEd25519KeyPair();
  return mintRoot(
    {
      tenant: 'acme',
      agent: 'planner',
      scopes: ['files:docs:read'],
      resources: ['file://local/*'],
      context: [],
      constraints: declareUnconstrained(),
      ttlSeconds: 600,
      notBefore: NOW,
      ...extra,
    },
    { secretKey: key.secretKey, kid: 'k1', now: NOW },
  ).token;
}

function refusal(fn: () => unknown): GatewayAuthError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof GatewayAuthError, String(err));
    return err;
  }
  assert.fail('accepted');
}

describe('gateway authentication', () => {
  before(() => cryptoReady());

  test('the bearer is read from exactly one well-formed Authorization header', () => {
    assert.equal(bearerFromHeader('Bearer abc.def~ghi'), 'abc.def~ghi');
    const none = refusal(() => bearerFromHeader(undefined));
    assert.equal(none.noCredentials, true);
    assert.equal(refusal(() => bearerFromHeader('Basic dXNlcg==')).code, 'invalid_request');
    assert.equal(refusal(() => bearerFromHeader(['Bearer a', 'Bearer b'])).code, 'invalid_request');
  });

  test('a token for this audience names the claimed tenant and agent', () => {
    const c = claimedCaller(token({ audience: ['authority-gateway', 'authority-enforcer'] }), RULE, NOW, 30);
    assert.equal(c.tenant, 'acme');
    assert.equal(c.agent, 'planner');
    assert.equal(c.expiresAt, NOW + 600);
  });

  test('another audience, no audience (when required), expiry and garbage are invalid_token', () => {
    assert.equal(
      refusal(() => claimedCaller(token({ audience: 'other-service' }), RULE, NOW, 30)).reason,
      'AUDIENCE_MISMATCH',
    );
    assert.equal(refusal(() => claimedCaller(token(), RULE, NOW, 30)).reason, 'AUDIENCE_MISMATCH');
    assert.equal(claimedCaller(token(), { ...RULE, required: false }, NOW, 30).agent, 'planner');
    const expired = refusal(() => claimedCaller(token({ audience: 'authority-gateway' }), RULE, NOW + 631, 30));
    assert.equal(expired.reason, 'EXPIRED');
    assert.equal(expired.code, 'invalid_token');
    assert.equal(claimedCaller(token({ audience: 'authority-gateway' }), RULE, NOW + 630, 30).agent, 'planner');
    assert.equal(refusal(() => claimedCaller('not-a-token', RULE, NOW, 30)).reason, 'INVALID_TOKEN');
  });

  test('WWW-Authenticate points at the resource metadata; names an error only when credentials came', () => {
    const url = 'https://gw.example/.well-known/oauth-protected-resource/mcp';
    assert.equal(
      wwwAuthenticate(url, new GatewayAuthError('invalid_request', 'x', 'UNAUTHENTICATED', true)),
      `Bearer resource_metadata="${url}"`,
    );
    assert.equal(
      wwwAuthenticate(url, new GatewayAuthError('invalid_token', 'the "envelope" expired', 'EXPIRED')),
      `Bearer resource_metadata="${url}", error="invalid_token", error_description="the \\"envelope\\" expired"`,
    );
  });
});
