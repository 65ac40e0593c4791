import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import { describe, it } from 'node:test';
import { ConfigError, runService, silentLogger } from '../src';

type RunOptions = Parameters<typeof runService>[0];

/** Exit codes and signals under the test's control; `run` is runService wired to them. */
function harness() {
  const exits: number[] = [];
  const signals = new EventEmitter();
  const exit = (code: number) => void exits.push(code);
  const run = (opts: Partial<RunOptions> & Pick<RunOptions, 'start'>) =>
    runService({
      name: 'svc',
      logger: silentLogger(),
      exit,
      signalSource: signals,
      handleProcessErrors: false,
      ...opts,
    });
  return { exits, signals, exit, run };
}

describe('runService', () => {
  it('on SIGTERM runs shutdown steps in phase order, then exits 0', async () => {
    const h = harness();
    const order: string[] = [];
    const svc = h.run({
      start: async (ctx) => {
        // Registered out of order on purpose.
        ctx.onShutdown('telemetry', 'otel', () => void order.push('telemetry'));
        ctx.onShutdown('storage', 'mongo', () => void order.push('storage'));
        ctx.onShutdown('producers', 'producer', async () => void order.push('producers'));
        ctx.onShutdown('consumers', 'consumer', () => void order.push('consumers'));
        ctx.onShutdown('grpc', 'grpc', () => void order.push('grpc'));
        return () => void order.push('stop-fn');
      },
    });
    await svc.started;
    h.signals.emit('SIGTERM');
    assert.equal(await svc.stopped, 0);
    assert.deepEqual(order, ['stop-fn', 'grpc', 'consumers', 'producers', 'storage', 'telemetry']);
    assert.deepEqual(h.exits, [0]);
  });

  it('exits 1 when a step fails, still running the later steps', async () => {
    const h = harness();
    const ran: string[] = [];
    const svc = h.run({
      start: async (ctx) => {
        ctx.onShutdown('consumers', 'bad', () => {
          throw new Error('disconnect failed');
        });
        ctx.onShutdown('storage', 'mongo', () => void ran.push('storage'));
      },
    });
    await svc.started;
    h.signals.emit('SIGINT');
    assert.equal(await svc.stopped, 1);
    assert.deepEqual(ran, ['storage']);
  });

  it('enforces the deadline on a hanging step', async () => {
    const h = harness();
    const svc = h.run({
      graceMs: 100,
      start: async (ctx) => {
        ctx.onShutdown('grpc', 'hang', () => new Promise(() => undefined));
      },
    });
    await svc.started;
    h.signals.emit('SIGTERM');
    assert.equal(await svc.stopped, 1, 'a step that never finishes fails the shutdown at its deadline');
  });

  it('a failed start exits non-zero (78 for configuration) after cleaning up', async () => {
    const h = harness();
    const cleaned: string[] = [];
    const svc = h.run({
      start: async (ctx) => {
        ctx.onShutdown('storage', 'mongo', () => void cleaned.push('mongo'));
        throw new Error('kafka unreachable');
      },
    });
    await assert.rejects(svc.started, /kafka unreachable/);
    assert.equal(await svc.stopped, 1);
    assert.deepEqual(cleaned, ['mongo']);

    const h2 = harness();
    const svc2 = h2.run({
      start: async () => {
        throw new ConfigError([{ variable: 'X', problem: 'bad' }]);
      },
    });
    await assert.rejects(svc2.started, ConfigError);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(h2.exits, [78]);
  });

  it('ctx.fatal shuts down and exits 1; the abort signal fires', async () => {
    const h = harness();
    let signal!: AbortSignal;
    const svc = h.run({
      start: async (ctx) => {
        signal = ctx.signal;
        setImmediate(() => ctx.fatal(new Error('consumer crashed'), 'consumer crashed'));
      },
    });
    await svc.started;
    assert.equal(await svc.stopped, 1);
    assert.equal(signal.aborted, true);
    assert.deepEqual(h.exits, [1]);
  });

  it('a second signal during shutdown exits 1 at once', async () => {
    const h = harness();
    const svc = h.run({
      graceMs: 5000,
      start: async (ctx) => {
        ctx.onShutdown('grpc', 'slow', () => new Promise((r) => setTimeout(r, 300)));
      },
    });
    await svc.started;
    h.signals.emit('SIGTERM');
    h.signals.emit('SIGTERM');
    assert.deepEqual(h.exits, [1]);
    assert.equal(h.signals.listenerCount('SIGTERM'), 0, 'listeners removed');
  });
});
