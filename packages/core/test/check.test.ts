// The decision engine (src/check): a chain, a request and a policy in, a decision and its reason out.
// Size: one test per reason the engine gives, sharing this file's tenants and chains.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, ed25519Verify, type Reason } from '../src';
import { LinkMemo, deriveChild, mintRoot, splitSeal, type RootParams } from '../src/envelope';
import {
  checkRequest,
  tenantPolicyFrom,
  type ApprovalRequest,
  type CheckDeps,
  type CheckInput,
  type CheckResult,
  type PolicyEntry,
  type PolicyLookup,
  type TenantPolicy,
} from '../src/check';
import { parsePolicy } from '../src/policy';
import { NOW, TENANT, KeyRing, constraints, keyPair, rootParams } from './envelope-fixtures.test';

before(async () => {
  await cryptoReady();
});

function setup(overrides: Partial<RootParams> = {}) {
  const ring = new KeyRing().add('k1', keyPair(1));
  const signer = { secretKey: ring.secret('k1'), kid: 'k1' };
  const root = mintRoot(rootParams(overrides), { ...signer, now: NOW });
  const deps: CheckDeps = { resolveKey: ring.resolve, now: NOW, isRevoked: () => false };
  return { ring, signer, root, deps };
}

const READ: Omit<CheckInput, 'token'> = { requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' };

function expectDecision(result: CheckResult, decision: 'ALLOW' | 'DENY', reason: Reason, field?: string): void {
  assert.equal(result.reason, reason, `reason (message: ${result.message})`);
  assert.equal(result.decision, decision);
  if (field !== undefined) assert.equal(result.field, field, `field (message: ${result.message})`);
}

describe('checkRequest: allow', () => {
  test('a minted root allows a covered request and reports the chain', () => {
    const { root, deps } = setup();
    const r = checkRequest({ token: root.token, ...READ }, deps);
    expectDecision(r, 'ALLOW', 'ALLOWED');
    assert.deepEqual(r.chain, [root.claims.jti]);
    assert.deepEqual(r.agentChain, ['agent-a']);
    assert.equal(r.chainUnverified, undefined);
    assert.equal(r.agent, 'agent-a');
    assert.equal(r.tenant, TENANT);
    assert.equal(r.field, undefined);
  });

  test('a now clock function is read per call', () => {
    const { root, deps } = setup({ ttlSeconds: 600 });
    let now = NOW;
    const clocked = { ...deps, now: () => now };
    expectDecision(checkRequest({ token: root.token, ...READ }, clocked), 'ALLOW', 'ALLOWED');
    now = NOW + 700;
    expectDecision(checkRequest({ token: root.token, ...READ }, clocked), 'DENY', 'EXPIRED');
  });
});

describe('checkRequest: every reason code', () => {
  const cases: [
    string,
    Partial<RootParams>,
    (t: string) => CheckInput,
    Partial<CheckDeps>,
    Reason,
    string | undefined,
  ][] = [
    ['garbage token', {}, () => ({ token: 'not.a.token', ...READ }), {}, 'INVALID_TOKEN', undefined],
    ['non-string token', {}, () => ({ token: 42 as unknown as string, ...READ }), {}, 'INVALID_TOKEN', 'token'],
    [
      'bad signature',
      {},
      // The link's signature is changed; its seal is kept (a signature is checked before the seal).
      (t) => {
        const { chain, seal } = splitSeal(t);
        return { token: `${chain.slice(0, -3)}${chain.endsWith('AAA') ? 'BAA' : 'AAA'}~${seal}`, ...READ };
      },
      {},
      'INVALID_SIGNATURE',
      'signature',
    ],
    ['unsealed', {}, (t) => ({ token: splitSeal(t).chain, ...READ }), {}, 'PROOF_REQUIRED', 'seal'],
    [
      'seal of another leaf',
      {},
      (t) => ({ token: `${splitSeal(t).chain}~${splitSeal(setup().root.token).seal}`, ...READ }),
      {},
      'INVALID_PROOF',
      'seal',
    ],
    [
      'envelope says pop: required, no proof',
      { constraints: constraints({ popRequired: true }) },
      (t) => ({ token: t, ...READ }),
      {},
      'PROOF_REQUIRED',
      'proof',
    ],
    ['proof without a replay cache', {}, (t) => ({ token: t, ...READ, proof: 'x.y.z' }), {}, 'INVALID_PROOF', 'proof'],
    ['unknown key', {}, (t) => ({ token: t, ...READ }), { resolveKey: () => undefined }, 'UNKNOWN_KEY', 'kid'],
    ['expired', {}, (t) => ({ token: t, ...READ }), { now: NOW + 3600 + 30 }, 'EXPIRED', 'exp'],
    ['not yet valid', {}, (t) => ({ token: t, ...READ }), { now: NOW - 31 }, 'NOT_YET_VALID', 'nbf'],
    ['revoked', {}, (t) => ({ token: t, ...READ }), { isRevoked: () => true }, 'REVOKED', 'jti'],
    ['tenant mismatch', {}, (t) => ({ token: t, ...READ, tenant: 'globex' }), {}, 'TENANT_MISMATCH', 'tnt'],
    [
      'audience mismatch',
      { audience: 'enforcer-1' },
      (t) => ({ token: t, ...READ }),
      { audience: 'enforcer-2' },
      'AUDIENCE_MISMATCH',
      'aud',
    ],
    [
      'scope missing',
      {},
      (t) => ({ token: t, ...READ, requiredScope: 'vault:health:write' }),
      {},
      'SCOPE_MISSING',
      'required_scope',
    ],
    [
      'scope wrong segment count',
      {},
      (t) => ({ token: t, ...READ, requiredScope: 'vault:finance' }),
      {},
      'SCOPE_MISSING',
      'required_scope',
    ],
    [
      'invalid required scope',
      {},
      (t) => ({ token: t, ...READ, requiredScope: 'read' }),
      {},
      'INVALID_REQUEST',
      'required_scope',
    ],
    [
      'missing required scope',
      {},
      (t) => ({ token: t, resource: READ.resource }) as CheckInput,
      {},
      'INVALID_REQUEST',
      'required_scope',
    ],
    [
      'resource not allowed',
      {},
      (t) => ({ token: t, ...READ, resource: 'https://example.com/x' }),
      {},
      'RESOURCE_NOT_ALLOWED',
      'resource',
    ],
    [
      'resource missing while envelope limits resources',
      {},
      (t) => ({ token: t, requiredScope: READ.requiredScope }),
      {},
      'INVALID_REQUEST',
      'resource',
    ],
    ['resource empty string', {}, (t) => ({ token: t, ...READ, resource: '' }), {}, 'INVALID_REQUEST', 'resource'],
    [
      'resource named but envelope has none',
      { resources: [] },
      (t) => ({ token: t, ...READ }),
      {},
      'RESOURCE_NOT_ALLOWED',
      'resource',
    ],
    [
      'context field not allowed',
      {},
      (t) => ({ token: t, ...READ, context: { fields: { user_id: 'u1', ssn: '123' } } }),
      {},
      'CONTEXT_NOT_ALLOWED',
      'context.fields.ssn',
    ],
    [
      'context field not a string',
      {},
      (t) => ({ token: t, ...READ, context: { fields: { user_id: 5 as unknown as string } } }),
      {},
      'INVALID_REQUEST',
      'context.fields.user_id',
    ],
    [
      'record count negative',
      {},
      (t) => ({ token: t, ...READ, context: { recordCount: -1 } }),
      {},
      'INVALID_REQUEST',
      'context.record_count',
    ],
    [
      'record count NaN',
      {},
      (t) => ({ token: t, ...READ, context: { recordCount: Number.NaN } }),
      {},
      'INVALID_REQUEST',
      'context.record_count',
    ],
    [
      'purpose not a string',
      {},
      (t) => ({ token: t, ...READ, context: { purpose: 1 as unknown as string } }),
      {},
      'INVALID_REQUEST',
      'context.purpose',
    ],
    [
      'purpose required',
      { constraints: constraints({ requirePurpose: true }) },
      (t) => ({ token: t, ...READ, context: { purpose: '   ' } }),
      {},
      'PURPOSE_REQUIRED',
      'context.purpose',
    ],
    [
      'max records',
      { constraints: constraints({ maxRecordsPerRequest: 10 }) },
      (t) => ({ token: t, ...READ, context: { recordCount: 11 } }),
      {},
      'MAX_RECORDS_EXCEEDED',
      'context.record_count',
    ],
    [
      'record count required',
      { constraints: constraints({ maxRecordsPerRequest: 10 }) },
      (t) => ({ token: t, ...READ, context: { purpose: 'audit' } }),
      {},
      'RECORD_COUNT_REQUIRED',
      'context.record_count',
    ],
    [
      'denied resource (envelope)',
      { constraints: constraints({ deniedResources: ['*/finance/*'] }) },
      (t) => ({ token: t, ...READ }),
      {},
      'DENIED_RESOURCE',
      'resource',
    ],
    [
      'approval required',
      { constraints: constraints({ writeRequiresApproval: true }) },
      (t) => ({ token: t, ...READ, requiredScope: 'vault:finance:write' }),
      {},
      'APPROVAL_REQUIRED',
      undefined,
    ],
    ['bad action', {}, (t) => ({ token: t, ...READ, action: '' }), {}, 'INVALID_REQUEST', 'action'],
    ['bad tenant', {}, (t) => ({ token: t, ...READ, tenant: '' }), {}, 'INVALID_REQUEST', 'tenant'],
  ];
  for (const [name, params, input, depOverrides, reason, field] of cases) {
    test(name, () => {
      const { root, deps } = setup(params);
      expectDecision(checkRequest(input(root.token), { ...deps, ...depOverrides }), 'DENY', reason, field);
    });
  }

  test('chain violation: a child beyond the maximum depth', () => {
    const { root, deps, signer } = setup();
    const child = deriveChild(root.token, {}, signer, NOW);
    expectDecision(checkRequest({ token: child.token, ...READ }, deps), 'ALLOW', 'ALLOWED');
    expectDecision(
      checkRequest({ token: child.token, ...READ }, { ...deps, maxDepth: 0 }),
      'DENY',
      'CHAIN_VIOLATION',
      'dep',
    );
  });

  test('the allowed counterparts of the denials above', () => {
    const { root, deps } = setup({ constraints: constraints({ requirePurpose: true, maxRecordsPerRequest: 10 }) });
    const ok = (input: Omit<CheckInput, 'token'>) =>
      expectDecision(checkRequest({ token: root.token, ...input }, deps), 'ALLOW', 'ALLOWED');
    ok({ ...READ, context: { purpose: 'audit', recordCount: 10, fields: { user_id: 'u', session_id: 's' } } });
    ok({
      ...READ,
      requiredScope: 'vault:health:read',
      resource: 'slos://vaults/health/x',
      context: { purpose: 'p', recordCount: 0 },
    });
    const { root: bare, deps: d2 } = setup({ resources: [], context: [] });
    // An envelope without resources allows resource-less calls; purpose/record_count are always allowed.
    expectDecision(
      checkRequest(
        { token: bare.token, requiredScope: 'vault:finance:read', context: { purpose: 'x', recordCount: 3 } },
        d2,
      ),
      'ALLOW',
      'ALLOWED',
    );
  });

  test('a child with no resources under a resource-scoped root gains no resource-less calls', () => {
    const { root, deps, signer } = setup();
    const child = deriveChild(root.token, { resources: [] }, signer, NOW);
    expectDecision(
      checkRequest({ token: child.token, requiredScope: 'vault:finance:read' }, deps),
      'DENY',
      'INVALID_REQUEST',
      'resource',
    );
    expectDecision(checkRequest({ token: child.token, ...READ }, deps), 'DENY', 'RESOURCE_NOT_ALLOWED', 'resource');
  });
});

describe('checkRequest: order of checks', () => {
  test('most fundamental first', () => {
    const { root, deps } = setup({ constraints: constraints({ requirePurpose: true, deniedResources: ['*'] }) });
    const wrong: CheckInput = {
      token: root.token,
      requiredScope: 'audit:x:read',
      resource: 'https://other',
      context: { fields: { ssn: '1' } },
    };
    // time before revocation before scope
    expectDecision(checkRequest(wrong, { ...deps, now: NOW + 10_000, isRevoked: () => true }), 'DENY', 'EXPIRED');
    expectDecision(checkRequest(wrong, { ...deps, isRevoked: () => true }), 'DENY', 'REVOKED');
    // scope before resource before context before constraints
    expectDecision(checkRequest(wrong, deps), 'DENY', 'SCOPE_MISSING');
    expectDecision(checkRequest({ ...wrong, requiredScope: 'vault:x:read' }, deps), 'DENY', 'RESOURCE_NOT_ALLOWED');
    expectDecision(
      checkRequest({ ...wrong, requiredScope: 'vault:x:read', resource: 'slos://vaults/x' }, deps),
      'DENY',
      'CONTEXT_NOT_ALLOWED',
    );
    expectDecision(
      checkRequest({ ...wrong, requiredScope: 'vault:x:read', resource: 'slos://vaults/x', context: {} }, deps),
      'DENY',
      'DENIED_RESOURCE',
    );
  });

  test('a denial after the chain verified still reports chain, agent and tenant', () => {
    const { root, deps } = setup();
    const r = checkRequest({ token: root.token, ...READ, requiredScope: 'audit:log:read' }, deps);
    assert.deepEqual(r.chain, [root.claims.jti]);
    assert.deepEqual(r.agentChain, ['agent-a']);
    assert.equal(r.chainUnverified, undefined);
    assert.equal(r.agent, 'agent-a');
    assert.equal(r.tenant, TENANT);
  });
});

describe('checkRequest: never throws', () => {
  test('hostile inputs and failing dependencies are DENY', () => {
    const { root, deps } = setup();
    const inputs: unknown[] = [
      null,
      undefined,
      42,
      'x',
      [],
      {},
      { token: root.token },
      { token: root.token, requiredScope: 5 },
      { token: root.token, ...READ, context: 'x' },
      { token: root.token, ...READ, context: { fields: [] } },
      { token: root.token, ...READ, context: { fields: null } },
      { token: root.token, ...READ, resource: 7 },
      { token: root.token, ...READ, resource: 'x'.repeat(5000) },
      { token: root.token, ...READ, action: {} },
      { token: root.token, ...READ, tenant: 9 },
      { token: { toString: () => root.token }, ...READ },
      {
        token: root.token,
        ...READ,
        context: { fields: Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`f${i}`, 'v'])) },
      },
    ];
    for (const input of inputs) {
      const r = checkRequest(input as CheckInput, deps);
      assert.equal(r.decision, 'DENY', JSON.stringify(input)?.slice(0, 80));
      assert.equal(typeof r.message, 'string');
    }
    const throwing = checkRequest(
      { token: root.token, ...READ },
      {
        ...deps,
        resolveKey: () => {
          throw new Error('key store down');
        },
      },
    );
    assert.equal(throwing.decision, 'DENY');
    assert.equal(throwing.internalError, true);
    assert.match(throwing.message, /key store down/);
  });
});

