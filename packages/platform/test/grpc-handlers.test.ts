// wrapUnary's per-call context: the abort signal and the rpc-bound logger are made only when a
// handler reads them (they cost more than the rest of the wrapper), and still reflect a client
// cancellation that happened before the read.
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { getHeapSpaceStatistics, setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import { createLogger, wrapUnary, type HandlerContext, type Logger } from '../src';

/** A unary call as grpc-js hands it to a handler (the parts the wrapper reads). */
function fakeCall(): grpc.ServerUnaryCall<unknown, unknown> & EventEmitter {
  const call = new EventEmitter() as grpc.ServerUnaryCall<unknown, unknown> & EventEmitter;
  Object.assign(call, {
    metadata: new grpc.Metadata(),
    cancelled: false,
    request: {},
    getPath: () => '/test.v1.Svc/Do',
  });
  return call;
}

/** A logger whose child() calls are counted. */
function countingLogger(): { logger: Logger; children: Record<string, unknown>[] } {
  const base = createLogger({ service: 'grpc-handlers-test', level: 'silent' });
  const children: Record<string, unknown>[] = [];
  const logger = new Proxy(base, {
    get(target, prop, receiver) {
      if (prop === 'child')
        return (bindings: Record<string, unknown>) => {
          children.push(bindings);
          return target.child(bindings);
        };
      return Reflect.get(target, prop, receiver) as unknown;
    },
  });
  return { logger, children };
}

function invoke(
  handler: grpc.handleUnaryCall<unknown, unknown>,
  call: grpc.ServerUnaryCall<unknown, unknown>,
): Promise<{ err: unknown; value: unknown }> {
  return new Promise((resolve) => handler(call, (err, value) => resolve({ err, value })));
}

describe('wrapUnary handler context', () => {
  it('makes no logger child when the handler does not log, and answers the call', async () => {
    const { logger, children } = countingLogger();
    const call = fakeCall();
    const handler = wrapUnary(async () => ({ ok: true }), { logger });
    const { err, value } = await invoke(handler, call);
    assert.equal(err, null);
    assert.deepEqual(value, { ok: true });
    // grpc-js reports 'cancelled' after completed calls too: nothing to do then.
    call.emit('cancelled');
    assert.equal(children.length, 0);
  });

  it('binds the rpc to the logger a handler reads', async () => {
    const { logger, children } = countingLogger();
    const handler = wrapUnary(
      async (_call, ctx: HandlerContext) => {
        ctx.logger.info('x');
        ctx.logger.info('y');
        return {};
      },
      { logger },
    );
    await invoke(handler, fakeCall());
    assert.deepEqual(children, [{ rpc: 'test.v1.Svc/Do' }]);
  });

  it('gives a signal already aborted when the client cancelled before the handler read it', async () => {
    const { logger } = countingLogger();
    const call = fakeCall();
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => (release = r));
    let seen: { aborted: boolean; reason: unknown } | undefined;
    const handler = wrapUnary(
      async (_call, ctx: HandlerContext) => {
        await gate;
        seen = { aborted: ctx.signal.aborted, reason: ctx.signal.reason };
        return {};
      },
      { logger },
    );
    const answered = invoke(handler, call);
    call.emit('cancelled');
    release();
    await answered;
    assert.equal(seen?.aborted, true);
    assert.match(String((seen?.reason as Error).message), /cancelled by client/);
  });

  it('aborts a signal the handler holds when the client cancels', async () => {
    const { logger } = countingLogger();
    const call = fakeCall();
    let listening: () => void = () => undefined;
    const holding = new Promise<void>((r) => (listening = r));
    const handler = wrapUnary(
      async (_call, ctx: HandlerContext) => {
        const signal = ctx.signal;
        assert.equal(signal.aborted, false);
        listening();
        await new Promise<void>((r) => signal.addEventListener('abort', () => r(), { once: true }));
        return { aborted: signal.aborted };
      },
      { logger },
    );
    const answered = invoke(handler, call);
    await holding;
    call.emit('cancelled');
    assert.deepEqual((await answered).value, { aborted: true });
  });

  it('leaves nothing of a finished call reachable from the old generation', async () => {
    // A call's objects must die young: held from old space, each young-generation collection
    // copies and promotes them (at 1,000 calls/s that made every collection a 5-9 ms pause).
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as (opts?: { type: 'minor' | 'major' }) => void;
    const oldSpaceUsed = () => getHeapSpaceStatistics().find((s) => s.space_name === 'old_space')?.space_used_size ?? 0;
    const { logger } = countingLogger();
    const handler = wrapUnary(async () => ({ ok: true }), { logger });
    const calls = async (n: number) => {
      for (let i = 0; i < n; i++) await invoke(handler, fakeCall());
    };
    // Warm: what the first calls compile and record lands in the old generation once.
    await calls(5_000);
    gc();
    const before = oldSpaceUsed();
    const n = 10_000;
    await calls(n);
    gc({ type: 'minor' });
    gc({ type: 'minor' });
    // Measured: ~1,800 bytes per call held from old space before the fix, under 40 after it.
    const perCall = (oldSpaceUsed() - before) / n;
    assert.ok(perCall < 256, `${perCall.toFixed(0)} bytes of the old generation per finished call`);
  });
});
