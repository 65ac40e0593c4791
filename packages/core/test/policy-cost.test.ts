// The documents that used to make policy parsing quadratic (or just slow per byte) are accepted or
// refused with the right issue. Tests never assert time: the timings are in
// packages/core/bench/policy-parse.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { LineCounter, Parser } from 'yaml';
import { DEFAULT_POLICY_LIMITS, parsePolicy, type PolicyIssue } from '../src/policy';
import { composeFirst } from '../src/policy/yaml-reader';
import { classifications, fill, issuesOf, y } from './policy-documents';

const MiB = 1024 * 1024;

function only(text: string, opts?: Parameters<typeof parsePolicy>[1]): PolicyIssue {
  const issues = issuesOf(text, opts);
  assert.equal(issues.length, 1, JSON.stringify(issues.slice(0, 3), null, 1));
  return issues[0] as PolicyIssue;
}

test('10,000 data classifications (the limit) are accepted', () => {
  const p = parsePolicy(classifications(10_000, 'flow'));
  assert.equal(p.dataClassifications.size, 10_000);
  assert.equal(p.dataClassifications.get('d9999')?.sensitivity, 'internal');
});

test('30,000 data classifications (1 MB, 16 s before) are refused naming the mapping', () => {
  const text = classifications(30_000, 'flow');
  assert.ok(text.length > 1_000_000 && text.length <= MiB);
  const issue = only(text);
  assert.deepEqual([issue.path, issue.line, issue.column], ['data_classifications', 2, 1]);
  assert.match(issue.message, /^too many data_classifications: (at least )?\d+ \(at most 10000\); no mapping/);
});

test('a 1 MiB flow mapping (minutes before) is refused at its first line', () => {
  const text = fill('{', (i) => `k${i}: ${i}, `, 'z: 0}\n', MiB);
  assert.ok(text.length > MiB - 100);
  const issue = only(text);
  assert.deepEqual([issue.path, issue.line, issue.column], ['', 1, 1]);
  assert.match(issue.message, /^too many keys in the policy: (at least )?\d+ \(at most 10000\)/);
  // The same under a key, in block style inside.
  const nested = fill('organization: A\nagents:\n  a:\n    constraints: {', (i) => `k${i}: ${i}, `, 'z: 0}\n', MiB);
  const n = only(nested);
  assert.deepEqual([n.path, n.line, n.column], ['agents.a.constraints', 4, 5]);
  assert.match(n.message, /^too many keys in agents\.a\.constraints: (at least )?\d+ \(at most 10000\)/);
});

test('one more key than the limit in a nested mapping is refused with the exact count', () => {
  const lines = ['organization: A', 'agents:', '  a:', '    scopes: [a:b]', '    constraints:'];
  for (let i = 0; i <= 10_000; i++) lines.push(`      k${i}: 1`);
  const issue = only(y(...lines));
  assert.deepEqual([issue.path, issue.line, issue.column], ['agents.a.constraints', 5, 5]);
  assert.equal(
    issue.message,
    'too many keys in agents.a.constraints: 10001 (at most 10000); no mapping in a policy may have more than 10000 keys',
  );
});

test('lists are bounded too: deny rules, scopes, roles', () => {
  const lines = ['organization: A', 'agents:', '  a: {scopes: [a:b]}', 'deny:'];
  for (let i = 0; i <= 10_000; i++) lines.push('  - agents: [a]');
  const issue = only(y(...lines));
  assert.deepEqual([issue.path, issue.line, issue.column], ['deny', 4, 1]);
  assert.match(issue.message, /^too many items in deny: 10001 \(at most 10000\); no list in a policy may have/);
  // 1 MiB of one-letter role names: refused without building 500,000 "unknown role" messages.
  const roles = fill(
    'organization: A\nroles:\n  r: {scopes: [a:b]}\nagents:\n  a:\n    roles: [',
    () => 'x,',
    'x]\n',
    MiB,
  );
  const r = only(roles);
  assert.deepEqual([r.path, r.line, r.column], ['agents.a.roles', 6, 5]);
  assert.match(r.message, /^too many items in agents\.a\.roles: (at least )?\d+ \(at most 10000\)/);
  // The limits are configurable (tooling, tests).
  const small = only(y('organization: A', 'agents:', '  a: {scopes: [a:b, c:d, e:f]}'), {
    limits: { maxListItems: 2 },
  });
  assert.deepEqual([small.path, small.line, small.column], ['agents.a.scopes', 3, 7]);
  assert.match(small.message, /too many items in agents\.a\.scopes: 3 \(at most 2\)/);
});

