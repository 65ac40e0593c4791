// The Decider without Kafka or gRPC: in-memory views, a recording audit writer and a fake
// approvals port (the issuer-backed flow is the end-to-end suite's).
// Size: one test per decision rule, sharing this file's views, recording audit and fake approvals.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  approvalBindingDifference,
  approvalRequestDigest,
  cryptoReady,
  declareUnconstrained,
  deriveChild,
  generateEd25519KeyPair,
  LinkMemo,
  mintRoot,
  offlineSigner,
  parseConstraints,
  type Constraints,
  type Ed25519KeyPair,
  type RootParams,
  ReplayCache,
} from '@authority/core';
import { silentLogger } from '@authority/platform';
import { createMessage, decodeEvent, pb, timestampFromDate, type CheckRequest__Output } from '@authority/proto';
import { KeyDirectory, PolicyView, RevocationView } from '@authority/views';
import type {
  ApprovalConsumeInput,
  ApprovalConsumeResult,
  ApprovalRequestInput,
  ApprovalsPort,
} from '../../src/adapters/issuer';
import { AsyncAuditWriter, type AuditEntry, type AuditWriter } from '../../src/audit';
import { Decider, UNATTRIBUTED_TENANT, type Caller } from '../../src/decide';
import { FreshnessMonitor } from '../../src/freshness';
import { forgeChild } from '../tokens';

class RecordingAudit implements AuditWriter {
  readonly written: { tenant: string; event: pb.AuditEvent; allow: boolean }[] = [];
  /** Entries per write() call. */
  readonly calls: number[] = [];
  fail = false;
  readonly stats = { published: 0, failed: 0, rejected: 0 };
  async write(entries: readonly AuditEntry[], allow: readonly boolean[]): Promise<boolean[]> {
    this.calls.push(entries.length);
    if (this.fail) return entries.map(() => false);
    entries.forEach((e, k) => {
      this.written.push({
        tenant: e.record.tenant,
        event: decodeEvent(pb.AuditEventSchema, e.record.value as string),
        allow: allow[k]!,
      });
    });
    return entries.map(() => true);
  }
  pending(): number {
    return 0;
  }
  async close(): Promise<void> {}
  last(): pb.AuditEvent {
    const e = this.written.at(-1);
    assert.ok(e, 'no audit event written');
    return e.event;
  }
}

/** The issuer's approvals in memory: bound to the recorded request, compared by digest. */
class FakeApprovals implements ApprovalsPort {
  readonly requests: ApprovalRequestInput[] = [];
  readonly consumes: ApprovalConsumeInput[] = [];
  readonly consumed = new Set<string>();
  readonly approved = new Set<string>();
  readonly pending = new Set<string>();
  down: false | Error = false;
  async request(input: ApprovalRequestInput): Promise<string> {
    if (this.down) throw this.down;
    this.requests.push(input);
    const id = `apr-${this.requests.length}`;
    this.pending.add(id);
    return id;
  }
  async consume(input: ApprovalConsumeInput): Promise<ApprovalConsumeResult> {
    if (this.down) throw this.down;
    this.consumes.push(input);
    const { approvalId, ...presented } = input;
    const approved = this.requests[Number(approvalId.slice('apr-'.length)) - 1];
    if (approved !== undefined && approvalRequestDigest(approved) !== approvalRequestDigest(presented))
      return {
        consumed: false,
        reason: 'APPROVAL_INVALID',
        message: approvalBindingDifference(approved, presented) ?? 'another request',
      };
    if (this.pending.has(input.approvalId)) return { consumed: false, reason: 'APPROVAL_REQUIRED', message: 'pending' };
    if (!this.approved.has(input.approvalId))
      return { consumed: false, reason: 'APPROVAL_INVALID', message: 'unknown approval' };
    if (this.consumed.has(input.approvalId))
      return { consumed: false, reason: 'APPROVAL_INVALID', message: 'already used' };
    this.consumed.add(input.approvalId);
    return { consumed: true, reason: 'ALLOWED', message: '' };
  }
  close(): void {}
}

const TENANT = 'acme';
const KID = 'acme-k1';
let key: Ed25519KeyPair;

