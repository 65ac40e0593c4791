// Glob matching and containment (src/glob.ts).
// Size: one test per syntax rule and property, several checked against test/glob-reference.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import {
  MAX_GLOB_INPUT_LENGTH,
  MAX_GLOB_PATTERN_LENGTH,
  findUncoveredPattern,
  globContains,
  globMatch,
  newGlobWorkBudget,
} from '../src/glob';
import { referenceFindUncoveredPattern, referenceGlobContains, referenceGlobMatch } from './glob-reference';

// [pattern, input, expected] — expected values computed with CPython 3.11 fnmatch.fnmatchcase:
// hand-picked edge cases first, then seeded random patterns over a small alphabet.
const FNMATCH_CASES: readonly (readonly [string, string, boolean])[] = [
  ['slos://vaults/finance/*', 'slos://vaults/finance/q1', true],
  ['slos://vaults/finance/*', 'slos://vaults/finance/budgets/q1-2026', true],
  ['slos://vaults/finance/*', 'slos://vaults/finance', false],
  ['slos://vaults/finance/*', 'slos://vaults/finance/', true],
  ['slos://vaults/*/secret', 'slos://vaults/a/b/secret', true],
  ['*', '', true],
  ['*', 'a/b/c', true],
  ['', '', true],
  ['', 'a', false],
  ['a', 'A', false],
  ['A', 'a', false],
  ['?', 'a', true],
  ['?', '', false],
  ['?', 'ab', false],
  ['?', '/', true],
  ['a?c', 'a\nc', true],
  ['??', 'é', false],
  ['?', '😀', true],
  ['??', '😀', false],
  ['[abc]', 'b', true],
  ['[abc]', 'd', false],
  ['[a-z]', 'm', true],
  ['[a-z]', 'M', false],
  ['[!x]', 'x', false],
  ['[!x]', 'y', true],
  ['[!x]', '\n', true],
  ['[', '[', true],
  ['[a', '[a', true],
  ['a[', 'a[', true],
  ['[!]', '[!]', true],
  ['[!]', '!', false],
  ['[]]', ']', true],
  ['[]a]', 'a', true],
  ['[!]]', ']', false],
  ['[!]]', 'a', true],
  ['[a-]', '-', true],
  ['[-a]', '-', true],
  ['[a--]', '-', false],
  ['[z-a]', 'z', false],
  ['[!z-a]', 'q', true],
  ['[^a]', '^', true],
  ['[^a]', 'b', false],
  ['a\\b', 'a\\b', true],
  ['a\\*', 'a\\xyz', true],
  ['[\\]', '\\', true],
  ['*.txt', 'notes.txt', true],
  ['*.txt', 'notes.txt.bak', false],
  ['*a*b*', 'xxaxxbxx', true],
  ['*a*b*', 'xxbxxaxx', false],
  ['a*', 'a', true],
  ['*a', 'ba', true],
  ['**', 'x', true],
  ['a**b', 'ab', true],
  ['[a-c-e]', '-', true],
  ['[a-c-e]', 'd', false],
  ['[a-c-e]', 'e', true],
  ['[[]', '[', true],
  ['[a[b]', '[', true],
  ['[*]', '*', true],
  ['[*]', 'x', false],
  ['[?]', '?', true],
  ['[?]', 'x', false],
  ['*[', 'abc[', true],
  ['[*', '[xyz', true],
  ['x[!]y', 'x[!]y', true],
  ['.*', '.hidden', true],
  ['.*', 'x.hidden', false],
  ['[é-ü]', 'ñ', true],
  ['[😀]', '😀', true],
  ['[!😀]', '😀', false],
  ['[a-😀]', 'z', true],
  ['/[!a]', '/b', true],
  ['b[ab]ca', 'baca', true],
  ['', 'aba', false],
  ['[!a]acb', '/acb', true],
  ['cacc[!a]', 'a', false],
  ['/?[!a]/', '/[c/', true],
  ['/bcc', '/bcc', true],
  ['b[', 'b[', true],
  ['ac*[a-c]', 'accb', true],
  ['[a-c][ab]?*', 'caac[', true],
  ['[ab][a-c]?', 'aa[', true],
  ['/[ab]/', '/b/', true],
  ['', '', true],
  ['', '', true],
  ['[ab][ab][ab]c', '/aac/!', false],
  ['ba?c[a-c]', '!ca', false],
  ['[ab]/c', '', false],
  ['?', '/', true],
  ['[a-c]b/', 'cb/[', false],
  ['[!a][ab]', 'ca', true],
  ['b', '!', false],
  ['a', 'bcca', false],
  ['[!a]', '/', true],
  ['[ab]/[c', 'a/[c', true],
  ['[[!a][!a]', '', false],
  ['[!a]a*', '/', false],
  ['b', '', false],
  ['', '[', false],
  ['', '', true],
  ['ab*c', 'cc[c/', false],
  ['', '///', false],
  ['b/', '!c', false],
  ['/[a', 'cb![', false],
  ['', '', true],
  ['b?', 'bb', true],
  ['*[', 'c![', true],
  ['c', 'c', true],
  ['*', 'bb', true],
  ['[a-c][ab]aa', 'bbaa', true],
  ['c', 'c', true],
  ['[ab][ab]b', '/', false],
  ['[ab]', '[a/!', false],
  ['bb', 'bb', true],
  ['*[a-c]/[!a][ab]', '///!a', false],
  ['///a/', '///a/', true],
  ['/cc', '/cc', true],
  ['[ab]/[[/', '!!a[!b', false],
  ['**a', '[b', false],
  ['[ab]?[[!a]', 'a![c', false],
  ['c[[!a]', 'c[/', false],
  ['[', 'a/b[', false],
  ['', '', true],
  ['/', '!a[a', false],
  ['[[', '[[', true],
  ['', '', true],
  ['', 'aa', false],
  ['[a-c][ab', '[[[b', false],
  ['?[a-c][[[a-c]', 'bc[[c', false],
  ['[*', '[', true],
  ['b[!a][a-c]', 'b/ab!', false],
  ['b/', 'b/', true],
  ['[ab]/?/[a-c]', '', false],
  ['[a-c]/*', '[/c', false],
  ['*[ab][ab]', 'ac', false],
  ['[a-c][a-c]a[!a]', 'c[aa', false],
  ['b', 'ab', false],
  ['/[!a]', '//', true],
  ['[!a]/', '//', true],
  ['[a-c][ab]b?', 'b/aca', false],
  ['b?bc*', 'a/ac[/', false],
  ['c/', 'babca', false],
  ['*', 'c[', true],
  ['?', 'bccac', false],
  ['', '[[b[/', false],
  ['[a-c]', '!/!/[/', false],
  ['?**[ab]', '!!b/c', false],
  ['', '', true],
  ['', 'c/baa', false],
  ['[!a][?c*', 'b[/c', true],
  ['?', 'cc', false],
  ['[ab]*a?', 'a', false],
  ['[!a]b', '!bb[', false],
  ['', 'ab/[a/', false],
  ['', 'ba[[b', false],
  ['c[!a][ab][a-c]/', '!ba!', false],
  ['[!a][/[', '/[/[', true],
  ['', '', true],
  ['*baa', 'a/', false],
  ['[aa', '[aa', true],
  ['*[a-c]?a[a-c]', '[[a!ac', true],
  ['', '', true],
  ['?b?', 'bb!!//', false],
  ['b[a-c]?', 'bc!', true],
  ['*bc/[ab]', '!c[[b', false],
  ['', 'c!a', false],
  ['*[a-c]?[?', 'a[b', false],
  ['b[a-c]', 'a[/', false],
  ['[!a]*', 'b', true],
  ['b/[?', 'b/[b', true],
  ['[?b[ab]', '/ab', false],
  ['', '', true],
  ['[a-c][!a]?/[!a]', 'ac', false],
  ['', '/a', false],
  ['a', 'a', true],
  ['?[ab]', '[ac', false],
  ['?a?', '!c!bbc', false],
  ['[[ab]*', '[b', true],
  ['[!a][[*b', '//[b!', false],
  ['[a-c]a', 'ca', true],
  ['/', 'cc', false],
  ['?[!a]', 'cc', true],
  ['[!a]b//', '/[b/', false],
  ['[a-c][!a]', 'b', false],
  ['', 'acbc', false],
  ['c*', 'c//', true],
  ['[*[!a]', 'a/c[cb', false],
  ['[[*b?', '[[/b!', true],
  ['[!a]?a', '!/[', false],
  ['ab[!a]', 'ab/', true],
  ['[a-c]*b', '[', false],
  ['b[a-c]b[a', 'b', false],
  ['a?/?', 'a//!', true],
  ['', '[[', false],
  ['[!a]', '[aa[c/', false],
  ['[ab]*', '[', false],
  ['a', 'a', true],
  ['?aa*[a-c]', '!aaab', true],
  ['[!a]', 'b', true],
  ['a[ab][!a]', 'bac', false],
  ['[b*[a-c]*', 'bb/bcc', true],
  ['', '', true],
  ['c/*', 'a[b/a', false],
  ['a', 'a', true],
  ['[!a]', '', false],
  ['[!a]', 'c!aab', false],
  ['*/', '!//', true],
  ['', '/cc/b', false],
  ['', 'ac', false],
  ['b[*', 'c/aa!/', false],
  ['[ab]', 'b', true],
  ['[ab]', 'a!/', false],
  ['[!a]', '', false],
  ['ba?', '', false],
  ['[ab][ab]?[ab]', 'ab!b', true],
  ['?a', '[a', true],
  ['ba*b[a-c]', 'ba/bb', true],
  ['[a-c]/[a-c]', '!c!b[b', false],
  ['[ab][a-c]', '[a[b/b', false],
  ['[!a]', '', false],
  ['[[[ab]', 'aac', false],
  ['b*b[!a]', '/bbb/', false],
  ['c*[', 'cac[', true],
  ['?c', '!c', true],
  ['[a-c]', 'b', true],
  ['?', '[', true],
  ['[ab]', 'b[', false],
  ['*b[a-c]a', 'b/c', false],
  ['', '', true],
  ['b', '[bac', false],
  ['/[a-c]c?', '/cca', true],
];

