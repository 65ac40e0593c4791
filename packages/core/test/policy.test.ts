// The policy format: parsing, validation issues and the tenant view (src/policy).
// Size: one test per rule of the format, each a few lines of YAML and the issue it must give.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { AuthorityError } from '../src/errors';
import {
  PolicyValidationError,
  parsePolicy,
  parsePolicyDuration,
  policyValidationToAuthorityError,
  type PolicyIssue,
} from '../src/policy';
import { tenantPolicyFrom } from '../src/check';
import { issuesOf, y } from './policy-documents';

const FIXTURE = resolve(__dirname, '../../test/fixtures/ferpa-policy.yaml');

/** Asserts exactly one issue, at this path and position, whose message matches. */
function expectOnly(
  text: string,
  path: string,
  line: number,
  column: number,
  message: RegExp,
  opts?: Parameters<typeof parsePolicy>[1],
): void {
  const issues = issuesOf(text, opts);
  assert.equal(issues.length, 1, `issues: ${JSON.stringify(issues, null, 1)}`);
  const [issue] = issues as [PolicyIssue];
  assert.deepEqual({ path: issue.path, line: issue.line, column: issue.column }, { path, line, column });
  assert.match(issue.message, message);
}

test('the original FERPA/edtech-format policy loads unchanged', () => {
  const policy = parsePolicy(readFileSync(FIXTURE, 'utf8'));
  assert.equal(policy.version, '1.0');
  assert.equal(policy.organization, 'Lakeside Community College');
  assert.equal(policy.tenant, undefined);
  assert.deepEqual(policy.complianceFrameworks, ['FERPA']);
  assert.deepEqual([...policy.dataClassifications.keys()], ['student-records', 'student-health', 'financial-aid']);
  for (const c of policy.dataClassifications.values()) assert.equal(c.retentionDays, 2555);
  assert.equal(policy.dataClassifications.get('student-health')?.sensitivity, 'restricted');
  assert.equal(policy.dataClassifications.get('student-records')?.sensitivity, 'confidential');
  assert.deepEqual(policy.dataClassifications.get('financial-aid')?.piiFields, [
    'ssn',
    'household_income',
    'bank_account',
    'tax_returns',
  ]);
  assert.deepEqual(
    [...policy.agents.keys()],
    ['academic-advisor', 'financial-aid-agent', 'registrar-agent', 'ferpa-auditor'],
  );

  const advisor = policy.agents.get('academic-advisor');
  assert.ok(advisor);
  assert.deepEqual(advisor.scopes, ['vault:student-records:read']);
  assert.deepEqual(advisor.resources, ['slos://vaults/student-records/*']);
  assert.deepEqual(advisor.constraints, {
    requirePurpose: true,
    deniedResources: ['slos://vaults/student-health/*', 'slos://vaults/financial-aid/*'],
    maxRecordsPerRequest: 50,
    writeRequiresApproval: false,
    unconstrained: false,
  });
  assert.deepEqual(advisor.deniedResources, advisor.constraints.deniedResources);
  assert.equal(advisor.maxTtlSeconds, undefined);

  const aid = policy.agents.get('financial-aid-agent');
  assert.equal(aid?.constraints.writeRequiresApproval, true);
  assert.equal(aid?.constraints.requirePurpose, true);

  // No `constraints` key: the original's "unconstrained" default, tightened by denied_resources.
  const registrar = policy.agents.get('registrar-agent');
  assert.deepEqual(registrar?.constraints, {
    requirePurpose: false,
    deniedResources: ['slos://vaults/student-health/*'],
    writeRequiresApproval: false,
    unconstrained: false,
  });

  const auditor = policy.agents.get('ferpa-auditor');
  assert.deepEqual(auditor?.scopes, [
    'vault:student-records:read',
    'vault:financial-aid:read',
    'vault:student-health:read',
    'audit:read',
  ]);
  assert.deepEqual(auditor?.resources, ['slos://vaults/*']);
  assert.equal(policy.denyRules.length, 0);
  assert.equal(policy.roles.size, 0);
});

test('defaults: version "1.0", resources slos://vaults/*, unconstrained without constraints', () => {
  const p = parsePolicy(y('organization: Acme', 'agents:', '  bot:', '    scopes: [vault:a:read]'));
  assert.equal(p.version, '1.0');
  const bot = p.agents.get('bot');
  assert.deepEqual(bot?.resources, ['slos://vaults/*']);
  assert.equal(bot?.constraints.unconstrained, true);
  assert.deepEqual(bot?.constraints.deniedResources, []);
});

