import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ProducerBatch } from 'kafkajs';
import { waitFor } from '@authority/test-helpers';
import { BatchingPublisher, UnavailableError, type BatchSender } from '../src';

/** A sender whose sendBatch calls are recorded and settled by the test. */
function controllableSender() {
  const calls: { batch: ProducerBatch; resolve: () => void; reject: (e: Error) => void }[] = [];
  const sender: BatchSender = {
    sendBatch: (batch) => new Promise((resolve, reject) => calls.push({ batch, resolve: () => resolve([]), reject })),
  };
  return { sender, calls };
}

const tick = () => new Promise((r) => setImmediate(r));
function state(p: Promise<unknown>): Promise<'pending' | 'resolved' | 'rejected'> {
  return Promise.race([
    p.then(
      () => 'resolved' as const,
      () => 'rejected' as const,
    ),
    new Promise<'pending'>((r) => setImmediate(() => r('pending'))),
  ]);
}

describe('BatchingPublisher', () => {
  it('sends concurrent calls of one tick in one sendBatch with acks=-1 and resolves each after the ack', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender);
    const a = pub.publish('t.audit', [{ key: 'tenant-a', value: 'a1' }]);
    const b = pub.publish('t.audit', [
      { key: 'tenant-b', value: 'b1' },
      { key: 'tenant-b', value: 'b2' },
    ]);
    const c = pub.publish('t.keys', [{ key: 'tenant-a/k1', value: 'k' }]);
    await tick();
    assert.equal(calls.length, 1);
    const batch = calls[0]!.batch;
    assert.equal(batch.acks, -1);
    assert.deepEqual(
      batch.topicMessages!.map((t) => [t.topic, t.messages.map((m) => m.value)]),
      [
        ['t.audit', ['a1', 'b1', 'b2']],
        ['t.keys', ['k']],
      ],
    );
    assert.equal(await state(a), 'pending', 'not resolved before the ack');
    calls[0]!.resolve();
    await Promise.all([a, b, c]);
    assert.deepEqual(pub.stats, { batches: 1, messages: 4, failures: 0 });
  });

  it('accumulates while a batch is in flight and sends the backlog as the next batch', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender);
    const first = pub.publish('t', [{ key: 'k', value: '1' }]);
    await tick();
    const later = [2, 3, 4].map((n) => pub.publish('t', [{ key: 'k', value: String(n) }]));
    await tick();
    assert.equal(calls.length, 1, 'only one batch in flight');
    calls[0]!.resolve();
    await first;
    await tick();
    assert.equal(calls.length, 2);
    assert.deepEqual(
      calls[1]!.batch.topicMessages![0]!.messages.map((m) => m.value),
      ['2', '3', '4'],
    );
    assert.equal(await state(later[0]!), 'pending');
    calls[1]!.resolve();
    await Promise.all(later);
  });

  it('flushes immediately at maxBatchMessages and never splits one caller', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender, { maxBatchMessages: 3, maxInFlight: 2 });
    const p1 = pub.publish('t', [
      { key: 'a', value: '1' },
      { key: 'a', value: '2' },
    ]);
    const p2 = pub.publish('t', [
      { key: 'b', value: '3' },
      { key: 'b', value: '4' },
    ]);
    // 4 messages waiting ≥ 3: sent without waiting for the tick, one batch per caller (2 + 2 > 3).
    assert.equal(calls.length, 2, 'sent synchronously once 3+ messages wait');
    assert.deepEqual(
      calls[0]!.batch.topicMessages![0]!.messages.map((m) => m.value),
      ['1', '2'],
    );
    assert.deepEqual(
      calls[1]!.batch.topicMessages![0]!.messages.map((m) => m.value),
      ['3', '4'],
    );
    const big = pub.publish(
      't',
      [1, 2, 3, 4, 5].map((n) => ({ key: 'c', value: `big${n}` })),
    );
    await tick();
    assert.equal(calls.length, 2, 'maxInFlight=2 reached: the big caller waits');
    calls[0]!.resolve();
    await p1;
    await tick();
    assert.equal(calls.length, 3);
    assert.equal(
      calls[2]!.batch.topicMessages![0]!.messages.length,
      5,
      'a caller larger than the batch size goes alone, unsplit',
    );
    calls.forEach((c) => c.resolve());
    await Promise.all([p1, p2, big]);
  });

  it('rejects every caller of a failed batch with UnavailableError', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender);
    const a = pub.publish('t', [{ key: 'k', value: '1' }]);
    const b = pub.publish('t', [{ key: 'k', value: '2' }]);
    await tick();
    calls[0]!.reject(new Error('NOT_ENOUGH_REPLICAS'));
    await assert.rejects(a, (e: Error) => e instanceof UnavailableError && /NOT_ENOUGH_REPLICAS/.test(e.message));
    await assert.rejects(b, UnavailableError);
    assert.equal(pub.stats.failures, 1);
  });

  it('resends a batch whole after a retriable Kafka error, and answers its callers by the attempt that succeeded', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender, { retryDelayMs: { initial: 1, max: 1 } });
    const a = pub.publish('t', [{ key: 'k', value: '1' }]);
    const b = pub.publish('t', [{ key: 'k', value: '2' }]);
    await tick();
    // A broker died with the request unanswered: the outcome is unknown.
    calls[0]!.reject(Object.assign(new Error('Connection closed'), { name: 'KafkaJSConnectionClosedError' }));
    await tick();
    assert.equal(await state(a), 'pending', 'not answered by the failed attempt');
    await waitFor(() => calls.length === 2, { what: 'the resent batch', intervalMs: 2 });
    assert.deepEqual(calls[1]!.batch.topicMessages, calls[0]!.batch.topicMessages, 'the same records');
    assert.equal(calls[1]!.batch.acks, -1);
    calls[1]!.resolve();
    await Promise.all([a, b]);
    assert.deepEqual(pub.stats, { batches: 1, messages: 2, failures: 1 });
  });

  it('stops resending once every caller of the batch is past its deadline (outcome unknown)', async () => {
    let attempts = 0;
    const retriable = Object.assign(new Error('This server is not the leader for that topic-partition'), {
      name: 'KafkaJSProtocolError',
      type: 'NOT_LEADER_OR_FOLLOWER',
      retriable: true,
    });
    const pub = new BatchingPublisher(
      {
        sendBatch: () => {
          attempts++;
          return Promise.reject(retriable);
        },
      },
      { timeoutMs: 40, retryDelayMs: { initial: 5, max: 5 } },
    );
    const a = pub.publish('t', [{ key: 'k', value: '1' }]);
    await assert.rejects(a, (e: Error) => e instanceof UnavailableError && /outcome unknown/.test(e.message));
    await pub.flush();
    const made = attempts;
    assert.ok(made >= 2, `resent after the retriable error (${made} attempts)`);
    await pub.close();
    assert.equal(attempts, made, 'nothing sent for a caller already answered');
  });

  it('times out a caller; unsent messages are dropped, never published late', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender, { timeoutMs: 30 });
    const inFlight = pub.publish('t', [{ key: 'k', value: 'sent' }]);
    await tick();
    const queued = pub.publish('t', [{ key: 'k', value: 'queued' }]);
    await assert.rejects(inFlight, /outcome unknown/);
    await assert.rejects(queued, /not sent/);
    calls[0]!.resolve();
    await pub.flush();
    assert.equal(calls.length, 1, 'the timed-out queued message was never sent');
  });

  it('close waits for pending publishes and refuses new ones', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender);
    const a = pub.publish('t', [{ key: 'k', value: '1' }]);
    const closing = pub.close();
    await tick();
    assert.equal(await state(closing), 'pending');
    await assert.rejects(pub.publish('t', [{ key: 'k', value: '2' }]), UnavailableError);
    calls[0]!.resolve();
    await closing;
    await a;
  });
});
