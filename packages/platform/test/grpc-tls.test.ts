import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as grpc from '@grpc/grpc-js';
import {
  loadConfig,
  serviceConfigSchema,
  silentLogger,
  startGrpcServer,
  tlsFromConfig,
  unaryCall,
  wrapUnary,
  type GrpcServerHandle,
} from '../src';
import {
  EchoService,
  echoServiceDefinition,
  ECHO_SERVICE_NAME,
  type SayRequest,
  type SayResponse,
} from './fixtures/echo';

/** A throwaway CA, a server certificate for 127.0.0.1 and a client certificate (openssl CLI). */
function makePki(dir: string) {
  const run = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  run(
    'req',
    '-x509',
    '-newkey',
    'ec',
    '-pkeyopt',
    'ec_paramgen_curve:P-256',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.pem',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  );
  writeFileSync(join(dir, 'server.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
  for (const name of ['server', 'client']) {
    run(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${name}`,
    );
    run(
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.pem`,
      '-days',
      '1',
      ...(name === 'server' ? ['-extfile', 'server.ext'] : []),
    );
  }
  const file = (n: string) => join(dir, n);
  return { file, read: (n: string) => readFileSync(file(n)) };
}

const implementation = {
  Say: wrapUnary<SayRequest, SayResponse>(async (call) => ({ text: call.request.text }), { logger: silentLogger() }),
  Watch: () => undefined,
};

function say(port: number, creds: grpc.ChannelCredentials): Promise<SayResponse> {
  const client = new EchoService(`127.0.0.1:${port}`, creds) as unknown as {
    say: Parameters<typeof unaryCall<Partial<SayRequest>, SayResponse>>[0];
    close(): void;
  };
  return unaryCall(client.say.bind(client), { text: 'hello' }, { deadlineMs: 3000 }).finally(() => client.close());
}

describe('gRPC server TLS', () => {
  const dir = mkdtempSync(join(tmpdir(), 'platform-pki-'));
  const pki = makePki(dir);
  let tlsServer: GrpcServerHandle;
  let mtlsServer: GrpcServerHandle;

  before(async () => {
    const base = {
      host: '127.0.0.1',
      port: 0,
      logger: silentLogger(),
      serviceNames: [ECHO_SERVICE_NAME],
      services: [{ definition: echoServiceDefinition, implementation }],
    };
    // From the config variables, as services do.
    const schema = serviceConfigSchema({ serviceName: 'tls-test', grpcPort: 1 });
    const tlsConfig = loadConfig(schema, {
      KAFKA_BROKERS: 'k:1',
      AUTHORITY_TLS_CERT: pki.file('server.pem'),
      AUTHORITY_TLS_KEY: pki.file('server.key'),
    });
    const mtlsConfig = loadConfig(schema, {
      ...{
        KAFKA_BROKERS: 'k:1',
        AUTHORITY_TLS_CERT: pki.file('server.pem'),
        AUTHORITY_TLS_KEY: pki.file('server.key'),
      },
      AUTHORITY_TLS_CA: pki.file('ca.pem'),
    });
    tlsServer = await startGrpcServer({ ...base, tls: tlsFromConfig(tlsConfig)! });
    mtlsServer = await startGrpcServer({ ...base, tls: tlsFromConfig(mtlsConfig)! });
  });

  after(async () => {
    await Promise.all([tlsServer.shutdown(500, { drainDelayMs: 0 }), mtlsServer.shutdown(500, { drainDelayMs: 0 })]);
  });

  it('serves TLS to clients trusting the CA, and refuses plaintext', async () => {
    assert.equal((await say(tlsServer.port, grpc.credentials.createSsl(pki.read('ca.pem')))).text, 'hello');
    await assert.rejects(
      say(tlsServer.port, grpc.credentials.createInsecure()),
      (e: { code: number }) => e.code === grpc.status.UNAVAILABLE,
    );
  });

  it('with a CA requires a client certificate (mTLS)', async () => {
    const withCert = grpc.credentials.createSsl(pki.read('ca.pem'), pki.read('client.key'), pki.read('client.pem'));
    assert.equal((await say(mtlsServer.port, withCert)).text, 'hello');
    await assert.rejects(
      say(mtlsServer.port, grpc.credentials.createSsl(pki.read('ca.pem'))),
      (e: { code: number }) => e.code === grpc.status.UNAVAILABLE,
    );
  });
});
