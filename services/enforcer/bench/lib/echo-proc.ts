// Child process for the gRPC baseline: a grpc-js server implementing EnforcerService by answering
// a canned response (argv[2], JSON) at once: the same messages on the wire, no work behind them.
import * as grpc from '@grpc/grpc-js';
import { loadAuthorityProto, type CheckResponse } from '@authority/proto';

const canned = JSON.parse(process.argv[2] ?? '{}') as CheckResponse;
const { grpcObject } = loadAuthorityProto();
const server = new grpc.Server();
server.addService(grpcObject.authority.v1.EnforcerService.service, {
  Check: (_call: grpc.ServerUnaryCall<unknown, CheckResponse>, cb: grpc.sendUnaryData<CheckResponse>) =>
    cb(null, canned),
  BatchCheck: (call: grpc.ServerUnaryCall<{ checks: unknown[] }, unknown>, cb: grpc.sendUnaryData<unknown>) =>
    cb(null, { results: call.request.checks.map(() => canned) }),
});
server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => {
  if (err) throw err;
  process.stdout.write(`${JSON.stringify({ port })}\n`);
});
process.stdin.on('end', () => server.tryShutdown(() => process.exit(0)));
process.stdin.resume();
