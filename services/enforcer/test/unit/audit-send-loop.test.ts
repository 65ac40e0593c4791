// The producer thread's send loop, platform's PublishQueue as the producer thread configures it (the
// one producer algorithm, issue 15), with injected Kafka failures (issue 14, the lost ALLOW): a post is
// acknowledged only by a produce attempt that succeeded and carried its messages; a retriable failure
// (outcome unknown) resends the request whole; a post past its deadline is answered and never sent
// (again); and the producer runs without idempotence or kafkajs retries, the two kafkajs paths that
// can answer success for records that are not in the log.
import { afterEach, beforeEach, describe, mock, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Message, ProducerBatch } from 'kafkajs';
import { KAFKA_PRODUCER_SETTINGS, PublishQueue, type PublishQueueOptions } from '@authority/platform';

interface SendLoopPost {
  id: number;
  topic: string;
  messages: Message[];
}

/** The producer thread's use of the queue: one post per id, answered with its id. */
class SendLoop {
  readonly queue: PublishQueue;
  constructor(
    sendBatch: (request: ProducerBatch) => Promise<unknown>,
    opts: PublishQueueOptions,
    private readonly onSettle: (ids: number[], error?: string) => void,
  ) {
    this.queue = new PublishQueue({ sendBatch }, { ...opts, sendWhenIdle: true });
  }
  get stats() {
    return { ...this.queue.stats };
  }
  add(post: SendLoopPost, timeoutMs: number): void {
    this.queue.enqueue(post.topic, post.messages, (err) => this.onSettle([post.id], err?.message), timeoutMs);
  }
}

/** A kafkajs error a broker's death produces (the produce request's outcome is unknown). */
function requestTimeout(): Error {
  const err = new Error('Request Produce(key: 0, version: 7) timed out');
  err.name = 'KafkaJSRequestTimeoutError';
  return err;
}

function post(id: number, n = 2, topic = 'authority.audit'): SendLoopPost {
  const messages: Message[] = [];
  for (let i = 0; i < n; i++) messages.push({ key: `t${id}`, value: `event-${id}-${i}` });
  return { id, topic, messages };
}

function valuesOf(request: ProducerBatch): string[] {
  return (request.topicMessages ?? []).flatMap((t) => t.messages.map((m) => String(m.value)));
}

interface Harness {
  loop: SendLoop;
  requests: ProducerBatch[];
  /** Each attempt's outcome, in order (an Error rejects it; `hang` never settles). */
  outcomes: (Error | 'ok' | 'hang')[];
  acks: { ids: number[]; error?: string }[];
}

function harness(outcomes: (Error | 'ok' | 'hang')[]): Harness {
  const h: Harness = { requests: [], outcomes, acks: [], loop: undefined as unknown as SendLoop };
  h.loop = new SendLoop(
    (request) => {
      h.requests.push(request);
      const outcome = h.outcomes.shift() ?? 'ok';
      if (outcome === 'ok') return Promise.resolve();
      if (outcome === 'hang') return new Promise(() => undefined);
      return Promise.reject(outcome);
    },
    { maxBatchMessages: 1000, retryDelayMs: { initial: 100, max: 100 } },
    (ids, error) => h.acks.push(error === undefined ? { ids } : { ids, error }),
  );
  return h;
}

/** Lets promise callbacks run (timers are mocked; setImmediate is not). */
const settle = () => new Promise<void>((r) => setImmediate(r));

