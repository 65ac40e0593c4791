// BatchingPublisher: the services' producer (EventMessages with producer tracing spans) over the one
// producer algorithm, PublishQueue (publish-queue.ts): groups concurrent publishes into one
// sendBatch, resends a retriable failure whole, and rejects each caller at its deadline.
import { context, type Span } from '@opentelemetry/api';
import { type CompressionTypes, type Message } from 'kafkajs';
import { UnavailableError } from '../errors';
import { type Logger } from '../logger';
import { type EventMessage } from './port';
import { type ExtractCache, endProducerSpan, platformTracer, producerSpanWith } from './producer-tracing';
import { PublishQueue, type BatchSender } from './publish-queue';

export type { BatchSender } from './publish-queue';

export interface BatchingPublisherOptions {
  /** Flush as soon as this many messages are waiting (default 500). */
  maxBatchMessages?: number;
  /** Concurrent sendBatch calls (default 1: batches grow while one is in flight). */
  maxInFlight?: number;
  /** A caller whose messages are not acknowledged within this time is rejected (default 10 s). */
  timeoutMs?: number;
  /** Broker-side ack timeout passed to kafkajs (default 30 s). */
  ackTimeoutMs?: number;
  compression?: CompressionTypes;
  logger?: Logger;
  /** Backoff before resending a batch after a retriable error (default 100 ms, doubling to 1 s). */
  retryDelayMs?: { initial: number; max: number };
}

/**
 * Groups concurrent publish calls: calls made in the same tick (or until `maxBatchMessages`)
 * go out in one `sendBatch` with acks=-1; each caller's promise resolves when its batch is
 * acknowledged. While a batch is in flight new calls accumulate, so batches grow with load.
 * A caller not acknowledged within `timeoutMs` is rejected with UnavailableError; if its
 * messages were not sent yet they are dropped (never published late), otherwise the outcome is
 * unknown (at-least-once: consumers must be idempotent). A batch that fails with a retriable
 * Kafka error (a leader moved, a broker died: isRetriableKafkaError) is resent whole, with backoff,
 * for its callers still waiting; the sender makes one attempt per call (see KafkaEventBus).
 */
export class BatchingPublisher {
  private readonly queue: PublishQueue;
  private readonly extractCache: { last?: ExtractCache } = {};

  constructor(sender: BatchSender, opts: BatchingPublisherOptions = {}) {
    const logger = opts.logger;
    this.queue = new PublishQueue(sender, {
      ...(opts.maxBatchMessages !== undefined ? { maxBatchMessages: opts.maxBatchMessages } : {}),
      ...(opts.maxInFlight !== undefined ? { maxInFlight: opts.maxInFlight } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.ackTimeoutMs !== undefined ? { ackTimeoutMs: opts.ackTimeoutMs } : {}),
      ...(opts.compression !== undefined ? { compression: opts.compression } : {}),
      ...(opts.retryDelayMs !== undefined ? { retryDelayMs: opts.retryDelayMs } : {}),
      errorOf: (message, cause) => {
        const error = new UnavailableError(message);
        if (cause !== undefined) (error as Error & { cause?: unknown }).cause = cause;
        return error;
      },
      onRetry: (err, attempt, delay, messages) =>
        logger?.warn({ err, messages, attempt, retry_ms: delay }, 'Kafka publish failed (retriable); resending'),
      onFailure: (err, messages) => logger?.warn({ err, messages }, 'Kafka publish failed'),
    });
  }

  /** Counters for metrics and tests. */
  get stats(): { batches: number; messages: number; failures: number } {
    return this.queue.stats;
  }

  publish(topic: string, messages: EventMessage[]): Promise<void> {
    if (messages.length === 0) return this.queue.publish(topic, []);
    // One PRODUCER span per message (see startProducerSpan), ended when its batch is acknowledged.
    const tracer = platformTracer();
    const active = context.active();
    const kafkaMessages = new Array<Message>(messages.length);
    let spans: Span[] | undefined;
    for (let i = 0; i < messages.length; i++) {
      const m = messages[i]!;
      const produced = producerSpanWith(tracer, topic, m, active, this.extractCache);
      if (produced.span !== undefined) (spans ??= []).push(produced.span);
      kafkaMessages[i] = toKafkaMessage(m, produced.headers);
    }
    return new Promise<void>((resolve, reject) =>
      this.queue.enqueue(topic, kafkaMessages, (err) => {
        if (spans !== undefined) for (const span of spans) endProducerSpan(span, err);
        if (err === undefined) resolve();
        else reject(err);
      }),
    );
  }

  /** Resolves when nothing is pending or in flight. */
  flush(): Promise<void> {
    return this.queue.flush();
  }

  /** Refuses new publishes and waits for pending ones. */
  close(): Promise<void> {
    return this.queue.close();
  }
}

function toKafkaMessage(m: EventMessage, headers: EventMessage['headers'] = m.headers): Message {
  const msg: Message = { key: m.key, value: m.value };
  if (headers) msg.headers = headers;
  if (m.partition !== undefined) msg.partition = m.partition;
  return msg;
}
