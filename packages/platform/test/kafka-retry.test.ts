// retryKafka: retriable Kafka errors are retried with capped backoff, anything else fails at once.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { isRetriableKafkaError, retryKafka } from '../src';

/** The shape kafkajs gives a protocol error (KafkaJSProtocolError). */
function protocolError(type: string, retriable: boolean): Error {
  return Object.assign(new Error(`This server is not the leader (${type})`), {
    name: 'KafkaJSProtocolError',
    type,
    retriable,
  });
}

describe('isRetriableKafkaError', () => {
  it('knows the transient conditions, by type, by class and when wrapped', () => {
    assert.equal(isRetriableKafkaError(protocolError('NOT_LEADER_FOR_PARTITION', true)), true);
    // Even when kafkajs marks it non-retriable, a leader change clears by itself.
    assert.equal(isRetriableKafkaError(protocolError('NOT_LEADER_OR_FOLLOWER', false)), true);
    assert.equal(isRetriableKafkaError(Object.assign(new Error('x'), { name: 'KafkaJSConnectionError' })), true);
    const exhausted = Object.assign(new Error('retries exceeded'), {
      name: 'KafkaJSNumberOfRetriesExceeded',
      retriable: false,
      originalError: protocolError('LEADER_NOT_AVAILABLE', true),
    });
    assert.equal(isRetriableKafkaError(exhausted), true, 'the wrapped cause decides');
  });

  it('refuses what retrying cannot fix', () => {
    assert.equal(isRetriableKafkaError(protocolError('TOPIC_AUTHORIZATION_FAILED', false)), false);
    assert.equal(isRetriableKafkaError(protocolError('INVALID_REPLICATION_FACTOR', false)), false);
    assert.equal(isRetriableKafkaError(new TypeError('bug')), false);
    assert.equal(isRetriableKafkaError(undefined), false);
  });
});

describe('retryKafka', () => {
  it('retries an injected NOT_LEADER_FOR_PARTITION with growing backoff, then succeeds', async () => {
    const delays: number[] = [];
    const retried: number[] = [];
    let calls = 0;
    const result = await retryKafka(
      async () => {
        calls++;
        if (calls < 4) throw protocolError('NOT_LEADER_FOR_PARTITION', true);
        return 'offsets';
      },
      {
        initialDelayMs: 100,
        maxDelayMs: 250,
        sleep: async (ms) => void delays.push(ms),
        onRetry: (_err, attempt) => retried.push(attempt),
      },
    );
    assert.equal(result, 'offsets');
    assert.equal(calls, 4);
    assert.deepEqual(retried, [1, 2, 3]);
    // 100, 200, then capped at 250; each within ±20 % jitter.
    [100, 200, 250].forEach((base, i) => {
      assert.ok(delays[i]! >= base * 0.8 && delays[i]! <= base * 1.2, `delay ${i}: ${delays[i]}`);
    });
  });

  it('fails at once on a non-retriable error and after the last attempt on a retriable one', async () => {
    let calls = 0;
    await assert.rejects(
      retryKafka(
        async () => {
          calls++;
          throw protocolError('TOPIC_AUTHORIZATION_FAILED', false);
        },
        { sleep: async () => undefined },
      ),
      /not the leader/,
    );
    assert.equal(calls, 1);
    calls = 0;
    await assert.rejects(
      retryKafka(
        async () => {
          calls++;
          throw protocolError('LEADER_NOT_AVAILABLE', true);
        },
        { attempts: 3, sleep: async () => undefined },
      ),
    );
    assert.equal(calls, 3);
  });

  it('stops retrying once its signal is aborted', async () => {
    const abort = new AbortController();
    let calls = 0;
    await assert.rejects(
      retryKafka(
        async () => {
          calls++;
          abort.abort();
          throw protocolError('REQUEST_TIMED_OUT', true);
        },
        { signal: abort.signal, sleep: async () => undefined },
      ),
    );
    assert.equal(calls, 1);
  });
});
