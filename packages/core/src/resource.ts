/**
 * Canonical resources: the one spelling of a resource name that the enforcer compares against grant
 * and deny globs. A resource is canonical when no decoding, dot-segment resolution or Unicode or
 * path normalization a backend is likely to apply changes which object it names, so a glob that
 * matches the string matches the object the backend will reach. Nothing here normalizes: a
 * non-canonical resource is refused with a message saying what is wrong. See docs/resources.md.
 *
 * Forms (at most MAX_RESOURCE_LENGTH characters, printable ASCII only):
 *   - URI:  `scheme://authority` or `scheme://authority/segment/.../segment`
 *   - bare: `segment/.../segment` (e.g. `doc-001`, `policy/acme`)
 *   - `scheme:opaque` (no `//`), `scheme:///path`, query and fragment forms are refused.
 *
 * scheme     `[a-z][a-z0-9+.-]*` (lowercase).
 * authority  non-empty dot-separated labels of `[a-z0-9_-]+` (lowercase; no userinfo, port, IP literal
 *            or percent-encoding).
 * segment    non-empty; not `.` or `..`; does not end with `.`. Each character is written exactly one
 *            way: RAW characters (`A-Z a-z 0-9 - . _ ~ ! $ & ' ( ) , = @`) as themselves, never
 *            percent-encoded; every other allowed character percent-encoded as UTF-8 with uppercase
 *            hex (`"` `*` `+` `<` `>` `[` `]` `^` `` ` `` `{` `|` `}` and non-ASCII). Never allowed,
 *            raw or encoded: `/` `\` `%` `:` `;` `?` `#`, ASCII controls and space, and code points of the
 *            Unicode categories Cc Cf Cs Co Cn Z. The decoded segment must be unchanged by NFKC and
 *            must not start with a combining mark.
 *
 * Glob patterns (grants, denies) are checked by resourcePatternProblem: their literal parts must obey
 * the same rules. A canonical resource has no `*`, `?`, `[` or `]`, so it is also a pattern matching
 * exactly itself.
 *
 * Size: every form below with its checks and messages; one file so the canonical rule is read in
 * one place.
 */
import { AuthorityError } from './errors';
import { MAX_GLOB_INPUT_LENGTH, MAX_GLOB_PATTERN_LENGTH } from './glob';

/** Longest canonical resource, in characters (= bytes: a canonical resource is ASCII); globMatch's input cap. */
export const MAX_RESOURCE_LENGTH: number = MAX_GLOB_INPUT_LENGTH;

/** A canonical scheme. */
export const RESOURCE_SCHEME_PATTERN: RegExp = /^[a-z][a-z0-9+.-]*$/;
/** A canonical authority: dot-separated non-empty labels of lowercase letters, digits, `-`, `_`. */
export const RESOURCE_AUTHORITY_PATTERN: RegExp = /^[a-z0-9_-]+(?:\.[a-z0-9_-]+)*$/;

/** How a character may appear in a path segment. */
type CharRule = 'raw' | 'encoded' | 'forbidden';

const RAW_PUNCTUATION = "-._~!$&'(),=@";
const ENCODED_ASCII = '"*+<>[]^`{|}';

function asciiRule(cp: number): CharRule {
  if ((cp >= 0x30 && cp <= 0x39) || (cp >= 0x41 && cp <= 0x5a) || (cp >= 0x61 && cp <= 0x7a)) return 'raw';
  const ch = String.fromCharCode(cp);
  if (RAW_PUNCTUATION.includes(ch)) return 'raw';
  if (ENCODED_ASCII.includes(ch)) return 'encoded';
  return 'forbidden'; // controls, space, DEL, # % / : ; ? \
}

/** Unicode categories never allowed: controls, format characters, surrogates, private use, unassigned, separators. */
const FORBIDDEN_UNICODE = /^[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]$/u;
const COMBINING_START = /^\p{M}/u;

