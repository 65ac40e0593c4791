// Glob matching and containment cost, against the previous algorithms measured in the same run
// (test/glob-reference.ts: the two-pointer backtracking matcher and the containment DP).
//   glob.worst_case: ms per globMatch of a ~1 KiB adversarial pattern against a 4 KiB adversarial
//     resource, one line per shape and one for the slowest shape (target: well under 1 ms)
//   glob.typical: µs per globMatch of everyday patterns (compiled pattern cached, as in a server)
//   glob.novel_pattern: µs per globMatch of a 1 KiB pattern never seen before (compiled each time)
//     against a 1 KiB resource
//   glob.containment_worst_case: ms per findUncoveredPattern call, 64 parents x 64 children of
//     ~1 KiB each, default work budget (target: a few ms)
// Each figure is the median of 5 rounds that alternate the two implementations (same machine load).
// No infrastructure needed: `node packages/core/dist/bench/glob.js` (about a minute).
import { bench } from '@authority/test-helpers';
import { MAX_GLOB_INPUT_LENGTH, MAX_GLOB_PATTERN_LENGTH, findUncoveredPattern, globMatch } from '../src/glob';
import { referenceFindUncoveredPattern, referenceGlobMatch } from '../test/glob-reference';

// One JSON line per result with the machine it ran on, as every benchmark prints (test-helpers).
const { report, round } = bench;

/** Mean ms per call of `fn` over at most `maxOps` calls or about `maxMs` of them. */
function msPerCall(fn: (i: number) => unknown, maxMs: number, maxOps: number, offset: number): number {
  const start = performance.now();
  let ops = 0;
  while (ops < maxOps && performance.now() - start < maxMs) fn(offset + ops++);
  return (performance.now() - start) / ops;
}

const median = (xs: number[]) => [...xs].sort((x, y) => x - y)[Math.floor(xs.length / 2)] as number;

/**
 * Median ms per call of the current and the previous implementation, measured in alternating
 * rounds (so that both see the same machine load) after a warm-up.
 */
function compare(
  now: (i: number) => unknown,
  before: (i: number) => unknown,
  opts: { rounds?: number; maxMs: number; maxOps: number; beforeMaxOps?: number },
): { now: number; before: number } {
  const rounds = opts.rounds ?? 5;
  for (let i = 0; i < 3; i++) {
    now(i);
    before(i);
  }
  const n: number[] = [];
  const b: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const offset = r * opts.maxOps;
    if (r % 2 === 0) {
      n.push(msPerCall(now, opts.maxMs, opts.maxOps, offset));
      b.push(msPerCall(before, opts.maxMs, opts.beforeMaxOps ?? opts.maxOps, offset));
    } else {
      b.push(msPerCall(before, opts.maxMs, opts.beforeMaxOps ?? opts.maxOps, offset));
      n.push(msPerCall(now, opts.maxMs, opts.maxOps, offset));
    }
  }
  return { now: median(n), before: median(b) };
}

const a = (n: number) => 'a'.repeat(n);
const resource = a(MAX_GLOB_INPUT_LENGTH);

/** Adversarial shapes: [name, pattern, resource]. Each pattern is at most 1 KiB. */
const WORST: readonly (readonly [string, string, string])[] = [
  ['long-literal-run', `*${a(1022)}b`, resource],
  ['long-any-run', `*${'?'.repeat(1022)}b`, resource],
  ['long-class-run', `*${'[!b]'.repeat(255)}b`, resource],
  ['two-runs', `*${a(510)}*${a(510)}b`, resource],
  ['many-stars', `${'*a'.repeat(511)}*b`, resource],
  ['periodic-near-miss', `*${'ab'.repeat(511)}c`, 'ab'.repeat(MAX_GLOB_INPUT_LENGTH / 2)],
  ['astral-classes', `*${'[😀-😂]'.repeat(146)}x`, '😁'.repeat(MAX_GLOB_INPUT_LENGTH / 2)],
];

/** Everyday patterns and resources (policy resources, deny lists). */
const TYPICAL_PATTERNS = [
  'slos://vaults/finance/*',
  'slos://vaults/*/secret',
  'https://api.example.com/v1/customers/*/invoices/*',
  '*.pdf',
  's3://bucket-[0-9]/reports/202?/*',
  'slos://vaults/hr/*',
  'file:///etc/*',
  '*/.ssh/*',
];
const TYPICAL_RESOURCES = [
  'slos://vaults/finance/budgets/q1-2026',
  'https://api.example.com/v1/customers/c_123/invoices/inv_456',
  's3://bucket-7/reports/2025/summary.pdf',
  'file:///home/agent/.ssh/id_ed25519',
];

function worstCase(): void {
  let maxNew = 0;
  let maxOld = 0;
  for (const [shape, pattern, input] of WORST) {
    if (pattern.length > MAX_GLOB_PATTERN_LENGTH || input.length > MAX_GLOB_INPUT_LENGTH) {
      throw new Error(`${shape}: over the size limits`);
    }
    const answer = globMatch(pattern, input);
    if (answer !== referenceGlobMatch(pattern, input)) throw new Error(`${shape}: the two algorithms disagree`);
    const { now, before } = compare(
      () => globMatch(pattern, input),
      () => referenceGlobMatch(pattern, input),
      { maxMs: 300, maxOps: 20_000, beforeMaxOps: 40 },
    );
    maxNew = Math.max(maxNew, now);
    maxOld = Math.max(maxOld, before);
    report({
      name: 'glob.worst_case',
      shape,
      pattern_chars: pattern.length,
      resource_chars: input.length,
      matches: answer,
      unit: 'ms_per_match',
      value: round(now, 4),
      baseline: { algorithm: 'two-pointer backtracking (previous)', value: round(before, 3) },
      speedup: round(before / now, 1),
    });
  }
  report({
    name: 'glob.worst_case',
    shape: 'slowest',
    unit: 'ms_per_match',
    value: round(maxNew, 4),
    baseline: { algorithm: 'two-pointer backtracking (previous)', value: round(maxOld, 3) },
    target: { ms_per_match: 1 },
    meets_target: maxNew < 1,
  });
}

