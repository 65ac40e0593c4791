// Hostile YAML is refused with a clear error of the right kind (and cheaply: each of these is
// refused before, or while bounded by, the limits; the assertions are on the error, not the time).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PolicyValidationError, parsePolicy, type PolicyIssue } from '../src/policy';

function refusal(text: string): readonly PolicyIssue[] {
  try {
    parsePolicy(text);
  } catch (err) {
    assert.ok(err instanceof PolicyValidationError, `expected PolicyValidationError, got ${String(err)}`);
    return err.issues;
  }
  assert.fail('expected the policy to be refused');
}

function assertRefused(text: string, message: RegExp): PolicyIssue {
  const issues = refusal(text);
  const hit = issues.find((i) => message.test(i.message));
  assert.ok(hit, `no issue matching ${String(message)} in ${JSON.stringify(issues.slice(0, 3))}`);
  return hit;
}

test('a document over 1 MiB is refused before parsing', () => {
  const text = `organization: A\ndescription: "${'x'.repeat(1024 * 1024)}"\n`;
  const issue = assertRefused(text, /policy is at least \d+ bytes; the limit is 1048576 bytes/);
  assert.deepEqual([issue.line, issue.column], [1, 1]);
  // Multi-byte characters count as bytes, not UTF-16 units.
  assertRefused(`organization: "${'é'.repeat(600 * 1024)}"\n`, /policy is \d+ bytes; the limit is 1048576 bytes/);
});

test('deep flow nesting is refused by the pre-scan', () => {
  const issue = assertRefused('['.repeat(1024 * 1024 - 1), /nested deeper than 64 levels/);
  assert.deepEqual([issue.line, issue.column], [1, 65]);
  assertRefused(`organization: A\nagents: ${'{a: '.repeat(100)}x${'}'.repeat(100)}\n`, /nested deeper than 64 levels/);
});

test('deep compact block nesting (- - - -) is refused by the pre-scan', () => {
  assertRefused(`${'- '.repeat(500_000)}x\n`, /nested deeper than 64 levels/);
});

test('deep indentation nesting is refused before composing', () => {
  const lines: string[] = [];
  for (let i = 0; i < 200; i++) lines.push(`${' '.repeat(i)}k${i}:`);
  const issue = assertRefused(`${lines.join('\n')} x\n`, /nested deeper than 64 levels/);
  assert.equal(issue.line, 65);
});

test('more than 100 aliases are refused as an alias bomb', () => {
  const uses = Array.from({ length: 101 }, () => '*s').join(', ');
  assertRefused(`organization: A\nx: &s a:b\nagents:\n  a: {scopes: [${uses}]}\n`, /more than 100 YAML aliases/);
});

test('an exponential alias bomb within the alias count is stopped by the node budget', () => {
  // 9 levels of 9 aliases each (72 aliases) expand to 9^9 nodes when walked.
  const lines = [
    'organization: A',
    'agents:',
    '  a:',
    '    scopes: [a:b]',
    '    description: &l0 lol',
    '    resources:',
  ];
  for (let i = 1; i < 9; i++)
    lines.push(
      `      - &l${i} [${Array(9)
        .fill(`*l${i - 1}`)
        .join(', ')}]`,
    );
  lines.push('    constraints: {denied_resources: *l8}');
  assertRefused(`${lines.join('\n')}\n`, /expands to more than 1000000 nodes/);
});

test('a self-referencing alias is stopped by the depth limit', () => {
  assertRefused(
    'organization: A\nagents:\n  a:\n    scopes: [a:b]\n    constraints: &c {denied_resources: [*c]}\n',
    /nested deeper than 64 levels \(through aliases\)/,
  );
});

test('a multi-document stream is refused', () => {
  assertRefused('organization: A\n...\n---\norganization: B\n', /more than one YAML document/);
});

test('the number of issues reported is capped', () => {
  const lines = ['organization: A'];
  for (let i = 0; i < 500; i++) lines.push(`unknown${i}: 1`);
  const issues = refusal(`${lines.join('\n')}\n`);
  assert.equal(issues.length, 101);
  assert.ok(issues.some((i) => /stopped after 100 issues/.test(i.message)));
});

test('wrong-typed values never crash the loader', () => {
  const bodies = [
    'agents: 5',
    'agents: {a: 5}',
    'agents: {a: [1]}',
    'agents: {a: {scopes: {x: 1}}}',
    'deny: {a: 1}',
    'deny: [1, [2]]',
    'roles: [x]',
    'data_classifications: {d: [1]}',
    '? [complex]\n: key',
    'agents: {? [k] : {scopes: [a:b]}}',
  ];
  for (const body of bodies) {
    const issues = refusal(`organization: A\n${body}\n`);
    assert.ok(issues.length > 0, body);
  }
});
