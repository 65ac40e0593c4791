// The audit producer, off the gRPC event loop: a worker thread owns the kafkajs producer
// (audit-producer-worker.ts), so Kafka record encoding runs on the second core while this thread
// serves gRPC. Here, publish() calls made in the same turn of the event loop are coalesced into
// one post of compact records (one structured clone of a flat string array), and each caller's
// promise settles with its post's ack: resolved once Kafka acknowledged (acks=all), rejected when
// the produce request failed, timed out, or the thread is gone. The audit writers on top keep
// their semantics unchanged (sync: an ALLOW waits for its ack; async: bounded buffer).
//
// Fail closed: while the thread is down, publish() rejects at once (sync ALLOWs become DENY
// AUDIT_UNAVAILABLE, the async buffer retries). A thread that exits unexpectedly fails everything
// in flight and is restarted with backoff; more than `maxRestarts` exits within `restartWindowMs`
// is fatal (`onFatal`: the service exits under runService, like a crashed Kafka consumer).
//
// Size: the main-thread side of one protocol with the worker (coalescing, acks, deadlines,
// restarts); each part reads the same in-flight table, so it stays in one file.
import { join } from 'node:path';
import { Worker, type ResourceLimits } from 'node:worker_threads';
import { endProducerSpan, startProducerSpan, type KafkaSecurity, type Logger } from '@authority/platform';
import type { Span } from '@opentelemetry/api';
import { appendWire, type AuditRecord, type AuditTrace } from '../audit-record';
import { AuditUnavailableError, type AuditPublisher } from '../audit';
import type { AuditProducerWorkerData, FromWorker, ProducerStats, ToWorker } from './audit-producer-worker';

export type { ProducerStats } from './audit-producer-worker';

export interface AuditProducerOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /**
   * The enforcer's event-signing seed (32 bytes) and key id: the thread signs every record with
   * it (platform's eventSigningSeedFromConfig).
   */
  signing: { seed: Uint8Array; kid: string | undefined };
  /** TLS and SASL of the thread's Kafka client (platform's kafkaSecurityFromConfig; default none). */
  security?: KafkaSecurity;
  /** Ack deadline of one publish (AUTHORITY_AUDIT_TIMEOUT). */
  timeoutMs: number;
  /** Most messages per produce request and per post (default 1000). */
  maxBatchMessages?: number;
  /** Produce requests in flight at once (AUTHORITY_AUDIT_PRODUCE_REQUESTS, default 1). */
  maxInFlight?: number;
  /** Restarts allowed within `restartWindowMs` before an exit is fatal (default 5 in 5 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** First restart delay, doubling up to 5 s (default 100 ms). */
  restartDelayMs?: number;
  /** The thread exited more often than allowed (default: log; publishing keeps failing closed). */
  onFatal?: (err: Error) => void;
  /** kafkajs connection and request timeouts (default 3 s and 30 s, as platform's). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
  /** V8 limits of the thread (default: 128 MB old generation, 8 MB young: it holds little). */
  resourceLimits?: ResourceLimits;
  /** The thread's script (tests: a stand-in; default audit-producer-worker.js). */
  workerFile?: string;
}

export interface AuditProducerStats extends ProducerStats {
  /** Times the thread was restarted after an unexpected exit. */
  restarts: number;
}

type State = 'idle' | 'starting' | 'up' | 'down' | 'failed' | 'closing' | 'closed';

/** One publish() call: answered once, by its ack, its failure, or its own deadline. */
interface Waiter {
  resolve: () => void;
  reject: (err: Error) => void;
  /** Date.now() by which the call is answered (AUTHORITY_AUDIT_TIMEOUT after publish()). */
  deadline: number;
  timer: NodeJS.Timeout | undefined;
  settled: boolean;
  /** Its records' slice of the queued wire: [start, end). */
  start: number;
  end: number;
}

interface Queued {
  wire: string[];
  count: number;
  waiters: Waiter[];
  /** Waiters whose deadline passed while queued: their records are not sent. */
  expired: number;
  /** Handed to the thread (or dropped: every caller answered). */
  posted: boolean;
}

