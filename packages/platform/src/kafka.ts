// The EventBus port and its kafkajs adapter: an idempotent, batching producer (acks=all),
// CloudEvents binary-mode headers with W3C trace context, a PRODUCER span per published message
// (parented on the trace context the message carries), crash-bounded consumers with their lag,
// catch-up replay of compacted topics to the high-water mark, and idempotent topic creation.
import { readFileSync } from 'node:fs';
import { EVENT_SIGNATURE_HEADER, randomId, signEvent, type EventSigningKey } from '@authority/core';
import {
  context,
  INVALID_SPANID,
  INVALID_TRACEID,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type Context,
  type Meter,
  type Span,
  type TextMapGetter,
  type Tracer,
} from '@opentelemetry/api';
import {
  Kafka,
  logLevel as KafkaLogLevel,
  Partitioners,
  type Admin,
  type CompressionTypes,
  type Consumer,
  type ConsumerConfig,
  type EachBatchHandler,
  type EachMessagePayload,
  type IHeaders,
  type KafkaConfig,
  type Message,
  type Producer,
  type ProducerBatch,
  type TopicMessages,
} from 'kafkajs';
import { checkKafkaSecurity, ConfigError, type KafkaSaslMechanism, type Secret } from './config';
import { UnavailableError } from './errors';
import { isRetriableKafkaError, retryKafka } from './kafka-retry';
import type { Logger } from './logger';
import { METRIC_NAMES, PLATFORM_SCOPE, withSpan } from './telemetry';

// ---------------------------------------------------------------------------------------------
// Topics.

export interface AuthorityTopics {
  keys: string;
  policies: string;
  revocations: string;
  audit: string;
  checkpoints: string;
  /** What the auditor chained (ChainRecord per entry), for subscribers. */
  chain: string;
}

/** The topic names under a prefix (default `authority.`). */
export function topics(prefix = 'authority.'): AuthorityTopics {
  return {
    keys: `${prefix}keys`,
    policies: `${prefix}policies`,
    revocations: `${prefix}revocations`,
    audit: `${prefix}audit`,
    checkpoints: `${prefix}checkpoints`,
    chain: `${prefix}chain`,
  };
}

export interface TopicSpec {
  topic: string;
  partitions: number;
  /** `cleanup.policy=compact` (state topics: keys, policies, revocations). */
  compacted: boolean;
  /** Default: the broker's default (-1). */
  replicationFactor?: number;
  /** Extra topic configs, e.g. `{ 'retention.ms': '-1' }`. */
  config?: Record<string, string>;
}

/** The specs of all Authority topics: keys/policies/revocations compacted; audit/checkpoints/chain not. */
export function authorityTopicSpecs(
  prefix = 'authority.',
  opts: { partitions?: number; replicationFactor?: number } = {},
): TopicSpec[] {
  const t = topics(prefix);
  const partitions = opts.partitions ?? 3;
  const rf = opts.replicationFactor !== undefined ? { replicationFactor: opts.replicationFactor } : {};
  return [
    { topic: t.keys, partitions, compacted: true, ...rf },
    { topic: t.policies, partitions, compacted: true, ...rf },
    { topic: t.revocations, partitions, compacted: true, ...rf },
    { topic: t.audit, partitions, compacted: false, ...rf },
    { topic: t.checkpoints, partitions, compacted: false, ...rf },
    { topic: t.chain, partitions, compacted: false, ...rf },
  ];
}

/**
 * Creates the topics that do not exist yet (idempotent, safe to race with another instance);
 * warns when an existing topic's partition count differs from the spec.
 */
export async function ensureTopics(admin: Admin, specs: readonly TopicSpec[], logger?: Logger): Promise<string[]> {
  const existing = new Set(await admin.listTopics());
  const missing = specs.filter((s) => !existing.has(s.topic));
  if (missing.length > 0) {
    try {
      await admin.createTopics({
        waitForLeaders: true,
        topics: missing.map((s) => ({
          topic: s.topic,
          numPartitions: s.partitions,
          replicationFactor: s.replicationFactor ?? -1,
          configEntries: Object.entries({ 'cleanup.policy': s.compacted ? 'compact' : 'delete', ...s.config }).map(
            ([name, value]) => ({ name, value }),
          ),
        })),
      });
    } catch (err) {
      // Another instance may have created some of them between listTopics and createTopics.
      const after = new Set(await admin.listTopics());
      if (!missing.every((s) => after.has(s.topic))) throw err;
    }
  }
  const present = specs.filter((s) => existing.has(s.topic));
  if (present.length > 0 && logger) {
    const meta = await admin.fetchTopicMetadata({ topics: present.map((s) => s.topic) });
    for (const t of meta.topics) {
      const spec = present.find((s) => s.topic === t.name);
      if (spec && t.partitions.length !== spec.partitions) {
        logger.warn(
          { topic: t.name, partitions: t.partitions.length, expected: spec.partitions },
          'topic partition count differs from spec',
        );
      }
    }
  }
  if (missing.length > 0) logger?.info({ topics: missing.map((s) => s.topic) }, 'created Kafka topics');
  return missing.map((s) => s.topic);
}

// ---------------------------------------------------------------------------------------------
// CloudEvents (Kafka protocol binding, binary mode) + W3C trace context in headers.

