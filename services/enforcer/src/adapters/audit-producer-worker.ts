// The audit producer thread: owns a kafkajs producer (acks=all, one request in flight, not
// idempotent; retried whole by platform's PublishQueue, the one producer algorithm: see
// packages/platform/src/kafka/publish-queue.ts why) so that encoding Kafka record batches runs on
// another core than the gRPC event loop. The main thread (audit-producer.ts) posts batches of compact
// records; this thread turns them into messages with their CloudEvents headers, signs the records of
// a post as one batch with the enforcer's event key (one Ed25519 signature over their Merkle root,
// each record's `authority-sig` header carrying its inclusion path: core events/signature.ts; the
// auditor chains only records a trusted key signed), sends whatever arrived while the previous produce request was in
// flight as one sendBatch, and answers each post with an ack or an error. It loads kafkajs and,
// of the rest, only core's signing module, Ed25519 and platform's publish queue (memory).
//
// Protocol (see audit-producer.ts): in `pub {id, topic, wire}` and `close`; out `ready`,
// `fail {message}` (could not start), `acks {ids, error?, stats}`, `log {level, message, fields}`
// and `closed {stats}`.
import { parentPort, workerData, type MessagePort } from 'node:worker_threads';
// The signing module alone (not all of @authority/core: policy parsing, envelopes, … are not needed here).
import { cryptoReady } from '@authority/core/dist/src/crypto';
import {
  EVENT_SIGNATURE_HEADER,
  eventSigningKey,
  signEventBatch,
  type EventSigningKey,
} from '@authority/core/dist/src/events/signature';
import type { KafkaSecurity } from '@authority/platform';
// The publish queue alone (platform's index loads OpenTelemetry, MongoDB, gRPC…).
import {
  KAFKA_PRODUCER_SETTINGS,
  kafkajsLogCreator,
  PublishQueue,
} from '@authority/platform/dist/src/kafka/publish-queue';
import { messagesFromWire, type AuditMessage } from '../audit-record';
import { Kafka, logLevel as KafkaLogLevel } from 'kafkajs';
import { cachingDefaultPartitioner, kafkajsPatchApplied } from './kafkajs-fast';

// The record encoder and grouping of patches/kafkajs+2.2.4.patch (see kafkajs-fast.ts).
const fastProducePath = kafkajsPatchApplied();

/** What the main thread passes as workerData. */
export interface AuditProducerWorkerData {
  brokers: string[];
  clientId: string;
  /** Connect before answering `ready` (the first start: a bad broker list fails fast). */
  connect: boolean;
  /** A post not acknowledged within this time is answered with an error. */
  timeoutMs: number;
  /** Most messages per produce request. */
  maxBatchMessages: number;
  /** Produce requests in flight at once (1: per-partition order kept). */
  maxInFlight: number;
  /** Lowest level of kafkajs log lines forwarded to the main thread's logger. */
  logLevel: 'debug' | 'info' | 'warn' | 'error';
  connectionTimeoutMs: number;
  requestTimeoutMs: number;
  /** The event-signing seed (32 bytes) and key id (undefined: derived from the public key). */
  signing: { seed: Uint8Array; kid: string | undefined };
  /** TLS and SASL of the Kafka client (platform's kafkaSecurityFromConfig). */
  security: KafkaSecurity;
}

export interface ProducerStats {
  /** Produce requests acknowledged. */
  batches: number;
  /** Messages acknowledged. */
  messages: number;
  /** Produce requests that failed. */
  failures: number;
}

/** `timeoutMs`: what is left of the latest deadline of the post's callers (no ack after it is useful). */
export type ToWorker = { t: 'pub'; id: number; topic: string; wire: string[]; timeoutMs?: number } | { t: 'close' };

export type FromWorker =
  | { t: 'ready'; fastProducePath: boolean }
  | { t: 'fail'; message: string }
  | { t: 'acks'; ids: number[]; error?: string; stats: ProducerStats }
  | { t: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; message: string; fields: Record<string, unknown> }
  | { t: 'closed'; stats: ProducerStats };

if (parentPort === null) throw new Error('audit-producer-worker must run in a worker thread');
const port: MessagePort = parentPort;
const data = workerData as AuditProducerWorkerData;
const send = (m: FromWorker) => port.postMessage(m);

const LEVELS = { debug: 0, info: 1, warn: 2, error: 3 } as const;
const minLevel = LEVELS[data.logLevel] ?? LEVELS.info;

