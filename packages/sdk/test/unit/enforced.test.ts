// `enforced` never runs the wrapped tool unless the enforcer answered a well-formed ALLOW.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { ReasonCode, type CheckRequest__Output, type CheckResponse } from '@authority/proto';
import {
  ApprovalRequiredError,
  AuthorityDeniedError,
  EnforcerClient,
  enforced,
  runWithApproval,
  withPurpose,
  withRecordCount,
  withApprovalId,
  type ApprovalReader,
} from '../../src';
import { closedAddress, startFakeEnforcer, startGarbageEnforcer, statusError, type FakeServer } from './fake-server';

const TOKEN = 'header.payload.signature';

/** A tool that records how often it ran. */
function countingTool() {
  const runs: unknown[][] = [];
  const tool = async (docId: string, limit: number) => {
    runs.push([docId, limit]);
    return `read ${docId}`;
  };
  return { tool, runs };
}

const spec = {
  scope: 'vault:finance:read',
  resource: (docId: string) => `slos://vaults/finance/${docId}`,
  context: (_docId: string, limit: number) => ({ recordCount: limit }),
};

describe('enforced: every deny reason stops the tool', { timeout: 30_000 }, () => {
  let current: CheckResponse = {};
  let server: FakeServer;
  let client: EnforcerClient;
  before(async () => {
    server = await startFakeEnforcer(() => current);
    client = new EnforcerClient(server.address, { credential: 'checker-secret', deadlineMs: 2000 });
  });
  after(async () => {
    client.close();
    await server.stop();
  });

  const reasons = Object.values(ReasonCode).filter((r) => r !== 'ALLOWED');
  test('the proto enum has the reasons we iterate over', () => {
    assert.ok(reasons.length >= 22, `only ${reasons.length} reasons`);
    assert.ok(
      reasons.includes('REVOKED') &&
        reasons.includes('APPROVAL_REQUIRED') &&
        reasons.includes('REASON_CODE_UNSPECIFIED'),
    );
  });

  for (const reason of reasons) {
    test(`DENY ${reason}: the tool does not run`, async () => {
      current = {
        decision: 'DENY',
        reason,
        message: `denied for ${reason}`,
        decisionId: 'd-1',
        approvalRequestId: reason === 'APPROVAL_REQUIRED' ? 'apr-1' : '',
      };
      const { tool, runs } = countingTool();
      const guarded = enforced(tool, spec, { enforcer: client, token: TOKEN });
      const err = await guarded('doc-1', 5).then(
        () => assert.fail('resolved'),
        (e: unknown) => e,
      );
      assert.equal(runs.length, 0, `tool ran on ${reason}`);
      assert.ok(err instanceof AuthorityDeniedError, `not an AuthorityDeniedError: ${String(err)}`);
      if (reason === 'REASON_CODE_UNSPECIFIED') {
        assert.equal(err.reason, 'MALFORMED_RESPONSE');
      } else {
        assert.equal(err.reason, reason);
        assert.equal(err.decisionId, 'd-1');
      }
      if (reason === 'APPROVAL_REQUIRED') {
        assert.ok(err instanceof ApprovalRequiredError);
        assert.equal(err.approvalRequestId, 'apr-1');
      }
    });
  }

  test('DENY with the same reasons also stops a tool when the decision is ALLOW-shaped but inconsistent', async () => {
    const { tool, runs } = countingTool();
    const guarded = enforced(tool, spec, { enforcer: client, token: TOKEN });
    const bad: CheckResponse[] = [
      { decision: 'ALLOW', reason: 'SCOPE_MISSING', decisionId: 'd' },
      { decision: 'ALLOW', reason: 'ALLOWED', decisionId: '' },
      { decision: 'DECISION_UNSPECIFIED', reason: 'ALLOWED', decisionId: 'd' },
      { decision: 'DENY', reason: 'ALLOWED', decisionId: 'd' },
      {},
    ];
    for (const answer of bad) {
      current = answer;
      await assert.rejects(
        guarded('doc-1', 1),
        (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'MALFORMED_RESPONSE',
      );
    }
    assert.equal(runs.length, 0);
  });

  test('a denial for constraints exposes every violation; other denials expose none', async () => {
    const violations = [
      {
        reason: 'RECORD_COUNT_REQUIRED' as const,
        constraint: 'max_records_per_request',
        field: 'context.record_count',
        message: "Constraint 'max_records_per_request': the request must state how many records it touches",
        source: 'envelope',
      },
      {
        reason: 'PURPOSE_REQUIRED' as const,
        constraint: 'require_purpose',
        field: 'context.purpose',
        message: "policy 3, agent 'a': Constraint 'require_purpose': access must include a purpose",
        source: 'policy:a',
      },
    ];
    current = {
      decision: 'DENY',
      reason: 'RECORD_COUNT_REQUIRED',
      message: '2 constraint violations: ...',
      decisionId: 'd-7',
      field: 'context.record_count',
      violations,
    };
    const { tool, runs } = countingTool();
    const guarded = enforced(tool, spec, { enforcer: client, token: TOKEN });
    const err = await guarded('doc-1', 5).then(
      () => assert.fail('resolved'),
      (e: unknown) => e,
    );
    assert.equal(runs.length, 0);
    assert.ok(err instanceof AuthorityDeniedError);
    assert.equal(err.reason, 'RECORD_COUNT_REQUIRED');
    assert.equal(err.field, 'context.record_count');
    assert.deepEqual(err.violations, violations);
    assert.deepEqual((err.toJSON() as { violations: unknown }).violations, violations);

    current = { decision: 'DENY', reason: 'SCOPE_MISSING', message: 'no', decisionId: 'd-8' };
    const other = await guarded('doc-1', 5).then(
      () => assert.fail('resolved'),
      (e: unknown) => e as AuthorityDeniedError,
    );
    assert.deepEqual(other.violations, []);
    assert.equal('violations' in other.toJSON(), false);
  });

  test('APPROVAL_REQUIRED without a request id is still a deny', async () => {
    current = { decision: 'DENY', reason: 'APPROVAL_REQUIRED', decisionId: 'd' };
    const { tool, runs } = countingTool();
    await assert.rejects(
      enforced(tool, spec, { enforcer: client, token: TOKEN })('x', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'APPROVAL_REQUIRED',
    );
    assert.equal(runs.length, 0);
  });

  test('ALLOW runs the tool exactly once with the checked request', async () => {
    current = { decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'd-ok', agentId: 'bot' };
    server.calls.length = 0;
    const { tool, runs } = countingTool();
    const allowed: string[] = [];
    const guarded = enforced(tool, spec, {
      enforcer: client,
      token: TOKEN,
      context: { purpose: 'default purpose' },
      onAllow: (d) => allowed.push(d.decisionId),
    });
    assert.equal(await guarded('doc-7', 3), 'read doc-7');
    assert.deepEqual(runs, [['doc-7', 3]]);
    assert.deepEqual(allowed, ['d-ok']);
    assert.equal(server.calls.length, 1);
    const req = server.calls[0]!.request as CheckRequest__Output;
    assert.equal(req.token, TOKEN);
    assert.equal(req.requiredScope, 'vault:finance:read');
    assert.equal(req.resource, 'slos://vaults/finance/doc-7');
    assert.equal(req.context?.purpose, 'default purpose');
    assert.equal(req.context?.recordCount, 3);
    assert.equal(req.approvalId, '');
    assert.deepEqual(server.calls[0]!.metadata.get('authorization'), ['Bearer checker-secret']);
  });

  test('ambient context and approvals reach the check; the argument-derived context wins', async () => {
    current = { decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'd-ok' };
    server.calls.length = 0;
    const { tool } = countingTool();
    const guarded = enforced(tool, spec, { enforcer: client, token: () => Promise.resolve(TOKEN) });
    await withPurpose('grading', () => withRecordCount(99, () => withApprovalId('apr-9', () => guarded('doc-2', 4))));
    await guarded.withApproval('apr-explicit')('doc-3', 1);
    const [a, b] = server.calls.map((c) => c.request as CheckRequest__Output);
    assert.equal(a?.context?.purpose, 'grading');
    assert.equal(a?.context?.recordCount, 4);
    assert.equal(a?.approvalId, 'apr-9');
    assert.equal(b?.approvalId, 'apr-explicit');
    assert.equal(b?.context?.purpose, '');
  });

  test('an error thrown by the tool itself propagates unchanged (after one run)', async () => {
    current = { decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'd-ok' };
    let runs = 0;
    const boom = new Error('tool failed');
    const guarded = enforced(
      () => {
        runs++;
        throw boom;
      },
      { scope: 'vault:finance:read' },
      { enforcer: client, token: TOKEN },
    );
    await assert.rejects(guarded(), (e: unknown) => e === boom);
    assert.equal(runs, 1);
  });

  test('a failure while building the request is a deny and no check is sent', async () => {
    server.calls.length = 0;
    const { tool, runs } = countingTool();
    const failing = enforced(
      tool,
      {
        scope: 's:t',
        resource: () => {
          throw new TypeError('no resource');
        },
      },
      { enforcer: client, token: TOKEN },
    );
    await assert.rejects(
      failing('a', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'INVALID_REQUEST',
    );
    const noToken = enforced(tool, { scope: 's:t' }, { enforcer: client, token: '' });
    await assert.rejects(
      noToken('a', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'INVALID_REQUEST',
    );
    const badCount = enforced(tool, { scope: 's:t', context: { recordCount: -1 } }, { enforcer: client, token: TOKEN });
    await assert.rejects(
      badCount('a', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'INVALID_REQUEST',
    );
    assert.equal(runs.length, 0);
    assert.equal(server.calls.length, 0);
  });
});

describe('enforced: no decision means no run', { timeout: 30_000 }, () => {
  test('UNAVAILABLE from the server (with and without a reason)', async () => {
    for (const [err, expected] of [
      [statusError(grpc.status.UNAVAILABLE, 'state is stale', 'STALE_STATE'), 'STALE_STATE'],
      [statusError(grpc.status.UNAVAILABLE, 'audit down', 'AUDIT_UNAVAILABLE'), 'AUDIT_UNAVAILABLE'],
      [statusError(grpc.status.UNAVAILABLE, 'busy'), 'UNAVAILABLE'],
      [statusError(grpc.status.UNAUTHENTICATED, 'invalid credentials', 'UNAUTHENTICATED'), 'UNAUTHENTICATED'],
      [statusError(grpc.status.PERMISSION_DENIED, 'wrong kind', 'PERMISSION_DENIED'), 'PERMISSION_DENIED'],
      [statusError(grpc.status.INTERNAL, 'internal error (ref x)', 'INTERNAL'), 'CHECK_FAILED'],
    ] as const) {
      const server = await startFakeEnforcer(() => err);
      const client = new EnforcerClient(server.address, {
        deadlineMs: 2000,
        retry: { initialBackoffMs: 1, maxBackoffMs: 2 },
      });
      const { tool, runs } = countingTool();
      await assert.rejects(
        enforced(tool, spec, { enforcer: client, token: TOKEN })('d', 1),
        (e: unknown) => e instanceof AuthorityDeniedError && e.reason === expected,
      );
      assert.equal(runs.length, 0);
      client.close();
      await server.stop();
    }
  });

  test('nothing listening (connection refused)', async () => {
    const client = new EnforcerClient(await closedAddress(), {
      deadlineMs: 2000,
      retry: { initialBackoffMs: 1, maxBackoffMs: 2 },
    });
    const { tool, runs } = countingTool();
    await assert.rejects(
      enforced(tool, spec, { enforcer: client, token: TOKEN })('d', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'UNAVAILABLE',
    );
    assert.equal(runs.length, 0);
    client.close();
  });

  test('deadline exceeded (the enforcer never answers)', async () => {
    const server = await startFakeEnforcer(() => 'hang');
    const client = new EnforcerClient(server.address, { deadlineMs: 200 });
    const { tool, runs } = countingTool();
    await assert.rejects(
      enforced(tool, spec, { enforcer: client, token: TOKEN })('d', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'DEADLINE_EXCEEDED',
    );
    assert.equal(runs.length, 0);
    client.close();
    await server.stop();
  });

  test('malformed response bytes', async () => {
    const server = await startGarbageEnforcer();
    const client = new EnforcerClient(server.address, { deadlineMs: 2000 });
    const { tool, runs } = countingTool();
    await assert.rejects(
      enforced(tool, spec, { enforcer: client, token: TOKEN })('d', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'MALFORMED_RESPONSE',
    );
    assert.equal(runs.length, 0);
    client.close();
    await server.stop();
  });

  test('a checker that throws or returns garbage', async () => {
    const { tool, runs } = countingTool();
    const throwing = { check: () => Promise.reject(new Error('boom')) };
    await assert.rejects(
      enforced(tool, spec, { enforcer: throwing, token: TOKEN })('d', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'CHECK_FAILED',
    );
    const garbage = { check: () => Promise.resolve(null as never) };
    await assert.rejects(
      enforced(tool, spec, { enforcer: garbage, token: TOKEN })('d', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'MALFORMED_RESPONSE',
    );
    const allowString = { check: () => Promise.resolve('ALLOW' as never) };
    await assert.rejects(
      enforced(tool, spec, { enforcer: allowString, token: TOKEN })('d', 1),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'MALFORMED_RESPONSE',
    );
    assert.equal(runs.length, 0);
  });
});

describe('runWithApproval', { timeout: 30_000 }, () => {
  test('waits for the approval, then runs once presenting the approval id', async () => {
    const server = await startFakeEnforcer((req) =>
      req.approvalId === 'apr-1'
        ? { decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'd2' }
        : { decision: 'DENY', reason: 'APPROVAL_REQUIRED', decisionId: 'd1', approvalRequestId: 'apr-1' },
    );
    const client = new EnforcerClient(server.address);
    const { tool, runs } = countingTool();
    const guarded = enforced(
      tool,
      { scope: 'vault:finance:write', resource: (d: string) => `slos://${d}` },
      { enforcer: client, token: TOKEN },
    );
    let polls = 0;
    const issuer: ApprovalReader = {
      getApproval: async () => {
        polls++;
        const status = polls < 2 ? 'PENDING' : 'APPROVED';
        return { approval: { approvalId: 'apr-1', status } } as never;
      },
    };
    const required: string[] = [];
    const out = await runWithApproval(guarded, ['doc', 1], {
      issuer,
      pollIntervalMs: 1,
      onApprovalRequired: (e) => required.push(e.approvalRequestId),
    });
    assert.equal(out, 'read doc');
    assert.deepEqual(required, ['apr-1']);
    assert.equal(runs.length, 1);
    client.close();
    await server.stop();
  });

  test('a rejected approval throws and the tool never runs', async () => {
    const server = await startFakeEnforcer(() => ({
      decision: 'DENY',
      reason: 'APPROVAL_REQUIRED',
      decisionId: 'd1',
      approvalRequestId: 'apr-2',
    }));
    const client = new EnforcerClient(server.address);
    const { tool, runs } = countingTool();
    const guarded = enforced(tool, { scope: 'vault:finance:write' }, { enforcer: client, token: TOKEN });
    const issuer: ApprovalReader = {
      getApproval: async () => ({ approval: { approvalId: 'apr-2', status: 'REJECTED', decidedBy: 'alice' } }) as never,
    };
    await assert.rejects(runWithApproval(guarded, ['doc', 1], { issuer, pollIntervalMs: 1 }), /REJECTED/);
    assert.equal(runs.length, 0);
    client.close();
    await server.stop();
  });
});