interface InFlight {
  waiters: Waiter[];
  count: number;
  timer: NodeJS.Timeout;
}

/** The Kafka security options as plain data (the thread gets a structured clone: no functions). */
export function plainSecurity(security: KafkaSecurity): KafkaSecurity {
  const out: KafkaSecurity = {};
  if (security.ssl !== undefined) {
    out.ssl =
      security.ssl === true
        ? true
        : {
            ...(security.ssl.ca !== undefined ? { ca: security.ssl.ca } : {}),
            ...(security.ssl.cert !== undefined ? { cert: security.ssl.cert } : {}),
            ...(security.ssl.key !== undefined ? { key: security.ssl.key } : {}),
          };
  }
  if (security.sasl !== undefined) {
    const { mechanism, username, password } = security.sasl;
    out.sasl = { mechanism, username, password } as KafkaSecurity['sasl'];
  }
  return out;
}

/**
 * Posts awaiting their ack, beyond the produce requests in flight, before records are held back
 * for the next one (see flush).
 */
const EXTRA_OUTSTANDING_POSTS = 1;
/** Extra time the main thread gives the producer thread's own ack deadline before giving up on it. */
const BACKSTOP_MS = 2_000;
const WORKER_FILE = join(__dirname, 'audit-producer-worker.js');

export class WorkerAuditProducer implements AuditPublisher {
  private state: State = 'idle';
  private worker: Worker | undefined;
  private readonly queue = new Map<string, Queued>();
  private scheduled = false;
  private readonly inFlight = new Map<number, InFlight>();
  private seq = 0;
  private readonly exits: number[] = [];
  private restartTimer: NodeJS.Timeout | undefined;
  private readonly base: AuditProducerStats = { batches: 0, messages: 0, failures: 0, restarts: 0 };
  private current: ProducerStats = { batches: 0, messages: 0, failures: 0 };
  private readonly maxBatch: number;
  private readonly logger: Logger;
  private idleWaiters: (() => void)[] = [];
  private onClosed: (() => void) | undefined;

  constructor(private readonly opts: AuditProducerOptions) {
    this.maxBatch = opts.maxBatchMessages ?? 1000;
    this.logger = opts.logger.child({ component: 'audit-producer' });
  }

  /** Starts the thread and connects its producer (rejects if Kafka cannot be reached). */
  async start(): Promise<void> {
    if (this.state !== 'idle') throw new Error('audit producer already started');
    await this.spawn(true);
  }

  /** Counters of the producer (acknowledged produce requests and messages), across restarts. */
  get stats(): AuditProducerStats {
    return {
      batches: this.base.batches + this.current.batches,
      messages: this.base.messages + this.current.messages,
      failures: this.base.failures + this.current.failures,
      restarts: this.base.restarts,
    };
  }

  /** Whether the thread runs the patched kafkajs produce path (kafkajs-fast.ts). */
  fastProducePath = false;

  /** True while the thread is up and accepting records. */
  get up(): boolean {
    return this.state === 'up';
  }

  /** The current thread (tests: terminate it to simulate a crash). */
  get thread(): Worker | undefined {
    return this.worker;
  }

