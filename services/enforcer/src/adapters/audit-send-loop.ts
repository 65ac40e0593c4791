// The audit producer thread's send loop (audit-producer-worker.ts runs it over a kafkajs producer):
// one produce request at a time, posts acknowledged only by a request that succeeded, retriable
// failures retried with backoff until each post's deadline.
//
// Why the producer is NOT idempotent, and kafkajs does not retry (issue 14, the lost ALLOW): kafkajs
// 2.2.4's idempotent producer takes back the sequence numbers of a request that failed (timed out,
// connection closed) even when the broker had committed it; a later request reusing that exact
// range is then answered DUPLICATE_SEQUENCE_NUMBER, which is a success with nothing written: an
// ALLOW acknowledged for an event that is not in the log. And kafkajs' own retry of a multi-broker
// request resends only to the brokers that have not answered yet: a partition whose leader moved to
// a broker that already answered is never resent, and sendBatch resolves. So the producer runs with
// `idempotent: false` (no sequence numbers, nothing the broker can answer as a duplicate) and
// `retry: { retries: 0 }` (one attempt per sendBatch, every partition in it), and this loop resends
// a failed request whole. A resend after an unknown outcome may write an event twice: the auditor
// chains each event id once (unique (tenant, eventId) index), whenever the copy arrives.
import type { Message, ProducerBatch } from 'kafkajs';
// The retry classification alone (platform's index loads OpenTelemetry, MongoDB, gRPC…).
import { isRetriableKafkaError } from '@authority/platform/dist/src/kafka-retry';

/**
 * The kafkajs producer settings of the audit producer thread (with acks=-1 on every request): no
 * idempotence, no kafkajs retries (see above), one request in flight (per-partition order).
 */
export const AUDIT_PRODUCER_SETTINGS = { idempotent: false, maxInFlightRequests: 1, retry: { retries: 0 } } as const;

export interface SendLoopPost {
  id: number;
  topic: string;
  messages: Message[];
}

export interface SendLoopStats {
  /** Produce requests acknowledged. */
  batches: number;
  /** Messages acknowledged. */
  messages: number;
  /** Produce requests that failed (each attempt). */
  failures: number;
}

/** Timer functions (node:test's mock timers replace the global ones in unit tests). */
interface Timers {
  setTimeout: (fn: () => void, ms: number) => NodeJS.Timeout;
  clearTimeout: (t: NodeJS.Timeout) => void;
}

export interface SendLoopOptions {
  /** One produce attempt (kafkajs sendBatch with retries 0); resolves only when every partition acknowledged. */
  sendBatch: (request: ProducerBatch) => Promise<unknown>;
  /** Most messages per produce request. */
  maxBatchMessages: number;
  /** Answers posts: acknowledged (no error) or failed. */
  onSettle: (ids: number[], error?: string) => void;
  /** A failed attempt that will be retried (log it). */
  onRetry?: (err: unknown, attempt: number, delayMs: number, messages: number) => void;
  /** A failed request given up (non-retriable, or every post in it past its deadline). */
  onFailure?: (err: unknown, messages: number) => void;
  /** First retry delay (default 100 ms), doubling up to maxRetryDelayMs (default 1 s), ±20 % jitter. */
  initialRetryDelayMs?: number;
  maxRetryDelayMs?: number;
  timers?: Timers;
}

interface Entry extends SendLoopPost {
  timer: NodeJS.Timeout;
  settled: boolean;
}

export class AuditSendLoop {
  readonly stats: SendLoopStats = { batches: 0, messages: 0, failures: 0 };
  private readonly queue: Entry[] = [];
  private busy = false;
  private idleWaiters: (() => void)[] = [];
  private readonly timers: Timers;

  constructor(private readonly opts: SendLoopOptions) {
    this.timers = opts.timers ?? {
      setTimeout: (fn, ms) => setTimeout(fn, ms),
      clearTimeout: (t) => clearTimeout(t),
    };
  }