function setup(
  opts: { clockMs?: () => number; audit?: AuditWriter; approvals?: ApprovalsPort | null; caughtUp?: boolean } = {},
) {
  const keys = new KeyDirectory();
  keys.applyKey(
    createMessage(pb.KeyEventSchema, {
      tenant: TENANT,
      keyId: KID,
      publicKey: key.publicKey,
      status: pb.KeyStatus.ACTIVE,
      createdAt: timestampFromDate(new Date()),
    }),
  );
  const revocations = new RevocationView();
  const policies = new PolicyView();
  const clock = opts.clockMs ?? Date.now;
  const freshness = new FreshnessMonitor(10_000, clock);
  if (opts.caughtUp !== false) freshness.markCaughtUp();
  const audit = opts.audit ?? new RecordingAudit();
  const memo = new LinkMemo(1000);
  const approvals = opts.approvals === null ? undefined : (opts.approvals ?? new FakeApprovals());
  const decider = new Decider({
    keys,
    revocations,
    policies,
    memo,
    replay: new ReplayCache(10_000),
    freshness,
    audit,
    ...(approvals ? { approvals } : {}),
    logger: silentLogger(),
    clock,
    settings: { skewSeconds: 30, maxDepth: 8, enforcerId: 'enf-test', requestProofWindowSeconds: 60 },
  });
  return { decider, keys, revocations, policies, freshness, audit, approvals, memo };
}

function nowSec(): number {
  return Math.floor(Date.now() / 1000);
}

function mint(params: Partial<RootParams> = {}, now = nowSec()) {
  return mintRoot(
    {
      tenant: TENANT,
      agent: 'agent-1',
      scopes: ['vault:finance:read', 'vault:finance:write'],
      resources: ['slos://vaults/finance/*'],
      context: ['ticket'],
      constraints: declareUnconstrained(),
      ttlSeconds: 3600,
      ...params,
    },
    { secretKey: key.secretKey, kid: KID, now },
  );
}

function cons(wire: Record<string, unknown>): Constraints {
  return parseConstraints(wire, 'INVALID_REQUEST', 'cns');
}

function req(token: string, over: Partial<CheckRequest__Output> = {}): CheckRequest__Output {
  return {
    token,
    requiredScope: 'vault:finance:read',
    resource: 'slos://vaults/finance/doc-1',
    action: '',
    context: null,
    approvalId: '',
    proof: '',
    ...over,
  };
}

const CHECKER: Caller = { kind: 'tenant', id: 'chk-1', tenant: TENANT };
const OPERATOR: Caller = { kind: 'operator', id: 'operator' };

before(async () => {
  await cryptoReady();
  key = generateEd25519KeyPair();
});

