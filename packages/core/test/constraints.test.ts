// Constraints (src/constraints).
// Size: one test per constraint: parsing, narrowing and evaluation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { AuthorityError } from '../src/errors';
import {
  type ConstraintRequest,
  type Constraints,
  DEFAULT_READ_ONLY_ACTIONS,
  MAX_DENIED_RESOURCES,
  VIOLATION_PRECEDENCE,
  actionNeedsApproval,
  constraintsToWire,
  declareUnconstrained,
  evaluateConstraints,
  findLoosenedConstraint,
  isMeaningfulPurpose,
  mergeConstraints,
  parseConstraints,
  readOnlyActionProblem,
} from '../src/constraints';
import { MAX_GLOB_INPUT_LENGTH, MAX_GLOB_PATTERN_LENGTH } from '../src/glob';

const parse = (raw: unknown) => parseConstraints(raw, 'INVALID_REQUEST', 'cns');

function assertRefused(raw: unknown, field: string, message: string | RegExp): void {
  assert.throws(
    () => parse(raw),
    (err: unknown) => {
      assert.ok(err instanceof AuthorityError, `expected AuthorityError, got ${String(err)}`);
      assert.equal(err.reason, 'INVALID_REQUEST');
      assert.equal(err.field, field);
      if (typeof message === 'string') assert.equal(err.message, message);
      else assert.match(err.message, message);
      return true;
    },
    `refuses ${JSON.stringify(raw)}`,
  );
}

const base: Constraints = {
  requirePurpose: false,
  deniedResources: [],
  writeRequiresApproval: false,
  unconstrained: false,
};
const make = (overrides: Partial<Constraints>): Constraints => ({ ...base, deniedResources: [], ...overrides });

// ---- parseConstraints -----------------------------------------------------------------------

test('parseConstraints accepts every key and both aliases', () => {
  assert.deepEqual(
    parse({
      require_purpose: true,
      denied_resources: ['slos://vaults/health/*', 'x'],
      max_records_per_request: 50,
      write_requires_approval: true,
    }),
    {
      requirePurpose: true,
      deniedResources: ['slos://vaults/health/*', 'x'],
      maxRecordsPerRequest: 50,
      writeRequiresApproval: true,
      unconstrained: false,
    },
  );
  assert.deepEqual(
    parse({ max_records: 7, require_approval: true }),
    make({ maxRecordsPerRequest: 7, writeRequiresApproval: true }),
  );
  assert.deepEqual(parse({ unconstrained: true }), make({ unconstrained: true }));
  assert.deepEqual(
    parse({ unconstrained: true, require_purpose: true }),
    make({ unconstrained: true, requirePurpose: true }),
    'unconstrained alongside other keys keeps them',
  );
  assert.deepEqual(parse({ require_purpose: false }), make({}), 'false does nothing but is not empty');
  assert.deepEqual(parse({ denied_resources: [] }), make({}));
  assert.deepEqual(
    parse(JSON.parse('{"max_records_per_request": 9007199254740991}')),
    make({ maxRecordsPerRequest: Number.MAX_SAFE_INTEGER }),
  );
  const maxList = Array.from({ length: MAX_DENIED_RESOURCES }, (_, i) => `r/${i}`);
  assert.equal(parse({ denied_resources: maxList }).deniedResources.length, MAX_DENIED_RESOURCES);
  assert.equal(parse({ denied_resources: ['a'.repeat(MAX_GLOB_PATTERN_LENGTH)] }).deniedResources.length, 1);
});

test('parseConstraints copies the deny list (no aliasing of caller data)', () => {
  const raw = { denied_resources: ['a'] };
  const parsed = parse(raw);
  raw.denied_resources.push('b');
  assert.deepEqual(parsed.deniedResources, ['a']);
});

