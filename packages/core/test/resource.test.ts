// Canonical resources (src/resource.ts).
// Size: one test per form of a canonical resource and per refusal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { AuthorityError } from '../src/errors';
import { globMatch } from '../src/glob';
import {
  MAX_RESOURCE_LENGTH,
  appendResourceSegments,
  encodeResourceSegment,
  isCanonicalResource,
  isCanonicalResourcePattern,
  parseResource,
  resourceFromSegments,
  resourcePatternProblem,
  resourceProblem,
  fullResourceProblem,
  PLAIN_CANONICAL_URI,
} from '../src/resource';

// ---------------------------------------------------------------------------------------------
// An independent model of what backends do with a resource string, written from RFC 3986 and from
// known path-confusion tricks, not from resource.ts.

/** RFC 3986 §5.2.4 remove_dot_segments, step by step as the RFC writes it. */
function removeDotSegments(path: string): string {
  let input = path;
  let output = '';
  const dropLast = () => {
    output = output.slice(0, Math.max(0, output.lastIndexOf('/')));
  };
  while (input.length > 0) {
    if (input.startsWith('../')) input = input.slice(3);
    else if (input.startsWith('./')) input = input.slice(2);
    else if (input.startsWith('/./')) input = `/${input.slice(3)}`;
    else if (input === '/.') input = '/';
    else if (input.startsWith('/../')) {
      input = `/${input.slice(4)}`;
      dropLast();
    } else if (input === '/..') {
      input = '/';
      dropLast();
    } else if (input === '.' || input === '..') input = '';
    else {
      const next = input.indexOf('/', input.startsWith('/') ? 1 : 0);
      const segment = next < 0 ? input : input.slice(0, next);
      output += segment;
      input = input.slice(segment.length);
    }
  }
  return output;
}

function splitUri(s: string): { scheme: string | undefined; authority: string | undefined; path: string } {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*):\/\/([^/]*)(.*)$/s.exec(s);
  if (m) return { scheme: m[1] as string, authority: m[2] as string, path: m[3] as string };
  return { scheme: undefined, authority: undefined, path: s };
}

const UNRESERVED = /^[A-Za-z0-9\-._~]$/;

/**
 * RFC 3986 §6.2.2 syntax-based normalization: case of scheme and host, case of percent-encoding
 * hex, decoding of percent-encoded unreserved characters, dot-segment removal.
 */
function rfcNormalize(s: string): string {
  const { scheme, authority, path } = splitUri(s);
  let p = path.replace(/%([0-9A-Fa-f]{2})/g, (_, h: string) => {
    const c = String.fromCharCode(parseInt(h, 16));
    return UNRESERVED.test(c) ? c : `%${h.toUpperCase()}`;
  });
  p = scheme === undefined ? removeDotSegments(`/${p}`).slice(1) : removeDotSegments(p);
  return scheme === undefined ? p : `${scheme.toLowerCase()}://${(authority as string).toLowerCase()}${p}`;
}

/** Percent-decodes what decodes as UTF-8 and leaves the rest, like many lenient decoders. */
function lenientDecode(s: string): string {
  return s.replace(/(?:%[0-9A-Fa-f]{2})+/g, (run) => {
    try {
      return decodeURIComponent(run);
    } catch {
      return run;
    }
  });
}

/**
 * The path a lenient backend reaches: decodes percent-encoding twice, applies NFKC, reads `\` as
 * `/`, cuts `;params`, trims whitespace, drops trailing dots, then resolves dot-segments (RFC 3986
 * §5.2.4). Returns the segments it ends up with.
 */
function lenientResolve(s: string): { scheme: string | undefined; authority: string | undefined; segments: string[] } {
  const { scheme, authority, path } = splitUri(s);
  let p = lenientDecode(lenientDecode(path));
  p = p.normalize('NFKC').replace(/\\/g, '/');
  p = p
    .split('/')
    .map((seg) => {
      const cut = seg.replace(/;.*$/s, '').trim();
      return cut === '.' || cut === '..' ? cut : cut.replace(/\.+$/, '');
    })
    .join('/');
  const resolved = removeDotSegments(scheme === undefined ? `/${p}` : p);
  return {
    scheme: scheme?.toLowerCase(),
    authority: authority?.toLowerCase(),
    segments: resolved === '' ? [] : resolved.slice(1).split('/'),
  };
}

/** Rebuilds a resource from parts (the inverse of parseResource). */
function build(parts: { scheme: string | undefined; authority: string | undefined; segments: readonly string[] }) {
  if (parts.scheme === undefined) return parts.segments.map(encodeResourceSegment).join('/');
  return resourceFromSegments(parts.scheme, parts.authority as string, ...parts.segments);
}

// ---------------------------------------------------------------------------------------------
// The attack and its variants