describe('checkRequest: approvals', () => {
  const approvalEnvelope = { constraints: constraints({ writeRequiresApproval: true }) };
  const WRITE: Omit<CheckInput, 'token'> = {
    requiredScope: 'vault:finance:write',
    resource: 'slos://vaults/finance/q1',
  };

  test('APPROVAL_REQUIRED carries what to approve', () => {
    const { root, deps } = setup(approvalEnvelope);
    const r = checkRequest({ token: root.token, ...WRITE }, deps);
    expectDecision(r, 'DENY', 'APPROVAL_REQUIRED');
    assert.deepEqual(r.approvalRequired, {
      tenant: TENANT,
      agent: 'agent-a',
      requiredScope: 'vault:finance:write',
      action: 'write',
      resource: 'slos://vaults/finance/q1',
      chain: [root.claims.jti],
      agentChain: ['agent-a'],
      requiredBy: ['envelope'],
    });
    // Reads need no approval.
    expectDecision(checkRequest({ token: root.token, ...READ }, deps), 'ALLOW', 'ALLOWED');
  });

  test('what to approve is the whole request: purpose, record count, every context field, the presenting chain', () => {
    const { root, signer, deps } = setup({ ...approvalEnvelope, context: ['ticket', 'class'] });
    const child = deriveChild(root.token, { agent: 'agent-a/grader' }, signer, NOW);
    const context = { purpose: 'fix a typo', recordCount: 1, fields: { ticket: 'T-1', class: '7b' } };
    const r = checkRequest({ token: child.token, ...WRITE, context }, deps);
    expectDecision(r, 'DENY', 'APPROVAL_REQUIRED');
    assert.deepEqual(r.approvalRequired, {
      tenant: TENANT,
      agent: 'agent-a/grader',
      requiredScope: 'vault:finance:write',
      action: 'write',
      resource: 'slos://vaults/finance/q1',
      purpose: 'fix a typo',
      recordCount: 1,
      contextFields: { ticket: 'T-1', class: '7b' },
      chain: [root.claims.jti, child.claims.jti],
      agentChain: ['agent-a', 'agent-a/grader'],
      requiredBy: ['envelope'],
    });
    // The gate is asked with the same binding; a count of 0 is a count, no fields are none.
    let asked: ApprovalRequest | undefined;
    const gate = {
      consume: (_id: string, req: ApprovalRequest) => {
        asked = req;
        return { approved: false };
      },
    };
    checkRequest(
      { token: child.token, ...WRITE, context: { recordCount: 0, fields: {} }, approvalId: 'ap-1' },
      { ...deps, approvals: gate },
    );
    assert.equal(asked?.recordCount, 0);
    assert.equal(asked?.purpose, undefined);
    assert.equal(asked?.contextFields, undefined);
  });

  test('a declared action cannot remove the approval the scope implies; it can add one', () => {
    const { root, deps } = setup(approvalEnvelope);
    expectDecision(checkRequest({ token: root.token, ...WRITE, action: 'read' }, deps), 'DENY', 'APPROVAL_REQUIRED');
    expectDecision(checkRequest({ token: root.token, ...READ, action: 'delete' }, deps), 'DENY', 'APPROVAL_REQUIRED');
  });

  test('the approval gate decides a presented approval, and only when approval is required', () => {
    const { root, deps } = setup(approvalEnvelope);
    const consumed: [string, ApprovalRequest][] = [];
    const used = new Set<string>();
    const approvals = {
      consume(id: string, req: ApprovalRequest) {
        consumed.push([id, req]);
        if (id !== 'ap-1' || used.has(id)) return { approved: false, message: 'unknown or used' };
        used.add(id);
        return { approved: true };
      },
    };
    const withGate = { ...deps, approvals };
    // No id presented: still APPROVAL_REQUIRED.
    expectDecision(checkRequest({ token: root.token, ...WRITE }, withGate), 'DENY', 'APPROVAL_REQUIRED');
    // An id but no gate: cannot be verified.
    expectDecision(
      checkRequest({ token: root.token, ...WRITE, approvalId: 'ap-1' }, deps),
      'DENY',
      'APPROVAL_REQUIRED',
    );
    const ok = checkRequest({ token: root.token, ...WRITE, approvalId: 'ap-1' }, withGate);
    expectDecision(ok, 'ALLOW', 'ALLOWED');
    assert.equal(ok.approvalRequired?.action, 'write');
    expectDecision(
      checkRequest({ token: root.token, ...WRITE, approvalId: 'ap-1' }, withGate),
      'DENY',
      'APPROVAL_INVALID',
      'approval_id',
    );
    // Not consumed when no approval is needed.
    const before = consumed.length;
    expectDecision(checkRequest({ token: root.token, ...READ, approvalId: 'ap-2' }, withGate), 'ALLOW', 'ALLOWED');
    assert.equal(consumed.length, before);
  });

  test('violations beat approval', () => {
    const { root, deps } = setup({ constraints: constraints({ writeRequiresApproval: true, requirePurpose: true }) });
    expectDecision(checkRequest({ token: root.token, ...WRITE }, deps), 'DENY', 'PURPOSE_REQUIRED');
  });
});

