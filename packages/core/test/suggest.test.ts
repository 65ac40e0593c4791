import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closestName } from '../src';

test('closestName suggests a typo fix, a contained name, or nothing', () => {
  assert.equal(
    closestName('max_records_per_requst', ['require_purpose', 'max_records_per_request']),
    'max_records_per_request',
  );
  assert.equal(closestName('reuqire_purpose', ['require_purpose', 'max_records_per_request']), 'require_purpose');
  assert.equal(closestName('advisor', ['academic-advisor', 'registrar-agent']), 'academic-advisor');
  assert.equal(closestName('scopse', ['scopes', 'resources']), 'scopes');
  assert.equal(closestName('zzzz', ['scopes', 'resources']), undefined);
  assert.equal(closestName('x', []), undefined);
});