export interface CloudEventAttributes {
  id: string;
  type: string;
  source: string;
  /** The tenant. */
  subject: string;
  /** A Date, an RFC 3339 string, or epoch seconds. */
  time: Date | string | number;
  /** Default `application/json` (the proto3 JSON form of the event message). */
  contentType?: string;
}

/**
 * `ce_specversion`, `ce_id`, `ce_type`, `ce_source`, `ce_time`, `ce_subject`, `content-type`,
 * plus `traceparent`/`tracestate` (and `baggage`) from the active (or given) OTel context.
 */
export function cloudEventHeaders(
  attrs: CloudEventAttributes,
  ctx: Context = context.active(),
): Record<string, string> {
  const time =
    attrs.time instanceof Date
      ? attrs.time.toISOString()
      : typeof attrs.time === 'number'
        ? new Date(attrs.time * 1000).toISOString()
        : attrs.time;
  const headers: Record<string, string> = {
    ce_specversion: '1.0',
    ce_id: attrs.id,
    ce_type: attrs.type,
    ce_source: attrs.source,
    ce_time: time,
    ce_subject: attrs.subject,
    'content-type': attrs.contentType ?? 'application/json',
  };
  propagation.inject(ctx, headers);
  return headers;
}

/** One header as a string (Kafka delivers Buffers); the first value when repeated. */
export function headerString(headers: IHeaders | undefined, key: string): string | undefined {
  const v = headers?.[key];
  const first = Array.isArray(v) ? v[0] : v;
  if (first === undefined) return undefined;
  return typeof first === 'string' ? first : first.toString('utf8');
}

export interface ParsedCloudEvent {
  specversion?: string;
  id?: string;
  type?: string;
  source?: string;
  time?: string;
  subject?: string;
  contentType?: string;
}

/** The CloudEvents attributes of a consumed message (absent ones are undefined). */
export function parseCloudEventHeaders(headers: IHeaders | undefined): ParsedCloudEvent {
  const out: ParsedCloudEvent = {};
  const set = (k: keyof ParsedCloudEvent, h: string) => {
    const v = headerString(headers, h);
    if (v !== undefined) out[k] = v;
  };
  set('specversion', 'ce_specversion');
  set('id', 'ce_id');
  set('type', 'ce_type');
  set('source', 'ce_source');
  set('time', 'ce_time');
  set('subject', 'ce_subject');
  set('contentType', 'content-type');
  return out;
}

const headersGetter: TextMapGetter<IHeaders | undefined> = {
  keys: (h) => Object.keys(h ?? {}),
  get: (h, key) => headerString(h, key),
};

/** The W3C trace context carried by Kafka headers (Buffer-aware), rooted at ROOT_CONTEXT. */
export function extractTraceContext(headers: IHeaders | undefined): Context {
  return propagation.extract(ROOT_CONTEXT, headers, headersGetter);
}

/**
 * The message with its producer signature (`authority-sig`, core's signEvent over the record key,
 * the value and the CloudEvents headers). Sign last: a signed field changed afterwards breaks the
 * signature (the trace headers are not signed, so the producer span may still replace them).
 */
export function withEventSignature(message: EventMessage, key: EventSigningKey): EventMessage {
  const headers = { ...message.headers };
  delete headers[EVENT_SIGNATURE_HEADER];
  return {
    ...message,
    headers: { ...headers, [EVENT_SIGNATURE_HEADER]: signEvent({ ...message, headers }, key) },
  };
}

// ---------------------------------------------------------------------------------------------
// Producer spans (OpenTelemetry messaging semantic conventions).

interface SendSpanShape {
  name: string;
  attributes: Attributes;
}

/** Span name and frozen attributes of `send <topic>`, shared by every message of the topic. */
const sendShapes = new Map<string, SendSpanShape>();
function sendShape(topic: string): SendSpanShape {
  let shape = sendShapes.get(topic);
  if (shape === undefined) {
    shape = {
      name: `send ${topic}`,
      attributes: Object.freeze({
        'messaging.system': 'kafka',
        'messaging.destination.name': topic,
        'messaging.operation.type': 'send',
        'messaging.operation.name': 'send',
      }),
    };
    if (sendShapes.size < 1000) sendShapes.set(topic, shape);
  }
  return shape;
}

/** A message as far as its producer span needs it (EventMessage and kafkajs Message both fit). */
export interface ProducedMessageLike {
  key?: string | Buffer | null;
  value?: string | Buffer | null;
  headers?: Record<string, string | Buffer | (string | Buffer)[] | undefined>;
  partition?: number;
}

export interface ProducerSpan {
  /**
   * The message's headers with the span's trace context (`traceparent`, `tracestate`, `baggage`)
   * in place of the caller's: a copy when the context changed, the same object otherwise (no
   * telemetry started, or no trace context at all).
   */
  headers: Record<string, string | Buffer> | undefined;
  /** The span when it records: end it with endProducerSpan once the broker acknowledged. */
  span: Span | undefined;
}

/**
 * Starts the PRODUCER span `send <topic>` of one message. Its parent is the trace context the
 * message's own headers carry (`traceparent`, as cloudEventHeaders wrote it where the event was
 * made), or the active context when they carry none, so a record built in one place (a request
 * handler) and produced in another (a batch, a timer, another thread's queue) still joins the
 * trace it belongs to. The span's context replaces the caller's in the returned headers, so the
 * consumer's span becomes the child of this one.
 *
 * Cheap when nothing records: in propagate-only mode the span is non-recording (not sampled),
 * but it still has a fresh span id in the same trace, so trace ids flow unchanged; without
 * telemetry the no-op tracer returns the parent's context and the headers are left untouched.
 */
