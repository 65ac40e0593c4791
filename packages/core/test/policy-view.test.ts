import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { PolicyEntry } from '../src/check/types';
import { parseConstraints, type Constraints } from '../src/constraints';
import { checkMintAgainstPolicy, parsePolicy, policyDenies, policyViewFor, summarizePolicyDiff } from '../src/policy';

const ferpa = parsePolicy(readFileSync(resolve(__dirname, '../../test/fixtures/ferpa-policy.yaml'), 'utf8'));
const c = (raw: Record<string, unknown>): Constraints => parseConstraints(raw, 'INVALID_REQUEST', 'constraints');

const superset = parsePolicy(`
organization: Acme
version: 7
roles:
  reader: {scopes: ["vault:*:read"]}
agents:
  bot:
    roles: [reader]
    scopes: [vault:finance:write]
    resources: ["slos://vaults/*"]
    max_ttl: 1h
  other:
    scopes: [vault:finance:read]
deny:
  - agents: ["*"]
    scopes: ["vault:*:delete"]
  - agents: [bot]
    scopes: ["vault:hr:read"]
    description: bot never reads HR
  - agents: [other]
    resources: ["slos://vaults/finance/payroll/*"]
`);

test('policyViewFor returns the agent bounds, undefined for an unknown agent', () => {
  const view = policyViewFor(ferpa, 'academic-advisor');
  assert.ok(view);
  assert.deepEqual(view.scopes, ['vault:student-records:read']);
  assert.deepEqual(view.resources, ['slos://vaults/student-records/*']);
  assert.equal(view.constraints.maxRecordsPerRequest, 50);
  assert.deepEqual(view.deniedResources, ['slos://vaults/student-health/*', 'slos://vaults/financial-aid/*']);
  assert.equal(view.version, '1.0');
  assert.equal(view.maxTtlSeconds, undefined);
  assert.equal(policyViewFor(superset, 'bot')?.maxTtlSeconds, 3600);
  assert.equal(policyViewFor(ferpa, 'nobody'), undefined);
  // Compile-time: the view serves as the check engine's policy entry as it is.
  const entry: PolicyEntry = view;
  assert.equal(entry.scopes, view.scopes);
});

test('policyDenies applies explicit deny rules', () => {
  assert.equal(policyDenies(superset, 'bot', 'vault:finance:read', 'slos://vaults/finance/q1'), undefined);
  const del = policyDenies(superset, 'other', 'vault:finance:delete', 'slos://vaults/finance/q1');
  assert.equal(del?.reason, 'POLICY_DENIED');
  assert.match(del?.message ?? '', /deny rule 0 denies agent 'other' scope 'vault:finance:delete'/);
  assert.match(
    policyDenies(superset, 'bot', 'vault:hr:read', 'slos://vaults/hr/x')?.message ?? '',
    /deny rule 1 \(bot never reads HR\)/,
  );
  // Rule 1 names only bot.
  assert.equal(policyDenies(superset, 'other', 'vault:hr:read', 'slos://vaults/hr/x'), undefined);
  // Resource rule: globs match, other resources pass.
  assert.match(
    policyDenies(superset, 'other', 'vault:finance:read', 'slos://vaults/finance/payroll/2024/jan')?.message ?? '',
    /deny rule 2/,
  );
  assert.equal(policyDenies(superset, 'other', 'vault:finance:read', 'slos://vaults/finance/budget'), undefined);
  // Fail closed: a resource rule matches a request without a resource, or with one too long to check.
  assert.match(
    policyDenies(superset, 'other', 'vault:finance:read')?.message ?? '',
    /restricts resources, and the request names none/,
  );
  assert.match(
    policyDenies(superset, 'other', 'vault:finance:read', `slos://${'x'.repeat(5000)}`)?.message ?? '',
    /too long to check/,
  );
  // An agent the policy does not name has no bounds.
  assert.equal(
    policyDenies(superset, 'stranger', 'vault:finance:read', 'slos://vaults/finance/q1')?.reason,
    'POLICY_DENIED',
  );
});

test('checkMintAgainstPolicy accepts requests within the policy', () => {
  const view = policyViewFor(ferpa, 'academic-advisor');
  assert.ok(view);
  assert.equal(
    checkMintAgainstPolicy(ferpa, 'academic-advisor', {
      scopes: ['vault:student-records:read'],
      resources: ['slos://vaults/student-records/2024/*'],
      constraints: c({
        require_purpose: true,
        max_records: 10,
        denied_resources: [...view.deniedResources, 'slos://x/*'],
      }),
      ttlSeconds: 3600,
    }),
    undefined,
  );
  // A wildcard policy scope covers a narrower request; the role's scope counts.
  assert.equal(
    checkMintAgainstPolicy(superset, 'bot', {
      scopes: ['vault:finance:read', 'vault:*:read'],
      resources: ['slos://vaults/finance/*'],
      constraints: c({ unconstrained: true }),
      ttlSeconds: 3600,
    }),
    undefined,
  );
});

