/**
 * Glob patterns with Python `fnmatch.fnmatchcase` semantics (the original's `denied_resources`
 * matching): matching a string, and sound containment between two patterns.
 *
 * Syntax: `*` matches any run of characters including `/`; `?` matches one character; `[...]` is a
 * class (`[!...]` negated, `a-z` ranges, a `]` right after `[` or `[!` is a member, a `-` first or
 * last is a member, an empty range such as `z-a` matches nothing); a `[` without a closing `]` is a
 * literal `[`; everything else (including `\`) is literal. Matching is case-sensitive and works on
 * Unicode code points.
 *
 * Cost (patterns are capped at MAX_GLOB_PATTERN_LENGTH, inputs at MAX_GLOB_INPUT_LENGTH). No
 * regular expression is ever built from a pattern and nothing backtracks.
 * - Matching is linear in the input. globMatch compiles a pattern into its star-free pieces, each
 *   a bit-parallel (Shift-And) automaton over the piece's own character classes, and then reads
 *   each input code point once: O(n x ceil(p / 32) x log c) for n input code points, a longest
 *   piece of p tokens and c classes in a piece; at most 32 word operations per character. A 1 KiB
 *   pattern against a 4 KiB input takes tens of microseconds whatever their shapes
 *   (packages/core/bench/glob.ts).
 * - Compiling is linear in the pattern but for sorting: O(m + r log r + T) for m tokens and r
 *   class ranges, where the tables take T = sum over pieces of (classes x ceil(p / 32)) words,
 *   with classes <= 2r + 1 per piece and ceil(p / 32) <= 32, so T <= 64r + 32 (the widest,
 *   1,024 distinct characters in one piece, is ~2^16 words). Tens of microseconds for a 1 KiB
 *   pattern, a few hundred for the widest tables. Compiled patterns are kept in an LRU cache
 *   bounded in entries and in table words, keyed by the pattern text.
 * - Containment (globContains, findUncoveredPattern) places the parent's pieces greedily among the
 *   child's tokens: O(|parent| x |child|) token comparisons at worst, about |child| typically, all
 *   charged to a work budget shared by a batch, which bounds a batch to a few milliseconds.
 *
 * Size: matching and containment share the compiled pattern; containment is only sound against the
 * matcher's exact semantics, kept next to it.
 */

/** Longest pattern accepted; longer patterns match nothing and contain nothing. */
export const MAX_GLOB_PATTERN_LENGTH = 1024;
/** Longest input accepted by globMatch; a longer input matches no pattern. */
export const MAX_GLOB_INPUT_LENGTH = 4096;

const MAX_CODE_POINT = 0x10ffff;
const STAR_CP = 0x2a;
const QUESTION_CP = 0x3f;
const OPEN_CP = 0x5b;
const CLOSE_CP = 0x5d;
const BANG_CP = 0x21;
const DASH_CP = 0x2d;

/**
 * A pattern's tokens, flat (no object per token). Token t is a star when star[t] is 1; otherwise it
 * matches one character among its ranges: the inclusive code-point ranges
 * [ranges[2k], ranges[2k + 1]] for k in [first[t], first[t + 1]), sorted, disjoint and non-adjacent
 * (none at all for a class that matches nothing, such as `[z-a]`). A run of `*` is one star token.
 */
interface Tokens {
  readonly count: number;
  readonly star: Uint8Array;
  readonly first: Int32Array;
  readonly ranges: Int32Array;
}

/** Decodes `s` into `out` as code points (a lone surrogate is a code point of its own); the count. */
function decodeInto(s: string, out: Int32Array): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    let c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        c = ((c - 0xd800) << 10) + (d - 0xdc00) + 0x10000;
        i++;
      }
    }
    out[n++] = c;
  }
  return n;
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

function complement(set: readonly (readonly [number, number])[]): [number, number][] {
  const out: [number, number][] = [];
  let next = 0;
  for (const [lo, hi] of set) {
    if (lo > next) out.push([next, lo - 1]);
    next = hi + 1;
  }
  if (next <= MAX_CODE_POINT) out.push([next, MAX_CODE_POINT]);
  return out;
}