test('globMatch agrees with Python fnmatch.fnmatchcase on the reference table', () => {
  for (const [pattern, input, expected] of FNMATCH_CASES) {
    assert.equal(
      globMatch(pattern, input),
      expected,
      `globMatch(${JSON.stringify(pattern)}, ${JSON.stringify(input)})`,
    );
  }
});

test('globMatch: * crosses /, ? is exactly one character, classes and negation', () => {
  assert.equal(globMatch('slos://vaults/*', 'slos://vaults/finance/budgets/q1'), true);
  assert.equal(globMatch('slos://vaults/?', 'slos://vaults/ab'), false);
  assert.equal(globMatch('file-[0-9]', 'file-7'), true);
  assert.equal(globMatch('file-[0-9]', 'file-x'), false);
  assert.equal(globMatch('file-[!0-9]', 'file-x'), true);
  assert.equal(globMatch('file-[!0-9]', 'file-7'), false);
  assert.equal(globMatch('a[bc', 'a[bc'), true, 'an unclosed [ is a literal');
  assert.equal(globMatch('a[bc', 'ab'), false);
  assert.equal(globMatch('Finance/*', 'finance/x'), false, 'case-sensitive');
});

test('globMatch refuses oversize patterns and inputs (bounded work)', () => {
  const atLimit = 'a'.repeat(MAX_GLOB_INPUT_LENGTH);
  assert.equal(globMatch('*', atLimit), true);
  assert.equal(globMatch('*', atLimit + 'a'), false);
  const patternAtLimit = '*'.repeat(MAX_GLOB_PATTERN_LENGTH);
  assert.equal(globMatch(patternAtLimit, 'abc'), true);
  assert.equal(globMatch(patternAtLimit + '*', 'abc'), false);
});