test('checkMintAgainstPolicy names the first excess', () => {
  const okConstraints = c({
    require_purpose: true,
    max_records_per_request: 50,
    denied_resources: ['slos://vaults/student-health/*', 'slos://vaults/financial-aid/*'],
  });
  const base = {
    scopes: ['vault:student-records:read'],
    resources: ['slos://vaults/student-records/*'],
    constraints: okConstraints,
    ttlSeconds: 600,
  };
  const check = (patch: Partial<typeof base>) =>
    checkMintAgainstPolicy(ferpa, 'academic-advisor', { ...base, ...patch });
  assert.equal(check({}), undefined);

  const scope = check({ scopes: ['vault:student-records:read', 'vault:student-records:write'] });
  assert.equal(scope?.field, 'scopes[1]');
  assert.match(
    scope?.message ?? '',
    /scope 'vault:student-records:write' is outside the policy for agent 'academic-advisor'/,
  );
  // A wildcard request is broader than the concrete policy scope.
  assert.equal(check({ scopes: ['vault:*:read'] })?.field, 'scopes[0]');

  const resource = check({ resources: ['slos://vaults/*'] });
  assert.equal(resource?.field, 'resources[0]');
  assert.match(resource?.message ?? '', /resource pattern 'slos:\/\/vaults\/\*' is outside the policy/);

  assert.equal(
    check({ constraints: c({ max_records_per_request: 50, denied_resources: okConstraints.deniedResources }) })?.field,
    'constraints.require_purpose',
  );
  assert.equal(
    check({
      constraints: c({
        require_purpose: true,
        max_records_per_request: 500,
        denied_resources: okConstraints.deniedResources,
      }),
    })?.field,
    'constraints.max_records_per_request',
  );
  assert.equal(
    check({ constraints: c({ require_purpose: true, max_records_per_request: 50 }) })?.field,
    'constraints.denied_resources',
  );

  assert.equal(checkMintAgainstPolicy(ferpa, 'ghost', base)?.field, 'agent');
  assert.equal(check({ ttlSeconds: Number.NaN })?.field, 'ttl_seconds');
});

test('checkMintAgainstPolicy enforces max_ttl and resource-independent deny rules', () => {
  const req = {
    scopes: ['vault:finance:write'],
    resources: ['slos://vaults/finance/*'],
    constraints: c({ unconstrained: true }),
    ttlSeconds: 3600,
  };
  assert.equal(checkMintAgainstPolicy(superset, 'bot', req), undefined);
  const ttl = checkMintAgainstPolicy(superset, 'bot', { ...req, ttlSeconds: 3601 });
  assert.deepEqual(ttl, { field: 'ttl_seconds', message: "ttl 3601s exceeds max_ttl 3600s for agent 'bot'" });
  // vault:hr:read is inside vault:*:read (role) but always denied to bot: refused at mint.
  const denied = checkMintAgainstPolicy(superset, 'bot', { ...req, scopes: ['vault:finance:read', 'vault:hr:read'] });
  assert.equal(denied?.field, 'scopes[1]');
  assert.match(denied?.message ?? '', /denied to agent 'bot' by deny rule 1/);
  // A broader request that is only partly denied is allowed at mint (checked per request).
  assert.equal(checkMintAgainstPolicy(superset, 'bot', { ...req, scopes: ['vault:*:read'] }), undefined);
});

test('summarizePolicyDiff lists agents and scopes added and removed', () => {
  const before = parsePolicy(`
organization: Acme
version: 1
agents:
  a: {scopes: [vault:x:read, vault:y:read]}
  b: {scopes: [vault:x:read]}
`);
  const after = parsePolicy(`
organization: Acme
version: 2
agents:
  a: {scopes: [vault:x:read, vault:z:read], max_ttl: 10m, constraints: {require_purpose: true}}
  c: {scopes: [audit:read]}
`);
  const summary = summarizePolicyDiff(before, after);
  assert.equal(
    summary,
    [
      'version 1 -> 2',
      'agents added: c',
      'agents removed: b',
      'agent a: scopes added: vault:z:read; scopes removed: vault:y:read; constraints {"unconstrained":true} -> {"require_purpose":true}; max_ttl none -> 600',
    ].join('\n'),
  );
  assert.equal(summarizePolicyDiff(after, after), 'no changes');
  assert.equal(summarizePolicyDiff(undefined, after), 'first policy (version 2): 2 agent(s): a, c');
});

test("summarizePolicyDiff names a change of the tenant's read_only_actions", () => {
  const base = 'organization: Acme\nagents:\n  a: {scopes: [vault:x:read]}\n';
  const plain = parsePolicy(base);
  const custom = parsePolicy(`read_only_actions: [read, export]\n${base}`);
  assert.equal(summarizePolicyDiff(plain, custom), 'read_only_actions default -> [read, export]');
  assert.equal(
    summarizePolicyDiff(custom, parsePolicy(`read_only_actions: []\n${base}`)),
    'read_only_actions [read, export] -> []',
  );
  assert.equal(summarizePolicyDiff(custom, custom), 'no changes');
});