export function startProducerSpan(
  topic: string,
  message: ProducedMessageLike,
  active: Context = context.active(),
): ProducerSpan {
  return producerSpanWith(platformTracer(), topic, message, active);
}

let tracerOwner: unknown;
let cachedTracer: Tracer | undefined;
/**
 * The platform's tracer, looked up again only when the global provider changes (telemetry
 * started or shut down): a ProxyTracer taken before a provider is registered follows it.
 */
function platformTracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (cachedTracer === undefined || provider !== tracerOwner) {
    tracerOwner = provider;
    cachedTracer = provider.getTracer(PLATFORM_SCOPE);
  }
  return cachedTracer;
}

/** The context extracted from the last message's trace headers (consecutive messages often share them). */
interface ExtractCache {
  /** The tracer provider at extraction (telemetry restarted: extract again). */
  owner: unknown;
  key: string;
  context: Context;
  spanId: string | undefined;
}

function producerSpanWith(
  tracer: Tracer,
  topic: string,
  message: ProducedMessageLike,
  active: Context,
  cache?: { last?: ExtractCache },
): ProducerSpan {
  const headers = message.headers as Record<string, string | Buffer> | undefined;
  let parent = active;
  let parentSpanId: string | undefined;
  const traceparent = headers?.['traceparent'];
  if (traceparent !== undefined) {
    const tracestate = headers!['tracestate'];
    const baggage = headers!['baggage'];
    const key =
      tracestate === undefined && baggage === undefined
        ? String(traceparent)
        : `${String(traceparent)}\n${String(tracestate ?? '')}\n${String(baggage ?? '')}`;
    let hit = cache?.last;
    if (hit === undefined || hit.key !== key || hit.owner !== tracerOwner) {
      const context = propagation.extract(ROOT_CONTEXT, headers, headersGetter);
      const psc = trace.getSpanContext(context);
      // Propagators only return well-formed ids (the W3C one checks them with its own pattern).
      const valid = psc !== undefined && psc.spanId !== INVALID_SPANID && psc.traceId !== INVALID_TRACEID;
      hit = { owner: tracerOwner, key, context, spanId: valid ? psc.spanId : undefined };
      if (cache) cache.last = hit;
    }
    if (hit.spanId !== undefined) {
      parent = hit.context;
      parentSpanId = hit.spanId;
    }
  }
  if (parent === active) parentSpanId = trace.getSpanContext(active)?.spanId;
  const shape = sendShape(topic);
  // No attributes at start: a non-recording span would only validate and drop them.
  const span = tracer.startSpan(shape.name, { kind: SpanKind.PRODUCER }, parent);
  const sc = span.spanContext();
  // The no-op tracer (telemetry not started) hands back the parent's own context: nothing new to
  // propagate, and nothing to end.
  if (sc.spanId === parentSpanId || sc.spanId === INVALID_SPANID) return { headers, span: undefined };
  const out: Record<string, string | Buffer> = headers === undefined ? {} : { ...headers };
  propagation.inject(trace.setSpan(parent, span), out);
  if (!span.isRecording()) return { headers: out, span: undefined };
  span.setAttributes(shape.attributes);
  const extra: Attributes = {};
  if (typeof message.key === 'string') extra['messaging.kafka.message.key'] = message.key;
  const id = headerString(headers, 'ce_id');
  if (id !== undefined) extra['messaging.message.id'] = id;
  if (message.partition !== undefined) extra['messaging.destination.partition.id'] = String(message.partition);
  if (message.value === null) extra['messaging.kafka.message.tombstone'] = true;
  span.setAttributes(extra);
  return { headers: out, span };
}

/** Ends a producer span: OK when acknowledged, ERROR (with `error.type`) when `err` is given. */
export function endProducerSpan(span: Span | undefined, err?: unknown): void {
  if (span === undefined) return;
  if (err !== undefined) {
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
    span.setAttribute('error.type', err instanceof Error ? err.name : 'Error');
  }
  span.end();
}

// ---------------------------------------------------------------------------------------------
// The port.

export interface EventMessage {
  /** Partitioning key (the tenant, or tenant/id for compacted topics). */
  key: string | Buffer | null;
  /** null = tombstone (deletes the key from a compacted topic). */
  value: Buffer | string | null;
  headers?: Record<string, string | Buffer>;
  partition?: number;
}

export interface ConsumedMessage {
  topic: string;
  partition: number;
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  headers: IHeaders;
  timestamp: string;
}

export type MessageHandler = (message: ConsumedMessage) => Promise<void> | void;

export interface ConsumeOptions {
  groupId: string;
  topics: string[];
  fromBeginning?: boolean;
  /** Per message; runs inside a CONSUMER span that is a child of the producer's context. */
  eachMessage?: (message: ConsumedMessage, payload: EachMessagePayload) => Promise<void>;
  /** Per batch (kafkajs payload); the handler resolves offsets / commits itself. */
  eachBatch?: EachBatchHandler;
  /** Default true. With false, commit via `handle.consumer.commitOffsets` after durable work. */
  autoCommit?: boolean;
  eachBatchAutoResolve?: boolean;
  partitionsConsumedConcurrently?: number;
  /** Restarts allowed within `restartWindowMs` before the crash is fatal (default 5 in 5 min). */
  maxRestarts?: number;
  restartWindowMs?: number;
  /** Extra kafkajs consumer settings. */
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
}

