import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { describe, it } from 'node:test';
import * as fc from 'fast-check';
import { z } from 'zod';
import {
  apiKeySecret,
  commonConfigSchema,
  ConfigError,
  describeConfig,
  duration,
  loadConfig,
  mongoConfigShape,
  parseDuration,
  redactedConfig,
  Secret,
  secret,
  serviceConfigSchema,
  csv,
  bool,
  port,
} from '../src';

function configError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${String(err)}`);
    return err;
  }
  assert.fail('expected a ConfigError');
}

describe('loadConfig', () => {
  it('applies defaults and parses the common variables', () => {
    const cfg = loadConfig(commonConfigSchema, { KAFKA_BROKERS: ' k1:9092 , k2:9092,' });
    assert.deepEqual(cfg.KAFKA_BROKERS, ['k1:9092', 'k2:9092']);
    assert.equal(cfg.AUTHORITY_GRPC_HOST, '0.0.0.0');
    assert.equal(cfg.AUTHORITY_GRPC_PORT, 50051);
    assert.equal(cfg.AUTHORITY_LOG_LEVEL, 'info');
    assert.equal(cfg.AUTHORITY_TOPIC_PREFIX, 'authority.');
    assert.equal(cfg.AUTHORITY_SHUTDOWN_GRACE, 10_000);
    assert.equal(cfg.AUTHORITY_REFLECTION, true);
    assert.equal(cfg.KAFKA_CLIENT_ID, undefined);
    assert.equal(cfg.AUTHORITY_TLS_CERT, undefined);
  });

  it('names EVERY bad variable with its problem and the value it got', () => {
    const err = configError(() =>
      loadConfig(commonConfigSchema, {
        AUTHORITY_GRPC_PORT: 'abc',
        AUTHORITY_SHUTDOWN_GRACE: 'soon',
        AUTHORITY_LOG_LEVEL: 'loud',
        AUTHORITY_REFLECTION: 'maybe',
        AUTHORITY_TOPIC_PREFIX: 'bad prefix',
      }),
    );
    const byVar = new Map(err.issues.map((i) => [i.variable, i.problem]));
    assert.deepEqual([...byVar.keys()].sort(), [
      'AUTHORITY_GRPC_PORT',
      'AUTHORITY_LOG_LEVEL',
      'AUTHORITY_REFLECTION',
      'AUTHORITY_SHUTDOWN_GRACE',
      'AUTHORITY_TOPIC_PREFIX',
      'KAFKA_BROKERS',
    ]);
    assert.match(err.message, /AUTHORITY_GRPC_PORT: expected an integer 1-65535, got "abc"/);
    assert.equal(byVar.get('KAFKA_BROKERS'), 'required but not set');
    assert.match(byVar.get('AUTHORITY_SHUTDOWN_GRACE')!, /duration.*got "soon"/);
    assert.match(byVar.get('AUTHORITY_REFLECTION')!, /true, false, 1 or 0, got "maybe"/);
    // One line per issue after the header.
    assert.equal(err.message.split('\n').length, 1 + err.issues.length);
  });

  it('rejects out-of-range ports and accepts the bounds', () => {
    for (const bad of ['0', '65536', '-1', '80.5', '1e3', ' ']) {
      const err = configError(() => loadConfig(z.object({ P: port() }), { P: bad }));
      assert.equal(err.issues[0]!.variable, 'P', bad);
    }
    assert.equal(loadConfig(z.object({ P: port() }), { P: '65535' }).P, 65535);
    assert.equal(loadConfig(z.object({ P: port({ allowEphemeral: true }) }), { P: '0' }).P, 0);
  });

  it('treats empty strings as unset', () => {
    const err = configError(() => loadConfig(commonConfigSchema, { KAFKA_BROKERS: '' }));
    assert.deepEqual(err.issues, [{ variable: 'KAFKA_BROKERS', problem: 'required but not set' }]);
    const cfg = loadConfig(commonConfigSchema, { KAFKA_BROKERS: 'k:1', AUTHORITY_LOG_LEVEL: '' });
    assert.equal(cfg.AUTHORITY_LOG_LEVEL, 'info');
  });

  it('never echoes a secret value', () => {
    const schema = z.object({ KEY: secret().describe('a key') });
    const err = configError(() => loadConfig(schema, { KEY: '   ' }));
    assert.equal(err.issues[0]!.variable, 'KEY');
    assert.doesNotMatch(err.message, /got/);
    const cfg = loadConfig(schema, { KEY: 'hunter2-hunter2' });
    assert.ok(cfg.KEY instanceof Secret);
    assert.equal(cfg.KEY.reveal(), 'hunter2-hunter2');
    assert.equal(String(cfg.KEY), '[redacted]');
    assert.equal(JSON.stringify({ k: cfg.KEY }), '{"k":"[redacted]"}');
    assert.doesNotMatch(inspect(cfg), /hunter2/);
    assert.deepEqual(redactedConfig(schema, cfg), { KEY: '[redacted]' });
  });

  it('refuses an API key shorter than 16 characters, without echoing it', () => {
    const schema = z.object({ AUTHORITY_OPERATOR_API_KEY: apiKeySecret() });
    const err = configError(() => loadConfig(schema, { AUTHORITY_OPERATOR_API_KEY: 'x' }));
    assert.equal(err.issues[0]!.variable, 'AUTHORITY_OPERATOR_API_KEY');
    assert.match(err.issues[0]!.problem, /at least 16 characters/);
    assert.doesNotMatch(err.message, /got/);
    assert.throws(() => loadConfig(schema, { AUTHORITY_OPERATOR_API_KEY: '0123456789abcde' }));
    const ok = loadConfig(schema, { AUTHORITY_OPERATOR_API_KEY: '0123456789abcdef' });
    assert.equal(ok.AUTHORITY_OPERATOR_API_KEY.reveal(), '0123456789abcdef');
  });

  it('composes: services extend the common schema (MONGODB_URI required where used)', () => {
    const issuer = serviceConfigSchema({ serviceName: 'issuer', grpcPort: 50061 }).extend(mongoConfigShape);
    const err = configError(() => loadConfig(issuer, { KAFKA_BROKERS: 'k:1' }));
    assert.deepEqual(err.issues, [{ variable: 'MONGODB_URI', problem: 'required but not set' }]);
    const cfg = loadConfig(issuer, { KAFKA_BROKERS: 'k:1', MONGODB_URI: 'mongodb://u:pw@h/db' });
    assert.equal(cfg.AUTHORITY_SERVICE_NAME, 'issuer');
    assert.equal(cfg.AUTHORITY_GRPC_PORT, 50061);
    assert.equal(cfg.MONGODB_URI.reveal(), 'mongodb://u:pw@h/db');
    assert.doesNotMatch(JSON.stringify(redactedConfig(issuer, cfg)), /pw/);
  });

  it('checks TLS files exist and come as a pair', () => {
    const dir = mkdtempSync(join(tmpdir(), 'platform-tls-'));
    const cert = join(dir, 'cert.pem');
    writeFileSync(cert, 'x');
    const missing = configError(() =>
      loadConfig(commonConfigSchema, { KAFKA_BROKERS: 'k:1', AUTHORITY_TLS_CERT: join(dir, 'nope.pem') }),
    );
    assert.deepEqual(
      missing.issues.map((i) => i.variable),
      ['AUTHORITY_TLS_CERT'],
    );
    assert.match(missing.message, /file not found/);
    const unpaired = configError(() =>
      loadConfig(commonConfigSchema, { KAFKA_BROKERS: 'k:1', AUTHORITY_TLS_CERT: cert }),
    );
    assert.deepEqual(unpaired.issues, [
      { variable: 'AUTHORITY_TLS_KEY', problem: 'required when AUTHORITY_TLS_CERT is set' },
    ]);
    const ok = loadConfig(commonConfigSchema, {
      KAFKA_BROKERS: 'k:1',
      AUTHORITY_TLS_CERT: cert,
      AUTHORITY_TLS_KEY: cert,
    });
    assert.equal(ok.AUTHORITY_TLS_KEY, cert);
  });

  it('csv and bool helpers', () => {
    const s = z.object({ L: csv(), B: bool() });
    assert.deepEqual(loadConfig(s, { L: 'a', B: 'TRUE' }), { L: ['a'], B: true });
    assert.deepEqual(loadConfig(s, { L: 'a,b', B: '0' }), { L: ['a', 'b'], B: false });
    const err = configError(() => loadConfig(s, { L: ' , ', B: 'yes' }));
    assert.deepEqual(
      err.issues.map((i) => i.variable),
      ['L', 'B'],
    );
  });
});

describe('duration', () => {
  it('parses units and bare milliseconds', () => {
    assert.equal(parseDuration('250ms'), 250);
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('1500'), 1500);
    assert.equal(parseDuration(' 2s '), 2000);
    assert.equal(parseDuration('0'), 0);
  });

  it('rejects everything else', () => {
    for (const bad of ['', 's', '1.5s', '-1s', '1w', '5 m', '1h30m', '10S', 'abc', '99999999999999999999d']) {
      assert.equal(parseDuration(bad), undefined, bad);
    }
  });

  it('round-trips every unit (property)', () => {
    const units = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 1_000_000 }),
        fc.constantFrom(...(Object.keys(units) as (keyof typeof units)[])),
        (n, unit) => {
          assert.equal(parseDuration(`${n}${unit}`), n * units[unit]);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('is a zod field yielding milliseconds', () => {
    assert.equal(loadConfig(z.object({ D: duration() }), { D: '90s' }).D, 90_000);
  });
});

describe('describeConfig', () => {
  it('lists name, default, required, secret and description of every variable', () => {
    const rows = describeConfig(commonConfigSchema.extend(mongoConfigShape));
    const byName = new Map(rows.map((r) => [r.name, r]));
    assert.deepEqual(byName.get('AUTHORITY_GRPC_HOST'), {
      name: 'AUTHORITY_GRPC_HOST',
      required: false,
      secret: false,
      default: '0.0.0.0',
      description: 'Address the gRPC server binds to.',
    });
    assert.equal(byName.get('AUTHORITY_SHUTDOWN_GRACE')!.default, '10s');
    assert.equal(byName.get('AUTHORITY_TOPIC_PREFIX')!.default, 'authority.');
    assert.equal(byName.get('KAFKA_BROKERS')!.required, true);
    assert.equal(byName.get('KAFKA_CLIENT_ID')!.required, false);
    assert.equal(byName.get('MONGODB_URI')!.secret, true);
    assert.equal(byName.get('MONGODB_URI')!.required, true);
    for (const row of rows) assert.ok(row.description.length > 10, `${row.name} has a description`);
  });
});