describe('the producer thread send loop (PublishQueue)', () => {
  beforeEach(() => mock.timers.enable({ apis: ['setTimeout'] }));
  afterEach(() => mock.timers.reset());

  test('the producer is not idempotent and kafkajs does not retry (one request in flight)', () => {
    assert.equal(KAFKA_PRODUCER_SETTINGS.idempotent, false);
    assert.equal(KAFKA_PRODUCER_SETTINGS.retry.retries, 0);
    assert.equal(KAFKA_PRODUCER_SETTINGS.maxInFlightRequests, 1);
    assert.equal(KAFKA_PRODUCER_SETTINGS.allowAutoTopicCreation, false);
  });

  test('a request with an unknown outcome is resent whole; the post is acknowledged by the attempt that succeeded', async () => {
    const h = harness([requestTimeout(), requestTimeout(), 'ok']);
    h.loop.add(post(1), 10_000);
    h.loop.add(post(2), 10_000);
    await settle();
    assert.equal(h.requests.length, 1);
    assert.deepEqual(h.acks, [], 'no answer after a failed attempt');
    for (let i = 0; i < 2; i++) {
      mock.timers.tick(120); // the backoff
      await settle();
    }
    assert.equal(h.requests.length, 4);
    for (const r of h.requests.slice(0, 3)) {
      assert.equal(r.acks, -1, 'acks=all on every attempt');
      assert.deepEqual(valuesOf(r), ['event-1-0', 'event-1-1'], 'the same records every attempt');
    }
    // Post 2 (queued behind the request) goes only after post 1 is acknowledged: order kept.
    assert.deepEqual(valuesOf(h.requests[3]!), ['event-2-0', 'event-2-1']);
    assert.deepEqual(h.acks, [{ ids: [1] }, { ids: [2] }]);
    assert.deepEqual(h.loop.stats, { batches: 2, messages: 4, failures: 2 });
  });

  test('a non-retriable error fails the post at once, without a resend', async () => {
    const tooLarge = Object.assign(new Error('The request included a message larger than the max'), {
      name: 'KafkaJSProtocolError',
      type: 'MESSAGE_TOO_LARGE',
      retriable: false,
    });
    const h = harness([tooLarge]);
    h.loop.add(post(1), 10_000);
    await settle();
    mock.timers.tick(1_000);
    await settle();
    assert.equal(h.requests.length, 1);
    assert.equal(h.acks.length, 1);
    assert.deepEqual(h.acks[0]!.ids, [1]);
    assert.match(h.acks[0]!.error ?? '', /Kafka publish failed: The request included a message larger/);
  });

  test('a post past its deadline while retried is answered "outcome unknown" and left out of the next attempts', async () => {
    const h = harness([requestTimeout(), 'ok']);
    h.loop.add(post(1), 50);
    h.loop.add(post(2), 10_000);
    await settle();
    assert.equal(h.requests.length, 1);
    mock.timers.tick(60); // post 1's deadline passes during the backoff
    await settle();
    assert.deepEqual(h.acks, [{ ids: [1], error: 'Kafka did not acknowledge within 50 ms (outcome unknown)' }]);
    mock.timers.tick(100);
    await settle();
    assert.equal(h.requests.length, 2);
    assert.deepEqual(valuesOf(h.requests[1]!), ['event-2-0', 'event-2-1']);
    assert.deepEqual(h.acks[1], { ids: [2] });
  });

  test('a post whose deadline passes while queued behind a request is never sent', async () => {
    const h = harness(['hang']);
    h.loop.add(post(1), 10_000);
    await settle();
    h.loop.add(post(2), 50);
    mock.timers.tick(60);
    await settle();
    assert.deepEqual(h.acks, [{ ids: [2], error: 'Kafka did not acknowledge within 50 ms (not sent)' }]);
    mock.timers.tick(10_000);
    await settle();
    assert.deepEqual(h.acks[1], { ids: [1], error: 'Kafka did not acknowledge within 10000 ms (outcome unknown)' });
    assert.equal(h.requests.length, 1, 'post 2 was never in a request');
    assert.deepEqual(valuesOf(h.requests[0]!), ['event-1-0', 'event-1-1']);
  });

  for (const maxInFlight of [1, 3])
    test(`under random failures, every acknowledged post was in an attempt that succeeded (${maxInFlight} request(s) in flight)`, async () => {
      let seed = 7;
      const random = () => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
      const outcomes: (Error | 'ok')[] = [];
      for (let i = 0; i < 400; i++) outcomes.push(random() < 0.5 ? requestTimeout() : 'ok');
      const succeeded = new Set<string>();
      const h = harness([]);
      const loop = new SendLoop(
        (request) => {
          h.requests.push(request);
          const outcome = outcomes.shift() ?? 'ok';
          if (outcome !== 'ok') return Promise.reject(outcome);
          for (const v of valuesOf(request)) succeeded.add(v);
          return Promise.resolve();
        },
        { maxBatchMessages: 5, maxInFlight, retryDelayMs: { initial: 10, max: 10 } },
        (ids, error) => h.acks.push(error === undefined ? { ids } : { ids, error }),
      );
      for (let id = 1; id <= 200; id++) loop.add(post(id, 1 + (id % 3)), 25 + (id % 7) * 10);
      for (let i = 0; i < 400; i++) {
        mock.timers.tick(10);
        await settle();
      }
      const answered = new Set(h.acks.flatMap((a) => a.ids));
      assert.equal(answered.size, 200, 'every post answered');
      assert.equal(h.acks.flatMap((a) => a.ids).length, 200, 'each once');
      const acked = h.acks.filter((a) => a.error === undefined).flatMap((a) => a.ids);
      assert.ok(acked.length > 0 && acked.length < 200, `some acknowledged, some failed (${acked.length})`);
      for (const id of acked)
        for (const m of post(id, 1 + (id % 3)).messages) assert.ok(succeeded.has(String(m.value)), `post ${id} acked`);
    });
});
