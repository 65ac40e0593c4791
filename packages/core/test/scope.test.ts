import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import {
  MAX_SCOPE_LENGTH,
  MAX_SCOPE_SEGMENTS,
  SCOPE_PATTERN,
  findMatchingScope,
  findUncoveredScope,
  isValidScope,
  scopeContains,
  scopeMatches,
} from '../src/scope';

// seed-behaviour.md §2: the original's _scope_matches table, row by row.
const SEED_TABLE: readonly (readonly [granted: string, required: string, expected: boolean])[] = [
  ['vault:finance:read', 'vault:finance:read', true],
  ['vault:finance:read', 'vault:finance:write', false],
  ['vault:*:read', 'vault:finance:read', true],
  ['vault:*:read', 'vault:health:read', true],
  ['vault:*:read', 'vault:student-records:read', true],
  ['vault:*:read', 'vault:finance:write', false],
  ['vault:*:read', 'audit:finance:read', false],
  ['vault:finance:*', 'vault:finance:read', true],
  ['vault:finance:*', 'vault:finance:write', true],
  ['*:finance:read', 'audit:finance:read', true],
  ['*:*:*', 'vault:finance:read', true],
  ['*:*:*', 'audit:x:delete', true],
  ['*:*:*', 'a:b:c', true],
  ['vault:*', 'vault:finance:read', false],
  ['vault:finance:read:extra', 'vault:finance:read', false],
  ['audit:*', 'audit:read', true],
  ['*:read', 'audit:read', true],
  ['', '', true],
  ['vault:finance:read', '', false],
  ['vault:fin*:read', 'vault:finance:read', false],
  ['Vault:finance:read', 'vault:finance:read', false],
  // A required `*` segment is matched only by a granted `*` (or the literal `*`, which is the same).
  ['vault:*:read', 'vault:*:read', true],
  ['vault:finance:read', 'vault:*:read', false],
  // `fin*` is a literal on both sides.
  ['vault:fin*:read', 'vault:fin*:read', true],
];

test('scopeMatches reproduces the seed table', () => {
  for (const [granted, required, expected] of SEED_TABLE) {
    assert.equal(scopeMatches(granted, required), expected, `scopeMatches(${granted}, ${required})`);
  }
});

test('isValidScope: syntax, segment and length caps', () => {
  assert.equal(SCOPE_PATTERN.source, '^[a-zA-Z0-9_./*-]+(?::[a-zA-Z0-9_./*-]+)+$');
  for (const ok of ['vault:finance:read', 'audit:read', 'vault:acme:read:context.json', 'a:*', '*:*:*', 'v/x:y_z-1']) {
    assert.equal(isValidScope(ok), true, ok);
  }
  for (const bad of [
    '',
    '*',
    'vault',
    'vault:',
    ':read',
    'vault::read',
    'vault:fin ance:read',
    'vault:finance:read\n',
    'väult:x',
    'a:b;c',
  ]) {
    assert.equal(isValidScope(bad), false, JSON.stringify(bad));
  }
  const sixteen = Array.from({ length: MAX_SCOPE_SEGMENTS }, () => 'a').join(':');
  assert.equal(isValidScope(sixteen), true);
  assert.equal(isValidScope(`${sixteen}:a`), false, '17 segments');
  const atLength = `a:${'b'.repeat(MAX_SCOPE_LENGTH - 2)}`;
  assert.equal(isValidScope(atLength), true);
  assert.equal(isValidScope(`${atLength}b`), false, '257 chars');
});

test('scopeContains: wildcard parents contain concrete children, never the reverse', () => {
  assert.equal(scopeContains('vault:*:read', 'vault:finance:read'), true);
  assert.equal(scopeContains('vault:*:read', 'vault:*:read'), true);
  assert.equal(scopeContains('vault:finance:read', 'vault:*:read'), false);
  assert.equal(scopeContains('*:*:*', 'vault:*:write'), true);
  assert.equal(scopeContains('vault:*', 'vault:finance:read'), false);
  assert.equal(scopeContains('vault:fin*:read', 'vault:finance:read'), false);
});

