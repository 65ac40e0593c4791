// A grpc-js server with health (grpc.health.v1), reflection, optional TLS/mTLS, and a graceful
// shutdown: NOT_SERVING → short delay → end streams → tryShutdown with a deadline → forceShutdown.
import * as grpc from '@grpc/grpc-js';
import { ReflectionService } from '@grpc/reflection';
import { HealthImplementation, type ServingStatus } from 'grpc-health-check';
import { setMaxListeners } from 'node:events';
import { readFileSync } from 'node:fs';
import { SERVER_CLOSING_SIGNAL } from './grpc-handlers';
import type { Logger } from './logger';

export interface GrpcServiceBinding {
  definition: grpc.ServiceDefinition;
  implementation: grpc.UntypedServiceImplementation;
}

/** PEM material. With `ca`, clients must present a certificate signed by it (mTLS). */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer;
}

export interface StartGrpcServerOptions {
  services: GrpcServiceBinding[];
  /** The proto-loader package definition of `services`; enables reflection. */
  packageDefinition?: object;
  /** Serve reflection (default true when packageDefinition is given). */
  reflection?: boolean;
  host: string;
  /** 0 picks a free port (tests); the bound port is returned. */
  port: number;
  tls?: TlsMaterial;
  logger: Logger;
  /** Fully-qualified service names reported by health (besides `''`), e.g. `authority.v1.Enforcer`. */
  serviceNames: string[];
  serverOptions?: grpc.ServerOptions;
}

/**
 * The health service name liveness probes ask for. It answers SERVING from the moment the server
 * listens until the process exits, whatever the readiness (`''` and the service names) says: a
 * replica that is not ready because a dependency is down (the enforcer during a Kafka outage) is
 * taken out of rotation, not restarted. It stops answering only when the process cannot (a blocked
 * event loop, a dead process), which is what a restart fixes.
 */
export const LIVENESS_SERVICE = 'liveness';

export interface HealthControl {
  /** `''` and every service name → SERVING. */
  setServing(): void;
  /** `''` and every service name → NOT_SERVING. */
  setNotServing(): void;
  /** One service's status (e.g. a single dependency-backed service). */
  setStatus(service: string, status: ServingStatus): void;
  status(service?: string): ServingStatus | undefined;
}

export interface ShutdownOptions {
  /** Wait after NOT_SERVING so load balancers stop routing here (default min(2 s, grace/5)). */
  drainDelayMs?: number;
}

export interface GrpcServerHandle {
  server: grpc.Server;
  /** The bound port (the real one when 0 was asked). */
  port: number;
  health: HealthControl;
  /**
   * Graceful stop within `graceMs`: NOT_SERVING, drain delay, streaming handlers told to end,
   * tryShutdown; forceShutdown when the deadline passes. Resolves when stopped (idempotent).
   */
  shutdown(graceMs: number, opts?: ShutdownOptions): Promise<void>;
}

/** Reads TLS files named by the common config (AUTHORITY_TLS_CERT/_KEY/_CA); undefined when unset. */
export function tlsFromConfig(config: {
  AUTHORITY_TLS_CERT?: string | undefined;
  AUTHORITY_TLS_KEY?: string | undefined;
  AUTHORITY_TLS_CA?: string | undefined;
}): TlsMaterial | undefined {
  if (!config.AUTHORITY_TLS_CERT || !config.AUTHORITY_TLS_KEY) return undefined;
  const tls: TlsMaterial = {
    cert: readFileSync(config.AUTHORITY_TLS_CERT),
    key: readFileSync(config.AUTHORITY_TLS_KEY),
  };
  if (config.AUTHORITY_TLS_CA) tls.ca = readFileSync(config.AUTHORITY_TLS_CA);
  return tls;
}

/** The server settings every service reads from the common config (serviceConfigSchema), TLS included. */
export function grpcServerSettings(config: {
  AUTHORITY_GRPC_HOST: string;
  AUTHORITY_GRPC_PORT: number;
  AUTHORITY_REFLECTION: boolean;
  AUTHORITY_TLS_CERT?: string | undefined;
  AUTHORITY_TLS_KEY?: string | undefined;
  AUTHORITY_TLS_CA?: string | undefined;
}): Pick<StartGrpcServerOptions, 'host' | 'port' | 'reflection' | 'tls'> {
  const tls = tlsFromConfig(config);
  return {
    host: config.AUTHORITY_GRPC_HOST,
    port: config.AUTHORITY_GRPC_PORT,
    reflection: config.AUTHORITY_REFLECTION,
    ...(tls !== undefined ? { tls } : {}),
  };
}

