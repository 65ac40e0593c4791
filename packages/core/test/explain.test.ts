import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady } from '../src';
import { deriveChild, mintRoot } from '../src/envelope';
import { checkRequest, explainPolicy, tenantPolicyFrom, type CheckInput, type ExplainRequest } from '../src/check';
import { parsePolicy } from '../src/policy';
import { NOW, KeyRing, constraints, keyPair, rootParams } from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

const POLICY = parsePolicy(`
organization: Acme
version: 7
agents:
  agent-a:
    scopes: ["vault:*:read", "vault:finance:write"]
    resources: ["slos://vaults/*"]
    denied_resources: ["slos://vaults/hr/*"]
    constraints: {max_records_per_request: 20, require_purpose: true, write_requires_approval: true}
deny:
  - agents: ["*"]
    scopes: ["vault:payroll:read"]
`);
const tenantPolicy = tenantPolicyFrom(POLICY);

describe('explainPolicy', () => {
  test('every rule in evaluation order; an allowed request has no deciding rule', () => {
    const e = explainPolicy(tenantPolicy, {
      agents: ['agent-a'],
      requiredScope: 'vault:finance:read',
      resource: 'slos://vaults/finance/q1',
      purpose: 'audit',
      recordCount: 3,
    });
    assert.equal(e.decision, 'ALLOW');
    assert.equal(e.policyVersion, '7');
    assert.deepEqual(
      e.rules.map((r) => `${r.rule}:${r.verdict}`),
      [
        'constraints.require_purpose:pass',
        'constraints.max_records_per_request:pass',
        'constraints.denied_resources:pass',
        'constraints.write_requires_approval:pass',
        'agents:pass',
        'deny:pass',
        'scopes:pass',
        'resources:pass',
      ],
    );
    assert.equal(
      e.rules.some((r) => r.deciding),
      false,
    );
  });

  test('the deciding rule is the one the enforcer reports; later rules are not reached', () => {
    const e = explainPolicy(tenantPolicy, {
      agents: ['agent-a'],
      requiredScope: 'vault:payroll:read',
      resource: 'slos://vaults/payroll/x',
      purpose: 'audit',
      recordCount: 1,
    });
    assert.equal(e.decision, 'DENY');
    assert.equal(e.reason, 'POLICY_DENIED');
    const deciding = e.rules.filter((r) => r.deciding);
    assert.deepEqual(
      deciding.map((r) => r.rule),
      ['deny'],
    );
    const scopes = e.rules.find((r) => r.rule === 'scopes');
    assert.equal(scopes?.verdict, 'pass');
    assert.equal(scopes?.reached, false);
  });

  test('every violated constraint is shown; the highest-ranked decides', () => {
    const e = explainPolicy(tenantPolicy, {
      agents: ['agent-a'],
      requiredScope: 'vault:hr:read',
      resource: 'slos://vaults/hr/x',
      recordCount: 50,
    });
    const failed = e.rules.filter((r) => r.verdict === 'fail').map((r) => r.rule);
    assert.deepEqual(failed, [
      'constraints.require_purpose',
      'constraints.max_records_per_request',
      'constraints.denied_resources',
    ]);
    assert.equal(e.reason, 'DENIED_RESOURCE');
    assert.equal(e.rules.find((r) => r.deciding)?.rule, 'constraints.denied_resources');
  });

  test('an agent the policy does not name is refused; a write needs approval', () => {
    assert.equal(
      explainPolicy(tenantPolicy, { agents: ['agent-b'], requiredScope: 'vault:finance:read' }).reason,
      'POLICY_DENIED',
    );
    const write = explainPolicy(tenantPolicy, {
      agents: ['agent-a'],
      requiredScope: 'vault:finance:write',
      resource: 'slos://vaults/finance/q1',
      purpose: 'close',
      recordCount: 1,
    });
    assert.equal(write.reason, 'APPROVAL_REQUIRED');
    assert.equal(write.rules.find((r) => r.deciding)?.rule, 'constraints.write_requires_approval');
  });

  test('gives the decision checkRequest gives for a token the policy alone limits', () => {
    const ring = new KeyRing().add('k1', keyPair(1));
    const signer = { secretKey: ring.secret('k1'), kid: 'k1' };
    // The envelope grants at least what the policy does, so only the policy can refuse.
    const root = mintRoot(rootParams({ scopes: ['vault:*:*'], resources: ['slos://*'], constraints: constraints() }), {
      ...signer,
      now: NOW,
    });
    const child = deriveChild(root.token, { agent: 'agent-a/helper' }, signer, NOW);
    const deps = { resolveKey: ring.resolve, now: NOW, isRevoked: () => false, policy: () => tenantPolicy };
    const requests: Omit<ExplainRequest, 'agents'>[] = [
      { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1', purpose: 'p', recordCount: 1 },
      { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1', recordCount: 1 },
      { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1', purpose: 'p' },
      { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1', purpose: 'p', recordCount: 21 },
      { requiredScope: 'vault:hr:read', resource: 'slos://vaults/hr/x', purpose: 'p', recordCount: 1 },
      { requiredScope: 'vault:hr:read', resource: 'slos://vaults/hr/x', recordCount: 99 },
      { requiredScope: 'vault:payroll:read', resource: 'slos://vaults/payroll/x', purpose: 'p', recordCount: 1 },
      { requiredScope: 'vault:finance:delete', resource: 'slos://vaults/finance/q1', purpose: 'p', recordCount: 1 },
      { requiredScope: 'vault:finance:write', resource: 'slos://vaults/finance/q1', purpose: 'p', recordCount: 1 },
      { requiredScope: 'vault:finance:read', resource: 'slos://other/x', purpose: 'p', recordCount: 1 },
      {
        requiredScope: 'vault:finance:read',
        resource: 'slos://vaults/finance/q1',
        action: 'update',
        purpose: 'p',
        recordCount: 1,
      },
    ];
    for (const [token, agents] of [
      [root.token, ['agent-a']],
      [child.token, ['agent-a', 'agent-a/helper']],
    ] as const) {
      for (const r of requests) {
        const input: CheckInput = { token, requiredScope: r.requiredScope };
        if (r.resource !== undefined) input.resource = r.resource;
        if (r.action !== undefined) input.action = r.action;
        input.context = {
          ...(r.purpose !== undefined ? { purpose: r.purpose } : {}),
          ...(r.recordCount !== undefined ? { recordCount: r.recordCount } : {}),
        };
        const checked = checkRequest(input, deps);
        const explained = explainPolicy(tenantPolicy, { ...r, agents });
        const what = `${agents.join('>')} ${JSON.stringify(r)}: ${checked.message}`;
        assert.equal(explained.decision, checked.decision, what);
        assert.equal(explained.reason, checked.reason, what);
      }
    }
  });

  test('a tenant-wide pop rule decides first without a proof', () => {
    const popPolicy = tenantPolicyFrom(
      parsePolicy(`
organization: Acme
version: 1
pop: required
agents:
  agent-a:
    scopes: ["vault:*:read"]
`),
    );
    const e = explainPolicy(popPolicy, { agents: ['agent-a'], requiredScope: 'vault:x:write' });
    assert.equal(e.reason, 'PROOF_REQUIRED');
    assert.equal(e.rules[0]?.deciding, true);
    assert.equal(
      explainPolicy(popPolicy, { agents: ['agent-a'], requiredScope: 'vault:x:write', proof: true }).reason,
      'POLICY_DENIED',
    );
  });
});
