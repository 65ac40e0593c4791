// Issuer and two enforcers end to end (issue 3), against the REAL Kafka broker and MongoDB-wire
// server: mint → allow; revoke → both enforcers deny REVOKED, and children of a revoked parent
// too; agent revocation; key rotation with overlap; cross-tenant tokens and credentials refused;
// approval requested → approved → allowed once → second use denied across the two enforcers; every
// decision on `<prefix>audit` with the fields of ARCHITECTURE §5; a restarted enforcer rebuilds its
// state from Kafka and gives the same answers.
// Size: one issuer and two enforcers started once for every scenario below.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  AuthorityClientError,
  createKafka,
  silentLogger,
  type ConsumedMessage,
  type KafkaEventBus,
} from '@authority/platform';
import { decodeEvent, pb, type CheckResponse__Output, type MintResponse__Output } from '@authority/proto';
import {
  mintEnvelope,
  newTraceparent,
  rpc,
  startStack,
  type Stack,
  type StackEnforcer,
  type StackTenant,
} from '../src/stack';
import { eventually } from '@authority/test-helpers';

let stack: Stack;
let audit: AuditTap;
let tenantA: StackTenant;
let tenantB: StackTenant;
/** Every decision answered in this file: decision id → what the caller saw. */
const decisions = new Map<
  string,
  { response: CheckResponse__Output; request: CheckReq; enforcer: string; traceId: string }
>();

interface CheckReq {
  token: string;
  requiredScope: string;
  resource: string;
  action?: string;
  context?: { purpose?: string; recordCount?: number; fields?: Record<string, string> };
  approvalId?: string;
}

/** Records every audit record of the stack from the beginning. */
class AuditTap {
  readonly records: ConsumedMessage[] = [];
  private constructor(private readonly bus: KafkaEventBus) {}
  static async start(s: Stack): Promise<AuditTap> {
    const bus = createKafka({ brokers: s.brokers, clientId: 'e2e-audit-tap', logger: silentLogger() });
    const tap = new AuditTap(bus);
    await bus.consume({
      groupId: `e2e-tap-${randomBytes(6).toString('hex')}`,
      topics: [s.topics.audit],
      fromBeginning: true,
      eachMessage: async (m) => {
        tap.records.push(m);
      },
    });
    return tap;
  }
  events(): pb.AuditEvent[] {
    return this.records.filter((m) => m.value !== null).map((m) => decodeEvent(pb.AuditEventSchema, m.value as Buffer));
  }
  stop(): Promise<void> {
    return this.bus.disconnect();
  }
}

async function check(e: StackEnforcer, req: CheckReq, secret: string): Promise<CheckResponse__Output> {
  const { traceparent, traceId } = newTraceparent();
  const response = await rpc<CheckResponse__Output>(e.client, 'Check', req, secret, { traceparent });
  decisions.set(response.decisionId, { response, request: req, enforcer: e.id, traceId });
  return response;
}

/** Checks on every enforcer until each answers `reason` (propagation through Kafka), then returns the answers. */
async function onEveryEnforcer(req: CheckReq, secret: string, reason: string): Promise<CheckResponse__Output[]> {
  const answers: CheckResponse__Output[] = [];
  for (const e of stack.enforcers) {
    answers.push(
      await eventually(async () => {
        const r = await check(e, req, secret);
        return r.reason === reason ? r : undefined;
      }, `${e.id} answering ${reason}`),
    );
  }
  return answers;
}

/** Waits until every enforcer has replayed the tenant's checker credential and its keys. */
async function enforcersKnow(t: StackTenant): Promise<void> {
  for (const e of stack.enforcers) {
    await eventually(
      () => (e.handle.views.keys.authenticate(t.checker) ? true : undefined),
      `${e.id} knowing ${t.tenant}'s checker`,
    );
  }
}

async function mint(
  t: StackTenant,
  over: Record<string, unknown> = {},
): Promise<NonNullable<MintResponse__Output['envelope']>> {
  const res = await mintEnvelope(
    stack,
    t,
    'finance-bot',
    {
      scopes: ['vault:finance:read', 'vault:finance:write'],
      resources: ['slos://vaults/finance/*'],
      constraintsJson: '{"require_purpose":true,"write_requires_approval":true}',
    },
    { ttlSeconds: 3600, ...over },
  );
  assert.ok(res.envelope);
  return res.envelope;
}

const read = (token: string, resource = 'slos://vaults/finance/q1.md'): CheckReq => ({
  token,
  requiredScope: 'vault:finance:read',
  resource,
  context: { purpose: 'quarter close' },
});

