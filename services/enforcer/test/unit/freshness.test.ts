// The freshness monitor follows a consumer through the EventBus port's neutral lifecycle events
// (no kafkajs types): a crash or disconnect makes the state stale at once, a fetch makes it fresh.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ConsumerEvent } from '@authority/platform';
import { FreshnessMonitor } from '../../src/freshness';

/** A consumer handle's `on` (the only part the monitor uses), driven by the test. */
function fakeConsumer() {
  const listeners = new Map<ConsumerEvent, Set<() => void>>();
  return {
    on(event: ConsumerEvent, listener: () => void): () => void {
      const set = listeners.get(event) ?? new Set();
      listeners.set(event, set);
      set.add(listener);
      return () => set.delete(listener);
    },
    emit(event: ConsumerEvent): void {
      for (const l of listeners.get(event) ?? []) l();
    },
    count(): number {
      return [...listeners.values()].reduce((n, s) => n + s.size, 0);
    },
  };
}

describe('FreshnessMonitor.attach', () => {
  test('crash and disconnect make the state stale at once; a fetch makes it fresh again', () => {
    let now = 1_000_000;
    const monitor = new FreshnessMonitor(5_000, () => now);
    const consumer = fakeConsumer();
    monitor.attach(consumer);
    monitor.markCaughtUp();
    assert.equal(monitor.staleReason(), undefined);

    consumer.emit('crash');
    assert.equal(monitor.staleReason(), 'revocation feed is crashed');
    now += 1_000;
    consumer.emit('fetch');
    assert.equal(monitor.staleReason(), undefined);
    assert.equal(monitor.snapshot().lastFetchAt, now);

    consumer.emit('disconnect');
    assert.equal(monitor.staleReason(), 'revocation feed is disconnected');
    consumer.emit('stop');
    assert.equal(monitor.staleReason(), 'revocation feed is stopped');
  });

  test('close removes every listener it attached', () => {
    const monitor = new FreshnessMonitor(5_000);
    const consumer = fakeConsumer();
    monitor.attach(consumer);
    assert.equal(consumer.count(), 4);
    monitor.close();
    assert.equal(consumer.count(), 0);
  });
});
