// The token bucket: refills at its rate up to the burst, counts rejections, keeps at most maxKeys
// buckets, and only charging (never peeking) drains it.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { RateLimiter, rateKey } from '../../src/rate-limit';

describe('RateLimiter', () => {
  test('a burst, then refusals until the bucket refills at its rate', () => {
    let now = 1_000_000;
    const l = new RateLimiter({ ratePerSecond: 2, burst: 3, maxKeys: 10, clock: () => now });
    const k = rateKey('t1', 'agent');
    for (let i = 0; i < 3; i++) {
      assert.equal(l.allows(k), true, `call ${i}`);
      l.charge(k);
    }
    assert.equal(l.allows(k), false);
    assert.equal(l.rejected, 1);
    assert.equal(l.retryAfterSeconds(k), 1);
    now += 499;
    assert.equal(l.allows(k), false, 'not yet a whole token');
    now += 1;
    assert.equal(l.allows(k), true, 'one token after 500 ms at 2/s');
    l.charge(k);
    now += 60_000;
    for (let i = 0; i < 3; i++) l.charge(k);
    assert.equal(l.allows(k), false, 'refill is capped at the burst');
    assert.equal(l.rejected, 3);
  });

  test('peeking never charges, and buckets are per tenant and agent', () => {
    const l = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 10, clock: () => 0 });
    for (let i = 0; i < 5; i++) assert.equal(l.allows(rateKey('t', 'a')), true);
    l.charge(rateKey('t', 'a'));
    assert.equal(l.allows(rateKey('t', 'a')), false);
    assert.equal(l.allows(rateKey('t', 'b')), true);
    assert.equal(l.allows(rateKey('u', 'a')), true);
    // Ids that would collide if joined naively stay apart.
    assert.notEqual(rateKey('t:a', 'b'), rateKey('t', 'a:b'));
  });

  test('memory is bounded: the least recently used bucket is dropped', () => {
    const l = new RateLimiter({ ratePerSecond: 1, burst: 1, maxKeys: 3, clock: () => 0 });
    for (const a of ['a', 'b', 'c']) l.charge(rateKey('t', a));
    assert.equal(l.allows(rateKey('t', 'a')), false); // touches a: b is now the oldest
    l.charge(rateKey('t', 'd'));
    assert.equal(l.size, 3);
    assert.equal(l.allows(rateKey('t', 'b')), true, 'b was dropped and comes back full');
    assert.equal(l.allows(rateKey('t', 'a')), false, 'a was kept');
  });

  test('nonsensical settings are refused', () => {
    assert.throws(() => new RateLimiter({ ratePerSecond: 0, burst: 1, maxKeys: 1 }), RangeError);
    assert.throws(() => new RateLimiter({ ratePerSecond: 1, burst: 0, maxKeys: 1 }), RangeError);
  });
});