test('globMatch answers a hostile pattern and input at the size limits (no exponential backtracking)', () => {
  const pattern = '*a'.repeat(MAX_GLOB_PATTERN_LENGTH / 2 - 1) + '*b';
  const input = 'a'.repeat(MAX_GLOB_INPUT_LENGTH);
  assert.equal(globMatch(pattern, input), false);
});

const CONTAINS_CASES: readonly (readonly [string, string, boolean])[] = [
  ['*', 'anything/at/all*', true],
  ['*', '', true],
  ['slos://vaults/*', 'slos://vaults/finance/*', true],
  ['slos://vaults/finance/*', 'slos://vaults/*', false],
  ['slos://vaults/*/q1', 'slos://vaults/finance/q1', true],
  ['slos://vaults/*/q1', 'slos://vaults/*/q2', false],
  ['a?c', 'abc', true],
  ['a?c', 'a[xy]c', true],
  ['a?c', 'a?c', true],
  ['a?c', 'a*c', false],
  ['abc', 'a?c', false],
  ['abc', 'a[b]c', true],
  ['a[bc]d', 'abd', true],
  ['a[bc]d', 'aed', false],
  ['a[bc]d', 'a[cb]d', true],
  ['a[a-c]d', 'a[ab]d', true],
  ['a[ab]d', 'a[a-c]d', false],
  ['a[!x]d', 'a?d', false],
  ['a[!x]d', 'a[!xy]d', true],
  ['a[!xy]d', 'a[!x]d', false],
  ['a*', '*', false],
  ['a*', 'a', true],
  ['a*b', 'a*x*b', true],
  ['a/*', 'a*', false],
  ['*.txt', 'notes/*.txt', true],
  ['*.txt', 'notes/*', false],
  ['a[', 'a[', true],
  ['a[', 'a?', false],
  ['?', '', false],
  ['', '', true],
  ['', 'a', false],
  ['', '*', false],
];