export interface ConsumerHandle {
  consumer: Consumer;
  groupId: string;
  /** When the last fetch round-trip returned (ms epoch); staleness checks use it. */
  lastFetchAt(): number | undefined;
  /**
   * Consumer lag of each partition assigned to this consumer: the high-water mark minus the next
   * offset to process (after the last processed batch or committed offset). High-water marks come
   * from fetched batches and, when older than a few seconds (idle or stuck consumer), from the
   * broker; an unknown position from the group's committed offset. Empty before the group join
   * and after disconnect. KafkaEventBus.observeConsumerLag exports it as a metric.
   */
  lag(): Promise<PartitionLag[]>;
  disconnect(): Promise<void>;
}

/** One partition's consumer lag (see ConsumerHandle.lag). */
export interface PartitionLag {
  topic: string;
  partition: number;
  /** The consumer group, or `<clientId>.catchup` for catchUp's generated groups (a stable metric label). */
  group: string;
  /** The partition's high-water mark (offset of the next record to be written). */
  highWatermark: string;
  /** The next offset this consumer will process. */
  position: string;
  /** highWatermark − position (at least 0), in offsets. */
  lag: number;
}

export interface CatchUpOptions {
  topics: string[];
  /**
   * Default (recommended): a unique group per call, deleted on disconnect. Never commits, so
   * every start replays from the beginning. A given groupId must still be unique to this
   * process: a shared group would split the partitions and never reach every target.
   */
  groupId?: string;
  consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
}

export interface CatchUpHandle extends ConsumerHandle {
  /** Resolves once every partition reached the high-water mark captured at start. */
  caughtUp: Promise<void>;
  isCaughtUp(): boolean;
  /** The high-water marks captured at start, `topic:partition` → offset. */
  targets: ReadonlyMap<string, string>;
}

/** Publishing and subscribing as services see it (kafkajs is behind this). */
export interface EventBus {
  /** Resolves when every message is acknowledged by all in-sync replicas (acks=all). */
  publish(topic: string, messages: EventMessage[]): Promise<void>;
  consume(opts: ConsumeOptions): Promise<ConsumerHandle>;
  catchUp(opts: CatchUpOptions, handler: MessageHandler): Promise<CatchUpHandle>;
  disconnect(): Promise<void>;
}

// ---------------------------------------------------------------------------------------------
// BatchingPublisher.

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

// ---------------------------------------------------------------------------------------------
// Consumer lag.

interface LagTrackerOptions {
  groupId: string;
  /** The group label of PartitionLag (catchUp's generated groups share one). */
  group: string;
  fromBeginning: boolean;
  /** A connected admin client (shared by the bus). */
  admin: () => Promise<Admin>;
  /** High-water marks older than this are fetched from the broker (default 5 s). */
  maxAgeMs?: number;
}

/**
 * Follows one consumer's progress from kafkajs instrumentation events (GROUP_JOIN: the assigned
 * partitions; END_BATCH_PROCESS: the batch's high-water mark and last offset; COMMIT_OFFSETS) and
 * fills the gaps from the broker when asked (lag()).
 */
export class ConsumerLagTracker {
  private assignment: Map<string, number[]> | undefined;
  private readonly high = new Map<string, { offset: bigint; low?: bigint; at: number }>();
  private readonly position = new Map<string, bigint>();
  private refreshing: Promise<void> | undefined;
  private closed = false;

  constructor(private readonly opts: LagTrackerOptions) {}

  /** The consumer (re)joined its group with this assignment. */
  joined(assignment: Record<string, number[]>): void {
    this.assignment = new Map(Object.entries(assignment));
    // A partition that left this member may have moved on elsewhere: forget where we were.
    for (const key of [...this.position.keys()]) {
      const i = key.lastIndexOf(':');
      if (!this.assignment.get(key.slice(0, i))?.includes(Number(key.slice(i + 1)))) this.position.delete(key);
    }
  }

  /** A batch was processed up to `lastOffset`; the partition's high-water mark was `highWatermark`. */
  processed(topic: string, partition: number, lastOffset: string, highWatermark: string): void {
    const key = `${topic}:${partition}`;
    this.advance(key, BigInt(lastOffset) + 1n);
    const hw = BigInt(highWatermark);
    if (hw >= 0n) this.high.set(key, { offset: hw, at: Date.now() });
  }

  /** Offsets committed (the next offsets to consume). */
  committed(topicOffsets: { topic: string; partitions: { partition: number; offset: string }[] }[]): void {
    for (const t of topicOffsets)
      for (const p of t.partitions) {
        const o = BigInt(p.offset);
        if (o >= 0n) this.advance(`${t.topic}:${p.partition}`, o);
      }
  }

  close(): void {
    this.closed = true;
  }

  private advance(key: string, next: bigint): void {
    const cur = this.position.get(key);
    if (cur === undefined || next > cur) this.position.set(key, next);
  }