test('version keeps the text it was written as', () => {
  const v = (text: string) => parsePolicy(y(`version: ${text}`, 'organization: Acme')).version;
  assert.equal(v('1.0'), '1.0');
  assert.equal(v('2'), '2');
  assert.equal(v('"2024-06"'), '2024-06');
  assert.equal(v('1.10'), '1.10');
});

test('a policy with no agents loads (and grants nothing)', () => {
  assert.equal(parsePolicy(y('organization: Acme')).agents.size, 0);
  assert.equal(parsePolicy(y('organization: Acme', 'agents: {}')).agents.size, 0);
});

test('superset: tenant, roles, max_ttl and deny rules', () => {
  const p = parsePolicy(
    y(
      'organization: Acme',
      'tenant: acme',
      'roles:',
      '  reader:',
      '    description: read the finance vault',
      '    scopes: [vault:finance:read, vault:finance:list]',
      'agents:',
      '  bot:',
      '    roles: [reader]',
      '    scopes: [audit:read, vault:finance:read]',
      '    max_ttl: 5m',
      '  helper:',
      '    roles: [reader]',
      'deny:',
      '  - agents: ["*"]',
      '    scopes: ["vault:*:delete"]',
      '    description: nobody deletes',
      '  - agents: [bot]',
      '    resources: ["slos://vaults/finance/payroll/*"]',
    ),
    { expectedTenant: 'acme' },
  );
  assert.equal(p.tenant, 'acme');
  const bot = p.agents.get('bot');
  assert.deepEqual(bot?.ownScopes, ['audit:read', 'vault:finance:read']);
  assert.deepEqual(bot?.scopes, ['audit:read', 'vault:finance:read', 'vault:finance:list']);
  assert.deepEqual(bot?.roles, ['reader']);
  assert.equal(bot?.maxTtlSeconds, 300);
  assert.deepEqual(p.agents.get('helper')?.scopes, ['vault:finance:read', 'vault:finance:list']);
  assert.deepEqual(p.roles.get('reader')?.description, 'read the finance vault');
  assert.deepEqual(p.denyRules, [
    { index: 0, agents: ['*'], scopes: ['vault:*:delete'], description: 'nobody deletes' },
    { index: 1, agents: ['bot'], resources: ['slos://vaults/finance/payroll/*'], description: '' },
  ]);
});

test("max_ttl accepts seconds and the CLI's durations within 60 s - 24 h", () => {
  const ttl = (v: string) =>
    parsePolicy(y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', `    max_ttl: ${v}`)).agents.get('a')
      ?.maxTtlSeconds;
  assert.equal(ttl('90s'), 90);
  assert.equal(ttl('60'), 60);
  assert.equal(ttl('3600'), 3600);
  assert.equal(ttl('24h'), 86_400);
  assert.equal(ttl('1440m'), 86_400);
  assert.equal(parsePolicyDuration('7h'), 25_200);
  // The CLI's grammar: days and compound durations parse (the 24 h cap is checked by the loader).
  assert.equal(parsePolicyDuration('2d'), 172_800);
  assert.equal(parsePolicyDuration('1h30m'), 5_400);
  assert.match(String(parsePolicyDuration('soon')), /duration like 90s, 5m, 24h, 1d, 1h30m/);
  assert.match(String(parsePolicyDuration(1.5)), /whole number/);
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    max_ttl: 25h'),
    'agents.a.max_ttl',
    5,
    14,
    /between 60s and 24h .*90000 seconds/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    max_ttl: 59'),
    'agents.a.max_ttl',
    5,
    14,
    /between 60s and 24h/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    max_ttl: 2d'),
    'agents.a.max_ttl',
    5,
    14,
    /between 60s and 24h .*172800 seconds/,
  );
  // Bare seconds as text read as they do on the command line (`--ttl 3600`).
  assert.equal(ttl('"3600"'), 3600);
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    max_ttl: soon'),
    'agents.a.max_ttl',
    5,
    14,
    /got "soon"/,
  );
});

