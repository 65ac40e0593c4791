// Producer spans (OpenTelemetry messaging semantic conventions): one PRODUCER span per published
// message, parented on the trace context the message carries.
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
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { PLATFORM_SCOPE } from '../telemetry';
import { headerString, headersGetter } from './cloudevents';

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
export function platformTracer(): Tracer {
  const provider = trace.getTracerProvider();
  if (cachedTracer === undefined || provider !== tracerOwner) {
    tracerOwner = provider;
    cachedTracer = provider.getTracer(PLATFORM_SCOPE);
  }
  return cachedTracer;
}

/** The context extracted from the last message's trace headers (consecutive messages often share them). */
export interface ExtractCache {
  /** The tracer provider at extraction (telemetry restarted: extract again). */
  owner: unknown;
  key: string;
  context: Context;
  spanId: string | undefined;
}

export function producerSpanWith(
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