function charRule(cp: number): CharRule {
  if (cp < 0x80) return asciiRule(cp);
  return FORBIDDEN_UNICODE.test(String.fromCodePoint(cp)) ? 'forbidden' : 'encoded';
}

function hex2(b: number): string {
  return b.toString(16).toUpperCase().padStart(2, '0');
}

function uPlus(cp: number): string {
  return `U+${cp.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** `%XX` triplets (uppercase hex) of the UTF-8 encoding of `s`. */
function percentEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) out += `%${hex2(b)}`;
  return out;
}

/** Why a forbidden character is forbidden, as a phrase following "…is ". */
function forbiddenReason(cp: number): string {
  switch (cp) {
    case 0x2f:
      return "'/': a segment cannot contain the separator";
    case 0x5c:
      return "'\\': some backends read it as '/'";
    case 0x25:
      return "'%': a literal percent sign could be decoded twice (%252E -> %2E -> '.')";
    case 0x3a:
      return "':': a ':' belongs only in the scheme separator '://' (Windows stores read 'name:stream' as a stream of 'name')";
    case 0x3b:
      return "';': some servers cut a segment at ';' (so '..;x' acts as '..')";
    case 0x3f:
      return "'?': a resource has no query part";
    case 0x23:
      return "'#': a resource has no fragment";
    case 0x20:
      return 'a space: whitespace is not allowed (backends that trim would drop it)';
    default:
      if (cp < 0x20 || cp === 0x7f || (cp >= 0x80 && cp <= 0x9f)) return `a control character (${uPlus(cp)})`;
      return `${uPlus(cp)}, a whitespace, format, private-use, surrogate or unassigned code point`;
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

type RunResult = { problem: string } | { decoded: string };

/**
 * Checks a run of literal segment text (no `/`; in a pattern, no wildcard) and decodes it. `offset`
 * is the run's index in the whole string (messages count characters from 1). Percent-encoded
 * bytes must form complete UTF-8 characters within the run.
 */
function literalRunProblem(text: string, offset: number): RunResult {
  let decoded = '';
  let i = 0;
  while (i < text.length) {
    const at = offset + i + 1;
    const cp = text.codePointAt(i) as number;
    if (cp !== 0x25) {
      const rule = charRule(cp);
      const ch = String.fromCodePoint(cp);
      if (rule === 'forbidden') return { problem: `character ${at} is ${forbiddenReason(cp)}` };
      if (rule === 'encoded') {
        const why = cp === 0x2a ? ' (it is a glob wildcard)' : cp >= 0x80 ? ' (a resource is ASCII)' : '';
        return { problem: `character ${at} '${ch}' must be percent-encoded as ${percentEncode(ch)}${why}` };
      }
      decoded += ch;
      i += ch.length;
      continue;
    }
    // A run of %XX triplets: one UTF-8 byte sequence.
    const bytes: number[] = [];
    let j = i;
    while (j < text.length && text[j] === '%') {
      const hex = text.slice(j + 1, j + 3);
      if (!/^[0-9A-Fa-f]{2}$/.test(hex)) {
        return {
          problem: `character ${offset + j + 1} '%' is not followed by two hex digits (a literal '%' is not allowed)`,
        };
      }
      bytes.push(parseInt(hex, 16));
      j += 3;
    }
    let chars: string;
    try {
      chars = utf8.decode(Uint8Array.from(bytes));
    } catch {
      return {
        problem: `characters ${at}-${offset + j} '${text.slice(i, j)}' are not valid UTF-8 (overlong, surrogate or incomplete sequences are refused)`,
      };
    }
    let k = i;
    for (const ch of chars) {
      const c = ch.codePointAt(0) as number;
      const width = 3 * Buffer.byteLength(ch, 'utf8');
      const spelled = text.slice(k, k + width);
      const pos = offset + k + 1;
      const rule = charRule(c);
      if (rule === 'raw') {
        const dot = c === 0x2e ? " (an encoded '.' could become a dot-segment after decoding)" : '';
        return {
          problem: `characters ${pos}-${pos + width - 1} '${spelled}' encode '${ch}', which must be written as itself, never percent-encoded${dot}`,
        };
      }
      if (rule === 'forbidden') {
        return {
          problem: `characters ${pos}-${pos + width - 1} '${spelled}' encode ${forbiddenReason(c)}; it is not allowed encoded or not`,
        };
      }
      if (spelled !== spelled.toUpperCase()) {
        return {
          problem: `characters ${pos}-${pos + width - 1} '${spelled}': percent-encoding must use uppercase hex digits ('${spelled.toUpperCase()}')`,
        };
      }
      decoded += ch;
      k += width;
    }
    i = j;
  }
  return { decoded };
}

/** Why segment `n` of `count` (starting at `offset`) may not be empty. */
function emptySegmentProblem(label: string, offset: number, n: number, count: number, uri: boolean): string {
  if (n === count - 1) return `${label} is empty: a resource does not end with '/'`;
  if (n === 0 && !uri) return `${label} is empty: a resource without a scheme does not start with '/'`;
  return `${label} is empty: '//' (at character ${offset}) is not allowed`;
}

/** Checks one whole, non-empty path segment; returns the decoded segment or the problem. */
function segmentProblem(segment: string, label: string, offset: number): RunResult {
  if (segment === '') return { problem: `${label} is empty` };
  if (segment === '.' || segment === '..') {
    return { problem: `${label} is '${segment}': dot-segments ('.' and '..') are not allowed` };
  }
  const run = literalRunProblem(segment, offset);
  if ('problem' in run) return { problem: `${label}: ${run.problem}` };
  const whole = decodedSegmentProblem(run.decoded, `${label} '${segment}'`);
  return whole === undefined ? run : { problem: whole };
}

/** Rules on a whole decoded segment beyond its characters; `what` names it in the message. */
function decodedSegmentProblem(decoded: string, what: string): string | undefined {
  if (decoded.endsWith('.')) {
    return `${what} ends with '.': not allowed (some stores drop trailing dots, so 'health.' would name 'health')`;
  }
  if (COMBINING_START.test(decoded)) return `${what} starts with a combining mark`;
  const nfkc = decoded.normalize('NFKC');
  if (nfkc !== decoded) {
    return `${what} is not NFKC-normalized (Unicode NFKC turns '${decoded}' into '${nfkc}'): only normalized text is allowed`;
  }
  return undefined;
}

function authorityProblem(authority: string): string | undefined {
  if (authority === '') {
    return "the authority (between '//' and the next '/') is empty: 'scheme:///path' is not supported";
  }
  if (RESOURCE_AUTHORITY_PATTERN.test(authority)) return undefined;
  if (authority.startsWith('[')) return `the authority '${authority}' is an IP literal: not allowed`;
  if (authority.includes('@')) return `the authority '${authority}' contains '@': userinfo is not allowed`;
  if (authority.includes(':')) return `the authority '${authority}' contains ':': ports are not allowed`;
  if (authority.includes('%'))
    return `the authority '${authority}' contains '%': percent-encoding is not allowed there`;
  const lower = authority.toLowerCase();
  if (lower !== authority && RESOURCE_AUTHORITY_PATTERN.test(lower)) {
    return `the authority '${authority}' must be lowercase ('${lower}')`;
  }
  const bad = [...authority].find((ch) => !/^[a-z0-9._-]$/.test(ch));
  if (bad !== undefined) {
    return `the authority '${authority}' contains '${bad}': only a-z, 0-9, '-', '_' and '.' between labels are allowed`;
  }
  return `the authority '${authority}' has an empty label (a leading, trailing or doubled '.')`;
}

function schemeProblem(scheme: string): string | undefined {
  if (scheme === '') return "the scheme before ':' is empty";
  if (RESOURCE_SCHEME_PATTERN.test(scheme)) return undefined;
  const lower = scheme.toLowerCase();
  if (RESOURCE_SCHEME_PATTERN.test(lower)) return `the scheme '${scheme}' must be lowercase ('${lower}')`;
  return `the scheme '${scheme}' is not [a-z][a-z0-9+.-]*`;
}

/** Characters refused anywhere in a resource before it is even split (message, or undefined). */
function characterProblem(s: string, what: string): string | undefined {
  for (let i = 0; i < s.length; i++) {
    const cp = s.codePointAt(i) as number;
    if (cp < 0x20 || cp === 0x7f) return `character ${i + 1} is ${forbiddenReason(cp)}`;
    if (cp === 0x20 || cp === 0x5c || cp === 0x23 || (cp === 0x3f && what === 'resource')) {
      return `character ${i + 1} is ${forbiddenReason(cp)}`;
    }
    if (cp > 0x7e) {
      const ch = String.fromCodePoint(cp);
      if (charRule(cp) === 'forbidden') return `character ${i + 1} is ${forbiddenReason(cp)}`;
      return `character ${i + 1} '${ch}' (${uPlus(cp)}) is not ASCII: a ${what} is ASCII; write it percent-encoded as UTF-8 (${percentEncode(ch)})`;
    }
  }
  return undefined;
}

/** A resource split into its parts, segments percent-decoded. */
export interface ResourceParts {
  /** The scheme, or undefined for a bare (scheme-less) resource. */
  readonly scheme: string | undefined;
  /** The authority, or undefined for a bare resource. */
  readonly authority: string | undefined;
  /** The path segments, percent-decoded (possibly none for `scheme://authority`). */
  readonly segments: readonly string[];
}

