// The enforcer's configuration defaults that depend on where it runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadConfig } from '@authority/platform';
import { defaultEnforcerId, enforcerConfigSchema } from '../../src/config';

test('the default replica id is the pod name in a container, host name plus pid elsewhere', () => {
  assert.equal(defaultEnforcerId('enforcer-7d9f-abcde', 1), 'enforcer-7d9f-abcde');
  assert.equal(defaultEnforcerId('laptop', 4242), 'laptop-4242');
  // Two enforcers on one machine (two processes) get different ids.
  assert.notEqual(defaultEnforcerId('laptop', 4242), defaultEnforcerId('laptop', 4243));
  const config = loadConfig(
    enforcerConfigSchema,
    { KAFKA_BROKERS: 'k:9092', AUTHORITY_OPERATOR_API_KEY: 'operator-key-0123456789' },
    [],
  );
  assert.equal(config.AUTHORITY_ENFORCER_ID, defaultEnforcerId());
});