test('globContains table', () => {
  for (const [parent, child, expected] of CONTAINS_CASES) {
    assert.equal(
      globContains(parent, child),
      expected,
      `globContains(${JSON.stringify(parent)}, ${JSON.stringify(child)})`,
    );
  }
});

test('globContains refuses oversize patterns unless identical, and honours a work budget', () => {
  const long = 'a'.repeat(MAX_GLOB_PATTERN_LENGTH + 1);
  assert.equal(globContains('*', long), false);
  assert.equal(globContains(long, long), true);
  assert.equal(globContains('a*', 'ab', { cells: 0 }), false, 'no budget: not proven');
  assert.equal(globContains('a*', 'a*', { cells: 0 }), true, 'identical needs no work');
  const budget = newGlobWorkBudget(100);
  assert.equal(globContains('a*', 'ab', budget), true);
  assert.ok(budget.cells < 100, 'the budget was charged');
});

test('findUncoveredPattern names the first uncovered child, and fails closed when out of budget', () => {
  assert.equal(findUncoveredPattern(['slos://vaults/*'], ['slos://vaults/a/*', 'slos://vaults/b']), undefined);
  assert.equal(findUncoveredPattern(['slos://vaults/a/*'], ['slos://vaults/a/x', 'slos://other/*']), 'slos://other/*');
  assert.equal(findUncoveredPattern([], ['x']), 'x');
  assert.equal(findUncoveredPattern([], []), undefined);
  // 256 x 256 maximal patterns would be ~2^36 DP cells; the shared budget keeps this quick.
  const parents = Array.from({ length: 256 }, (_, i) => `${'*a'.repeat(511)}${i}`);
  const children = Array.from({ length: 256 }, (_, i) => `${'a*'.repeat(511)}${i}`);
  assert.equal(findUncoveredPattern(parents, children), children[0]);
});

// ---- property tests -------------------------------------------------------------------------

/** One pattern token and how to produce a character it matches. */
type Token = '*' | '?' | 'a' | 'b' | '/' | '[ab]' | '[!a]' | '[a-c]';
const TOKENS: readonly Token[] = ['*', '?', 'a', 'b', '/', '[ab]', '[!a]', '[a-c]'];
const tokenArb = fc.constantFrom(...TOKENS);
const tokensArb = fc.array(tokenArb, { maxLength: 6 });
const render = (tokens: readonly Token[]) => tokens.join('');