const GRANT = 'slos://vaults/student-records/*';
const DENY = 'slos://vaults/student-health/*';

const ESCAPES: readonly (readonly [string, RegExp])[] = [
  ['slos://vaults/student-records/../student-health/s-1', /path segment 2 is '\.\.': dot-segments/],
  ['slos://vaults/student-records/./../student-health/s-1', /path segment 2 is '\.': dot-segments/],
  ['slos://vaults/student-records//../student-health/s-1', /path segment 2 is empty: '\/\/' \(at character 30\)/],
  ['slos://vaults/student-records/%2e%2e/student-health/s-1', /'%2e' encode '\.', which must be written as itself/],
  ['slos://vaults/student-records/%2E%2E/student-health/s-1', /'%2E' encode '\.'/],
  ['slos://vaults/student-records/.%2E/student-health/s-1', /'%2E' encode '\.'/],
  ['slos://vaults/student-records/..%2fstudent-health%2fs-1', /'%2f' encode '\/'/],
  ['slos://vaults/student-records/..%2Fstudent-health%2Fs-1', /'%2F' encode '\/'/],
  ['slos://vaults/student-records/..%5cstudent-health', /'%5c' encode '\\'/],
  ['slos://vaults/student-records\\..\\student-health\\s-1', /character 30 is '\\'/],
  ['slos://vaults/student-records/..\\student-health/s-1', /character 33 is '\\'/],
  ['slos://vaults/student-records/%252e%252e/student-health/s-1', /'%25' encode '%'/],
  ['slos://vaults/student-records/%C0%AE%C0%AE/student-health/s-1', /not valid UTF-8/],
  ['slos://vaults/student-records/%EF%BC%8E%EF%BC%8E/student-health/s-1', /not NFKC-normalized .* into '\.\.'/],
  ['slos://vaults/student-records/%E2%80%A5/student-health/s-1', /not NFKC-normalized/],
  ['slos://vaults/student-records/..%EF%BC%8Fstudent-health', /not NFKC-normalized/],
  ['slos://vaults/student-records/..;/student-health/s-1', /character 33 is ';'/],
  ['slos://vaults/student-records/..%3B/student-health/s-1', /'%3B' encode ';'/],
  ['slos://vaults/student-records/.../student-health/s-1', /'\.\.\.' ends with '\.'/],
  ['slos://vaults/student-health./s-1', /path segment 1 'student-health\.' ends with '\.'/],
  ['slos://vaults/student-health%20/s-1', /'%20' encode a space/],
  ['slos://vaults/student-health /s-1', /character 29 is a space/],
  ['slos://vaults/student-health%00/s-1', /'%00' encode a control character/],
  ['slos://vaults/student-health%23/s-1', /'%23' encode '#'/],
  ['slos://vaults/student-health%3F/s-1', /'%3F' encode '\?'/],
  ['slos://vaults/student-health?/s-1', /'\?': a resource has no query part/],
  ['slos://vaults/student-health#/s-1', /'#': a resource has no fragment/],
  ['SLOS://vaults/student-health/s-1', /scheme 'SLOS' must be lowercase \('slos'\)/],
  ['slos://VAULTS/student-health/s-1', /authority 'VAULTS' must be lowercase/],
  ['slos://vaults/%73tudent-health/s-1', /'%73' encode 's', which must be written as itself/],
  ['slos://vaults/student-records/%2e%2E/student-health/s-1', /'%2e' encode '\.'/],
  ['slos:///vaults/student-health/s-1', /authority .* is empty/],
  ['slos:vaults/student-health/s-1', /scheme:opaque form is not supported/],
  ['slos://x@vaults/student-health/s-1', /userinfo/],
  ['slos://vaults/student-records/%E2%80%AE', /U\+202E/],
  ['slos://vaults/student-records/s-1/', /path segment 3 is empty: a resource does not end with '\/'/],
];

test('the escapes from student-records into student-health are refused, with a precise message', () => {
  for (const [resource, message] of ESCAPES) {
    const problem = resourceProblem(resource);
    assert.ok(problem !== undefined, `accepted ${resource}`);
    assert.match(problem, message, resource);
    assert.equal(isCanonicalResource(resource), false);
    assert.throws(
      () => parseResource(resource),
      (e: unknown) => e instanceof AuthorityError && e.reason === 'INVALID_REQUEST' && e.field === 'resource',
    );
  }
  // A lenient backend would take most of them into student-health, and the grant glob alone would
  // allow them: the resource check is what stops them.
  const reachingHealth = ESCAPES.filter(([r]) =>
    lenientResolve(r).segments[0]?.toLowerCase().startsWith('student-health'),
  );
  assert.ok(reachingHealth.length >= 20, `${reachingHealth.length}`);
  assert.ok(ESCAPES.filter(([r]) => globMatch(GRANT, r)).length >= 15);
  assert.equal(globMatch(GRANT, ESCAPES[0]?.[0] as string), true, 'the glob alone would allow it');
  assert.equal(globMatch(DENY, ESCAPES[0]?.[0] as string), false, 'and the deny alone would not stop it');
});

