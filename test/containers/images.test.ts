// The service images, for real (issue 14): built from the one Dockerfile on the local base, each
// runs as uid 10001 with a read-only root file system and reaches SERVING against Kafka and
// FerretDB containers on a private network (testcontainers); a Check through the enforcer
// container is allowed and lands in the auditor container's chain, which verifies.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { loadAuthorityProto } from '@authority/proto';
import type {
  CheckResponse__Output,
  CreateCredentialResponse__Output,
  CreateTenantResponse__Output,
  MintResponse__Output,
  QueryEventsResponse__Output,
  VerifyChainResponse__Output,
} from '@authority/proto';
import { checkHealth } from '@authority/sdk';
import { rpc } from '../src/stack';
import { SERVICE_UID, startContainerStack, type ContainerStack, type ServiceKind } from '../src/containers';
import { eventually } from '../src/eventually';

let stack: ContainerStack;
const clients: grpc.Client[] = [];

function client(kind: 'IssuerService' | 'EnforcerService' | 'AuditorService', address: string): grpc.Client {
  const v1 = loadAuthorityProto().grpcObject.authority.v1 as unknown as Record<
    string,
    new (address: string, credentials: grpc.ChannelCredentials) => grpc.Client
  >;
  const Ctor = v1[kind];
  if (Ctor === undefined) throw new Error(`no ${kind} in the contract`);
  const c = new Ctor(address, grpc.credentials.createInsecure());
  clients.push(c);
  return c;
}

before(async () => {
  stack = await startContainerStack();
});

after(async () => {
  for (const c of clients) c.close();
  await stack?.stop();
});

describe('service images', () => {
  const kinds: ServiceKind[] = ['issuer', 'policy', 'enforcer', 'auditor'];

  for (const kind of kinds) {
    test(`${kind}: runs as uid ${SERVICE_UID} on a read-only root file system and answers SERVING`, async () => {
      const service = stack.services.find((s) => s.kind === kind);
      assert.ok(service, `a ${kind} container`);
      // The process itself, not only the image's USER: what the kernel says node runs as.
      const status = await service.container.exec(['cat', '/proc/1/status']);
      const uid = /^Uid:\s+(\d+)\s+(\d+)/m.exec(status.output);
      assert.ok(uid, status.output);
      assert.equal(Number(uid[1]), SERVICE_UID);
      assert.equal(Number(uid[2]), SERVICE_UID);
      const write = await service.container.exec(['sh', '-c', 'echo x > /app/probe']);
      assert.notEqual(write.exitCode, 0, 'writing to the image must fail');
      assert.match(write.output, /Read-only file system/);
      const tmp = await service.container.exec(['sh', '-c', 'echo x > /tmp/probe && echo ok']);
      assert.equal(tmp.exitCode, 0, `the tmpfs /tmp is writable: ${tmp.output}`);
      const npm = await service.container.exec(['sh', '-c', 'command -v npm || echo none']);
      assert.equal(npm.output.trim(), 'none', 'no package manager in the runtime image');
      const probe = new grpc.Client(service.address, grpc.credentials.createInsecure());
      try {
        assert.equal(await checkHealth(probe, ''), 'SERVING');
      } finally {
        probe.close();
      }
    });
  }

  test('a Check through the enforcer container is allowed and lands in the audit chain', async () => {
    const issuer = client('IssuerService', stack.service('issuer').address);
    const enforcer = client('EnforcerService', stack.service('enforcer-1').address);
    const auditor = client('AuditorService', stack.service('auditor-1').address);
    const tenant = 'containers-t1';
    const created = await rpc<CreateTenantResponse__Output>(
      issuer,
      'CreateTenant',
      { tenant, displayName: tenant },
      stack.operatorKey,
    );
    const admin = created.adminCredential?.secret ?? '';
    const credential = async (kind: string): Promise<string> =>
      (await rpc<CreateCredentialResponse__Output>(issuer, 'CreateCredential', { tenant, kind }, admin)).credential
        ?.secret ?? '';
    const checker = await credential('CHECKER');
    const auditorKey = await credential('AUDITOR');
    const minted = await rpc<MintResponse__Output>(
      issuer,
      'Mint',
      {
        tenant,
        agentId: 'records-reader',
        grant: {
          scopes: ['vault:records:read'],
          resources: ['slos://vaults/records/*'],
          constraintsJson: '{"unconstrained":true}',
        },
        ttlSeconds: 600,
      },
      admin,
    );
    const token = minted.envelope?.token ?? '';
    assert.ok(token.length > 0, 'minted a sealed token');
    // The enforcer replays the issuer's keys from Kafka; until the new tenant's key arrived it
    // fails closed (never ALLOWs), so ask until it answers.
    const allowed = await eventually(
      async () => {
        const r = await rpc<CheckResponse__Output>(
          enforcer,
          'Check',
          { token, requiredScope: 'vault:records:read', resource: 'slos://vaults/records/r-1' },
          checker,
        );
        return r.decision === 'ALLOW' ? r : undefined;
      },
      'an ALLOW from the enforcer container',
      60_000,
    );
    assert.equal(allowed.agentId, 'records-reader');
    const denied = await rpc<CheckResponse__Output>(
      enforcer,
      'Check',
      { token, requiredScope: 'vault:records:read', resource: 'slos://vaults/other/r-1' },
      checker,
    );
    assert.equal(denied.decision, 'DENY');
    assert.equal(denied.reason, 'RESOURCE_NOT_ALLOWED');

    const entries = await eventually(
      async () => {
        const page = await rpc<QueryEventsResponse__Output>(
          auditor,
          'QueryEvents',
          { tenant, pageSize: 100 },
          auditorKey,
        );
        const ids = new Set(page.entries.map((e) => e.event?.eventId));
        return ids.has(allowed.decisionId) && ids.has(denied.decisionId) ? page.entries : undefined;
      },
      'both decisions in the auditor container',
      60_000,
    );
    const allowEntry = entries.find((e) => e.event?.eventId === allowed.decisionId);
    assert.equal(allowEntry?.event?.decision, 'ALLOW');
    const verified = await rpc<VerifyChainResponse__Output>(auditor, 'VerifyChain', { tenant }, auditorKey);
    assert.equal(verified.ok, true, JSON.stringify(verified));
    assert.ok(Number(verified.checked) >= 2, 'the chain holds both decisions');
  });
});
