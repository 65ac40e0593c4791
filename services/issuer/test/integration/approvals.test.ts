// Approvals against the REAL MongoDB-wire server (FerretDB) and Kafka: request → decide → consume
// once. The concurrency test fires 20 ConsumeApproval calls at once (as 20 enforcer replicas
// would): exactly one is consumed. It runs several rounds, since a race shows up only sometimes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { AuthorityClientError } from '@authority/platform';
import {
  decodeEvent,
  pb,
  type Approval__Output,
  type ConsumeApprovalResponse__Output,
  type CreateTenantResponse__Output,
} from '@authority/proto';
import { OffsetClock } from '../../src/index';
import { call, dropDatabase, newTestEnv, requireInfra, startTestIssuer, Tap, type StartedIssuer } from './harness';

const clock = new OffsetClock();
let s: StartedIssuer;
let tap: Tap;
let tenant: string;
let admin: string;
let approver: string;
let checker: string;

const request = {
  agentId: 'finance-bot',
  requiredScope: 'vault:finance:write',
  action: 'write',
  resource: 'slos://vaults/finance/q1.md',
  purpose: 'quarter close',
  rootJti: 'AAAAAAAAAAAAAAAAAAAAAA',
};

async function requestApproval(secret = s.env.serviceKey): Promise<Approval__Output> {
  const res = await call<object, { approval: Approval__Output }>(
    s.client,
    'RequestApproval',
    { tenant, ...request },
    secret,
  );
  return res.approval;
}

async function decide(id: string, approve: boolean): Promise<Approval__Output> {
  return (
    await call<object, { approval: Approval__Output }>(
      s.client,
      'DecideApproval',
      { tenant, approvalId: id, approve, comment: 'ok' },
      approver,
    )
  ).approval;
}

function consume(
  id: string,
  over: Record<string, unknown> = {},
  secret = s.env.serviceKey,
): Promise<ConsumeApprovalResponse__Output> {
  const { purpose: _p, ...bound } = request;
  return call(s.client, 'ConsumeApproval', { tenant, approvalId: id, ...bound, ...over }, secret);
}

async function auditFor(id: string, action: string): Promise<pb.AuditEvent> {
  const m = await tap.waitFor((r) => {
    if (r.value === null) return false;
    const e = decodeEvent(pb.AuditEventSchema, r.value);
    return e.action === action && e.detail.case === 'approval' && e.detail.value.approvalId === id;
  }, `${action} audit of ${id}`);
  return decodeEvent(pb.AuditEventSchema, m.value as Buffer);
}

before(async () => {
  s = await startTestIssuer(newTestEnv(), {
    clock,
    extra: { AUTHORITY_APPROVAL_TIMEOUT: '15m', AUTHORITY_APPROVAL_USE_WINDOW: '10m' },
  });
  tap = await Tap.start(requireInfra().brokers, [`${s.env.prefix}audit`]);
  tenant = `apr-${randomBytes(4).toString('hex')}`;
  const t = await call<object, CreateTenantResponse__Output>(s.client, 'CreateTenant', { tenant }, s.env.operatorKey);
  admin = t.adminCredential?.secret as string;
  const cred = async (kind: string) =>
    (await call<object, { credential: { secret: string } }>(s.client, 'CreateCredential', { tenant, kind }, admin))
      .credential.secret;
  approver = await cred('APPROVER');
  checker = await cred('CHECKER');
});

after(async () => {
  await tap?.stop();
  if (s) {
    await dropDatabase(s.issuer);
    await s.stop();
  }
});

