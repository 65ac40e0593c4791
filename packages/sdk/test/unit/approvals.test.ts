// describeApproval: what an approval allows, every field (absent ones stay absent), and whether
// its digest is the digest of those fields.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Approval__Output } from '@authority/proto';
import { approvalBindingOf, approvalRequestDigest, describeApproval, type ApprovalBinding } from '../../src';

const BINDING: ApprovalBinding = {
  tenant: 'school',
  agent: 'grading-bot/helper',
  requiredScope: 'grades:write',
  action: 'write',
  resource: 'slos://school/grades/class-7',
  purpose: 'fix a typo',
  recordCount: 0,
  contextFields: { ticket: 'T-1' },
  chain: ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBA'],
  agentChain: ['grading-bot', 'grading-bot/helper'],
};

function approval(b: ApprovalBinding, over: Partial<Approval__Output> = {}): Approval__Output {
  return {
    approvalId: 'apr-1',
    tenant: b.tenant,
    agentId: b.agent,
    requiredScope: b.requiredScope,
    action: b.action,
    resource: b.resource ?? '',
    purpose: b.purpose ?? '',
    status: 'PENDING',
    createdAt: null,
    expiresAt: null,
    decidedBy: '',
    rootJti: b.chain[0] ?? '',
    ...(b.recordCount === undefined ? {} : { recordCount: b.recordCount }),
    contextFields: { ...b.contextFields },
    chain: [...b.chain],
    agentChain: [...b.agentChain],
    requestDigest: approvalRequestDigest(b),
    ...over,
  };
}

describe('describeApproval', () => {
  test('shows every field and recomputes the digest', () => {
    const view = describeApproval(approval(BINDING));
    assert.deepEqual(view, {
      approvalId: 'apr-1',
      tenant: 'school',
      agentId: 'grading-bot/helper',
      agentChain: ['grading-bot', 'grading-bot/helper'],
      chain: BINDING.chain,
      requiredScope: 'grades:write',
      action: 'write',
      resource: 'slos://school/grades/class-7',
      purpose: 'fix a typo',
      recordCount: 0,
      contextFields: { ticket: 'T-1' },
      requestDigest: approvalRequestDigest(BINDING),
      digest: 'matches',
    });
    assert.deepEqual(approvalBindingOf(approval(BINDING)), BINDING);
  });

  test('none stays none: no resource, purpose or record count', () => {
    const bare = { ...BINDING, resource: undefined, purpose: undefined, recordCount: undefined, contextFields: {} };
    const view = describeApproval(approval(bare));
    assert.equal('resource' in view, false);
    assert.equal('purpose' in view, false);
    assert.equal('recordCount' in view, false);
    assert.equal(view.digest, 'matches');
  });

  test('a digest of other fields differs; an approval without one (recorded before binding) has none', () => {
    const forged = approval(BINDING, { recordCount: 500 });
    assert.equal(describeApproval(forged).digest, 'differs');
    assert.equal(describeApproval(approval(BINDING, { requestDigest: '' })).digest, 'none');
    assert.equal(describeApproval(approval(BINDING, { chain: [], agentChain: [] })).digest, 'none');
  });
});