  async lag(): Promise<PartitionLag[]> {
    if (this.closed || this.assignment === undefined) return [];
    const maxAge = this.opts.maxAgeMs ?? 5_000;
    const now = Date.now();
    const stale = new Set<string>();
    for (const [topic, partitions] of this.assignment) {
      for (const p of partitions) {
        const key = `${topic}:${p}`;
        const h = this.high.get(key);
        if (h === undefined || now - h.at > maxAge || !this.position.has(key)) stale.add(topic);
      }
    }
    if (stale.size > 0) {
      this.refreshing ??= this.refresh([...stale]).finally(() => (this.refreshing = undefined));
      // Whatever the broker answered (or not): report what is known.
      await this.refreshing.catch(() => undefined);
    }
    const out: PartitionLag[] = [];
    for (const [topic, partitions] of this.assignment) {
      for (const partition of partitions) {
        const key = `${topic}:${partition}`;
        const h = this.high.get(key);
        const pos = this.position.get(key);
        if (h === undefined || pos === undefined) continue;
        const lag = h.offset > pos ? Number(h.offset - pos) : 0;
        out.push({
          topic,
          partition,
          group: this.opts.group,
          highWatermark: h.offset.toString(),
          position: pos.toString(),
          lag,
        });
      }
    }
    return out;
  }

  private async refresh(topicList: string[]): Promise<void> {
    const admin = await this.opts.admin();
    const at = Date.now();
    for (const topic of topicList) {
      // A leader change during the fetch is retriable: retry it (kafkajs refreshes metadata).
      for (const p of await retryKafka(() => admin.fetchTopicOffsets(topic), { attempts: 4 })) {
        this.high.set(`${topic}:${p.partition}`, { offset: BigInt(p.high), low: BigInt(p.low), at });
      }
    }
    const unknown = topicList.filter((topic) =>
      (this.assignment?.get(topic) ?? []).some((p) => !this.position.has(`${topic}:${p}`)),
    );
    if (unknown.length === 0) return;
    const committed = await admin.fetchOffsets({ groupId: this.opts.groupId, topics: unknown });
    for (const t of committed) {
      for (const p of t.partitions) {
        const key = `${t.topic}:${p.partition}`;
        if (this.position.has(key) || !(this.assignment?.get(t.topic) ?? []).includes(p.partition)) continue;
        const o = BigInt(p.offset);
        const h = this.high.get(key);
        // Nothing committed: the consumer starts at the beginning (low) or the end (high).
        const start = o >= 0n ? o : this.opts.fromBeginning ? (h?.low ?? 0n) : (h?.offset ?? 0n);
        this.position.set(key, start);
      }
    }
  }
}

// ---------------------------------------------------------------------------------------------
// The kafkajs adapter.

export interface CreateKafkaOptions {
  brokers: string[];
  clientId: string;
  logger: Logger;
  /** Called when a consumer crashed for good (no restart left); default: log fatal and exit(70). */
  onFatal?: (err: Error) => void;
  publisher?: BatchingPublisherOptions;
  ssl?: KafkaConfig['ssl'];
  sasl?: KafkaConfig['sasl'];
  /** kafkajs connection timeout (default 3 s) and request timeout (default 30 s). */
  connectionTimeoutMs?: number;
  requestTimeoutMs?: number;
}

/**
 * kafkajs' `ssl` and `sasl` client options, as plain data (a worker thread can be given them). The
 * certificate files are read here, at start.
 */
export interface KafkaSecurity {
  ssl?: true | { ca?: string; cert?: string; key?: string };
  sasl?: KafkaSasl;
}

/** One SASL mechanism with its credentials (kafkajs' SASLOptions for the username/password mechanisms). */
export type KafkaSasl = {
  [M in KafkaSaslMechanism]: { mechanism: M; username: string; password: string };
}[KafkaSaslMechanism];

/** The Kafka security variables of the common schema (config.ts kafkaSecurityConfigShape). */
export interface KafkaSecurityConfig {
  KAFKA_SSL?: boolean | undefined;
  KAFKA_SSL_CA_FILE?: string | undefined;
  KAFKA_SSL_CERT_FILE?: string | undefined;
  KAFKA_SSL_KEY_FILE?: string | undefined;
  KAFKA_SASL_MECHANISM?: KafkaSaslMechanism | undefined;
  KAFKA_SASL_USERNAME?: string | undefined;
  KAFKA_SASL_PASSWORD?: Secret | undefined;
  KAFKA_SASL_PASSWORD_FILE?: Secret | undefined;
}

/**
 * The kafkajs security options of a parsed config. Throws ConfigError on an incomplete or unsafe
 * combination (checkKafkaSecurity, again: a config made without the checks must not connect in a
 * way the operator did not ask for).
 */
export function kafkaSecurityFromConfig(config: KafkaSecurityConfig): KafkaSecurity {
  const issues = checkKafkaSecurity(config as Record<string, unknown>);
  if (issues.length > 0) throw new ConfigError(issues);
  const out: KafkaSecurity = {};
  if (config.KAFKA_SSL === true) {
    const files: { ca?: string; cert?: string; key?: string } = {};
    if (config.KAFKA_SSL_CA_FILE !== undefined) files.ca = readFileSync(config.KAFKA_SSL_CA_FILE, 'utf8');
    if (config.KAFKA_SSL_CERT_FILE !== undefined) files.cert = readFileSync(config.KAFKA_SSL_CERT_FILE, 'utf8');
    if (config.KAFKA_SSL_KEY_FILE !== undefined) files.key = readFileSync(config.KAFKA_SSL_KEY_FILE, 'utf8');
    out.ssl = Object.keys(files).length === 0 ? true : files;
  }
  if (config.KAFKA_SASL_MECHANISM !== undefined) {
    const password = (config.KAFKA_SASL_PASSWORD ?? config.KAFKA_SASL_PASSWORD_FILE) as Secret;
    out.sasl = {
      mechanism: config.KAFKA_SASL_MECHANISM,
      username: config.KAFKA_SASL_USERNAME as string,
      password: password.reveal(),
    } as KafkaSasl;
  }
  return out;
}