describe('Decider', () => {
  test('allow: response and audit event carry the decision', async () => {
    const { decider, audit } = setup();
    const minted = mint();
    const res = await decider.check(
      CHECKER,
      req(minted.token, { context: { purpose: 'audit', recordCount: 3, fields: {} } }),
    );
    assert.equal(res.decision, 'ALLOW');
    assert.equal(res.reason, 'ALLOWED');
    assert.equal(res.agentId, 'agent-1');
    assert.equal(res.tenant, TENANT);
    const event = (audit as RecordingAudit).last();
    assert.equal(event.eventId, res.decisionId);
    assert.equal(event.tenant, TENANT);
    assert.equal(event.action, 'check');
    assert.equal(event.source, 'enforcer');
    assert.equal(event.decision, pb.Decision.ALLOW);
    assert.equal(event.reason, pb.ReasonCode.ALLOWED);
    assert.equal(event.resource, 'slos://vaults/finance/doc-1');
    assert.deepEqual(event.actor?.jtiChain, [minted.claims.jti]);
    assert.equal(event.actor?.agentId, 'agent-1');
    assert.equal(event.actor?.principal, 'chk-1');
    assert.equal(event.detail.case, 'check');
    const detail = event.detail.value as pb.CheckDetail;
    assert.equal(detail.decisionId, res.decisionId);
    assert.equal(detail.requiredScope, 'vault:finance:read');
    assert.equal(detail.purpose, 'audit');
    assert.equal(detail.recordCount, 3);
    assert.equal(detail.enforcerId, 'enf-test');
  });

  test('expired and not-yet-valid by injectable clock', async () => {
    let now = Date.now();
    const { decider, freshness } = setup({ clockMs: () => now });
    const minted = mint({ ttlSeconds: 120 });
    assert.equal((await decider.check(CHECKER, req(minted.token))).decision, 'ALLOW');
    now += 200_000; // 200 s later: past exp + 30 s skew
    freshness.fetched(now); // the feed keeps up with the injected clock
    const expired = await decider.check(CHECKER, req(minted.token));
    assert.equal(expired.reason, 'EXPIRED');
    now = Date.now() - 100_000; // before nbf - skew
    const early = await decider.check(CHECKER, req(minted.token));
    assert.equal(early.reason, 'NOT_YET_VALID');
  });

  test('STALE_STATE before catching up and after the feed stops; audited', async () => {
    const { decider, freshness, audit } = setup({ caughtUp: false });
    const token = mint().token;
    const res = await decider.check(CHECKER, req(token));
    assert.equal(res.reason, 'STALE_STATE');
    assert.equal((audit as RecordingAudit).last().reason, pb.ReasonCode.STALE_STATE);
    freshness.markCaughtUp();
    assert.equal((await decider.check(CHECKER, req(token))).decision, 'ALLOW');
    freshness.setState('disconnected');
    const stale = await decider.check(CHECKER, req(token));
    assert.equal(stale.reason, 'STALE_STATE');
    assert.match(stale.message, /disconnected/);
  });

  test('STALE_STATE when the last fetch is older than the bound', async () => {
    let now = Date.now();
    const { decider, freshness } = setup({ clockMs: () => now });
    freshness.fetched(now);
    const token = mint().token;
    assert.equal((await decider.check(CHECKER, req(token))).decision, 'ALLOW');
    now += 10_001;
    const res = await decider.check(CHECKER, req(token));
    assert.equal(res.reason, 'STALE_STATE');
    assert.match(res.message, /has not completed a fetch for 10001 ms/);
  });

  test('an ALLOW whose audit event fails is DENY AUDIT_UNAVAILABLE', async () => {
    const audit = new RecordingAudit();
    const { decider } = setup({ audit });
    audit.fail = true;
    const res = await decider.check(CHECKER, req(mint().token));
    assert.equal(res.decision, 'DENY');
    assert.equal(res.reason, 'AUDIT_UNAVAILABLE');
  });

  test('async mode: a full buffer fails closed', async () => {
    const never = { publish: () => new Promise<void>(() => undefined) };
    const audit = new AsyncAuditWriter({ topic: 'x', publisher: never, logger: silentLogger(), capacity: 2 });
    const { decider } = setup({ audit });
    const token = mint().token;
    const first = await decider.check(CHECKER, req(token));
    const second = await decider.check(CHECKER, req(token));
    assert.equal(first.decision, 'ALLOW');
    assert.equal(second.decision, 'ALLOW');
    const third = await decider.check(CHECKER, req(token));
    assert.equal(third.decision, 'DENY');
    assert.equal(third.reason, 'AUDIT_UNAVAILABLE');
    assert.equal(audit.stats.rejected, 1);
  });

  test('revocation applies at once, memo or not (jti and agent cut-off)', async () => {
    const { decider, revocations } = setup();
    const minted = mint();
    assert.equal((await decider.check(CHECKER, req(minted.token))).decision, 'ALLOW');
    revocations.apply(
      createMessage(pb.RevocationEventSchema, { tenant: TENANT, kind: pb.RevocationKind.JTI, jti: minted.claims.jti }),
    );
    assert.equal((await decider.check(CHECKER, req(minted.token))).reason, 'REVOKED');

    const other = mint({ agent: 'agent-2' }, nowSec() - 10);
    assert.equal((await decider.check(CHECKER, req(other.token))).decision, 'ALLOW');
    revocations.apply(
      createMessage(pb.RevocationEventSchema, {
        tenant: TENANT,
        kind: pb.RevocationKind.AGENT,
        agentId: 'agent-2',
        revokedBefore: timestampFromDate(new Date()),
      }),
    );
    assert.equal((await decider.check(CHECKER, req(other.token))).reason, 'REVOKED');
  });

  test('revocations of another tenant do not apply', async () => {
    const { decider, revocations } = setup();
    const minted = mint();
    revocations.apply(
      createMessage(pb.RevocationEventSchema, { tenant: 'other', kind: pb.RevocationKind.JTI, jti: minted.claims.jti }),
    );
    assert.equal((await decider.check(CHECKER, req(minted.token))).decision, 'ALLOW');
  });

  test('cross-tenant credential: TENANT_MISMATCH, audited in the caller tenant', async () => {
    const { decider, audit } = setup();
    const foreign: Caller = { kind: 'tenant', id: 'chk-b', tenant: 'globex' };
    const res = await decider.check(foreign, req(mint().token));
    assert.equal(res.reason, 'TENANT_MISMATCH');
    const written = (audit as RecordingAudit).written.at(-1)!;
    assert.equal(written.tenant, 'globex');
    assert.equal(written.event.tenant, 'globex');
  });

  test('operator: unreadable token is audited as unattributed, readable one under its tenant', async () => {
    const { decider, audit } = setup();
    const bad = await decider.check(OPERATOR, req('garbage'));
    assert.equal(bad.reason, 'INVALID_TOKEN');
    assert.equal((audit as RecordingAudit).written.at(-1)!.tenant, UNATTRIBUTED_TENANT);
    const token = mint().token;
    const flipped = token.slice(0, -2) + (token.at(-2) === 'A' ? 'B' : 'A') + token.at(-1);
    const res = await decider.check(OPERATOR, req(flipped));
    assert.equal(res.decision, 'DENY');
    assert.equal((audit as RecordingAudit).written.at(-1)!.tenant, TENANT);
  });

  test('write_requires_approval: request → pending → approved → allowed once', async () => {
    const approvals = new FakeApprovals();
    const { decider, audit } = setup({ approvals });
    const token = mint({ constraints: cons({ write_requires_approval: true }) }).token;
    const write = { requiredScope: 'vault:finance:write' };
    const first = await decider.check(CHECKER, req(token, write));
    assert.equal(first.reason, 'APPROVAL_REQUIRED');
    assert.equal(first.approvalRequestId, 'apr-1');
    assert.equal(approvals.requests[0]?.agent, 'agent-1');
    assert.equal(approvals.requests[0]?.action, 'write');
    assert.equal(approvals.requests[0]?.resource, 'slos://vaults/finance/doc-1');
    assert.equal(((audit as RecordingAudit).last().detail.value as pb.CheckDetail).approvalId, 'apr-1');

    const pending = await decider.check(CHECKER, req(token, { ...write, approvalId: 'apr-1' }));
    assert.equal(pending.reason, 'APPROVAL_REQUIRED');
    assert.equal(pending.approvalRequestId, 'apr-1');

    approvals.pending.delete('apr-1');
    approvals.approved.add('apr-1');
    const allowed = await decider.check(CHECKER, req(token, { ...write, approvalId: 'apr-1' }));
    assert.equal(allowed.decision, 'ALLOW');
    assert.equal(((audit as RecordingAudit).last().detail.value as pb.CheckDetail).approvalId, 'apr-1');
    const again = await decider.check(CHECKER, req(token, { ...write, approvalId: 'apr-1' }));
    assert.equal(again.reason, 'APPROVAL_INVALID');
    assert.equal(again.field, 'approval_id');
  });

  test('approval: the issuer is asked for, and consumes with, the whole request; another request is APPROVAL_INVALID naming the field', async () => {
    const approvals = new FakeApprovals();
    const { decider } = setup({ approvals });
    const token = mint({ constraints: cons({ write_requires_approval: true }) }).token;
    const write = {
      requiredScope: 'vault:finance:write',
      context: {
        purpose: 'fix a typo',
        recordCount: 1,
        fields: { ticket: 'T-1' },
        _recordCount: 'recordCount' as const,
      },
    };
    const first = await decider.check(CHECKER, req(token, write));
    assert.equal(first.reason, 'APPROVAL_REQUIRED');
    const { chain, ...asked } = approvals.requests[0]!;
    assert.deepEqual(asked, {
      tenant: TENANT,
      agent: 'agent-1',
      requiredScope: 'vault:finance:write',
      action: 'write',
      resource: 'slos://vaults/finance/doc-1',
      purpose: 'fix a typo',
      recordCount: 1,
      contextFields: { ticket: 'T-1' },
      agentChain: ['agent-1'],
    });
    assert.equal(chain.length, 1);
    approvals.pending.delete('apr-1');
    approvals.approved.add('apr-1');

    const more = await decider.check(
      CHECKER,
      req(token, { ...write, context: { ...write.context, recordCount: 500 }, approvalId: 'apr-1' }),
    );
    assert.equal(more.reason, 'APPROVAL_INVALID');
    assert.equal(more.field, 'approval_id');
    assert.match(more.message, /record_count: approved for 1, presented 500/);
    assert.equal(approvals.consumes.at(-1)?.recordCount, 500);
    const ok = await decider.check(CHECKER, req(token, { ...write, approvalId: 'apr-1' }));
    assert.equal(ok.decision, 'ALLOW', ok.message);
    assert.deepEqual(
      { ...approvals.consumes.at(-1), approvalId: undefined },
      { ...approvals.requests[0], approvalId: undefined },
    );
  });

  test('approval: a request the issuer refuses as malformed says why (no retry hint)', async () => {
    const approvals = new FakeApprovals();
    const { decider } = setup({ approvals });
    const token = mint({ constraints: cons({ write_requires_approval: true }) }).token;
    approvals.down = Object.assign(new Error('3 INVALID_ARGUMENT: purpose: at most 1024 characters'), {
      code: 3,
      details: 'purpose: at most 1024 characters',
    });
    const res = await decider.check(CHECKER, req(token, { requiredScope: 'vault:finance:write' }));
    assert.equal(res.reason, 'APPROVAL_REQUIRED');
    assert.equal(res.approvalRequestId, '');
    assert.match(res.message, /the issuer refused it: purpose: at most 1024 characters/);
  });

  test('approval: reads need none; issuer down fails closed; no approvals configured', async () => {
    const approvals = new FakeApprovals();
    const { decider } = setup({ approvals });
    const token = mint({ constraints: cons({ write_requires_approval: true }) }).token;
    assert.equal((await decider.check(CHECKER, req(token))).decision, 'ALLOW');
    approvals.down = new Error('issuer unavailable');
    const down = await decider.check(CHECKER, req(token, { requiredScope: 'vault:finance:write' }));
    assert.equal(down.reason, 'APPROVAL_REQUIRED');
    assert.equal(down.approvalRequestId, '');
    assert.match(down.message, /issuer unavailable, retry/);
    const downConsume = await decider.check(
      CHECKER,
      req(token, { requiredScope: 'vault:finance:write', approvalId: 'apr-9' }),
    );
    assert.equal(downConsume.decision, 'DENY');
    const none = setup({ approvals: null });
    const res = await none.decider.check(CHECKER, req(token, { requiredScope: 'vault:finance:write' }));
    assert.equal(res.reason, 'APPROVAL_REQUIRED');
    assert.match(res.message, /not configured/);
  });

  test('policy: current version applied, agent not named denied, deny rules win', async () => {
    const { decider, policies } = setup();
    const token = mint().token;
    const yaml = (extra = '') =>
      `organization: acme\nversion: "2.0"\nagents:\n  agent-1:\n    scopes: [vault:finance:read]\n    resources: ["slos://vaults/finance/*"]\n${extra}`;
    policies.apply(createMessage(pb.PolicyVersionEventSchema, { tenant: TENANT, version: 1n, yaml: yaml() }));
    const ok = await decider.check(CHECKER, req(token));
    assert.equal(ok.decision, 'ALLOW');
    assert.equal(ok.policyVersion, '1');
    policies.apply(
      createMessage(pb.PolicyVersionEventSchema, {
        tenant: TENANT,
        version: 2n,
        yaml: yaml('deny:\n  - agents: [agent-1]\n    resources: ["slos://vaults/finance/secret*"]\n'),
      }),
    );
    const denied = await decider.check(CHECKER, req(token, { resource: 'slos://vaults/finance/secret-1' }));
    assert.equal(denied.reason, 'POLICY_DENIED');
    assert.equal(denied.policyVersion, '2');
    assert.equal((await decider.check(CHECKER, req(token))).decision, 'ALLOW');
    const stranger = mint({ agent: 'agent-9' }).token;
    assert.equal((await decider.check(CHECKER, req(stranger))).reason, 'POLICY_DENIED');
  });

  test('offline-attenuated child accepted; wider child refused naming the field', async () => {
    const holder = generateEd25519KeyPair();
    const { decider } = setup();
    const root = mint({ holderKey: holder.publicKey });
    const child = deriveChild(
      root.token,
      { scopes: ['vault:finance:read'] },
      offlineSigner(holder.secretKey),
      nowSec(),
    );
    assert.equal((await decider.check(CHECKER, req(child.token))).decision, 'ALLOW');
    const wider = forgeChild(root.token, { scp: ['vault:*:read'] }, holder.secretKey, 'cnf');
    const res = await decider.check(CHECKER, req(wider));
    assert.equal(res.reason, 'CHAIN_VIOLATION');
    assert.equal(res.field, 'scp');
    assert.match(res.message, /link 1/);
  });

  test('memo: hits skip parsing and verification; a different key under the same kid fails', async () => {
    const { decider, memo, keys } = setup();
    const holder = generateEd25519KeyPair();
    const root = mint({ holderKey: holder.publicKey });
    const child = deriveChild(
      root.token,
      { scopes: ['vault:finance:read'] },
      offlineSigner(holder.secretKey),
      nowSec(),
    );
    assert.equal((await decider.check(CHECKER, req(child.token))).decision, 'ALLOW');
    const hits = memo.stats.hits;
    assert.equal((await decider.check(CHECKER, req(child.token))).decision, 'ALLOW');
    assert.equal(memo.stats.hits, hits + 2, 'both links served by the memo');
    // The kid now names other key bytes: the memoized root must not pass.
    keys.applyKey(
      createMessage(pb.KeyEventSchema, {
        tenant: TENANT,
        keyId: KID,
        publicKey: generateEd25519KeyPair().publicKey,
        status: pb.KeyStatus.ACTIVE,
      }),
    );
    assert.equal((await decider.check(CHECKER, req(child.token))).reason, 'INVALID_SIGNATURE');
  });

  test('a batch is decided in one pass: answers in order, one audit write, approvals awaited in place', async () => {
    const approvals = new FakeApprovals();
    const { decider, audit } = setup({ approvals });
    const plain = mint().token;
    const gated = mint({ constraints: cons({ write_requires_approval: true }) }).token;
    const reqs = [
      req(plain),
      req(gated, { requiredScope: 'vault:finance:write' }),
      req('garbage'),
      req(plain, { requiredScope: 'vault:other:read' }),
      req(gated, { requiredScope: 'vault:finance:write' }),
      req(plain),
    ];
    const results = await decider.checkMany(CHECKER, reqs);
    assert.deepEqual(
      results.map((r) => r.reason),
      ['ALLOWED', 'APPROVAL_REQUIRED', 'INVALID_TOKEN', 'SCOPE_MISSING', 'APPROVAL_REQUIRED', 'ALLOWED'],
    );
    assert.deepEqual(
      results.map((r) => r.approvalRequestId),
      ['', 'apr-1', '', '', 'apr-2', ''],
    );
    const recording = audit as RecordingAudit;
    assert.deepEqual(recording.calls, [6], 'one write for the whole batch');
    assert.deepEqual(
      recording.written.map((w) => w.event.eventId),
      results.map((r) => r.decisionId),
    );
    assert.equal(new Set(results.map((r) => r.decisionId)).size, 6);
  });

  test('request text copied into the audit event is bounded', async () => {
    const { decider, audit } = setup();
    const huge = 'x'.repeat(100_000);
    const res = await decider.check(
      CHECKER,
      req(mint().token, { resource: huge, requiredScope: huge, context: { purpose: huge, fields: {} } }),
    );
    assert.equal(res.decision, 'DENY');
    const event = (audit as RecordingAudit).last();
    assert.ok(event.resource.length < 5000);
    assert.ok((event.detail.value as pb.CheckDetail).requiredScope.length < 5000);
    assert.ok((event.detail.value as pb.CheckDetail).purpose.length < 5000);
    assert.ok(event.message.length < 9000);
  });
});