/** Characters a single-character token can stand for, and whose choices keep containment. */
const SPECIALIZATIONS: Record<Exclude<Token, '*'>, readonly Token[]> = {
  '?': ['?', 'a', 'b', '/', '[ab]', '[!a]', '[a-c]'],
  a: ['a'],
  b: ['b'],
  '/': ['/'],
  '[ab]': ['[ab]', 'a', 'b'],
  '[!a]': ['[!a]', 'b', '/'],
  '[a-c]': ['[a-c]', '[ab]', 'a', 'b'],
};
const CHARS_OF: Record<Exclude<Token, '*'>, readonly string[]> = {
  '?': ['a', 'b', 'c', '/', 'x'],
  a: ['a'],
  b: ['b'],
  '/': ['/'],
  '[ab]': ['a', 'b'],
  '[!a]': ['b', 'c', '/', 'x'],
  '[a-c]': ['a', 'b', 'c'],
};

/** A child pattern narrower than `parent` by construction (each token specialized). */
function specializationArb(parent: readonly Token[]): fc.Arbitrary<Token[]> {
  if (parent.length === 0) return fc.constant([]);
  return fc
    .tuple(
      ...parent.map((t) =>
        t === '*' ? fc.array(tokenArb, { maxLength: 3 }) : fc.constantFrom(...SPECIALIZATIONS[t]).map((x) => [x]),
      ),
    )
    .map((parts) => parts.flat());
}

/** A string the token sequence matches; `choices` drives the random picks. */
function instantiate(tokens: readonly Token[], choices: readonly number[]): string {
  let k = 0;
  const pick = <T>(xs: readonly T[]): T => xs[(choices[k++ % choices.length] ?? 0) % xs.length] as T;
  let out = '';
  for (const t of tokens) {
    if (t === '*') {
      const n = pick([0, 1, 2, 3]);
      for (let i = 0; i < n; i++) out += pick(['a', 'b', 'c', '/', '[', 'x']);
    } else {
      out += pick(CHARS_OF[t]);
    }
  }
  return out;
}

/** Every string of length <= 3 over a small alphabet: an exhaustive check universe. */
const UNIVERSE: readonly string[] = (() => {
  const alphabet = ['a', 'b', 'c', '/', '[', '!'];
  const out = [''];
  let frontier = [''];
  for (let len = 1; len <= 3; len++) {
    frontier = frontier.flatMap((s) => alphabet.map((ch) => s + ch));
    out.push(...frontier);
  }
  return out;
})();
const choicesArb = fc.array(fc.nat(), { minLength: 1, maxLength: 12 });

test('property: a string instantiated from a pattern matches it', () => {
  fc.assert(
    fc.property(tokensArb, choicesArb, (tokens, choices) => {
      assert.ok(globMatch(render(tokens), instantiate(tokens, choices)));
    }),
    { numRuns: 400 },
  );
});

test('property: globContains is reflexive', () => {
  const patternArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?', '[', ']', '!', '-'), maxLength: 10 });
  fc.assert(
    fc.property(patternArb, (p) => {
      assert.ok(globContains(p, p));
      // Also through the DP, not just the identical-string shortcut: a redundant trailing star
      // changes the string but not the token sequence (appending `*` never closes a class).
      assert.ok(globContains(`${p}*`, `${p}**`));
    }),
    { numRuns: 400 },
  );
});

test('property: a specialized child is contained (the DP finds token-wise narrowing)', () => {
  fc.assert(
    fc.property(
      tokensArb.chain((parent) => fc.tuple(fc.constant(parent), specializationArb(parent))),
      ([parent, child]) => {
        assert.ok(globContains(render(parent), render(child)), `${render(parent)} ⊇ ${render(child)}`);
      },
    ),
    { numRuns: 400 },
  );
});