test('unknown keys are refused where the original ignored them', () => {
  // The original's documentation example used `clearance` and `rate_limit`, which it ignored.
  expectOnly(
    y('organization: A', 'clearance: high'),
    'clearance',
    2,
    1,
    /unknown key 'clearance' in the policy; allowed keys: version, organization/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    rate_limit: 10'),
    'agents.a.rate_limit',
    5,
    5,
    /unknown key 'rate_limit' in agent 'a'.*the original ignored them/,
  );
  expectOnly(
    y('organization: A', 'roles:', '  r:', '    scopes: [a:b]', '    scope: [c:d]'),
    'roles.r.scope',
    5,
    5,
    /unknown key 'scope' in role 'r'/,
  );
  expectOnly(
    y('organization: A', 'data_classifications:', '  pii:', '    sensitivity: restricted', '    retention: 30'),
    'data_classifications.pii.retention',
    5,
    5,
    /unknown key 'retention' in data classification 'pii'/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a: {scopes: [a:b]}', 'deny:', '  - agents: [a]', '    scope: [a:b]'),
    'deny[0].scope',
    6,
    5,
    /unknown key 'scope' in deny rule 0/,
  );
  expectOnly(y('organization: A', '<<: {agents: {}}'), '["<<"]', 2, 1, /merge keys \(<<\) are not supported/);
});

test('unknown and invalid constraints name the key', () => {
  expectOnly(
    y(
      'organization: A',
      'agents:',
      '  a:',
      '    scopes: [a:b]',
      '    constraints:',
      '      require_purpose: true',
      '      max_amount: 5',
    ),
    'agents.a.constraints.max_amount',
    7,
    7,
    /unknown constraint 'max_amount'/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    constraints: {require_purpose: yes}'),
    'agents.a.constraints.require_purpose',
    5,
    36,
    /'require_purpose' .* must be a boolean, got "yes"/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    constraints: {}'),
    'agents.a.constraints',
    5,
    18,
    /empty constraints .*unconstrained: true/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    constraints:'),
    'agents.a.constraints',
    5,
    5,
    /must be an object, got null/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    constraints: {max_records: 0}'),
    'agents.a.constraints.max_records',
    5,
    32,
    /positive integer/,
  );
});

test('scope syntax is checked (the original did not)', () => {
  expectOnly(
    y(
      'organization: A',
      'agents:',
      '  academic-advisor:',
      '    scopes:',
      '      - vault:student-records:read',
      '      - "vault:: read"',
    ),
    'agents.academic-advisor.scopes[1]',
    6,
    9,
    /invalid scope "vault:: read"/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [read]'),
    'agents.a.scopes[0]',
    4,
    14,
    /invalid scope "read"/,
  );
  expectOnly(
    y('organization: A', 'roles:', '  r:', '    scopes: ["a b:c"]'),
    'roles.r.scopes[0]',
    4,
    14,
    /invalid scope/,
  );
});

test('wrong types are refused with the type found', () => {
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: vault:a:read'),
    'agents.a.scopes',
    4,
    13,
    /scopes must be a list, got the string "vault:a:read"/,
  );
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b, 42]'),
    'agents.a.scopes[1]',
    4,
    19,
    /must be a string, got the number 42/,
  );
  expectOnly(y('organization: 42'), 'organization', 1, 15, /organization must be a string, got the number 42/);
  expectOnly(
    y('organization: A', 'data_classifications:', '  pii:', '    retention_days: "7 years"'),
    'data_classifications.pii.retention_days',
    4,
    21,
    /retention_days must be an integer/,
  );
  expectOnly(
    y('organization: A', 'data_classifications:', '  pii:', '    sensitivity: secret'),
    'data_classifications.pii.sensitivity',
    4,
    18,
    /one of internal, confidential, restricted; got "secret"/,
  );
  expectOnly(y('organization: A', 'compliance_frameworks: FERPA'), 'compliance_frameworks', 2, 24, /must be a list/);
  expectOnly(y('organization: A', 'agents: [a, b]'), 'agents', 2, 9, /agents must be a mapping, got a list/);
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    resources: []'),
    'agents.a.resources',
    5,
    16,
    /resources must not be empty/,
  );
});

test('an agent that grants nothing is refused', () => {
  expectOnly(
    y('organization: A', 'agents:', '  idle:', '    description: nothing to do'),
    'agents.idle',
    3,
    3,
    /agent 'idle' grants nothing/,
  );
  expectOnly(y('organization: A', 'agents:', '  idle:', '    scopes: []'), 'agents.idle', 3, 3, /grants nothing/);
});