test('parseConstraints refuses empty, non-object and unknown input, naming it', () => {
  assertRefused({}, 'cns', 'empty constraints in cns: set {unconstrained: true} to declare that none apply');
  for (const raw of [null, undefined, [], ['require_purpose'], 'require_purpose', 5, true, new Date(0), new Map()]) {
    assertRefused(raw, 'cns', /^constraints in cns must be an object, got /);
  }
  assertRefused({ max_amount: 10 }, 'cns.max_amount', "unknown constraint 'max_amount' in cns");
  assertRefused(
    { require_purpose: true, allowed_tokens: ['x'] },
    'cns.allowed_tokens',
    "unknown constraint 'allowed_tokens' in cns",
  );
  assertRefused(
    { Require_Purpose: true },
    'cns.Require_Purpose',
    "unknown constraint 'Require_Purpose' in cns; did you mean 'require_purpose'?",
  );
  assertRefused(
    JSON.parse('{"__proto__": {"require_purpose": true}}'),
    'cns.__proto__',
    "unknown constraint '__proto__' in cns",
  );
});

test('parseConstraints refuses wrong types, naming key and value', () => {
  assertRefused(
    { max_records_per_request: '5' },
    'cns.max_records_per_request',
    `constraint 'max_records_per_request' in cns must be a positive integer, got "5"`,
  );
  for (const bad of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY, 2 ** 53, null, true, [5]]) {
    assertRefused({ max_records_per_request: bad }, 'cns.max_records_per_request', /must be a positive integer, got /);
    assertRefused(
      { max_records: bad },
      'cns.max_records',
      /^constraint 'max_records' in cns must be a positive integer/,
    );
  }
  for (const key of ['require_purpose', 'write_requires_approval', 'require_approval']) {
    for (const bad of ['true', 1, 0, null, {}]) {
      assertRefused({ [key]: bad }, `cns.${key}`, new RegExp(`^constraint '${key}' in cns must be a boolean, got `));
    }
  }
  for (const bad of [false, 'true', 1, null, {}]) {
    assertRefused(
      { unconstrained: bad },
      'cns.unconstrained',
      /^constraint 'unconstrained' in cns must be literally true, got /,
    );
    // Unlike the original, a non-true `unconstrained` is refused even next to other keys.
    assertRefused({ unconstrained: bad, require_purpose: true }, 'cns.unconstrained', /must be literally true/);
  }
  assertRefused(
    { denied_resources: 'slos://*' },
    'cns.denied_resources',
    /must be an array of glob patterns, got "slos:\/\/\*"/,
  );
  assertRefused(
    { denied_resources: ['ok', ''] },
    'cns.denied_resources',
    /pattern at index 1 must be a non-empty string, got ""/,
  );
  assertRefused(
    { denied_resources: [5] },
    'cns.denied_resources',
    /pattern at index 0 must be a non-empty string, got 5/,
  );
  assertRefused(
    { denied_resources: ['a'.repeat(MAX_GLOB_PATTERN_LENGTH + 1)] },
    'cns.denied_resources',
    /index 0 is longer than 1024/,
  );
  assertRefused(
    { denied_resources: Array.from({ length: MAX_DENIED_RESOURCES + 1 }, (_, i) => `r/${i}`) },
    'cns.denied_resources',
    /has 257 patterns, at most 256/,
  );
});

test('parseConstraints refuses a constraint given under both its name and its alias', () => {
  assertRefused(
    { max_records_per_request: 5, max_records: 5 },
    'cns.max_records',
    "constraint 'max_records_per_request' in cns is given twice (also as alias 'max_records')",
  );
  assertRefused(
    { write_requires_approval: true, require_approval: true },
    'cns.require_approval',
    "constraint 'write_requires_approval' in cns is given twice (also as alias 'require_approval')",
  );
});

test('parseConstraints uses the caller-supplied reason and field', () => {
  assert.throws(
    () => parseConstraints({ nope: 1 }, 'POLICY_DENIED', 'agents.bot.constraints'),
    (err: unknown) =>
      err instanceof AuthorityError &&
      err.reason === 'POLICY_DENIED' &&
      err.field === 'agents.bot.constraints.nope' &&
      err.message === "unknown constraint 'nope' in agents.bot.constraints",
  );
});

// ---- constraintsToWire ----------------------------------------------------------------------

