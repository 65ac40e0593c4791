// The one producer algorithm of every Authority producer (BatchingPublisher on the services' main
// threads, the enforcer's audit producer thread): callers' messages queue, are grouped into one
// produce request (acks=-1) per round, a retriable failure resends the request whole until each
// caller's deadline, and a caller is acknowledged only by an attempt that carried its messages and
// succeeded (issue 14, the lost ALLOW: the producer is not idempotent and kafkajs does not retry,
// KAFKA_PRODUCER_SETTINGS). A caller past its deadline is answered at once: not sent (dropped from
// the queue, never published late) or outcome unknown (it is left out of later attempts).
//
// Loads no runtime module but kafka-retry: the enforcer's producer thread runs it next to kafkajs
// and core's signing module only (its memory), and must install the kafkajs record-encoder
// replacement before kafkajs loads.
import type { CompressionTypes, Message, ProducerBatch, TopicMessages } from 'kafkajs';
import { isRetriableKafkaError } from '../kafka-retry';

/**
 * kafkajs producer settings of every producer (with acks=-1 on each request): no idempotence and
 * no kafkajs retries (kafkajs 2.2.4 can answer success for records that are not in the log: an
 * idempotent producer reusing the sequence numbers of a request whose outcome was unknown, and a
 * retry that skips a partition whose leader moved to a broker that already answered); one request
 * in flight per connection (per-partition order). PublishQueue resends a failed request whole; a
 * resend may write a record twice, consumers de-duplicate by event id.
 */
export const KAFKA_PRODUCER_SETTINGS = {
  idempotent: false,
  maxInFlightRequests: 1,
  retry: { retries: 0 },
  allowAutoTopicCreation: false,
} as const;

/** Anything with kafkajs' sendBatch (the producer, or a fake in unit tests): ONE attempt per call. */
export interface BatchSender {
  sendBatch(batch: ProducerBatch): Promise<unknown>;
}

export interface PublishQueueOptions {
  /** Flush as soon as this many messages are waiting; most messages per request (default 500). */
  maxBatchMessages?: number;
  /** Concurrent produce requests (default 1: requests grow while one is in flight). */
  maxInFlight?: number;
  /** A caller not acknowledged within this time is answered with an error (default 10 s). */
  timeoutMs?: number;
  /** Broker-side ack timeout passed to kafkajs. */
  ackTimeoutMs?: number;
  compression?: CompressionTypes;
  /** Backoff before resending after a retriable error (default 100 ms, doubling to 1 s, ±20 % jitter). */
  retryDelayMs?: { initial: number; max: number };
  /**
   * Send at once when nothing is in flight, instead of waiting for the end of the tick to group
   * the tick's callers (for callers that batch already, such as the enforcer's producer thread).
   */
  sendWhenIdle?: boolean;
  /** The error a caller is rejected with (default Error; BatchingPublisher: UnavailableError). */
  errorOf?: (message: string, cause?: unknown) => Error;
  /** A failed attempt that will be resent (log it). */
  onRetry?: (err: unknown, attempt: number, delayMs: number, messages: number) => void;
  /** A failed request given up (non-retriable, no caller waiting, or closing). */
  onFailure?: (err: unknown, messages: number) => void;
  /** A request acknowledged (e.g. to end tracing spans). */
  onAck?: (callers: number) => void;
}

/** One caller's messages. `onSettle` runs once: no error when acknowledged. */
interface Entry {
  topic: string;
  messages: Message[];
  timeoutMs: number;
  settled: boolean;
  timer?: NodeJS.Timeout;
  onSettle: (err?: Error) => void;
}

export class PublishQueue {
  private pending: Entry[] = [];
  private pendingCount = 0;
  private inFlight = 0;
  private scheduled = false;
  private closed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly maxBatch: number;
  private readonly maxInFlight: number;
  private readonly errorOf: (message: string, cause?: unknown) => Error;
  /** Counters for metrics and tests: requests and messages acknowledged, failed attempts. */
  readonly stats = { batches: 0, messages: 0, failures: 0 };

  constructor(
    private readonly sender: BatchSender,
    private readonly opts: PublishQueueOptions = {},
  ) {
    this.maxBatch = opts.maxBatchMessages ?? 500;
    this.maxInFlight = opts.maxInFlight ?? 1;
    this.errorOf =
      opts.errorOf ??
      ((message, cause) => {
        const err = new Error(message);
        if (cause !== undefined) (err as Error & { cause?: unknown }).cause = cause;
        return err;
      });
  }

  /**
   * Queues `messages` for `topic`; `onSettle` is called once, without an error only when a
   * produce request carrying them was acknowledged. `timeoutMs` overrides the queue's deadline.
   */
  enqueue(topic: string, messages: Message[], onSettle: (err?: Error) => void, timeoutMs?: number): void {
    if (this.closed) {
      onSettle(this.errorOf('publisher is closed (shutting down)'));
      return;
    }
    if (messages.length === 0) {
      onSettle();
      return;
    }
    const deadline = timeoutMs ?? this.opts.timeoutMs ?? 10_000;
    const entry: Entry = { topic, messages, timeoutMs: deadline, settled: false, onSettle };
    if (deadline > 0 || timeoutMs !== undefined) {
      entry.timer = setTimeout(() => this.timeout(entry), Math.max(0, deadline));
    }
    this.pending.push(entry);
    this.pendingCount += messages.length;
    if (this.pendingCount >= this.maxBatch || (this.opts.sendWhenIdle === true && this.inFlight === 0)) this.drain();
    else this.schedule();
  }