function kafkaLogCreator(logger: Logger) {
  return () =>
    ({
      namespace,
      level,
      log,
    }: {
      namespace: string;
      level: KafkaLogLevel;
      log: { message: string; timestamp?: string } & Record<string, unknown>;
    }) => {
      const { message, timestamp: _ts, ...extra } = log;
      const fields = { kafka: namespace, ...extra };
      if (level === KafkaLogLevel.ERROR) logger.error(fields, message);
      else if (level === KafkaLogLevel.WARN) logger.warn(fields, message);
      else if (level === KafkaLogLevel.INFO) logger.info(fields, message);
      else logger.debug(fields, message);
    };
}

function toConsumed(topic: string, partition: number, m: EachMessagePayload['message']): ConsumedMessage {
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

/** kafkajs behind the EventBus port, plus the admin and lifecycle operations services need. */
export class KafkaEventBus implements EventBus {
  readonly kafka: Kafka;
  readonly publisher: BatchingPublisher;
  private readonly producer: Producer;
  private producerConnected: Promise<void> | undefined;
  private readonly consumers = new Set<ConsumerHandle>();
  private readonly onFatal: (err: Error) => void;
  /** A connected admin client kept for consumer-lag refreshes (closed with the consumers). */
  private lagAdmin: Promise<Admin> | undefined;

  constructor(private readonly opts: CreateKafkaOptions) {
    const logger = opts.logger.child({ component: 'kafka' });
    this.kafka = new Kafka({
      clientId: opts.clientId,
      brokers: opts.brokers,
      connectionTimeout: opts.connectionTimeoutMs ?? 3_000,
      requestTimeout: opts.requestTimeoutMs ?? 30_000,
      logLevel: KafkaLogLevel.INFO,
      logCreator: kafkaLogCreator(logger),
      // Copies: kafkajs adds its authentication provider (a function) to the SASL options it is
      // given, and the caller's objects may be handed on (the enforcer's producer thread clones them).
      ...(opts.ssl !== undefined ? { ssl: typeof opts.ssl === 'object' ? { ...opts.ssl } : opts.ssl } : {}),
      ...(opts.sasl !== undefined ? { sasl: { ...opts.sasl } } : {}),
    });
    // acks=all, one request in flight, not idempotent and no kafkajs retries: kafkajs 2.2.4 can
    // answer success for records that are not in the log (an idempotent producer reusing the
    // sequence numbers of a request whose outcome was unknown; a retry that skips a partition whose
    // leader moved to a broker that already answered). BatchingPublisher resends a failed batch
    // whole; a resend may write a record twice, consumers are idempotent (issue 14, docs/operations.md).
    this.producer = this.kafka.producer({
      idempotent: false,
      maxInFlightRequests: 1,
      retry: { retries: 0 },
      allowAutoTopicCreation: false,
      createPartitioner: Partitioners.DefaultPartitioner,
    });
    const sender: BatchSender = {
      sendBatch: async (batch) => {
        await this.connectProducer();
        return this.producer.sendBatch(batch);
      },
    };
    this.publisher = new BatchingPublisher(sender, { logger, ...opts.publisher });
    this.onFatal =
      opts.onFatal ??
      ((err) => {
        opts.logger.fatal({ err }, 'Kafka consumer crashed and will not restart; exiting');
        opts.logger.flush();
        process.exit(70);
      });
  }

  /** Connects the producer (call at start so a bad broker list fails fast). */
  connectProducer(): Promise<void> {
    this.producerConnected ??= this.producer.connect().catch((err: unknown) => {
      this.producerConnected = undefined;
      throw err;
    });
    return this.producerConnected;
  }

  publish(topic: string, messages: EventMessage[]): Promise<void> {
    return this.publisher.publish(topic, messages);
  }

  /**
   * Runs `fn` with a connected admin client, disconnecting afterwards. A retriable Kafka error
   * (a leader moved, a broker restarting) runs it again on a fresh client, with backoff
   * (retryKafka), so `fn` must be safe to repeat (reads, idempotent creates).
   */
  withAdmin<T>(fn: (admin: Admin) => Promise<T>): Promise<T> {
    return retryKafka(
      async () => {
        const admin = this.kafka.admin();
        await admin.connect();
        try {
          return await fn(admin);
        } finally {
          await admin.disconnect().catch(() => undefined);
        }
      },
      {
        onRetry: (err, attempt, delayMs) =>
          this.opts.logger.warn({ err, attempt, retry_ms: delayMs }, 'kafka admin call failed (retriable); retrying'),
      },
    );
  }

  ensureTopics(specs: readonly TopicSpec[]): Promise<string[]> {
    return this.withAdmin((admin) => ensureTopics(admin, specs, this.opts.logger));
  }

  async consume(opts: ConsumeOptions): Promise<ConsumerHandle> {
    if (!opts.eachMessage === !opts.eachBatch) throw new Error('consume: pass exactly one of eachMessage or eachBatch');
    const { consumer, handle } = await this.startConsumer(opts.groupId, opts.topics, opts.fromBeginning ?? false, {
      ...(opts.maxRestarts !== undefined ? { maxRestarts: opts.maxRestarts } : {}),
      ...(opts.restartWindowMs !== undefined ? { restartWindowMs: opts.restartWindowMs } : {}),
      ...(opts.consumerConfig ? { consumerConfig: opts.consumerConfig } : {}),
    });
    const eachMessage = opts.eachMessage;
    await consumer.run({
      autoCommit: opts.autoCommit ?? true,
      ...(opts.eachBatchAutoResolve !== undefined ? { eachBatchAutoResolve: opts.eachBatchAutoResolve } : {}),
      ...(opts.partitionsConsumedConcurrently
        ? { partitionsConsumedConcurrently: opts.partitionsConsumedConcurrently }
        : {}),
      ...(eachMessage
        ? {
            eachMessage: async (payload: EachMessagePayload) => {
              const m = toConsumed(payload.topic, payload.partition, payload.message);
              await withSpan(
                `process ${payload.topic}`,
                {
                  kind: SpanKind.CONSUMER,
                  parentContext: extractTraceContext(payload.message.headers),
                  attributes: {
                    'messaging.system': 'kafka',
                    'messaging.operation.type': 'process',
                    'messaging.destination.name': payload.topic,
                    'messaging.destination.partition.id': String(payload.partition),
                    'messaging.kafka.offset': Number(payload.message.offset),
                    'messaging.consumer.group.name': opts.groupId,
                  },
                },
                () => eachMessage(m, payload),
              );
            },
          }
        : { eachBatch: opts.eachBatch! }),
    });
    return handle;
  }

  async catchUp(opts: CatchUpOptions, handler: MessageHandler): Promise<CatchUpHandle> {
    const groupId = opts.groupId ?? `${this.opts.clientId}.catchup.${randomId(6)}`;
    // Capture the high-water marks first: caught up = everything that existed at start applied.
    const targets = new Map<string, string>();
    await this.withAdmin(async (admin) => {
      for (const topic of opts.topics) {
        for (const p of await admin.fetchTopicOffsets(topic)) {
          if (BigInt(p.high) > BigInt(p.low)) targets.set(`${topic}:${p.partition}`, p.high);
        }
      }
    });
    const remaining = new Map(targets);
    let caught = remaining.size === 0;
    let resolveCaughtUp!: () => void;
    let rejectCaughtUp!: (err: unknown) => void;
    const caughtUp = new Promise<void>((resolve, reject) => {
      resolveCaughtUp = resolve;
      rejectCaughtUp = reject;
    });
    caughtUp.catch(() => undefined); // observed by the caller; avoid an unhandled rejection
    const markProgress = (topic: string, partition: number, lastOffset: string) => {
      if (caught) return;
      const key = `${topic}:${partition}`;
      const target = remaining.get(key);
      if (target !== undefined && BigInt(lastOffset) + 1n >= BigInt(target)) remaining.delete(key);
      if (remaining.size === 0) {
        caught = true;
        resolveCaughtUp();
      }
    };

    const { consumer, handle } = await this.startConsumer(groupId, opts.topics, true, {
      ...(opts.consumerConfig ? { consumerConfig: opts.consumerConfig } : {}),
      ephemeralGroup: opts.groupId === undefined,
      onCrash: (err) => {
        if (!caught) rejectCaughtUp(err);
      },
    });
    // Emitted after each processed batch, including batches made only of compacted-away or
    // control records, so a partition whose tail was filtered still reaches its target.
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) =>
      markProgress(e.payload.topic, e.payload.partition, e.payload.lastOffset),
    );
    await consumer.run({
      autoCommit: false,
      eachMessage: async ({ topic, partition, message }) => {
        await handler(toConsumed(topic, partition, message));
      },
    });
    if (caught) resolveCaughtUp();
    return { ...handle, caughtUp, isCaughtUp: () => caught, targets };
  }

  private async startConsumer(
    groupId: string,
    topicList: string[],
    fromBeginning: boolean,
    opts: {
      maxRestarts?: number;
      restartWindowMs?: number;
      consumerConfig?: Partial<Omit<ConsumerConfig, 'groupId'>>;
      onCrash?: (err: Error) => void;
      /** A generated group never reused: deleted on disconnect rather than left behind. */
      ephemeralGroup?: boolean;
    },
  ): Promise<{ consumer: Consumer; handle: ConsumerHandle }> {
    const maxRestarts = opts.maxRestarts ?? 5;
    const windowMs = opts.restartWindowMs ?? 5 * 60_000;
    const restarts: number[] = [];
    const logger = this.opts.logger.child({ component: 'kafka-consumer', group: groupId });
    const consumer = this.kafka.consumer({
      groupId,
      allowAutoTopicCreation: false,
      // Short long-polls: disconnect waits for the current fetch, so this bounds shutdown time
      // (and lastFetchAt() stays fresh for staleness checks) at the cost of idle fetches.
      maxWaitTimeInMs: 1_000,
      ...opts.consumerConfig,
      retry: {
        retries: 5,
        ...opts.consumerConfig?.retry,
        // Bounded restarts: a wedged consumer must exit rather than look healthy forever.
        restartOnFailure: async (err: Error) => {
          const now = Date.now();
          while (restarts.length > 0 && restarts[0]! < now - windowMs) restarts.shift();
          restarts.push(now);
          const restart = restarts.length <= maxRestarts;
          logger.error({ err, restart, restarts_in_window: restarts.length }, 'Kafka consumer failed');
          return restart;
        },
      },
    });
    let lastFetch: number | undefined;
    let disconnected = false;
    consumer.on(consumer.events.FETCH, () => {
      lastFetch = Date.now();
    });
    const lag = new ConsumerLagTracker({
      groupId,
      group: opts.ephemeralGroup ? `${this.opts.clientId}.catchup` : groupId,
      fromBeginning,
      admin: () => this.sharedAdmin(),
    });
    consumer.on(consumer.events.GROUP_JOIN, (e) => lag.joined(e.payload.memberAssignment));
    consumer.on(consumer.events.END_BATCH_PROCESS, (e) =>
      lag.processed(e.payload.topic, e.payload.partition, e.payload.lastOffset, e.payload.highWatermark),
    );
    consumer.on(consumer.events.COMMIT_OFFSETS, (e) => lag.committed(e.payload.topics));
    consumer.on(consumer.events.CRASH, (e) => {
      if (e.payload.restart || disconnected) return;
      opts.onCrash?.(e.payload.error);
      this.onFatal(e.payload.error);
    });
    await consumer.connect();
    await consumer.subscribe({ topics: topicList, fromBeginning });
    const handle: ConsumerHandle = {
      consumer,
      groupId,
      lastFetchAt: () => lastFetch,
      lag: () => lag.lag(),
      disconnect: async () => {
        if (disconnected) return;
        disconnected = true;
        lag.close();
        this.consumers.delete(handle);
        await consumer.disconnect();
        if (opts.ephemeralGroup) {
          await this.withAdmin((admin) => admin.deleteGroups([groupId])).catch((err: unknown) =>
            logger.debug({ err }, 'could not delete the ephemeral consumer group'),
          );
        }
      },
    };
    this.consumers.add(handle);
    return { consumer, handle };
  }

  /** Shutdown phase "consumers": leave groups at once so partitions rebalance. */
  async stopConsumers(): Promise<void> {
    await Promise.allSettled([...this.consumers].map((c) => c.disconnect()));
    const admin = this.lagAdmin;
    this.lagAdmin = undefined;
    if (admin) await admin.then((a) => a.disconnect()).catch(() => undefined);
  }

  private sharedAdmin(): Promise<Admin> {
    this.lagAdmin ??= (async () => {
      const admin = this.kafka.admin();
      await admin.connect();
      return admin;
    })().catch((err: unknown) => {
      this.lagAdmin = undefined;
      throw err;
    });
    return this.lagAdmin;
  }

  /** The lag of every partition of every live consumer of this bus (see ConsumerHandle.lag). */
  async consumerLag(): Promise<PartitionLag[]> {
    const all = await Promise.all([...this.consumers].map((c) => c.lag().catch(() => [] as PartitionLag[])));
    return all.flat();
  }

  /**
   * Exports the lag of this bus's consumers as the observable gauge `authority.kafka.consumer.lag`
   * (offsets; attributes messaging.system, messaging.destination.name,
   * messaging.destination.partition.id, messaging.consumer.group.name), computed at each metric
   * collection. Returns a function that stops observing. Create it after startTelemetry (the
   * metrics API has no proxy: a meter taken before is a no-op forever).
   */
  observeConsumerLag(meter: Meter): () => void {
    const gauge = meter.createObservableGauge(METRIC_NAMES.consumerLag, {
      description: 'Records not yet processed by a consumer: high-water mark minus the next offset to process',
      unit: '{message}',
    });
    const callback = async (result: { observe(value: number, attributes?: Attributes): void }) => {
      for (const l of await this.consumerLag()) {
        result.observe(l.lag, {
          'messaging.system': 'kafka',
          'messaging.destination.name': l.topic,
          'messaging.destination.partition.id': String(l.partition),
          'messaging.consumer.group.name': l.group,
        });
      }
    };
    gauge.addCallback(callback);
    return () => gauge.removeCallback(callback);
  }

  /** Shutdown phase "producers": wait for pending publishes, then disconnect the producer. */
  async closeProducer(): Promise<void> {
    await this.publisher.close();
    if (this.producerConnected) {
      await this.producerConnected.catch(() => undefined);
      await this.producer.disconnect();
      this.producerConnected = undefined;
    }
  }

  async disconnect(): Promise<void> {
    await this.stopConsumers();
    await this.closeProducer();
  }
}

/** The kafkajs adapter of the EventBus port. */
export function createKafka(opts: CreateKafkaOptions): KafkaEventBus {
  return new KafkaEventBus(opts);
}

/** createKafka from the common config (client id defaults to the service name; TLS and SASL as configured). */
export function kafkaFromConfig(
  config: KafkaSecurityConfig & {
    KAFKA_BROKERS: string[];
    KAFKA_CLIENT_ID?: string | undefined;
    AUTHORITY_SERVICE_NAME: string;
  },
  opts: Omit<CreateKafkaOptions, 'brokers' | 'clientId' | 'ssl' | 'sasl'>,
): KafkaEventBus {
  return createKafka({
    ...opts,
    ...kafkaSecurityFromConfig(config),
    brokers: config.KAFKA_BROKERS,
    clientId: config.KAFKA_CLIENT_ID ?? config.AUTHORITY_SERVICE_NAME,
  });
}
