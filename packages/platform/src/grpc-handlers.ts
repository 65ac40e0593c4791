// Wrappers that turn async handlers into grpc-js handlers which never crash the process: every
// error is mapped by toGrpcError, every call gets a SERVER span (trace context from metadata)
// and a latency histogram point. Plus the client-side counterparts (trace/deadline interceptors).
import * as grpc from '@grpc/grpc-js';
import {
  context,
  metrics,
  propagation,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  type Histogram,
  type MeterProvider,
  type TextMapGetter,
  type TextMapSetter,
} from '@opentelemetry/api';
import { logMappedError, toGrpcError, UnavailableError, fromGrpcError } from './errors';
import type { Logger } from './logger';
import { PLATFORM_SCOPE } from './telemetry';

/** Set by startGrpcServer on streaming calls: aborted when the server begins shutting down. */
export const SERVER_CLOSING_SIGNAL: unique symbol = Symbol.for('authority.platform.serverClosingSignal');

export interface HandlerContext {
  /** Aborted when the client cancels or (streams) when the server shuts down. */
  signal: AbortSignal;
  /** The wrapper's logger with `rpc` bound. */
  logger: Logger;
}

export interface WrapOptions {
  logger: Logger;
}

const metadataGetter: TextMapGetter<grpc.Metadata> = {
  keys: (md) => Object.keys(md.getMap()),
  get: (md, key) => {
    const values = md.get(key);
    if (values.length === 0) return undefined;
    return values.map((v) => (typeof v === 'string' ? v : v.toString('utf8')));
  },
};

const metadataSetter: TextMapSetter<grpc.Metadata> = {
  set: (md, key, value) => md.set(key, value),
};

/** Trace context carried by incoming call metadata (`traceparent`, `tracestate`, `baggage`). */
export function extractGrpcTraceContext(metadata: grpc.Metadata) {
  return propagation.extract(ROOT_CONTEXT, metadata, metadataGetter);
}

/** Writes the active (or given) trace context into outgoing metadata. */
export function injectGrpcTraceContext(metadata: grpc.Metadata, ctx = context.active()): grpc.Metadata {
  propagation.inject(ctx, metadata, metadataSetter);
  return metadata;
}

/** `/authority.v1.Enforcer/Check` → { service: 'authority.v1.Enforcer', method: 'Check' }. */
function splitPath(path: string): { service: string; method: string } {
  const trimmed = path.startsWith('/') ? path.slice(1) : path;
  const slash = trimmed.lastIndexOf('/');
  return slash < 0
    ? { service: '', method: trimmed }
    : { service: trimmed.slice(0, slash), method: trimmed.slice(slash + 1) };
}

// The metrics API has no proxy meter: re-create the instrument if the global provider changes.
let histogramOwner: MeterProvider | undefined;
let rpcDuration: Histogram | undefined;
function rpcDurationHistogram(): Histogram {
  const provider = metrics.getMeterProvider();
  if (!rpcDuration || provider !== histogramOwner) {
    histogramOwner = provider;
    rpcDuration = provider.getMeter(PLATFORM_SCOPE).createHistogram('rpc.server.duration', {
      description: 'Duration of inbound gRPC calls by method and status code',
      unit: 'ms',
    });
  }
  return rpcDuration;
}

interface ServerCallLike {
  metadata: grpc.Metadata;
  cancelled: boolean;
  getPath(): string;
  on(event: 'cancelled', listener: () => void): unknown;
}

/**
 * One call's HandlerContext. The signal and the logger are made when the handler first reads them
 * (most unary handlers never do): an AbortController, its signal and a pino child cost more than
 * the rest of the wrapper. A cancellation before that is remembered and applied on creation.
 *
 * A class, not an object literal with getters: V8 allocates such a literal's accessors in the old
 * generation (~95 bytes per literal, measured), and they pointed through their closures at the
 * whole call. Every call of the last few hundred milliseconds was then reachable from old space
 * until the next full GC: each young-generation collection copied and promoted ~12 KB per call
 * (5-9 ms pauses at 1,000 calls/s instead of ~1 ms); test/grpc-handlers.test.ts keeps it so.
 */
class CallContext implements HandlerContext {
  private controller: AbortController | undefined;
  private aborted = false;
  private abortReason: unknown;
  private log: Logger | undefined;
  /** Set once the handler returned: grpc-js reports 'cancelled' after completed calls too. */
  finished = false;

