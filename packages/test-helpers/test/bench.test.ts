import { test } from 'node:test';
import assert from 'node:assert/strict';
import { closedLoop, percentiles } from '../src/bench';

test('closedLoop stops at maxOps and counts failed calls apart from the timed ones', async () => {
  let n = 0;
  const r = await closedLoop(
    4,
    60,
    async () => {
      n++;
      if (n % 3 === 0) throw new Error('refused');
    },
    30,
  );
  assert.equal(n, 30, 'no call after maxOps');
  assert.equal(r.errors, 10);
  assert.equal(r.count, 20, 'only successful calls are timed');
  assert.ok(r.rps > 0);
});

test('percentiles picks the samples at each rank', () => {
  const p = percentiles(Array.from({ length: 100 }, (_, i) => 100 - i));
  assert.deepEqual([p.p50_ms, p.p90_ms, p.p99_ms, p.max_ms, p.count], [51, 91, 100, 100, 100]);
});
