// The in-process lifecycle of a service (what each services/*/src/index.ts start function runs;
// runService in service-runner.ts is the process around it). Two parts, kept small:
//
// - ServiceLifecycle.start(logger, async (life) => { ... }): the start function registers, for each
//   part it started, the step that undoes it (`life.onStop(phase, name, step)`), right after that
//   part started. If the start throws, the steps registered so far run and the error is rethrown;
//   afterwards `life.stop()` runs them all. Steps run by phase in runService's order (grpc: stop
//   serving → consumers → producers: flush → storage → telemetry) and, within a phase,
//   last-registered first (what started last stops first); each runs once, and a failing step is
//   logged without skipping the others.
// - lateBoundService(definition, what): a gRPC implementation whose handlers are bound when the
//   service is ready (`bind(handlers)`), so the server can listen (health NOT_SERVING) while
//   state is replayed. Until then every call is answered UNAVAILABLE (reason `UNAVAILABLE`) through
//   the one error mapping (toGrpcError), unary and streaming alike. startLateBoundGrpcServer starts
//   the server of one such service and registers its shutdown: the lines below in one call.
//
//   export async function startThing(config: ThingConfig): Promise<RunningThing> {
//     return ServiceLifecycle.start(logger, async (life) => {
//       const api = lateBoundService<ThingHandlers>(definition, 'thing');
//       const server = await startGrpcServer({ services: [{ definition, implementation: api.implementation }], ... });
//       life.onStop('grpc', 'grpc server', () => server.shutdown(graceMs));
//       const bus = createKafka(...);
//       life.onStop('producers', 'kafka', () => bus.disconnect());
//       ...
//       api.bind(thingHandlers(...));
//       server.health.setServing();
//       return { port: server.port, stop: () => life.stop() };
//     });
//   }
import type * as grpc from '@grpc/grpc-js';
import { toGrpcError, UnavailableError } from './errors';
import { startGrpcServer, type GrpcServerHandle, type StartGrpcServerOptions } from './grpc-server';
import type { Logger } from './logger';
import { SHUTDOWN_PHASES, type ShutdownPhase } from './service-runner';

export type StopStep = () => Promise<void> | void;

export class ServiceLifecycle {
  private readonly steps: { phase: ShutdownPhase; name: string; step: StopStep }[] = [];
  private stopping: Promise<void> | undefined;

  constructor(private readonly logger: Logger) {}

  /**
   * Runs a service's start function; when it throws, stops what it had started and rethrows.
   * The lifecycle stays usable by what `start` returns (its `stop()` calls `life.stop()`).
   */
  static async start<T>(logger: Logger, start: (life: ServiceLifecycle) => Promise<T>): Promise<T> {
    const life = new ServiceLifecycle(logger);
    try {
      return await start(life);
    } catch (err) {
      await life.stop();
      throw err;
    }
  }

  /** Registers the step that undoes a part just started (see the header for the order). */
  onStop(phase: ShutdownPhase, name: string, step: StopStep): void {
    if (this.stopping !== undefined) throw new Error(`cannot register '${name}': the service is stopping`);
    this.steps.push({ phase, name, step });
  }

  /** Runs every registered step once, in phase order (idempotent: later calls wait). */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      const ordered = this.steps
        .map((s, i) => ({ ...s, i }))
        .sort((a, b) => SHUTDOWN_PHASES.indexOf(a.phase) - SHUTDOWN_PHASES.indexOf(b.phase) || b.i - a.i);
      for (const { name, step } of ordered) {
        try {
          await step();
        } catch (err) {
          this.logger.warn({ err, step: name }, 'stop step failed');
        }
      }
    })();
    return this.stopping;
  }
}

/** A gRPC service implementation whose handlers are bound once the service is ready. */
export interface LateBoundService<H> {
  implementation: grpc.UntypedServiceImplementation;
  /** Binds the handlers: calls from now on reach them. */
  bind(handlers: H): void;
}

/** See the header: every method answers UNAVAILABLE (`<what> is starting`) until bind(). */
export function lateBoundService<H extends object>(
  definition: grpc.ServiceDefinition,
  what: string,
): LateBoundService<H> {
  let bound: Record<string, (...args: unknown[]) => void> | undefined;
  const starting = () => toGrpcError(new UnavailableError(`${what} is starting`));
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [name, method] of Object.entries(definition)) {
    implementation[name] = ((call: { emit(event: 'error', err: unknown): void }, callback?: (err: unknown) => void) => {
      const handler = bound?.[name];
      if (handler !== undefined) return handler(call, callback);
      // Unary and client-streaming calls answer through the callback; server-streaming and
      // bidirectional ones by an error on the call.
      if (method.responseStream) call.emit('error', starting());
      else callback?.(starting());
    }) as grpc.UntypedHandleCall;
  }
  return {
    implementation,
    bind(handlers: H) {
      bound = handlers as unknown as Record<string, (...args: unknown[]) => void>;
    },
  };
}

/**
 * Starts the gRPC server of one service whose handlers are bound later (lateBoundService) and
 * registers its shutdown (`graceMs`, no drain delay: the service binds when it is ready, so a stop
 * before that has no traffic to drain). Returns the server and `bind`.
 */
export async function startLateBoundGrpcServer<H extends object>(
  life: ServiceLifecycle,
  opts: Omit<StartGrpcServerOptions, 'services'> & {
    definition: grpc.ServiceDefinition;
    /** Named in the UNAVAILABLE answers until bind (`<what> is starting`). */
    what: string;
    graceMs: number;
  },
): Promise<{ server: GrpcServerHandle; bind(handlers: H): void }> {
  const { definition, what, graceMs, ...server } = opts;
  const api = lateBoundService<H>(definition, what);
  const handle = await startGrpcServer({ ...server, services: [{ definition, implementation: api.implementation }] });
  life.onStop('grpc', 'grpc server', () => handle.shutdown(graceMs, { drainDelayMs: 0 }));
  return { server: handle, bind: (handlers) => api.bind(handlers) };
}