test('findMatchingScope and findUncoveredScope', () => {
  assert.equal(findMatchingScope(['audit:read', 'vault:*:read'], 'vault:finance:read'), 'vault:*:read');
  assert.equal(findMatchingScope(['audit:read'], 'vault:finance:read'), undefined);
  assert.equal(findMatchingScope([], 'vault:finance:read'), undefined);
  assert.equal(findUncoveredScope(['vault:*:read', 'audit:read'], ['vault:finance:read', 'audit:read']), undefined);
  assert.equal(
    findUncoveredScope(['vault:*:read'], ['vault:finance:read', 'vault:finance:write', 'x:y']),
    'vault:finance:write',
  );
  assert.equal(findUncoveredScope([], ['a:b']), 'a:b');
  assert.equal(findUncoveredScope(['a:b'], []), undefined);
});

// Small alphabets so that equal segments, and so containments, happen often.
const literalSegment = fc.constantFrom('a', 'b', 'vault', 'read');
const segment = fc.oneof({ weight: 3, arbitrary: literalSegment }, { weight: 1, arbitrary: fc.constant('*') });
const scopeArb = fc.array(segment, { minLength: 1, maxLength: 4 }).map((s) => s.join(':'));
const concreteScopeArb = fc.array(literalSegment, { minLength: 1, maxLength: 4 }).map((s) => s.join(':'));

/** Scopes a granted scope matches, built by filling its wildcards (plus unrelated ones). */
function requiredFor(granted: string, fills: readonly string[]): string {
  let k = 0;
  return granted
    .split(':')
    .map((g) => (g === '*' ? (fills[k++ % fills.length] ?? 'a') : g))
    .join(':');
}

test('property: containment agrees with matching', () => {
  fc.assert(
    fc.property(
      scopeArb,
      scopeArb,
      fc.array(scopeArb, { maxLength: 6 }),
      fc.array(fc.constantFrom('a', 'b', 'vault', 'read', '*'), { minLength: 1, maxLength: 4 }),
      (parent, child, randomRequired, fills) => {
        if (!scopeContains(parent, child)) return;
        for (const r of [...randomRequired, requiredFor(child, fills), child]) {
          if (scopeMatches(child, r)) assert.ok(scopeMatches(parent, r), `${parent} ⊇ ${child} but misses ${r}`);
        }
      },
    ),
    { numRuns: 500 },
  );
});

test('property: a filled-in scope is contained by and matches its wildcard parent', () => {
  fc.assert(
    fc.property(scopeArb, fc.array(literalSegment, { minLength: 1, maxLength: 4 }), (parent, fills) => {
      const child = requiredFor(parent, fills);
      assert.ok(scopeContains(parent, child));
      assert.ok(scopeMatches(parent, child));
    }),
    { numRuns: 300 },
  );
});

/** Replaces the segments picked by `mask` with `*`: a scope that contains the input. */
function generalize(scope: string, mask: readonly boolean[]): string {
  return scope
    .split(':')
    .map((seg, i) => (mask[i % mask.length] ? '*' : seg))
    .join(':');
}
const maskArb = fc.array(fc.boolean(), { minLength: 1, maxLength: 4 });

test('property: containment is reflexive and transitive', () => {
  fc.assert(
    fc.property(scopeArb, scopeArb, scopeArb, maskArb, maskArb, (a, b, c, m1, m2) => {
      assert.ok(scopeContains(a, a));
      if (scopeContains(a, b) && scopeContains(b, c)) assert.ok(scopeContains(a, c), `${a} ⊇ ${b} ⊇ ${c}`);
      // A chain built by generalizing twice, so the premise holds on every run.
      const middle = generalize(c, m1);
      const top = generalize(middle, m2);
      assert.ok(scopeContains(middle, c) && scopeContains(top, middle));
      assert.ok(scopeContains(top, c), `${top} ⊇ ${middle} ⊇ ${c}`);
    }),
    { numRuns: 500 },
  );
});

test('property: a wildcard-free scope matches itself, and matching needs equal segment counts', () => {
  fc.assert(
    fc.property(concreteScopeArb, scopeArb, (s, g) => {
      assert.ok(scopeMatches(s, s));
      if (g.split(':').length !== s.split(':').length) assert.equal(scopeMatches(g, s), false);
    }),
    { numRuns: 300 },
  );
});
