import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { Writable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { AuthorityError } from '@authority/core';
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { InMemorySpanExporter } from '@opentelemetry/sdk-trace-base';
import { MetricReader } from '@opentelemetry/sdk-metrics';
import { protoPath as healthProtoPath } from 'grpc-health-check';
import {
  AuthorityClientError,
  createLogger,
  currentTraceIds,
  InvalidArgumentError,
  LIVENESS_SERVICE,
  startGrpcServer,
  startTelemetry,
  traceContextInterceptor,
  unaryCall,
  wrapServerStream,
  wrapUnary,
  type GrpcServerHandle,
  type Logger,
  type Telemetry,
} from '../src';
import {
  echoClient,
  echoPackageDefinition,
  echoServiceDefinition,
  ECHO_SERVICE_NAME,
  type SayRequest,
  type SayResponse,
} from './fixtures/echo';

type HealthClient = grpc.Client & {
  check(req: { service: string }, cb: (err: grpc.ServiceError | null, res?: { status: string }) => void): void;
};
function healthClient(port: number): HealthClient {
  const def = protoLoader.loadSync(healthProtoPath, { enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
  };
  return new pkg.grpc.health.v1.Health(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as HealthClient;
}
function checkHealth(client: HealthClient, service: string): Promise<string> {
  return new Promise((resolve, reject) =>
    client.check({ service }, (err, res) => (err ? reject(err) : resolve(res!.status))),
  );
}

type ReflectionClient = grpc.Client & {
  serverReflectionInfo(): grpc.ClientDuplexStream<
    { listServices: string },
    { listServicesResponse?: { service: { name: string }[] } }
  >;
};
function listServicesByReflection(port: number): Promise<string[]> {
  const protoFile = join(
    dirname(require.resolve('@grpc/reflection/package.json')),
    'build/proto/grpc/reflection/v1/reflection.proto',
  );
  const def = protoLoader.loadSync(protoFile, { defaults: true, oneofs: true });
  const pkg = grpc.loadPackageDefinition(def) as unknown as {
    grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
  };
  const client = new pkg.grpc.reflection.v1.ServerReflection(
    `127.0.0.1:${port}`,
    grpc.credentials.createInsecure(),
  ) as unknown as ReflectionClient;
  return new Promise((resolve, reject) => {
    const call = client.serverReflectionInfo();
    call.on('data', (res) => {
      resolve((res.listServicesResponse?.service ?? []).map((s: { name: string }) => s.name));
      call.end();
      client.close();
    });
    call.on('error', reject);
    call.write({ listServices: '*' });
  });
}

/** Captures JSON log lines. */
function captureLogger(): { logger: Logger; lines: Record<string, unknown>[] } {
  const lines: Record<string, unknown>[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, cb) {
      for (const line of chunk.toString('utf8').split('\n'))
        if (line.trim()) lines.push(JSON.parse(line) as Record<string, unknown>);
      cb();
    },
  });
  return { logger: createLogger({ service: 'test', level: 'debug', destination }), lines };
}

/** A pull-only metric reader: the test collects when it wants. */
class TestMetricReader extends MetricReader {
  protected override async onForceFlush(): Promise<void> {}
  protected override async onShutdown(): Promise<void> {}
}

describe('startGrpcServer', () => {
  let telemetry: Telemetry;
  const spans = new InMemorySpanExporter();
  const metricReader = new TestMetricReader();
  const { logger, lines } = captureLogger();
  let handle: GrpcServerHandle;

  before(async () => {
    telemetry = await startTelemetry({ serviceName: 'grpc-test', spanExporter: spans, metricReaders: [metricReader] });
    handle = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      serviceNames: [ECHO_SERVICE_NAME],
      packageDefinition: echoPackageDefinition,
      services: [
        {
          definition: echoServiceDefinition,
          implementation: {
            Say: wrapUnary<SayRequest, SayResponse>(
              async (call) => {
                const { fail, text } = call.request;
                if (fail === 'field') throw new InvalidArgumentError('text', 'must be shouty');
                if (fail === 'domain') throw new AuthorityError('TENANT_MISMATCH', 'tenant t2 is not yours', 'tenant');
                if (fail === 'bug') throw new Error('db password is hunter2');
                return { text: text.toUpperCase(), traceId: currentTraceIds()?.traceId ?? '' };
              },
              { logger },
            ),
            Watch: wrapServerStream<SayRequest, SayResponse>(
              async (call, ctx) => {
                call.write({ text: 'first' });
                await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
              },
              { logger },
            ),
          },
        },
      ],
    });
  });

  after(async () => {
    await handle.shutdown(1000, { drainDelayMs: 0 });
    await telemetry.shutdown();
  });

  it('binds a real port when asked for port 0', () => {
    assert.ok(handle.port > 0);
  });

  it('reports health NOT_SERVING until setServing, for "" and each service', async () => {
    const client = healthClient(handle.port);
    assert.equal(await checkHealth(client, ''), 'NOT_SERVING');
    assert.equal(await checkHealth(client, ECHO_SERVICE_NAME), 'NOT_SERVING');
    handle.health.setServing();
    assert.equal(await checkHealth(client, ''), 'SERVING');
    assert.equal(await checkHealth(client, ECHO_SERVICE_NAME), 'SERVING');
    await assert.rejects(
      checkHealth(client, 'no.such.Service'),
      (e: grpc.ServiceError) => e.code === grpc.status.NOT_FOUND,
    );
    client.close();
  });

  it("answers 'liveness' SERVING whatever readiness says (a not-ready replica is not restarted)", async () => {
    const client = healthClient(handle.port);
    try {
      handle.health.setNotServing();
      assert.equal(await checkHealth(client, ''), 'NOT_SERVING');
      assert.equal(await checkHealth(client, LIVENESS_SERVICE), 'SERVING');
      handle.health.setServing();
      assert.equal(await checkHealth(client, LIVENESS_SERVICE), 'SERVING');
      assert.equal(handle.health.status(LIVENESS_SERVICE), undefined, 'not part of the readiness statuses');
    } finally {
      client.close();
    }
  });

  it('serves reflection for the package definition', async () => {
    const names = await listServicesByReflection(handle.port);
    assert.ok(names.includes(ECHO_SERVICE_NAME), names.join(','));
  });

  it('answers a wrapped unary call', async () => {
    const client = echoClient(handle.port);
    const res = await unaryCall(client.say.bind(client), { text: 'hi' }, { deadlineMs: 5000 });
    assert.equal(res.text, 'HI');
    client.close();
  });

  it('maps a handler error to the status code with reason and field metadata', async () => {
    const client = echoClient(handle.port);
    await assert.rejects(
      unaryCall(client.say.bind(client), { text: 'x', fail: 'field' }),
      (e: AuthorityClientError) => {
        assert.ok(e instanceof AuthorityClientError);
        assert.equal(e.code, grpc.status.INVALID_ARGUMENT);
        assert.equal(e.reason, 'INVALID_REQUEST');
        assert.equal(e.field, 'text');
        assert.equal(e.message, 'text: must be shouty');
        return true;
      },
    );
    await assert.rejects(
      unaryCall(client.say.bind(client), { text: 'x', fail: 'domain' }),
      (e: AuthorityClientError) => {
        assert.equal(e.code, grpc.status.PERMISSION_DENIED);
        assert.equal(e.reason, 'TENANT_MISMATCH');
        assert.equal(e.field, 'tenant');
        return true;
      },
    );
    client.close();
  });

  it('hides unexpected errors (INTERNAL + error id) and logs the details under that id', async () => {
    const client = echoClient(handle.port);
    const err = await unaryCall(client.say.bind(client), { text: 'x', fail: 'bug' }).then(
      () => assert.fail('expected an error'),
      (e: AuthorityClientError) => e,
    );
    assert.equal(err.code, grpc.status.INTERNAL);
    assert.doesNotMatch(err.message, /hunter2/);
    assert.ok(err.errorId);
    const logged = lines.find((l) => l['error_id'] === err.errorId);
    assert.ok(logged, 'the error is logged under its id');
    assert.match(JSON.stringify(logged['err']), /hunter2/);
    assert.equal(logged['rpc'], `${ECHO_SERVICE_NAME}/Say`);
    client.close();
  });

  it('continues the caller trace: server span is a child of the client span (traceparent metadata)', async () => {
    spans.reset();
    const client = echoClient(handle.port, { interceptors: [traceContextInterceptor] });
    const res = await unaryCall(client.say.bind(client), { text: 'trace me' });
    client.close();
    const finished = spans.getFinishedSpans();
    const clientSpan = finished.find((s) => s.kind === 2 /* CLIENT */ && s.name === `${ECHO_SERVICE_NAME}/Say`);
    const serverSpan = finished.find((s) => s.kind === 1 /* SERVER */ && s.name === `${ECHO_SERVICE_NAME}/Say`);
    assert.ok(clientSpan && serverSpan, finished.map((s) => `${s.kind}:${s.name}`).join(','));
    assert.equal(serverSpan.spanContext().traceId, clientSpan.spanContext().traceId);
    assert.equal(serverSpan.parentSpanContext?.spanId, clientSpan.spanContext().spanId);
    assert.equal(res.traceId, clientSpan.spanContext().traceId, 'handler sees the trace as active');
    assert.equal(serverSpan.attributes['rpc.grpc.status_code'], grpc.status.OK);
  });

  it('records rpc.server.duration by method and status code', async () => {
    const { resourceMetrics } = await metricReader.collect();
    const metric = resourceMetrics.scopeMetrics
      .flatMap((s) => s.metrics)
      .find((m) => m.descriptor.name === 'rpc.server.duration');
    assert.ok(metric, 'histogram exported');
    const codes = new Set(
      metric.dataPoints.map((p) => `${p.attributes['rpc.method']}:${p.attributes['rpc.grpc.status_code']}`),
    );
    assert.ok(codes.has(`Say:${grpc.status.OK}`), [...codes].join(','));
    assert.ok(codes.has(`Say:${grpc.status.INVALID_ARGUMENT}`));
    assert.ok(codes.has(`Say:${grpc.status.INTERNAL}`));
  });

  it('shuts down gracefully: NOT_SERVING, in-flight call completes, streams end UNAVAILABLE, new calls refused', async () => {
    // The slow call tells when it is in flight and finishes when released: no timers as synchronization.
    let slowStarted!: () => void;
    const slowInFlight = new Promise<void>((r) => (slowStarted = r));
    let releaseSlow!: () => void;
    const slowGate = new Promise<void>((r) => (releaseSlow = r));
    const forcedBefore = lines.filter((l) => typeof l['msg'] === 'string' && /forcing/.test(l['msg'] as string)).length;
    const local = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      serviceNames: [ECHO_SERVICE_NAME],
      services: [
        {
          definition: echoServiceDefinition,
          implementation: {
            Say: wrapUnary<SayRequest, SayResponse>(
              async (call) => {
                if (call.request.fail === 'slow') {
                  slowStarted();
                  await slowGate;
                }
                return { text: call.request.text };
              },
              { logger },
            ),
            Watch: wrapServerStream<SayRequest, SayResponse>(
              async (call, ctx) => {
                call.write({ text: 'first' });
                await new Promise<void>((r) => ctx.signal.addEventListener('abort', () => r(), { once: true }));
              },
              { logger },
            ),
          },
        },
      ],
    });
    local.health.setServing();
    const client = echoClient(local.port);
    const health = healthClient(local.port);

    // An open watch stream.
    const stream = client.watch({ text: 'w' });
    const streamEnded = new Promise<grpc.StatusObject>((resolve) => {
      stream.on('error', () => undefined);
      stream.on('status', resolve);
    });
    await new Promise<void>((resolve) => stream.once('data', () => resolve()));

    // A slow in-flight unary call.
    const slow = unaryCall(client.say.bind(client), { text: 'slow', fail: 'slow' });
    await slowInFlight;

    const stopping = local.shutdown(5000, { drainDelayMs: 150 });
    assert.equal(local.health.status(''), 'NOT_SERVING');
    assert.equal(local.health.status(ECHO_SERVICE_NAME), 'NOT_SERVING');
    assert.equal(await checkHealth(health, ''), 'NOT_SERVING', 'probes see NOT_SERVING during the drain delay');

    releaseSlow();
    assert.equal((await slow).text, 'slow', 'the in-flight call completes');
    const status = await streamEnded;
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    assert.equal(status.metadata.get('authority-reason')[0], 'UNAVAILABLE');
    await stopping;
    const forcedAfter = lines.filter((l) => typeof l['msg'] === 'string' && /forcing/.test(l['msg'] as string)).length;
    assert.equal(forcedAfter, forcedBefore, 'a clean drain: nothing was forced at the deadline');

    await assert.rejects(
      unaryCall(client.say.bind(client), { text: 'late' }, { deadlineMs: 1000 }),
      (e: AuthorityClientError) => {
        assert.ok(e.code === grpc.status.UNAVAILABLE || e.code === grpc.status.DEADLINE_EXCEEDED, e.codeName);
        return true;
      },
    );
    client.close();
    health.close();
  });

  it('forces shutdown at the deadline when a handler never finishes', async () => {
    let hangingStarted!: () => void;
    const inFlight = new Promise<void>((r) => (hangingStarted = r));
    const local = await startGrpcServer({
      host: '127.0.0.1',
      port: 0,
      logger,
      serviceNames: [ECHO_SERVICE_NAME],
      services: [
        {
          definition: echoServiceDefinition,
          implementation: {
            Say: () => hangingStarted(), // never answers
            Watch: () => undefined,
          },
        },
      ],
    });
    const client = echoClient(local.port);
    const hanging = unaryCall(client.say.bind(client), { text: 'x' });
    await inFlight;
    await local.shutdown(300, { drainDelayMs: 0 });
    await assert.rejects(hanging, (e: AuthorityClientError) => e.code !== grpc.status.OK);
    assert.ok(lines.some((l) => typeof l['msg'] === 'string' && /forcing/.test(l['msg'] as string)));
    client.close();
  });
});