function hostPort(host: string, port: number): string {
  return host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`;
}

/** Gives streaming handlers the server's "closing" signal (read by wrapServerStream). */
function withClosingSignal(binding: GrpcServiceBinding, signal: AbortSignal): grpc.UntypedServiceImplementation {
  const impl: grpc.UntypedServiceImplementation = { ...binding.implementation };
  for (const [name, method] of Object.entries(binding.definition)) {
    if (!method.responseStream) continue;
    for (const key of [name, method.originalName]) {
      if (!key) continue;
      const original = impl[key];
      if (typeof original !== 'function') continue;
      impl[key] = ((call: object, ...rest: unknown[]) => {
        (call as Record<symbol, AbortSignal>)[SERVER_CLOSING_SIGNAL] = signal;
        return (original as (...args: unknown[]) => unknown)(call, ...rest);
      }) as grpc.UntypedHandleCall;
    }
  }
  return impl;
}

/**
 * Starts serving; health (readiness) starts NOT_SERVING until the service calls
 * `health.setServing()`; `liveness` is SERVING throughout (LIVENESS_SERVICE).
 */
export async function startGrpcServer(opts: StartGrpcServerOptions): Promise<GrpcServerHandle> {
  const server = new grpc.Server(opts.serverOptions);
  const closing = new AbortController();
  setMaxListeners(0, closing.signal); // one listener per open stream; many is normal
  const names = ['', ...opts.serviceNames.filter((n) => n !== '' && n !== LIVENESS_SERVICE)];
  const statuses = new Map<string, ServingStatus>(names.map((n) => [n, 'NOT_SERVING']));
  const healthImpl = new HealthImplementation({ ...Object.fromEntries(statuses), [LIVENESS_SERVICE]: 'SERVING' });
  healthImpl.addToServer(server);

  for (const binding of opts.services) {
    server.addService(binding.definition, withClosingSignal(binding, closing.signal));
  }
  if (opts.packageDefinition && (opts.reflection ?? true)) {
    const reflection = new ReflectionService(
      opts.packageDefinition as ConstructorParameters<typeof ReflectionService>[0],
    );
    reflection.addToServer(server);
  }

  const creds = opts.tls
    ? grpc.ServerCredentials.createSsl(
        opts.tls.ca ?? null,
        [{ cert_chain: opts.tls.cert, private_key: opts.tls.key }],
        opts.tls.ca !== undefined,
      )
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) => {
    server.bindAsync(hostPort(opts.host, opts.port), creds, (err, bound) => (err ? reject(err) : resolve(bound)));
  });
  opts.logger.info(
    { host: opts.host, port, tls: Boolean(opts.tls), mtls: Boolean(opts.tls?.ca), services: opts.serviceNames },
    'gRPC server listening',
  );

  const setStatus = (service: string, status: ServingStatus) => {
    statuses.set(service, status);
    healthImpl.setStatus(service, status);
  };
  const health: HealthControl = {
    setServing: () => names.forEach((n) => setStatus(n, 'SERVING')),
    setNotServing: () => names.forEach((n) => setStatus(n, 'NOT_SERVING')),
    setStatus,
    status: (service = '') => statuses.get(service),
  };

  let stopping: Promise<void> | undefined;
  const shutdown = (graceMs: number, sopts: ShutdownOptions = {}): Promise<void> => {
    stopping ??= (async () => {
      const deadline = Date.now() + graceMs;
      health.setNotServing();
      const delay = Math.max(0, Math.min(sopts.drainDelayMs ?? Math.min(2000, graceMs / 5), graceMs));
      if (delay > 0) await new Promise((r) => setTimeout(r, delay));
      closing.abort(new Error('server shutting down'));
      const remaining = Math.max(0, deadline - Date.now());
      const clean = await new Promise<boolean>((resolve) => {
        const timer = setTimeout(() => resolve(false), remaining);
        server.tryShutdown(() => {
          clearTimeout(timer);
          resolve(true);
        });
      });
      if (!clean) {
        opts.logger.warn({ grace_ms: graceMs }, 'gRPC calls still running at the shutdown deadline; forcing');
        server.forceShutdown();
      } else {
        opts.logger.info('gRPC server stopped');
      }
    })();
    return stopping;
  };

  return { server, port, health, shutdown };
}
