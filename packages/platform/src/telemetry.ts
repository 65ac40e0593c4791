// OpenTelemetry setup (traces + metrics) and manual span helpers. W3C trace context always
// propagates; spans are exported only when OTEL_* configures an exporter (or a test injects one).
import {
  context,
  metrics,
  propagation,
  SpanKind,
  SpanStatusCode,
  trace,
  type Attributes,
  type BatchObservableCallback,
  type Context,
  type Link,
  type Meter,
  type Observable,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { node, NodeSDK } from '@opentelemetry/sdk-node';
import { MeterProvider, type IMetricReader } from '@opentelemetry/sdk-metrics';
import {
  AlwaysOffSampler,
  AlwaysOnSampler,
  ParentBasedSampler,
  SimpleSpanProcessor,
  type SpanExporter,
  type SpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { ATTR_SERVICE_NAME, ATTR_SERVICE_VERSION } from '@opentelemetry/semantic-conventions';

/** The instrumentation scope of spans and metrics made by the platform itself. */
export const PLATFORM_SCOPE = '@authority/platform';

/**
 * The metrics the services export, by name (docs/operations.md, "Telemetry", says what each
 * means). Services create their instruments with these names on `getMeter(scope)`.
 */
export const METRIC_NAMES = {
  /** Histogram, ms; rpc.system, rpc.service, rpc.method, rpc.grpc.status_code (platform, every service). */
  rpcServerDuration: 'rpc.server.duration',
  /** Observable gauge, {message}; messaging.destination.name, messaging.destination.partition.id, messaging.consumer.group.name. */
  consumerLag: 'authority.kafka.consumer.lag',
  /** Observable gauge, {entry}; authority.tenant (auditor). */
  chainLength: 'authority.audit.chain.length',
  /** Observable gauge, s; authority.tenant (auditor): since the tenant's newest checkpoint was signed. */
  checkpointAge: 'authority.audit.checkpoint.age',
  /** Observable gauge, {entry}; authority.tenant (auditor): entries appended after the newest checkpoint. */
  checkpointPending: 'authority.audit.checkpoint.pending',
  /**
   * Counter, {record}; reason (unsigned, malformed_signature, unknown_key, bad_signature,
   * source_not_allowed, type_not_allowed, invalid_event, tenant_mismatch) (auditor): audit records
   * quarantined instead of chained. Prometheus: authority_auditor_quarantined_total{reason}.
   */
  auditorQuarantined: 'authority.auditor.quarantined',
  /** Counter, {decision}; decision (ALLOW/DENY), reason (ReasonCode name) (enforcer). */
  enforcerDecisions: 'authority.enforcer.decisions',
  /** Histogram, ms; method (Check/BatchCheck) (enforcer): one call, audit acknowledgement included. */
  enforcerCheckDuration: 'authority.enforcer.check.duration',
  /** Gauge, s (enforcer): since the revocation feed last completed a Kafka fetch. */
  enforcerRevocationStaleness: 'authority.enforcer.revocation.staleness',
  /** Observable gauge, By (enforcer): bytes the link memo charges (never above AUTHORITY_MEMO_BYTES). */
  enforcerMemoBytes: 'authority.enforcer.memo.bytes',
  /** Observable gauge, {link} (enforcer): links in the memo. */
  enforcerMemoEntries: 'authority.enforcer.memo.entries',
  /** Observable counter, {link} (enforcer): links evicted from the memo to stay within its budget. */
  enforcerMemoEvictions: 'authority.enforcer.memo.evictions',
  /** Observable gauge, {nonce} (enforcer): nonces of per-request proofs remembered. */
  enforcerReplayEntries: 'authority.enforcer.replay.entries',
} as const;

/**
 * The meter of an instrumentation scope (e.g. '@authority/enforcer') from the global provider.
 * Take it, and create instruments, AFTER startTelemetry: the metrics API has no proxy meter, so
 * instruments made before a provider is installed stay no-ops (and after telemetry is shut down,
 * instruments of the old provider record nothing).
 */
export function getMeter(scope: string = PLATFORM_SCOPE): Meter {
  return metrics.getMeter(scope);
}

/** One observable instrument of observeBatch: a gauge unless `counter` (a monotonic total). */
export interface ObservableSpec {
  name: string;
  description: string;
  unit: string;
  counter?: boolean;
}

/**
 * Creates observable instruments on `meter` and one batch callback that reads them all at each
 * collection (`observe` reports a value per instrument key). Returns the function that unregisters
 * the callback: a stopped service must not be read any more.
 */
export function observeBatch<K extends string>(
  meter: Meter,
  specs: Record<K, ObservableSpec>,
  observe: (record: (instrument: K, value: number, attributes?: Attributes) => void) => void,
): () => void {
  const byKey = new Map<K, Observable>();
  for (const [key, spec] of Object.entries(specs) as [K, ObservableSpec][]) {
    const options = { description: spec.description, unit: spec.unit };
    byKey.set(
      key,
      spec.counter
        ? meter.createObservableCounter(spec.name, options)
        : meter.createObservableGauge(spec.name, options),
    );
  }
  const observables = [...byKey.values()];
  const callback: BatchObservableCallback = (result) =>
    observe((key, value, attributes) => result.observe(byKey.get(key)!, value, attributes));
  meter.addBatchObservableCallback(callback, observables);
  return () => meter.removeBatchObservableCallback(callback, observables);
}

export type TelemetryMode = 'propagate-only' | 'injected' | 'otlp';

export interface StartTelemetryOptions {
  serviceName: string;
  serviceVersion?: string;
  /** Read OTEL_* from here (default process.env). */
  env?: NodeJS.ProcessEnv | Record<string, string | undefined>;
  /** Tests: spans go to this exporter through a SimpleSpanProcessor (e.g. InMemorySpanExporter). */
  spanExporter?: SpanExporter;
  /** Tests or custom setups: metric readers (e.g. a PeriodicExportingMetricReader over InMemoryMetricExporter). */
  metricReaders?: IMetricReader[];
  /**
   * Told when the final flush at shutdown fails (an OTLP collector that is down): spans and
   * metrics are best-effort, so a failed flush never fails the shutdown; it is reported here.
   */
  onFlushError?: (err: unknown) => void;
}

export interface Telemetry {
  mode: TelemetryMode;
  tracer: Tracer;
  meter: Meter;
  /** Flushes and stops exporters, and unregisters the globals (so telemetry can start again). */
  shutdown(): Promise<void>;
}

/** True when OTEL_* asks for exported traces (an OTLP endpoint or an explicit exporter). */
export function otelExportConfigured(env: NodeJS.ProcessEnv | Record<string, string | undefined>): boolean {
  if ((env['OTEL_SDK_DISABLED'] ?? '').toLowerCase() === 'true') return false;
  const exporters = (env['OTEL_TRACES_EXPORTER'] ?? '')
    .split(',')
    .map((s) => s.trim().toLowerCase())
    .filter((s) => s !== '');
  if (exporters.length > 0) return exporters.some((e) => e !== 'none');
  return Boolean(env['OTEL_EXPORTER_OTLP_ENDPOINT'] || env['OTEL_EXPORTER_OTLP_TRACES_ENDPOINT']);
}

let started = false;

/**
 * Installs the global tracer and meter providers, context manager (AsyncLocalStorage) and the
 * W3C tracecontext+baggage propagator. Three modes:
 * - `injected`: a test's SpanExporter, every span recorded (SimpleSpanProcessor);
 * - `otlp`: OTEL_* configures export → NodeSDK with the OTLP/HTTP trace exporter (metrics and
 *   sampling follow the standard OTEL_* variables);
 * - `propagate-only` (default): no exporter; spans are recorded only when the caller's trace is
 *   sampled (ParentBased(AlwaysOff)), so the cost is near zero while trace ids still flow through
 *   gRPC metadata, Kafka headers and log lines.
 */
export async function startTelemetry(opts: StartTelemetryOptions): Promise<Telemetry> {
  if (started) throw new Error('telemetry already started in this process; call shutdown() first');
  const env = opts.env ?? process.env;
  const resource = resourceFromAttributes({
    [ATTR_SERVICE_NAME]: env['OTEL_SERVICE_NAME'] || opts.serviceName,
    ...(opts.serviceVersion ? { [ATTR_SERVICE_VERSION]: opts.serviceVersion } : {}),
  });
  started = true;

  let shutdownProviders: () => Promise<void>;
  let mode: TelemetryMode;

  if (!opts.spanExporter && otelExportConfigured(env)) {
    mode = 'otlp';
    const explicit = (env['OTEL_TRACES_EXPORTER'] ?? '').trim();
    const sdk = new NodeSDK({
      resource,
      // OTLP over HTTP unless the environment names other exporters (console, zipkin, ...).
      ...(explicit === '' || explicit === 'otlp' ? { traceExporter: new OTLPTraceExporter() } : {}),
      ...(opts.metricReaders ? { metricReaders: opts.metricReaders } : {}),
      instrumentations: [],
    });
    sdk.start();
    shutdownProviders = () => sdk.shutdown();
  } else {
    mode = opts.spanExporter ? 'injected' : 'propagate-only';
    const spanProcessors: SpanProcessor[] = opts.spanExporter ? [new SimpleSpanProcessor(opts.spanExporter)] : [];
    const sampler = opts.spanExporter
      ? new ParentBasedSampler({ root: new AlwaysOnSampler() })
      : new ParentBasedSampler({ root: new AlwaysOffSampler() });
    const tracerProvider = new node.NodeTracerProvider({ resource, sampler, spanProcessors });
    tracerProvider.register(); // context manager + W3C propagators (OTEL_PROPAGATORS honoured)
    const meterProvider = new MeterProvider({ resource, readers: opts.metricReaders ?? [] });
    metrics.setGlobalMeterProvider(meterProvider);
    shutdownProviders = async () => {
      await Promise.allSettled([tracerProvider.shutdown(), meterProvider.shutdown()]);
    };
  }

  let stopped = false;
  return {
    mode,
    tracer: trace.getTracer(opts.serviceName),
    meter: metrics.getMeter(opts.serviceName),
    async shutdown() {
      if (stopped) return;
      stopped = true;
      try {
        await shutdownProviders();
      } catch (err) {
        // Telemetry is best-effort: an unreachable collector must not turn a clean stop into
        // exit 1 (the service's own data is already flushed by the earlier shutdown phases).
        opts.onFlushError?.(err);
      } finally {
        trace.disable();
        metrics.disable();
        propagation.disable();
        context.disable();
        started = false;
      }
    },
  };
}

export interface WithSpanOptions {
  kind?: SpanKind;
  attributes?: Attributes;
  /** Parent context (e.g. extracted from Kafka headers); default: the active context. */
  parentContext?: Context;
  links?: Link[];
  /** Default: the platform tracer. */
  tracer?: Tracer;
}

/**
 * Runs `fn` inside a new active span; records an exception and ERROR status if it throws, and
 * always ends the span.
 */
export async function withSpan<T>(name: string, opts: WithSpanOptions, fn: (span: Span) => Promise<T> | T): Promise<T> {
  const tracer = opts.tracer ?? trace.getTracer(PLATFORM_SCOPE);
  const spanOptions = {
    kind: opts.kind ?? SpanKind.INTERNAL,
    ...(opts.attributes ? { attributes: opts.attributes } : {}),
    ...(opts.links ? { links: opts.links } : {}),
  };
  return tracer.startActiveSpan(name, spanOptions, opts.parentContext ?? context.active(), async (span) => {
    try {
      return await fn(span);
    } catch (err) {
      span.recordException(err instanceof Error ? err : String(err));
      span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
      throw err;
    } finally {
      span.end();
    }
  });
}

/** The active trace and span ids (audit events carry them), or undefined outside a valid span. */
export function currentTraceIds(ctx: Context = context.active()): { traceId: string; spanId: string } | undefined {
  const sc = trace.getSpanContext(ctx);
  if (!sc || !trace.isSpanContextValid(sc)) return undefined;
  return { traceId: sc.traceId, spanId: sc.spanId };
}

export { SpanKind, SpanStatusCode };