test('constraintsToWire: canonical snake_case, omits what is not in force', () => {
  assert.deepEqual(constraintsToWire(make({})), { unconstrained: true });
  assert.deepEqual(constraintsToWire(declareUnconstrained()), { unconstrained: true });
  assert.deepEqual(constraintsToWire(make({ requirePurpose: true })), { require_purpose: true });
  const full = make({
    requirePurpose: true,
    deniedResources: ['a/*'],
    maxRecordsPerRequest: 3,
    writeRequiresApproval: true,
    unconstrained: true,
  });
  const wire = constraintsToWire(full);
  assert.deepEqual(wire, {
    require_purpose: true,
    denied_resources: ['a/*'],
    max_records_per_request: 3,
    write_requires_approval: true,
    unconstrained: true,
  });
  assert.deepEqual(Object.keys(wire), [
    'require_purpose',
    'denied_resources',
    'max_records_per_request',
    'write_requires_approval',
    'unconstrained',
  ]);
  assert.notEqual(wire['denied_resources'], full.deniedResources, 'a copy, not the same array');
  // Aliases come back under their canonical names.
  assert.deepEqual(constraintsToWire(parse({ max_records: 2, require_approval: true })), {
    max_records_per_request: 2,
    write_requires_approval: true,
  });
});

// ---- evaluateConstraints --------------------------------------------------------------------

test('evaluateConstraints: every combination of the three violations, and approval', () => {
  const all = make({
    requirePurpose: true,
    deniedResources: ['slos://vaults/health/*'],
    maxRecordsPerRequest: 10,
    writeRequiresApproval: true,
  });
  for (const denied of [false, true]) {
    for (const noPurpose of [false, true]) {
      for (const tooMany of [false, true]) {
        for (const action of ['read', 'write', 'create', 'update', 'delete']) {
          const req: ConstraintRequest = {
            action,
            resource: denied ? 'slos://vaults/health/records/1' : 'slos://vaults/finance/q1',
            recordCount: tooMany ? 11 : 10,
          };
          if (!noPurpose) req.purpose = 'quarterly review';
          const outcome = evaluateConstraints(all, req);
          // In VIOLATION_PRECEDENCE order: what data, how much, why.
          const expected = [
            ...(denied ? ['DENIED_RESOURCE'] : []),
            ...(tooMany ? ['MAX_RECORDS_EXCEEDED'] : []),
            ...(noPurpose ? ['PURPOSE_REQUIRED'] : []),
          ];
          const label = JSON.stringify(req);
          assert.deepEqual(
            outcome.violations.map((v) => v.reason),
            expected,
            label,
          );
          const anyViolation = denied || noPurpose || tooMany;
          assert.equal(outcome.approvalRequired, !anyViolation && action !== 'read', `approval for ${label}`);
        }
      }
    }
  }
});