test('resources and patterns the project already uses are canonical', () => {
  const resources = [
    'slos://vaults/finance/q1',
    'slos://vaults/finance/doc-001',
    'slos://vaults/finance/q1.pdf',
    'slos://vaults/finance/q3.xlsx',
    'slos://vaults/finance/budgets/q1-2026',
    'slos://vaults/finance/payroll/2024/jan',
    'slos://vaults/student-records/s-1001',
    'slos://vaults/student-records/transcripts/s-1001',
    'slos://vaults/financial-aid/award-2026-s-1001',
    'slos://vaults/health/records/1',
    'slos://vaults/finance',
    'slos://x',
    'slos://r',
    'slos://records/transcript-1',
    'https://example.com/x',
    'https://other',
    'doc-001',
    'r',
    'x',
    'any',
    'anything',
    'elsewhere',
    'policy/acme',
    'tenant/acme',
    'credential/c-1',
    'envelope/0b9e6f',
    'agent/planner',
    'key/k1',
  ];
  for (const r of resources) {
    assert.equal(resourceProblem(r), undefined, r);
    assert.equal(resourcePatternProblem(r), undefined, r);
  }
  const patterns = [
    'slos://vaults/*',
    'slos://vaults/finance/*',
    'slos://vaults/student-records/*',
    'slos://vaults/student-health/*',
    'slos://vaults/financial-aid/*',
    'slos://vaults/finance/payroll/*',
    'slos://vaults/finance/q1/reports/*',
    'slos://vaults/student-records/2024/*',
    'slos://vaults/finance/secret-*',
    'slos://vaults/finance/secret*',
    'slos://vaults/d/secret/*',
    'slos://vaults/*/secret',
    'slos://vaults/*/q1',
    'slos://vaults/h*',
    'slos://vaults/aid/q?',
    'slos://vaults/?',
    'slos://records/*',
    'slos://other/*',
    'slos://x/*',
    'slos://*',
    '*',
    '*secret*',
    '*secret',
    '*/finance/*',
    '*/q1',
    'x/*',
    'a/*',
    'r/*',
    'r/a*',
    'r/[ab]',
    'r/?',
  ];
  for (const p of patterns) assert.equal(resourcePatternProblem(p), undefined, p);
});

test('the canonical form: accepted and refused examples', () => {
  const accepted = [
    'slos://vaults/a/%C3%A9t%C3%A9', // 'été', UTF-8, uppercase hex
    'slos://vaults/a/%E6%97%A5%E6%9C%AC',
    "slos://vaults/a/x~y_z-1.2!$&'(),=@",
    'slos://vaults/a/%22q%22%2A%2B%3C%3E%5B%5D%5E%60%7B%7C%7D',
    'slos://vaults/.hidden',
    'slos://vaults/..x',
    'slos://vaults/a.b',
    'slos://a-b_c.d0/x',
    's3+x.y-z://b/k',
    'x'.repeat(MAX_RESOURCE_LENGTH),
  ];
  for (const r of accepted) assert.equal(resourceProblem(r), undefined, r);
  const refused: readonly (readonly [unknown, RegExp])[] = [
    ['', /resource is empty/],
    [42, /not a string/],
    [undefined, /not a string/],
    ['x'.repeat(MAX_RESOURCE_LENGTH + 1), /4097 characters long; the maximum is 4096/],
    ['slos://vaults/a/é', /character 17 'é' \(U\+00E9\) is not ASCII.*%C3%A9/],
    ['slos://vaults/a/%c3%a9', /uppercase hex digits \('%C3%A9'\)/],
    ['slos://vaults/a/%C3', /not valid UTF-8/],
    ['slos://vaults/a/%ED%A0%80', /not valid UTF-8/],
    ['slos://vaults/a/%EF%BB%BF', /U\+FEFF/],
    ['slos://vaults/a/%CC%81x', /starts with a combining mark/],
    ['slos://vaults/a/e%CC%81', /not NFKC-normalized/],
    ['slos://vaults/a/%EF%BD%98', /not NFKC-normalized/],
    ['slos://vaults/a/%', /'%' is not followed by two hex digits/],
    ['slos://vaults/a/%G0', /'%' is not followed by two hex digits/],
    ['slos://vaults/a/*', /'\*' must be percent-encoded as %2A \(it is a glob wildcard\)/],
    ['slos://vaults/a/b+c', /'\+' must be percent-encoded as %2B/],
    ['slos://vaults/a/[x]', /'\[' must be percent-encoded as %5B/],
    ['slos://vaults/a/%7E', /'%7E' encode '~'/],
    ['slos://vaults/a/%21', /'%21' encode '!'/],
    ['slos://vaults/a/x\ty', /control character/],
    ['slos://vaults/a/x\u00a0y', /U\+00A0/],
    ['slos://h:443/x', /ports are not allowed/],
    ['slos://[::1]/x', /IP literal/],
    ['slos://%76aults/x', /percent-encoding is not allowed/],
    ['slos://.vaults/x', /empty label/],
    ['slos://vaults./x', /empty label/],
    ['1slos://vaults/x', /scheme '1slos' is not/],
    ['://vaults/x', /scheme before ':' is empty/],
    ['urn:isbn:0451450523', /scheme:opaque form is not supported/],
    ['mailto:a@b', /scheme:opaque form is not supported/],
    ['c:/windows', /scheme:opaque form is not supported/],
    ['/etc/passwd', /segment 1 is empty: a resource without a scheme does not start with '\/'/],
    ['a//b', /segment 2 is empty/],
    ['a/', /segment 2 is empty/],
    ['..', /segment 1 is '\.\.'/],
    ['a/b:c', /character 4 is ':'/],
    ['slos://vaults/student-health::$INDEX_ALLOCATION/s-1', /path segment 1: character 29 is ':'/],
    ['slos://vaults/a%3Ab', /'%3A' encode ':'/],
    ['slos://vaults/', /path segment 1 is empty: a resource does not end with '\/'/],
  ];
  for (const [r, message] of refused) {
    const problem = resourceProblem(r as string);
    assert.ok(problem !== undefined, `accepted ${JSON.stringify(r)}`);
    assert.match(problem, message, JSON.stringify(r));
    assert.equal(isCanonicalResource(r), false);
  }
});

