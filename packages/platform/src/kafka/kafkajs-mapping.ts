// The kafkajs adapter's translations between the port's neutral types and kafkajs: consumed
// messages, consumer settings, batch handlers, lifecycle events, and the log bridge.
import { type Consumer, type ConsumerConfig, type EachBatchPayload, type KafkaMessage } from 'kafkajs';
import { type Logger } from '../logger';
import { kafkajsLogCreator } from './publish-queue';
import {
  type BatchContext,
  type BatchHandler,
  type ConsumedMessage,
  type ConsumerEvent,
  type ConsumerTuning,
} from './port';

/** kafkajs' log creator writing to our logger (the shared bridge of publish-queue.ts). */
export function kafkaLogCreator(logger: Logger) {
  return kafkajsLogCreator((level, message, fields) => logger[level](fields, message));
}

export function toConsumed(topic: string, partition: number, m: KafkaMessage): ConsumedMessage {
  return {
    topic,
    partition,
    offset: m.offset,
    key: m.key,
    value: m.value,
    headers: m.headers ?? {},
    timestamp: m.timestamp,
  };
}

/** The port's consumer settings as kafkajs consumer config (only those given). */
export function kafkajsConsumerConfig(t: ConsumerTuning | undefined): Partial<Omit<ConsumerConfig, 'groupId'>> {
  if (t === undefined) return {};
  const out: Partial<Omit<ConsumerConfig, 'groupId'>> = {};
  if (t.sessionTimeoutMs !== undefined) out.sessionTimeout = t.sessionTimeoutMs;
  if (t.heartbeatIntervalMs !== undefined) out.heartbeatInterval = t.heartbeatIntervalMs;
  if (t.rebalanceTimeoutMs !== undefined) out.rebalanceTimeout = t.rebalanceTimeoutMs;
  if (t.maxWaitTimeMs !== undefined) out.maxWaitTimeInMs = t.maxWaitTimeMs;
  if (t.maxBytesPerPartition !== undefined) out.maxBytesPerPartition = t.maxBytesPerPartition;
  if (t.maxBytes !== undefined) out.maxBytes = t.maxBytes;
  if (t.retries !== undefined || t.initialRetryTimeMs !== undefined) {
    out.retry = {
      ...(t.retries !== undefined ? { retries: t.retries } : {}),
      ...(t.initialRetryTimeMs !== undefined ? { initialRetryTime: t.initialRetryTimeMs } : {}),
    };
  }
  return out;
}

/**
 * A port batch handler as a kafkajs eachBatch handler (run with eachBatchAutoResolve off: only
 * `commit` moves the position, so a stale or failed batch is never resolved behind its back).
 */
export function kafkajsBatchHandler(handler: BatchHandler): (payload: EachBatchPayload) => Promise<void> {
  return async (payload) => {
    const { batch } = payload;
    const context: BatchContext = {
      batch: {
        topic: batch.topic,
        partition: batch.partition,
        messages: batch.messages.map((m) => toConsumed(batch.topic, batch.partition, m)),
        highWatermark: batch.highWatermark,
      },
      heartbeat: () => payload.heartbeat(),
      isStale: () => !payload.isRunning() || payload.isStale(),
      commit: async (offset) => {
        await payload.commitOffsetsIfNecessary({
          topics: [
            {
              topic: batch.topic,
              partitions: [{ partition: batch.partition, offset: (BigInt(offset) + 1n).toString() }],
            },
          ],
        });
        // After the commit: kafkajs' resolveOffset also covers control records after `offset`.
        payload.resolveOffset(offset);
      },
    };
    await handler(context);
  };
}

/** The kafkajs instrumentation event behind each neutral consumer event. */
export const KAFKAJS_CONSUMER_EVENTS: Record<ConsumerEvent, (c: Consumer) => ValueOf<Consumer['events']>> = {
  fetch: (c) => c.events.FETCH,
  rebalanced: (c) => c.events.GROUP_JOIN,
  crash: (c) => c.events.CRASH,
  stop: (c) => c.events.STOP,
  disconnect: (c) => c.events.DISCONNECT,
};
type ValueOf<T> = T[keyof T];
