// Resource templates: arguments become canonical resources, and every traversal or encoding trick
// is refused naming the argument (it would otherwise render a resource a grant matches while the
// upstream reaches another file).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  MAX_LIST_ITEMS,
  parseTemplate,
  renderTemplate,
  TemplateArgumentError,
  type ResourceTemplate,
} from '../../src/template';

function template(source: string): ResourceTemplate {
  const t = parseTemplate(source);
  assert.ok(!('problem' in t), 'problem' in t ? t.problem : '');
  return t;
}

function refusal(t: ResourceTemplate, args: Record<string, unknown>): TemplateArgumentError {
  try {
    renderTemplate(t, args);
  } catch (err) {
    assert.ok(err instanceof TemplateArgumentError, String(err));
    return err;
  }
  assert.fail(`rendered ${JSON.stringify(args)}`);
}

describe('resource templates', () => {
  const path = template('file://local/{path*}');
  const doc = template('slos://vaults/{vault}/docs/{id}');

  test('absolute paths become one segment per part; single arguments one segment', () => {
    assert.deepEqual(renderTemplate(path, { path: '/tmp/root/docs/a.txt' }), ['file://local/tmp/root/docs/a.txt']);
    assert.deepEqual(renderTemplate(path, { path: '/tmp/root/docs/' }), ['file://local/tmp/root/docs']);
    assert.deepEqual(renderTemplate(doc, { vault: 'finance', id: 'Q1{report}' }), [
      'slos://vaults/finance/docs/Q1%7Breport%7D',
    ]);
    assert.deepEqual(renderTemplate(doc, { vault: 'finance', id: 42 }), ['slos://vaults/finance/docs/42']);
  });

  test('traversal, empty segments, relative paths, backslashes and encodings are refused naming the argument', () => {
    for (const p of [
      '/tmp/root/docs/../secret.txt',
      '/tmp/root/./docs/a',
      '/tmp/root//etc/passwd',
      'tmp/root/docs/a',
      '../etc/passwd',
      '/tmp/root/docs/..\\secret',
      '/tmp/root/docs/%2e%2e/secret',
      '/tmp/root/docs/a\u0000b',
      '/tmp/root/docs/trailing.',
    ]) {
      const err = refusal(path, { path: p });
      assert.equal(err.field, 'arguments.path', p);
    }
    assert.equal(refusal(doc, { vault: 'finance/../hr', id: 'x' }).field, 'arguments.vault');
    assert.equal(refusal(doc, { vault: '..', id: 'x' }).field, 'arguments.vault');
  });

  test('missing and wrongly typed arguments are refused', () => {
    assert.match(refusal(doc, { vault: 'finance' }).message, /argument 'id' is required/);
    assert.match(refusal(doc, { vault: 'finance', id: { toString: 'x' } }).message, /must be a string/);
    assert.match(refusal(doc, { vault: 'finance', id: 1.5 }).message, /must be a string/);
    // Inherited properties are not arguments.
    assert.match(
      refusal(doc, Object.create({ vault: 'finance', id: 'x' }) as Record<string, unknown>).message,
      /required/,
    );
  });

  test('a list argument renders one resource per item, bounded, one list per template', () => {
    assert.deepEqual(renderTemplate(path, { path: ['/a/b', '/c'] }), ['file://local/a/b', 'file://local/c']);
    assert.equal(refusal(path, { path: ['/a/b', '/a/../c'] }).field, 'arguments.path[1]');
    assert.match(refusal(path, { path: [] }).message, /empty list/);
    assert.match(refusal(path, { path: Array.from({ length: MAX_LIST_ITEMS + 1 }, () => '/a') }).message, /more than/);
    assert.match(refusal(doc, { vault: ['a'], id: ['b'] }).message, /only one list argument/);
  });

  test('templates must be canonical with whole-segment placeholders', () => {
    for (const [source, problem] of [
      ['FILE://local/{p}', /scheme/],
      ['file://local/{p}/{p}', /used twice/],
      ['file://local/a{p}', /whole segment/],
      ['file://local/../{p}', /dot-segment/],
      ['file://local/', /must not end with/],
      ['', /empty/],
    ] as const) {
      const t = parseTemplate(source);
      assert.ok('problem' in t, source);
      assert.match(t.problem, problem, source);
    }
    assert.ok(!('problem' in parseTemplate('docs/{id}')), 'bare templates are allowed');
  });
});