test('parseResource splits and decodes; segment numbering in messages counts path segments from 1', () => {
  assert.deepEqual(parseResource('slos://vaults/student-records/s-1'), {
    scheme: 'slos',
    authority: 'vaults',
    segments: ['student-records', 's-1'],
  });
  assert.deepEqual(parseResource('slos://vaults'), { scheme: 'slos', authority: 'vaults', segments: [] });
  assert.deepEqual(parseResource('doc-001'), { scheme: undefined, authority: undefined, segments: ['doc-001'] });
  assert.deepEqual(parseResource('a/%C3%A9%2A').segments, ['a', 'é*']);
  assert.match(resourceProblem('slos://vaults/a/b/../c') ?? '', /^path segment 3 is '\.\.'/);
  assert.match(resourceProblem('a/b/./c') ?? '', /^segment 3 is '\.'/);
});

test('resourceFromSegments and friends: encode, and refuse instead of normalizing', () => {
  assert.equal(resourceFromSegments('slos', 'vaults', 'student-records', 's-1'), 'slos://vaults/student-records/s-1');
  assert.equal(resourceFromSegments('slos', 'vaults'), 'slos://vaults');
  assert.equal(resourceFromSegments('slos', 'vaults', 'été'), 'slos://vaults/%C3%A9t%C3%A9');
  assert.equal(resourceFromSegments('slos', 'vaults', 'a*b+c"'), 'slos://vaults/a%2Ab%2Bc%22');
  assert.equal(resourceFromSegments('slos', 'vaults', "~!$&'(),=@"), "slos://vaults/~!$&'(),=@");
  assert.equal(encodeResourceSegment('日本'), '%E6%97%A5%E6%9C%AC');
  assert.equal(
    appendResourceSegments('slos://vaults/student-records', 's-1', 'x-y'),
    'slos://vaults/student-records/s-1/x-y',
  );
  const refusals: readonly (readonly [() => unknown, RegExp])[] = [
    [() => resourceFromSegments('slos', 'vaults', 'student-records', '../student-health/s-1'), /contains '\/'/],
    [() => resourceFromSegments('slos', 'vaults', 'student-records', '..'), /dot-segment/],
    [() => resourceFromSegments('slos', 'vaults', 'student-records', '.'), /dot-segment/],
    [() => resourceFromSegments('slos', 'vaults', ''), /must not be empty/],
    [() => resourceFromSegments('slos', 'vaults', 'a.'), /ends with '\.'/],
    [() => resourceFromSegments('slos', 'vaults', 'a\\b'), /contains '\\'/],
    [() => resourceFromSegments('slos', 'vaults', '%2e%2e'), /contains '%'/],
    [() => resourceFromSegments('slos', 'vaults', 'a;b'), /contains ';'/],
    [() => resourceFromSegments('slos', 'vaults', 'a:b'), /contains ':'/],
    [() => resourceFromSegments('slos', 'vaults', 'a?b'), /contains '\?'/],
    [() => resourceFromSegments('slos', 'vaults', 'a#b'), /contains '#'/],
    [() => resourceFromSegments('slos', 'vaults', 'a b'), /contains a space/],
    [() => resourceFromSegments('slos', 'vaults', 'a\u0000'), /control character/],
    [() => resourceFromSegments('slos', 'vaults', '\ud800'), /U\+D800/],
    [() => resourceFromSegments('slos', 'vaults', '\u200b'), /U\+200B/],
    [() => resourceFromSegments('slos', 'vaults', '．．'), /not NFKC-normalized/],
    [() => resourceFromSegments('slos', 'vaults', '\u0301a'), /combining mark/],
    [() => resourceFromSegments('SLOS', 'vaults', 'a'), /must be lowercase/],
    [() => resourceFromSegments('slos', 'Vaults', 'a'), /must be lowercase/],
    [() => resourceFromSegments('slos', '', 'a'), /authority .* is empty/],
    [() => resourceFromSegments('slos', 'vaults', 'x'.repeat(MAX_RESOURCE_LENGTH)), /the maximum is 4096/],
    [() => resourceFromSegments('slos', 'vaults', 1 as unknown as string), /must be a string/],
    [() => appendResourceSegments('slos://vaults/a/../b', 'c'), /base resource: path segment 2 is '\.\.'/],
  ];
  for (const [f, message] of refusals) {
    assert.throws(
      f,
      (e: unknown) =>
        e instanceof AuthorityError &&
        e.reason === 'INVALID_REQUEST' &&
        e.field === 'resource' &&
        message.test(e.message),
      String(message),
    );
  }
});

