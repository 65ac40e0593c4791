// BatchingPublisher: groups concurrent publishes into one sendBatch, resends a retriable failure
// whole, and rejects each caller at its deadline.
import { context, type Span } from '@opentelemetry/api';
import { type CompressionTypes, type Message, type ProducerBatch, type TopicMessages } from 'kafkajs';
import { UnavailableError } from '../errors';
import { isRetriableKafkaError } from '../kafka-retry';
import { type Logger } from '../logger';
import { type EventMessage } from './port';
import { type ExtractCache, endProducerSpan, platformTracer, producerSpanWith } from './producer-tracing';

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

interface PendingPublish {
  topic: string;
  messages: Message[];
  /** Recording producer spans of these messages, ended when the batch is acknowledged. */
  spans?: Span[];
  resolve: () => void;
  reject: (err: unknown) => void;
  settled: boolean;
  timer?: NodeJS.Timeout;
}

/** Anything with kafkajs' sendBatch (the producer, or a fake in unit tests). */
export interface BatchSender {
  sendBatch(batch: ProducerBatch): Promise<unknown>;
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
  private pending: PendingPublish[] = [];
  private pendingCount = 0;
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly timeoutMs: number;
  /** Counters for metrics and tests. */
  readonly stats = { batches: 0, messages: 0, failures: 0 };
  private readonly extractCache: { last?: ExtractCache } = {};

  constructor(
    private readonly sender: BatchSender,
    private readonly opts: BatchingPublisherOptions = {},
  ) {
    this.maxBatch = opts.maxBatchMessages ?? 500;
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  publish(topic: string, messages: EventMessage[]): Promise<void> {
    if (this.closed) return Promise.reject(new UnavailableError('publisher is closed (shutting down)'));
    if (messages.length === 0) return Promise.resolve();
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
    return new Promise<void>((resolve, reject) => {
      const entry: PendingPublish = {
        topic,
        messages: kafkaMessages,
        resolve,
        reject,
        settled: false,
        ...(spans !== undefined ? { spans } : {}),
      };
      if (this.timeoutMs > 0) {
        entry.timer = setTimeout(() => this.timeout(entry), this.timeoutMs);
      }
      this.pending.push(entry);
      this.pendingCount += entry.messages.length;
      if (this.pendingCount >= this.maxBatch) this.drain();
      else this.schedule();
    });
  }

  /** Resolves when nothing is pending or in flight. */
  async flush(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new publishes and waits for pending ones. */
  async close(): Promise<void> {
    this.closed = true;
    this.drain();
    await this.flush();
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.drain();
    });
  }

  private timeout(entry: PendingPublish): void {
    if (entry.settled) return;
    const idx = this.pending.indexOf(entry);
    const unsent = idx >= 0;
    if (unsent) {
      this.pending.splice(idx, 1);
      this.pendingCount -= entry.messages.length;
    }
    this.settle(
      entry,
      new UnavailableError(
        `Kafka did not acknowledge within ${this.timeoutMs} ms (${unsent ? 'not sent' : 'outcome unknown'})`,
      ),
    );
    this.notifyIfIdle();
  }

  private settle(entry: PendingPublish, err?: unknown): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.timer) clearTimeout(entry.timer);
    if (entry.spans !== undefined) for (const span of entry.spans) endProducerSpan(span, err);
    if (err === undefined) entry.resolve();
    else entry.reject(err);
  }

  private drain(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch: PendingPublish[] = [];
      let count = 0;
      while (this.pending.length > 0) {
        const next = this.pending[0]!;
        if (batch.length > 0 && count + next.messages.length > this.maxBatch) break;
        batch.push(this.pending.shift()!);
        count += next.messages.length;
      }
      this.pendingCount -= count;
      void this.send(batch, count);
    }
  }

  private async send(batch: PendingPublish[], count: number): Promise<void> {
    this.inFlight++;
    let request: ProducerBatch = {
      acks: -1,
      topicMessages: topicMessagesOf(batch),
      ...(this.opts.ackTimeoutMs !== undefined ? { timeout: this.opts.ackTimeoutMs } : {}),
      ...(this.opts.compression !== undefined ? { compression: this.opts.compression } : {}),
    };
    try {
      for (let attempt = 1; ; attempt++) {
        try {
          await this.sender.sendBatch(request);
          this.stats.batches++;
          this.stats.messages += count;
          for (const entry of batch) this.settle(entry);
          return;
        } catch (err) {
          this.stats.failures++;
          // Callers past their deadline were answered (outcome unknown): theirs are not resent.
          const live = batch.filter((e) => !e.settled);
          if (!isRetriableKafkaError(err) || live.length === 0 || this.closed) {
            this.opts.logger?.warn({ err, messages: count }, 'Kafka publish failed');
            const error = new UnavailableError(
              `Kafka publish failed: ${err instanceof Error ? err.message : String(err)}`,
            );
            (error as Error & { cause?: unknown }).cause = err;
            for (const entry of batch) this.settle(entry, error);
            return;
          }
          const delays = this.opts.retryDelayMs ?? { initial: 100, max: 1_000 };
          const delay = Math.round(
            Math.min(delays.max, delays.initial * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4),
          );
          this.opts.logger?.warn(
            { err, messages: count, attempt, retry_ms: delay },
            'Kafka publish failed (retriable); resending',
          );
          await new Promise<void>((r) => setTimeout(r, delay));
          if (live.length < batch.length) {
            batch = live;
            count = live.reduce((n, e) => n + e.messages.length, 0);
            request = { ...request, topicMessages: topicMessagesOf(live) };
          }
        }
      }
    } finally {
      this.inFlight--;
      this.drain();
      this.notifyIfIdle();
    }
  }

  private notifyIfIdle(): void {
    if (this.pending.length === 0 && this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}

/** One TopicMessages per topic, callers' messages in call order (per-key order is kept). */
function topicMessagesOf(batch: readonly PendingPublish[]): TopicMessages[] {
  const byTopic = new Map<string, Message[]>();
  for (const entry of batch) {
    const list = byTopic.get(entry.topic) ?? [];
    list.push(...entry.messages);
    byTopic.set(entry.topic, list);
  }
  return [...byTopic].map(([topic, messages]) => ({ topic, messages }));
}

function toKafkaMessage(m: EventMessage, headers: EventMessage['headers'] = m.headers): Message {
  const msg: Message = { key: m.key, value: m.value };
  if (headers) msg.headers = headers;
  if (m.partition !== undefined) msg.partition = m.partition;
  return msg;
}
