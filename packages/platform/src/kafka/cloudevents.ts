// CloudEvents (Kafka protocol binding, binary mode) + W3C trace context in headers, and event
// signatures.
import { EVENT_SIGNATURE_HEADER, signEvent, signEventBatch, type EventSigningKey } from '@authority/core';
import { context, propagation, ROOT_CONTEXT, type Context, type TextMapGetter } from '@opentelemetry/api';
import { type EventHeaders, type EventMessage } from './port';

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
export function headerString(headers: EventHeaders | undefined, key: string): string | undefined {
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
export function parseCloudEventHeaders(headers: EventHeaders | undefined): ParsedCloudEvent {
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

export const headersGetter: TextMapGetter<EventHeaders | undefined> = {
  keys: (h) => Object.keys(h ?? {}),
  get: (h, key) => headerString(h, key),
};

/** The W3C trace context carried by Kafka headers (Buffer-aware), rooted at ROOT_CONTEXT. */
export function extractTraceContext(headers: EventHeaders | undefined): Context {
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

/**
 * The messages signed as one batch (core's signEventBatch: one Ed25519 signature over the Merkle
 * root of their signed bytes, each message carrying its inclusion path in `authority-sig`). Sign
 * last, as withEventSignature.
 */
export function withEventBatchSignature(messages: readonly EventMessage[], key: EventSigningKey): EventMessage[] {
  const unsigned = messages.map((message) => {
    const headers = { ...message.headers };
    delete headers[EVENT_SIGNATURE_HEADER];
    return { ...message, headers };
  });
  const signatures = signEventBatch(unsigned, key);
  return unsigned.map((m, i) => ({
    ...m,
    headers: { ...m.headers, [EVENT_SIGNATURE_HEADER]: signatures[i] as string },
  }));
}