function analyze(resource: unknown): { problem: string } | { parts: ResourceParts } {
  if (typeof resource !== 'string') return { problem: 'resource is not a string' };
  if (resource === '') return { problem: 'resource is empty' };
  if (resource.length > MAX_RESOURCE_LENGTH) {
    return { problem: `resource is ${resource.length} characters long; the maximum is ${MAX_RESOURCE_LENGTH}` };
  }
  const bad = characterProblem(resource, 'resource');
  if (bad !== undefined) return { problem: bad };
  let scheme: string | undefined;
  let authority: string | undefined;
  let path: string;
  let pathOffset: number;
  const colon = resource.indexOf(':');
  const slash = resource.indexOf('/');
  if (colon >= 0 && (slash < 0 || colon < slash)) {
    scheme = resource.slice(0, colon);
    const sp = schemeProblem(scheme);
    if (sp !== undefined) return { problem: sp };
    if (!resource.startsWith('//', colon + 1)) {
      return {
        problem: `'${scheme}:' is not followed by '//': the scheme:opaque form is not supported (write scheme://authority/segment/...; a resource without a scheme has no ':')`,
      };
    }
    const authStart = colon + 3;
    const authEnd = resource.indexOf('/', authStart);
    authority = resource.slice(authStart, authEnd < 0 ? undefined : authEnd);
    const ap = authorityProblem(authority);
    if (ap !== undefined) return { problem: ap };
    if (authEnd < 0) return { parts: { scheme, authority, segments: [] } };
    path = resource.slice(authEnd + 1);
    pathOffset = authEnd + 1;
  } else {
    path = resource;
    pathOffset = 0;
  }
  const segments: string[] = [];
  let offset = pathOffset;
  const raw = path.split('/');
  for (let n = 0; n < raw.length; n++) {
    const segment = raw[n] as string;
    const label = `${scheme === undefined ? 'segment' : 'path segment'} ${n + 1}`;
    if (segment === '') return { problem: emptySegmentProblem(label, offset, n, raw.length, scheme !== undefined) };
    const r = segmentProblem(segment, label, offset);
    if ('problem' in r) return r;
    segments.push(r.decoded);
    offset += segment.length + 1;
  }
  return { parts: { scheme, authority, segments } };
}