// Tokenizing is synchronous and calls out to nothing, so scratch buffers serve every call: the
// pattern's code points, and the token arrays under construction (no token has more ranges than
// it spans code points: a class of k members spans at least k + 2 and has at most k + 1 ranges,
// negated; so 2n range ends always suffice for n code points).
const patternCodePoints = new Int32Array(MAX_GLOB_PATTERN_LENGTH);
const starScratch = new Uint8Array(MAX_GLOB_PATTERN_LENGTH);
const firstScratch = new Int32Array(MAX_GLOB_PATTERN_LENGTH + 1);
const rangeScratch = new Int32Array(2 * MAX_GLOB_PATTERN_LENGTH + 2);

/**
 * Splits a pattern into tokens the way Python's `fnmatch.translate` reads it. `*` runs collapse
 * into one star (same language, less work). O(|pattern|), plus sorting each class's members.
 */
function tokenize(pattern: string): Tokens {
  const fits = pattern.length <= MAX_GLOB_PATTERN_LENGTH;
  const p = fits ? patternCodePoints : new Int32Array(pattern.length);
  const n = decodeInto(pattern, p);
  const star = fits ? starScratch : new Uint8Array(n);
  const first = fits ? firstScratch : new Int32Array(n + 1);
  const ranges = fits ? rangeScratch : new Int32Array(2 * n + 2);
  let count = 0;
  let r = 0; // range ends written
  // Once a `[` finds no `]` after it, no later `[` can: they are all literal. (Without this, a
  // pattern of many unclosed `[` would take quadratic time to read.)
  let closable = true;
  let i = 0;
  while (i < n) {
    const c = p[i] as number;
    i++;
    if (c === STAR_CP) {
      if (count === 0 || star[count - 1] === 0) {
        first[count] = r / 2;
        star[count++] = 1;
      }
      continue;
    }
    first[count] = r / 2;
    star[count++] = 0;
    if (c === QUESTION_CP) {
      ranges[r++] = 0;
      ranges[r++] = MAX_CODE_POINT;
      continue;
    }
    if (c === OPEN_CP) {
      // Find the closing bracket: an optional `!`, then a `]` that is a member, then up to `]`.
      let j = i;
      if (j < n && p[j] === BANG_CP) j++;
      if (j < n && p[j] === CLOSE_CP) j++;
      while (closable && j < n && p[j] !== CLOSE_CP) j++;
      if (!closable || j >= n) {
        closable = false;
        ranges[r++] = OPEN_CP; // unclosed: a literal `[`
        ranges[r++] = OPEN_CP;
        continue;
      }
      let k = i;
      const negated = p[k] === BANG_CP;
      if (negated) k++;
      const members: [number, number][] = [];
      while (k < j) {
        const lo = p[k] as number;
        // `x-y` is a range when a character follows the `-` inside the class; otherwise literal.
        if (k + 2 < j && p[k + 1] === DASH_CP) {
          members.push([lo, p[k + 2] as number]);
          k += 3;
        } else {
          members.push([lo, lo]);
          k++;
        }
      }
      const set = normalize(members);
      const classRanges = negated ? complement(set) : set;
      // Cannot happen (see above), but a typed array drops writes past its end silently.
      if (r + 2 * classRanges.length > ranges.length) throw new Error('glob tokenizer: range buffer too small');
      for (const [lo, hi] of classRanges) {
        ranges[r++] = lo;
        ranges[r++] = hi;
      }
      i = j + 1;
      continue;
    }
    ranges[r++] = c;
    ranges[r++] = c;
  }
  first[count] = r / 2;
  return { count, star: star.slice(0, count), first: first.slice(0, count + 1), ranges: ranges.slice(0, r) };
}

/**
 * The star-free pieces of a token sequence, as [from, to) token-index pairs, flat: there is one
 * piece more than there are stars (the first is what precedes the first star, the last what
 * follows the last star; a pattern without a star is a single piece).
 */
function pieceBounds(tokens: Tokens): number[] {
  const bounds: number[] = [];
  let from = 0;
  for (let t = 0; t < tokens.count; t++) {
    if (tokens.star[t] === 1) {
      bounds.push(from, t);
      from = t + 1;
    }
  }
  bounds.push(from, tokens.count);
  return bounds;
}

