// The enforcer end to end over gRPC against the real Kafka broker: state rebuilt from the topics
// (keys, credentials, revocations published here as events: no issuer needed), decisions from the
// core engine, one audit event per decision on the audit topic.
// Size: one enforcer and its topics started once for every test below.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import * as grpc from '@grpc/grpc-js';
import {
  deriveChild,
  generateEd25519KeyPair,
  mintRoot,
  parseConstraints,
  offlineSigner,
  randomId,
  type Constraints,
} from '@authority/core';
import { AuthorityClientError, startTelemetry, type Telemetry } from '@authority/platform';
import { pb, type CheckRequest, type CheckResponse__Output } from '@authority/proto';
import type {
  ApprovalConsumeInput,
  ApprovalConsumeResult,
  ApprovalRequestInput,
  ApprovalsPort,
} from '../../src/adapters/issuer';
import type { EnforcerHandle } from '../../src/index';
import {
  AuditReader,
  EnforcerClient,
  OPERATOR_KEY,
  SERVING,
  StateFixture,
  healthStatus,
  mint,
  nowSec,
  startServing,
  testPrefix,
  waitFor,
  type TestTenant,
} from '../helpers';
import { forgeChild } from '../tokens';

const RESOURCE = 'slos://vaults/finance/doc-001';

function cons(wire: Record<string, unknown>): Constraints {
  return parseConstraints(wire, 'INVALID_REQUEST', 'cns');
}

/** Approvals without the issuer (the cross-service flow is the end-to-end suite's). */
class FakeApprovals implements ApprovalsPort {
  readonly requests: ApprovalRequestInput[] = [];
  async request(input: ApprovalRequestInput): Promise<string> {
    this.requests.push(input);
    return `apr-${randomId(6)}`;
  }
  async consume(_input: ApprovalConsumeInput): Promise<ApprovalConsumeResult> {
    return { consumed: false, reason: 'APPROVAL_INVALID', message: 'unknown approval' };
  }
  close(): void {}
}

function gc(): void {
  setFlagsFromString('--expose-gc');
  (runInNewContext('gc') as () => void)();
}

