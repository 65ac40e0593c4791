/**
 * The glob matcher and containment check as they were before matching was made linear (commit
 * 4ae29a9): the two-pointer backtracking matcher, O(|pattern| x |input|), and the containment DP,
 * O(|parent| x |child|) cells with the old cell budget. Kept verbatim as the reference the property
 * tests in glob.test.ts compare the current implementation with, and as the baseline measured in
 * the same run by bench/glob.ts. Not used by the library.
 */
import { MAX_GLOB_INPUT_LENGTH, MAX_GLOB_PATTERN_LENGTH } from '../src/glob';

const MAX_CODE_POINT = 0x10ffff;

/** Sorted, disjoint, non-adjacent inclusive code-point ranges: the characters a token matches. */
type CharSet = readonly (readonly [number, number])[];

type GlobToken = { readonly kind: 'star' } | { readonly kind: 'char'; readonly set: CharSet };

const STAR: GlobToken = { kind: 'star' };
const ANY_CHAR: CharSet = [[0, MAX_CODE_POINT]];

function codePoints(s: string): number[] {
  const out: number[] = [];
  for (const ch of s) out.push(ch.codePointAt(0) as number);
  return out;
}

function normalize(ranges: [number, number][]): [number, number][] {
  const sorted = ranges.filter(([lo, hi]) => lo <= hi).sort((a, b) => a[0] - b[0]);
  const out: [number, number][] = [];
  for (const [lo, hi] of sorted) {
    const last = out[out.length - 1];
    if (last !== undefined && lo <= last[1] + 1) last[1] = Math.max(last[1], hi);
    else out.push([lo, hi]);
  }
  return out;
}

function complement(set: CharSet): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

/**
 * Splits a pattern into tokens the way Python's `fnmatch.translate` reads it. `*` runs collapse
 * into one star (same language, less work).
 */
function tokenize(pattern: string): GlobToken[] {
  const p = codePoints(pattern);
  const tokens: GlobToken[] = [];
  const STAR_CP = 0x2a;
  const QUESTION_CP = 0x3f;
  const OPEN_CP = 0x5b;
  const CLOSE_CP = 0x5d;
  const BANG_CP = 0x21;
  const DASH_CP = 0x2d;
  let i = 0;
  while (i < p.length) {
    const c = p[i] as number;
    i++;
    if (c === STAR_CP) {
      if (tokens[tokens.length - 1] !== STAR) tokens.push(STAR);
      continue;
    }
    if (c === QUESTION_CP) {
      tokens.push({ kind: 'char', set: ANY_CHAR });
      continue;
    }
    if (c === OPEN_CP) {
      // Find the closing bracket: an optional `!`, then a `]` that is a member, then up to `]`.
      let j = i;
      if (j < p.length && p[j] === BANG_CP) j++;
      if (j < p.length && p[j] === CLOSE_CP) j++;
      while (j < p.length && p[j] !== CLOSE_CP) j++;
      if (j >= p.length) {
        tokens.push({ kind: 'char', set: [[OPEN_CP, OPEN_CP]] }); // unclosed: a literal `[`
        continue;
      }
      let k = i;
      const negated = p[k] === BANG_CP;
      if (negated) k++;
      const ranges: [number, number][] = [];
      while (k < j) {
        const lo = p[k] as number;
        // `x-y` is a range when a character follows the `-` inside the class; otherwise literal.
        if (k + 2 < j && p[k + 1] === DASH_CP) {
          ranges.push([lo, p[k + 2] as number]);
          k += 3;
        } else {
          ranges.push([lo, lo]);
          k++;
        }
      }
      const members = normalize(ranges);
      tokens.push({ kind: 'char', set: negated ? complement(members) : members });
      i = j + 1;
      continue;
    }
    tokens.push({ kind: 'char', set: [[c, c]] });
  }
  return tokens;
}

function setHas(set: CharSet, cp: number): boolean {
  let lo = 0;
  let hi = set.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const range = set[mid] as readonly [number, number];
    if (cp < range[0]) hi = mid - 1;
    else if (cp > range[1]) lo = mid + 1;
    else return true;
  }
  return false;
}

/** Is every character of `inner` also in `outer`? (Both normalized, so a linear merge works.) */
function setSubset(inner: CharSet, outer: CharSet): boolean {
  let o = 0;
  for (const [lo, hi] of inner) {
    while (o < outer.length && (outer[o] as readonly [number, number])[1] < lo) o++;
    const range = outer[o];
    if (range === undefined || range[0] > lo || range[1] < hi) return false;
  }
  return true;
}

/**
 * Does `input` match `pattern` under fnmatch rules (whole-string, case-sensitive)? A pattern over
 * MAX_GLOB_PATTERN_LENGTH or an input over MAX_GLOB_INPUT_LENGTH (in UTF-16 units) returns false,
 * so the work stays bounded; callers using globs as deny lists must treat oversize input as denied.
 */