test('at most 20 defined role names are listed per unknown role, and reports stop at the cap', () => {
  const lines = ['organization: A', 'roles:'];
  for (let i = 0; i < 500; i++) lines.push(`  r${i}: {scopes: [a:b]}`);
  lines.push('agents:', '  a:', `    roles: [${Array.from({ length: 5000 }, (_, i) => `x${i}`).join(', ')}]`);
  const issues = issuesOf(y(...lines));
  assert.equal(issues.length, 101);
  assert.match(issues[0]?.message ?? '', /^unknown role "x0" \(defined roles: r0, r1, .*, r19 and 480 more\)$/);
  assert.match(issues[100]?.message ?? '', /stopped after 100 issues/);
});

test('deep sequences: 64 levels pass the YAML checks, 65 are refused in every style', () => {
  const depthIssue = (text: string) => issuesOf(text).find((i) => /nested deeper than 64 levels/.test(i.message));
  // Flow: the root mapping is level 1, so 63 brackets make 64 levels.
  assert.equal(depthIssue(`organization: A\nx: ${'['.repeat(63)}${']'.repeat(63)}\n`), undefined);
  assert.ok(depthIssue(`organization: A\nx: ${'['.repeat(64)}${']'.repeat(64)}\n`));
  // Block, by indentation: `x:` then one `-` per level, each indented further.
  const block = (levels: number) => {
    const lines = ['organization: A', 'x:'];
    for (let i = 0; i < levels; i++) lines.push(`${'  '.repeat(i + 1)}-`);
    return y(...lines.slice(0, -1), `${lines[lines.length - 1] as string} a`);
  };
  assert.equal(depthIssue(block(63)), undefined);
  const deep = depthIssue(block(64));
  assert.ok(deep);
  assert.equal(deep.line, 66);
  // Compact (`- - - x`) and 1 MiB of it.
  assert.ok(depthIssue(`organization: A\nx:\n  ${'- '.repeat(64)}a\n`));
  assert.ok(depthIssue(`${'- '.repeat(MiB / 2 - 1)}\n`));
});

test('a document of the shortest tokens is refused by the token budget', () => {
  const blank = fill('organization: A\n', () => '\n', '', MiB);
  const issue = only(blank);
  assert.match(issue.message, /^more than 500000 YAML tokens/);
  assert.equal(issue.path, '');
  const comments = fill('organization: A\n', () => '#\n', '', MiB);
  assert.match(only(comments).message, /^more than 500000 YAML tokens/);
  // Configurable; the position is where reading stopped.
  const small = only(y('organization: A', 'agents:', '  a: {scopes: [a:b]}'), { limits: { maxTokens: 5 } });
  assert.match(small.message, /^more than 5 YAML tokens/);
  assert.deepEqual([small.line, small.column], [1, 15]);
  // A realistic policy near the size limit stays well within the budget.
  const lines = ['organization: A', 'agents:'];
  for (let i = 0; i < 5800; i++) {
    lines.push(
      `  agent-${i}:`,
      '    description: reads the finance vault for the monthly close',
      '    scopes: [vault:finance:read, vault:finance:list]',
      `    resources: ["slos://vaults/finance/${i}/*"]`,
    );
  }
  const big = y(...lines);
  assert.ok(big.length > 0.9 * MiB && big.length < MiB);
  assert.equal(parsePolicy(big).agents.size, 5800);
});

test('YAML errors stop at the issue cap, wherever they are', () => {
  const cases = [
    // The parser's stray tokens between documents.
    `organization: A\n${']'.repeat(100_000)}\n`,
    // The composer's errors inside a collection.
    `organization: A\nx: [${'{,}, '.repeat(5000)}]\n`,
    `organization: A\nx: [[]]${'[]'.repeat(5000)}\n`,
  ];
  for (const text of cases) {
    const issues = issuesOf(text);
    assert.equal(issues.length, 101);
    assert.match(issues[0]?.message ?? '', /^YAML syntax error: Unexpected/);
    assert.match(issues[100]?.message ?? '', /stopped after 100 issues/);
  }
});

test('the composer really stops after maxIssues errors (the hook into the installed yaml works)', () => {
  const text = `x: [${'{,}, '.repeat(500)}]\n`;
  const tokens = Array.from(new Parser(new LineCounter().addNewLine).parse(text));
  const stopped = composeFirst(tokens, text.length, { ...DEFAULT_POLICY_LIMITS, maxIssues: 10 });
  assert.equal(stopped.errors?.length, 11);
  const full = composeFirst(tokens, text.length, { ...DEFAULT_POLICY_LIMITS, maxIssues: 1000 });
  assert.equal(full.errors, undefined);
  assert.equal(full.docs[0]?.errors.length, 500);
});

test('a long stream of documents is refused at the second', () => {
  const issue = only(fill('organization: A\n', () => '---\na: 1\n', '', MiB / 4));
  assert.match(issue.message, /more than one YAML document/);
  assert.equal(issue.line, 2);
});