// ---- matching ---------------------------------------------------------------------------------
//
// A pattern is `head * middle[0] * ... * middle[k-1] * tail` where every piece is a fixed-length
// run of single-character tokens. An input matches iff it starts with something `head` matches,
// ends with something `tail` matches (not overlapping the head), and the middle pieces occur in
// order, without overlap, in between. Taking the leftmost occurrence of each middle piece is
// always right: a later occurrence leaves strictly less room for the pieces after it, and the
// stars absorb whatever lies between. Each piece is found with Shift-And: one bit per token, the
// state after reading an input character is ((state << 1) | 1) & mask[character]; the scans of
// successive pieces cover disjoint stretches of the input, so the whole match reads each input
// character once.

/**
 * A compiled pattern is one Int32Array. It starts with a 5-word header per star-free piece, in
 * pattern order: the piece's length in tokens (each matches exactly one character), its state size
 * in 32-bit words (ceil(length / 32), at least 1), and the offsets of its class starts, its class
 * count and the offset of its rows. Class k of a piece holds the code points from its k-th start up
 * to the next start (the last class runs to U+10FFFF); every token's set is a union of classes. Row
 * k is `words` words in which bit j is set iff token j of the piece matches the characters of class k.
 */
const LENGTH = 0;
const WORDS = 1;
const STARTS = 2;
const CLASSES = 3;
const ROWS = 4;
const HEADER = 5;

/** Sorts a[from, to) ascending: insertion sort for short runs, the native numeric sort otherwise. */
function sortRange(a: Int32Array, from: number, to: number): void {
  if (to - from > 32) {
    a.subarray(from, to).sort();
    return;
  }
  for (let i = from + 1; i < to; i++) {
    const v = a[i] as number;
    let j = i - 1;
    while (j >= from && (a[j] as number) > v) {
      a[j + 1] = a[j] as number;
      j--;
    }
    a[j + 1] = v;
  }
}

