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

  test('request and consume carry the service credential and the whole bound request', async () => {
    const approvals = new IssuerApprovals({
      address: `127.0.0.1:${port}`,
      serviceApiKey: 'svc-key-0123456789',
      timeoutMs: 2000,
    });
    mode = 'ok';
    const binding = {
      tenant: 'acme',
      agent: 'a1/sub',
      requiredScope: 'vault:x:write',
      action: 'write',
      resource: 'r',
      purpose: 'p',
      recordCount: 0,
      contextFields: { ticket: 'T-1' },
      chain: ['j0', 'j1'],
      agentChain: ['a1', 'a1/sub'],
    };
    const id = await approvals.request(binding);
    assert.equal(id, 'apr-42');
    const res = await approvals.consume({ ...binding, approvalId: 'apr-42' });
    assert.deepEqual(res, { consumed: false, reason: 'APPROVAL_REQUIRED', message: 'still pending' });
    assert.equal(seen[0]!.auth, 'Bearer svc-key-0123456789');
    for (const [i, what] of [
      [0, 'request'],
      [1, 'consume'],
    ] as const) {
      const r = seen[i]!.request;
      assert.equal(r['agentId'], 'a1/sub', what);
      assert.equal(r['resource'], 'r', what);
      assert.equal(r['purpose'], 'p', what);
      assert.equal(r['recordCount'], 0, `${what}: a count of 0 is sent`);
      assert.deepEqual({ ...(r['contextFields'] as object) }, { ticket: 'T-1' }, what);
      assert.deepEqual(r['chain'], ['j0', 'j1'], `${what} names the presenting chain`);
      assert.deepEqual(r['agentChain'], ['a1', 'a1/sub'], what);
    }
    assert.equal(seen[1]!.request['approvalId'], 'apr-42');
    // No resource, purpose or count: sent as proto3 absent values.
    await approvals.request({ ...binding, resource: undefined, purpose: undefined, recordCount: undefined });
    const bare = seen[2]!.request;
    assert.deepEqual([bare['resource'], bare['purpose'], bare['recordCount']], ['', '', undefined]);
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
        agent: 'a',
        requiredScope: 's:t',
        action: 'write',
        chain: ['j'],
        agentChain: ['a'],
      }),
    );
    mode = 'hang';
    await assert.rejects(
      approvals.consume({
        tenant: 'acme',
        approvalId: 'x',
        agent: 'a',
        requiredScope: 's:t',
        action: 'write',
        chain: ['j'],
        agentChain: ['a'],
      }),
      /DEADLINE_EXCEEDED|Deadline/,
    );
    approvals.close();
  });
});
