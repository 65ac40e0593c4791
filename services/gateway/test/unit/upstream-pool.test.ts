// The budget of per-agent upstream connections: bounds per agent, per tenant and in total, places
// given back on release, and idle connections closed (never one in use or subscribed).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { UpstreamPool, isRefusal, type PoolLease } from '../../src/upstream-pool';

const limits = { perAgent: 2, perTenant: 3, total: 4, idleMs: 1000 };
const noop = { close: async () => undefined };

function lease(pool: UpstreamPool, tenant: string, agent: string, conn = noop): PoolLease {
  const l = pool.acquire(tenant, agent, conn);
  assert.ok(!isRefusal(l), `expected a place for ${tenant}/${agent}, got ${JSON.stringify(l)}`);
  return l;
}

test('the per-agent bound counts one agent over all its sessions; another agent is not affected', () => {
  const pool = new UpstreamPool(limits);
  lease(pool, 't1', 'a');
  const second = lease(pool, 't1', 'a');
  assert.deepEqual(pool.acquire('t1', 'a', noop), { limit: 'per_agent', held: 2, max: 2 });
  lease(pool, 't1', 'b');
  second.release();
  second.release(); // idempotent: gives back one place only
  assert.equal(pool.heldBy('t1', 'a'), 1);
  lease(pool, 't1', 'a');
  assert.equal(pool.size, 3);
});

test('the per-tenant bound, then the total bound', () => {
  const pool = new UpstreamPool(limits);
  lease(pool, 't1', 'a');
  lease(pool, 't1', 'b');
  lease(pool, 't1', 'c');
  assert.deepEqual(pool.acquire('t1', 'd', noop), { limit: 'per_tenant', held: 3, max: 3 });
  lease(pool, 't2', 'a');
  assert.deepEqual(pool.acquire('t2', 'b', noop), { limit: 'total', held: 4, max: 4 });
  // Tenants are told apart exactly (no prefix collisions between tenant and agent names).
  assert.equal(pool.heldBy('t1', 'a'), 1);
  assert.equal(pool.heldBy('t', '1:a'), 0);
});

test('a sweep closes connections idle for the period, never one in use or pinned', async () => {
  let now = 0;
  const pool = new UpstreamPool(limits, () => now);
  const closed: string[] = [];
  let subscribed = true;
  const idle = lease(pool, 't', 'idle', { close: async () => void closed.push('idle') });
  const busy = lease(pool, 't', 'busy', { close: async () => void closed.push('busy') });
  pool.acquire('t', 'pinned', { close: async () => void closed.push('pinned'), pinned: () => subscribed });
  let finish: () => void = () => undefined;
  const inUse = busy.hold(() => new Promise<void>((resolve) => (finish = resolve)));
  now = 999;
  assert.equal(await pool.sweep(), 0, 'nothing is idle before the period');
  now = 1000;
  assert.equal(await pool.sweep(), 1);
  assert.deepEqual(closed, ['idle']);
  // The owner releases on close; the busy one, once its request is done, is idle from then on.
  idle.release();
  finish();
  await inUse;
  assert.equal(await pool.sweep(), 0, 'the request just ended: not idle yet');
  now = 2000;
  subscribed = false;
  assert.equal(await pool.sweep(), 2);
  assert.deepEqual(closed.sort(), ['busy', 'idle', 'pinned']);
});
