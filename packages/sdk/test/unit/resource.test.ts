// Building resources in the SDK: model-chosen ids stay inside the folder the tool meant.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CheckRequest, CheckResponse__Output } from '@authority/proto';
import { globMatch } from '@authority/core';
import {
  AuthorityDeniedError,
  InvalidResourceError,
  canonicalResource,
  childResource,
  enforced,
  isCanonicalResource,
  parseResource,
  resource,
  resourcePatternProblem,
  resourceProblem,
  resourceSegment,
  type Checker,
} from '../../src';

const RECORDS = 'slos://vaults/student-records';
const DENIED = 'slos://vaults/student-health/*';

const isInvalid = (pattern: RegExp) => (e: unknown) =>
  e instanceof InvalidResourceError &&
  e instanceof RangeError &&
  e.field === 'resource' &&
  e.reason === 'INVALID_REQUEST' &&
  pattern.test(e.message);

describe('resource builders', () => {
  test('build canonical resources from parts', () => {
    assert.equal(resource('slos', 'vaults', 'student-records', 's-1001'), `${RECORDS}/s-1001`);
    assert.equal(resource('slos', 'vaults'), 'slos://vaults');
    assert.equal(resource('slos', 'vaults', 'finance', 'Q1_2026'), 'slos://vaults/finance/Q1_2026');
    assert.equal(resource('slos', 'vaults', 'finance', 'Zürich*'), 'slos://vaults/finance/Z%C3%BCrich%2A');
    assert.equal(childResource(RECORDS, 's-1001', 'transcript'), `${RECORDS}/s-1001/transcript`);
    assert.equal(resourceSegment('a+b'), 'a%2Bb');
    assert.equal(canonicalResource(`${RECORDS}/s-1`), `${RECORDS}/s-1`);
    assert.deepEqual(parseResource(resource('slos', 'vaults', 'finance', 'Zürich*')).segments, ['finance', 'Zürich*']);
  });

  test("a model-chosen id like '../student-health/s-1' is refused, never encoded into something else", () => {
    const hostile = [
      ['../student-health/s-1', /contains '\/'/],
      ['..', /dot-segment/],
      ['.', /dot-segment/],
      ['', /must not be empty/],
      ['%2e%2e', /contains '%'/],
      ['..%2fstudent-health', /contains '%'/],
      ['..\\student-health', /contains '\\'/],
      ['s-1/../../student-health/s-1', /contains '\/'/],
      ['s-1;..', /contains ';'/],
      ['s-1?x=1', /contains '\?'/],
      ['s-1#x', /contains '#'/],
      ['s-1 ', /contains a space/],
      ['s-1.', /ends with '\.'/],
      ['．．', /not NFKC-normalized/],
      ['s-1\u202e', /U\+202E/],
    ] as const;
    for (const [id, message] of hostile) {
      assert.throws(() => resource('slos', 'vaults', 'student-records', id), isInvalid(message), id);
      assert.throws(() => childResource(RECORDS, id), isInvalid(message), id);
    }
  });

  test('whatever an id is, a built resource stays under the folder and out of the denied one', () => {
    const ids = ['s-1', 'S-1', 'a.b', '.hidden', '..x', 'x..', '~', 'é', '日本', '"q"', '<x>', '[a]', '*', 'a&b=c'];
    for (const id of ids) {
      let r: string;
      try {
        r = resource('slos', 'vaults', 'student-records', id);
      } catch (e) {
        assert.ok(e instanceof InvalidResourceError, id);
        continue;
      }
      assert.ok(isCanonicalResource(r), r);
      assert.ok(r.startsWith(`${RECORDS}/`), r);
      assert.deepEqual(parseResource(r).segments, ['student-records', id]);
      assert.equal(globMatch(`${RECORDS}/*`, r), true, r);
      assert.equal(globMatch(DENIED, r), false, r);
    }
  });

  test('parts that are not canonical are refused, not folded', () => {
    assert.throws(() => resource('SLOS', 'vaults', 'a'), isInvalid(/scheme 'SLOS' must be lowercase/));
    assert.throws(() => resource('slos', 'Vaults', 'a'), isInvalid(/authority 'Vaults' must be lowercase/));
    assert.throws(() => resource('slos', 'vaults:443', 'a'), isInvalid(/ports are not allowed/));
    assert.throws(() => childResource(`${RECORDS}/`, 'a'), isInvalid(/base resource: path segment 2 is empty/));
    assert.throws(() => canonicalResource(`${RECORDS}/../student-health/s-1`), isInvalid(/path segment 2 is '\.\.'/));
  });

  test('the checks are re-exported for tools that are handed resources and patterns', () => {
    assert.equal(resourceProblem(`${RECORDS}/s-1`), undefined);
    assert.match(resourceProblem(`${RECORDS}/%2e%2e/x`) ?? '', /'%2e' encode '\.'/);
    assert.equal(resourcePatternProblem(`${RECORDS}/*`), undefined);
    assert.match(resourcePatternProblem(`${RECORDS}/../*`) ?? '', /dot-segments/);
  });
});

describe('with enforced()', () => {
  function fakeEnforcer() {
    const requests: CheckRequest[] = [];
    const checker: Checker = {
      async check(req: CheckRequest): Promise<CheckResponse__Output> {
        requests.push(req);
        return { decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'd-1' } as CheckResponse__Output;
      },
    };
    return { checker, requests };
  }

  test('a refused id never reaches the enforcer or the tool, and is reported as INVALID_REQUEST', async () => {
    const { checker, requests } = fakeEnforcer();
    const runs: string[] = [];
    const readRecord = enforced(
      async (studentId: string) => {
        runs.push(studentId);
        return `record ${studentId}`;
      },
      {
        scope: 'vault:student-records:read',
        resource: (studentId: string) => resource('slos', 'vaults', 'student-records', studentId),
      },
      { enforcer: checker, token: 'header.payload.signature' },
    );
    await assert.rejects(
      readRecord('../student-health/s-1'),
      (e: unknown) =>
        e instanceof AuthorityDeniedError && e.reason === 'INVALID_REQUEST' && /contains '\/'/.test(e.message),
    );
    assert.equal(requests.length, 0);
    assert.deepEqual(runs, []);

    assert.equal(await readRecord('s-1001'), 'record s-1001');
    assert.equal(requests[0]?.resource, `${RECORDS}/s-1001`);
    assert.deepEqual(runs, ['s-1001']);
  });
});
