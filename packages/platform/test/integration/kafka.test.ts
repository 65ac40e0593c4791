import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { randomId } from '@authority/core';
import { SpanKind } from '@opentelemetry/api';
import {
  AggregationTemporality,
  InMemoryMetricExporter,
  MeterProvider,
  PeriodicExportingMetricReader,
} from '@opentelemetry/sdk-metrics';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { ConfigResourceTypes } from 'kafkajs';
import {
  authorityTopicSpecs,
  cloudEventHeaders,
  createKafka,
  currentTraceIds,
  parseCloudEventHeaders,
  silentLogger,
  startTelemetry,
  topics,
  withSpan,
  type ConsumedMessage,
  type KafkaEventBus,
  type Telemetry,
} from '../../src';
import { requireEnv } from './env';

const brokers = requireEnv('KAFKA_BROKERS').split(',');
const prefix = `it.platform.${Date.now()}.${randomId(4).replace(/[^A-Za-z0-9]/g, 'x')}.`;
const t = topics(prefix);

/**
 * Resolves when `predicate` holds, re-checking it; rejects after `ms`. The condition is broker or
 * consumer state with no event to wait on (group assignment, lag), so it is polled with a deadline.
 */
async function eventually(predicate: () => boolean | Promise<boolean>, ms = 20_000, what = 'condition'): Promise<void> {
  const until = Date.now() + ms;
  while (!(await predicate())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

describe('Kafka (real broker)', { timeout: 120_000 }, () => {
  let bus: KafkaEventBus;
  let telemetry: Telemetry;
  const spans = new InMemorySpanExporter();
  const fatal: Error[] = [];

  before(async () => {
    telemetry = await startTelemetry({ serviceName: 'platform-it', spanExporter: spans });
    bus = createKafka({ brokers, clientId: 'platform-it', logger: silentLogger(), onFatal: (e) => void fatal.push(e) });
    await bus.connectProducer();
  });

  after(async () => {
    await bus.disconnect();
    await bus.withAdmin(async (admin) => {
      const mine = (await admin.listTopics()).filter((name) => name.startsWith(prefix));
      if (mine.length > 0) await admin.deleteTopics({ topics: mine });
      const groups = (await admin.listGroups()).groups.map((g) => g.groupId).filter((g) => g.startsWith(prefix));
      if (groups.length > 0) await admin.deleteGroups(groups);
    });
    await telemetry.shutdown();
  });

  it('ensureTopics creates the Authority topics idempotently, compacting the state topics', async () => {
    const specs = authorityTopicSpecs(prefix, { partitions: 2, replicationFactor: 1 });
    const created = await bus.ensureTopics(specs);
    assert.deepEqual(created.sort(), Object.values(t).sort());
    assert.deepEqual(await bus.ensureTopics(specs), [], 'second run creates nothing');
    await bus.withAdmin(async (admin) => {
      const res = await admin.describeConfigs({
        includeSynonyms: false,
        resources: Object.values(t).map((name) => ({
          type: ConfigResourceTypes.TOPIC,
          name,
          configNames: ['cleanup.policy'],
        })),
      });
      const policy = new Map(
        res.resources.map((r) => [
          r.resourceName,
          r.configEntries.find((e) => e.configName === 'cleanup.policy')?.configValue,
        ]),
      );
      assert.equal(policy.get(t.keys), 'compact');
      assert.equal(policy.get(t.policies), 'compact');
      assert.equal(policy.get(t.revocations), 'compact');
      assert.equal(policy.get(t.audit), 'delete');
      const meta = await admin.fetchTopicMetadata({ topics: [t.audit] });
      assert.equal(meta.topics[0]!.partitions.length, 2);
    });
  });

  it('BatchingPublisher groups concurrent publishes into few acks=all batches and resolves every caller', async () => {
    const before = { ...bus.publisher.stats };
    const callers = 200;
    const results = await Promise.all(
      Array.from({ length: callers }, (_, i) =>
        bus.publish(t.audit, [{ key: `tenant-${i % 4}`, value: JSON.stringify({ i }) }]).then(() => i),
      ),
    );
    assert.equal(results.length, callers);
    const batches = bus.publisher.stats.batches - before.batches;
    assert.equal(bus.publisher.stats.messages - before.messages, callers);
    assert.ok(batches >= 1 && batches <= 3, `200 concurrent calls went out in ${batches} batches`);

    // Every message is durable and per-key order is kept.
    const seen: ConsumedMessage[] = [];
    const replay = await bus.catchUp({ topics: [t.audit] }, (m) => void seen.push(m));
    await replay.caughtUp;
    await replay.disconnect();
    assert.equal(seen.length, callers);
    const perKey = new Map<string, number[]>();
    for (const m of seen) {
      const list = perKey.get(m.key!.toString()) ?? [];
      list.push((JSON.parse(m.value!.toString()) as { i: number }).i);
      perKey.set(m.key!.toString(), list);
    }
    for (const [key, list] of perKey)
      assert.deepEqual(
        list,
        [...list].sort((a, b) => a - b),
        `order of ${key}`,
      );
  });

  it('catchUp replays a compacted topic to the high-water mark, then keeps receiving', async () => {
    const initial = 30;
    for (let i = 0; i < initial; i++) {
      await bus.publish(t.revocations, [
        { key: `tenant-${i % 3}/jti-${i}`, value: JSON.stringify({ jti: `jti-${i}` }) },
      ]);
    }
    const state = new Map<string, string>();
    let count = 0;
    const handle = await bus.catchUp({ topics: [t.revocations] }, async (m) => {
      count++;
      state.set(m.key!.toString(), m.value!.toString());
    });
    assert.equal(handle.isCaughtUp(), false);
    assert.equal(
      [...handle.targets.values()].reduce((a, b) => a + BigInt(b), 0n),
      BigInt(initial),
    );
    await handle.caughtUp;
    assert.equal(handle.isCaughtUp(), true);
    assert.equal(count, initial, 'every message existing at start was applied before caughtUp resolved');
    assert.equal(state.size, initial);

    await bus.publish(t.revocations, [{ key: 'tenant-0/jti-new', value: '{"jti":"jti-new"}' }]);
    await eventually(() => state.has('tenant-0/jti-new'), 20_000, 'the new revocation');
    assert.ok(handle.lastFetchAt() !== undefined && Date.now() - handle.lastFetchAt()! < 15_000);
    await handle.disconnect();
    const groups = await bus.withAdmin(async (admin) => (await admin.listGroups()).groups.map((g) => g.groupId));
    assert.ok(!groups.includes(handle.groupId), 'the generated catch-up group is deleted on disconnect');
  });

  it('catchUp on an empty topic is caught up at once', async () => {
    const handle = await bus.catchUp({ topics: [t.checkpoints] }, () => undefined);
    assert.equal(handle.isCaughtUp(), true);
    await handle.caughtUp;
    await handle.disconnect();
  });

  it('CloudEvents headers and traceparent round-trip through a real topic (producer → consumer span)', async () => {
    spans.reset();
    const topic = t.policies;
    const received: { message: ConsumedMessage; traceId?: string }[] = [];
    const consumer = await bus.consume({
      groupId: `${prefix}trace-test`,
      topics: [topic],
      fromBeginning: true,
      eachMessage: async (m) => {
        received.push({ message: m, traceId: currentTraceIds()?.traceId });
      },
    });
    const producerSpan = await withSpan('publish policy', { kind: SpanKind.PRODUCER }, async (span) => {
      await bus.publish(topic, [
        {
          key: 'tenant-a/policy-1',
          value: JSON.stringify({ version: 1 }),
          headers: cloudEventHeaders({
            id: 'evt-42',
            type: 'authority.v1.PolicyVersionPublished',
            source: 'authority/policy',
            subject: 'tenant-a',
            time: new Date('2026-03-04T05:06:07.000Z'),
          }),
        },
      ]);
      return span.spanContext();
    });
    await eventually(() => received.length > 0, 30_000, 'the consumed message');
    await consumer.disconnect();

    const { message, traceId } = received[0]!;
    assert.deepEqual(parseCloudEventHeaders(message.headers), {
      specversion: '1.0',
      id: 'evt-42',
      type: 'authority.v1.PolicyVersionPublished',
      source: 'authority/policy',
      time: '2026-03-04T05:06:07.000Z',
      subject: 'tenant-a',
      contentType: 'application/json',
    });
    assert.equal(traceId, producerSpan.traceId, 'the handler runs in the producer trace');
    // publish made a PRODUCER `send <topic>` span under the caller's span, ended at the ack...
    const sendSpan = spans.getFinishedSpans().find((s) => s.name === `send ${topic}`);
    assert.ok(sendSpan);
    assert.equal(sendSpan.kind, SpanKind.PRODUCER);
    assert.equal(sendSpan.parentSpanContext?.spanId, producerSpan.spanId);
    assert.equal(sendSpan.attributes['messaging.message.id'], 'evt-42');
    // ...and the consumer's span is its child.
    const consumerSpan = spans.getFinishedSpans().find((s) => s.name === `process ${topic}`);
    assert.ok(consumerSpan);
    assert.equal(consumerSpan.kind, SpanKind.CONSUMER);
    assert.equal(consumerSpan.spanContext().traceId, producerSpan.traceId);
    assert.equal(consumerSpan.parentSpanContext?.spanId, sendSpan.spanContext().spanId);
    assert.equal(consumerSpan.attributes['messaging.destination.name'], topic);
  });

  it('consumer lag: high-water mark minus the next offset, on the handle and as a metric', async () => {
    const topic = `${prefix}lag`;
    await bus.ensureTopics([{ topic, partitions: 1, compacted: false, replicationFactor: 1 }]);
    const n = 12;
    await bus.publish(
      topic,
      Array.from({ length: n }, (_, i) => ({ key: 'k', value: String(i) })),
    );
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let handled = 0;
    const handle = await bus.consume({
      groupId: `${prefix}lag-test`,
      topics: [topic],
      fromBeginning: true,
      eachMessage: async () => {
        await gate; // stuck on the first record until released
        handled++;
      },
    });
    const reader = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE);
    const metricReader = new PeriodicExportingMetricReader({ exporter: reader, exportIntervalMillis: 3_600_000 });
    const provider = new MeterProvider({ readers: [metricReader] });
    const stop = bus.observeConsumerLag(provider.getMeter('test'));
    try {
      // Stuck: nothing processed, nothing committed → the whole partition is lag.
      let lag = await handle.lag();
      await eventually(
        async () => (lag = await handle.lag()).length > 0,
        20_000,
        'the group join to assign the partition',
      );
      assert.deepEqual(
        lag.map((l) => [l.topic, l.partition, l.highWatermark, l.position, l.lag, l.group]),
        [[topic, 0, String(n), '0', n, `${prefix}lag-test`]],
      );
      const { resourceMetrics } = await metricReader.collect();
      const gauge = resourceMetrics.scopeMetrics
        .flatMap((s) => s.metrics)
        .find((m) => m.descriptor.name === 'authority.kafka.consumer.lag');
      assert.ok(gauge, 'the gauge is exported');
      const point = gauge.dataPoints.find((p) => p.attributes['messaging.destination.name'] === topic);
      assert.equal(point?.value, n);
      assert.equal(point?.attributes['messaging.consumer.group.name'], `${prefix}lag-test`);
      assert.equal(point?.attributes['messaging.destination.partition.id'], '0');

      release();
      await eventually(() => handled === n, 20_000, 'every record handled');
      await eventually(async () => (await handle.lag())[0]?.lag === 0, 20_000, 'lag 0 once processed');
      assert.ok((await bus.consumerLag()).some((l) => l.topic === topic && l.lag === 0));
    } finally {
      stop();
      await provider.shutdown();
      await handle.disconnect();
    }
    assert.deepEqual(await handle.lag(), [], 'nothing after disconnect');
  });

  it('consumer lifecycle events through the port: fetch, rebalanced, disconnect; a removed listener stays quiet', async () => {
    const topic = `${prefix}events`;
    await bus.ensureTopics([{ topic, partitions: 2, compacted: false, replicationFactor: 1 }]);
    const groupId = `${prefix}events-test`;
    const first = await bus.consume({ groupId, topics: [topic], eachMessage: async () => {} });
    const seen: string[] = [];
    let removedCalls = 0;
    const remove = first.on('fetch', () => removedCalls++);
    remove();
    first.on('fetch', () => seen.push('fetch'));
    first.on('rebalanced', () => seen.push('rebalanced'));
    first.on('disconnect', () => seen.push('disconnect'));
    await eventually(() => seen.includes('fetch'), 20_000, 'a fetch event');
    // A second member joining the group makes the first one rejoin: a rebalance it must hear of.
    const second = await bus.consume({ groupId, topics: [topic], eachMessage: async () => {} });
    try {
      await eventually(() => seen.includes('rebalanced'), 30_000, 'the rebalanced event');
    } finally {
      await second.disconnect();
      await first.disconnect();
    }
    assert.ok(seen.includes('disconnect'), 'the disconnect event');
    assert.equal(removedCalls, 0, 'a removed listener is not called');
  });

  it('a consumer whose handler keeps failing crashes after bounded restarts and reports fatal', async () => {
    const topic = t.keys;
    await bus.publish(topic, [{ key: 'tenant-a/k1', value: 'poison' }]);
    let attempts = 0;
    const fatalBefore = fatal.length;
    const handle = await bus.consume({
      groupId: `${prefix}crash-test`,
      topics: [topic],
      fromBeginning: true,
      maxRestarts: 1,
      consumer: { retries: 0, initialRetryTimeMs: 50 },
      eachMessage: async () => {
        attempts++;
        const err = new Error('transient failure') as Error & { retriable: boolean };
        err.retriable = true; // a restartable error: the bound, not the error kind, must stop it
        throw err;
      },
    });
    await eventually(() => fatal.length > fatalBefore, 30_000, 'the fatal crash report');
    assert.equal(attempts, 2, 'one initial run + one restart, then fatal');
    assert.match(fatal[fatal.length - 1]!.message, /transient failure/);
    await handle.disconnect();
  });
});
