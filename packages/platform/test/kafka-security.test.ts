// The Kafka client security variables (TLS, mTLS, SASL) of the common schema: parsed and checked
// at load, turned into kafkajs options; the event-signing key variables of the producers; and
// withEventSignature, which signs a message last.
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, it } from 'node:test';
import {
  cryptoReady,
  EVENT_SIGNATURE_HEADER,
  eventSigningKey,
  verifyEventSignature,
  type TrustedEventKey,
} from '@authority/core';
import {
  checkEventSigningKey,
  commonConfigSchema,
  ConfigError,
  eventSigningConfigShape,
  eventSigningSeedFromConfig,
  kafkaSecurityFromConfig,
  loadConfig,
  serviceConfigSchema,
  withEventSignature,
} from '../src';

const dir = mkdtempSync(join(tmpdir(), 'kafka-security-'));
const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
};
const CA = file('ca.pem', '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n');
const CERT = file('client.pem', '-----BEGIN CERTIFICATE-----\nCLIENT\n-----END CERTIFICATE-----\n');
const KEY = file('client.key', '-----BEGIN PRIVATE KEY-----\nKEY\n-----END PRIVATE KEY-----\n');
const PASSWORD = file('password', 's3cret-from-file\n');

function load(env: Record<string, string>) {
  return loadConfig(commonConfigSchema, { KAFKA_BROKERS: 'k:9093', ...env });
}

function problems(env: Record<string, string>): Map<string, string> {
  try {
    load(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, String(err));
    return new Map(err.issues.map((i) => [i.variable, i.problem]));
  }
  assert.fail('expected a ConfigError');
}