  /** Queues a post; it is answered within `timeoutMs` (a post not acknowledged by then fails). */
  add(post: SendLoopPost, timeoutMs: number): void {
    const entry: Entry = { ...post, settled: false, timer: undefined as unknown as NodeJS.Timeout };
    entry.timer = this.timers.setTimeout(() => this.expire(entry, timeoutMs), Math.max(0, timeoutMs));
    this.queue.push(entry);
    this.pump();
  }

  /** Resolves when nothing is queued or being sent. */
  idle(): Promise<void> {
    if (!this.busy && this.queue.length === 0) return Promise.resolve();
    return new Promise<void>((r) => this.idleWaiters.push(r));
  }

  private expire(entry: Entry, timeoutMs: number): void {
    if (entry.settled) return;
    const idx = this.queue.indexOf(entry);
    if (idx >= 0) this.queue.splice(idx, 1); // never published late
    // In a request (sent or being retried): the outcome is unknown, and it is not sent again.
    this.settle(
      [entry],
      `Kafka did not acknowledge within ${timeoutMs} ms (${idx >= 0 ? 'not sent' : 'outcome unknown'})`,
    );
    this.notifyIfIdle();
  }

  private settle(entries: readonly Entry[], error?: string): void {
    const ids: number[] = [];
    for (const e of entries) {
      if (e.settled) continue;
      e.settled = true;
      this.timers.clearTimeout(e.timer);
      ids.push(e.id);
    }
    if (ids.length > 0) this.opts.onSettle(ids, error);
  }

  private pump(): void {
    if (this.busy || this.queue.length === 0) return;
    const batch: Entry[] = [];
    let count = 0;
    while (this.queue.length > 0) {
      const next = this.queue[0] as Entry;
      if (batch.length > 0 && count + next.messages.length > this.opts.maxBatchMessages) break;
      batch.push(this.queue.shift() as Entry);
      count += next.messages.length;
    }
    this.busy = true;
    void this.send(batch).finally(() => {
      this.busy = false;
      this.pump();
      this.notifyIfIdle();
    });
  }

  /** Sends the batch until it is acknowledged, fails for good, or no post in it is waiting any more. */
  private async send(batch: Entry[]): Promise<void> {
    for (let attempt = 1; ; attempt++) {
      // Posts past their deadline are answered already: they are not resent.
      const live = batch.filter((e) => !e.settled);
      if (live.length === 0) return;
      const count = live.reduce((n, e) => n + e.messages.length, 0);
      try {
        await this.opts.sendBatch(requestOf(live));
        this.stats.batches++;
        this.stats.messages += count;
        this.settle(live);
        return;
      } catch (err) {
        this.stats.failures++;
        if (!isRetriableKafkaError(err)) {
          this.opts.onFailure?.(err, count);
          this.settle(live, `Kafka publish failed: ${messageOf(err)}`);
          return;
        }
        const base = Math.min(
          this.opts.maxRetryDelayMs ?? 1_000,
          (this.opts.initialRetryDelayMs ?? 100) * 2 ** (attempt - 1),
        );
        const delay = Math.round(base * (0.8 + Math.random() * 0.4));
        this.opts.onRetry?.(err, attempt, delay, count);
        await new Promise<void>((r) => this.timers.setTimeout(r, delay));
      }
    }
  }

  private notifyIfIdle(): void {
    if (this.busy || this.queue.length > 0 || this.idleWaiters.length === 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** One produce request (acks=-1) of the posts' messages, grouped by topic, in post order. */
function requestOf(posts: readonly SendLoopPost[]): ProducerBatch {
  const byTopic = new Map<string, Message[]>();
  for (const p of posts) {
    const list = byTopic.get(p.topic);
    if (list === undefined) byTopic.set(p.topic, p.messages.slice());
    else for (const m of p.messages) list.push(m);
  }
  return { acks: -1, topicMessages: [...byTopic].map(([topic, messages]) => ({ topic, messages })) };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