before(async () => {
  stack = await startStack({ enforcers: 2, withPolicy: true });
  audit = await AuditTap.start(stack);
  tenantA = await stack.createTenant();
  tenantB = await stack.createTenant();
  await enforcersKnow(tenantA);
  await enforcersKnow(tenantB);
});

after(async () => {
  await audit?.stop();
  await stack?.stop();
});

describe('issuer → enforcers', () => {
  test('mint → allow on both enforcers; wrong scope, resource or missing purpose denied with the reason', async () => {
    const env = await mint(tenantA);
    const [a0, a1] = await onEveryEnforcer(read(env.token), tenantA.checker, 'ALLOWED');
    for (const r of [a0!, a1!]) {
      assert.equal(r.decision, 'ALLOW');
      assert.equal(r.agentId, 'finance-bot');
      assert.equal(r.tenant, tenantA.tenant);
    }
    const e0 = stack.enforcers[0]!;
    assert.equal(
      (await check(e0, { ...read(env.token), requiredScope: 'vault:hr:read' }, tenantA.checker)).reason,
      'SCOPE_MISSING',
    );
    assert.equal(
      (await check(e0, read(env.token, 'slos://vaults/hr/x'), tenantA.checker)).reason,
      'RESOURCE_NOT_ALLOWED',
    );
    assert.equal((await check(e0, { ...read(env.token), context: {} }, tenantA.checker)).reason, 'PURPOSE_REQUIRED');
  });

  test('revoke → every enforcer denies REVOKED; revoking a parent kills its children; agent revocation', async () => {
    const parent = await mint(tenantA);
    const child = (
      await rpc<MintResponse__Output>(
        stack.issuer.client,
        'Delegate',
        {
          tenant: tenantA.tenant,
          parentToken: parent.token,
          agentId: 'finance-bot/sub-bot',
          grant: null,
          ttlSeconds: 600,
        },
        tenantA.admin,
      )
    ).envelope!;
    const sibling = await mint(tenantA);
    await onEveryEnforcer(read(child.token), tenantA.checker, 'ALLOWED');

    await rpc(stack.issuer.client, 'Revoke', { tenant: tenantA.tenant, jti: parent.jti, reason: 'e2e' }, tenantA.admin);
    for (const r of await onEveryEnforcer(read(parent.token), tenantA.checker, 'REVOKED'))
      assert.equal(r.decision, 'DENY');
    for (const r of await onEveryEnforcer(read(child.token), tenantA.checker, 'REVOKED'))
      assert.equal(r.decision, 'DENY');
    // Only that chain: another envelope of the same agent is still fine.
    await onEveryEnforcer(read(sibling.token), tenantA.checker, 'ALLOWED');

    // Agent revocation: every envelope issued to the agent until now.
    const other = await mint(tenantA, { agentId: 'doomed-bot' });
    await onEveryEnforcer(read(other.token), tenantA.checker, 'ALLOWED');
    await rpc(
      stack.issuer.client,
      'RevokeAgent',
      { tenant: tenantA.tenant, agentId: 'doomed-bot', reason: 'e2e' },
      tenantA.admin,
    );
    await onEveryEnforcer(read(other.token), tenantA.checker, 'REVOKED');
    await onEveryEnforcer(read(sibling.token), tenantA.checker, 'ALLOWED');
  });

  test('key rotation with overlap: old envelopes keep verifying, new ones are signed by the new key', async () => {
    const t = await stack.createTenant();
    await enforcersKnow(t);
    const old = await mint(t);
    await onEveryEnforcer(read(old.token), t.checker, 'ALLOWED');
    const rot = await rpc<{ active: { keyId: string }; previous: { keyId: string; status: string } }>(
      stack.issuer.client,
      'RotateKey',
      { tenant: t.tenant },
      t.admin,
    );
    assert.equal(rot.previous.keyId, old.keyId);
    assert.equal(rot.previous.status, 'VERIFY_ONLY');
    const fresh = await mint(t);
    assert.equal(fresh.keyId, rot.active.keyId);
    await onEveryEnforcer(read(fresh.token), t.checker, 'ALLOWED');
    await onEveryEnforcer(read(old.token), t.checker, 'ALLOWED');
    for (const e of stack.enforcers) {
      const k = e.handle.views.keys.keysOf(t.tenant).find((x) => x.keyId === old.keyId);
      assert.equal(k?.status, 'VERIFY_ONLY', `${e.id} sees the old key as verify-only`);
    }
  });

  test('key compromise: RetireKey(compromised) makes every enforcer refuse what the key signed; a new key signs', async () => {
    const t = await stack.createTenant();
    await enforcersKnow(t);
    const leaked = await mint(t);
    await onEveryEnforcer(read(leaked.token), t.checker, 'ALLOWED');
    const retired = await rpc<{
      retired: { keyId: string; status: string; compromised: boolean };
      active: { keyId: string };
    }>(
      stack.issuer.client,
      'RetireKey',
      { tenant: t.tenant, keyId: leaked.keyId, compromised: true, reason: 'e2e: key leaked' },
      t.admin,
    );
    assert.equal(retired.retired.keyId, leaked.keyId);
    assert.equal(retired.retired.status, 'RETIRED');
    assert.equal(retired.retired.compromised, true);
    assert.notEqual(retired.active.keyId, leaked.keyId);
    for (const r of await onEveryEnforcer(read(leaked.token), t.checker, 'UNKNOWN_KEY')) {
      assert.equal(r.decision, 'DENY');
      assert.equal(r.field, 'kid');
      // A verify-stage denial keeps the claimed actor.
      assert.equal(r.agentId, 'finance-bot');
      assert.equal(r.chainUnverified, true);
    }
    const fresh = await mint(t);
    assert.equal(fresh.keyId, retired.active.keyId);
    await onEveryEnforcer(read(fresh.token), t.checker, 'ALLOWED');
  });

  test('delegation: the child is named under its parent, needs the parent sealed, and the path is answered', async () => {
    const parent = await mint(tenantA);
    const spoof = await rpc<MintResponse__Output>(
      stack.issuer.client,
      'Delegate',
      { tenant: tenantA.tenant, parentToken: parent.token, agentId: 'payroll-bot', grant: null, ttlSeconds: 600 },
      tenantA.admin,
    ).then(
      () => undefined,
      (err: unknown) => err as AuthorityClientError,
    );
    assert.ok(spoof, 'a child named outside its lineage is refused');
    assert.match(spoof.message, /lineage/);
    const unsealedParent = parent.token.slice(0, parent.token.lastIndexOf('~'));
    const unsealed = await rpc<MintResponse__Output>(
      stack.issuer.client,
      'Delegate',
      { tenant: tenantA.tenant, parentToken: unsealedParent, agentId: 'finance-bot/x', grant: null, ttlSeconds: 600 },
      tenantA.admin,
    ).then(
      () => undefined,
      (err: unknown) => err as AuthorityClientError,
    );
    assert.ok(unsealed, 'an unsealed parent is refused');
    const child = (
      await rpc<MintResponse__Output>(
        stack.issuer.client,
        'Delegate',
        {
          tenant: tenantA.tenant,
          parentToken: parent.token,
          agentId: 'finance-bot/reader',
          grant: null,
          ttlSeconds: 600,
        },
        tenantA.admin,
      )
    ).envelope!;
    assert.deepEqual(child.agentChain, ['finance-bot', 'finance-bot/reader']);
    const [answer] = await onEveryEnforcer(read(child.token), tenantA.checker, 'ALLOWED');
    assert.deepEqual(answer!.agentChain, ['finance-bot', 'finance-bot/reader']);
  });

  test('cross-tenant tokens and credentials are refused', async () => {
    const tokenA = await mint(tenantA);
    const e0 = stack.enforcers[0]!;
    // B's checker presenting A's token: denied, never allowed.
    const crossed = await check(e0, read(tokenA.token), tenantB.checker);
    assert.equal(crossed.decision, 'DENY');
    assert.equal(crossed.reason, 'TENANT_MISMATCH');
    // A's own checker: allowed.
    assert.equal((await check(e0, read(tokenA.token), tenantA.checker)).decision, 'ALLOW');
    // B's credentials can do nothing for A at the issuer.
    for (const secret of [tenantB.admin, tenantB.approver, tenantB.checker]) {
      await assert.rejects(
        rpc(stack.issuer.client, 'Revoke', { tenant: tenantA.tenant, jti: tokenA.jti }, secret),
        (err: AuthorityClientError) => err.codeName === 'PERMISSION_DENIED',
      );
      await assert.rejects(
        rpc(
          stack.issuer.client,
          'Mint',
          {
            tenant: tenantA.tenant,
            agentId: 'x',
            grant: { scopes: ['a:b'], constraintsJson: '{"unconstrained":true}' },
            ttlSeconds: 60,
          },
          secret,
        ),
        (err: AuthorityClientError) => err.codeName === 'PERMISSION_DENIED',
      );
    }
    // An approver or auditor credential may not call the enforcer; no credential is UNAUTHENTICATED.
    await assert.rejects(
      check(e0, read(tokenA.token), tenantA.approver),
      (err: AuthorityClientError) => err.codeName === 'PERMISSION_DENIED',
    );
    await assert.rejects(
      check(e0, read(tokenA.token), 'nope-nope-nope'),
      (err: AuthorityClientError) => err.codeName === 'UNAUTHENTICATED',
    );
  });

  test('approval requested → approved → allowed once → second use denied, across two enforcers', async () => {
    const env = await mint(tenantA);
    const [e0, e1] = [stack.enforcers[0]!, stack.enforcers[1]!];
    const write: CheckReq = {
      token: env.token,
      requiredScope: 'vault:finance:write',
      resource: 'slos://vaults/finance/q1.md',
      context: { purpose: 'fix a typo' },
    };
    const asked = await check(e0, write, tenantA.checker);
    assert.equal(asked.decision, 'DENY');
    assert.equal(asked.reason, 'APPROVAL_REQUIRED');
    assert.ok(asked.approvalRequestId, 'an approval request id is returned');
    const approvalId = asked.approvalRequestId;

    // Still pending: the retry is APPROVAL_REQUIRED, not allowed.
    assert.equal((await check(e1, { ...write, approvalId }, tenantA.checker)).reason, 'APPROVAL_REQUIRED');
    await rpc(
      stack.issuer.client,
      'DecideApproval',
      { tenant: tenantA.tenant, approvalId, approve: true },
      tenantA.approver,
    );

    // Bound to agent, action and resource: another resource does not use it up.
    const elsewhere = await check(
      e1,
      { ...write, resource: 'slos://vaults/finance/q2.md', approvalId },
      tenantA.checker,
    );
    assert.equal(elsewhere.decision, 'DENY');
    assert.equal(elsewhere.reason, 'APPROVAL_INVALID');

    const allowed = await check(e1, { ...write, approvalId }, tenantA.checker);
    assert.equal(allowed.decision, 'ALLOW', allowed.message);
    const again = await check(e0, { ...write, approvalId }, tenantA.checker);
    assert.equal(again.decision, 'DENY');
    assert.equal(again.reason, 'APPROVAL_INVALID');
    const third = await check(e1, { ...write, approvalId }, tenantA.checker);
    assert.equal(third.reason, 'APPROVAL_INVALID');
  });

  test('a restarted enforcer rebuilds its state from Kafka and gives the same answers', async () => {
    const t = await stack.createTenant();
    await enforcersKnow(t);
    const live = await mint(t);
    const revoked = await mint(t);
    const rotatedOld = await mint(t);
    await rpc(stack.issuer.client, 'Revoke', { tenant: t.tenant, jti: revoked.jti }, t.admin);
    await rpc(stack.issuer.client, 'RotateKey', { tenant: t.tenant }, t.admin);
    const rotatedNew = await mint(t);
    const probes: [string, CheckReq][] = [
      ['live', read(live.token)],
      ['revoked', read(revoked.token)],
      ['old key', read(rotatedOld.token)],
      ['new key', read(rotatedNew.token)],
      ['wrong scope', { ...read(live.token), requiredScope: 'vault:hr:read' }],
      ['needs approval', { ...read(live.token), requiredScope: 'vault:finance:write' }],
    ];
    await onEveryEnforcer(read(revoked.token), t.checker, 'REVOKED');
    await onEveryEnforcer(read(rotatedNew.token), t.checker, 'ALLOWED');
    const e1 = stack.enforcers[1]!;
    const before = new Map<string, string>();
    for (const [name, req] of probes) {
      const r = await check(e1, req, t.checker);
      before.set(name, `${r.decision}/${r.reason}`);
    }
    assert.equal(before.get('live'), 'ALLOW/ALLOWED');
    assert.equal(before.get('revoked'), 'DENY/REVOKED');

    const restarted = await stack.restartEnforcer(1);
    for (const [name, req] of probes) {
      const r = await check(restarted, req, t.checker);
      assert.equal(`${r.decision}/${r.reason}`, before.get(name), `${name} after restart`);
    }
  });

  test('a policy put through the policy service bounds minting and tightens envelopes already in the wild', async () => {
    const t = await stack.createTenant();
    await enforcersKnow(t);
    const early = await mint(t); // read + write, before any policy
    const stranger = await mint(t, { agentId: 'stranger-bot' });
    await onEveryEnforcer(read(early.token), t.checker, 'ALLOWED');
    const yaml = [
      'organization: E2E',
      'version: "1"',
      'agents:',
      '  finance-bot:',
      '    scopes: ["vault:finance:read"]',
      '    resources: ["slos://vaults/finance/*"]',
      '    constraints:',
      '      require_purpose: true',
      '',
    ].join('\n');
    await rpc(stack.policy!.client, 'PutPolicy', { tenant: t.tenant, yaml, expectedVersion: 0 }, t.admin);
    // The issuer refuses what the policy does not grant, naming the excess...
    const refused = await eventually(async () => {
      try {
        await mint(t);
        return undefined;
      } catch (err) {
        return err as AuthorityClientError;
      }
    }, 'the issuer applying the policy');
    assert.equal(refused.codeName, 'PERMISSION_DENIED');
    assert.equal(refused.reason, 'POLICY_DENIED');
    assert.equal(refused.field, 'grant.scopes[1]');
    // ...and mints what it does grant.
    const ok = await mint(t, {
      grant: {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        contextFields: [],
        constraintsJson: '{"require_purpose":true}',
      },
    });
    await onEveryEnforcer(read(ok.token), t.checker, 'ALLOWED');
    // Envelopes minted before the policy: still fine where the policy allows, denied where it does not.
    await onEveryEnforcer(read(early.token), t.checker, 'ALLOWED');
    const write = { ...read(early.token), requiredScope: 'vault:finance:write' };
    for (const r of await onEveryEnforcer(write, t.checker, 'POLICY_DENIED')) assert.equal(r.policyVersion, '1');
    await onEveryEnforcer(read(stranger.token), t.checker, 'POLICY_DENIED');
  });

  test('every decision appears on the audit topic with the fields of ARCHITECTURE §5', async () => {
    assert.ok(decisions.size > 20, `decisions made: ${decisions.size}`);
    const byId = await eventually(() => {
      const events = new Map(
        audit
          .events()
          .filter((e) => e.action === 'check')
          .map((e) => [e.eventId, e]),
      );
      return [...decisions.keys()].every((id) => events.has(id)) ? events : undefined;
    }, 'an audit event for every decision');
    for (const [id, d] of decisions) {
      const e = byId.get(id)!;
      const where = `${d.response.reason} on ${d.enforcer}`;
      assert.equal(e.tenant, d.response.tenant || e.tenant, where);
      assert.ok(e.tenant !== '', `tenant (${where})`);
      assert.ok(e.time && Number(e.time.seconds) > 0, `time (${where})`);
      assert.equal(e.source, 'enforcer');
      assert.equal(e.action, 'check');
      assert.equal(e.resource, d.request.resource, `resource (${where})`);
      assert.equal(pb.Decision[e.decision], d.response.decision, `decision (${where})`);
      assert.equal(pb.ReasonCode[e.reason], d.response.reason, `reason (${where})`);
      assert.equal(e.message, d.response.message, `message (${where})`);
      assert.equal(e.policyVersion, d.response.policyVersion, `policy version (${where})`);
      if (d.response.agentId) {
        assert.equal(e.actor?.agentId, d.response.agentId, `actor agent (${where})`);
        assert.ok((e.actor?.jtiChain.length ?? 0) >= 1, `actor jti chain (${where})`);
      }
      assert.ok(e.actor?.principal, `actor principal (${where})`);
      assert.equal(e.traceId, d.traceId, `trace id links the decision to the caller's trace (${where})`);
      assert.match(e.spanId, /^[0-9a-f]{16}$/, `span id (${where})`);
      assert.equal(e.detail.case, 'check');
      if (e.detail.case === 'check') {
        assert.equal(e.detail.value.decisionId, id);
        assert.equal(e.detail.value.requiredScope, d.request.requiredScope);
        assert.equal(e.detail.value.enforcerId, d.enforcer);
      }
    }
    // CloudEvents binary-mode headers on every audit record, keyed by tenant.
    for (const m of audit.records) {
      const h = (k: string) => m.headers[k]?.toString();
      assert.equal(h('ce_specversion'), '1.0');
      assert.ok(h('ce_id') && h('ce_type') === 'authority.audit.v1' && h('ce_source') && h('ce_time'));
      assert.equal(h('ce_subject'), m.key?.toString());
    }
  });
});