  publish(topic: string, records: readonly AuditRecord[]): Promise<void> {
    if (this.state !== 'up') return Promise.reject(new AuditUnavailableError(this.unavailableReason()));
    if (records.length === 0) return Promise.resolve();
    // One PRODUCER span `send <topic>` per record, the child of its call's trace context (the
    // traceparent the record carries); that span's context goes to the thread in place of the
    // call's, so the auditor's consumer span is its child. Spans end when the broker acknowledges.
    // A span that does not record (the call's trace is not sampled: the common case) is never
    // exported: the records of one call that share its trace context share one such span's
    // context too, instead of starting (and serializing) one per record.
    const spans: Span[] = [];
    let sharedFrom: AuditTrace | undefined;
    let shared: AuditTrace | undefined;
    const traced = records.map((r): AuditRecord => {
      if (r.trace === sharedFrom) return shared === r.trace ? r : { ...r, trace: shared as AuditTrace };
      const produced = startProducerSpan(topic, { key: r.tenant, headers: r.trace.headers });
      let trace = r.trace;
      if (produced.headers !== undefined && produced.headers !== r.trace.headers) {
        const headers = produced.headers as Record<string, string>;
        trace = { ...r.trace, headers, json: JSON.stringify(headers) };
      }
      if (produced.span !== undefined) spans.push(produced.span);
      else {
        sharedFrom = r.trace;
        shared = trace;
      }
      return trace === r.trace ? r : { ...r, trace };
    });
    return new Promise<void>((resolve, reject) => {
      let q = this.queue.get(topic);
      if (q === undefined) {
        q = { wire: [], count: 0, waiters: [], expired: 0, posted: false };
        this.queue.set(topic, q);
      }
      const start = q.wire.length;
      appendWire(q.wire, traced);
      q.count += records.length;
      const queued = q;
      const waiter: Waiter = {
        resolve: () => {
          for (const span of spans) endProducerSpan(span);
          resolve();
        },
        reject: (err: unknown) => {
          for (const span of spans) endProducerSpan(span, err);
          reject(err);
        },
        deadline: Date.now() + this.opts.timeoutMs,
        timer: undefined,
        settled: false,
        start,
        end: q.wire.length,
      };
      // The deadline bounds the whole wait, queued here behind unanswered posts included.
      waiter.timer = setTimeout(() => this.expireWaiter(waiter, queued), this.opts.timeoutMs);
      q.waiters.push(waiter);
      if (q.count >= this.maxBatch) this.flush();
      else this.schedule();
    });
  }

  /**
   * Stops accepting, waits for what is queued and in flight to be acknowledged (bounded by the ack
   * deadline), lets the thread disconnect its producer, and ends it.
   */
  async close(): Promise<void> {
    if (this.state === 'closed' || this.state === 'closing') return;
    const worker = this.worker;
    const wasUp = this.state === 'up';
    this.state = 'closing';
    if (this.restartTimer !== undefined) clearTimeout(this.restartTimer);
    this.restartTimer = undefined;
    if (worker === undefined || !wasUp) {
      this.failAll('audit producer closed');
      if (worker !== undefined) await worker.terminate();
      this.worker = undefined;
      this.state = 'closed';
      return;
    }
    this.flush(true);
    if (this.inFlight.size > 0) await new Promise<void>((r) => this.idleWaiters.push(r));
    const closed = new Promise<void>((r) => (this.onClosed = r));
    let timer: NodeJS.Timeout | undefined;
    worker.postMessage({ t: 'close' } satisfies ToWorker);
    await Promise.race([closed, new Promise<void>((r) => (timer = setTimeout(r, this.opts.timeoutMs + BACKSTOP_MS)))]);
    clearTimeout(timer);
    await worker.terminate();
    this.worker = undefined;
    this.state = 'closed';
  }

