// Producer spans on the publish path (BatchingPublisher / startProducerSpan) and the consumer-lag
// tracker, without a broker: a sender settled by the test, an admin client faked.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { context, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import type { Admin, ProducerBatch } from 'kafkajs';
import {
  BatchingPublisher,
  cloudEventHeaders,
  ConsumerLagTracker,
  startProducerSpan,
  startTelemetry,
  withSpan,
  type BatchSender,
} from '../src';

function controllableSender() {
  const calls: { batch: ProducerBatch; resolve: () => void; reject: (e: Error) => void }[] = [];
  const sender: BatchSender = {
    sendBatch: (batch) => new Promise((resolve, reject) => calls.push({ batch, resolve: () => resolve([]), reject })),
  };
  return { sender, calls };
}

const tick = () => new Promise((r) => setImmediate(r));
const header = (batch: ProducerBatch, i: number, key: string) =>
  String(batch.topicMessages![0]!.messages[i]!.headers![key] as string);
const TRACE = '0af7651916cd43dd8448eb211c80319c';

describe('producer spans (injected exporter)', () => {
  it('one PRODUCER span per message, parented on the traceparent the message carries, ended at the ack', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await startTelemetry({ serviceName: 'pub', spanExporter: exporter });
    try {
      const { sender, calls } = controllableSender();
      const pub = new BatchingPublisher(sender);
      // Two events made under two different spans (e.g. two calls), published later from elsewhere.
      const made = await Promise.all(
        ['call-a', 'call-b'].map((name, i) =>
          withSpan(name, { kind: SpanKind.SERVER }, (span) => ({
            ctx: span.spanContext(),
            headers: cloudEventHeaders({ id: `evt-${i}`, type: 't', source: 's', subject: 'tenant-a', time: 0 }),
          })),
        ),
      );
      const callerHeaders = made[0]!.headers;
      const callerCopy = { ...callerHeaders };
      const done = withSpan('unrelated active span', {}, () =>
        pub.publish('p.audit', [
          { key: 'tenant-a', value: 'a', headers: made[0]!.headers },
          { key: 'tenant-a', value: 'b', headers: made[1]!.headers },
        ]),
      );
      await tick();
      assert.equal(calls.length, 1);
      assert.deepEqual(callerHeaders, callerCopy, "the caller's headers are not modified");
      assert.equal(
        exporter.getFinishedSpans().filter((s) => s.name === 'send p.audit').length,
        0,
        'not ended before the ack',
      );
      calls[0]!.resolve();
      await done;
      const sends = exporter.getFinishedSpans().filter((s) => s.name === 'send p.audit');
      assert.equal(sends.length, 2);
      for (let i = 0; i < 2; i++) {
        const send = sends.find((s) => s.attributes['messaging.message.id'] === `evt-${i}`)!;
        const parent = made[i]!.ctx;
        assert.equal(send.kind, SpanKind.PRODUCER);
        assert.equal(send.spanContext().traceId, parent.traceId);
        assert.equal(send.parentSpanContext?.spanId, parent.spanId, 'parent: the context in the headers');
        assert.equal(send.status.code, SpanStatusCode.UNSET);
        assert.equal(send.attributes['messaging.system'], 'kafka');
        assert.equal(send.attributes['messaging.destination.name'], 'p.audit');
        assert.equal(send.attributes['messaging.operation.type'], 'send');
        assert.equal(send.attributes['messaging.kafka.message.key'], 'tenant-a');
        // The record carries the producer span's context (the consumer becomes its child).
        assert.equal(header(calls[0]!.batch, i, 'traceparent'), `00-${parent.traceId}-${send.spanContext().spanId}-01`);
        assert.equal(header(calls[0]!.batch, i, 'ce_id'), `evt-${i}`, 'other headers kept');
      }
    } finally {
      await t.shutdown();
    }
  });

  it('falls back to the active context when the message carries none; ends with ERROR on a failed batch', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await startTelemetry({ serviceName: 'pub', spanExporter: exporter });
    try {
      const { sender, calls } = controllableSender();
      const pub = new BatchingPublisher(sender);
      const { parent, done } = await withSpan('handler', {}, (span) => ({
        parent: span.spanContext(),
        done: pub.publish('p.keys', [{ key: 'tenant-a/k', value: null }]),
      }));
      await tick();
      calls[0]!.reject(new Error('broker down'));
      await assert.rejects(done, /Kafka publish failed: broker down/);
      const send = exporter.getFinishedSpans().find((s) => s.name === 'send p.keys')!;
      assert.equal(send.parentSpanContext?.spanId, parent.spanId);
      assert.equal(send.status.code, SpanStatusCode.ERROR);
      assert.match(send.status.message ?? '', /broker down/);
      assert.equal(send.attributes['error.type'], 'UnavailableError');
      assert.equal(send.attributes['messaging.kafka.message.tombstone'], true);
      assert.equal(header(calls[0]!.batch, 0, 'traceparent'), `00-${parent.traceId}-${send.spanContext().spanId}-01`);
    } finally {
      await t.shutdown();
    }
  });

  it('a publish that times out ends its spans with ERROR', async () => {
    const exporter = new InMemorySpanExporter();
    const t = await startTelemetry({ serviceName: 'pub', spanExporter: exporter });
    try {
      const { sender } = controllableSender();
      const pub = new BatchingPublisher(sender, { timeoutMs: 20 });
      await assert.rejects(
        withSpan('h', {}, () => pub.publish('p.audit', [{ key: 'k', value: 'v' }])),
        /did not acknowledge/,
      );
      const send = exporter.getFinishedSpans().find((s) => s.name === 'send p.audit')!;
      assert.equal(send.status.code, SpanStatusCode.ERROR);
    } finally {
      await t.shutdown();
    }
  });
});