export function referenceGlobMatch(pattern: string, input: string): boolean {
  if (pattern.length > MAX_GLOB_PATTERN_LENGTH || input.length > MAX_GLOB_INPUT_LENGTH) return false;
  const tokens = tokenize(pattern);
  const s = codePoints(input);
  let pi = 0;
  let si = 0;
  // Position after the most recent star, and the input position that star is known to cover up to.
  // Backtracking only to the latest star is enough: it can absorb anything an earlier one could.
  let afterStar = -1;
  let starInput = 0;
  while (si < s.length) {
    const token = tokens[pi];
    if (token !== undefined && token.kind === 'char' && setHas(token.set, s[si] as number)) {
      pi++;
      si++;
    } else if (token !== undefined && token.kind === 'star') {
      pi++;
      afterStar = pi;
      starInput = si;
    } else if (afterStar >= 0) {
      starInput++;
      pi = afterStar;
      si = starInput;
    } else {
      return false;
    }
  }
  while (pi < tokens.length && (tokens[pi] as GlobToken).kind === 'star') pi++;
  return pi === tokens.length;
}

/**
 * A shared allowance of DP cells for a batch of containment checks, so that many long patterns
 * (e.g. 256 x 256 patterns of 1024 chars in one request) cannot make a check take seconds. Once
 * it runs out, further checks answer false, which is always sound.
 */
interface GlobWorkBudget {
  cells: number;
}

/** Default allowance for one batch (findUncoveredPattern, constraint narrowing): a few ms of work. */
const DEFAULT_GLOB_WORK_BUDGET_CELLS = 1 << 22;

/** A fresh budget for one batch of containment checks. */
function newGlobWorkBudget(cells: number = DEFAULT_GLOB_WORK_BUDGET_CELLS): GlobWorkBudget {
  return { cells };
}

/**
 * SOUND containment: true only if every string `child` matches is also matched by `parent`.
 * It may answer false for some true containments (it is incomplete), never true for a false one.
 *
 * The child is read as a token sequence; a parent `*` consumes any run of child tokens (including
 * child `*`), and a parent single-character token (literal, `?`, class) consumes exactly one child
 * single-character token whose character set is a subset of its own. Identical strings are
 * trivially contained. Bottom-up DP over (parent suffix, child suffix), O(|parent| x |child|);
 * with a `budget`, the DP is skipped (answer false) when it would exceed what is left.
 */
export function referenceGlobContains(parent: string, child: string, budget?: GlobWorkBudget): boolean {
  if (parent === child) return true;
  if (parent.length > MAX_GLOB_PATTERN_LENGTH || child.length > MAX_GLOB_PATTERN_LENGTH) return false;
  return tokensContain(tokenize(parent), tokenize(child), budget);
}

function tokensContain(p: readonly GlobToken[], c: readonly GlobToken[], budget: GlobWorkBudget | undefined): boolean {
  const width = c.length + 1;
  if (budget !== undefined) {
    const cells = p.length * width;
    if (cells > budget.cells) return false; // out of budget: "not proven", which is the safe answer
    budget.cells -= cells;
  }
  // below[j] = contains(p[i+1:], c[j:]); row[j] = contains(p[i:], c[j:]).
  let below = new Uint8Array(width);
  let row = new Uint8Array(width);
  below[c.length] = 1; // empty parent contains only the empty child
  for (let i = p.length - 1; i >= 0; i--) {
    const pt = p[i] as GlobToken;
    row[c.length] = pt.kind === 'star' ? (below[c.length] as number) : 0;
    for (let j = c.length - 1; j >= 0; j--) {
      const ct = c[j] as GlobToken;
      if (pt.kind === 'star') {
        // Match nothing here, or absorb the child token and stay on the star.
        row[j] = below[j] || row[j + 1] ? 1 : 0;
      } else if (ct.kind === 'char' && setSubset(ct.set, pt.set)) {
        row[j] = below[j + 1] as number;
      } else {
        row[j] = 0;
      }
    }
    [below, row] = [row, below];
  }
  return below[0] === 1;
}

/**
 * The first child pattern no parent pattern contains (undefined when all are covered). The whole
 * batch shares one work budget; a pattern whose containment could not be proven within it is
 * reported as uncovered (fail closed).
 */
export function referenceFindUncoveredPattern(
  parents: readonly string[],
  children: readonly string[],
  budget: GlobWorkBudget = newGlobWorkBudget(),
): string | undefined {
  const usable = (pattern: string) => pattern.length <= MAX_GLOB_PATTERN_LENGTH;
  // Tokenize each pattern once, not once per pair.
  const parentTokens = parents.map((p) => (usable(p) ? tokenize(p) : undefined));
  return children.find((child) => {
    const childTokens = usable(child) ? tokenize(child) : undefined;
    return !parents.some((parent, i) => {
      if (parent === child) return true;
      const pt = parentTokens[i];
      return pt !== undefined && childTokens !== undefined && tokensContain(pt, childTokens, budget);
    });
  });
}