test('null sections are errors, not crashes', () => {
  expectOnly(y('organization: A', 'agents:'), 'agents', 2, 1, /agents must be a mapping, got null/);
  expectOnly(y('organization: A', 'agents:', '  a:'), 'agents.a', 3, 3, /agent 'a' must be a mapping, got null/);
  expectOnly(
    y('organization: A', 'data_classifications:'),
    'data_classifications',
    2,
    1,
    /must be a mapping, got null/,
  );
  expectOnly(y('organization: A', 'data_classifications:', '  pii: ~'), 'data_classifications.pii', 3, 8, /got null/);
  expectOnly(y('organization: A', 'roles:'), 'roles', 2, 1, /roles must be a mapping, got null/);
  expectOnly(y('organization: A', 'deny:'), 'deny', 2, 1, /deny must be a list, got null/);
  // The original turned `version: null` into the string "None" and accepted it.
  expectOnly(y('version: null', 'organization: A'), 'version', 1, 10, /version must be a string or number, got null/);
  expectOnly(y('version:', 'organization: A'), 'version', 1, 1, /got null/);
});

test('organization is required and non-empty', () => {
  expectOnly(y('version: 1'), '', 1, 1, /missing 'organization'/);
  expectOnly(y('organization: "  "'), 'organization', 1, 15, /must not be empty/);
});

test('duplicate keys are refused at the second occurrence', () => {
  expectOnly(
    y('organization: A', 'agents:', '  a: {scopes: [a:b]}', '  a: {scopes: [c:d]}'),
    '',
    4,
    3,
    /duplicate key 'a'/,
  );
  expectOnly(y('organization: A', 'organization: B'), '', 2, 1, /duplicate key 'organization'/);
});

test('empty, non-mapping and multi-document inputs', () => {
  expectOnly('', '', 1, 1, /policy is empty/);
  expectOnly('# only a comment\n', '', 1, 1, /policy is empty/);
  expectOnly(y('- organization: A'), '', 1, 1, /a policy must be a mapping, got a list/);
  expectOnly(y('just text'), '', 1, 1, /a policy must be a mapping, got the string "just text"/);
  expectOnly(y('organization: A', '---', 'organization: B'), '', 2, 1, /more than one YAML document/);
});

test('roles: unknown names and empty roles are refused', () => {
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    roles: [reader]'),
    'agents.a.roles[0]',
    4,
    13,
    /unknown role "reader" \(the policy defines no roles\)/,
  );
  expectOnly(
    y('organization: A', 'roles:', '  writer: {scopes: [a:w]}', 'agents:', '  a:', '    roles: [writer, reader]'),
    'agents.a.roles[1]',
    6,
    21,
    /unknown role "reader" \(defined roles: writer\)/,
  );
  expectOnly(y('organization: A', 'roles:', '  r:', '    description: x'), 'roles.r', 3, 3, /role 'r' has no 'scopes'/);
  expectOnly(y('organization: A', 'roles:', '  r:', '    scopes: []'), 'roles.r.scopes', 4, 13, /empty scopes list/);
});

test('deny rules: agents must exist, lists must not be empty', () => {
  const base = ['organization: A', 'agents:', '  a: {scopes: [a:b]}', 'deny:'];
  expectOnly(y(...base, '  - agents: [a, ghost]'), 'deny[0].agents[1]', 5, 17, /unknown agent "ghost"/);
  expectOnly(y(...base, '  - scopes: [a:b]'), 'deny[0]', 5, 5, /has no 'agents' list/);
  expectOnly(y(...base, '  - agents: []'), 'deny[0].agents', 5, 13, /empty 'agents' list/);
  expectOnly(
    y(...base, '  - agents: [a]', '    scopes: []'),
    'deny[0].scopes',
    6,
    13,
    /empty 'scopes' list matches nothing/,
  );
  expectOnly(
    y(...base, '  - agents: [a]', '    resources: ["bad\\u0001"]'),
    'deny[0].resources[0]',
    6,
    17,
    /control character/,
  );
});

test('agent ids follow the original agent_id rule', () => {
  expectOnly(
    y('organization: A', 'agents:', '  "../etc/passwd":', '    scopes: [a:b]'),
    'agents["../etc/passwd"]',
    3,
    3,
    /invalid agent id/,
  );
});

test('tenant must match the tenant the policy is put for', () => {
  expectOnly(
    y('organization: A', 'tenant: acme'),
    'tenant',
    2,
    9,
    /policy says tenant "acme" but is being put for tenant "globex"/,
    {
      expectedTenant: 'globex',
    },
  );
  // Without an expected tenant (e.g. offline validation) any tenant is accepted.
  assert.equal(parsePolicy(y('organization: A', 'tenant: acme')).tenant, 'acme');
  assert.equal(parsePolicy(y('organization: A', 'tenant: acme'), { expectedTenant: 'acme' }).tenant, 'acme');
});