test('patterns: literal parts obey the resource rules', () => {
  const refused: readonly (readonly [string, RegExp])[] = [
    ['', /empty/],
    ['x'.repeat(1025), /maximum is 1024/],
    ['slos://vaults/student-records/../student-health/*', /path segment 2 is '\.\.'/],
    ['slos://vaults/./*', /path segment 1 is '\.'/],
    ['slos://vaults//*', /path segment 1 is empty: '\/\/' \(at character 14\)/],
    ['slos://vaults/', /path segment 1 is empty: a resource does not end with/],
    ['slos://vaults/a/', /path segment 2 is empty/],
    ['slos://vaults/*//x', /path segment 2 is empty: '\/\/' \(at character 16\)/],
    ['slos://vaults/a\\*', /'\\'/],
    ['slos://vaults/[\\]x', /'\\'/],
    ['slos://vaults/%2e%2e/*', /'%2e' encode '\.'/],
    ['slos://vaults/%2E*', /'%2E' encode '\.'/],
    ['slos://vaults/a%2F*', /'%2F' encode '\/'/],
    ['slos://vaults/a%2f*', /'%2f' encode '\/'/],
    ['slos://vaults/a%5C*', /'%5C' encode '\\'/],
    ['slos://vaults/%c3%a9*', /uppercase hex/],
    ['slos://vaults/%C3*', /not valid UTF-8/],
    ['slos://vaults/%*', /'%' is not followed by two hex digits/],
    ['slos://vaults/a%?', /'%' is not followed by two hex digits/],
    ['slos://vaults/a;*', /';'/],
    ['slos://vaults/a#*', /'#'/],
    ['slos://vaults/a *', /space/],
    ['slos://vaults/é*', /not ASCII/],
    ['slos://vaults/a[*', /no closing '\]'/],
    ['slos://vaults/a]*', /'\]' outside a class/],
    ['slos://vaults/a.*/b./*', /path segment 2 'b\.' ends with '\.'/],
    ['slos://vaults/*a.', /ends with '\.'/],
    ['SLOS://vaults/*', /scheme 'SLOS' must be lowercase/],
    ['sLos*://vaults/*', /'L' in the scheme must be lowercase/],
    ['slos://Vaults/*', /authority 'Vaults' must be lowercase/],
    ['slos://V*/x', /'V' in the authority must be lowercase/],
    ['slos://*:443/x', /ports are not allowed/],
    ['slos://u@*/x', /userinfo/],
    ['slos://.*/x', /empty label/],
    ['slos://a..*/x', /empty label/],
    ['slos:///*', /authority .* is empty/],
    ['slos:/*', /scheme:opaque form is not supported/],
    ['urn:*', /scheme:opaque form is not supported/],
    ['/etc/*', /segment 1 is empty: a resource without a scheme/],
    ['*x:y', /character 3 is ':'/],
    ['slos://vaults/*::$DATA', /':'/],
  ];
  for (const [p, message] of refused) {
    const problem = resourcePatternProblem(p);
    assert.ok(problem !== undefined, `accepted ${p}`);
    assert.match(problem, message, p);
    assert.equal(isCanonicalResourcePattern(p), false);
  }
  const accepted = [
    'slos://vaults/student-records/*',
    'slos://vaults/*/public',
    'slos://vaults/a/.*',
    'slos://vaults/a/..*',
    'slos://vaults/a/*.pdf',
    'slos://vaults/%C3%A9t%C3%A9/*',
    'slos://vaults/[a-z]*',
    'slos://vaults/[!/]',
    'slos://v?ults/*',
    'slos://*.example.com/*',
    '*://vaults/*',
    'slos://vaults/student-records?..?student-health/*',
  ];
  for (const p of accepted) assert.equal(resourcePatternProblem(p), undefined, p);
});