const kafka = new Kafka({
  clientId: data.clientId,
  brokers: data.brokers,
  connectionTimeout: data.connectionTimeoutMs,
  requestTimeout: data.requestTimeoutMs,
  ...(data.security.ssl !== undefined ? { ssl: data.security.ssl } : {}),
  ...(data.security.sasl !== undefined ? { sasl: data.security.sasl } : {}),
  logLevel: KafkaLogLevel.INFO,
  logCreator: kafkajsLogCreator((level, message, fields) => {
    if (LEVELS[level] >= minLevel) send({ t: 'log', level, message, fields });
  }),
});
// Not idempotent and no kafkajs retries: see publish-queue.ts (the lost ALLOW of issue 14).
const producer = kafka.producer({
  ...KAFKA_PRODUCER_SETTINGS,
  retry: { ...KAFKA_PRODUCER_SETTINGS.retry },
  maxInFlightRequests: data.maxInFlight,
  createPartitioner: cachingDefaultPartitioner,
});
let connected: Promise<void> | undefined;
const connect = (): Promise<void> => {
  connected ??= producer.connect().catch((err: unknown) => {
    connected = undefined;
    throw err;
  });
  return connected;
};

/** Set once Ed25519 is initialised (before `ready`). */
let eventKey: EventSigningKey | undefined;
const prepared = cryptoReady().then(() => {
  eventKey = eventSigningKey(data.signing.seed, data.signing.kid);
});

/**
 * The Kafka messages of a post, signed as one batch (the signature covers each record's key, value
 * and CloudEvents headers through the Merkle root): one Ed25519 signature per post, not per record.
 */
function signedMessages(wire: readonly string[]): AuditMessage[] {
  const messages = messagesFromWire(wire);
  const signatures = signEventBatch(messages, eventKey as EventSigningKey);
  messages.forEach((m, i) => (m.headers[EVENT_SIGNATURE_HEADER] = signatures[i] as string));
  return messages;
}

const queue = new PublishQueue(
  { sendBatch: (request) => connect().then(() => producer.sendBatch(request)) },
  {
    maxBatchMessages: data.maxBatchMessages,
    maxInFlight: data.maxInFlight,
    timeoutMs: data.timeoutMs,
    // Posts are batched by the main thread already: the first goes at once.
    sendWhenIdle: true,
    onRetry: (err, attempt, delayMs, messages) =>
      send({
        t: 'log',
        level: 'warn',
        message: 'Kafka publish failed (retriable); resending the request',
        fields: { err_message: err instanceof Error ? err.message : String(err), attempt, retry_ms: delayMs, messages },
      }),
    onFailure: (err, messages) =>
      send({
        t: 'log',
        level: 'warn',
        message: 'Kafka publish failed',
        fields: { err_message: err instanceof Error ? err.message : String(err), messages },
      }),
  },
);

/** Answers settled in one turn go to the main thread as one `acks` message per outcome. */
const answers = new Map<string | undefined, number[]>();
let answering = false;
function answer(id: number, error?: string): void {
  const ids = answers.get(error);
  if (ids === undefined) answers.set(error, [id]);
  else ids.push(id);
  if (answering) return;
  answering = true;
  queueMicrotask(() => {
    answering = false;
    for (const [err, list] of answers)
      send(
        err === undefined
          ? { t: 'acks', ids: list, stats: stats() }
          : { t: 'acks', ids: list, error: err, stats: stats() },
      );
    answers.clear();
  });
}
const stats = (): ProducerStats => ({ ...queue.stats });
let closing = false;

let finishing: Promise<void> | undefined;
function finish(): Promise<void> {
  finishing ??= (async () => {
    try {
      if (connected !== undefined) {
        await connected.catch(() => undefined);
        await producer.disconnect();
      }
    } finally {
      send({ t: 'closed', stats: stats() });
      port.close();
    }
  })();
  return finishing;
}

port.on('message', (m: ToWorker) => {
  if (m.t === 'pub') {
    if (closing) {
      send({ t: 'acks', ids: [m.id], error: 'audit producer is closing', stats: stats() });
      return;
    }
    let messages: AuditMessage[];
    try {
      messages = signedMessages(m.wire);
    } catch (err) {
      // Never produce an unsigned record: the post fails (its ALLOWs are denied AUDIT_UNAVAILABLE).
      const message = err instanceof Error ? err.message : String(err);
      send({ t: 'acks', ids: [m.id], error: `audit events could not be signed: ${message}`, stats: stats() });
      return;
    }
    // What is left of the latest deadline of the post's callers (none given: the whole timeout).
    queue.enqueue(m.topic, messages, (err) => answer(m.id, err?.message), m.timeoutMs ?? data.timeoutMs);
  } else if (m.t === 'close') {
    closing = true;
    void queue.flush().then(finish);
  }
});

// Ready once the signing key is usable (and, on the first start, the producer connected).
prepared
  .then(() => (data.connect ? connect() : undefined))
  .then(
    () => send({ t: 'ready', fastProducePath }),
    (err: unknown) => {
      send({ t: 'fail', message: err instanceof Error ? err.message : String(err) });
      port.close();
    },
  );