test('every issue is collected, sorted by position, in the message as line:col path: message', () => {
  const text = y(
    'organization: A',
    'clearance: high',
    'agents:',
    '  a:',
    '    scopes: [bad]',
    '    rate_limit: 5',
    '  b:',
  );
  const issues = issuesOf(text);
  assert.deepEqual(
    issues.map((i) => `${i.line}:${i.column} ${i.path}`),
    ['2:1 clearance', '5:14 agents.a.scopes[0]', '6:5 agents.a.rate_limit', '7:3 agents.b'],
  );
  try {
    parsePolicy(text);
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError);
    assert.match(err.message, /^policy is invalid \(4 issues\):\n {2}2:1 clearance: unknown key 'clearance'/);
    assert.match(err.message, /\n {2}7:3 agents\.b: agent 'b' must be a mapping, got null$/);
    const mapped = policyValidationToAuthorityError(err);
    assert.ok(mapped instanceof AuthorityError);
    assert.equal(mapped.reason, 'INVALID_REQUEST');
    assert.equal(mapped.field, 'clearance');
    assert.equal(mapped.message, err.message);
  }
});

test('aliases work for ordinary reuse', () => {
  const p = parsePolicy(
    y(
      'organization: A',
      'agents:',
      '  a:',
      '    scopes: &s [vault:x:read]',
      '    constraints: &c {require_purpose: true}',
      '  b:',
      '    scopes: *s',
      '    constraints: *c',
    ),
  );
  assert.deepEqual(p.agents.get('b')?.scopes, ['vault:x:read']);
  assert.equal(p.agents.get('b')?.constraints.requirePurpose, true);
  expectOnly(
    y('organization: A', 'agents:', '  a:', '    scopes: *nope'),
    'agents.a.scopes',
    4,
    13,
    /alias \*nope refers to no anchor/,
  );
});

test('YAML 1.1 and custom tags are refused', () => {
  expectOnly(y('organization: !!binary QUJD'), '', 1, 15, /Unresolved tag.*plain YAML 1\.2/);
  expectOnly(y('organization: !custom A'), '', 1, 15, /Unresolved tag: !custom/);
});

test('too many agents are refused', () => {
  const lines = ['organization: A', 'agents:'];
  for (let i = 0; i <= 10_000; i++) lines.push(`  a${i}: {scopes: [a:b]}`);
  expectOnly(y(...lines), 'agents', 2, 1, /too many agents: 10001 \(at most 10000\)/);
  // The limit is configurable for tooling.
  expectOnly(
    y('organization: A', 'agents:', '  a: {scopes: [a:b]}', '  b: {scopes: [a:b]}'),
    'agents',
    2,
    1,
    /too many agents: 2 \(at most 1\)/,
    {
      limits: { maxAgents: 1 },
    },
  );
});

test("top-level 'pop: required' turns on per-request proofs for the whole tenant; anything else is refused", () => {
  const base = ['organization: Acme', 'agents:', '  bot:', '    scopes: [vault:a:read]'];
  const strict = parsePolicy(y('pop: required', ...base));
  assert.equal(strict.popRequired, true);
  assert.equal(tenantPolicyFrom(strict).popRequired, true);
  const plain = parsePolicy(y(...base));
  assert.equal(plain.popRequired, undefined);
  assert.equal(tenantPolicyFrom(plain).popRequired, undefined);
  const issues = issuesOf(y('pop: sometimes', ...base));
  assert.equal(issues.length, 1);
  assert.match(issues[0]!.message, /pop must be 'required'/);
  assert.equal(issues[0]!.line, 1);
});