test('subtle pattern cases: wildcards standing for . or /, and * crossing /', () => {
  // A `?` (or a class) may stand for '/' and the literal '..' between them is not a segment of the
  // pattern, so the pattern is accepted; the traversal it would match is refused as a resource.
  const sneaky = 'slos://vaults/student-records?..?student-health/*';
  const traversal = 'slos://vaults/student-records/../student-health/s-1';
  assert.equal(resourcePatternProblem(sneaky), undefined);
  assert.equal(globMatch(sneaky, traversal), true);
  assert.equal(isCanonicalResource(traversal), false);
  const sneakyClass = 'slos://vaults/student-records[/.][/.].[/]student-health/*';
  assert.equal(resourcePatternProblem(sneakyClass), undefined);
  assert.equal(globMatch(sneakyClass, traversal), true);
  // `*` crosses '/': a grant covers every descendant, and only canonical ones pass the resource check.
  assert.equal(globMatch(GRANT, 'slos://vaults/student-records/a/b/c'), true);
  assert.equal(isCanonicalResource('slos://vaults/student-records/a/b/c'), true);
  assert.equal(globMatch(GRANT, 'slos://vaults/student-records/a/../../student-health/s-1'), true);
  assert.equal(isCanonicalResource('slos://vaults/student-records/a/../../student-health/s-1'), false);
  // Without the '/', a prefix grant covers sibling names too (fnmatch semantics; not refused).
  assert.equal(globMatch('slos://vaults/student-records*', 'slos://vaults/student-records-archive/x'), true);
});

// ---------------------------------------------------------------------------------------------
// Properties

const SCHEMES = ['slos', 'https', 's3', 'x-y.z+w'];
const AUTHORITIES = ['vaults', 'example.com', 'a-b_c.d0'];

/** Oracle: may `s` be a segment? (Written from docs/resources.md, independently of resource.ts.) */
function segmentAllowed(s: string): boolean {
  if (s === '' || s === '.' || s === '..' || s.endsWith('.')) return false;
  if (/[/\\%:;?#]/.test(s)) return false;
  if (/[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Z}]/u.test(s)) return false;
  if (/^\p{M}/u.test(s)) return false;
  return s.normalize('NFKC') === s;
}

const SEGMENT_CHARS = [...'aZ09-._~!$&\'(),=:@"*+<>[]^`{|}/\\%;?# \téЁ日ｘ．\u0301\u200b\ufeff'];
const anySegmentArb: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[a-z0-9][a-z0-9-]{0,10}$/),
  fc.string({ unit: fc.constantFrom(...SEGMENT_CHARS), minLength: 0, maxLength: 6 }),
  fc.string({ unit: 'grapheme', maxLength: 6 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('.', '..', '...', 'a.', '.a', '..a', 'é', 'e\u0301', 'ß', 'ǅ', 'Å', '\u212b'),
);
const validSegmentArb = anySegmentArb.filter(segmentAllowed);

interface Grant {
  readonly pattern: string;
  /** The literal text before the first wildcard. */
  readonly prefix: string;
}

const grantArb: fc.Arbitrary<Grant> = fc
  .record({
    bare: fc.boolean(),
    scheme: fc.constantFrom(...SCHEMES),
    authority: fc.constantFrom(...AUTHORITIES),
    segments: fc.array(validSegmentArb, { maxLength: 3 }),
    tail: fc.constantFrom('/*', '*', '/?', '/[a-z]*', '/*/x', '', '/*.pdf', '-*', '/?*', '/[!/]*'),
  })
  .map(({ bare, scheme, authority, segments, tail }) => {
    const encoded = segments.map(encodeResourceSegment);
    // A bare resource needs at least one segment.
    const base = bare
      ? ['student-records', ...encoded].join('/')
      : `${scheme}://${authority}${encoded.map((s) => `/${s}`).join('')}`;
    const pattern = base + tail;
    return { pattern, prefix: base };
  });

const HOSTILE_PIECES = [
  ...['..', '.', '/', '//', '\\', '%2e', '%2E', '%2e%2e', '%2E%2E', '%2f', '%2F', '%5c', '%5C', '%25', '%252e'],
  ...['%252F', ';', '..;', '%3B', ' ', '%20', '%09', '%00', '\n', '%C0%AE', '%EF%BC%8E', '%E2%80%A5', '%EF%BC%8F'],
  ...['%EF%BC%BC', '?', '#', '%3F', '%23', 'x', 'a.', '~', '%7E', '%41', 'A', '%C3%A9', '%c3%a9', 'é', '%2A', '*'],
  ...['student-health', 'STUDENT-HEALTH', 'student-records', 's-1', 'SLOS://', 'slos://', 'vaults', 'VAULTS', ':'],
  ...['@', '%CC%81', '%EF%BB%BF', 'q1.pdf', '-', '.pdf', '%E2%80%AE', '%CE%91'],
];
const piecesArb = fc.array(fc.constantFrom(...HOSTILE_PIECES), { maxLength: 8 }).map((a) => a.join(''));
const dotSlashArb = fc.string({
  unit: fc.constantFrom('/', '.', '%', '2', 'e', 'E', 'f', 'F', '5', 'c', 'C', '\\', 'a', ';'),
  maxLength: 16,
});

function hostileArb(grant: Grant): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 4, arbitrary: piecesArb.map((p) => grant.prefix + p) },
    { weight: 2, arbitrary: piecesArb.map((p) => `${grant.prefix}/${p}`) },
    { weight: 2, arbitrary: dotSlashArb.map((p) => `${grant.prefix}/${p}`) },
    {
      weight: 3,
      arbitrary: fc
        .array(validSegmentArb, { minLength: 1, maxLength: 3 })
        .map((s) => `${grant.prefix}/${s.map(encodeResourceSegment).join('/')}`),
    },
    { weight: 1, arbitrary: piecesArb },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }).map((p) => grant.prefix + p) },
  );
}

