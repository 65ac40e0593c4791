// docs/gateway.md documents every variable of the gateway's schema with its default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { describeConfig } from '@authority/platform';
import { gatewayConfigSchema } from '../../src/config';

function repoFile(rel: string): string {
  let dir = __dirname;
  for (let i = 0; i < 8; i++) {
    if (existsSync(join(dir, rel))) return join(dir, rel);
    dir = resolve(dir, '..');
  }
  throw new Error(`${rel} not found above ${__dirname}`);
}

test('docs/gateway.md lists every gateway variable with its default', () => {
  const doc = readFileSync(repoFile('docs/gateway.md'), 'utf8');
  for (const row of describeConfig(gatewayConfigSchema)) {
    const line = doc.split('\n').find((l) => l.startsWith(`| \`${row.name}\` |`));
    assert.ok(line, `${row.name} is not documented`);
    const cells = line.split('|').map((c) => c.trim());
    assert.equal(cells[2], row.required ? 'yes' : 'no', `${row.name}: required`);
    if (row.default !== undefined) assert.equal(cells[3], `\`${row.default}\``, `${row.name}: default`);
  }
});
