// In-process fake gRPC servers on port 0 for SDK unit tests (no infrastructure).
import * as grpc from '@grpc/grpc-js';
import { loadAuthorityProto, type CheckRequest__Output, type CheckResponse } from '@authority/proto';

export type UnaryHandler = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => void;

export interface FakeServer {
  address: string;
  port: number;
  server: grpc.Server;
  /** Requests received, per method name. */
  calls: { method: string; request: unknown; metadata: grpc.Metadata }[];
  stop(): Promise<void>;
}

/** Starts a server for `service` (a proto-loader service definition) with the given handlers. */
export async function startFake(
  definition: grpc.ServiceDefinition,
  handlers: Record<string, UnaryHandler>,
  credentials: grpc.ServerCredentials = grpc.ServerCredentials.createInsecure(),
): Promise<FakeServer> {
  const server = new grpc.Server();
  const calls: FakeServer['calls'] = [];
  const impl: grpc.UntypedServiceImplementation = {};
  for (const method of Object.keys(definition)) {
    impl[method] = (call: grpc.ServerUnaryCall<unknown, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      calls.push({ method, request: call.request, metadata: call.metadata });
      const h = handlers[method];
      if (h) h(call, cb);
      else cb({ code: grpc.status.UNIMPLEMENTED, details: `${method} not faked` });
    };
  }
  server.addService(definition, impl);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (err, p) => (err ? reject(err) : resolve(p))),
  );
  return {
    address: `127.0.0.1:${port}`,
    port,
    server,
    calls,
    stop: () =>
      new Promise<void>((resolve) => {
        server.forceShutdown();
        resolve();
      }),
  };
}

export function v1() {
  return loadAuthorityProto().grpcObject.authority.v1;
}

/** A fake enforcer answering every Check with `answer(request)`. */
export function startFakeEnforcer(
  answer: (
    req: CheckRequest__Output,
    call: grpc.ServerUnaryCall<unknown, unknown>,
  ) => CheckResponse | grpc.ServiceError | 'hang',
): Promise<FakeServer> {
  return startFake(v1().EnforcerService.service, {
    Check: (call, cb) => {
      const out = answer(call.request as CheckRequest__Output, call);
      if (out === 'hang') return; // never answers: the client's deadline fires
      if (out instanceof Error) cb(out);
      else cb(null, out);
    },
  });
}

/** A gRPC error status with authority metadata, as the services send it. */
export function statusError(code: grpc.status, details: string, reason?: string, field?: string): grpc.ServiceError {
  const metadata = new grpc.Metadata();
  if (reason) metadata.set('authority-reason', reason);
  if (field) metadata.set('authority-field', field);
  return Object.assign(new Error(details), { code, details, metadata }) as grpc.ServiceError;
}

/** An enforcer whose Check responses are undecodable bytes (malformed response). */
export function startGarbageEnforcer(): Promise<FakeServer> {
  const def = v1().EnforcerService.service;
  const broken: grpc.ServiceDefinition = {
    ...def,
    Check: { ...def.Check, responseSerialize: () => Buffer.from([0x08, 0xff, 0xff, 0xff]) } as grpc.MethodDefinition<
      unknown,
      unknown
    >,
  };
  return startFake(broken, { Check: (_call, cb) => cb(null, {}) });
}

/**
 * An address nothing listens on: privileged low ports that no test process can bind (a port bound
 * and released could be reused by a concurrent test process).
 */
let nextClosed = 0;
export async function closedAddress(): Promise<string> {
  const ports = [1, 9, 7, 13];
  return `127.0.0.1:${ports[nextClosed++ % ports.length]}`;
}