test('property (a): a canonical resource a canonical grant matches stays inside the grant after any resolution', () => {
  let matched = 0;
  let refusedButMatched = 0;
  fc.assert(
    fc.property(
      grantArb.chain((g) => fc.tuple(fc.constant(g), hostileArb(g))),
      ([grant, s]) => {
        assert.equal(resourcePatternProblem(grant.pattern), undefined, grant.pattern);
        const glob = globMatch(grant.pattern, s);
        if (!isCanonicalResource(s)) {
          if (glob) refusedButMatched++;
          return;
        }
        if (!glob) return;
        matched++;
        const parts = parseResource(s);
        // Strict RFC 3986: normalization (incl. §5.2.4 on the path) changes nothing.
        assert.equal(rfcNormalize(s), s);
        // A lenient backend (double decoding, NFKC, '\' as '/', ';params', trimming) reaches the
        // very segments the enforcer saw...
        const reached = lenientResolve(s);
        assert.deepEqual(reached, { scheme: parts.scheme, authority: parts.authority, segments: [...parts.segments] });
        // ...and that object, spelled canonically, is the same string, still matched by the grant.
        const again = build(reached);
        assert.equal(again, s);
        assert.equal(globMatch(grant.pattern, again), true);
      },
    ),
    { numRuns: 5000 },
  );
  assert.ok(matched > 400, `only ${matched} canonical matches: the generator is too weak`);
  assert.ok(refusedButMatched > 250, `only ${refusedButMatched} hostile matches: the generator is too weak`);
});

test('property (a), deny side: with a canonical deny, a canonical resource outside it reaches nothing inside it', () => {
  const denyArb = fc.constantFrom(DENY, 'slos://vaults/student-health*', 'slos://vaults/*/secret/*', '*secret*');
  fc.assert(
    fc.property(
      denyArb,
      hostileArb({ pattern: 'slos://vaults/*', prefix: 'slos://vaults/student-records' }),
      hostileArb({ pattern: 'slos://vaults/*', prefix: 'slos://vaults' }),
      (deny, s1, s2) => {
        assert.equal(resourcePatternProblem(deny), undefined);
        for (const s of [s1, s2]) {
          if (!isCanonicalResource(s) || globMatch(deny, s)) continue;
          assert.equal(globMatch(deny, build(lenientResolve(s))), false, s);
        }
      },
    ),
    { numRuns: 3000 },
  );
});

