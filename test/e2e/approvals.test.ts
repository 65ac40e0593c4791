// Approvals bound to what the approver saw (issue 12), end to end against the REAL Kafka broker
// and MongoDB-wire server: an issuer and two enforcers in this process. An approval granted for one
// request (record count, purpose, context fields, the presenting chain) is APPROVAL_INVALID for any
// other and is not used up by it; the honest retry is allowed exactly once. Envelopes without
// resources get approvals too. A per-request proof must cover the approval id it travels with.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  cryptoReady,
  generateEd25519KeyPair,
  hashLink,
  signRequestProof,
  type Ed25519KeyPair,
  type ProvenRequest,
} from '@authority/core';
import type { CheckResponse__Output, MintResponse__Output } from '@authority/proto';
import { mintEnvelope, rpc, startStack, type Stack, type StackEnforcer, type StackTenant } from '../src/stack';
import { eventually } from '@authority/test-helpers';

let stack: Stack;
let tenant: StackTenant;

interface CheckReq {
  token: string;
  requiredScope: string;
  resource?: string;
  context?: { purpose?: string; recordCount?: number; fields?: Record<string, string> };
  approvalId?: string;
  proof?: string;
}

/** The approval as an approver reads it (GetApproval). */
interface ApprovalSeen {
  approvalId: string;
  status: string;
  agentId: string;
  requiredScope: string;
  action: string;
  resource: string;
  purpose: string;
  recordCount?: number;
  contextFields: Record<string, string>;
  chain: string[];
  agentChain: string[];
  requestDigest: string;
}

function check(e: StackEnforcer, req: CheckReq): Promise<CheckResponse__Output> {
  return rpc<CheckResponse__Output>(e.client, 'Check', req, tenant.checker);
}

async function getApproval(approvalId: string): Promise<ApprovalSeen> {
  return (
    await rpc<{ approval: ApprovalSeen }>(
      stack.issuer.client,
      'GetApproval',
      { tenant: tenant.tenant, approvalId },
      tenant.approver,
    )
  ).approval;
}

async function approve(approvalId: string): Promise<void> {
  await rpc(
    stack.issuer.client,
    'DecideApproval',
    { tenant: tenant.tenant, approvalId, approve: true },
    tenant.approver,
  );
}

async function mint(
  grant: { scopes: string[]; resources: string[]; contextFields?: string[] },
  over: Record<string, unknown> = {},
): Promise<MintResponse__Output> {
  return mintEnvelope(
    stack,
    tenant,
    'grading-bot',
    { ...grant, constraintsJson: '{"write_requires_approval":true}' },
    { ttlSeconds: 3600, ...over },
  );
}

before(async () => {
  await cryptoReady();
  stack = await startStack({ enforcers: 2 });
  tenant = await stack.createTenant();
  for (const e of stack.enforcers) {
    await eventually(
      async () => (e.handle.views.keys.authenticate(tenant.checker) ? true : undefined),
      `${e.id} knowing the tenant's checker`,
    );
  }
});

after(async () => {
  await stack?.stop();
});