/**
 * Why `resource` is not canonical (a message naming the part at fault), or undefined when it is.
 * Never throws, whatever the input.
 */
/**
 * A fast path of resourceProblem (every string it matches is canonical; the test suite checks it
 * agrees with the full analysis): `scheme://authority` then segments of unreserved characters and
 * the sub-delimiters written as themselves, each not ending in '.'.
 */
export const PLAIN_CANONICAL_URI =
  /^[a-z][a-z0-9+.-]*:\/\/[a-z0-9_-]+(?:\.[a-z0-9_-]+)*(?:\/[A-Za-z0-9_~!$&'(),=@.-]*[A-Za-z0-9_~!$&'(),=@-])*$/;

export function resourceProblem(resource: string): string | undefined {
  // The common case, decided by one linear regular expression: an ASCII URI whose segments are
  // made of characters written as themselves and do not end in '.' (so never '.' or '..').
  if (typeof resource === 'string' && resource.length <= MAX_RESOURCE_LENGTH && PLAIN_CANONICAL_URI.test(resource))
    return undefined;
  return fullResourceProblem(resource);
}

/** resourceProblem without its fast path (the full analysis). */
export function fullResourceProblem(resource: string): string | undefined {
  const r = analyze(resource);
  return 'problem' in r ? r.problem : undefined;
}