  /** The promise form of enqueue. */
  publish(topic: string, messages: Message[], timeoutMs?: number): Promise<void> {
    return new Promise<void>((resolve, reject) =>
      this.enqueue(topic, messages, (err) => (err === undefined ? resolve() : reject(err)), timeoutMs),
    );
  }

  /** Resolves when nothing is pending or in flight. */
  async flush(): Promise<void> {
    if (this.pending.length === 0 && this.inFlight === 0) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new messages, stops resending, and waits for the pending ones. */
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

  private timeout(entry: Entry): void {
    if (entry.settled) return;
    const idx = this.pending.indexOf(entry);
    const unsent = idx >= 0;
    if (unsent) {
      this.pending.splice(idx, 1);
      this.pendingCount -= entry.messages.length;
    }
    this.settle(
      entry,
      this.errorOf(
        `Kafka did not acknowledge within ${entry.timeoutMs} ms (${unsent ? 'not sent' : 'outcome unknown'})`,
      ),
    );
    this.notifyIfIdle();
  }

  private settle(entry: Entry, err?: Error): void {
    if (entry.settled) return;
    entry.settled = true;
    if (entry.timer) clearTimeout(entry.timer);
    entry.onSettle(err);
  }

  private drain(): void {
    while (this.pending.length > 0 && this.inFlight < this.maxInFlight) {
      const batch: Entry[] = [];
      let count = 0;
      while (this.pending.length > 0) {
        const next = this.pending[0]!;
        if (batch.length > 0 && count + next.messages.length > this.maxBatch) break;
        batch.push(this.pending.shift()!);
        count += next.messages.length;
      }
      this.pendingCount -= count;
      void this.send(batch);
    }
  }

  /** Sends until acknowledged, failed for good, or no caller in it is waiting any more. */
  private async send(batch: Entry[]): Promise<void> {
    this.inFlight++;
    try {
      for (let attempt = 1; ; attempt++) {
        // Callers past their deadline were answered (outcome unknown): theirs are not resent.
        const live = batch.filter((e) => !e.settled);
        if (live.length === 0) return;
        const count = live.reduce((n, e) => n + e.messages.length, 0);
        try {
          await this.sender.sendBatch(this.requestOf(live));
          this.stats.batches++;
          this.stats.messages += count;
          this.opts.onAck?.(live.length);
          for (const entry of live) this.settle(entry);
          return;
        } catch (err) {
          this.stats.failures++;
          if (!isRetriableKafkaError(err) || this.closed) {
            this.opts.onFailure?.(err, count);
            const error = this.errorOf(
              `Kafka publish failed: ${err instanceof Error ? err.message : String(err)}`,
              err,
            );
            for (const entry of live) this.settle(entry, error);
            return;
          }
          const delays = this.opts.retryDelayMs ?? { initial: 100, max: 1_000 };
          const delay = Math.round(
            Math.min(delays.max, delays.initial * 2 ** (attempt - 1)) * (0.8 + Math.random() * 0.4),
          );
          this.opts.onRetry?.(err, attempt, delay, count);
          await new Promise<void>((r) => setTimeout(r, delay));
        }
      }
    } finally {
      this.inFlight--;
      this.drain();
      this.notifyIfIdle();
    }
  }

  /** One produce request (acks=-1): one TopicMessages per topic, callers' messages in call order. */
  private requestOf(batch: readonly Entry[]): ProducerBatch {
    const byTopic = new Map<string, Message[]>();
    for (const entry of batch) {
      const list = byTopic.get(entry.topic);
      if (list === undefined) byTopic.set(entry.topic, entry.messages.slice());
      else for (const m of entry.messages) list.push(m);
    }
    const topicMessages: TopicMessages[] = [...byTopic].map(([topic, messages]) => ({ topic, messages }));
    return {
      acks: -1,
      topicMessages,
      ...(this.opts.ackTimeoutMs !== undefined ? { timeout: this.opts.ackTimeoutMs } : {}),
      ...(this.opts.compression !== undefined ? { compression: this.opts.compression } : {}),
    };
  }

  private notifyIfIdle(): void {
    if (this.pending.length === 0 && this.inFlight === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      waiters.forEach((w) => w());
    }
  }
}

type KafkajsLevelName = 'error' | 'warn' | 'info' | 'debug';

/**
 * kafkajs' logCreator over a sink (the log bridge of every kafkajs client: a Logger on a main
 * thread, a message to the main thread in the enforcer's producer thread). kafkajs' numeric levels
 * are used as numbers so that this module does not load kafkajs.
 */
export function kafkajsLogCreator(
  sink: (level: KafkajsLevelName, message: string, fields: Record<string, unknown>) => void,
) {
  return () =>
    ({
      namespace,
      level,
      log,
    }: {
      namespace: string;
      level: number;
      log: { message: string; timestamp?: string } & Record<string, unknown>;
    }) => {
      const { message, timestamp: _ts, ...extra } = log;
      // kafkajs logLevel: ERROR 1, WARN 2, INFO 4, DEBUG 5.
      const name: KafkajsLevelName = level <= 1 ? 'error' : level === 2 ? 'warn' : level === 4 ? 'info' : 'debug';
      sink(name, message, { kafka: namespace, ...extra });
    };
}