  private unavailableReason(): string {
    switch (this.state) {
      case 'down':
      case 'starting':
        return 'the audit producer is restarting';
      case 'failed':
        return 'the audit producer failed and was not restarted';
      default:
        return 'the audit producer is not running (shutting down)';
    }
  }

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.flush();
    });
  }

  /**
   * Posts what is queued, one post per topic. The thread produces one request at a time, so while
   * MAX_OUTSTANDING_POSTS are unanswered (one being produced, one queued behind it) records wait
   * here and go out together with the next ack: one post per produce request instead of one per
   * event-loop turn (each post is a structured clone and a message event on both threads).
   */
  private flush(force = false): void {
    const worker = this.worker;
    if (this.queue.size === 0 || worker === undefined) return;
    if (!force && this.inFlight.size >= (this.opts.maxInFlight ?? 1) + EXTRA_OUTSTANDING_POSTS) {
      let count = 0;
      for (const q of this.queue.values()) count += q.count;
      if (count < this.maxBatch) return;
    }
    const now = Date.now();
    for (const [topic, q] of this.queue) {
      q.posted = true;
      // Records of callers already answered (deadline passed while queued) are never sent.
      const waiters = q.expired === 0 ? q.waiters : q.waiters.filter((w) => !w.settled);
      if (waiters.length === 0) continue;
      let wire = q.wire;
      if (q.expired > 0) {
        wire = [];
        for (const w of waiters) for (let i = w.start; i < w.end; i++) wire.push(q.wire[i] as string);
      }
      // The thread tries until the latest caller's deadline; the oldest come first in `waiters`.
      const remainingMs = Math.max(0, (waiters[waiters.length - 1] as Waiter).deadline - now);
      const id = ++this.seq;
      const entry: InFlight = {
        waiters,
        count: q.count,
        timer: setTimeout(() => this.expire(id), remainingMs + BACKSTOP_MS),
      };
      this.inFlight.set(id, entry);
      worker.postMessage({ t: 'pub', id, topic, wire, timeoutMs: remainingMs } satisfies ToWorker);
    }
    this.queue.clear();
  }

  /** A caller's deadline passed: it is answered AUDIT_UNAVAILABLE (queued: its records are dropped). */
  private expireWaiter(w: Waiter, q: Queued): void {
    if (w.settled) return;
    const queued = !q.posted;
    if (queued) q.expired++;
    settleWaiter(
      w,
      new AuditUnavailableError(
        `Kafka did not acknowledge within ${this.opts.timeoutMs} ms (${queued ? 'not sent' : 'outcome unknown'})`,
      ),
    );
  }

  /** The thread did not answer a post in time (wedged): fail it; the thread's own deadline passed. */
  private expire(id: number): void {
    const entry = this.inFlight.get(id);
    if (entry === undefined) return;
    this.inFlight.delete(id);
    const err = new AuditUnavailableError(
      `the audit producer did not answer within ${this.opts.timeoutMs + BACKSTOP_MS} ms`,
    );
    for (const w of entry.waiters) settleWaiter(w, err);
    this.flush();
    this.notifyIfIdle();
  }

  private onMessage(worker: Worker, m: FromWorker): void {
    if (worker !== this.worker) return;
    switch (m.t) {
      case 'acks': {
        this.current = m.stats;
        const err = m.error === undefined ? undefined : new AuditUnavailableError(m.error);
        for (const id of m.ids) {
          const entry = this.inFlight.get(id);
          if (entry === undefined) continue;
          this.inFlight.delete(id);
          clearTimeout(entry.timer);
          for (const w of entry.waiters) settleWaiter(w, err);
        }
        this.flush();
        this.notifyIfIdle();
        return;
      }
      case 'log':
        this.logger[m.level](m.fields, m.message);
        return;
      case 'closed':
        this.current = m.stats;
        this.onClosed?.();
        return;
      default:
        return; // ready / fail are handled by spawn()
    }
  }

  private notifyIfIdle(): void {
    if (this.inFlight.size === 0 && this.idleWaiters.length > 0) {
      const waiters = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of waiters) w();
    }
  }

  /** Rejects everything queued and in flight (the thread is gone or closing). */
  private failAll(reason: string): void {
    const err = new AuditUnavailableError(reason);
    for (const q of this.queue.values()) for (const w of q.waiters) settleWaiter(w, err);
    this.queue.clear();
    for (const entry of this.inFlight.values()) {
      clearTimeout(entry.timer);
      for (const w of entry.waiters) settleWaiter(w, err);
    }
    this.inFlight.clear();
    this.notifyIfIdle();
  }

  /** Starts a thread; resolves once it is ready (producer connected when `connect`). */
  private spawn(connect: boolean): Promise<void> {
    this.state = 'starting';
    const data: AuditProducerWorkerData = {
      brokers: this.opts.brokers,
      clientId: this.opts.clientId,
      connect,
      timeoutMs: this.opts.timeoutMs,
      maxBatchMessages: this.maxBatch,
      maxInFlight: this.opts.maxInFlight ?? 1,
      logLevel: this.opts.logger.isLevelEnabled('debug')
        ? 'debug'
        : this.opts.logger.isLevelEnabled('info')
          ? 'info'
          : this.opts.logger.isLevelEnabled('warn')
            ? 'warn'
            : 'error',
      connectionTimeoutMs: this.opts.connectionTimeoutMs ?? 3_000,
      requestTimeoutMs: this.opts.requestTimeoutMs ?? 30_000,
      signing: this.opts.signing,
      security: plainSecurity(this.opts.security ?? {}),
    };
    const worker = new Worker(this.opts.workerFile ?? WORKER_FILE, {
      workerData: data,
      resourceLimits: this.opts.resourceLimits ?? { maxOldGenerationSizeMb: 128, maxYoungGenerationSizeMb: 8 },
    });
    this.worker = worker;
    let lastError: Error | undefined;
    return new Promise<void>((resolve, reject) => {
      let started = false;
      worker.on('message', (m: FromWorker) => {
        if (!started && m.t === 'ready') {
          started = true;
          this.fastProducePath = m.fastProducePath;
          if (!m.fastProducePath)
            this.logger.warn(
              'kafkajs is not the patched version (patches/kafkajs+2.2.4.patch, npm ci applies it): audit records use its own (slower) encoder',
            );
          if (this.state === 'starting') this.state = 'up';
          resolve();
          return;
        }
        if (!started && m.t === 'fail') {
          lastError = new Error(`audit producer could not connect to Kafka: ${m.message}`);
          return;
        }
        this.onMessage(worker, m);
      });
      worker.on('error', (err) => {
        lastError = err;
      });
      worker.on('exit', (code) => {
        if (worker !== this.worker) return;
        this.worker = undefined;
        const err = lastError ?? new Error(`audit producer thread exited with code ${code}`);
        if (!started) {
          started = true;
          reject(err);
        }
        this.onExit(err);
      });
    });
  }

  private onExit(err: Error): void {
    this.base.batches += this.current.batches;
    this.base.messages += this.current.messages;
    this.base.failures += this.current.failures;
    this.current = { batches: 0, messages: 0, failures: 0 };
    if (this.state === 'closing' || this.state === 'closed') {
      this.failAll(`the audit producer thread stopped while closing: ${err.message}`);
      this.onClosed?.();
      return;
    }
    this.failAll(`the audit producer thread stopped: ${err.message}`);
    const first = this.state === 'starting' && this.base.restarts === 0 && this.exits.length === 0;
    this.state = 'down';
    if (first) return; // start() rejects; nothing to restart
    const now = Date.now();
    const window = this.opts.restartWindowMs ?? 5 * 60_000;
    while (this.exits.length > 0 && (this.exits[0] as number) < now - window) this.exits.shift();
    this.exits.push(now);
    const max = this.opts.maxRestarts ?? 5;
    if (this.exits.length > max) {
      this.state = 'failed';
      this.logger.error(
        { err, exits_in_window: this.exits.length },
        'audit producer thread keeps failing; not restarting',
      );
      (this.opts.onFatal ?? (() => undefined))(err);
      return;
    }
    const delay = Math.min(5_000, (this.opts.restartDelayMs ?? 100) * 2 ** (this.exits.length - 1));
    this.logger.error({ err, restart_in_ms: delay }, 'audit producer thread stopped; failing closed until it is back');
    this.restartTimer = setTimeout(() => {
      this.restartTimer = undefined;
      if (this.state !== 'down') return;
      this.base.restarts++;
      this.spawn(false).then(
        () => this.logger.info('audit producer thread restarted'),
        () => undefined, // onExit handles the next attempt
      );
    }, delay);
  }
}

/** Answers a caller once: resolved (no error) or rejected; later answers are ignored. */
function settleWaiter(w: Waiter, err?: Error): void {
  if (w.settled) return;
  w.settled = true;
  if (w.timer !== undefined) clearTimeout(w.timer);
  if (err === undefined) w.resolve();
  else w.reject(err);
}