describe('producer spans (propagate-only and no telemetry)', () => {
  it('propagate-only: non-recording spans, a new span id in the SAME trace, flags kept', async () => {
    const t = await startTelemetry({ serviceName: 'cheap', env: {} });
    try {
      const { sender, calls } = controllableSender();
      const pub = new BatchingPublisher(sender);
      const incoming = `00-${TRACE}-b7ad6b7169203331-00`;
      const done = pub.publish('p.audit', [
        { key: 'k', value: 'v', headers: { traceparent: incoming, tracestate: 'vendor=1' } },
        { key: 'k', value: 'w', headers: { traceparent: Buffer.from(incoming) } },
        { key: 'k', value: 'x' }, // no context: a new (unsampled) root, so the record still has ids
      ]);
      await tick();
      const sent = [0, 1, 2].map((i) => header(calls[0]!.batch, i, 'traceparent'));
      for (const tp of sent.slice(0, 2)) {
        const [, traceId, spanId, flags] = tp.split('-');
        assert.equal(traceId, TRACE, 'trace id unchanged');
        assert.notEqual(spanId, 'b7ad6b7169203331', 'the producer span is the new parent');
        assert.equal(flags, '00', 'still unsampled');
      }
      assert.notEqual(sent[0], sent[1], 'one span per message');
      assert.equal(header(calls[0]!.batch, 0, 'tracestate'), 'vendor=1');
      assert.match(sent[2]!, /^00-[0-9a-f]{32}-[0-9a-f]{16}-00$/);
      calls[0]!.resolve();
      await done;

      // startProducerSpan alone (for producers that do not use BatchingPublisher).
      const p = startProducerSpan('p.audit', { key: 'k', headers: { traceparent: incoming } });
      assert.equal(p.span, undefined, 'nothing to end: not recording');
      assert.equal(String(p.headers!['traceparent']).split('-')[1], TRACE);
      // A sampled caller is honoured (recorded locally; exported only if an exporter is configured).
      const sampled = startProducerSpan('p.audit', {
        key: 'k',
        headers: { traceparent: `00-${TRACE}-b7ad6b7169203331-01` },
      });
      assert.ok(sampled.span?.isRecording());
      sampled.span?.end();
    } finally {
      await t.shutdown();
    }
  });

  it('without telemetry the headers are left exactly as given', async () => {
    const { sender, calls } = controllableSender();
    const pub = new BatchingPublisher(sender);
    const headers = { traceparent: `00-${TRACE}-b7ad6b7169203331-01`, ce_id: 'e' };
    const done = pub.publish('p.audit', [{ key: 'k', value: 'v', headers }]);
    await tick();
    assert.equal(calls[0]!.batch.topicMessages![0]!.messages[0]!.headers, headers);
    calls[0]!.resolve();
    await done;
    assert.equal(trace.getSpan(context.active()), undefined);
  });
});

