// The JSON Schemas of the public topics' records (docs/schemas, see docs/audit-topic.md) are what
// scripts/event-schemas.mjs generates from the proto: a proto change without regenerating fails here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pb } from '../src';

const repoRoot = resolve(__dirname, '../../../..');

test('docs/schemas is current with proto/authority/v1', () => {
  const res = spawnSync(process.execPath, [resolve(repoRoot, 'scripts/event-schemas.mjs'), '--check'], {
    encoding: 'utf8',
  });
  assert.equal(res.status, 0, `${res.stdout}${res.stderr}`);
});

test('the audit event schema names every AuditEvent field by its proto3 JSON name', () => {
  const schema = JSON.parse(readFileSync(resolve(repoRoot, 'docs/schemas/audit-event.schema.json'), 'utf8')) as {
    properties: Record<string, unknown>;
  };
  assert.deepEqual(
    Object.keys(schema.properties),
    pb.AuditEventSchema.fields.map((f) => f.jsonName),
  );
});
