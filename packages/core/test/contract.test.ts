import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { eventSource, isValidTenantId, parseRecordKey, recordKeys } from '../src';

describe('wire contract', () => {
  test('record keys start with the tenant, and keys/revocations keys parse back', () => {
    assert.equal(recordKeys.key('acme', 'k1'), 'acme/key/k1');
    assert.equal(recordKeys.credential('acme', 'c1'), 'acme/credential/c1');
    assert.equal(recordKeys.revokedJti('acme', 'j1'), 'acme/jti/j1');
    assert.equal(recordKeys.revokedAgent('acme', 'bot/sub'), 'acme/agent/bot/sub');
    assert.equal(recordKeys.policyVersion('acme', 42), 'acme/000000000042');
    assert.equal(recordKeys.tenant('acme'), 'acme');
    assert.deepEqual(parseRecordKey(recordKeys.revokedAgent('acme', 'bot/sub')), {
      tenant: 'acme',
      kind: 'agent',
      id: 'bot/sub',
    });
    for (const bad of ['', 'acme', 'acme/key', 'acme/key/', '/key/k1'])
      assert.equal(parseRecordKey(bad), undefined, bad);
  });

  test('every service publishes with the /authority/<service> source', () => {
    for (const s of ['issuer', 'enforcer', 'policy', 'auditor'] as const) {
      assert.equal(eventSource(s), `/authority/${s}`);
    }
  });

  test('a tenant id cannot contain the record-key separator', () => {
    assert.equal(isValidTenantId('acme/key'), false);
  });
});