test('property: containment is sound (contained child matches only what the parent matches)', () => {
  // Half related pairs (so containment is often true), half unrelated ones; raw-string patterns
  // with stray brackets are included so odd parses are covered too.
  const rawPatternArb = fc.string({ unit: fc.constantFrom('a', 'b', '/', '*', '?', '[', ']', '!'), maxLength: 6 });
  const pairArb = fc.oneof(
    tokensArb.chain((parent) => fc.tuple(fc.constant(render(parent)), specializationArb(parent).map(render))),
    fc.tuple(tokensArb.map(render), tokensArb.map(render)),
    fc.tuple(rawPatternArb, rawPatternArb),
  );
  fc.assert(
    fc.property(pairArb, tokensArb, choicesArb, ([parent, child], childTokens, choices) => {
      if (!globContains(parent, child)) return;
      const samples = [...UNIVERSE, instantiate(childTokens, choices)];
      for (const s of samples) {
        if (globMatch(child, s)) {
          assert.ok(globMatch(parent, s), `${parent} ⊇ ${child} but only the child matches ${JSON.stringify(s)}`);
        }
      }
    }),
    { numRuns: 300 },
  );
});

const tokenPairArb: fc.Arbitrary<[Token[], Token[]]> = fc.oneof(
  tokensArb.chain((parent) => fc.tuple(fc.constant(parent), specializationArb(parent))),
  fc.tuple(tokensArb, tokensArb),
);

test('property: soundness on instantiations of the child pattern itself', () => {
  fc.assert(
    fc.property(tokenPairArb, choicesArb, ([parentTokens, childTokens], choices) => {
      const parent = render(parentTokens);
      const child = render(childTokens);
      if (!globContains(parent, child)) return;
      for (let shift = 0; shift < 8; shift++) {
        const s = instantiate(
          childTokens,
          choices.map((x) => x + shift),
        );
        assert.ok(globMatch(parent, s), `${parent} ⊇ ${child} but parent misses ${JSON.stringify(s)}`);
      }
    }),
    { numRuns: 400 },
  );
});

// ---- the linear-time matcher against the old backtracking one --------------------------------

/** Pattern pieces: wildcards, literals (ASCII, BMP, astral, a lone surrogate), classes of all kinds, stray brackets. */
const MATCH_PIECES = [
  '?',
  'a',
  'b',
  '/',
  'é',
  '😀',
  '\ud83d',
  '[ab]',
  '[!a]',
  '[a-c]',
  '[!a-c]',
  '[é-😀]',
  '[!😀]',
  '[]a]',
  '[!]]',
  '[a-]',
  '[z-a]',
  '[',
  ']',
  '!',
  '-',
] as const;
const MATCH_CHARS = ['a', 'b', 'c', '/', 'é', 'ñ', '😀', '😁', '\ud83d', '\ude00', '[', ']', '!', '-', 'z'];
/** Pieces that keep their meaning next to any other piece and accept some character. */
const PLAIN_PIECES = MATCH_PIECES.filter((p) => !['[', ']', '\ud83d', '[z-a]'].includes(p));
/** Characters that stay one code point next to any other (no lone surrogates). */
const PLAIN_CHARS = MATCH_CHARS.filter((c) => !/^[\ud800-\udfff]$/.test(c));

const piecesArb = (pieces: readonly string[], maxLength: number, starWeight: number, pieceWeight: number) =>
  fc.array(
    fc.oneof(
      { arbitrary: fc.constant('*'), weight: starWeight },
      { arbitrary: fc.constantFrom(...pieces), weight: pieceWeight },
    ),
    // size 'max': lengths spread up to maxLength, so star-free runs often exceed one 32-bit word.
    { maxLength, size: 'max' },
  );
const matchPatternArb: fc.Arbitrary<string[]> = fc.oneof(
  piecesArb(PLAIN_PIECES, 120, 1, 12),
  piecesArb(MATCH_PIECES, 10, 1, 2),
  fc.array(fc.constantFrom('a', 'b', '*', '?', '[', ']', '!', '-', '😀'), { maxLength: 12 }),
  // Bracket-heavy: classes that close late or never.
  fc.array(fc.constantFrom('[', '[', ']', '!', 'a', '-', '*'), { maxLength: 40, size: 'max' }),
);

