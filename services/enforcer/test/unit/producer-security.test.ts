// The producer thread gets the Kafka TLS/SASL options as a structured clone: after the main
// thread's kafkajs client authenticated, its SASL options carry kafkajs' authentication provider
// (a function), which cannot be cloned. plainSecurity hands the thread the data only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { KafkaSecurity } from '@authority/platform';
import { plainSecurity } from '../../src/adapters/audit-producer';

test('the thread gets the TLS and SASL settings as plain data, whatever kafkajs added to them', () => {
  const sasl = { mechanism: 'scram-sha-512', username: 'authority-enforcer', password: 'pw' } as const;
  const used = {
    ssl: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' },
    // What kafkajs leaves on the options once it authenticated.
    sasl: { ...sasl, authenticationProvider: () => undefined },
  } as unknown as KafkaSecurity;
  assert.throws(() => structuredClone(used), /could not be cloned/);
  const plain = plainSecurity(used);
  assert.deepEqual(structuredClone(plain), { ssl: { ca: 'CA PEM', cert: 'CERT PEM', key: 'KEY PEM' }, sasl });
  assert.deepEqual(plainSecurity({ ssl: true }), { ssl: true });
  assert.deepEqual(plainSecurity({}), {});
});
