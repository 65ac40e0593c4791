// The issuer-backed approvals port against a fake IssuerService over real gRPC (loopback): the
// service credential is sent, requests and answers are mapped, failures and deadlines reject.
import { loadAuthorityProto } from '@authority/proto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { IssuerApprovals } from '../../src/adapters/issuer';

describe('IssuerApprovals', () => {
  const seen: { method: string; auth: string; request: Record<string, unknown> }[] = [];
  let server: grpc.Server;
  let port = 0;
  let mode: 'ok' | 'fail' | 'hang' = 'ok';

  before(async () => {
    const { grpcObject } = loadAuthorityProto();
    server = new grpc.Server();
    const handler =
      (method: string, answer: () => unknown) =>
      (call: grpc.ServerUnaryCall<Record<string, unknown>, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        seen.push({ method, auth: String(call.metadata.get('authorization')[0] ?? ''), request: call.request });
        if (mode === 'fail') return cb({ code: grpc.status.PERMISSION_DENIED, details: 'no' });
        if (mode === 'hang') return;
        cb(null, answer());
      };
    server.addService(grpcObject.authority.v1.IssuerService.service, {
      RequestApproval: handler('RequestApproval', () => ({ approval: { approvalId: 'apr-42', status: 'PENDING' } })),
      ConsumeApproval: handler('ConsumeApproval', () => ({
        consumed: false,
        reason: 'APPROVAL_REQUIRED',
        message: 'still pending',
      })),
    });
    port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, p) =>
        err ? reject(err) : resolve(p),
      ),
    );
  });

  after(() => server.forceShutdown());

  test('request and consume carry the service credential and the bound request', async () => {
    const approvals = new IssuerApprovals({
      address: `127.0.0.1:${port}`,
      serviceApiKey: 'svc-key-0123456789',
      timeoutMs: 2000,
    });
    mode = 'ok';
    const id = await approvals.request({
      tenant: 'acme',
      agentId: 'a1',
      requiredScope: 'vault:x:write',
      action: 'write',
      resource: 'r',
      purpose: 'p',
      rootJti: 'j',
    });
    assert.equal(id, 'apr-42');
    const res = await approvals.consume({
      tenant: 'acme',
      approvalId: 'apr-42',
      agentId: 'a1',
      requiredScope: 'vault:x:write',
      action: 'write',
      resource: 'r',
      rootJti: 'j',
    });
    assert.deepEqual(res, { consumed: false, reason: 'APPROVAL_REQUIRED', message: 'still pending' });
    assert.equal(seen[0]!.auth, 'Bearer svc-key-0123456789');
    assert.equal(seen[0]!.request['agentId'], 'a1');
    assert.equal(seen[0]!.request['rootJti'], 'j');
    assert.equal(seen[1]!.request['approvalId'], 'apr-42');
    assert.equal(seen[1]!.request['rootJti'], 'j', 'the consume names the presenting chain');
    approvals.close();
  });

  test('an error status or a missed deadline rejects (the caller denies)', async () => {
    const approvals = new IssuerApprovals({
      address: `127.0.0.1:${port}`,
      serviceApiKey: 'svc-key-0123456789',
      timeoutMs: 200,
    });
    mode = 'fail';
    await assert.rejects(
      approvals.request({
        tenant: 'acme',
        agentId: 'a',
        requiredScope: 's:t',
        action: 'write',
        resource: '',
        purpose: '',
        rootJti: '',
      }),
    );
    mode = 'hang';
    await assert.rejects(
      approvals.consume({
        tenant: 'acme',
        approvalId: 'x',
        agentId: 'a',
        requiredScope: 's:t',
        action: 'write',
        resource: '',
        rootJti: '',
      }),
      /DEADLINE_EXCEEDED|Deadline/,
    );
    approvals.close();
  });
});