  constructor(
    private readonly parentLogger: Logger,
    private readonly service: string,
    private readonly method: string,
  ) {}

  get signal(): AbortSignal {
    if (this.controller === undefined) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  get logger(): Logger {
    return (this.log ??= this.parentLogger.child({ rpc: `${this.service}/${this.method}` }));
  }

  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}

/** Runs `body` inside a SERVER span parented on the call's trace context; records metrics. */
async function runTraced(
  call: ServerCallLike,
  opts: WrapOptions,
  body: (ctx: HandlerContext) => Promise<grpc.status>,
): Promise<void> {
  const path = call.getPath();
  const { service, method } = splitPath(path);
  const started = performance.now();
  const parent = extractGrpcTraceContext(call.metadata);
  const tracer = trace.getTracer(PLATFORM_SCOPE);
  const span = tracer.startSpan(
    `${service}/${method}`,
    { kind: SpanKind.SERVER, attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method } },
    parent,
  );
  const ctx = new CallContext(opts.logger, service, method);
  // grpc-js reports 'cancelled' after every call, completed ones included: only a call still being
  // handled is cancelled by the client.
  call.on('cancelled', () => {
    if (!ctx.finished) ctx.abort(new Error('cancelled by client'));
  });
  // Streams also end when the server closes; listen by hand (and unlisten when the call ends)
  // rather than AbortSignal.any, so the long-lived server signal holds nothing per call.
  const closing = (call as unknown as Record<symbol, AbortSignal | undefined>)[SERVER_CLOSING_SIGNAL];
  let unlisten = () => {};
  if (closing?.aborted) ctx.abort(closing.reason);
  else if (closing) {
    const onClosing = () => ctx.abort(closing.reason);
    closing.addEventListener('abort', onClosing, { once: true });
    unlisten = () => closing.removeEventListener('abort', onClosing);
  }
  let code: grpc.status = grpc.status.UNKNOWN;
  try {
    code = await context.with(trace.setSpan(parent, span), () => body(ctx));
  } finally {
    ctx.finished = true;
    unlisten();
    span.setAttribute('rpc.grpc.status_code', code);
    if (code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: grpc.status[code] });
    span.end();
    rpcDurationHistogram().record(performance.now() - started, {
      'rpc.system': 'grpc',
      'rpc.service': service,
      'rpc.method': method,
      'rpc.grpc.status_code': code,
    });
  }
}

/**
 * A grpc-js unary handler from an async function. Whatever the function throws is mapped by
 * toGrpcError (INTERNAL details are logged under an error id, never sent).
 */
export function wrapUnary<Req, Res>(
  handler: (call: grpc.ServerUnaryCall<Req, Res>, ctx: HandlerContext) => Promise<Res>,
  opts: WrapOptions,
): grpc.handleUnaryCall<Req, Res> {
  return (call, callback) => {
    void runTraced(call, opts, async (ctx) => {
      try {
        const response = await handler(call, ctx);
        callback(null, response);
        return grpc.status.OK;
      } catch (err) {
        const status = toGrpcError(err);
        logMappedError(ctx.logger, err, status);
        const span = trace.getActiveSpan();
        if (status.code === grpc.status.INTERNAL && span)
          span.recordException(err instanceof Error ? err : String(err));
        callback(status);
        return status.code ?? grpc.status.UNKNOWN;
      }
    }).catch((err: unknown) => {
      // Only reachable if telemetry itself throws; still answer the call.
      opts.logger.error({ err }, 'handler wrapper failed');
      callback({ code: grpc.status.INTERNAL, details: 'internal error' });
    });
  };
}

/**
 * A grpc-js server-streaming handler from an async function that writes to `call` and resolves
 * when done (the wrapper ends the call). Errors are mapped like wrapUnary. `ctx.signal` aborts on
 * client cancel and on server shutdown; a handler that returns because of shutdown ends the
 * stream with UNAVAILABLE so clients reconnect elsewhere.
 */