function typical(): void {
  const pairs = TYPICAL_PATTERNS.flatMap((p) => TYPICAL_RESOURCES.map((r) => [p, r] as const));
  const run = (match: (p: string, r: string) => boolean) => () => {
    let hits = 0;
    for (const [p, r] of pairs) if (match(p, r)) hits++;
    return hits;
  };
  const timing = compare(run(globMatch), run(referenceGlobMatch), { maxMs: 300, maxOps: 100_000 });
  const now = timing.now / pairs.length;
  const before = timing.before / pairs.length;
  report({
    name: 'glob.typical',
    patterns: TYPICAL_PATTERNS.length,
    resources: TYPICAL_RESOURCES.length,
    unit: 'us_per_match',
    value: round(now * 1000, 3),
    baseline: { algorithm: 'two-pointer backtracking (previous)', value: round(before * 1000, 3) },
  });
}

function novelPattern(): void {
  let distinctChars = '';
  for (let c = 0x1000; distinctChars.length < 1019; c += 2) distinctChars += String.fromCharCode(c);
  // A fresh pattern string each call (distinct suffix), so every call compiles (and the cache churns).
  const shapes: readonly (readonly [string, (i: number) => string])[] = [
    ['literal', (i) => `${'abcdefgh'.repeat(127)}${i}`],
    ['many-stars', (i) => `${'*a'.repeat(508)}${i}`],
    ['classes', (i) => `*${'[!a-z0-9]'.repeat(112)}${i}`],
    ['unclosed-brackets', (i) => `${'['.repeat(1020)}${i}`],
    // 1,019 distinct characters in one piece: the widest compiled tables (~2^16 words).
    ['distinct-chars', (i) => `*${distinctChars}${String(i).padStart(4, '0')}`],
  ];
  const input = 'abcdefgh'.repeat(128);
  for (const [shape, make] of shapes) {
    const patterns = Array.from({ length: 12_000 }, (_, i) => make(i));
    const pick = (i: number) => patterns[i % patterns.length] as string;
    const { now, before } = compare(
      (i) => globMatch(pick(i), input),
      (i) => referenceGlobMatch(pick(i), input),
      { maxMs: 300, maxOps: 2000 },
    );
    report({
      name: 'glob.novel_pattern',
      shape,
      pattern_chars: pick(0).length,
      resource_chars: input.length,
      unit: 'us_per_match',
      value: round(now * 1000, 1),
      baseline: {
        algorithm: 'two-pointer backtracking (previous; tokenizes on every call)',
        value: round(before * 1000, 1),
      },
    });
  }
}

function containment(): void {
  const range = (n: number, f: (i: number) => string) => Array.from({ length: n }, (_, i) => f(i));
  let wideClass = '[';
  for (let c = 0x100; wideClass.length < 1000; c += 2) wideClass += String.fromCharCode(c);
  wideClass += ']';
  const last = String.fromCharCode(0x100 + 2 * (wideClass.length - 3));
  const shapes: readonly (readonly [string, string[], string[]])[] = [
    ['long-runs', range(64, (i) => `*${a(500)}${i}*`), range(64, (i) => `${a(1000)}*${i}`)],
    ['wide-class-vs-literals', range(64, (i) => `*${wideClass}*${i}`), range(64, (i) => `*${last.repeat(1000)}*${i}`)],
    ['star-a-vs-a-star', range(64, (i) => `${'*a'.repeat(500)}${i}`), range(64, (i) => `${'a*'.repeat(500)}${i}`)],
    // Legitimate: every child narrows the last parent only.
    [
      'covered-by-last-parent',
      range(64, (i) => `slos://vaults/${i}/${'x'.repeat(960)}/*`),
      range(64, (i) => `slos://vaults/63/${'x'.repeat(960)}/${i}/*`),
    ],
    // The same, but parents and children share 960-character prefixes: ~64 x 64 x 1,000
    // comparisons, more than the default budget allows, so the narrowing is refused (fail closed),
    // before and now.
    [
      'covered-by-last-parent-shared-prefixes',
      range(64, (i) => `slos://vaults/${'x'.repeat(960)}/${i}/*`),
      range(64, (i) => `slos://vaults/${'x'.repeat(960)}/63/${i}/*`),
    ],
  ];
  for (const [shape, parents, children] of shapes) {
    const answer = findUncoveredPattern(parents, children);
    const { now, before } = compare(
      () => findUncoveredPattern(parents, children),
      () => referenceFindUncoveredPattern(parents, children),
      { maxMs: 300, maxOps: 100, beforeMaxOps: 5 },
    );
    report({
      name: 'glob.containment_worst_case',
      shape,
      parents: parents.length,
      children: children.length,
      longest_pattern_chars: Math.max(...parents.map((p) => p.length), ...children.map((c) => c.length)),
      all_covered: answer === undefined,
      unit: 'ms_per_call',
      value: round(now, 3),
      baseline: {
        algorithm: 'containment DP with the previous cell budget (previous)',
        value: round(before, 3),
        all_covered: referenceFindUncoveredPattern(parents, children) === undefined,
      },
    });
  }
}

worstCase();
typical();
novelPattern();
containment();