describe('checkRequest: policy seam', () => {
  function policyOf(entries: Record<string, PolicyEntry>, version = 'v7'): PolicyLookup {
    return (tenant) => (tenant === TENANT ? { version, agent: (agent) => entries[agent] } : undefined);
  }
  const full = { scopes: ['vault:*:read', 'vault:*:write'] };

  const cases: [string, Record<string, PolicyEntry>, Omit<CheckInput, 'token'>, Reason, string | undefined][] = [
    ['agent not in policy', { other: full }, READ, 'POLICY_DENIED', 'agent'],
    [
      'scope removed from policy',
      { 'agent-a': { scopes: ['vault:health:read'] } },
      READ,
      'POLICY_DENIED',
      'required_scope',
    ],
    [
      'resource denied by policy',
      { 'agent-a': { ...full, deniedResources: ['*/q1'] } },
      READ,
      'DENIED_RESOURCE',
      'resource',
    ],
    [
      'resource outside policy resources',
      { 'agent-a': { ...full, resources: ['slos://vaults/health/*'] } },
      READ,
      'POLICY_DENIED',
      'resource',
    ],
    [
      'policy requires purpose',
      { 'agent-a': { ...full, constraints: constraints({ requirePurpose: true }) } },
      READ,
      'PURPOSE_REQUIRED',
      'context.purpose',
    ],
    [
      'policy record limit',
      { 'agent-a': { ...full, constraints: constraints({ maxRecordsPerRequest: 5 }) } },
      { ...READ, context: { recordCount: 6 } },
      'MAX_RECORDS_EXCEEDED',
      undefined,
    ],
    [
      'policy requires approval',
      { 'agent-a': { ...full, constraints: constraints({ writeRequiresApproval: true }) } },
      { ...READ, requiredScope: 'vault:finance:write' },
      'APPROVAL_REQUIRED',
      undefined,
    ],
  ];
  for (const [name, entries, input, reason, field] of cases) {
    test(name, () => {
      const { root, deps } = setup();
      const r = checkRequest({ token: root.token, ...input }, { ...deps, policy: policyOf(entries) });
      expectDecision(r, 'DENY', reason, field);
      if (reason === 'APPROVAL_REQUIRED') assert.deepEqual(r.approvalRequired?.requiredBy, ['policy']);
    });
  }

  test('no policy for the tenant: the envelope alone decides; a matching policy reports its version', () => {
    const { root, deps } = setup();
    const none = checkRequest({ token: root.token, ...READ }, { ...deps, policy: () => undefined });
    expectDecision(none, 'ALLOW', 'ALLOWED');
    assert.equal(none.policyVersion, undefined);
    const r = checkRequest(
      { token: root.token, ...READ },
      { ...deps, policy: policyOf({ 'agent-a': { ...full, resources: ['slos://vaults/*'] } }) },
    );
    expectDecision(r, 'ALLOW', 'ALLOWED');
    assert.equal(r.policyVersion, 'v7');
  });

  test('the root agent is bound by its entry; a sub-agent by its own entry too, when it has one', () => {
    const { root, deps, signer } = setup();
    const child = deriveChild(root.token, { agent: 'agent-a/helper' }, signer, NOW);
    // Sub-agent not named: bounded by the root agent's entry through the chain.
    expectDecision(
      checkRequest({ token: child.token, ...READ }, { ...deps, policy: policyOf({ 'agent-a': full }) }),
      'ALLOW',
      'ALLOWED',
    );
    expectDecision(
      checkRequest(
        { token: child.token, ...READ },
        { ...deps, policy: policyOf({ 'agent-a': { scopes: ['vault:x:read'] } }) },
      ),
      'DENY',
      'POLICY_DENIED',
    );
    // Sub-agent named with a narrower entry: applies.
    expectDecision(
      checkRequest(
        { token: child.token, ...READ },
        { ...deps, policy: policyOf({ 'agent-a': full, 'agent-a/helper': { scopes: ['vault:health:read'] } }) },
      ),
      'DENY',
      'POLICY_DENIED',
    );
    // Root agent removed from the policy: everything it delegated stops.
    expectDecision(
      checkRequest({ token: child.token, ...READ }, { ...deps, policy: policyOf({ 'agent-a/helper': full }) }),
      'DENY',
      'POLICY_DENIED',
      'agent',
    );
  });

  test('an explicit deny hook refuses, checked first for each agent', () => {
    const { root, deps } = setup();
    const policy: PolicyLookup = () => ({
      version: 'v1',
      agent: () => full,
      deny: (agent, scope) =>
        scope.endsWith(':read') ? { reason: 'POLICY_DENIED', message: `no reads for ${agent}` } : undefined,
    });
    const r = checkRequest({ token: root.token, ...READ }, { ...deps, policy });
    expectDecision(r, 'DENY', 'POLICY_DENIED', 'policy');
    assert.match(r.message, /no reads for agent-a/);
  });

  test('a parsed YAML policy through tenantPolicyFrom', () => {
    const { root, deps, signer } = setup();
    const policy = parsePolicy(`
organization: Acme
version: 3
agents:
  agent-a:
    scopes: ["vault:*:read", "vault:finance:write"]
    resources: ["slos://vaults/*"]
    denied_resources: ["slos://vaults/hr/*"]
    constraints: {max_records_per_request: 20}
deny:
  - agents: ["*"]
    scopes: ["vault:payroll:read"]
`);
    const lookup: PolicyLookup = (tenant) => (tenant === TENANT ? tenantPolicyFrom(policy) : undefined);
    // The policy's record limit needs every request to state its record count.
    const run = (input: Omit<CheckInput, 'token'>, token = root.token) =>
      checkRequest({ token, context: { recordCount: 1 }, ...input }, { ...deps, policy: lookup });
    const allowed = run(READ);
    expectDecision(allowed, 'ALLOW', 'ALLOWED');
    assert.equal(allowed.policyVersion, '3');
    expectDecision(
      run({ requiredScope: 'vault:payroll:read', resource: 'slos://vaults/payroll/x' }),
      'DENY',
      'POLICY_DENIED',
    );
    expectDecision(run({ requiredScope: 'vault:hr:read', resource: 'slos://vaults/hr/x' }), 'DENY', 'DENIED_RESOURCE');
    expectDecision(run({ ...READ, context: { recordCount: 21 } }), 'DENY', 'MAX_RECORDS_EXCEEDED');
    // A sub-agent the policy does not name: bounded by agent-a's entry, `*` deny rules still bite.
    const child = deriveChild(root.token, { agent: 'agent-a/helper' }, signer, NOW);
    expectDecision(run(READ, child.token), 'ALLOW', 'ALLOWED');
    expectDecision(
      run({ requiredScope: 'vault:payroll:read', resource: 'slos://vaults/payroll/x' }, child.token),
      'DENY',
      'POLICY_DENIED',
    );
  });

  test('envelope constraints are checked before the policy', () => {
    const { root, deps } = setup({ constraints: constraints({ requirePurpose: true }) });
    expectDecision(
      checkRequest({ token: root.token, ...READ }, { ...deps, policy: policyOf({}) }),
      'DENY',
      'PURPOSE_REQUIRED',
    );
  });
});