describe('enforcer (gRPC, real Kafka)', () => {
  const prefix = testPrefix();
  let fixture: StateFixture;
  let audit: AuditReader;
  let enforcer: EnforcerHandle;
  let client: EnforcerClient;
  let A: TestTenant;
  let B: TestTenant;
  const approvals = new FakeApprovals();
  const started: EnforcerHandle[] = [];
  const clients: EnforcerClient[] = [];
  let telemetry: Telemetry;

  const check = (req: CheckRequest, secret = A.checkerSecret, c = client) =>
    c.check(secret, { requiredScope: 'vault:finance:read', resource: RESOURCE, ...req });

  before(async () => {
    // As main.ts does: W3C propagation and span ids (no exporter), so audit events carry trace ids.
    telemetry = await startTelemetry({ serviceName: 'enforcer-test', env: {} });
    fixture = await StateFixture.create(prefix);
    A = await fixture.tenant();
    B = await fixture.tenant();
    await fixture.publishCredential(A.tenant, 'approver-1', 'approver-secret-0123456789', pb.CredentialKind.APPROVER);
    audit = await AuditReader.start(fixture);
    enforcer = await startServing(prefix, { AUTHORITY_ENFORCER_ID: 'enf-a' }, { approvals });
    started.push(enforcer);
    client = new EnforcerClient(enforcer.port);
    clients.push(client);
  });

  after(async () => {
    for (const c of clients) c.close();
    await Promise.allSettled(started.map((e) => e.stop()));
    await audit?.stop();
    await fixture?.close();
    await telemetry?.shutdown();
  });

  test('mint → ALLOW, with its audit event on the topic', async () => {
    const { token, jti } = mint(A);
    const res = await check({ token, context: { purpose: 'quarterly report', recordCount: 5 } });
    assert.equal(res.decision, 'ALLOW');
    assert.equal(res.reason, 'ALLOWED');
    assert.equal(res.agentId, 'agent-1');
    assert.equal(res.tenant, A.tenant);
    assert.ok(res.decisionId);

    const { event, headers, key } = await audit.wait(res.decisionId);
    assert.equal(key, A.tenant);
    assert.equal(event.eventId, res.decisionId);
    assert.equal(event.tenant, A.tenant);
    assert.equal(event.source, 'enforcer');
    assert.equal(event.action, 'check');
    assert.equal(event.resource, RESOURCE);
    assert.equal(event.decision, pb.Decision.ALLOW);
    assert.equal(event.reason, pb.ReasonCode.ALLOWED);
    assert.equal(event.message, res.message);
    assert.equal(event.policyVersion, '');
    assert.ok(event.time && Math.abs(Number(event.time.seconds) - nowSec()) < 60);
    assert.equal(event.actor?.agentId, 'agent-1');
    assert.deepEqual(event.actor?.jtiChain, [jti]);
    assert.equal(event.actor?.principal, A.checkerId);
    assert.equal(event.detail.case, 'check');
    const detail = event.detail.value as pb.CheckDetail;
    assert.equal(detail.decisionId, res.decisionId);
    assert.equal(detail.requiredScope, 'vault:finance:read');
    assert.equal(detail.purpose, 'quarterly report');
    assert.equal(detail.recordCount, 5);
    assert.equal(detail.enforcerId, 'enf-a');
    assert.equal(detail.approvalId, '');
    // CloudEvents binary mode + W3C trace context linking the event to the check's span.
    assert.equal(headers['ce_specversion'], '1.0');
    assert.equal(headers['ce_id'], res.decisionId);
    assert.equal(headers['ce_type'], 'authority.audit.v1');
    assert.equal(headers['ce_source'], '/authority/enforcer');
    assert.equal(headers['ce_subject'], A.tenant);
    assert.match(event.traceId, /^[0-9a-f]{32}$/);
    assert.match(event.spanId, /^[0-9a-f]{16}$/);
    // Same trace; the record carries its PRODUCER span (a child of the decision's span), so the
    // auditor's consumer span joins the trace under it.
    assert.match(headers['traceparent'] ?? '', new RegExp(`^00-${event.traceId}-[0-9a-f]{16}-0[01]$`));
    assert.notEqual((headers['traceparent'] ?? '').split('-')[2], event.spanId);
  });

  test('denies are audited too', async () => {
    const res = await check({ token: mint(A).token, requiredScope: 'vault:finance:write' });
    assert.equal(res.reason, 'SCOPE_MISSING');
    assert.equal(res.field, 'required_scope');
    const { event } = await audit.wait(res.decisionId);
    assert.equal(event.decision, pb.Decision.DENY);
    assert.equal(event.reason, pb.ReasonCode.SCOPE_MISSING);
  });

  test('any byte of any link changed → INVALID_SIGNATURE / INVALID_TOKEN (every position)', async () => {
    const root = mint(A, { holderKey: undefined });
    const child = deriveChild(
      root.token,
      { scopes: ['vault:finance:read'], agent: 'agent-1/sub-agent' },
      { secretKey: A.key.secretKey, kid: A.kid },
      nowSec(),
    );
    const token = child.token;
    assert.equal((await check({ token })).decision, 'ALLOW');
    // Where each position lies: header, payload or signature of its link, or the trailing seal.
    const sealStart = token.lastIndexOf('~') + 1;
    const mutated: { token: string; part: 'header' | 'payload' | 'signature' | 'separator' | 'seal' }[] = [];
    let dots = 0;
    for (let i = 0; i < token.length; i++) {
      const c = token[i]!;
      const part =
        i >= sealStart
          ? 'seal'
          : c === '~' || c === '.'
            ? 'separator'
            : dots === 0
              ? 'header'
              : dots === 1
                ? 'payload'
                : 'signature';
      if (c === '~') dots = 0;
      if (c === '.') dots++;
      mutated.push({ token: token.slice(0, i) + (c === 'A' ? 'B' : 'A') + token.slice(i + 1), part });
    }
    const seen = new Map<string, number>();
    for (let off = 0; off < mutated.length; off += 1000) {
      const slice = mutated.slice(off, off + 1000);
      const { results } = await client.batch(
        A.checkerSecret,
        slice.map((m) => ({ token: m.token, requiredScope: 'vault:finance:read', resource: RESOURCE })),
      );
      assert.equal(results.length, slice.length);
      results.forEach((r, k) => {
        const { part } = slice[k]!;
        // A changed signature never verifies; a changed header or payload either no longer parses,
        // or no longer verifies, or (when the change lands in `kid` or `tnt`, which select the
        // key) names a key that does not exist; a changed seal is no proof of possession (or, with
        // its fixed header changed, no longer a seal). Never anything else, never an ALLOW.
        const allowed =
          part === 'signature'
            ? ['INVALID_SIGNATURE', 'INVALID_TOKEN']
            : part === 'seal'
              ? ['INVALID_PROOF', 'INVALID_TOKEN']
              : ['INVALID_SIGNATURE', 'INVALID_TOKEN', 'UNKNOWN_KEY'];
        assert.equal(r.decision, 'DENY', `position ${off + k}`);
        assert.ok(allowed.includes(r.reason), `position ${off + k} (${part}): ${r.reason} ${r.message}`);
        seen.set(r.reason, (seen.get(r.reason) ?? 0) + 1);
      });
    }
    assert.ok(
      (seen.get('INVALID_SIGNATURE') ?? 0) > 0 && (seen.get('INVALID_TOKEN') ?? 0) > 0,
      JSON.stringify([...seen]),
    );
  });

  test('expired and not-yet-valid, minted with past and future times', async () => {
    const expired = mint(A, { ttlSeconds: 3600 }, nowSec() - 7200);
    const res = await check({ token: expired.token });
    assert.equal(res.reason, 'EXPIRED');
    assert.equal(res.field, 'exp');
    const future = mint(A, { ttlSeconds: 3600, notBefore: nowSec() + 3600 });
    const early = await check({ token: future.token });
    assert.equal(early.reason, 'NOT_YET_VALID');
    assert.equal(early.field, 'nbf');
  });

  test('child wider than its parent → CHAIN_VIOLATION naming the field', async () => {
    const root = mint(A, {
      scopes: ['vault:finance:read'],
      resources: ['slos://vaults/finance/*'],
      context: ['ticket'],
      constraints: cons({ require_purpose: true }),
    });
    const cases: [string, Parameters<typeof forgeChild>[1]][] = [
      ['scp', { scp: ['vault:*:read'] }],
      ['res', { res: ['slos://vaults/*'] }],
      ['ctx', { ctx: ['ticket', 'ssn'] }],
      ['cns', { cns: { unconstrained: true } }],
      ['exp', { exp: nowSec() + 7200 }],
      ['dep', { dep: 5 }],
    ];
    for (const [field, overrides] of cases) {
      const token = forgeChild(root.token, overrides, A.key.secretKey, A.kid);
      const res = await check({ token, context: { purpose: 'p' } });
      assert.equal(res.reason, 'CHAIN_VIOLATION', `${field}: ${res.message}`);
      assert.equal(res.field, field);
      assert.match(res.message, /link 1/);
    }
  });

  test("unknown kid → UNKNOWN_KEY; another tenant's key does not verify", async () => {
    const stranger = generateEd25519KeyPair();
    // Tenant A's usual envelope, signed by a key no directory has.
    const forged = mint({ ...A, key: stranger, kid: 'no-such-kid' });
    const res = await check({ token: forged.token });
    assert.equal(res.reason, 'UNKNOWN_KEY');
    assert.equal(res.field, 'kid');
    // B's kid named in a token of tenant A: keys resolve within the token's tenant only.
    const crossKid = mint({ ...A, key: B.key, kid: B.kid });
    assert.equal((await check({ token: crossKid.token })).reason, 'UNKNOWN_KEY');
  });

  test('key status: VERIFY_ONLY verifies until verify_until, then and when RETIRED the kid is unknown', async () => {
    const old = generateEd25519KeyPair();
    const signed = (kid: string) => mint({ ...A, key: old, kid }).token;
    await fixture.publishKey(
      A.tenant,
      'rotated-live',
      old.publicKey,
      pb.KeyStatus.VERIFY_ONLY,
      new Date(Date.now() + 3_600_000),
    );
    await fixture.publishKey(
      A.tenant,
      'rotated-over',
      old.publicKey,
      pb.KeyStatus.VERIFY_ONLY,
      new Date(Date.now() - 60_000),
    );
    await fixture.publishKey(A.tenant, 'retired', old.publicKey, pb.KeyStatus.RETIRED);
    await waitFor(async () => (await check({ token: signed('rotated-live') })).decision === 'ALLOW', {
      what: 'VERIFY_ONLY key loaded',
    });
    assert.equal((await check({ token: signed('rotated-over') })).reason, 'UNKNOWN_KEY');
    assert.equal((await check({ token: signed('retired') })).reason, 'UNKNOWN_KEY');
  });

  test('revocation event → REVOKED (link, descendants, agent)', async () => {
    const root = mint(A);
    const child = deriveChild(
      root.token,
      { agent: 'agent-1/sub-agent' },
      { secretKey: A.key.secretKey, kid: A.kid },
      nowSec(),
    );
    assert.equal((await check({ token: child.token })).decision, 'ALLOW');
    await fixture.revokeJti(A.tenant, root.jti);
    const revoked = await waitFor(
      async () => {
        const r = await check({ token: child.token });
        return r.reason === 'REVOKED' ? r : undefined;
      },
      { what: 'REVOKED for the child of a revoked root' },
    );
    assert.equal(revoked.decision, 'DENY');
    assert.equal((await check({ token: root.token })).reason, 'REVOKED');

    const agentToken = mint(A, { agent: 'agent-doomed' }, nowSec() - 5);
    assert.equal((await check({ token: agentToken.token })).decision, 'ALLOW');
    await fixture.revokeAgent(A.tenant, 'agent-doomed', new Date());
    await waitFor(async () => (await check({ token: agentToken.token })).reason === 'REVOKED', {
      what: 'agent revocation',
    });
    // Issued after the cut-off: still good.
    const later = mint(A, { agent: 'agent-doomed' }, nowSec() + 2);
    assert.equal((await check({ token: later.token })).decision, 'ALLOW');
  });

  test('constraints, one by one and combined', async () => {
    const token = (wire: Record<string, unknown>) =>
      mint(A, { scopes: ['vault:finance:read', 'vault:finance:write'], constraints: cons(wire) }).token;
    const purpose = token({ require_purpose: true });
    assert.equal((await check({ token: purpose })).reason, 'PURPOSE_REQUIRED');
    assert.equal((await check({ token: purpose, context: { purpose: '   ' } })).reason, 'PURPOSE_REQUIRED');
    assert.equal((await check({ token: purpose, context: { purpose: 'audit' } })).decision, 'ALLOW');

    const denied = token({ denied_resources: ['slos://vaults/finance/secret-*'] });
    const d = await check({ token: denied, resource: 'slos://vaults/finance/secret-42' });
    assert.equal(d.reason, 'DENIED_RESOURCE');
    assert.equal(d.field, 'resource');
    assert.equal((await check({ token: denied })).decision, 'ALLOW');

    const records = token({ max_records_per_request: 10 });
    assert.equal((await check({ token: records, context: { recordCount: 10 } })).decision, 'ALLOW');
    assert.equal((await check({ token: records, context: { recordCount: 11 } })).reason, 'MAX_RECORDS_EXCEEDED');
    // A limit the request does not let us check is not met (this was an ALLOW before issue 12).
    assert.equal((await check({ token: records })).reason, 'RECORD_COUNT_REQUIRED');
    assert.equal((await check({ token: records, context: { recordCount: 0 } })).decision, 'ALLOW');

    const approval = token({ write_requires_approval: true });
    assert.equal((await check({ token: approval })).decision, 'ALLOW');
    const needs = await check({ token: approval, requiredScope: 'vault:finance:write' });
    assert.equal(needs.reason, 'APPROVAL_REQUIRED');
    assert.match(needs.approvalRequestId, /^apr-/);
    const { event } = await audit.wait(needs.decisionId);
    assert.equal((event.detail.value as pb.CheckDetail).approvalId, needs.approvalRequestId);
    const bogus = await check({ token: approval, requiredScope: 'vault:finance:write', approvalId: 'apr-unknown' });
    assert.equal(bogus.reason, 'APPROVAL_INVALID');

    // Combined: the first violation by precedence (resource, record count, purpose) decides, and
    // violations beat approval.
    const all = token({
      require_purpose: true,
      denied_resources: ['slos://vaults/finance/secret-*'],
      max_records: 10,
      write_requires_approval: true,
    });
    assert.equal(
      (await check({ token: all, resource: 'slos://vaults/finance/secret-1', context: { recordCount: 99 } })).reason,
      'DENIED_RESOURCE',
    );
    const both = await check({ token: all, context: { recordCount: 99 } });
    assert.equal(both.reason, 'MAX_RECORDS_EXCEEDED');
    assert.deepEqual(
      both.violations.map((v) => v.reason),
      ['MAX_RECORDS_EXCEEDED', 'PURPOSE_REQUIRED'],
    );
    assert.equal((await check({ token: all, context: { recordCount: 1 } })).reason, 'PURPOSE_REQUIRED');
    assert.equal(
      (await check({ token: all, context: { purpose: 'x', recordCount: 99 } })).reason,
      'MAX_RECORDS_EXCEEDED',
    );
    assert.equal(
      (await check({ token: all, requiredScope: 'vault:finance:write', context: { purpose: 'x', recordCount: 99 } }))
        .reason,
      'MAX_RECORDS_EXCEEDED',
    );
    assert.equal(
      (await check({ token: all, requiredScope: 'vault:finance:write', context: { purpose: 'x', recordCount: 1 } }))
        .reason,
      'APPROVAL_REQUIRED',
    );
    assert.equal((await check({ token: all, context: { purpose: 'x', recordCount: 1 } })).decision, 'ALLOW');
  });

  test('constraints fail closed: every violation of the envelope and the policy listed, over gRPC and in the audit event', async () => {
    const D = await fixture.tenant();
    await fixture.publishPolicy(
      D.tenant,
      1,
      [
        'organization: D',
        'read_only_actions: [read, export]',
        'agents:',
        '  agent-1:',
        '    scopes: ["vault:finance:*"]',
        '    resources: ["slos://vaults/finance/*"]',
        '    constraints: {require_purpose: true, max_records_per_request: 5, write_requires_approval: true}',
        '    denied_resources: ["slos://vaults/finance/secret-*"]',
        '',
      ].join('\n'),
    );
    const root = mint(D, {
      scopes: ['vault:finance:*'],
      constraints: cons({ require_purpose: true, max_records_per_request: 10, denied_resources: ['*/secret-*'] }),
    });
    const child = deriveChild(
      root.token,
      { agent: 'agent-1/helper' },
      { secretKey: D.key.secretKey, kid: D.kid },
      nowSec(),
    );
    const checkD = (req: CheckRequest) => check({ token: child.token, ...req }, D.checkerSecret);
    await waitFor(async () => (await checkD({ context: { recordCount: 1, purpose: 'p' } })).policyVersion === '1', {
      what: 'policy v1 applied',
    });

    // No record count, no purpose: every violation, from the envelope and from the policy entry of
    // the chain's root agent (which bounds its sub-agent).
    const missing = await checkD({});
    assert.equal(missing.decision, 'DENY');
    assert.equal(missing.reason, 'RECORD_COUNT_REQUIRED');
    assert.equal(missing.field, 'context.record_count');
    const expected = [
      ['RECORD_COUNT_REQUIRED', 'max_records_per_request', 'context.record_count', 'envelope'],
      ['RECORD_COUNT_REQUIRED', 'max_records_per_request', 'context.record_count', 'policy:agent-1'],
      ['PURPOSE_REQUIRED', 'require_purpose', 'context.purpose', 'envelope'],
      ['PURPOSE_REQUIRED', 'require_purpose', 'context.purpose', 'policy:agent-1'],
    ];
    assert.deepEqual(
      missing.violations.map((v) => [v.reason, v.constraint, v.field, v.source]),
      expected,
    );
    assert.match(missing.message, /^4 constraint violations: \(1\) /);
    for (const v of missing.violations) assert.ok(missing.message.includes(v.message), v.message);
    // The audit event carries the same list.
    const detail = (await audit.wait(missing.decisionId)).event.detail.value as pb.CheckDetail;
    assert.deepEqual(
      detail.violations.map((v) => [pb.ReasonCode[v.reason], v.constraint, v.field, v.source]),
      expected,
    );
    assert.equal(detail.recordCount, undefined, 'absent stays absent');

    // A context without record_count is still "no count" (proto3 optional: absent, not 0)...
    assert.equal((await checkD({ context: { purpose: 'audit' } })).reason, 'RECORD_COUNT_REQUIRED');
    // ...and 0 is a real count.
    const zero = await checkD({ context: { purpose: 'audit', recordCount: 0 } });
    assert.equal(zero.decision, 'ALLOW', zero.message);
    assert.deepEqual(zero.violations, []);

    // A purpose of invisible characters, a count over the policy's limit, a denied resource.
    const many = await checkD({
      resource: 'slos://vaults/finance/secret-9',
      context: { purpose: '\u3164\u200b', recordCount: 7 },
    });
    assert.equal(many.reason, 'DENIED_RESOURCE');
    assert.equal(many.field, 'resource');
    assert.deepEqual(
      many.violations.map((v) => [v.reason, v.source]),
      [
        ['DENIED_RESOURCE', 'envelope'],
        ['DENIED_RESOURCE', 'policy:agent-1'],
        ['MAX_RECORDS_EXCEEDED', 'policy:agent-1'],
        ['PURPOSE_REQUIRED', 'envelope'],
        ['PURPOSE_REQUIRED', 'policy:agent-1'],
      ],
    );

    // write_requires_approval: the tenant's read-only list decides, for any action name.
    const ok = { context: { purpose: 'audit', recordCount: 1 } };
    assert.equal((await checkD({ requiredScope: 'vault:finance:export', ...ok })).decision, 'ALLOW');
    for (const action of ['upsert', 'patch', 'delete_all', 'write-bulk', 'list']) {
      const r = await checkD({ requiredScope: `vault:finance:${action}`, ...ok });
      assert.equal(r.reason, 'APPROVAL_REQUIRED', action);
      assert.deepEqual(r.violations, []);
    }

    // BatchCheck results carry them too; other denials carry none.
    const { results } = await client.batch(D.checkerSecret, [
      { token: child.token, requiredScope: 'vault:finance:read', resource: RESOURCE },
      { token: child.token, requiredScope: 'vault:finance:read', resource: RESOURCE, ...ok },
      { token: child.token, requiredScope: 'vault:hr:read', resource: RESOURCE },
    ]);
    assert.deepEqual(
      results.map((r) => [r.reason, r.violations.length]),
      [
        ['RECORD_COUNT_REQUIRED', 4],
        ['ALLOWED', 0],
        ['SCOPE_MISSING', 0],
      ],
    );
    assert.deepEqual(
      results[0]!.violations.map((v) => [v.reason, v.constraint, v.field, v.source]),
      expected,
    );
  });

  test("the original's wildcard table, end to end", async () => {
    const rows: [granted: string, required: string, allow: boolean][] = [
      ['vault:finance:read', 'vault:finance:read', true],
      ['vault:finance:read', 'vault:finance:write', false],
      ['vault:*:read', 'vault:health:read', true],
      ['vault:*:read', 'vault:finance:write', false],
      ['vault:*:read', 'audit:finance:read', false],
      ['vault:finance:*', 'vault:finance:write', true],
      ['*:finance:read', 'audit:finance:read', true],
      ['*:*:*', 'audit:x:delete', true],
      ['vault:*', 'vault:finance:read', false],
      ['vault:finance:read:extra', 'vault:finance:read', false],
      ['vault:fin*:read', 'vault:finance:read', false],
      ['Vault:finance:read', 'vault:finance:read', false],
    ];
    const checks = rows.map(([granted, required]) => ({
      token: mint(A, { scopes: [granted], resources: ['*'] }).token,
      requiredScope: required,
      resource: 'any',
    }));
    const { results } = await client.batch(A.checkerSecret, checks);
    results.forEach((r, i) => {
      const [granted, required, allow] = rows[i]!;
      assert.equal(r.decision, allow ? 'ALLOW' : 'DENY', `${granted} vs ${required}: ${r.message}`);
      if (!allow) assert.equal(r.reason, 'SCOPE_MISSING');
    });
  });

  test("policy: the tenant's current policy applies at check time, its version is audited", async () => {
    const C = await fixture.tenant();
    const policy = (scopes: string) =>
      `organization: C\nversion: "1.0"\nagents:\n  agent-1:\n    scopes: [${scopes}]\n    resources: ["slos://vaults/finance/*"]\n`;
    await fixture.publishPolicy(C.tenant, 1, policy('"vault:finance:read"'));
    const token = mint(C).token;
    /** The first answer to the token's check that `ok` accepts (the policy arrives through Kafka). */
    const answer = (what: string, ok: (r: CheckResponse__Output) => boolean) =>
      waitFor(
        async () => {
          const r = await check({ token }, C.checkerSecret);
          return ok(r) ? r : undefined;
        },
        { what },
      );
    const allowed = await answer('policy v1 applied', (r) => r.policyVersion === '1');
    assert.equal(allowed.decision, 'ALLOW');
    assert.equal((await audit.wait(allowed.decisionId)).event.policyVersion, '1');
    const stranger = await check({ token: mint(C, { agent: 'agent-9' }).token }, C.checkerSecret);
    assert.equal(stranger.reason, 'POLICY_DENIED');
    // Tightened: envelopes already in the wild are held to the new version at once.
    await fixture.publishPolicy(C.tenant, 2, policy('"vault:finance:list"'));
    const denied = await answer('policy v2 applied', (r) => r.reason === 'POLICY_DENIED');
    assert.equal(denied.policyVersion, '2');
  });

  test('unauthenticated → UNAUTHENTICATED; wrong credential kind → PERMISSION_DENIED', async () => {
    const token = mint(A).token;
    const expectCode = async (secret: string | undefined, code: grpc.status) => {
      const err = await client.check(secret, { token, requiredScope: 'vault:finance:read', resource: RESOURCE }).then(
        () => assert.fail('expected an error'),
        (e: unknown) => e as AuthorityClientError,
      );
      assert.equal(err.code, code, err.message);
    };
    await expectCode(undefined, grpc.status.UNAUTHENTICATED);
    await expectCode('not-a-credential', grpc.status.UNAUTHENTICATED);
    await expectCode('approver-secret-0123456789', grpc.status.PERMISSION_DENIED);
    const batchErr = await client.batch(undefined, [{ token }]).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as AuthorityClientError,
    );
    assert.equal(batchErr.code, grpc.status.UNAUTHENTICATED);
    // The operator may check for any tenant.
    assert.equal((await check({ token }, OPERATOR_KEY)).decision, 'ALLOW');
  });

  test('cross-tenant: a credential of B with a token of A → TENANT_MISMATCH, audited for B', async () => {
    const res = await check({ token: mint(A).token }, B.checkerSecret);
    assert.equal(res.decision, 'DENY');
    assert.equal(res.reason, 'TENANT_MISMATCH');
    const { event, key } = await audit.wait(res.decisionId);
    assert.equal(event.tenant, B.tenant);
    assert.equal(key, B.tenant);
    assert.equal(event.reason, pb.ReasonCode.TENANT_MISMATCH);
  });

  test('BatchCheck: results in request order; more than 1,000 → INVALID_ARGUMENT', async () => {
    const good = mint(A).token;
    const checks: CheckRequest[] = [];
    for (let i = 0; i < 50; i++)
      checks.push({ token: i % 2 === 0 ? good : 'x', requiredScope: 'vault:finance:read', resource: RESOURCE });
    const { results } = await client.batch(A.checkerSecret, checks);
    results.forEach((r, i) => assert.equal(r.decision, i % 2 === 0 ? 'ALLOW' : 'DENY'));
    assert.equal(new Set(results.map((r) => r.decisionId)).size, 50);
    const tooMany = Array.from({ length: 1001 }, () => ({ token: 'x' }));
    const err = await client.batch(A.checkerSecret, tooMany).then(
      () => assert.fail('expected an error'),
      (e: unknown) => e as AuthorityClientError,
    );
    assert.equal(err.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(err.field, 'checks');
  });

  test('a second enforcer started later rebuilds the same state, gives the same answers, and sees new revocations', async () => {
    const live = mint(A);
    const revokedEarlier = mint(A);
    await fixture.revokeJti(A.tenant, revokedEarlier.jti);
    await waitFor(async () => (await check({ token: revokedEarlier.token })).reason === 'REVOKED', {
      what: 'revocation on enforcer 1',
    });

    const second = await startServing(prefix, { AUTHORITY_ENFORCER_ID: 'enf-b' }, { approvals });
    started.push(second);
    const client2 = new EnforcerClient(second.port);
    clients.push(client2);
    const stranger = generateEd25519KeyPair();
    const requests: [CheckRequest, string][] = [
      [{ token: live.token }, A.checkerSecret],
      [{ token: revokedEarlier.token }, A.checkerSecret],
      [{ token: mint(A, {}, nowSec() - 7200).token }, A.checkerSecret],
      [{ token: mint(A).token, requiredScope: 'vault:finance:delete' }, A.checkerSecret],
      [
        {
          token: mintRoot(
            {
              tenant: A.tenant,
              agent: 'x',
              scopes: ['a:b'],
              resources: [],
              context: [],
              constraints: cons({ unconstrained: true }),
              ttlSeconds: 600,
            },
            { secretKey: stranger.secretKey, kid: 'nope', now: nowSec() },
          ).token,
        },
        A.checkerSecret,
      ],
      [{ token: live.token }, B.checkerSecret],
    ];
    const summarize = (r: CheckResponse__Output) => `${r.decision}/${r.reason}/${r.field}`;
    for (const [req, secret] of requests) {
      const one = await check(req, secret, client);
      const two = await check(req, secret, client2);
      assert.equal(summarize(two), summarize(one), req.token?.slice(0, 20));
    }
    assert.deepEqual(second.views.keys.size, enforcer.views.keys.size);
    assert.equal(second.views.revocations.size, enforcer.views.revocations.size);

    // Revoke now: both running enforcers deny.
    await fixture.revokeJti(A.tenant, live.jti);
    await waitFor(async () => (await check({ token: live.token }, A.checkerSecret, client)).reason === 'REVOKED', {
      what: 'REVOKED on enforcer 1',
    });
    await waitFor(async () => (await check({ token: live.token }, A.checkerSecret, client2)).reason === 'REVOKED', {
      what: 'REVOKED on enforcer 2',
    });
  });

  test('hostile input: 10,000 malformed or mutated tokens via BatchCheck → all DENY with a reason, still SERVING, memory flat', async () => {
    const seeds = [
      mint(A).token,
      deriveChild(mint(A).token, { agent: 'agent-1/sub' }, { secretKey: A.key.secretKey, kid: A.kid }, nowSec()).token,
      mint(A, { constraints: cons({ require_purpose: true, denied_resources: ['*secret*'] }) }).token,
    ];
    // A delegated chain with offline children: the structural mutations below take it apart.
    const holder = generateEd25519KeyPair();
    const online = deriveChild(
      mint(A, { holderKey: holder }).token,
      { agent: 'agent-1/planner', scopes: ['vault:finance:read'] },
      { secretKey: A.key.secretKey, kid: A.kid },
      nowSec(),
    );
    const offline = deriveChild(
      online.token,
      { agent: 'agent-1/planner/reader', resources: ['slos://vaults/finance/doc-*'] },
      offlineSigner(online.holderSecretKey!),
      nowSec(),
    );
    seeds.push(online.token, offline.token);
    const sealOf = (t: string) => t.slice(t.lastIndexOf('~') + 1);
    const linksOf = (t: string) => t.split('~').slice(0, -1);
    let seed = 12345;
    const rnd = (n: number) => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed % n;
    };
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~';
    const b64 = (s: string) => Buffer.from(s).toString('base64url');
    const mutate = (): string => {
      const t = seeds[rnd(seeds.length)]!;
      const links = t.split('~');
      const parts = links[0]!.split('.');
      const other = seeds[rnd(seeds.length)]!;
      const chain = linksOf(t);
      switch (rnd(20)) {
        // Structural: drop, reorder, splice, duplicate links; swap seals between tokens.
        case 14: {
          const drop = rnd(chain.length);
          return [...chain.filter((_, i) => i !== drop), sealOf(t)].join('~');
        }
        case 15:
          return [...chain.slice(0, Math.max(1, rnd(chain.length + 1))), sealOf(other)].join('~');
        case 16: {
          const mixed = linksOf(other);
          return [
            ...chain.slice(0, 1 + rnd(chain.length)),
            ...mixed.slice(rnd(mixed.length)),
            sealOf(rnd(2) === 0 ? t : other),
          ].join('~');
        }
        case 17: {
          const dup = rnd(chain.length);
          return [...chain.slice(0, dup + 1), chain[dup]!, ...chain.slice(dup + 1), sealOf(t)].join('~');
        }
        case 18:
          return chain.join('~'); // unsealed: no proof of possession
        case 19:
          return [...[...chain].reverse(), sealOf(t)].join('~');
        case 0: {
          const i = rnd(t.length);
          return t.slice(0, i) + alphabet[rnd(alphabet.length)] + t.slice(i + 1);
        }
        case 1:
          return t.slice(0, rnd(t.length));
        case 2:
          return t + '~' + links[0];
        case 3:
          return [...links].reverse().join('~');
        case 4:
          return t.replace(/[A-Za-z]/g, (c) => (rnd(50) === 0 ? (c === 'a' ? 'b' : 'a') : c));
        case 5:
          return 'x'.repeat(rnd(20_000) + 1);
        case 6:
          return `${b64('{"alg":"none","typ":"authority-envelope+jws","kid":"k"}')}.${parts[1]}.`;
        case 7:
          return `${parts[0]}.${b64(JSON.stringify({ tnt: A.tenant, sub: 'agent-1', jti: 'A'.repeat(22), iat: 1, nbf: 1, exp: 9e15, dep: 0, scp: ['*:*:*'], res: ['*'], ctx: [], cns: { unconstrained: true } }))}.${parts[2]}`;
        case 8:
          return `${parts[0]}.${b64('{"tnt":"a","tnt":"b"}')}.${parts[2]}`;
        case 9:
          return `${parts[0]}.${b64('['.repeat(5000))}.${parts[2]}`;
        case 10:
          return Array.from({ length: 12 }, () => links[0]).join('~');
        case 11:
          return t.replace(/\./g, rnd(2) === 0 ? '' : '..');
        case 12:
          return `${parts[0]}.${parts[1]}.${b64('\u0000'.repeat(64))}`;
        default:
          return '~'.repeat(rnd(5)) + t + '\u00e9\u0000';
      }
    };
    const seedSet = new Set(seeds);
    const mutant = (): string => {
      for (;;) {
        const t = mutate();
        if (!seedSet.has(t)) return t; // a mutation that changed nothing is not a mutation
      }
    };
    const runBatch = async () => {
      const checks = Array.from({ length: 1000 }, () => ({
        token: mutant(),
        requiredScope: 'vault:finance:read',
        resource: RESOURCE,
      }));
      const { results } = await client.batch(A.checkerSecret, checks);
      assert.equal(results.length, 1000);
      for (const r of results) {
        assert.equal(r.decision, 'DENY', `ALLOW for a mutated token: ${r.message}`);
        assert.ok(r.reason !== 'REASON_CODE_UNSPECIFIED' && r.reason !== 'ALLOWED', r.reason);
        assert.ok(r.message.length > 0);
      }
    };
    await runBatch(); // warm up
    gc();
    const heapBefore = process.memoryUsage().heapUsed;
    for (let i = 0; i < 9; i++) await runBatch();
    await waitFor(() => enforcer.audit.pending() === 0, { what: 'audit events of the fuzz run acknowledged' });
    gc();
    const heapAfter = process.memoryUsage().heapUsed;
    assert.equal(await healthStatus(enforcer.port), SERVING);
    const growthMb = (heapAfter - heapBefore) / 1e6;
    assert.ok(growthMb < 64, `heap grew by ${growthMb.toFixed(1)} MB over 9,000 hostile checks`);
  });

  test('STALE_STATE: when the revocation feed stops, checks fail closed and health turns NOT_SERVING', async () => {
    const third = await startServing(prefix, { AUTHORITY_MAX_STALENESS: '6s', AUTHORITY_ENFORCER_ID: 'enf-stale' });
    started.push(third);
    const client3 = new EnforcerClient(third.port);
    clients.push(client3);
    const token = mint(A).token;
    assert.equal((await check({ token }, A.checkerSecret, client3)).decision, 'ALLOW');
    // Disconnect the views' consumer (as a broker outage would leave it): no fetch completes any more.
    await third.views.stop();
    const stale = await waitFor(
      async () => {
        const r = await check({ token }, A.checkerSecret, client3);
        return r.reason === 'STALE_STATE' ? r : undefined;
      },
      { what: 'STALE_STATE', timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.equal(stale.decision, 'DENY');
    assert.match(stale.message, /has not completed a fetch/);
    await waitFor(async () => (await healthStatus(third.port)) !== SERVING, { what: 'NOT_SERVING' });
    const { event } = await audit.wait(stale.decisionId);
    assert.equal(event.reason, pb.ReasonCode.STALE_STATE);
  });

  test('sync audit: when Kafka does not acknowledge, an ALLOW is answered DENY AUDIT_UNAVAILABLE', async () => {
    const failing = { publish: async () => Promise.reject(new Error('injected: not acknowledged')) };
    const broken = await startServing(prefix, { AUTHORITY_ENFORCER_ID: 'enf-noaudit' }, { auditPublisher: failing });
    started.push(broken);
    const c = new EnforcerClient(broken.port);
    clients.push(c);
    const res = await check({ token: mint(A).token }, A.checkerSecret, c);
    assert.equal(res.decision, 'DENY');
    assert.equal(res.reason, 'AUDIT_UNAVAILABLE');
    const deny = await check({ token: 'garbage' }, A.checkerSecret, c);
    assert.equal(deny.reason, 'INVALID_TOKEN');
  });
});
