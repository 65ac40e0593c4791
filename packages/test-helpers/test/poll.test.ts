import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { assertVariablesDocumented, eventually, requireInfra, waitFor } from '../src';

describe('test helpers', () => {
  test('eventually returns the first defined value, retrying undefined and errors', async () => {
    let calls = 0;
    const value = await eventually(
      () => {
        calls++;
        if (calls === 1) throw new Error('not yet');
        return calls < 3 ? undefined : calls;
      },
      'the third call',
      { intervalMs: 1 },
    );
    assert.equal(value, 3);
  });

  test('eventually fails at the deadline naming what it awaited and the last error', async () => {
    await assert.rejects(
      eventually(
        () => {
          throw new Error('broker down');
        },
        'the event',
        { timeoutMs: 20, intervalMs: 5 },
      ),
      /timed out waiting for the event: broker down/,
    );
  });

  test('waitFor waits for a truthy value', async () => {
    let n = 0;
    assert.equal(await waitFor(() => ++n >= 2 && 'ok', { intervalMs: 1 }), 'ok');
    await assert.rejects(
      waitFor(() => 0, { timeoutMs: 10, intervalMs: 2, what: 'zero' }),
      /waiting for zero/,
    );
  });

  test('requireInfra fails loudly without the variables, and names no machine path', () => {
    assert.throws(
      () => requireInfra({}),
      (err: Error) => /KAFKA_BROKERS and MONGODB_URI/.test(err.message) && !err.message.includes('/work/'),
    );
    assert.deepEqual(requireInfra({ KAFKA_BROKERS: 'k:9092', MONGODB_URI: 'mongodb://m' }), {
      brokers: 'k:9092',
      mongo: 'mongodb://m',
    });
  });

  test('assertVariablesDocumented fails on an undocumented variable or a wrong default', () => {
    assert.throws(
      () => assertVariablesDocumented('docs/auditor.md', [{ name: 'AUTHORITY_NO_SUCH_VARIABLE', required: false }]),
      /AUTHORITY_NO_SUCH_VARIABLE is not documented/,
    );
    assert.throws(
      () =>
        assertVariablesDocumented('docs/auditor.md', [
          { name: 'AUTHORITY_AUDITOR_DB', required: false, default: 'not-the-documented-default' },
        ]),
      /AUTHORITY_AUDITOR_DB: default/,
    );
  });
});
