// Minimal promise clients over the generated gRPC types, with a Bearer credential per call. (The
// SDK package is the full-featured client; the demo keeps its own few lines so it has no moving parts.)
import * as grpc from '@grpc/grpc-js';
import { service as healthService } from 'grpc-health-check';
import {
  loadAuthorityProto,
  type AuditorServiceClient,
  type EnforcerServiceClient,
  type IssuerServiceClient,
  type PolicyServiceClient,
} from '@authority/proto';

export interface ServiceAddresses {
  issuer: string;
  enforcer: string;
  policy: string;
  auditor: string;
}

export interface Clients {
  issuer: IssuerServiceClient;
  enforcer: EnforcerServiceClient;
  policy: PolicyServiceClient;
  auditor: AuditorServiceClient;
  close(): void;
}

export function connect(addresses: ServiceAddresses): Clients {
  const v1 = loadAuthorityProto().grpcObject.authority.v1;
  const creds = grpc.credentials.createInsecure();
  const clients = {
    issuer: new v1.IssuerService(addresses.issuer, creds),
    enforcer: new v1.EnforcerService(addresses.enforcer, creds),
    policy: new v1.PolicyService(addresses.policy, creds),
    auditor: new v1.AuditorService(addresses.auditor, creds),
  };
  return { ...clients, close: () => Object.values(clients).forEach((c) => c.close()) };
}

// Inference picks the last overload of a generated method, `(argument, callback)`; the call itself
// passes metadata and options too, which every generated method accepts.
type Unary<Req, Res> = (req: Req, cb: grpc.requestCallback<Res>) => unknown;
type UnaryWithOptions = (
  req: unknown,
  md: grpc.Metadata,
  opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res?: unknown) => void,
) => unknown;

/** Calls a unary method with `authorization: Bearer <secret>` and a deadline. */
export function call<Req, Res>(
  client: grpc.Client,
  method: Unary<Req, Res>,
  req: Req,
  secret: string,
  timeoutMs = 10_000,
): Promise<Res> {
  const md = new grpc.Metadata();
  md.set('authorization', `Bearer ${secret}`);
  return new Promise((resolve, reject) => {
    (method as unknown as UnaryWithOptions).call(client, req, md, { deadline: Date.now() + timeoutMs }, (err, res) =>
      err ? reject(err) : resolve(res as Res),
    );
  });
}

/** Resolves when the server at `address` reports SERVING on grpc.health.v1 (polls until the deadline). */
export async function waitServing(
  address: string,
  deadlineMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  const Health = grpc.makeGenericClientConstructor(healthService, 'Health');
  const client = new Health(address, grpc.credentials.createInsecure()) as unknown as grpc.Client & {
    check: (
      req: { service: string },
      opts: grpc.CallOptions,
      cb: (err: grpc.ServiceError | null, res?: { status: string }) => void,
    ) => void;
  };
  try {
    for (;;) {
      if (!isAlive()) throw new Error(`the process serving ${address} exited`);
      const status = await new Promise<string>((resolve) =>
        client.check({ service: '' }, { deadline: Date.now() + 1000 }, (err, res) =>
          resolve(err ? `error: ${err.message}` : String(res?.status)),
        ),
      );
      if (status === 'SERVING') return;
      if (Date.now() > deadlineMs) throw new Error(`${address} not SERVING before the deadline (last: ${status})`);
      // Back off briefly between polls of a condition (not a synchronization sleep: the loop
      // exits on the observed state).
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    client.close();
  }
}

/** Resolves when GET `url` answers 200 (the gateway's /readyz; polls until the deadline). */
export async function waitHttpReady(
  url: string,
  deadlineMs: number,
  isAlive: () => boolean = () => true,
): Promise<void> {
  for (;;) {
    if (!isAlive()) throw new Error(`the process serving ${url} exited`);
    const status = await fetch(url, { signal: AbortSignal.timeout(1000) }).then(
      (r) => String(r.status),
      (err: Error) => `error: ${err.message}`,
    );
    if (status === '200') return;
    if (Date.now() > deadlineMs) throw new Error(`${url} not ready before the deadline (last: ${status})`);
    // Back off between polls of a condition (the loop exits on the observed state).
    await new Promise((r) => setTimeout(r, 200));
  }
}