describe('checkRequest: memoized hot path', () => {
  test('a repeated check costs no Ed25519, and a revocation after memoization denies at once', () => {
    const { root, deps, signer } = setup();
    const child = deriveChild(root.token, { scopes: ['vault:finance:read'] }, signer, NOW);
    let ed25519Calls = 0;
    const revoked = new Set<string>();
    const memoDeps: CheckDeps = {
      ...deps,
      memo: new LinkMemo(),
      isRevoked: (jti) => revoked.has(jti),
      verifySignature: (sig, msg, key) => {
        ed25519Calls++;
        return ed25519Verify(sig, msg, key);
      },
    };
    expectDecision(checkRequest({ token: child.token, ...READ }, memoDeps), 'ALLOW', 'ALLOWED');
    assert.equal(ed25519Calls, 3, 'two links and the seal');
    ed25519Calls = 0;
    for (let i = 0; i < 5; i++)
      expectDecision(checkRequest({ token: child.token, ...READ }, memoDeps), 'ALLOW', 'ALLOWED');
    assert.equal(ed25519Calls, 0);
    revoked.add(child.claims.jti);
    expectDecision(checkRequest({ token: child.token, ...READ }, memoDeps), 'DENY', 'REVOKED');
    assert.equal(ed25519Calls, 0);
  });
});

