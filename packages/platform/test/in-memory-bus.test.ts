// The in-memory adapter of the EventBus port keeps the group semantics consumers rely on: only a
// commit moves a group's position, a rebalance makes the in-flight batch stale and redelivers from
// the committed offset, a failing handler is restarted a bounded number of times and then fatal.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { waitFor } from '@authority/test-helpers';
import { headerString, InMemoryEventBus, type BatchContext, type ConsumerEvent } from '../src';

const values = (ctx: BatchContext) => ctx.batch.messages.map((m) => m.value?.toString());

describe('InMemoryEventBus', () => {
  it('delivers batches of one partition in offset order, as bytes, and commits through BatchContext.commit', async () => {
    const bus = new InMemoryEventBus({ maxBatchSize: 2 });
    await bus.publish('t', [
      { key: 'a', value: '0', headers: { ce_id: 'x' } },
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
    ]);
    const seen: string[][] = [];
    const handle = await bus.consume({
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      eachBatch: async (ctx) => {
        seen.push(values(ctx) as string[]);
        assert.ok(Buffer.isBuffer(ctx.batch.messages[0]!.key));
        await ctx.commit(ctx.batch.messages.at(-1)!.offset);
      },
    });
    await waitFor(() => bus.committed('g', 't') === '3', { what: 'offset 3 committed' });
    assert.deepEqual(seen, [['0', '1'], ['2']]);
    assert.equal(headerString(bus.records('t')[0]!.headers, 'ce_id'), 'x');
    assert.deepEqual(
      (await handle.lag()).map((l) => [l.position, l.highWatermark, l.lag]),
      [['3', '3', 0]],
    );
    await handle.disconnect();
  });

  it('a rebalance makes the in-flight batch stale; the batch comes again from the committed offset', async () => {
    const bus = new InMemoryEventBus();
    await bus.publish('t', [{ key: 'a', value: 'only' }]);
    const events: ConsumerEvent[] = [];
    let deliveries = 0;
    let staleSeen = false;
    const handle = await bus.consume({
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      eachBatch: async (ctx) => {
        deliveries++;
        if (deliveries === 1) {
          bus.rebalance('g'); // e.g. another member joined while this batch was being processed
          staleSeen = ctx.isStale();
          await assert.rejects(ctx.commit('0'), /stale/);
          return;
        }
        assert.equal(ctx.isStale(), false);
        await ctx.commit('0');
      },
    });
    handle.on('rebalanced', () => events.push('rebalanced'));
    await waitFor(() => bus.committed('g', 't') === '1', { what: 'the redelivered batch committed' });
    assert.equal(staleSeen, true);
    assert.equal(deliveries, 2);
    assert.ok(events.includes('rebalanced'));
    await handle.disconnect();
  });

  it('a handler that keeps throwing is restarted maxRestarts times, then reported fatal; nothing is committed', async () => {
    const fatal: Error[] = [];
    const bus = new InMemoryEventBus({ onFatal: (err) => fatal.push(err) });
    await bus.publish('t', [{ key: 'a', value: 'poison' }]);
    let attempts = 0;
    const handle = await bus.consume({
      groupId: 'g',
      topics: ['t'],
      fromBeginning: true,
      maxRestarts: 2,
      eachMessage: async () => {
        attempts++;
        throw new Error('handler failed');
      },
    });
    await waitFor(() => fatal.length === 1, { what: 'the fatal report' });
    assert.equal(attempts, 3, 'one run + two restarts');
    assert.match(fatal[0]!.message, /handler failed/);
    assert.equal(bus.committed('g', 't'), undefined);
    await handle.disconnect();
  });

  it('two members of one group split the partitions; catchUp resolves at the high-water marks of its start', async () => {
    const bus = new InMemoryEventBus({ partitions: 2 });
    await bus.publish('t', [
      { key: null, value: 'p0', partition: 0 },
      { key: null, value: 'p1', partition: 1 },
    ]);
    const member = () => bus.consume({ groupId: 'g', topics: ['t'], fromBeginning: true, eachMessage: async () => {} });
    const [a, b] = [await member(), await member()];
    await waitFor(() => bus.committed('g', 't', 0) === '1' && bus.committed('g', 't', 1) === '1', {
      what: 'both partitions committed',
    });
    assert.deepEqual(
      (await a.lag()).map((l) => l.partition),
      [0],
    );
    assert.deepEqual(
      (await b.lag()).map((l) => l.partition),
      [1],
    );
    const replayed: string[] = [];
    const replay = await bus.catchUp({ topics: ['t'] }, (m) => void replayed.push(String(m.value)));
    await replay.caughtUp;
    assert.deepEqual(replayed.sort(), ['p0', 'p1']);
    await bus.disconnect();
  });
});
