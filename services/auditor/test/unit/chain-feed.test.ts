// The chain feed publishes off the append path but in order, survives a failed publish (counted,
// never thrown into ingest), and makes chaining wait only when too many chunks are queued.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger } from '@authority/platform';
import type { EntryDoc } from '../../src/adapters/mongo';
import { ChainFeed } from '../../src/chain-feed';

const entry = (seq: number) => ({ tenant: 't', seq }) as EntryDoc;

test('chunks are published one after the other, in the order they were stored', async () => {
  const order: number[] = [];
  const releases: (() => void)[] = [];
  const feed = new ChainFeed({
    logger: silentLogger(),
    publish: (entries) =>
      new Promise<void>((done) =>
        releases.push(() => {
          order.push(...entries.map((e) => e.seq));
          done();
        }),
      ),
  });
  await feed.published([entry(1), entry(2)]); // returns before Kafka answers
  await feed.published([entry(3)]);
  assert.equal(releases.length, 1, 'the second chunk waits for the first');
  releases.shift()?.();
  await new Promise((r) => setImmediate(r));
  releases.shift()?.();
  await feed.flush();
  assert.deepEqual(order, [1, 2, 3]);
  assert.equal(feed.stats.published, 3);
});

test('a failed publish is counted and does not stop the next chunks', async () => {
  let calls = 0;
  const feed = new ChainFeed({
    logger: silentLogger(),
    publish: async () => {
      calls++;
      if (calls === 1) throw new Error('broker down');
    },
  });
  await feed.published([entry(1)]);
  await feed.published([entry(2)]);
  await feed.flush();
  assert.deepEqual(feed.stats, { published: 1, failed: 1 });
});

test('chaining waits once more chunks than maxPending are queued', async () => {
  let release: () => void = () => undefined;
  const gate = new Promise<void>((r) => (release = r));
  const feed = new ChainFeed({ logger: silentLogger(), maxPending: 2, publish: () => gate });
  let third = false;
  await feed.published([entry(1)]);
  await feed.published([entry(2)]);
  const waiting = feed.published([entry(3)]).then(() => (third = true));
  await new Promise((r) => setImmediate(r));
  assert.equal(third, false, 'the third chunk waits for the queue');
  release();
  await waiting;
  assert.equal(third, true);
});