describe('checkRequest: constraints fail closed, every violation listed', () => {
  function policyOf(entries: Record<string, PolicyEntry>, extra: Partial<TenantPolicy> = {}): PolicyLookup {
    return (tenant) => (tenant === TENANT ? { version: 'v9', agent: (agent) => entries[agent], ...extra } : undefined);
  }
  const full = { scopes: ['vault:*:read', 'vault:finance:*'] };

  test('max_records_per_request without context.record_count is RECORD_COUNT_REQUIRED (envelope or policy); 0 is a count', () => {
    const { root, deps } = setup({ constraints: constraints({ maxRecordsPerRequest: 10 }) });
    for (const context of [undefined, {}, { purpose: 'audit' }]) {
      const r = checkRequest({ token: root.token, ...READ, ...(context ? { context } : {}) }, deps);
      expectDecision(r, 'DENY', 'RECORD_COUNT_REQUIRED', 'context.record_count');
      assert.match(r.message, /must state how many records it touches in context\.record_count \(limit is 10\)/);
      assert.deepEqual(
        r.violations?.map((v) => [v.reason, v.constraint, v.field, v.source]),
        [['RECORD_COUNT_REQUIRED', 'max_records_per_request', 'context.record_count', 'envelope']],
      );
    }
    expectDecision(checkRequest({ token: root.token, ...READ, context: { recordCount: 0 } }, deps), 'ALLOW', 'ALLOWED');

    const { root: plain } = setup();
    const policy = policyOf({ 'agent-a': { ...full, constraints: constraints({ maxRecordsPerRequest: 5 }) } });
    const r = checkRequest({ token: plain.token, ...READ }, { ...deps, policy });
    expectDecision(r, 'DENY', 'RECORD_COUNT_REQUIRED', 'context.record_count');
    assert.match(r.message, /^policy v9, agent 'agent-a': Constraint 'max_records_per_request'/);
    assert.equal(r.violations?.[0]?.source, 'policy:agent-a');
    expectDecision(
      checkRequest({ token: plain.token, ...READ, context: { recordCount: 5 } }, { ...deps, policy }),
      'ALLOW',
      'ALLOWED',
    );
  });

  test('require_purpose refuses a purpose of invisible characters only', () => {
    const { root, deps } = setup({ constraints: constraints({ requirePurpose: true }) });
    for (const purpose of ['\u200b', '\u2060\u2060', '\u3164', '\u115f\u1160', '\uffa0', ' \u200b\u3164 ', '...']) {
      const r = checkRequest({ token: root.token, ...READ, context: { purpose } }, deps);
      expectDecision(r, 'DENY', 'PURPOSE_REQUIRED', 'context.purpose');
      assert.equal(r.violations?.length, 1);
    }
    expectDecision(
      checkRequest({ token: root.token, ...READ, context: { purpose: '\u3164x' } }, deps),
      'ALLOW',
      'ALLOWED',
    );
  });

  test('write_requires_approval under a wildcard grant: every non-read-only action needs approval', () => {
    const { root, deps } = setup({
      scopes: ['vault:finance:*'],
      constraints: constraints({ writeRequiresApproval: true }),
    });
    const at = (action: string) => ({ requiredScope: `vault:finance:${action}`, resource: READ.resource });
    for (const action of ['put', 'patch', 'remove', 'upsert', 'delete_all', 'write-bulk', 'write', 'Delete', 'x.y']) {
      const r = checkRequest({ token: root.token, ...at(action) }, deps);
      expectDecision(r, 'DENY', 'APPROVAL_REQUIRED');
      assert.deepEqual(r.approvalRequired?.requiredBy, ['envelope'], action);
      assert.equal(r.violations, undefined, 'an approval is not a violation');
    }
    for (const action of ['read', 'list', 'get', 'query', 'search', 'view', 'describe', 'head', 'READ', 'List']) {
      expectDecision(checkRequest({ token: root.token, ...at(action) }, deps), 'ALLOW', 'ALLOWED');
    }
    // A declared action can only add approval requirements, never remove the scope's.
    expectDecision(
      checkRequest({ token: root.token, ...at('put'), action: 'read' }, deps),
      'DENY',
      'APPROVAL_REQUIRED',
    );
    const declared = checkRequest({ token: root.token, ...at('read'), action: 'upsert' }, deps);
    expectDecision(declared, 'DENY', 'APPROVAL_REQUIRED');
    assert.equal(declared.approvalRequired?.action, 'upsert');
    // The same under the policy's constraint.
    const { root: plain } = setup({ scopes: ['vault:finance:*'] });
    const policy = policyOf({ 'agent-a': { ...full, constraints: constraints({ writeRequiresApproval: true }) } });
    const viaPolicy = checkRequest({ token: plain.token, ...at('patch') }, { ...deps, policy });
    expectDecision(viaPolicy, 'DENY', 'APPROVAL_REQUIRED');
    assert.deepEqual(viaPolicy.approvalRequired?.requiredBy, ['policy']);
    expectDecision(checkRequest({ token: plain.token, ...at('search') }, { ...deps, policy }), 'ALLOW', 'ALLOWED');
  });

  test("the tenant's read_only_actions apply to envelope and policy constraints alike", () => {
    const { root, deps } = setup({
      scopes: ['vault:finance:*'],
      constraints: constraints({ writeRequiresApproval: true }),
    });
    const policy = tenantPolicyFrom(
      parsePolicy(`
organization: Acme
read_only_actions: [read, export]
agents:
  agent-a:
    scopes: ["vault:finance:*"]
    constraints: {write_requires_approval: true}
`),
    );
    const withPolicy = { ...deps, policy: (t: string) => (t === TENANT ? policy : undefined) };
    const at = (action: string) => ({
      token: root.token,
      requiredScope: `vault:finance:${action}`,
      resource: READ.resource,
    });
    expectDecision(checkRequest(at('export'), withPolicy), 'ALLOW', 'ALLOWED');
    expectDecision(checkRequest(at('EXPORT'), withPolicy), 'ALLOW', 'ALLOWED');
    const list = checkRequest(at('list'), withPolicy);
    expectDecision(list, 'DENY', 'APPROVAL_REQUIRED');
    assert.deepEqual(list.approvalRequired?.requiredBy, ['envelope', 'policy']);
    // Without the tenant's policy, the default list applies to the envelope.
    expectDecision(checkRequest(at('list'), deps), 'ALLOW', 'ALLOWED');
    expectDecision(checkRequest(at('export'), deps), 'DENY', 'APPROVAL_REQUIRED');
  });

  test('every violation of the envelope and of every policy entry of the chain is listed; the first by precedence decides', () => {
    const { root, deps, signer } = setup({
      constraints: constraints({
        requirePurpose: true,
        maxRecordsPerRequest: 10,
        deniedResources: ['slos://vaults/finance/secret-*'],
      }),
    });
    const child = deriveChild(root.token, { agent: 'agent-a/helper' }, signer, NOW);
    const policy = policyOf({
      'agent-a': {
        ...full,
        constraints: constraints({ requirePurpose: true, maxRecordsPerRequest: 5 }),
        deniedResources: ['*/secret-*'],
      },
      'agent-a/helper': { ...full, constraints: constraints({ maxRecordsPerRequest: 3 }) },
    });
    const withPolicy = { ...deps, policy };

    const r = checkRequest({ token: child.token, ...READ }, withPolicy);
    expectDecision(r, 'DENY', 'RECORD_COUNT_REQUIRED', 'context.record_count');
    assert.deepEqual(
      r.violations?.map((v) => [v.reason, v.source]),
      [
        ['RECORD_COUNT_REQUIRED', 'envelope'],
        ['RECORD_COUNT_REQUIRED', 'policy:agent-a'],
        ['RECORD_COUNT_REQUIRED', 'policy:agent-a/helper'],
        ['PURPOSE_REQUIRED', 'envelope'],
        ['PURPOSE_REQUIRED', 'policy:agent-a'],
      ],
    );
    assert.match(r.message, /^5 constraint violations: \(1\) Constraint 'max_records_per_request'/);
    for (const v of r.violations ?? []) assert.ok(r.message.includes(v.message), `message names: ${v.message}`);
    assert.match(r.message, /\(5\) policy v9, agent 'agent-a': Constraint 'require_purpose'/);

    // A denied resource and a count over every limit: DENIED_RESOURCE first, from both lists.
    const secret = checkRequest(
      { token: child.token, ...READ, resource: 'slos://vaults/finance/secret-1', context: { recordCount: 7 } },
      withPolicy,
    );
    expectDecision(secret, 'DENY', 'DENIED_RESOURCE', 'resource');
    assert.deepEqual(
      secret.violations?.map((v) => [v.reason, v.constraint, v.field, v.source]),
      [
        ['DENIED_RESOURCE', 'denied_resources', 'resource', 'envelope'],
        ['DENIED_RESOURCE', 'denied_resources', 'resource', 'policy:agent-a'],
        ['MAX_RECORDS_EXCEEDED', 'max_records_per_request', 'context.record_count', 'policy:agent-a'],
        ['MAX_RECORDS_EXCEEDED', 'max_records_per_request', 'context.record_count', 'policy:agent-a/helper'],
        ['PURPOSE_REQUIRED', 'require_purpose', 'context.purpose', 'envelope'],
        ['PURPOSE_REQUIRED', 'require_purpose', 'context.purpose', 'policy:agent-a'],
      ],
    );
    // Fixing every listed violation in one retry is enough.
    expectDecision(
      checkRequest({ token: child.token, ...READ, context: { recordCount: 3, purpose: 'audit' } }, withPolicy),
      'ALLOW',
      'ALLOWED',
    );
  });

  test('other denials and approvals carry no violations', () => {
    const { root, deps } = setup({ constraints: constraints({ writeRequiresApproval: true }) });
    for (const r of [
      checkRequest({ token: root.token, ...READ, requiredScope: 'audit:x:read' }, deps),
      checkRequest({ token: 'garbage', ...READ }, deps),
      checkRequest({ token: root.token, ...READ, requiredScope: 'vault:finance:write' }, deps),
      checkRequest({ token: root.token, ...READ }, { ...deps, policy: policyOf({}) }),
      checkRequest({ token: root.token, ...READ }, deps),
    ]) {
      assert.equal(r.violations, undefined, r.reason);
    }
  });

  test('order: possession, then every constraint, then the rest of the policy', () => {
    const { root, deps } = setup({ constraints: constraints({ requirePurpose: true }) });
    // Constraints of the envelope and of the policy come before the policy's scope and deny rules.
    const denyAll: PolicyLookup = policyOf(
      { 'agent-a': { scopes: ['vault:health:read'], constraints: constraints({ maxRecordsPerRequest: 1 }) } },
      { deny: () => ({ reason: 'POLICY_DENIED', message: 'suspended' }) },
    );
    const r = checkRequest({ token: root.token, ...READ }, { ...deps, policy: denyAll });
    expectDecision(r, 'DENY', 'RECORD_COUNT_REQUIRED');
    assert.deepEqual(
      r.violations?.map((v) => v.reason),
      ['RECORD_COUNT_REQUIRED', 'PURPOSE_REQUIRED'],
    );
    const fixed = checkRequest(
      { token: root.token, ...READ, context: { purpose: 'p', recordCount: 1 } },
      { ...deps, policy: denyAll },
    );
    expectDecision(fixed, 'DENY', 'POLICY_DENIED', 'policy');
    // A policy entry's `pop: required` is possession: checked before anything is said about constraints.
    const pop = policyOf({ 'agent-a': { ...full, constraints: constraints({ popRequired: true }) } });
    const unproven = checkRequest({ token: root.token, ...READ }, { ...deps, policy: pop });
    expectDecision(unproven, 'DENY', 'PROOF_REQUIRED', 'proof');
    assert.match(unproven.message, /for agent 'agent-a'/);
    assert.equal(unproven.violations, undefined);
  });
});
