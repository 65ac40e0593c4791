import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  lateBoundService,
  REASON_METADATA_KEY,
  ServiceLifecycle,
  silentLogger,
  startLateBoundGrpcServer,
} from '../src';

describe('ServiceLifecycle', () => {
  test('stop runs the steps by phase, last-registered first within one, once; a failing step skips nothing', async () => {
    const ran: string[] = [];
    const running = await ServiceLifecycle.start(silentLogger(), async (life) => {
      life.onStop('storage', 'mongo', () => {
        ran.push('mongo');
        throw new Error('close failed');
      });
      life.onStop('producers', 'kafka', () => void ran.push('kafka'));
      life.onStop('grpc', 'grpc server', async () => void ran.push('grpc server'));
      life.onStop('producers', 'flush', () => void ran.push('flush'));
      life.onStop('grpc', 'timer', () => void ran.push('timer'));
      return { stop: () => life.stop() };
    });
    await Promise.all([running.stop(), running.stop()]);
    await running.stop();
    assert.deepEqual(ran, ['timer', 'grpc server', 'flush', 'kafka', 'mongo']);
  });

  test('a failed start stops what it had started and rethrows', async () => {
    const ran: string[] = [];
    await assert.rejects(
      ServiceLifecycle.start(silentLogger(), async (life) => {
        life.onStop('grpc', 'server', () => void ran.push('server'));
        life.onStop('producers', 'kafka', () => void ran.push('kafka'));
        throw new Error('mongo unreachable');
      }),
      /mongo unreachable/,
    );
    assert.deepEqual(ran, ['server', 'kafka']);
  });

  test('no step can be registered once stopping began', async () => {
    const life = new ServiceLifecycle(silentLogger());
    await life.stop();
    assert.throws(() => life.onStop('grpc', 'late', () => undefined), /stopping/);
  });
});

describe('lateBoundService', () => {
  const definition = {
    Get: { path: '/t.T/Get', requestStream: false, responseStream: false },
    Watch: { path: '/t.T/Watch', requestStream: false, responseStream: true },
  } as unknown as grpc.ServiceDefinition;

  test('answers UNAVAILABLE with reason UNAVAILABLE until bound, then calls the handlers', () => {
    const api = lateBoundService<{ Get: (call: unknown, cb: (e: unknown, v?: unknown) => void) => void }>(
      definition,
      'thing',
    );
    const answers: unknown[] = [];
    const get = api.implementation['Get'] as (call: unknown, cb: (e: unknown, v?: unknown) => void) => void;
    get({}, (err) => answers.push(err));
    const status = answers[0] as grpc.StatusObject;
    assert.equal(status.code, grpc.status.UNAVAILABLE);
    assert.equal(status.details, 'thing is starting');
    assert.deepEqual(status.metadata.get(REASON_METADATA_KEY), ['UNAVAILABLE']);

    const streamErrors: unknown[] = [];
    const watch = api.implementation['Watch'] as (call: { emit(e: string, v: unknown): void }) => void;
    watch({ emit: (_e, v) => streamErrors.push(v) });
    assert.equal((streamErrors[0] as grpc.StatusObject).code, grpc.status.UNAVAILABLE);

    api.bind({ Get: (_call, cb) => cb(null, 'value') });
    get({}, (err, value) => answers.push([err, value]));
    assert.deepEqual(answers[1], [null, 'value']);
  });
});

describe('startLateBoundGrpcServer', () => {
  const json = {
    serialize: (v: unknown) => Buffer.from(JSON.stringify(v)),
    deserialize: (b: Buffer) => JSON.parse(b.toString()) as unknown,
  };
  const definition: grpc.ServiceDefinition = {
    Get: {
      path: '/t.T/Get',
      requestStream: false,
      responseStream: false,
      requestSerialize: json.serialize,
      requestDeserialize: json.deserialize,
      responseSerialize: json.serialize,
      responseDeserialize: json.deserialize,
    },
  };
  const Client = grpc.makeGenericClientConstructor(definition, 'T');

  test('serves UNAVAILABLE until bound, then the handlers; the lifecycle stop shuts the server', async () => {
    const life = new ServiceLifecycle(silentLogger());
    const api = await startLateBoundGrpcServer<{ Get: grpc.handleUnaryCall<unknown, unknown> }>(life, {
      definition,
      what: 'thing',
      graceMs: 1000,
      host: '127.0.0.1',
      port: 0,
      reflection: false,
      logger: silentLogger(),
      serviceNames: ['t.T'],
    });
    const client = new Client(`127.0.0.1:${api.server.port}`, grpc.credentials.createInsecure());
    type Callback = (err: grpc.ServiceError | null, value: unknown) => void;
    const typed = client as unknown as { Get(req: unknown, opts: grpc.CallOptions, cb: Callback): void };
    const get = () =>
      new Promise<{ err: grpc.ServiceError | null; value: unknown }>((resolve) =>
        typed.Get({ q: 1 }, { deadline: Date.now() + 5000 }, (err, value) => resolve({ err, value })),
      );
    try {
      const early = await get();
      assert.equal(early.err?.code, grpc.status.UNAVAILABLE);
      assert.equal(early.err?.details, 'thing is starting');

      api.bind({ Get: (call, cb) => cb(null, { echo: call.request }) });
      assert.deepEqual((await get()).value, { echo: { q: 1 } });

      await life.stop();
      const late = await get();
      assert.equal(late.err?.code, grpc.status.UNAVAILABLE, 'nothing listens any more');
      assert.notEqual(late.err?.details, 'thing is starting');
    } finally {
      client.close();
      await life.stop();
    }
  });
});