test('evaluateConstraints: violation details name the constraint, the request field, resource and pattern', () => {
  const c = make({ requirePurpose: true, deniedResources: ['a/*', 'slos://vaults/h*'], maxRecordsPerRequest: 2 });
  const { violations } = evaluateConstraints(c, { action: 'read', resource: 'slos://vaults/health/x', recordCount: 3 });
  assert.deepEqual(
    violations.map((v) => [v.reason, v.constraint, v.field]),
    [
      ['DENIED_RESOURCE', 'denied_resources', 'resource'],
      ['MAX_RECORDS_EXCEEDED', 'max_records_per_request', 'context.record_count'],
      ['PURPOSE_REQUIRED', 'require_purpose', 'context.purpose'],
    ],
  );
  assert.equal(
    violations[0]?.message,
    "Constraint 'denied_resources': resource 'slos://vaults/health/x' matches denied pattern 'slos://vaults/h*'",
  );
  assert.equal(violations[1]?.message, "Constraint 'max_records_per_request': requested 3 records but limit is 2");
  assert.equal(
    violations[2]?.message,
    "Constraint 'require_purpose': access must include a purpose with at least one letter or digit",
  );
  // A long resource is quoted only in part: a denial lists many violations, each stays short.
  const long = `slos://vaults/h/${'x'.repeat(3000)}`;
  const [quoted] = evaluateConstraints(c, { action: 'read', resource: long, recordCount: 1, purpose: 'p' }).violations;
  assert.ok(quoted !== undefined && quoted.message.length < 400, quoted?.message);
  assert.match(quoted.message, /…\[2816 more characters\]' matches denied pattern 'slos:\/\/vaults\/h\*'$/);
});

test('violation precedence is documented order: resource, record count (missing, then exceeded), purpose', () => {
  assert.deepEqual(VIOLATION_PRECEDENCE, [
    'DENIED_RESOURCE',
    'RECORD_COUNT_REQUIRED',
    'MAX_RECORDS_EXCEEDED',
    'PURPOSE_REQUIRED',
  ]);
  const c = make({ requirePurpose: true, deniedResources: ['r/*'], maxRecordsPerRequest: 2 });
  assert.deepEqual(
    evaluateConstraints(c, { action: 'read', resource: 'r/1' }).violations.map((v) => v.reason),
    ['DENIED_RESOURCE', 'RECORD_COUNT_REQUIRED', 'PURPOSE_REQUIRED'],
  );
});

test('max_records_per_request without a record count is RECORD_COUNT_REQUIRED (fails closed); 0 is a count', () => {
  const limit = make({ maxRecordsPerRequest: 5 });
  const { violations, approvalRequired } = evaluateConstraints(limit, { action: 'read' });
  assert.deepEqual(violations, [
    {
      reason: 'RECORD_COUNT_REQUIRED',
      constraint: 'max_records_per_request',
      field: 'context.record_count',
      message:
        "Constraint 'max_records_per_request': the request must state how many records it touches in context.record_count (limit is 5)",
    },
  ]);
  assert.equal(approvalRequired, false);
  assert.equal(evaluateConstraints(limit, { action: 'read', recordCount: 0 }).violations.length, 0);
  assert.equal(evaluateConstraints(limit, { action: 'read', recordCount: 5 }).violations.length, 0);
  // Without the constraint an absent count is nobody's business.
  assert.equal(evaluateConstraints(make({}), { action: 'read' }).violations.length, 0);
  assert.equal(evaluateConstraints(declareUnconstrained(), { action: 'read' }).violations.length, 0);
});

test('evaluateConstraints: purpose, record count and resource edge cases', () => {
  const purpose = make({ requirePurpose: true });
  for (const p of [undefined, '', '   ', '\t\n', '\u00a0', '\u200b', '\u3164']) {
    assert.deepEqual(
      evaluateConstraints(purpose, { action: 'read', purpose: p }).violations.map((v) => v.reason),
      ['PURPOSE_REQUIRED'],
      JSON.stringify(p),
    );
  }
  assert.equal(evaluateConstraints(purpose, { action: 'read', purpose: ' x ' }).violations.length, 0);

  const limit = make({ maxRecordsPerRequest: 5 });
  assert.equal(evaluateConstraints(limit, { action: 'read', recordCount: 5 }).violations.length, 0, 'equal is fine');
  assert.equal(evaluateConstraints(limit, { action: 'read', recordCount: 0 }).violations.length, 0);
  for (const bad of [6, Number.NaN, -1, 2.5, Number.POSITIVE_INFINITY]) {
    assert.deepEqual(
      evaluateConstraints(limit, { action: 'read', recordCount: bad }).violations.map((v) => v.reason),
      ['MAX_RECORDS_EXCEEDED'],
      String(bad),
    );
  }
  assert.equal(
    evaluateConstraints(make({}), { action: 'read', recordCount: Number.NaN }).violations.length,
    0,
    'no limit, no check',
  );

  const deny = make({ deniedResources: ['slos://vaults/*'] });
  assert.equal(evaluateConstraints(deny, { action: 'read' }).violations.length, 0, 'no resource, nothing to deny');
  assert.equal(evaluateConstraints(deny, { action: 'read', resource: '' }).violations.length, 0);
  assert.equal(
    evaluateConstraints(deny, { action: 'read', resource: 'SLOS://vaults/x' }).violations.length,
    0,
    'case-sensitive',
  );
  // A resource too long for the matcher is denied, not waved through.
  const long = `https://example.com/${'a'.repeat(MAX_GLOB_INPUT_LENGTH)}`;
  assert.deepEqual(
    evaluateConstraints(deny, { action: 'read', resource: long }).violations.map((v) => v.reason),
    ['DENIED_RESOURCE'],
  );
  assert.equal(evaluateConstraints(make({}), { action: 'read', resource: long }).violations.length, 0);
  // Hand-built constraints with an over-long pattern fail closed too.
  const overlong = make({ deniedResources: ['z'.repeat(MAX_GLOB_PATTERN_LENGTH + 1)] });
  assert.equal(evaluateConstraints(overlong, { action: 'read', resource: 'anything' }).violations.length, 1);
});

test('write_requires_approval: every action outside the read-only list needs approval, case-folded', () => {
  assert.deepEqual([...DEFAULT_READ_ONLY_ACTIONS].sort(), [
    'describe',
    'get',
    'head',
    'list',
    'query',
    'read',
    'search',
    'view',
  ]);
  const approval = make({ writeRequiresApproval: true });
  for (const action of DEFAULT_READ_ONLY_ACTIONS) {
    assert.equal(evaluateConstraints(approval, { action }).approvalRequired, false, action);
    assert.equal(evaluateConstraints(approval, { action: action.toUpperCase() }).approvalRequired, false, action);
  }
  // The write list of old covered write/create/update/delete only: these slipped through.
  for (const action of [
    'write',
    'create',
    'update',
    'delete',
    'put',
    'patch',
    'remove',
    'upsert',
    'delete_all',
    'write-bulk',
    'WRITE',
    'Put',
    'reads',
    'read ',
    'readx',
    'export',
    '*',
    'r\u0065ad\u200b',
  ]) {
    assert.equal(evaluateConstraints(approval, { action }).approvalRequired, true, JSON.stringify(action));
    assert.equal(actionNeedsApproval(approval, action), true, JSON.stringify(action));
  }
  assert.equal(
    evaluateConstraints(make({}), { action: 'delete_all' }).approvalRequired,
    false,
    'only under the constraint',
  );
  // A tenant's own list replaces the default.
  const custom = new Set(['read', 'export']);
  assert.equal(evaluateConstraints(approval, { action: 'export' }, custom).approvalRequired, false);
  assert.equal(evaluateConstraints(approval, { action: 'list' }, custom).approvalRequired, true);
  assert.equal(evaluateConstraints(approval, { action: 'read' }, new Set()).approvalRequired, true, 'empty list');
  const both = make({ unconstrained: true, requirePurpose: true });
  assert.equal(evaluateConstraints(both, { action: 'read' }).violations.length, 1);
  assert.deepEqual(evaluateConstraints(declareUnconstrained(), { action: 'delete', resource: 'x', recordCount: 1e9 }), {
    violations: [],
    approvalRequired: false,
  });
});

test('require_purpose: a purpose needs a letter or digit that is not default-ignorable', () => {
  const refused = [
    '\u200b', // ZERO WIDTH SPACE
    '\u2060', // WORD JOINER
    '\u3164', // HANGUL FILLER (a letter, Lo, that renders as nothing)
    '\u115f', // HANGUL CHOSEONG FILLER (Lo)
    '\u1160', // HANGUL JUNGSEONG FILLER (Lo)
    '\uffa0', // HALFWIDTH HANGUL FILLER (Lo)
    '\ufeff\u200c\u200d\u00ad\u034f\u180e', // BOM, ZWNJ, ZWJ, soft hyphen, CGJ, Mongolian vowel separator
    '\u202e\u2066\u2069', // bidi controls
    '\u3000\u2003\u00a0\u2028', // wide, em, no-break spaces, line separator
    '\u3164 \u3164',
    '...',
    '- / -',
    '\u2800', // BRAILLE PATTERN BLANK (a symbol)
    '\u{1F642}', // an emoji alone says nothing
    '\u0301\u0301', // combining marks with nothing to combine with
    '\u{E0041}', // TAG LATIN CAPITAL LETTER A (default-ignorable format character)
  ];
  for (const p of refused) {
    assert.equal(isMeaningfulPurpose(p), false, JSON.stringify(p));
    assert.deepEqual(
      evaluateConstraints(make({ requirePurpose: true }), { action: 'read', purpose: p }).violations.map(
        (v) => v.reason,
      ),
      ['PURPOSE_REQUIRED'],
      JSON.stringify(p),
    );
  }
  for (const p of ['x', '7', 'é', 'ß', '学期', 'ت', 'क', '\u2167', '\u3164a', '\u200bgrading\u200b', ' audit ', 'Ⅻ']) {
    assert.equal(isMeaningfulPurpose(p), true, JSON.stringify(p));
  }
  for (const p of [undefined, null, 5, {}]) assert.equal(isMeaningfulPurpose(p), false, String(p));
});

test('property: a purpose without a visible letter or digit is refused; one visible letter or digit is enough', () => {
  const blank = fc.constantFrom(
    ' ',
    '\t',
    '\n',
    '\u00a0',
    '\u200b',
    '\u2060',
    '\u3164',
    '\u115f',
    '\u1160',
    '\uffa0',
    '\ufeff',
    '\u200d',
    '\u202e',
    '.',
    '-',
    '!',
    '\u0301',
    '\u2800',
    '\u{1F642}',
    '\u{E0020}',
  );
  const visible = fc.constantFrom('a', 'Z', '0', '9', 'é', 'ж', '学', 'ت', 'क', '\u2167', '\uac00');
  const requirePurpose = make({ requirePurpose: true });
  const refused = (p: string) =>
    evaluateConstraints(requirePurpose, { action: 'read', purpose: p }).violations.some(
      (v) => v.reason === 'PURPOSE_REQUIRED',
    );
  fc.assert(
    fc.property(fc.array(blank, { maxLength: 12 }), (parts) => {
      assert.equal(refused(parts.join('')), true, JSON.stringify(parts.join('')));
    }),
    { numRuns: 500 },
  );
  fc.assert(
    fc.property(fc.array(blank, { maxLength: 6 }), visible, fc.array(blank, { maxLength: 6 }), (pre, v, post) => {
      assert.equal(refused(pre.join('') + v + post.join('')), false);
    }),
    { numRuns: 500 },
  );
  // Arbitrary text: refused exactly when no code point is a letter or digit outside the
  // default-ignorable set (checked one code point at a time, independently of the engine's regex).
  const letterOrDigit = /^[\p{L}\p{N}]$/u;
  const ignorable = /^\p{Default_Ignorable_Code_Point}$/u;
  fc.assert(
    fc.property(fc.string({ unit: 'grapheme', maxLength: 8 }), (p) => {
      const meaningful = [...p].some((ch) => letterOrDigit.test(ch) && !ignorable.test(ch));
      assert.equal(refused(p), !meaningful, JSON.stringify(p));
    }),
    { numRuns: 1000 },
  );
});

test('property: under write_requires_approval any action not in the read-only list needs approval', () => {
  const approval = make({ writeRequiresApproval: true });
  const readOnlyList = fc.uniqueArray(fc.stringMatching(/^[a-z0-9][a-z0-9_.-]{0,8}$/), { maxLength: 6 });
  const action = fc.oneof(
    fc.string({ minLength: 1, maxLength: 12 }),
    fc.constantFrom(...DEFAULT_READ_ONLY_ACTIONS, 'put', 'patch', 'upsert', 'delete_all', 'write-bulk', 'remove'),
    fc
      .constantFrom(...DEFAULT_READ_ONLY_ACTIONS)
      .chain((a) => fc.tuple(fc.constant(a), fc.string({ maxLength: 2 })).map(([x, extra]) => x + extra)),
    fc
      .constantFrom(...DEFAULT_READ_ONLY_ACTIONS)
      .chain((a) =>
        fc
          .array(fc.boolean(), { minLength: a.length, maxLength: a.length })
          .map((up) => [...a].map((ch, i) => (up[i] ? ch.toUpperCase() : ch)).join('')),
      ),
  );
  fc.assert(
    fc.property(fc.option(readOnlyList, { nil: undefined }), action, (list, a) => {
      const readOnly = list === undefined ? DEFAULT_READ_ONLY_ACTIONS : new Set(list);
      const named = [...readOnly].some((r) => r === a.toLowerCase());
      assert.equal(evaluateConstraints(approval, { action: a }, readOnly).approvalRequired, !named, JSON.stringify(a));
    }),
    { numRuns: 1000 },
  );
});

test('read-only action names: lower-case exact names only', () => {
  for (const ok of ['read', 'get', 'fetch-page', 'db.select', 'a', 'x_1', 'a'.repeat(64)]) {
    assert.equal(readOnlyActionProblem(ok), undefined, ok);
  }
  assert.match(readOnlyActionProblem('Read') ?? '', /must be lower case .*write "read"/);
  for (const bad of ['', '*', 'read*', 're ad', '-x', '.x', 'lé', 'a'.repeat(65), 'read\n']) {
    assert.match(readOnlyActionProblem(bad) ?? '', /^invalid read-only action /, JSON.stringify(bad));
  }
});

// ---- findLoosenedConstraint and mergeConstraints --------------------------------------------

test('findLoosenedConstraint names the first weakened constraint', () => {
  const parent = make({
    requirePurpose: true,
    deniedResources: ['slos://vaults/health/*', 'slos://vaults/aid/q?'],
    maxRecordsPerRequest: 50,
    writeRequiresApproval: true,
  });
  assert.equal(findLoosenedConstraint(parent, parent), undefined);
  assert.equal(findLoosenedConstraint(parent, { ...parent, requirePurpose: false }), 'require_purpose');
  assert.equal(
    findLoosenedConstraint(parent, { ...parent, deniedResources: ['slos://vaults/health/*'] }),
    'denied_resources',
  );
  assert.equal(
    findLoosenedConstraint(parent, { ...parent, deniedResources: ['slos://vaults/health/x', 'slos://vaults/aid/q?'] }),
    'denied_resources',
  );
  assert.equal(
    findLoosenedConstraint(parent, { ...parent, deniedResources: ['slos://vaults/*'] }),
    undefined,
    'a wider deny pattern covers narrower parent ones',
  );
  assert.equal(
    findLoosenedConstraint(parent, { ...parent, maxRecordsPerRequest: undefined }),
    'max_records_per_request',
  );
  assert.equal(findLoosenedConstraint(parent, { ...parent, maxRecordsPerRequest: 51 }), 'max_records_per_request');
  assert.equal(findLoosenedConstraint(parent, { ...parent, maxRecordsPerRequest: 49 }), undefined);
  assert.equal(findLoosenedConstraint(parent, { ...parent, writeRequiresApproval: false }), 'write_requires_approval');
  assert.equal(
    findLoosenedConstraint(parent, { ...parent, unconstrained: true }),
    undefined,
    'unconstrained only declares',
  );
  assert.equal(findLoosenedConstraint(make({}), make({})), undefined);
  assert.equal(findLoosenedConstraint(declareUnconstrained(), parent), undefined);
  assert.equal(findLoosenedConstraint(parent, declareUnconstrained()), 'require_purpose');
});

test('mergeConstraints takes the tighter of each constraint', () => {
  const a = make({ requirePurpose: true, deniedResources: ['x', 'y'], maxRecordsPerRequest: 10, unconstrained: true });
  const b = make({
    deniedResources: ['y', 'z'],
    maxRecordsPerRequest: 5,
    writeRequiresApproval: true,
    unconstrained: false,
  });
  assert.deepEqual(mergeConstraints(a, b), {
    requirePurpose: true,
    deniedResources: ['x', 'y', 'z'],
    maxRecordsPerRequest: 5,
    writeRequiresApproval: true,
    unconstrained: false,
  });
  assert.deepEqual(mergeConstraints(declareUnconstrained(), declareUnconstrained()), declareUnconstrained());
  assert.equal(mergeConstraints(make({}), make({ maxRecordsPerRequest: 3 })).maxRecordsPerRequest, 3);
  assert.equal('maxRecordsPerRequest' in mergeConstraints(make({}), make({})), false);
});

// ---- properties -----------------------------------------------------------------------------

const patternArb = fc.constantFrom('r/a', 'r/b', 'r/*', 'r/?', 'r/[ab]', 'r/c/*', '*', 'x*', '*/d');
const constraintsArb: fc.Arbitrary<Constraints> = fc
  .record({
    requirePurpose: fc.boolean(),
    deniedResources: fc.uniqueArray(patternArb, { maxLength: 3 }),
    maxRecordsPerRequest: fc.option(fc.integer({ min: 1, max: 5 }), { nil: undefined }),
    writeRequiresApproval: fc.boolean(),
    unconstrained: fc.boolean(),
  })
  .map((c) => {
    const out: Constraints = { ...c };
    if (out.maxRecordsPerRequest === undefined) delete out.maxRecordsPerRequest;
    return out;
  });
const requestArb: fc.Arbitrary<ConstraintRequest> = fc
  .record({
    action: fc.constantFrom('read', 'write', 'create', 'update', 'delete', 'list', 'put', 'LIST'),
    resource: fc.option(fc.constantFrom('', 'r/a', 'r/b', 'r/c', 'r/c/d', 'x', 'xy/d', 'q/r/a'), { nil: undefined }),
    purpose: fc.option(fc.constantFrom('', ' ', 'audit', '\u3164'), { nil: undefined }),
    recordCount: fc.option(fc.integer({ min: 0, max: 7 }), { nil: undefined }),
  })
  .map((r) => {
    const out: ConstraintRequest = { action: r.action };
    if (r.resource !== undefined) out.resource = r.resource;
    if (r.purpose !== undefined) out.purpose = r.purpose;
    if (r.recordCount !== undefined) out.recordCount = r.recordCount;
    return out;
  });

/** A child that replaces some deny patterns with wider ones (still a narrowing). */
const WIDER: Record<string, string> = {
  'r/a': 'r/*',
  'r/b': 'r/[ab]',
  'r/?': 'r/*',
  'r/[ab]': 'r/?',
  'r/c/*': 'r/*',
  'x*': '*',
  '*/d': '*',
};
const widen = (c: Constraints): Constraints => ({ ...c, deniedResources: c.deniedResources.map((p) => WIDER[p] ?? p) });

/** "Nothing the parent stops gets through the child": violations and approvals. */
function assertAtLeastAsTight(parent: Constraints, child: Constraints, req: ConstraintRequest): void {
  const p = evaluateConstraints(parent, req);
  const c = evaluateConstraints(child, req);
  const childReasons = new Set(c.violations.map((v) => v.reason));
  for (const v of p.violations)
    assert.ok(childReasons.has(v.reason), `child misses ${v.reason} for ${JSON.stringify(req)}`);
  if (p.approvalRequired) assert.ok(c.approvalRequired || c.violations.length > 0, 'child skips approval');
}

test('property: merging never loosens the first argument', () => {
  fc.assert(
    fc.property(constraintsArb, constraintsArb, (p, x) => {
      assert.equal(findLoosenedConstraint(p, mergeConstraints(p, x)), undefined);
      assert.equal(findLoosenedConstraint(x, mergeConstraints(p, x)), undefined);
    }),
    { numRuns: 300 },
  );
});

test('property: merge is commutative in effect', () => {
  fc.assert(
    fc.property(constraintsArb, constraintsArb, fc.array(requestArb, { minLength: 1, maxLength: 5 }), (a, b, reqs) => {
      const ab = mergeConstraints(a, b);
      const ba = mergeConstraints(b, a);
      for (const req of reqs) {
        const x = evaluateConstraints(ab, req);
        const y = evaluateConstraints(ba, req);
        assert.deepEqual(
          x.violations.map((v) => v.reason),
          y.violations.map((v) => v.reason),
        );
        assert.equal(x.approvalRequired, y.approvalRequired);
      }
    }),
    { numRuns: 300 },
  );
});

test('property: a child that loosens nothing denies at least what the parent denies', () => {
  const childFor = (p: Constraints) =>
    fc.oneof(
      constraintsArb,
      constraintsArb.map((x) => mergeConstraints(p, x)),
      constraintsArb.map((x) => widen(mergeConstraints(p, x))),
    );
  fc.assert(
    fc.property(
      constraintsArb.chain((p) => fc.tuple(fc.constant(p), childFor(p))),
      fc.array(requestArb, { minLength: 1, maxLength: 6 }),
      ([parent, child], reqs) => {
        if (findLoosenedConstraint(parent, child) !== undefined) return;
        for (const req of reqs) assertAtLeastAsTight(parent, child, req);
      },
    ),
    { numRuns: 400 },
  );
});

test('property: the wire form parses back to the same constraints', () => {
  fc.assert(
    fc.property(constraintsArb, (c) => {
      const back = parse(constraintsToWire(c));
      const nothingElse =
        !c.requirePurpose &&
        c.deniedResources.length === 0 &&
        c.maxRecordsPerRequest === undefined &&
        !c.writeRequiresApproval;
      assert.deepEqual(back, { ...c, unconstrained: c.unconstrained || nothingElse });
      assert.deepEqual(constraintsToWire(back), constraintsToWire(c));
    }),
    { numRuns: 300 },
  );
});