/** True when `s` is a canonical resource (resourceProblem(s) is undefined). */
export function isCanonicalResource(s: unknown): s is string {
  return !('problem' in analyze(s));
}

/**
 * Splits a canonical resource into scheme, authority and decoded segments. Throws AuthorityError
 * INVALID_REQUEST (field `resource`) with resourceProblem's message when it is not canonical.
 */
export function parseResource(resource: string): ResourceParts {
  const r = analyze(resource);
  if ('problem' in r) throw new AuthorityError('INVALID_REQUEST', `resource: ${r.problem}`, 'resource');
  return r.parts;
}

function refuse(message: string): never {
  throw new AuthorityError('INVALID_REQUEST', message, 'resource');
}

/**
 * One path segment in canonical spelling: RAW characters as themselves, everything else allowed
 * percent-encoded (UTF-8, uppercase hex). Throws AuthorityError INVALID_REQUEST (field `resource`)
 * for `.`, `..`, an empty segment, a trailing `.`, a segment containing `/` `\` `%` `:` `;` `?` `#`,
 * whitespace, control, format, private-use, unassigned or lone-surrogate characters, one starting
 * with a combining mark, or one that NFKC normalization would change. Nothing is silently dropped,
 * replaced or normalized.
 */
export function encodeResourceSegment(segment: string): string {
  if (typeof segment !== 'string') refuse(`a resource segment must be a string, not ${typeof segment}`);
  const quoted = JSON.stringify(segment);
  if (segment === '') refuse('a resource segment must not be empty');
  if (segment === '.' || segment === '..') refuse(`resource segment ${quoted} is a dot-segment: not allowed`);
  let out = '';
  for (const ch of segment) {
    const cp = ch.codePointAt(0) as number;
    const rule = charRule(cp);
    if (rule === 'forbidden') refuse(`resource segment ${quoted} contains ${forbiddenReason(cp)}`);
    out += rule === 'raw' ? ch : percentEncode(ch);
  }
  const whole = decodedSegmentProblem(segment, `resource segment ${quoted}`);
  if (whole !== undefined) refuse(whole);
  return out;
}

/**
 * `scheme://authority/seg/...` with each segment encoded by encodeResourceSegment. The scheme and
 * authority must already be canonical (lowercase; they are not folded for you). With no segments
 * the result is `scheme://authority`. Throws AuthorityError INVALID_REQUEST (field `resource`) when
 * any part is refused or the result would exceed MAX_RESOURCE_LENGTH.
 */