describe('approvals bound to the whole request', () => {
  test('approved for 1 record: 500 records, another purpose, context field or chain is APPROVAL_INVALID and leaves it unused; the honest retry is allowed once', async () => {
    const env = (
      await mint({ scopes: ['grades:write'], resources: ['slos://school/grades/*'], contextFields: ['ticket'] })
    ).envelope!;
    const [e0, e1] = [stack.enforcers[0]!, stack.enforcers[1]!];
    const honest: CheckReq = {
      token: env.token,
      requiredScope: 'grades:write',
      resource: 'slos://school/grades/class-7',
      context: { purpose: 'fix a typo', recordCount: 1, fields: { ticket: 'T-1' } },
    };
    const asked = await eventually(async () => {
      const r = await check(e0, honest);
      return r.reason === 'APPROVAL_REQUIRED' ? r : undefined;
    }, 'APPROVAL_REQUIRED');
    const approvalId = asked.approvalRequestId;
    assert.match(approvalId, /^apr-/);

    // The approver sees exactly what will be allowed.
    const seen = await getApproval(approvalId);
    assert.equal(seen.purpose, 'fix a typo');
    assert.equal(seen.recordCount, 1);
    assert.deepEqual(seen.contextFields, { ticket: 'T-1' });
    assert.deepEqual(seen.chain, [env.jti]);
    assert.deepEqual(seen.agentChain, ['grading-bot']);
    assert.equal(seen.resource, 'slos://school/grades/class-7');
    assert.match(seen.requestDigest, /^[0-9a-f]{64}$/);
    await approve(approvalId);

    // A child of the same envelope, same agent: another presenting chain.
    const child = (
      await rpc<MintResponse__Output>(
        stack.issuer.client,
        'Delegate',
        { tenant: tenant.tenant, parentToken: env.token, agentId: 'grading-bot', grant: null, ttlSeconds: 600 },
        tenant.admin,
      )
    ).envelope!;
    const others: [string, CheckReq, RegExp][] = [
      ['500 records', { ...honest, context: { ...honest.context, recordCount: 500 } }, /record_count/],
      ['no record count', { ...honest, context: { purpose: 'fix a typo', fields: { ticket: 'T-1' } } }, /record_count/],
      ['another purpose', { ...honest, context: { ...honest.context, purpose: 'overwrite all grades' } }, /purpose/],
      ['another context field', { ...honest, context: { ...honest.context, fields: { ticket: 'T-2' } } }, /ticket/],
      ['another chain', { ...honest, token: child.token }, /chain/],
    ];
    for (const [what, req, field] of others) {
      const r = await check(e1, { ...req, approvalId });
      assert.equal(r.decision, 'DENY', `${what}: ${r.message}`);
      assert.equal(r.reason, 'APPROVAL_INVALID', `${what}: ${r.message}`);
      assert.equal(r.field, 'approval_id', what);
      assert.match(r.message, field, what);
    }
    assert.equal((await getApproval(approvalId)).status, 'APPROVED', 'the refused retries did not use it up');

    const allowed = await check(e0, { ...honest, approvalId });
    assert.equal(allowed.decision, 'ALLOW', allowed.message);
    const again = await check(e1, { ...honest, approvalId });
    assert.equal(again.reason, 'APPROVAL_INVALID');
    assert.match(again.message, /already used/);
  });

  test('an envelope without resources: APPROVAL_REQUIRED → approve → the retry is allowed once → a second use is refused', async () => {
    const env = (await mint({ scopes: ['reports:write'], resources: [] })).envelope!;
    const e0 = stack.enforcers[0]!;
    const send: CheckReq = {
      token: env.token,
      requiredScope: 'reports:write',
      context: { purpose: 'weekly report' },
    };
    const asked = await eventually(async () => {
      const r = await check(e0, send);
      return r.reason === 'APPROVAL_REQUIRED' ? r : undefined;
    }, 'APPROVAL_REQUIRED');
    assert.match(asked.approvalRequestId, /^apr-/, asked.message);
    const approvalId = asked.approvalRequestId;
    const seen = await getApproval(approvalId);
    assert.equal(seen.resource, '', 'no resource is shown as none');
    await approve(approvalId);

    const allowed = await check(stack.enforcers[1]!, { ...send, approvalId });
    assert.equal(allowed.decision, 'ALLOW', allowed.message);
    const again = await check(e0, { ...send, approvalId });
    assert.equal(again.decision, 'DENY');
    assert.equal(again.reason, 'APPROVAL_INVALID');
  });

  test('a per-request proof must cover the approval id: a proof without it, or for another, is INVALID_PROOF and leaves the approval unused', async () => {
    const holder: Ed25519KeyPair = generateEd25519KeyPair();
    const env = (
      await mint(
        { scopes: ['grades:write'], resources: ['slos://school/grades/*'] },
        { holderPublicKey: Buffer.from(holder.publicKey) },
      )
    ).envelope!;
    assert.equal(env.sealed, false, 'the caller holds the key: the token is presented with per-request proofs');
    const links = env.token.split('~');
    const leafHash = hashLink(links[links.length - 1]!);
    const base: ProvenRequest = {
      requiredScope: 'grades:write',
      resource: 'slos://school/grades/class-7',
      context: { purpose: 'fix a typo', recordCount: 1 },
    };
    const now = () => Math.floor(Date.now() / 1000);
    const req = (proven: ProvenRequest, approvalId?: string): CheckReq => ({
      token: env.token,
      requiredScope: base.requiredScope,
      resource: base.resource!,
      context: base.context!,
      proof: signRequestProof(leafHash, proven, holder.secretKey, now()),
      ...(approvalId === undefined ? {} : { approvalId }),
    });
    const e0 = stack.enforcers[0]!;
    const asked = await eventually(async () => {
      const r = await check(e0, req(base));
      return r.reason === 'APPROVAL_REQUIRED' ? r : undefined;
    }, 'APPROVAL_REQUIRED');
    const approvalId = asked.approvalRequestId;
    await approve(approvalId);

    const uncovered = await check(e0, req(base, approvalId));
    assert.equal(uncovered.reason, 'INVALID_PROOF', uncovered.message);
    assert.equal(uncovered.field, 'proof.apr');
    const forAnother = await check(e0, req({ ...base, approvalId: 'apr-someoneelse' }, approvalId));
    assert.equal(forAnother.reason, 'INVALID_PROOF', forAnother.message);
    assert.equal(forAnother.field, 'proof.apr');
    assert.equal((await getApproval(approvalId)).status, 'APPROVED');

    const allowed = await check(e0, req({ ...base, approvalId }, approvalId));
    assert.equal(allowed.decision, 'ALLOW', allowed.message);
  });
});