describe('ConsumerLagTracker', () => {
  function fakeAdmin(high: Record<string, { high: string; low: string }[]>, committed: Record<string, string[]>) {
    const calls = { topicOffsets: 0, fetchOffsets: 0 };
    const admin = {
      fetchTopicOffsets: async (topic: string) => {
        calls.topicOffsets++;
        return (high[topic] ?? []).map((o, partition) => ({ partition, offset: o.high, ...o }));
      },
      fetchOffsets: async ({ topics }: { topics: string[] }) => {
        calls.fetchOffsets++;
        return topics.map((topic) => ({
          topic,
          partitions: (committed[topic] ?? []).map((offset, partition) => ({ partition, offset, metadata: null })),
        }));
      },
    } as unknown as Admin;
    return { admin, calls };
  }

  it('lag = high-water mark − next offset to process, per assigned partition', async () => {
    const { admin, calls } = fakeAdmin(
      {
        a: [
          { high: '20', low: '0' },
          { high: '7', low: '2' },
          { high: '5', low: '0' },
        ],
      },
      { a: ['-1', '-1', '3'] },
    );
    const tracker = new ConsumerLagTracker({ groupId: 'g', group: 'g', fromBeginning: true, admin: async () => admin });
    assert.deepEqual(await tracker.lag(), [], 'nothing before the group join');
    tracker.joined({ a: [0, 1, 2] });
    tracker.processed('a', 0, '14', '20'); // processed up to 14 of 0..19
    const lag = await tracker.lag();
    assert.deepEqual(
      lag.map((l) => [l.partition, l.position, l.highWatermark, l.lag]),
      [
        [0, '15', '20', 5],
        [1, '2', '7', 5], // nothing committed, from the beginning: the low-water mark
        [2, '3', '5', 2], // the committed offset
      ],
    );
    assert.equal(lag[0]!.group, 'g');
    assert.equal(calls.fetchOffsets, 1);
    // Commits and batches move the positions; fresh high-water marks are not fetched again.
    tracker.committed([{ topic: 'a', partitions: [{ partition: 1, offset: '7' }] }]);
    tracker.processed('a', 2, '4', '5');
    tracker.processed('a', 0, '19', '20');
    const before = calls.topicOffsets;
    assert.deepEqual(
      (await tracker.lag()).map((l) => l.lag),
      [0, 0, 0],
    );
    assert.equal(calls.topicOffsets, before);
    // A rebalance that takes partition 0 away forgets it.
    tracker.joined({ a: [1, 2] });
    assert.deepEqual(
      (await tracker.lag()).map((l) => l.partition),
      [1, 2],
    );
    tracker.close();
    assert.deepEqual(await tracker.lag(), []);
  });

  it('an admin failure reports what is known instead of throwing', async () => {
    const tracker = new ConsumerLagTracker({
      groupId: 'g',
      group: 'g',
      fromBeginning: false,
      admin: async () => {
        throw new Error('no broker');
      },
    });
    tracker.joined({ a: [0, 1] });
    tracker.processed('a', 0, '9', '12');
    assert.deepEqual(
      (await tracker.lag()).map((l) => [l.partition, l.lag]),
      [[0, 2]],
    );
  });
});