export function resourceFromSegments(scheme: string, authority: string, ...segments: string[]): string {
  const sp = typeof scheme === 'string' ? schemeProblem(scheme) : 'the scheme is not a string';
  if (sp !== undefined) refuse(sp);
  const ap = typeof authority === 'string' ? authorityProblem(authority) : 'the authority is not a string';
  if (ap !== undefined) refuse(ap);
  return checked(`${scheme}://${authority}${segments.map((s) => `/${encodeResourceSegment(s)}`).join('')}`);
}

/**
 * A canonical `base` (URI or bare) with more segments appended, each encoded by
 * encodeResourceSegment: `appendResourceSegments('slos://vaults/student-records', id)`. Throws
 * AuthorityError INVALID_REQUEST (field `resource`) when `base` is not canonical or a segment is refused.
 */
export function appendResourceSegments(base: string, ...segments: string[]): string {
  const bp = resourceProblem(base);
  if (bp !== undefined) refuse(`base resource: ${bp}`);
  return checked(base + segments.map((s) => `/${encodeResourceSegment(s)}`).join(''));
}

function checked(resource: string): string {
  const problem = resourceProblem(resource);
  if (problem !== undefined) refuse(`resource: ${problem}`); // length; the parts were checked already
  return resource;
}

// ---------------------------------------------------------------------------------------------
// Patterns

type PatternToken =
  | { readonly kind: 'star' | 'any'; readonly pos: number }
  | { readonly kind: 'class'; readonly pos: number; readonly text: string }
  | { readonly kind: 'lit'; readonly pos: number; readonly ch: string };

/** Tokenizes like glob.ts (fnmatch): `*`, `?`, `[...]` (`[!` negates; `]` first is a member; unclosed `[` is literal). */
function tokenizePattern(pattern: string): PatternToken[] {
  const tokens: PatternToken[] = [];
  let i = 0;
  while (i < pattern.length) {
    const c = pattern[i] as string;
    if (c === '*') tokens.push({ kind: 'star', pos: i });
    else if (c === '?') tokens.push({ kind: 'any', pos: i });
    else if (c === '[') {
      let j = i + 1;
      if (pattern[j] === '!') j++;
      if (pattern[j] === ']') j++;
      while (j < pattern.length && pattern[j] !== ']') j++;
      if (j >= pattern.length) tokens.push({ kind: 'lit', pos: i, ch: '[' });
      else {
        tokens.push({ kind: 'class', pos: i, text: pattern.slice(i, j + 1) });
        i = j + 1;
        continue;
      }
    } else {
      // Code points, not UTF-16 units (a non-ASCII literal is refused by the character check anyway).
      const ch = String.fromCodePoint(pattern.codePointAt(i) as number);
      tokens.push({ kind: 'lit', pos: i, ch });
      i += ch.length;
      continue;
    }
    i++;
  }
  return tokens;
}

const isLit = (t: PatternToken | undefined, ch: string): boolean => t !== undefined && t.kind === 'lit' && t.ch === ch;

function literalText(tokens: readonly PatternToken[]): string | undefined {
  let s = '';
  for (const t of tokens) {
    if (t.kind !== 'lit') return undefined;
    s += t.ch;
  }
  return s;
}

/** Literal characters outside classes that never occur in a canonical resource (beyond the run rules). */
function patternLiteralProblem(t: PatternToken & { kind: 'lit' }): string | undefined {
  if (t.ch === '[') {
    return `character ${t.pos + 1} '[' has no closing ']', so it is a literal '[', which never occurs in a canonical resource (write %5B)`;
  }
  if (t.ch === ']')
    return `character ${t.pos + 1} ']' outside a class never occurs in a canonical resource (write %5D)`;
  return undefined;
}