test('duplicate keys are found (capped) in mappings of any size and style', () => {
  const issues = issuesOf(
    y('organization: A', 'agents:', ...Array.from({ length: 5000 }, () => '  a: {scopes: [a:b]}')),
  );
  assert.equal(issues.length, 101);
  assert.deepEqual([issues[0]?.line, issues[0]?.column], [4, 3]);
  assert.match(issues[0]?.message ?? '', /^duplicate key 'a': YAML keys must be unique$/);
  // Same type and value, as YAML compares keys: "1" and 1 differ, 'a' and "a" do not.
  assert.match(only(y('organization: A', 'x: {"a": 1, a: 2}')).message, /duplicate key 'a'/);
  const distinct = issuesOf(y('organization: A', 'x: {"1": 1, 1: 2}'));
  assert.equal(distinct.length, 1);
  assert.match(distinct[0]?.message ?? '', /unknown key 'x'/);
});

test('property: mappings and lists are accepted up to their limit and refused past it, with the count', () => {
  const limits = { maxMappingKeys: 12, maxListItems: 9 };
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 30 }),
      fc.integer({ min: 1, max: 20 }),
      fc.constantFrom('block', 'flow'),
      (domains, fields, style) => {
        const list = Array.from({ length: fields }, (_, i) => `f${i}`);
        const lines = ['organization: A', 'data_classifications:'];
        for (let i = 0; i < domains; i++) {
          lines.push(
            style === 'block'
              ? `  d${i}:\n    pii_fields:\n${list.map((f) => `      - ${f}`).join('\n')}`
              : `  d${i}: {pii_fields: [${list.join(', ')}]}`,
          );
        }
        const text = y(...lines);
        if (domains <= limits.maxMappingKeys && fields <= limits.maxListItems) {
          const p = parsePolicy(text, { limits });
          assert.equal(p.dataClassifications.size, domains);
          return;
        }
        // Refused for one of its problems: the first in document order (the mapping's key count
        // comes before its lists), unless the parser stopped early inside a list, far past its limit.
        const issue = only(text, { limits });
        const keys =
          /^too many data_classifications: (at least )?(\d+) \(at most 12\); no mapping in a policy may have more than 12 keys$/.exec(
            issue.message,
          );
        const items = /^too many items in data_classifications\.d0\.pii_fields: (at least )?(\d+) \(at most 9\)/.exec(
          issue.message,
        );
        if (keys !== null) {
          assert.ok(domains > limits.maxMappingKeys);
          assert.deepEqual([issue.path, issue.line, issue.column], ['data_classifications', 2, 1]);
          // Exact, unless the parser stopped while filling it, which it does only past twice the limit.
          if (keys[1] === undefined) assert.equal(Number(keys[2]), domains);
          else assert.ok(Number(keys[2]) > 24 && Number(keys[2]) <= domains);
        } else {
          assert.ok(items, issue.message);
          assert.ok(fields > limits.maxListItems);
          assert.ok(domains <= limits.maxMappingKeys || fields > 2 * limits.maxListItems);
          assert.equal(issue.path, 'data_classifications.d0.pii_fields');
          assert.equal(issue.line, style === 'block' ? 4 : 3);
          if (items[1] === undefined) assert.equal(Number(items[2]), fields);
          else assert.ok(Number(items[2]) > 18 && Number(items[2]) <= fields);
        }
      },
    ),
    { numRuns: 200 },
  );
});

test('property: duplicate keys are refused exactly when a key repeats, at its second occurrence', () => {
  fc.assert(
    fc.property(
      fc.array(fc.constantFrom('a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'), { minLength: 1, maxLength: 12 }),
      fc.constantFrom('block', 'flow'),
      (keys, style) => {
        const body =
          style === 'block'
            ? ['roles:', ...keys.map((k) => `  ${k}: {scopes: [a:b]}`)]
            : [`roles: {${keys.map((k) => `${k}: {scopes: [a:b]}`).join(', ')}}`];
        const text = y('organization: A', ...body);
        const firstRepeat = keys.findIndex((k, i) => keys.indexOf(k) !== i);
        if (firstRepeat === -1) {
          assert.equal(parsePolicy(text).roles.size, keys.length);
          return;
        }
        const issues = issuesOf(text);
        assert.equal(issues.length, keys.length - new Set(keys).size);
        assert.ok(issues.every((i) => /^duplicate key '[a-h]': YAML keys must be unique$/.test(i.message)));
        if (style === 'block') assert.equal(issues[0]?.line, 3 + firstRepeat);
        assert.equal(issues[0]?.message, `duplicate key '${keys[firstRepeat] as string}': YAML keys must be unique`);
      },
    ),
    { numRuns: 200 },
  );
});
