// Approvals against the REAL MongoDB-wire server (FerretDB) and Kafka: request → decide → consume
// once. The concurrency test fires 20 ConsumeApproval calls at once (as 20 enforcer replicas
// would): exactly one is consumed. It runs several rounds, since a race shows up only sometimes.
// An approval is bound to the whole request: every field changed is refused naming the field,
// and leaves the approval unused.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { approvalRequestDigest } from '@authority/core';
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

const ROOT = 'AAAAAAAAAAAAAAAAAAAAAA';
const CHILD = 'BBBBBBBBBBBBBBBBBBBBBA';
const request = {
  agentId: 'finance-bot/closer',
  requiredScope: 'vault:finance:write',
  action: 'write',
  resource: 'slos://vaults/finance/q1.md',
  purpose: 'quarter close',
  recordCount: 1,
  contextFields: { ticket: 'FIN-7', desk: 'emea' },
  chain: [ROOT, CHILD],
  agentChain: ['finance-bot', 'finance-bot/closer'],
};

async function requestApproval(
  secret = s.env.serviceKey,
  over: Record<string, unknown> = {},
): Promise<Approval__Output> {
  const res = await call<object, { approval: Approval__Output }>(
    s.client,
    'RequestApproval',
    { tenant, ...request, ...over },
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
  return call(s.client, 'ConsumeApproval', { tenant, approvalId: id, ...request, ...over }, secret);
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
    assert.equal(a.rootJti, ROOT);
    const req = await auditFor(a.approvalId, 'approval.request');
    assert.equal(req.actor?.agentId, request.agentId);
    assert.deepEqual(req.actor?.jtiChain, [ROOT, CHILD]);
    assert.equal(req.resource, request.resource);
    assert.equal(req.detail.case === 'approval' && req.detail.value.requestDigest, a.requestDigest);

    const pending = await consume(a.approvalId, {}, checker);
    assert.deepEqual([pending.consumed, pending.reason], [false, 'APPROVAL_REQUIRED']);

    const approved = await decide(a.approvalId, true);
    assert.equal(approved.status, 'APPROVED');
    assert.ok(approved.decidedBy.startsWith('cred-'));
    const decided = await auditFor(a.approvalId, 'approval.decide');
    // The approver's comment is evidence: it is in the chained event (the compliance report lists it).
    assert.equal(decided.detail.case === 'approval' ? decided.detail.value.comment : undefined, 'ok');
    assert.equal(decided.actor?.principal, approved.decidedBy);

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

  test('the approver sees the whole request and its digest (GetApproval, ListApprovals)', async () => {
    const a = await requestApproval(checker);
    for (const shown of [
      a,
      (
        await call<object, { approval: Approval__Output }>(
          s.client,
          'GetApproval',
          { tenant, approvalId: a.approvalId },
          approver,
        )
      ).approval,
    ]) {
      assert.equal(shown.purpose, 'quarter close');
      assert.equal(shown.recordCount, 1);
      assert.deepEqual(shown.contextFields, request.contextFields);
      assert.deepEqual(shown.chain, [ROOT, CHILD]);
      assert.deepEqual(shown.agentChain, request.agentChain);
      // Anyone can recompute the digest from what is shown.
      assert.equal(
        shown.requestDigest,
        approvalRequestDigest({
          tenant,
          agent: shown.agentId,
          requiredScope: shown.requiredScope,
          action: shown.action,
          resource: shown.resource,
          purpose: shown.purpose,
          ...(shown.recordCount === undefined ? {} : { recordCount: shown.recordCount }),
          contextFields: shown.contextFields,
          chain: shown.chain,
          agentChain: shown.agentChain,
        }),
      );
    }
  });

  test('an approval is bound to the whole request: every single field changed is APPROVAL_INVALID naming it and leaves it unused; unchanged it is consumed once', async () => {
    const a = await requestApproval();
    await decide(a.approvalId, true);
    const changes: [Record<string, unknown>, string][] = [
      [{ agentId: 'finance-bot', agentChain: ['finance-bot', 'finance-bot'] }, 'agent_id'],
      [{ requiredScope: 'vault:finance:delete' }, 'required_scope'],
      [{ action: 'delete' }, 'action'],
      [{ resource: 'slos://vaults/finance/q2.md' }, 'resource'],
      [{ resource: '' }, 'resource'],
      [{ purpose: 'overwrite all grades' }, 'purpose'],
      [{ purpose: '' }, 'purpose'],
      [{ recordCount: 500 }, 'record_count'],
      [{ recordCount: 0 }, 'record_count'],
      [{ recordCount: undefined }, 'record_count'],
      [{ contextFields: { ticket: 'FIN-8', desk: 'emea' } }, 'context_fields.ticket'],
      [{ contextFields: { ticket: 'FIN-7' } }, 'context_fields.desk'],
      [{ contextFields: { ...request.contextFields, extra: 'x' } }, 'context_fields.extra'],
      [{ chain: ['CCCCCCCCCCCCCCCCCCCCCA', CHILD] }, 'chain'],
      [{ chain: [ROOT, 'CCCCCCCCCCCCCCCCCCCCCA'] }, 'chain'],
      [
        { chain: [ROOT, CHILD, 'CCCCCCCCCCCCCCCCCCCCCA'], agentChain: [...request.agentChain, 'finance-bot/closer'] },
        'chain',
      ],
      [{ agentChain: ['finance-bot/closer', 'finance-bot/closer'] }, 'chain'],
    ];
    for (const [over, field] of changes) {
      const r = await consume(a.approvalId, over);
      assert.deepEqual([r.consumed, r.reason], [false, 'APPROVAL_INVALID'], `${field}: ${r.message}`);
      assert.ok(r.message.startsWith(`${field}:`), `${field}: ${r.message}`);
    }
    const refused = await auditFor(a.approvalId, 'approval.consume');
    assert.equal(refused.decision, pb.Decision.DENY);
    // The mismatches did not use it up: the same request, in another field order, is consumed once.
    const { contextFields: _c, ...rest } = request;
    const same = await consume(a.approvalId, { contextFields: { desk: 'emea', ticket: 'FIN-7' }, ...rest });
    assert.deepEqual([same.consumed, same.reason], [true, 'ALLOWED'], same.message);
    assert.equal((await consume(a.approvalId)).consumed, false);

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
  test('RequestApproval without the presenting chain is refused (INVALID_ARGUMENT, field chain), from a CHECKER and the service alike', async () => {
    for (const secret of [checker, s.env.serviceKey]) {
      await assert.rejects(
        requestApproval(secret, { chain: [], agentChain: [] }),
        (e: AuthorityClientError) =>
          e.codeName === 'INVALID_ARGUMENT' && e.reason === 'INVALID_REQUEST' && e.field === 'chain',
      );
    }
    const malformed: [Record<string, unknown>, string][] = [
      [{ chain: ['not-a-jti'], agentChain: ['finance-bot/closer'] }, 'chain[0]'],
      [{ agentChain: ['finance-bot/closer'] }, 'agent_chain'],
      [{ agentChain: ['finance-bot', 'finance-bot/other'] }, 'agent_chain'],
      [{ rootJti: CHILD }, 'root_jti'],
      [
        {
          chain: Array.from({ length: 10 }, () => ROOT),
          agentChain: Array.from({ length: 10 }, () => 'finance-bot/closer'),
        },
        'chain',
      ],
      [{ contextFields: { ticket: 'x'.repeat(4097) } }, 'context_fields.ticket'],
    ];
    for (const [over, field] of malformed) {
      await assert.rejects(
        requestApproval(checker, over),
        (e: AuthorityClientError) => e.codeName === 'INVALID_ARGUMENT' && e.field === field,
        field,
      );
    }
    // Consuming needs the presenting chain too.
    const a = await requestApproval();
    await decide(a.approvalId, true);
    await assert.rejects(
      consume(a.approvalId, { chain: [], agentChain: [] }),
      (e: AuthorityClientError) => e.codeName === 'INVALID_ARGUMENT' && e.field === 'chain',
    );
    assert.equal((await consume(a.approvalId)).consumed, true);
  });

  test('no resource is a bound value: an approval for none is never used for a call naming one, nor the reverse', async () => {
    const none = await requestApproval(checker, { resource: '' });
    assert.equal(none.resource, '');
    const named = await requestApproval(checker);
    await decide(none.approvalId, true);
    await decide(named.approvalId, true);
    const r1 = await consume(none.approvalId, { resource: 'slos://vaults/finance/q1.md' });
    assert.deepEqual([r1.consumed, r1.reason], [false, 'APPROVAL_INVALID']);
    assert.match(r1.message, /^resource: approved for none, presented "slos:/);
    const r2 = await consume(named.approvalId, { resource: '' });
    assert.deepEqual([r2.consumed, r2.reason], [false, 'APPROVAL_INVALID']);
    assert.match(r2.message, /^resource: approved for "slos:.*", presented none$/);
    assert.equal((await consume(none.approvalId, { resource: '' })).consumed, true);
    assert.equal((await consume(named.approvalId)).consumed, true);
  });

  test('an approval stored before requests were bound (no digest), or whose fields no longer match its digest, is never consumed', async () => {
    const legacy = await requestApproval();
    const tampered = await requestApproval();
    await decide(legacy.approvalId, true);
    await decide(tampered.approvalId, true);
    const approvals = s.issuer.store.approvals;
    await approvals.updateOne(
      { _id: `${tenant}/${legacy.approvalId}` },
      { $unset: { requestDigest: '', chain: '', agentChain: '', contextFields: '', recordCount: '' } },
    );
    // Someone with database access widens the stored request: the digest no longer matches.
    await approvals.updateOne({ _id: `${tenant}/${tampered.approvalId}` }, { $set: { recordCount: 500 } });
    const r1 = await consume(legacy.approvalId, {});
    assert.deepEqual([r1.consumed, r1.reason], [false, 'APPROVAL_INVALID']);
    assert.match(r1.message, /before approvals were bound/);
    const r2 = await consume(tampered.approvalId, { recordCount: 500 });
    assert.deepEqual([r2.consumed, r2.reason], [false, 'APPROVAL_INVALID']);
    assert.match(r2.message, /inconsistent with its recorded request digest/);
    // A stored value that cannot even be encoded: refused the same way, never a crash.
    await approvals.updateOne({ _id: `${tenant}/${tampered.approvalId}` }, { $set: { recordCount: -1 } });
    const r3 = await consume(tampered.approvalId, {});
    assert.deepEqual([r3.consumed, r3.reason], [false, 'APPROVAL_INVALID']);
    assert.match(r3.message, /inconsistent with its recorded request digest/);
  });
});