/** Index of the class holding code point `cp`: the last start <= cp among data[from, from + count). */
function classOf(data: Int32Array, from: number, count: number, cp: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >>> 1;
    if ((data[from + mid] as number) <= cp) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

// Compiling is synchronous too: scratch space for class starts (at most one per piece and two per
// range, and a maximal pattern has at most 1025 pieces and 1024 ranges), and a table that
// deduplicates small code points.
const pointScratch = new Int32Array(3 * MAX_GLOB_PATTERN_LENGTH + 1);
const SMALL_POINTS = 256;
const smallSeen = new Uint8Array(SMALL_POINTS);

/** O(m + r log r + classes x words) for a pattern of m tokens with r ranges. */
function compileGlob(pattern: string): Int32Array {
  const tokens = tokenize(pattern);
  const { first, ranges } = tokens;
  const bounds = pieceBounds(tokens);
  const pieceCount = bounds.length / 2;
  // Each piece's class starts: 0 and just past either end of every range, sorted, deduplicated.
  let pointCount = pieceCount;
  for (let k = 0; k < pieceCount; k++) {
    pointCount += 2 * ((first[bounds[2 * k + 1] as number] as number) - (first[bounds[2 * k] as number] as number));
  }
  const points = pointCount <= pointScratch.length ? pointScratch : new Int32Array(pointCount);
  const partitions: number[] = []; // per piece: where its starts begin in `points`, how many
  let end = 0;
  let total = HEADER * pieceCount;
  const add = (point: number) => {
    // Small points are deduplicated as they come, so literal-heavy pieces sort little.
    if (point < SMALL_POINTS) {
      if (smallSeen[point] === 1) return;
      smallSeen[point] = 1;
    }
    points[end++] = point;
  };
  for (let k = 0; k < pieceCount; k++) {
    const from = end;
    add(0);
    const rangeTo = first[bounds[2 * k + 1] as number] as number;
    for (let r = first[bounds[2 * k] as number] as number; r < rangeTo; r++) {
      add(ranges[2 * r] as number);
      const hi = ranges[2 * r + 1] as number;
      if (hi < MAX_CODE_POINT) add(hi + 1);
    }
    for (let i = from; i < end; i++) if ((points[i] as number) < SMALL_POINTS) smallSeen[points[i] as number] = 0;
    sortRange(points, from, end);
    let distinct = from + 1;
    for (let i = from + 1; i < end; i++) {
      if (points[i] !== points[distinct - 1]) points[distinct++] = points[i] as number;
    }
    partitions.push(from, distinct - from);
    end = distinct;
    const words = Math.max(1, Math.ceil(((bounds[2 * k + 1] as number) - (bounds[2 * k] as number)) / 32));
    total += (distinct - from) * (1 + words);
  }
  const data = new Int32Array(total);
  let size = HEADER * pieceCount;
  for (let k = 0; k < pieceCount; k++) {
    const tokenFrom = bounds[2 * k] as number;
    const length = (bounds[2 * k + 1] as number) - tokenFrom;
    const words = Math.max(1, Math.ceil(length / 32));
    const classes = partitions[2 * k + 1] as number;
    const starts = size;
    const rows = starts + classes;
    size = rows + classes * words;
    const h = HEADER * k;
    data[h + LENGTH] = length;
    data[h + WORDS] = words;
    data[h + STARTS] = starts;
    data[h + CLASSES] = classes;
    data[h + ROWS] = rows;
    const pointsFrom = partitions[2 * k] as number;
    for (let c = 0; c < classes; c++) data[starts + c] = points[pointsFrom + c] as number;
    // Mark where each token's ranges start and end as toggles, then prefix-XOR down the classes:
    // each token's bit ends up set in exactly the classes its ranges cover.
    for (let j = 0; j < length; j++) {
      const word = rows + (j >>> 5);
      const bit = 1 << (j & 31);
      const t = tokenFrom + j;
      for (let r = first[t] as number; r < (first[t + 1] as number); r++) {
        const at = word + classOf(data, starts, classes, ranges[2 * r] as number) * words;
        data[at] = (data[at] as number) ^ bit;
        const hi = ranges[2 * r + 1] as number;
        if (hi < MAX_CODE_POINT) {
          const past = word + classOf(data, starts, classes, hi + 1) * words;
          data[past] = (data[past] as number) ^ bit;
        }
      }
    }
    for (let at = rows + words; at < rows + classes * words; at++) {
      data[at] = (data[at] as number) ^ (data[at - words] as number);
    }
  }
  return data;
}

/** Compiled patterns, least recently used first; bounded in entries and in table words. */
const compiledCache = new Map<string, Int32Array>();
const CACHE_MAX_ENTRIES = 512;
const CACHE_MAX_WORDS = 1 << 20;
let cachedWords = 0;

function compiled(pattern: string): Int32Array {
  const hit = compiledCache.get(pattern);
  if (hit !== undefined) {
    compiledCache.delete(pattern);
    compiledCache.set(pattern, hit);
    return hit;
  }
  const glob = compileGlob(pattern);
  compiledCache.set(pattern, glob);
  cachedWords += glob.length;
  while (compiledCache.size > CACHE_MAX_ENTRIES || cachedWords > CACHE_MAX_WORDS) {
    const oldest = compiledCache.keys().next().value as string;
    cachedWords -= (compiledCache.get(oldest) as Int32Array).length;
    compiledCache.delete(oldest);
  }
  return glob;
}

// Scratch buffers (matching is synchronous and calls out to nothing, so sharing them is safe).
const inputCodePoints = new Int32Array(MAX_GLOB_INPUT_LENGTH);
const state = new Int32Array(Math.ceil(MAX_GLOB_PATTERN_LENGTH / 32));

/** Does piece `h` (its header's offset) match inputCodePoints[at, at + its length)? */
function pieceMatchesAt(data: Int32Array, h: number, at: number): boolean {
  const length = data[h + LENGTH] as number;
  const words = data[h + WORDS] as number;
  const starts = data[h + STARTS] as number;
  const classes = data[h + CLASSES] as number;
  const rows = data[h + ROWS] as number;
  for (let j = 0; j < length; j++) {
    const row = rows + classOf(data, starts, classes, inputCodePoints[at + j] as number) * words;
    if (((data[row + (j >>> 5)] as number) & (1 << (j & 31))) === 0) return false;
  }
  return true;
}

/** End of the leftmost occurrence of piece `h` inside inputCodePoints[from, to), or -1. */
function findPiece(data: Int32Array, h: number, from: number, to: number): number {
  const length = data[h + LENGTH] as number;
  if (to - from < length) return -1;
  const words = data[h + WORDS] as number;
  const starts = data[h + STARTS] as number;
  const classes = data[h + CLASSES] as number;
  const rows = data[h + ROWS] as number;
  const last = words - 1;
  const lastBit = 1 << ((length - 1) & 31);
  state.fill(0, 0, words);
  // Words above `top` are all zero, so each step only touches the words that can be non-zero.
  let top = 0;
  for (let i = from; i < to; i++) {
    const row = rows + classOf(data, starts, classes, inputCodePoints[i] as number) * words;
    const limit = top < last ? top + 1 : last;
    let carry = 1;
    let newTop = 0;
    for (let w = 0; w <= limit; w++) {
      const d = state[w] as number;
      const next = ((d << 1) | carry) & (data[row + w] as number);
      carry = d >>> 31;
      state[w] = next;
      if (next !== 0) newTop = w;
    }
    top = newTop;
    if (((state[last] as number) & lastBit) !== 0) return i + 1;
  }
  return -1;
}

/**
 * Does `input` match `pattern` under fnmatch rules (whole-string, case-sensitive)? A pattern over
 * MAX_GLOB_PATTERN_LENGTH or an input over MAX_GLOB_INPUT_LENGTH (in UTF-16 units) returns false,
 * so the work stays bounded; callers using globs as deny lists must treat oversize input as denied.
 */
export function globMatch(pattern: string, input: string): boolean {
  if (pattern.length > MAX_GLOB_PATTERN_LENGTH || input.length > MAX_GLOB_INPUT_LENGTH) return false;
  const data = compiled(pattern);
  const n = decodeInto(input, inputCodePoints);
  const headLength = data[LENGTH] as number;
  // The headers run up to the first piece's class starts.
  const pieces = (data[STARTS] as number) / HEADER;
  if (pieces === 1) return n === headLength && pieceMatchesAt(data, 0, 0);
  const tail = HEADER * (pieces - 1);
  const tailStart = n - (data[tail + LENGTH] as number);
  if (tailStart < headLength || !pieceMatchesAt(data, 0, 0) || !pieceMatchesAt(data, tail, tailStart)) return false;
  let at = headLength;
  for (let h = HEADER; h < tail && at >= 0; h += HEADER) at = findPiece(data, h, at, tailStart);
  return at >= 0;
}

// ---- containment ------------------------------------------------------------------------------

/**
 * A shared allowance of work for a batch of containment checks, so that many long patterns (e.g.
 * 64 x 64 patterns of 1024 characters in one request) cannot make a check take long. `cells`
 * counts elementary steps: one per comparison of a parent token with a child token, plus one per
 * range of the child token. Once it runs out, the check under way and every later one answer
 * false, which is always sound.
 */
export interface GlobWorkBudget {
  cells: number;
}

/** Default allowance for one batch (findUncoveredPattern, constraint narrowing): a few ms of work. */
export const DEFAULT_GLOB_WORK_BUDGET_CELLS = 1 << 19;

/** A fresh budget for one batch of containment checks. */
export function newGlobWorkBudget(cells: number = DEFAULT_GLOB_WORK_BUDGET_CELLS): GlobWorkBudget {
  return { cells };
}

/** A parent pattern prepared for containment checks: its tokens and its star-free pieces. */
interface Parent {
  readonly tokens: Tokens;
  readonly bounds: readonly number[];
}

function parentOf(pattern: string): Parent {
  const tokens = tokenize(pattern);
  return { tokens, bounds: pieceBounds(tokens) };
}

/**
 * SOUND containment: true only if every string `child` matches is also matched by `parent`.
 * It may answer false for some true containments (it is incomplete), never true for a false one.
 *
 * The child is read as a token sequence; a parent `*` consumes any run of child tokens (including
 * child `*`), and a parent single-character token (literal, `?`, class) consumes exactly one child
 * single-character token whose character set is a subset of its own. Identical strings are
 * trivially contained. This is glob matching with child tokens for characters, decided the same
 * way as globMatch: each of the parent's star-free pieces at the leftmost child position where it
 * fits (found by trying each position: O(|parent| x |child|) comparisons at worst). With a
 * `budget`, every comparison is charged, and the answer is false once it runs out.
 */
export function globContains(parent: string, child: string, budget?: GlobWorkBudget): boolean {
  if (parent === child) return true;
  if (parent.length > MAX_GLOB_PATTERN_LENGTH || child.length > MAX_GLOB_PATTERN_LENGTH) return false;
  return contains(parentOf(parent), tokenize(child), budget);
}

/** Is every character of child token `ct` also matched by parent token `pt` (both non-star)? */
function tokenSubset(child: Tokens, ct: number, parent: Tokens, pt: number): boolean {
  const cr = child.ranges;
  const pr = parent.ranges;
  const pFrom = parent.first[pt] as number;
  const pTo = parent.first[pt + 1] as number;
  for (let k = child.first[ct] as number; k < (child.first[ct + 1] as number); k++) {
    const lo = cr[2 * k] as number;
    // The last parent range starting at or before `lo` must reach `hi`.
    let a = pFrom;
    let b = pTo - 1;
    while (a < b) {
      const mid = (a + b + 1) >>> 1;
      if ((pr[2 * mid] as number) <= lo) a = mid;
      else b = mid - 1;
    }
    if (a >= pTo || (pr[2 * a] as number) > lo || (pr[2 * a + 1] as number) < (cr[2 * k + 1] as number)) return false;
  }
  return true;
}

const NO_FIT = 0;
const FITS = 1;
const OUT_OF_BUDGET = 2;

/** Does parent piece k consume child tokens [at, at + its length)? Charges `work`. */
function pieceFits(parent: Parent, k: number, child: Tokens, at: number, work: { left: number }): number {
  const from = parent.bounds[2 * k] as number;
  const to = parent.bounds[2 * k + 1] as number;
  for (let t = from; t < to; t++) {
    const ct = at + t - from;
    const isStar = child.star[ct] === 1;
    work.left -= isStar ? 1 : 1 + (child.first[ct + 1] as number) - (child.first[ct] as number);
    if (work.left < 0) return OUT_OF_BUDGET;
    if (isStar || !tokenSubset(child, ct, parent.tokens, t)) return NO_FIT;
  }
  return FITS;
}

function contains(parent: Parent, child: Tokens, budget: GlobWorkBudget | undefined): boolean {
  const work = { left: budget === undefined ? Infinity : budget.cells };
  const result = placePieces(parent, child, work);
  if (budget !== undefined) budget.cells = Math.max(0, work.left);
  return result;
}

function placePieces(parent: Parent, child: Tokens, work: { left: number }): boolean {
  const bounds = parent.bounds;
  const pieces = bounds.length / 2;
  const length = (k: number) => (bounds[2 * k + 1] as number) - (bounds[2 * k] as number);
  const headLength = length(0);
  if (pieces === 1) return child.count === headLength && pieceFits(parent, 0, child, 0, work) === FITS;
  const tailStart = child.count - length(pieces - 1);
  if (tailStart < headLength) return false;
  if (pieceFits(parent, 0, child, 0, work) !== FITS) return false;
  if (pieceFits(parent, pieces - 1, child, tailStart, work) !== FITS) return false;
  let at = headLength;
  for (let k = 1; k < pieces - 1; k++) {
    let found = -1;
    for (let start = at; start + length(k) <= tailStart; start++) {
      const fit = pieceFits(parent, k, child, start, work);
      if (fit === OUT_OF_BUDGET) return false;
      if (fit === FITS) {
        found = start;
        break;
      }
    }
    if (found < 0) return false;
    at = found + length(k);
  }
  return true;
}

/**
 * The first child pattern no parent pattern contains (undefined when all are covered). The whole
 * batch shares one work budget; a pattern whose containment could not be proven within it is
 * reported as uncovered (fail closed).
 */
export function findUncoveredPattern(
  parents: readonly string[],
  children: readonly string[],
  budget: GlobWorkBudget = newGlobWorkBudget(),
): string | undefined {
  const usable = (pattern: string) => pattern.length <= MAX_GLOB_PATTERN_LENGTH;
  // Tokenize each pattern once, not once per pair, and a parent only when it is first needed.
  const prepared: (Parent | undefined)[] = [];
  const prepare = (i: number) => (prepared[i] ??= parentOf(parents[i] as string));
  return children.find((child) => {
    const childTokens = usable(child) ? tokenize(child) : undefined;
    return !parents.some((parent, i) => {
      if (parent === child) return true;
      return childTokens !== undefined && usable(parent) && contains(prepare(i), childTokens, budget);
    });
  });
}
