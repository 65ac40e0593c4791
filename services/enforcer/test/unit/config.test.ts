// The enforcer's configuration: defaults that depend on where it runs, and the cost bounds (the
// memo's byte budget, the tenant shares of the memo and of the replay cache), parsed once at start;
// a wrong value stops the process naming the variable.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '@authority/platform';
import { defaultEnforcerId, enforcerConfigChecks, enforcerConfigSchema } from '../../src/config';

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

const BASE = {
  KAFKA_BROKERS: 'localhost:9092',
  AUTHORITY_OPERATOR_API_KEY: 'operator-key-0123456789abcdef',
  // Required since audit events are signed by their producer (any 32-byte seed).
  AUTHORITY_EVENT_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64url'),
};

function load(env: Record<string, string>) {
  return loadConfig(enforcerConfigSchema, { ...BASE, ...env }, enforcerConfigChecks());
}

function refused(env: Record<string, string>, variable: string): ConfigError {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    assert.ok(
      err.issues.some((i) => i.variable === variable),
      `${variable} named in: ${err.message}`,
    );
    return err;
  }
  return assert.fail(`${JSON.stringify(env)} was accepted`);
}

test('defaults: a 64 MiB memo, 25 % per tenant of the memo and of the replay cache, no entry bound', () => {
  const c = load({});
  assert.equal(c.AUTHORITY_MEMO_BYTES, 64 * 1024 * 1024);
  assert.equal(c.AUTHORITY_MEMO_TENANT_SHARE, 0.25);
  assert.equal(c.AUTHORITY_REPLAY_TENANT_SHARE, 0.25);
  assert.equal(c.AUTHORITY_MEMO_SIZE, undefined);
});

test('AUTHORITY_MEMO_BYTES takes bytes or a binary unit, within 1 MiB .. 64 GiB', () => {
  assert.equal(load({ AUTHORITY_MEMO_BYTES: '128MiB' }).AUTHORITY_MEMO_BYTES, 128 * 1024 * 1024);
  assert.equal(load({ AUTHORITY_MEMO_BYTES: '1 GiB' }).AUTHORITY_MEMO_BYTES, 1024 ** 3);
  assert.equal(load({ AUTHORITY_MEMO_BYTES: '2097152' }).AUTHORITY_MEMO_BYTES, 2 * 1024 * 1024);
  assert.equal(load({ AUTHORITY_MEMO_BYTES: '4096kib' }).AUTHORITY_MEMO_BYTES, 4 * 1024 * 1024);
  for (const bad of ['512KiB', '0', '65GiB', '64MB', 'lots', '-1MiB', '1.5MiB']) {
    const err = refused({ AUTHORITY_MEMO_BYTES: bad }, 'AUTHORITY_MEMO_BYTES');
    assert.match(err.message, /expected a size between 1MiB and 64GiB/);
  }
});

test('tenant shares take a percentage or a fraction above 0 and at most 100 %', () => {
  const c = load({ AUTHORITY_MEMO_TENANT_SHARE: '100%', AUTHORITY_REPLAY_TENANT_SHARE: '0.1' });
  assert.equal(c.AUTHORITY_MEMO_TENANT_SHARE, 1);
  assert.equal(c.AUTHORITY_REPLAY_TENANT_SHARE, 0.1);
  assert.equal(load({ AUTHORITY_MEMO_TENANT_SHARE: '12.5%' }).AUTHORITY_MEMO_TENANT_SHARE, 0.125);
  for (const variable of ['AUTHORITY_MEMO_TENANT_SHARE', 'AUTHORITY_REPLAY_TENANT_SHARE']) {
    for (const bad of ['0', '0%', '150%', '1.5', 'half', '-0.2']) refused({ [variable]: bad }, variable);
  }
});

test('the old AUTHORITY_MEMO_SIZE still bounds the number of links, on top of the byte budget', () => {
  assert.equal(load({ AUTHORITY_MEMO_SIZE: '50000' }).AUTHORITY_MEMO_SIZE, 50_000);
  refused({ AUTHORITY_MEMO_SIZE: '0' }, 'AUTHORITY_MEMO_SIZE');
});