export function wrapServerStream<Req, Res>(
  handler: (call: grpc.ServerWritableStream<Req, Res>, ctx: HandlerContext) => Promise<void>,
  opts: WrapOptions,
): grpc.handleServerStreamingCall<Req, Res> {
  return (call) => {
    void runTraced(call, opts, async (ctx) => {
      let status: Partial<grpc.StatusObject> | undefined;
      let error: unknown;
      try {
        await handler(call, ctx);
        if (ctx.signal.aborted && !call.cancelled) {
          error = new UnavailableError('server shutting down, reconnect');
        }
      } catch (err) {
        error = err;
      }
      if (error !== undefined) {
        status = toGrpcError(error);
        logMappedError(ctx.logger, error, status);
      }
      if (call.cancelled) return grpc.status.CANCELLED;
      if (status) {
        call.emit('error', status);
        return status.code ?? grpc.status.UNKNOWN;
      }
      if (!call.writableEnded) call.end();
      return grpc.status.OK;
    }).catch((err: unknown) => {
      opts.logger.error({ err }, 'stream wrapper failed');
      if (!call.cancelled) call.emit('error', { code: grpc.status.INTERNAL, details: 'internal error' });
    });
  };
}

// ---------------------------------------------------------------------------------------------
// Client side.

/**
 * A client interceptor: a CLIENT span per call, its context injected into the metadata
 * (`traceparent`), the span ending with the call's status code.
 */
export const traceContextInterceptor: grpc.Interceptor = (options, nextCall) => {
  const path = options.method_definition.path;
  const { service, method } = splitPath(path);
  const span = trace.getTracer(PLATFORM_SCOPE).startSpan(`${service}/${method}`, {
    kind: SpanKind.CLIENT,
    attributes: { 'rpc.system': 'grpc', 'rpc.service': service, 'rpc.method': method },
  });
  const spanContext = trace.setSpan(context.active(), span);
  return new grpc.InterceptingCall(nextCall(options), {
    start(metadata, _listener, next) {
      injectGrpcTraceContext(metadata, spanContext);
      next(metadata, {
        onReceiveStatus(status, nextStatus) {
          span.setAttribute('rpc.grpc.status_code', status.code);
          if (status.code !== grpc.status.OK) span.setStatus({ code: SpanStatusCode.ERROR, message: status.details });
          span.end();
          nextStatus(status);
        },
      });
    },
  });
};

/** A client interceptor giving every call without a deadline one `ms` from now. */
export function deadlineInterceptor(ms: number): grpc.Interceptor {
  return (options, nextCall) => {
    if (options.deadline === undefined) options = { ...options, deadline: Date.now() + ms };
    return new grpc.InterceptingCall(nextCall(options));
  };
}

/** Call metadata carrying `authorization: Bearer <secret>` (what bearerToken reads); empty without one. */
export function bearerMetadata(secret: string | undefined): grpc.Metadata {
  const md = new grpc.Metadata();
  if (secret !== undefined) md.set('authorization', `Bearer ${secret}`);
  return md;
}

type UnaryMethod<Req, Res> = (
  request: Req,
  metadata: grpc.Metadata,
  options: grpc.CallOptions,
  callback: (err: grpc.ServiceError | null, response?: Res) => void,
) => unknown;

/**
 * Promisified unary call on a generated client: `await unaryCall(client.check.bind(client), req)`.
 * Failures reject with AuthorityClientError (code, reason, field, message).
 */
export function unaryCall<Req, Res>(
  method: UnaryMethod<Req, Res>,
  request: Req,
  opts: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    const callOptions: grpc.CallOptions =
      opts.deadlineMs !== undefined ? { deadline: Date.now() + opts.deadlineMs } : {};
    method(request, opts.metadata ?? new grpc.Metadata(), callOptions, (err, response) => {
      if (err) reject(fromGrpcError(err));
      else resolve(response as Res);
    });
  });
}

/**
 * unaryCall of a generated client's method given by name (`'Mint'`, `'QueryEvents'`): what tests
 * and tools use to reach any RPC of a service. An unknown name throws.
 */
export function callByName<Res = unknown>(
  client: grpc.Client,
  method: string,
  request: unknown,
  opts: { metadata?: grpc.Metadata; deadlineMs?: number } = {},
): Promise<Res> {
  const fn = (client as unknown as Record<string, UnaryMethod<unknown, Res>>)[method];
  if (typeof fn !== 'function') throw new Error(`${method} is not a method of this client`);
  return unaryCall(fn.bind(client), request, opts);
}
