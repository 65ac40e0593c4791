// The editor schema (packages/core/schema/policy.schema.json) must list exactly the keys the
// loader accepts: the loader's table (POLICY_KEYS) and the constraints parser are the truth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { parseConstraints } from '../src/constraints';
import { AuthorityError } from '../src/errors';
import { POLICY_KEYS, SENSITIVITY_LEVELS, parsePolicy, type PolicyMappingKind } from '../src/policy';

interface SchemaObject {
  properties?: Record<string, unknown>;
  additionalProperties?: unknown;
  required?: string[];
  enum?: unknown[];
}

const schema = JSON.parse(
  readFileSync(resolve(__dirname, '../../schema/policy.schema.json'), 'utf8'),
) as SchemaObject & {
  $schema: string;
  $defs: Record<string, SchemaObject>;
};

const SCHEMA_LOCATION: Record<PolicyMappingKind, SchemaObject | undefined> = {
  document: schema,
  dataClassification: schema.$defs['dataClassification'],
  role: schema.$defs['role'],
  agent: schema.$defs['agent'],
  denyRule: schema.$defs['denyRule'],
};

test('the schema is JSON Schema 2020-12 and closed wherever the loader is strict', () => {
  assert.equal(schema.$schema, 'https://json-schema.org/draft/2020-12/schema');
  for (const [kind, where] of Object.entries(SCHEMA_LOCATION)) {
    assert.ok(where, `schema has no definition for ${kind}`);
    assert.equal(where.additionalProperties, false, `${kind} must refuse unknown keys`);
  }
  assert.equal(schema.$defs['constraints']?.additionalProperties, false);
  assert.deepEqual(schema.required, ['organization']);
});

test('the schema lists exactly the keys the loader accepts', () => {
  for (const [kind, keys] of Object.entries(POLICY_KEYS) as [PolicyMappingKind, readonly string[]][]) {
    const where = SCHEMA_LOCATION[kind];
    assert.deepEqual(Object.keys(where?.properties ?? {}).sort(), [...keys].sort(), `keys of ${kind}`);
  }
  const sensitivity = schema.$defs['dataClassification']?.properties?.['sensitivity'] as SchemaObject;
  assert.deepEqual(sensitivity.enum, [...SENSITIVITY_LEVELS]);
});

test("the schema's constraint keys are exactly those the constraints parser accepts", () => {
  const sample: Record<string, unknown> = {
    require_purpose: true,
    denied_resources: ['x/*'],
    max_records_per_request: 5,
    max_records: 5,
    write_requires_approval: true,
    require_approval: true,
    unconstrained: true,
  };
  const schemaKeys = Object.keys(schema.$defs['constraints']?.properties ?? {}).sort();
  assert.deepEqual(schemaKeys, Object.keys(sample).sort());
  for (const key of schemaKeys) {
    assert.doesNotThrow(() => parseConstraints({ [key]: sample[key] }, 'INVALID_REQUEST', 'c'), key);
  }
  assert.throws(() => parseConstraints({ rate_limit: 1 }, 'INVALID_REQUEST', 'c'), AuthorityError);
});

test('every key in the schema is accepted by the loader in a real document', () => {
  const policy = parsePolicy(`
version: 3
organization: Acme
tenant: acme
compliance_frameworks: [SOC2]
data_classifications:
  d: {sensitivity: internal, pii_fields: [email], retention_days: 30, description: d}
roles:
  r: {description: r, scopes: [a:b]}
agents:
  x:
    description: x
    scopes: [c:d]
    roles: [r]
    resources: ["slos://vaults/d/*"]
    constraints: {require_purpose: true}
    denied_resources: ["slos://vaults/d/secret/*"]
    max_ttl: 2h
deny:
  - {agents: [x], scopes: [a:b], resources: ["slos://vaults/d/x"], description: no}
`);
  assert.equal(policy.agents.get('x')?.maxTtlSeconds, 7200);
});
