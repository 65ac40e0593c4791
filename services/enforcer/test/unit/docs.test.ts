// docs/enforcer.md documents every variable of the enforcer's own schema with its default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeConfig } from '@authority/platform';
import { enforcerConfigSchema } from '../../src/config';

function repoFile(rel: string): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = resolve(dir, '..');
  }
  throw new Error(`${rel} not found above ${__dirname}`);
}

const COMMON = new Set([
  'AUTHORITY_GRPC_HOST',
  'AUTHORITY_LOG_LEVEL',
  'AUTHORITY_TOPIC_PREFIX',
  'KAFKA_BROKERS',
  'KAFKA_CLIENT_ID',
  'AUTHORITY_SHUTDOWN_GRACE',
  'AUTHORITY_TLS_CERT',
  'AUTHORITY_TLS_KEY',
  'AUTHORITY_TLS_CA',
  'AUTHORITY_REFLECTION',
  'KAFKA_SSL',
  'KAFKA_SSL_CA_FILE',
  'KAFKA_SSL_CERT_FILE',
  'KAFKA_SSL_KEY_FILE',
  'KAFKA_SASL_MECHANISM',
  'KAFKA_SASL_USERNAME',
  'KAFKA_SASL_PASSWORD',
  'KAFKA_SASL_PASSWORD_FILE',
]);

test('docs/enforcer.md lists every enforcer variable with its default', () => {
  const doc = readFileSync(repoFile('docs/enforcer.md'), 'utf8');
  for (const row of describeConfig(enforcerConfigSchema)) {
    if (COMMON.has(row.name)) continue;
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${row.name}\` |`));
    assert.ok(line, `${row.name} is not documented`);
    const cells = line.split('|').map((c) => c.trim());
    assert.equal(cells[2], row.required ? 'yes' : 'no', `${row.name}: required`);
    if (row.default !== undefined && row.name !== 'AUTHORITY_ENFORCER_ID')
      assert.equal(cells[3], `\`${row.default}\``, `${row.name}: default`);
  }
});