/** A string the pattern (given as its pieces) probably matches: each piece replaced by a character it accepts, stars by short runs. */
function sampleFor(pieces: readonly string[], picks: readonly number[]): string {
  let k = 0;
  const pick = () => picks[k++ % picks.length] ?? 0;
  let out = '';
  for (const piece of pieces) {
    if (piece === '*') {
      for (let n = pick() % 4; n > 0; n--) out += PLAIN_CHARS[pick() % PLAIN_CHARS.length];
    } else {
      const fits = PLAIN_CHARS.filter((ch) => referenceGlobMatch(piece, ch));
      const from = fits.length > 0 ? fits : PLAIN_CHARS;
      out += from[pick() % from.length];
    }
  }
  return out;
}

/** One random edit (change, insert, delete a character), or none. */
function mutate(s: string, picks: readonly number[]): string {
  const chars = [...s];
  const at = (picks[0] ?? 0) % (chars.length + 1);
  const ch = MATCH_CHARS[(picks[1] ?? 0) % MATCH_CHARS.length] as string;
  switch ((picks[2] ?? 0) % 4) {
    case 0:
      chars.splice(at, 1, ch);
      break;
    case 1:
      chars.splice(at, 0, ch);
      break;
    case 2:
      chars.splice(at, 1);
      break;
  }
  return chars.join('');
}

const picksArb = fc.array(fc.nat(), { minLength: 3, maxLength: 40 });
const anyInputArb = fc.string({ unit: fc.constantFrom(...MATCH_CHARS), maxLength: 40 });

test('property: globMatch agrees with the old backtracking matcher', () => {
  fc.assert(
    fc.property(matchPatternArb, picksArb, anyInputArb, (pieces, picks, other) => {
      const pattern = pieces.join('');
      const near = sampleFor(pieces, picks);
      for (const input of [near, mutate(near, picks), mutate(mutate(near, picks.slice(3)), picks), other]) {
        assert.equal(
          globMatch(pattern, input),
          referenceGlobMatch(pattern, input),
          `globMatch(${JSON.stringify(pattern)}, ${JSON.stringify(input)})`,
        );
      }
    }),
    { numRuns: 3000 },
  );
});

test('globMatch: star-free pieces spanning several 32-bit words, at every length around the word size', () => {
  for (const n of [1, 2, 31, 32, 33, 63, 64, 65, 96, 97, 500, 1000]) {
    const piece = 'a'.repeat(n - 1) + 'b';
    const classPiece = '[a-b]'.repeat(Math.min(n, 200) - 1) + '[!a]';
    for (const pattern of [piece, `*${piece}`, `${piece}*`, `*${piece}*`, `x*${piece}*y`, `*${classPiece}*`]) {
      for (const input of [
        piece,
        `a${piece}`,
        `${'a'.repeat(n)}${piece}`,
        `x${'a'.repeat(2 * n)}b${'a'.repeat(n)}y`,
        `x${'a'.repeat(n - 1)}y`,
        `x${piece.slice(1)}y`,
        `${piece}${piece}`,
      ]) {
        assert.equal(
          globMatch(pattern, input),
          referenceGlobMatch(pattern, input),
          `length ${n}: ${pattern.slice(0, 20)}… vs ${input.slice(0, 20)}…`,
        );
      }
    }
  }
});

test('globMatch: compiled-pattern cache eviction does not change answers', () => {
  const patterns = Array.from({ length: 1200 }, (_, i) => `*${i.toString(2)}*[!x]`);
  const inputs = ['1011y', 'a0b', '111111', '10y10z'];
  for (let round = 0; round < 2; round++) {
    for (const p of patterns) {
      for (const s of inputs) assert.equal(globMatch(p, s), referenceGlobMatch(p, s), `${p} vs ${s}`);
    }
  }
});

