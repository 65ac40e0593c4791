// `approval list | show | approve` against a fake issuer: the approver is shown the whole request
// (agent path, chain, resource or none, purpose, record count, every context field, digest), with
// invisible characters escaped; an approval whose digest does not match its fields is refused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { approvalRequestDigest, type ApprovalBinding } from '@authority/core';
import { loadAuthorityProto } from '@authority/proto';
import { ExitCode } from '../../src';
import { cli, testIo } from '../helpers';

const BINDING: ApprovalBinding = {
  tenant: 'school',
  agent: 'grading-bot/helper',
  requiredScope: 'grades:write',
  action: 'write',
  resource: 'slos://school/grades/class-7',
  purpose: 'fix a typo\u202e stnemtsujda',
  recordCount: 1,
  contextFields: { ticket: 'T-1', class: '7b' },
  chain: ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBA'],
  agentChain: ['grading-bot', 'grading-bot/helper'],
};

function approvalOf(id: string, b: ApprovalBinding, digest = approvalRequestDigest(b)) {
  return {
    approvalId: id,
    tenant: b.tenant,
    agentId: b.agent,
    requiredScope: b.requiredScope,
    action: b.action,
    resource: b.resource ?? '',
    purpose: b.purpose ?? '',
    status: 'PENDING',
    createdAt: { seconds: 1_900_000_000, nanos: 0 },
    expiresAt: { seconds: 1_900_000_900, nanos: 0 },
    decidedBy: '',
    rootJti: b.chain[0],
    ...(b.recordCount === undefined ? {} : { recordCount: b.recordCount }),
    contextFields: b.contextFields ?? {},
    chain: b.chain,
    agentChain: b.agentChain,
    requestDigest: digest,
  };
}

const APPROVALS: Record<string, ReturnType<typeof approvalOf>> = {
  'apr-good': approvalOf('apr-good', BINDING),
  'apr-bare': approvalOf('apr-bare', {
    ...BINDING,
    resource: undefined,
    purpose: undefined,
    recordCount: undefined,
    contextFields: undefined,
  }),
  // The issuer shows 1 record, but the digest binds another request.
  'apr-forged': approvalOf('apr-forged', BINDING, approvalRequestDigest({ ...BINDING, recordCount: 500 })),
};

describe('approval commands against a fake issuer', { timeout: 30_000 }, () => {
  let server: grpc.Server;
  let address = '';
  const decided: string[] = [];
  before(async () => {
    server = new grpc.Server();
    const v1 = loadAuthorityProto().grpcObject.authority.v1;
    type Call = grpc.ServerUnaryCall<{ approvalId: string }, unknown>;
    server.addService(v1.IssuerService.service, {
      ListApprovals: (_c: unknown, cb: grpc.sendUnaryData<unknown>) =>
        cb(null, { approvals: Object.values(APPROVALS), nextPageToken: '' }),
      GetApproval: (call: Call, cb: grpc.sendUnaryData<unknown>) => {
        const a = APPROVALS[call.request.approvalId];
        if (!a) return cb({ code: grpc.status.NOT_FOUND, details: 'no such approval' });
        cb(null, { approval: a });
      },
      DecideApproval: (call: Call, cb: grpc.sendUnaryData<unknown>) => {
        decided.push(call.request.approvalId);
        cb(null, { approval: { ...APPROVALS[call.request.approvalId], status: 'APPROVED', decidedBy: 'cred-1' } });
      },
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  const io = () => testIo({ AUTHORITY_ISSUER_ADDR: address, AUTHORITY_API_KEY: 'k', AUTHORITY_TENANT: 'school' });

  test('list: a row per approval with path, resource or none, records, purpose, context and digest', async () => {
    const r = await cli(io(), 'approval', 'list');
    assert.equal(r.code, 0, r.stderr);
    const [header, good, bare] = r.stdout.split('\n');
    for (const column of ['AGENT PATH', 'RESOURCE', 'RECORDS', 'PURPOSE', 'CONTEXT', 'DIGEST'])
      assert.ok(header!.includes(column), column);
    assert.match(good!, /grading-bot > grading-bot\/helper/);
    assert.match(good!, /"slos:\/\/school\/grades\/class-7"/);
    assert.match(good!, / 1 /);
    assert.match(good!, /class="7b" ticket="T-1"/);
    assert.ok(good!.includes(APPROVALS['apr-good']!.requestDigest.slice(0, 12)));
    // The right-to-left override is shown, not obeyed.
    assert.ok(good!.includes('\\u{202e}'), good);
    assert.ok(!r.stdout.includes('\u202e'));
    assert.match(bare!, /\(none\)\s+-\s+\(none\)/);
    assert.match(r.stdout, /authority approval show <id>/);

    const json = await cli(io(), '--json', 'approval', 'list');
    const listed = json.json<{ approvals: { approvalId: string; recordCount?: number; chain: string[] }[] }>();
    const first = listed.approvals.find((a) => a.approvalId === 'apr-good');
    assert.equal(first?.recordCount, 1);
    assert.deepEqual(first?.chain, BINDING.chain);
  });

  test('show: every field in full, and whether the digest matches them', async () => {
    const r = await cli(io(), 'approval', 'show', 'apr-good');
    assert.equal(r.code, 0, r.stderr);
    for (const line of [
      /^agent path: +"grading-bot" → "grading-bot\/helper"$/m,
      /^chain: +AAAAAAAAAAAAAAAAAAAAAA → BBBBBBBBBBBBBBBBBBBBBA \(root first\)$/m,
      /^resource: +"slos:\/\/school\/grades\/class-7"$/m,
      /^purpose: +"fix a typo\\u\{202e\} stnemtsujda"$/m,
      /^record count: +1$/m,
      /^context "class": +"7b"$/m,
      /^context "ticket": +"T-1"$/m,
      new RegExp(`^request digest: +${APPROVALS['apr-good']!.requestDigest} \\(matches the fields shown\\)$`, 'm'),
    ])
      assert.match(r.stdout, line);
    const bare = await cli(io(), 'approval', 'show', 'apr-bare');
    assert.match(bare.stdout, /^resource: +\(none\)$/m);
    assert.match(bare.stdout, /^purpose: +\(none\)$/m);
    assert.match(bare.stdout, /^record count: +\(none\)$/m);
    assert.match(bare.stdout, /^context: +\(none\)$/m);
    const json = await cli(io(), '--json', 'approval', 'show', 'apr-good');
    assert.equal(json.json<{ digestCheck: string }>().digestCheck, 'matches');
  });

  test('a digest that does not match the fields shown: show exits 4, approve refuses before deciding', async () => {
    const shown = await cli(io(), 'approval', 'show', 'apr-forged');
    assert.equal(shown.code, ExitCode.VERIFICATION_FAILED);
    assert.match(shown.stdout, /DOES NOT match the fields shown/);
    const approve = await cli(io(), 'approval', 'approve', 'apr-forged');
    assert.equal(approve.code, ExitCode.VERIFICATION_FAILED);
    assert.match(approve.stderr, /do not approve it/);
    assert.deepEqual(decided, []);
    const ok = await cli(io(), 'approval', 'approve', 'apr-good');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^approval apr-good: APPROVED$/m);
    assert.match(ok.stdout, /^record count: +1$/m);
    assert.deepEqual(decided, ['apr-good']);
  });
});