test('property (b): resourceFromSegments output is canonical and round-trips; it refuses exactly the bad segments', () => {
  let built = 0;
  fc.assert(
    fc.property(
      fc.constantFrom(...SCHEMES),
      fc.constantFrom(...AUTHORITIES),
      fc.array(anySegmentArb, { maxLength: 5 }),
      (scheme, authority, segments) => {
        const ok = segments.every(segmentAllowed);
        let r: string;
        try {
          r = resourceFromSegments(scheme, authority, ...segments);
        } catch (e) {
          assert.ok(e instanceof AuthorityError && e.reason === 'INVALID_REQUEST' && e.field === 'resource');
          assert.equal(ok, false, `refused good segments ${JSON.stringify(segments)}: ${String(e)}`);
          return;
        }
        assert.equal(ok, true, `built from bad segments ${JSON.stringify(segments)}: ${r}`);
        built++;
        assert.equal(resourceProblem(r), undefined, r);
        assert.ok(/^[\x21-\x7e]*$/.test(r), 'printable ASCII only');
        assert.ok(!/[*?[\]]/.test(r), 'no glob metacharacters');
        assert.deepEqual(parseResource(r), { scheme, authority, segments });
        // An independent decoder agrees.
        const path = r.slice(`${scheme}://${authority}`.length);
        assert.deepEqual(path === '' ? [] : path.slice(1).split('/').map(decodeURIComponent), segments);
        assert.equal(appendResourceSegments(`${scheme}://${authority}`, ...segments), r);
      },
    ),
    { numRuns: 3000 },
  );
  assert.ok(built > 500, `only ${built} resources built`);
});

test('property (c): canonical resources are fixed points of RFC 3986 normalization', () => {
  const canonicalArb = fc
    .tuple(fc.constantFrom(...SCHEMES), fc.constantFrom(...AUTHORITIES), fc.array(validSegmentArb, { maxLength: 5 }))
    .map(([s, a, segs]) => resourceFromSegments(s, a, ...segs));
  fc.assert(
    fc.property(canonicalArb, (r) => {
      assert.equal(rfcNormalize(r), r);
      assert.equal(rfcNormalize(r.replace(/^[a-z0-9+.-]+:\/\/[^/]*/, '')), r.replace(/^[a-z0-9+.-]+:\/\/[^/]*/, ''));
    }),
    { numRuns: 2000 },
  );
  // And over hostile strings: whatever is canonical is a fixed point (so whatever normalization
  // would change is refused).
  fc.assert(
    fc.property(
      fc.oneof(
        piecesArb,
        piecesArb.map((p) => `slos://vaults/${p}`),
        fc.string({ unit: 'binary', maxLength: 30 }),
      ),
      (s) => {
        if (isCanonicalResource(s)) assert.equal(rfcNormalize(s), s, s);
      },
    ),
    { numRuns: 5000 },
  );
});

test('property: a canonical resource is a canonical pattern that matches exactly itself', () => {
  fc.assert(
    fc.property(
      fc.tuple(
        fc.constantFrom(...SCHEMES),
        fc.constantFrom(...AUTHORITIES),
        fc.array(validSegmentArb, { maxLength: 4 }),
      ),
      hostileArb({ pattern: '*', prefix: 'slos://vaults' }),
      ([scheme, authority, segs], other) => {
        const r = resourceFromSegments(scheme, authority, ...segs);
        if (r.length > 1024) return;
        assert.equal(resourcePatternProblem(r), undefined, r);
        assert.equal(globMatch(r, r), true);
        if (other !== r) assert.equal(globMatch(r, other), false);
      },
    ),
    { numRuns: 2000 },
  );
});

test('property: without glob metacharacters, the pattern rules and the resource rules agree', () => {
  const literalArb = fc
    .oneof(
      piecesArb,
      piecesArb.map((p) => `slos://vaults/${p}`),
      fc.string({ unit: 'binary', maxLength: 30 }),
    )
    .filter((s) => !/[*?[]/.test(s) && s.length <= 1024);
  fc.assert(
    fc.property(literalArb, (s) => {
      assert.equal(resourcePatternProblem(s) === undefined, resourceProblem(s) === undefined, s);
    }),
    { numRuns: 5000 },
  );
});

test('property: the checks never throw and always answer with a message or undefined', () => {
  fc.assert(
    fc.property(
      fc.oneof(
        fc.string({ unit: 'binary', maxLength: 60 }),
        fc.string({ unit: fc.constantFrom(...'/:.%2eEfF[]!*?\\a-Z'), maxLength: 40 }),
        piecesArb,
      ),
      (s) => {
        const r = resourceProblem(s);
        const p = resourcePatternProblem(s);
        assert.ok(r === undefined || (typeof r === 'string' && r.length > 0));
        assert.ok(p === undefined || (typeof p === 'string' && p.length > 0));
        assert.equal(isCanonicalResource(s), r === undefined);
      },
    ),
    { numRuns: 5000 },
  );
});

test('resourceProblem fast path agrees with the full analysis on every string it accepts', () => {
  const chars = "ab.-_~!$&'(),=@/%:ZA09 ";
  let accepted = 0;
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...chars.split('')), { maxLength: 40 }), (cs) => {
      const candidate = `slos://vaults/${cs.join('')}`;
      if (PLAIN_CANONICAL_URI.test(candidate)) {
        accepted++;
        assert.equal(fullResourceProblem(candidate), undefined, candidate);
      }
    }),
    { numRuns: 5000 },
  );
  assert.ok(accepted > 100, `the fast path accepted only ${accepted} strings`);
});