test('globMatch: adversarial maximum-size patterns and inputs give the reference answers', () => {
  const a = (n: number) => 'a'.repeat(n);
  const input = a(MAX_GLOB_INPUT_LENGTH);
  const shapes = [
    `*${a(1022)}b`,
    `*${'?'.repeat(1022)}b`,
    `*${a(510)}*${a(510)}b`,
    `*${'[a]'.repeat(340)}b`,
    `*${'[!b]'.repeat(255)}b`,
    `${'*a'.repeat(511)}*b`,
    `*${a(1021)}*`,
  ];
  for (const pattern of shapes) {
    assert.ok(pattern.length <= MAX_GLOB_PATTERN_LENGTH);
    for (const s of [input, input.slice(1) + 'b']) {
      assert.equal(globMatch(pattern, s), referenceGlobMatch(pattern, s), pattern.slice(0, 24));
    }
  }
  // The widest compiled tables: ~1,000 distinct characters in one piece (about 2,000 classes).
  let distinct = '';
  for (let c = 0x1000; distinct.length < 1000; c += 2) distinct += String.fromCharCode(c);
  const wide = `*${distinct}*`;
  for (const s of [`x${distinct}y`, `${distinct.slice(0, 500)}${distinct}`, `x${distinct.slice(1)}`, input]) {
    assert.equal(globMatch(wide, s), referenceGlobMatch(wide, s));
  }
  assert.equal(globMatch(wide, `x${distinct}y`), true);
});

test('property: globContains gives the answers of the old containment DP', () => {
  const tokenPatternArb = fc.array(fc.constantFrom(...TOKENS), { maxLength: 8 }).map(render);
  const shortPatterns = piecesArb(MATCH_PIECES, 10, 1, 2).map((pieces) => pieces.join(''));
  const rawPatterns = fc.string({ unit: fc.constantFrom('a', 'b', '*', '?', '[', ']', '!', '-', '😀'), maxLength: 12 });
  const pairArb = fc.oneof(
    tokensArb.chain((parent) => fc.tuple(fc.constant(render(parent)), specializationArb(parent).map(render))),
    fc.tuple(tokenPatternArb, tokenPatternArb),
    fc.tuple(shortPatterns, shortPatterns),
    fc.tuple(rawPatterns, rawPatterns),
  );
  fc.assert(
    fc.property(pairArb, ([parent, child]) => {
      assert.equal(
        globContains(parent, child),
        referenceGlobContains(parent, child),
        `globContains(${JSON.stringify(parent)}, ${JSON.stringify(child)})`,
      );
    }),
    { numRuns: 3000 },
  );
});

test('property: findUncoveredPattern gives the old answers when the budget suffices, and only refusals when not', () => {
  const listArb = fc.array(
    tokensArb.map((t) => render(t)),
    { maxLength: 4 },
  );
  fc.assert(
    fc.property(listArb, listArb, fc.nat({ max: 40 }), (parents, children, cells) => {
      const expected = referenceFindUncoveredPattern(parents, children);
      assert.equal(findUncoveredPattern(parents, children), expected);
      // With a tiny budget, a child may be reported uncovered earlier, never a covered verdict invented.
      const tight = findUncoveredPattern(parents, children, newGlobWorkBudget(cells));
      if (expected !== undefined) assert.notEqual(tight, undefined);
      if (tight !== undefined) assert.ok(children.indexOf(tight) <= children.indexOf(expected ?? tight));
    }),
    { numRuns: 1000 },
  );
});

test('findUncoveredPattern: an adversarial batch runs out of budget and fails closed', () => {
  // Each pair tries ~500 child positions with up to 500 comparisons each: far more than the default
  // budget for the whole batch, so the first child is reported uncovered and the budget is spent.
  const parents = Array.from({ length: 64 }, (_, i) => `*${'a'.repeat(500)}${i}*`);
  const children = Array.from({ length: 64 }, (_, i) => `${'a'.repeat(1000)}*${i}`);
  const budget = newGlobWorkBudget();
  assert.equal(findUncoveredPattern(parents, children, budget), children[0]);
  assert.equal(budget.cells, 0, 'spent');
  // A child those parents do contain is proven so within a fresh budget.
  assert.equal(findUncoveredPattern(parents, [`${'a'.repeat(500)}7*x`, `b${'a'.repeat(500)}7`]), undefined);
});