describe('approvals', () => {
  test('requested → pending (APPROVAL_REQUIRED) → approved → consumed once → second use APPROVAL_INVALID; every step audited', async () => {
    const a = await requestApproval(checker);
    assert.equal(a.status, 'PENDING');
    assert.equal(a.agentId, request.agentId);
    assert.equal(a.rootJti, request.rootJti);
    const req = await auditFor(a.approvalId, 'approval.request');
    assert.equal(req.actor?.agentId, request.agentId);
    assert.equal(req.resource, request.resource);

    const pending = await consume(a.approvalId, {}, checker);
    assert.deepEqual([pending.consumed, pending.reason], [false, 'APPROVAL_REQUIRED']);

    const approved = await decide(a.approvalId, true);
    assert.equal(approved.status, 'APPROVED');
    assert.ok(approved.decidedBy.startsWith('cred-'));
    await auditFor(a.approvalId, 'approval.decide');

    const first = await consume(a.approvalId, {}, checker);
    assert.deepEqual([first.consumed, first.reason], [true, 'ALLOWED']);
    const second = await consume(a.approvalId, {}, checker);
    assert.deepEqual([second.consumed, second.reason], [false, 'APPROVAL_INVALID']);
    assert.match(second.message, /already used/);
    const got = await call<object, { approval: Approval__Output }>(
      s.client,
      'GetApproval',
      { tenant, approvalId: a.approvalId },
      approver,
    );
    assert.equal(got.approval.status, 'CONSUMED');
    const used = await auditFor(a.approvalId, 'approval.consume');
    assert.equal(used.decision, pb.Decision.ALLOW);

    // Deciding again is refused.
    await assert.rejects(
      decide(a.approvalId, false),
      (e: AuthorityClientError) => e.codeName === 'FAILED_PRECONDITION' && e.reason === 'APPROVAL_INVALID',
    );
  });

  test('20 concurrent consumes of one approval: exactly one wins (several rounds)', async () => {
    for (let round = 0; round < 5; round++) {
      const a = await requestApproval();
      await decide(a.approvalId, true);
      const results = await Promise.all(Array.from({ length: 20 }, () => consume(a.approvalId)));
      const winners = results.filter((r) => r.consumed);
      assert.equal(winners.length, 1, `round ${round}: ${winners.length} consumes won`);
      for (const r of results.filter((x) => !x.consumed)) assert.equal(r.reason, 'APPROVAL_INVALID');
    }
  });

  test('an approval is bound to its agent, scope, action, resource and envelope chain; rejected and unknown ones are invalid', async () => {
    const a = await requestApproval();
    await decide(a.approvalId, true);
    for (const [over, field] of [
      [{ agentId: 'other-bot' }, 'agent_id'],
      [{ requiredScope: 'vault:finance:delete' }, 'required_scope'],
      [{ action: 'delete' }, 'action'],
      [{ resource: 'slos://vaults/finance/q2.md' }, 'resource'],
      [{ rootJti: 'BBBBBBBBBBBBBBBBBBBBBB' }, 'root_jti'],
      [{ rootJti: '' }, 'root_jti'],
    ] as const) {
      const r = await consume(a.approvalId, over);
      assert.deepEqual([r.consumed, r.reason], [false, 'APPROVAL_INVALID']);
      assert.match(r.message, new RegExp(`^${field}:`));
    }
    // The mismatches did not use it up.
    assert.equal((await consume(a.approvalId)).consumed, true);

    const rejected = await requestApproval();
    assert.equal((await decide(rejected.approvalId, false)).status, 'REJECTED');
    const r = await consume(rejected.approvalId);
    assert.deepEqual([r.consumed, r.reason], [false, 'APPROVAL_INVALID']);
    assert.match(r.message, /REJECTED/);
    const unknown = await consume('apr-doesnotexist');
    assert.deepEqual([unknown.consumed, unknown.reason], [false, 'APPROVAL_INVALID']);
  });

  test('unanswered requests are auto-denied after the timeout; unused approvals expire after the use window', async () => {
    const unanswered = await requestApproval();
    const approved = await requestApproval();
    await decide(approved.approvalId, true);
    try {
      clock.advance(16 * 60_000); // past the 15 min timeout and the 10 min use window
      const r = await consume(approved.approvalId);
      assert.deepEqual([r.consumed, r.reason], [false, 'APPROVAL_INVALID']);
      assert.match(r.message, /expired unused/);
      await s.issuer.sweep();
      const get = async (id: string) =>
        (
          await call<object, { approval: Approval__Output }>(
            s.client,
            'GetApproval',
            { tenant, approvalId: id },
            approver,
          )
        ).approval;
      assert.equal((await get(unanswered.approvalId)).status, 'EXPIRED_UNUSED');
      assert.equal((await get(approved.approvalId)).status, 'EXPIRED_UNUSED');
      const auto = await tap.waitFor((m) => {
        const e = decodeEvent(pb.AuditEventSchema, m.value as Buffer);
        return (
          e.action === 'approval.decide' &&
          e.detail.case === 'approval' &&
          e.detail.value.approvalId === unanswered.approvalId &&
          e.detail.value.status === pb.ApprovalStatus.EXPIRED_UNUSED
        );
      }, 'auto-deny audit');
      assert.ok(auto);
      await assert.rejects(
        decide(unanswered.approvalId, true),
        (e: AuthorityClientError) => e.codeName === 'FAILED_PRECONDITION',
      );
      const late = await consume(unanswered.approvalId);
      assert.deepEqual([late.consumed, late.reason], [false, 'APPROVAL_INVALID']);
    } finally {
      clock.offsetMs = 0;
    }
  });

  test('ListApprovals pages newest first and filters by status', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await requestApproval()).approvalId);
    const list = (status: string, pageToken = '', pageSize = 2) =>
      call<object, { approvals: Approval__Output[]; nextPageToken: string }>(
        s.client,
        'ListApprovals',
        { tenant, status, pageSize, pageToken },
        approver,
      );
    const page1 = await list('PENDING');
    assert.equal(page1.approvals.length, 2);
    assert.notEqual(page1.nextPageToken, '');
    const page2 = await list('PENDING', page1.nextPageToken, 100);
    const seen = [...page1.approvals, ...page2.approvals].map((a) => a.approvalId);
    for (const id of ids) assert.ok(seen.includes(id), `listed ${id}`);
    assert.equal(new Set(seen).size, seen.length, 'no duplicates across pages');
    assert.ok(page1.approvals.every((a) => a.status === 'PENDING'));
  });
});
