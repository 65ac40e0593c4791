// grpc.health.v1.Health/Check on any channel. The two messages are tiny and fixed by the gRPC
// health-checking protocol (HealthCheckRequest{string service = 1}, HealthCheckResponse{enum
// status = 1}), so they are encoded here rather than pulling a second proto loader into the SDK.
import * as grpc from '@grpc/grpc-js';
import { fromServiceError } from './errors';

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';
const STATUS_NAMES: readonly ServingStatus[] = ['UNKNOWN', 'SERVING', 'NOT_SERVING', 'SERVICE_UNKNOWN'];

function encodeVarint(n: number): number[] {
  const out: number[] = [];
  let v = n;
  while (v > 0x7f) {
    out.push((v & 0x7f) | 0x80);
    v = Math.floor(v / 128);
  }
  out.push(v);
  return out;
}

/** Encodes HealthCheckRequest{service}. */
export function encodeHealthRequest(service: string): Buffer {
  if (service === '') return Buffer.alloc(0);
  const bytes = Buffer.from(service, 'utf8');
  return Buffer.concat([Buffer.from([0x0a, ...encodeVarint(bytes.length)]), bytes]);
}

/** Decodes HealthCheckResponse (skipping unknown fields); throws on malformed bytes. */
export function decodeHealthResponse(buf: Buffer): ServingStatus {
  let i = 0;
  let status = 0;
  const varint = (): number => {
    let result = 0;
    let shift = 0;
    for (;;) {
      if (i >= buf.length || shift > 35) throw new Error('malformed HealthCheckResponse');
      const b = buf[i++] as number;
      result += (b & 0x7f) * 2 ** shift;
      if ((b & 0x80) === 0) return result;
      shift += 7;
    }
  };
  while (i < buf.length) {
    const tag = varint();
    const field = Math.floor(tag / 8);
    const wire = tag & 7;
    if (wire === 0) {
      const v = varint();
      if (field === 1) status = v;
    } else if (wire === 2) {
      const len = varint();
      i += len;
    } else if (wire === 1) i += 8;
    else if (wire === 5) i += 4;
    else throw new Error('malformed HealthCheckResponse');
    if (i > buf.length) throw new Error('malformed HealthCheckResponse');
  }
  return STATUS_NAMES[status] ?? 'UNKNOWN';
}

/** Calls grpc.health.v1.Health/Check on an existing client's channel. */
export function checkHealth(
  client: grpc.Client,
  service: string,
  opts: {
    deadlineMs?: number;
    metadata?: grpc.Metadata;
    address?: string;
    onResponseHeaders?: (headers: grpc.Metadata) => void;
  } = {},
): Promise<ServingStatus> {
  const method = '/grpc.health.v1.Health/Check';
  return new Promise((resolve, reject) => {
    const call = client.makeUnaryRequest<string, ServingStatus>(
      method,
      encodeHealthRequest,
      decodeHealthResponse,
      service,
      opts.metadata ?? new grpc.Metadata(),
      { deadline: new Date(Date.now() + (opts.deadlineMs ?? 3000)) },
      (err, value) => {
        if (err) {
          if (err.code === grpc.status.NOT_FOUND) resolve('SERVICE_UNKNOWN');
          else
            reject(
              fromServiceError(err, {
                method: 'grpc.health.v1.Health/Check',
                ...(opts.address ? { address: opts.address } : {}),
              }),
            );
        } else resolve(value ?? 'UNKNOWN');
      },
    );
    if (opts.onResponseHeaders) call.on('metadata', opts.onResponseHeaders);
  });
}