test("top-level 'read_only_actions' replaces the tenant's read-only list; each entry is checked with its position", () => {
  const base = ['organization: Acme', 'agents:', '  bot:', '    scopes: [vault:a:read]'];
  const custom = parsePolicy(y('read_only_actions: [read, export, read, fetch-page]', ...base));
  assert.deepEqual(custom.readOnlyActions, ['read', 'export', 'fetch-page'], 'duplicates dropped, order kept');
  assert.deepEqual([...(tenantPolicyFrom(custom).readOnlyActions ?? [])], ['read', 'export', 'fetch-page']);
  // An empty list is the strictest setting: every action needs approval under write_requires_approval.
  const none = parsePolicy(y('read_only_actions: []', ...base));
  assert.deepEqual(none.readOnlyActions, []);
  assert.equal(tenantPolicyFrom(none).readOnlyActions?.size, 0);
  const plain = parsePolicy(y(...base));
  assert.equal(plain.readOnlyActions, undefined);
  assert.equal(tenantPolicyFrom(plain).readOnlyActions, undefined, 'the engine then uses the default list');

  expectOnly(
    y('read_only_actions: [read, Export]', ...base),
    'read_only_actions[1]',
    1,
    27,
    /read-only action "Export" must be lower case .*write "export"/,
  );
  for (const bad of ['"*"', 'read*', '"re ad"', '"-x"', '"lé"', `${'a'.repeat(65)}`]) {
    expectOnly(
      y(`read_only_actions: [${bad}]`, ...base),
      'read_only_actions[0]',
      1,
      21,
      /invalid read-only action .*: use 1-64 lower-case letters, digits, '_', '\.' or '-' \(exact names, no wildcards\)/,
    );
  }
  expectOnly(y('read_only_actions: ["", read]', ...base), 'read_only_actions[0]', 1, 21, /must not be empty/);
  expectOnly(y('read_only_actions: read', ...base), 'read_only_actions', 1, 20, /must be a list/);
  expectOnly(y('read_only_actions: [5]', ...base), 'read_only_actions[0]', 1, 21, /must be a string/);
  const tooMany = Array.from({ length: 65 }, (_, i) => `a${i}`).join(', ');
  expectOnly(
    y(`read_only_actions: [${tooMany}]`, ...base),
    'read_only_actions',
    1,
    20,
    /read_only_actions has 65 entries, at most 64 allowed/,
  );
});

describe('validation reports everything in one run, where it is, with the intended key', () => {
  test('every bad constraint is reported, not only the first', () => {
    const issues = issuesOf(
      y(
        'organization: X',
        'agents:',
        '  a:',
        '    scopes: [vault:x:read]',
        '    constraints:',
        '      require_purpose: maybe',
        '      max_records_per_request: -5',
        '      max_records_per_requst: 5',
      ),
    );
    assert.deepEqual(
      issues.map((i) => [i.line, i.path]),
      [
        [6, 'agents.a.constraints.require_purpose'],
        [7, 'agents.a.constraints.max_records_per_request'],
        [8, 'agents.a.constraints.max_records_per_requst'],
      ],
    );
    assert.match(issues[2]?.message ?? '', /did you mean 'max_records_per_request'\?/);
  });

  test('a misspelt key gets a suggestion', () => {
    const issues = issuesOf(
      y('organization: X', 'agents:', '  a:', '    scopes: [vault:x:read]', "    resourcse: ['slos://x/*']"),
    );
    assert.match(issues[0]?.message ?? '', /unknown key 'resourcse' in agent 'a'; did you mean 'resources'\?/);
  });

  test('an unclosed flow collection is reported where it opens', () => {
    const seq = issuesOf(
      y('organization: X', 'agents:', '  a:', '    scopes: [vault:x:read, vault:y:read', "    resources: ['x']"),
    );
    assert.deepEqual(
      seq.map((i) => [i.line, i.column]),
      [[4, 13]],
    );
    assert.match(seq[0]?.message ?? '', /flow sequence '\[' opened here is not closed with '\]'/);
    const map = issuesOf(
      y('organization: X', 'agents:', '  a:', '    constraints: {require_purpose: true', "    scopes: ['a:b']"),
    );
    assert.deepEqual(
      map.map((i) => [i.line, i.column]),
      [[4, 18]],
    );
    assert.match(map[0]?.message ?? '', /flow mapping '\{' opened here is not closed with '\}'/);
  });

  test("max_ttl takes the CLI's duration grammar; 90d parses and is refused as over 24 h", () => {
    const ok = parsePolicy(y('organization: X', 'agents:', '  a:', '    scopes: [vault:x:read]', '    max_ttl: 1d'));
    assert.equal(ok.agents.get('a')?.maxTtlSeconds, 86_400);
    const long = issuesOf(y('organization: X', 'agents:', '  a:', '    scopes: [vault:x:read]', '    max_ttl: 90d'));
    assert.match(long[0]?.message ?? '', /must be between 60s and 24h .* got 7776000 seconds/);
  });
});
