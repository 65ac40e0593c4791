// The deterministic intent compiler: keeps only the scopes an intent names with a fitting action,
// narrows a `*` action for read-only intents, and reports the reduction like the original.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileIntent, words } from '../../src/compile';

const SCOPES = ['files:docs:read', 'files:docs:write', 'files:secrets:read', 'calendar:events:*', 'audit:read'];

describe('compileIntent', () => {
  test('a read intent keeps the named subject with a read action only', () => {
    const c = compileIntent('Summarize the docs about the Q3 launch', SCOPES);
    assert.deepEqual(c.scopes, ['files:docs:read']);
    assert.deepEqual(c.dropped, ['files:docs:write', 'files:secrets:read', 'calendar:events:*', 'audit:read']);
    assert.equal(c.reductionRatio, 0.8);
    assert.match(c.reasons['files:docs:read'] ?? '', /doc/);
  });

  test('a write intent keeps write actions; a wildcard action is kept as is', () => {
    const c = compileIntent('Update the docs and create calendar events for the review', SCOPES);
    assert.deepEqual(c.scopes.sort(), ['calendar:events:*', 'files:docs:read', 'files:docs:write']);
  });

  test('a read-only intent narrows a wildcard action to read', () => {
    assert.deepEqual(compileIntent('list my calendar events', SCOPES).scopes, ['calendar:events:read']);
  });

  test('mapped tool words count for the scope they need; verbs alone never select a scope', () => {
    const fs = ['fs:docs:read', 'fs:secrets:read'];
    const tools = new Map([['fs:docs:read', words('read_text_file: Read the complete contents of a file')]]);
    assert.deepEqual(compileIntent('read one file', fs, tools).scopes, ['fs:docs:read']);
    assert.deepEqual(compileIntent('read one file', fs).scopes, [], 'without the tool words nothing names it');
    assert.deepEqual(compileIntent('read everything', fs, tools).scopes, []);
  });

  test('nothing matches: everything dropped, ratio 1; no scopes at all: ratio 1', () => {
    const c = compileIntent('book a flight', SCOPES);
    assert.deepEqual(c.scopes, []);
    assert.equal(c.reductionRatio, 1);
    assert.equal(compileIntent('anything', []).reductionRatio, 1);
  });

  test('the same intent always compiles the same way (deterministic)', () => {
    const a = compileIntent('Review the audit trail and the docs', SCOPES);
    const b = compileIntent('Review the audit trail and the docs', SCOPES);
    assert.deepEqual(a, b);
    assert.deepEqual(a.scopes, ['files:docs:read', 'audit:read']);
  });
});