function schemeRegionProblem(tokens: readonly PatternToken[]): string | undefined {
  const text = literalText(tokens);
  if (text !== undefined) return schemeProblem(text);
  for (const t of tokens) {
    if (t.kind !== 'lit') continue;
    if (/^[A-Z]$/.test(t.ch)) return `character ${t.pos + 1} '${t.ch}' in the scheme must be lowercase`;
    if (!/^[a-z0-9+.-]$/.test(t.ch)) return `character ${t.pos + 1} '${t.ch}' is not allowed in a scheme`;
  }
  return undefined;
}

function authorityRegionProblem(tokens: readonly PatternToken[], afterSlashes: number): string | undefined {
  if (tokens.length === 0) {
    return `the authority after '//' (character ${afterSlashes + 1}) is empty: 'scheme:///path' is not supported`;
  }
  const text = literalText(tokens);
  if (text !== undefined) return authorityProblem(text);
  for (let n = 0; n < tokens.length; n++) {
    const t = tokens[n] as PatternToken;
    if (t.kind !== 'lit') continue;
    const at = `character ${t.pos + 1} '${t.ch}'`;
    if (t.ch === '@') return `${at} in the authority: userinfo is not allowed`;
    if (t.ch === ':') return `${at} in the authority: ports are not allowed`;
    if (t.ch === '%') return `${at} in the authority: percent-encoding is not allowed there`;
    if (/^[A-Z]$/.test(t.ch)) return `${at} in the authority must be lowercase`;
    if (!/^[a-z0-9._-]$/.test(t.ch)) return `${at} is not allowed in the authority`;
    if (t.ch === '.' && (n === 0 || n === tokens.length - 1 || isLit(tokens[n + 1], '.'))) {
      return `${at}: the authority has an empty label (a leading, trailing or doubled '.')`;
    }
  }
  return undefined;
}

function patternSegmentProblem(tokens: readonly PatternToken[], label: string, offset: number): string | undefined {
  const text = literalText(tokens);
  if (text !== undefined) {
    const r = segmentProblem(text, label, offset);
    return 'problem' in r ? r.problem : undefined;
  }
  // With wildcards: every maximal literal run obeys the character and percent-encoding rules, and
  // its percent-encoded bytes are complete UTF-8 characters (a wildcard may not cut one).
  let n = 0;
  while (n < tokens.length) {
    const t = tokens[n] as PatternToken;
    if (t.kind !== 'lit') {
      n++;
      continue;
    }
    let m = n;
    let run = '';
    while (m < tokens.length && (tokens[m] as PatternToken).kind === 'lit') {
      const lt = tokens[m] as PatternToken & { kind: 'lit' };
      const lp = patternLiteralProblem(lt);
      if (lp !== undefined) return `${label}: ${lp}`;
      run += lt.ch;
      m++;
    }
    const r = literalRunProblem(run, t.pos);
    if ('problem' in r) return `${label}: ${r.problem}`;
    if (n === 0 && COMBINING_START.test(r.decoded)) return `${label} starts with a combining mark`;
    const nfkc = r.decoded.normalize('NFKC');
    if (nfkc !== r.decoded) {
      return `${label}: '${run}' is not NFKC-normalized (Unicode NFKC turns '${r.decoded}' into '${nfkc}')`;
    }
    n = m;
  }
  const last = tokens[tokens.length - 1];
  if (isLit(last, '.')) {
    return `${label} ends with '.' (character ${(last as PatternToken).pos + 1}), which a canonical segment never does`;
  }
  return undefined;
}

/**
 * Why `pattern` is not a canonical resource glob (grant or deny), or undefined when it is. Glob
 * syntax is glob.ts's (`*` matches any run including `/`, `?` one character, `[...]` a class).
 *
 * The literal parts must obey the resource rules, so a pattern can match what it appears to name:
 * a lowercase literal scheme followed by `://`, a non-empty lowercase authority, no empty literal
 * segment (`//`, trailing `/`), no literal `.`/`..` segment or trailing `.`, no literal `\`, `;`,
 * `#`, whitespace, control or non-ASCII character, literal `%` only as `%XX` (uppercase hex) that
 * encodes an allowed character as complete UTF-8, and no literal `[`/`]` outside a class. Classes
 * may not name `\`, whitespace, control or non-ASCII characters. Wildcards may stand for anything:
 * a `?` or class may match `.` or `/` and `*` crosses `/`; this is sound because the enforcer checks
 * the resource itself first and canonical resources contain no dot-segment, `//` or `\`, so such a
 * wildcard only ever matches an ordinary character. At most MAX_GLOB_PATTERN_LENGTH characters.
 */