describe('Kafka security variables', () => {
  it('default: plaintext, no SASL (no options for kafkajs)', () => {
    assert.deepEqual(kafkaSecurityFromConfig(load({})), {});
  });

  it('SCRAM-SHA-512 over TLS with a CA file: the kafkajs ssl and sasl options', () => {
    const config = load({
      KAFKA_SSL: 'true',
      KAFKA_SSL_CA_FILE: CA,
      KAFKA_SASL_MECHANISM: 'SCRAM-SHA-512',
      KAFKA_SASL_USERNAME: 'authority-enforcer',
      KAFKA_SASL_PASSWORD: 'pw-0123456789',
    });
    assert.deepEqual(kafkaSecurityFromConfig(config), {
      ssl: { ca: '-----BEGIN CERTIFICATE-----\nCA\n-----END CERTIFICATE-----\n' },
      sasl: { mechanism: 'scram-sha-512', username: 'authority-enforcer', password: 'pw-0123456789' },
    });
  });

  it('TLS with the system CAs; mTLS with a client certificate; the password from a file', () => {
    assert.deepEqual(kafkaSecurityFromConfig(load({ KAFKA_SSL: 'true' })), { ssl: true });
    const mtls = kafkaSecurityFromConfig(
      load({ KAFKA_SSL: 'true', KAFKA_SSL_CERT_FILE: CERT, KAFKA_SSL_KEY_FILE: KEY }),
    );
    assert.match(String((mtls.ssl as { cert: string }).cert), /CLIENT/);
    assert.match(String((mtls.ssl as { key: string }).key), /KEY/);
    const fromFile = kafkaSecurityFromConfig(
      load({
        KAFKA_SSL: 'true',
        KAFKA_SASL_MECHANISM: 'plain',
        KAFKA_SASL_USERNAME: 'u',
        KAFKA_SASL_PASSWORD_FILE: PASSWORD,
      }),
    );
    assert.equal(fromFile.sasl?.password, 's3cret-from-file');
  });

  it('refuses incomplete or unsafe combinations, naming each variable', () => {
    const p1 = problems({ KAFKA_SSL_CA_FILE: CA, KAFKA_SSL_CERT_FILE: CERT });
    assert.match(p1.get('KAFKA_SSL_CA_FILE')!, /requires KAFKA_SSL=true/);
    assert.match(p1.get('KAFKA_SSL_KEY_FILE')!, /required when KAFKA_SSL_CERT_FILE is set/);
    const p2 = problems({ KAFKA_SASL_MECHANISM: 'scram-sha-256' });
    assert.match(p2.get('KAFKA_SASL_USERNAME')!, /required/);
    assert.match(p2.get('KAFKA_SASL_PASSWORD')!, /required/);
    const p3 = problems({ KAFKA_SASL_MECHANISM: 'plain', KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    assert.match(p3.get('KAFKA_SASL_MECHANISM')!, /in clear: requires KAFKA_SSL=true/);
    const p4 = problems({ KAFKA_SASL_USERNAME: 'u', KAFKA_SASL_PASSWORD: 'p' });
    assert.match(p4.get('KAFKA_SASL_USERNAME')!, /requires KAFKA_SASL_MECHANISM/);
    assert.match(p4.get('KAFKA_SASL_PASSWORD')!, /requires KAFKA_SASL_MECHANISM/);
    const p5 = problems({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD: 'p',
      KAFKA_SASL_PASSWORD_FILE: PASSWORD,
    });
    assert.match(p5.get('KAFKA_SASL_PASSWORD_FILE')!, /not both/);
    const p6 = problems({ KAFKA_SASL_MECHANISM: 'gssapi', KAFKA_SSL_CA_FILE: join(dir, 'missing.pem') });
    assert.match(p6.get('KAFKA_SASL_MECHANISM')!, /expected one of plain, scram-sha-256, scram-sha-512/);
    assert.match(p6.get('KAFKA_SSL_CA_FILE')!, /file not found/);
  });

  it('never echoes a password, from the variable or the file', () => {
    const err = (() => {
      try {
        load({ KAFKA_SASL_PASSWORD: '   ', KAFKA_SASL_PASSWORD_FILE: join(dir, 'nope') });
      } catch (e) {
        return e as ConfigError;
      }
      assert.fail('expected an error');
    })();
    assert.ok(!err.message.includes('s3cret'));
    const config = load({
      KAFKA_SSL: 'true',
      KAFKA_SASL_MECHANISM: 'scram-sha-512',
      KAFKA_SASL_USERNAME: 'u',
      KAFKA_SASL_PASSWORD_FILE: PASSWORD,
    });
    assert.ok(!JSON.stringify(config).includes('s3cret'));
  });

  it('a config made without the checks still cannot connect with a half-configured SASL', () => {
    const config = loadConfig(commonConfigSchema, { KAFKA_BROKERS: 'k:9092', KAFKA_SASL_MECHANISM: 'plain' }, []);
    assert.throws(
      () => kafkaSecurityFromConfig(config),
      (e) => e instanceof ConfigError && /KAFKA_SASL_USERNAME/.test(e.message),
    );
  });
});

describe('event signing key variables', () => {
  const schema = serviceConfigSchema({ serviceName: 'p', grpcPort: 1 }).extend(eventSigningConfigShape);
  const seed = Buffer.alloc(32, 5).toString('base64url');
  const load = (env: Record<string, string>) =>
    loadConfig(schema, { KAFKA_BROKERS: 'k:9092', ...env }, [checkEventSigningKey]);

  before(() => cryptoReady());

  it('the seed inline or from a file, base64url or base64; the key id optional', () => {
    const inline = eventSigningSeedFromConfig(
      load({ AUTHORITY_EVENT_SIGNING_KEY: seed, AUTHORITY_EVENT_SIGNING_KEY_ID: 'enf-1' }),
    );
    assert.deepEqual(inline.seed, Buffer.alloc(32, 5));
    assert.equal(inline.kid, 'enf-1');
    const f = file('seed', `${Buffer.alloc(32, 5).toString('base64')}\n`);
    const fromFile = eventSigningSeedFromConfig(load({ AUTHORITY_EVENT_SIGNING_KEY_FILE: f }));
    assert.deepEqual(fromFile.seed, Buffer.alloc(32, 5));
    assert.equal(fromFile.kid, undefined);
  });

  it('refuses a missing key, two keys, a short seed, a bad key id (never echoing the seed)', () => {
    const issues = (env: Record<string, string>) => {
      try {
        load(env);
      } catch (err) {
        assert.ok(err instanceof ConfigError);
        assert.ok(!err.message.includes(seed.slice(0, 12)), err.message);
        return new Map(err.issues.map((i) => [i.variable, i.problem]));
      }
      assert.fail('expected a ConfigError');
    };
    assert.match(issues({}).get('AUTHORITY_EVENT_SIGNING_KEY')!, /required/);
    assert.match(
      issues({ AUTHORITY_EVENT_SIGNING_KEY: seed, AUTHORITY_EVENT_SIGNING_KEY_FILE: file('s2', seed) }).get(
        'AUTHORITY_EVENT_SIGNING_KEY_FILE',
      )!,
      /not both/,
    );
    assert.match(
      issues({ AUTHORITY_EVENT_SIGNING_KEY: Buffer.alloc(31).toString('base64') }).get('AUTHORITY_EVENT_SIGNING_KEY')!,
      /32-byte Ed25519 seed/,
    );
    assert.match(
      issues({ AUTHORITY_EVENT_SIGNING_KEY_FILE: file('s3', 'short') }).get('AUTHORITY_EVENT_SIGNING_KEY_FILE')!,
      /file content: expected/,
    );
    assert.match(
      issues({ AUTHORITY_EVENT_SIGNING_KEY: seed, AUTHORITY_EVENT_SIGNING_KEY_ID: 'a.b' }).get(
        'AUTHORITY_EVENT_SIGNING_KEY_ID',
      )!,
      /A-Z a-z 0-9/,
    );
    // Without the checks (a test stack's config), the producer still refuses to start unsigned.
    const unchecked = loadConfig(schema, { KAFKA_BROKERS: 'k:9092' }, []);
    assert.throws(() => eventSigningSeedFromConfig(unchecked), /AUTHORITY_EVENT_SIGNING_KEY: required/);
  });

  it('withEventSignature signs last: the signature verifies, a replaced trace header does not break it', () => {
    const key = eventSigningKey(Buffer.alloc(32, 5), 'policy-1');
    const trusted: TrustedEventKey = { kid: 'policy-1', publicKey: key.publicKey };
    const signed = withEventSignature(
      {
        key: 'acme',
        value: Buffer.from('{"eventId":"e"}'),
        headers: { ce_id: 'e', ce_subject: 'acme', traceparent: '00-aa-bb-01', [EVENT_SIGNATURE_HEADER]: 'stale.x' },
      },
      key,
    );
    assert.match(String(signed.headers?.[EVENT_SIGNATURE_HEADER]), /^policy-1\./);
    const headers = { ...signed.headers, traceparent: '00-cc-dd-01' };
    assert.equal(verifyEventSignature({ ...signed, headers }, () => trusted).ok, true);
    assert.equal(verifyEventSignature({ ...signed, headers, key: 'globex' }, () => trusted).ok, false);
  });
});