export function resourcePatternProblem(pattern: string): string | undefined {
  if (typeof pattern !== 'string') return 'pattern is not a string';
  if (pattern === '') return 'pattern is empty (it would match only the empty resource, which is never canonical)';
  if (pattern.length > MAX_GLOB_PATTERN_LENGTH) {
    return `pattern is ${pattern.length} characters long; the maximum is ${MAX_GLOB_PATTERN_LENGTH}`;
  }
  const bad = characterProblem(pattern, 'pattern');
  if (bad !== undefined) return bad;
  const tokens = tokenizePattern(pattern);
  // Where is the scheme separator? The first literal '://' with no literal '/' before it.
  const firstSlash = tokens.findIndex((t) => isLit(t, '/'));
  let sep = -1;
  for (let n = 0; n + 2 < tokens.length && (firstSlash < 0 || n < firstSlash); n++) {
    if (isLit(tokens[n], ':') && isLit(tokens[n + 1], '/') && isLit(tokens[n + 2], '/')) {
      sep = n;
      break;
    }
  }
  let path: PatternToken[];
  let pathStart: number;
  let uri = false;
  if (sep >= 0) {
    uri = true;
    const sp = schemeRegionProblem(tokens.slice(0, sep));
    if (sp !== undefined) return sp;
    const rest = tokens.slice(sep + 3);
    const authEnd = rest.findIndex((t) => isLit(t, '/'));
    const afterSlashes = (tokens[sep + 2] as PatternToken).pos + 1;
    const ap = authorityRegionProblem(authEnd < 0 ? rest : rest.slice(0, authEnd), afterSlashes);
    if (ap !== undefined) return ap;
    if (authEnd < 0) return undefined;
    path = rest.slice(authEnd + 1);
    pathStart = (rest[authEnd] as PatternToken).pos + 1;
  } else {
    // No scheme separator. A literal ':' before any wildcard or '/' would make a scheme:opaque form.
    for (const t of tokens) {
      if (t.kind !== 'lit' || t.ch === '/') break;
      if (t.ch === ':') {
        return `character ${t.pos + 1} ':' is not followed by '//': the scheme:opaque form is not supported (a resource without a scheme has no ':')`;
      }
    }
    path = tokens;
    pathStart = 0;
  }
  const segments: { start: number; tokens: PatternToken[] }[] = [{ start: pathStart, tokens: [] }];
  for (const t of path) {
    if (isLit(t, '/')) segments.push({ start: t.pos + 1, tokens: [] });
    else (segments[segments.length - 1] as { tokens: PatternToken[] }).tokens.push(t);
  }
  for (let n = 0; n < segments.length; n++) {
    const seg = segments[n] as { start: number; tokens: PatternToken[] };
    const label = `${uri ? 'path segment' : 'segment'} ${n + 1}`;
    if (seg.tokens.length === 0) {
      const why = emptySegmentProblem(label, seg.start, n, segments.length, uri);
      return `${why} (an empty segment never occurs in a canonical resource)`;
    }
    const problem = patternSegmentProblem(seg.tokens, label, seg.start);
    if (problem !== undefined) return problem;
  }
  return undefined;
}

/** True when `pattern` is a canonical resource glob (resourcePatternProblem(pattern) is undefined). */
export function isCanonicalResourcePattern(pattern: unknown): pattern is string {
  return resourcePatternProblem(pattern as string) === undefined;
}
