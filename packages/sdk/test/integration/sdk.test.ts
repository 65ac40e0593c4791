// The SDK against the real services (in-process, real Kafka + FerretDB): typed clients, `enforced`
// against the real enforcer, holder keys (sealing, per-request proofs, delegation to a sub-agent
// that generates its own key, a refused truncation), and failover to a second enforcer replica
// after the first is stopped.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import {
  AuthorityDeniedError,
  EnforcerClient,
  HolderKey,
  InvalidProofError,
  IssuerClient,
  PermissionDeniedError,
  ProofRequiredError,
  UnauthenticatedError,
  attenuate,
  enforced,
  isSealed,
  requestProof,
  runWithApproval,
  seal,
  withPurpose,
} from '../../src';
import { eventually, requireInfra, startStack, type StackHandle } from '@authority/test-helpers';

requireInfra();

describe('SDK against the real stack', { timeout: 180_000 }, () => {
  let stack: StackHandle;
  const tenant = `sdk-${randomBytes(3).toString('hex')}`;
  let admin: IssuerClient;
  let checker = '';
  let token = '';

  before(async () => {
    stack = await startStack({ enforcers: 2 });
    const operator = new IssuerClient(stack.issuer.address, { credential: stack.operatorKey, deadlineMs: 15_000 });
    const t = await operator.createTenant({ tenant, displayName: 'SDK test' });
    operator.close();
    admin = new IssuerClient(stack.issuer.address, {
      credential: t.adminCredential?.secret ?? '',
      tenant,
      deadlineMs: 15_000,
    });
    checker = (await admin.createCredential({ kind: 'CHECKER' })).credential?.secret ?? '';
    const minted = await admin.mint({
      agentId: 'reader',
      grant: {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        constraintsJson: '{"require_purpose":true}',
      },
      ttlSeconds: 600,
    });
    // No holder key sent: the issuer generated one and returned the token sealed with it.
    token = minted.envelope.token;
    assert.ok(token);
    assert.equal(minted.envelope.sealed, true);
    assert.ok(minted.holderKey instanceof HolderKey);
    assert.deepEqual(minted.envelope.agentChain, ['reader']);
  });
  after(async () => {
    admin?.close();
    await stack?.stop();
  });

  test('typed errors from the real issuer', async () => {
    const err = await admin
      .mint({
        agentId: 'x',
        grant: { scopes: ['nocolon'], constraintsJson: '{"unconstrained":true}' },
        ttlSeconds: 600,
      })
      .catch((e: unknown) => e);
    assert.equal((err as { codeName?: string }).codeName, 'INVALID_ARGUMENT');
    assert.equal((err as { reason?: string }).reason, 'INVALID_REQUEST');
    assert.match(String((err as { field?: string }).field), /grant\.scopes/);
    const stranger = new IssuerClient(stack.issuer.address, { credential: 'nope', tenant });
    await assert.rejects(stranger.listKeys(), UnauthenticatedError);
    stranger.close();
    await assert.rejects(
      admin.listKeys({ tenant: 'someone-else' }),
      (e: unknown) => e instanceof PermissionDeniedError || (e as { codeName?: string }).codeName === 'NOT_FOUND',
    );
  });

  test('enforced runs the tool on ALLOW only, against the real enforcer', async () => {
    const enforcer = new EnforcerClient(stack.enforcers[0]!.address, { credential: checker, deadlineMs: 15_000 });
    const runs: string[] = [];
    const readDoc = enforced(
      async (docId: string) => {
        runs.push(docId);
        return `contents of ${docId}`;
      },
      { scope: 'vault:finance:read', resource: (docId: string) => `slos://vaults/finance/${docId}` },
      { enforcer, token },
    );
    // Without a purpose the envelope's require_purpose denies: the tool does not run.
    await assert.rejects(
      readDoc('q1.pdf'),
      (e: unknown) =>
        e instanceof AuthorityDeniedError && e.reason === 'PURPOSE_REQUIRED' && e.decisionId !== undefined,
    );
    assert.equal(runs.length, 0);
    assert.equal(await withPurpose('quarterly audit', () => readDoc('q1.pdf')), 'contents of q1.pdf');
    assert.deepEqual(runs, ['q1.pdf']);
    // Out of the granted resources, and a scope the envelope lacks.
    await assert.rejects(
      withPurpose('x', () =>
        enforced(
          async () => runs.push('hr'),
          { scope: 'vault:finance:read', resource: 'slos://vaults/hr/x' },
          { enforcer, token },
        )(),
      ),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'RESOURCE_NOT_ALLOWED',
    );
    await assert.rejects(
      withPurpose('x', () =>
        enforced(
          async () => runs.push('w'),
          { scope: 'vault:finance:write', resource: 'slos://vaults/finance/x' },
          { enforcer, token },
        )(),
      ),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'SCOPE_MISSING',
    );
    // A wrong checker credential: no decision, no run.
    const wrong = new EnforcerClient(stack.enforcers[0]!.address, { credential: 'nope' });
    await assert.rejects(
      withPurpose('x', () =>
        enforced(
          async () => runs.push('bad'),
          { scope: 'vault:finance:read', resource: 'slos://vaults/finance/x' },
          { enforcer: wrong, token },
        )(),
      ),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'UNAUTHENTICATED',
    );
    wrong.close();
    // Revoked: the tool stops running once the enforcer has the revocation.
    await admin.revokeAgent({ agentId: 'reader', reason: 'sdk test' });
    await eventually(
      async () => {
        try {
          await withPurpose('again', () => readDoc('q2.pdf'));
          return undefined;
        } catch (e) {
          return e instanceof AuthorityDeniedError && e.reason === 'REVOKED' ? true : undefined;
        }
      },
      'the agent revocation to reach the enforcer',
      { intervalMs: 100 },
    );
    assert.ok(!runs.includes('hr') && !runs.includes('w') && !runs.includes('bad'));
    enforcer.close();
  });

  test('holder keys: the agent seals its own token, proves possession per request, delegates to a sub-agent that cannot truncate', async () => {
    const enforcer = new EnforcerClient(stack.enforcers[0]!.address, { credential: checker, deadlineMs: 15_000 });
    const plannerKey = await HolderKey.generate();
    const minted = await admin.mint({
      agentId: 'planner',
      grant: {
        scopes: ['vault:*:read'],
        resources: ['slos://vaults/*'],
        constraintsJson: '{"unconstrained":true}',
      },
      ttlSeconds: 600,
      holderPublicKey: plannerKey.publicKey,
    });
    assert.equal(minted.holderKey, undefined);
    assert.equal(minted.envelope.sealed, false);
    const chain = minted.envelope.token;
    const check = (token: string, extra: { holderKey?: HolderKey; proof?: 'always' } = {}) =>
      enforced(
        async () => 'ran',
        { scope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' },
        {
          enforcer,
          token,
          ...extra,
        },
      )();

    // Unsealed and no proof: refused. Sealed by its holder: allowed. Unsealed with a proof: allowed.
    await assert.rejects(check(chain), (e: unknown) => e instanceof ProofRequiredError && e.field === 'seal');
    const sealed = seal(chain, plannerKey);
    assert.equal(await check(sealed), 'ran');
    assert.equal(await check(chain, { holderKey: plannerKey }), 'ran');
    assert.equal(await check(sealed, { holderKey: plannerKey, proof: 'always' }), 'ran');
    // A proof is good for one check: the same request sent again is refused as a replay.
    const req = { token: chain, requiredScope: 'vault:finance:read', resource: 'slos://vaults/finance/q1' };
    const proven = { ...req, proof: requestProof(chain, plannerKey, req) };
    const once = await enforcer.check(proven);
    assert.equal(once.decision, 'ALLOW', once.message);
    const again = await enforcer.check(proven);
    assert.equal(again.reason, 'PROOF_REPLAYED', again.message);

    // Online delegation to a sub-agent named under the planner, bound to the sub-agent's own key.
    const summarizerKey = await HolderKey.generate();
    const delegated = await admin.delegate({
      parentToken: sealed,
      agentId: 'planner/summarizer',
      grant: {
        scopes: ['vault:finance:read'],
        resources: ['slos://vaults/finance/*'],
        constraintsJson: '{"unconstrained":true}',
      },
      ttlSeconds: 300,
      holderPublicKey: summarizerKey.publicKey,
    });
    assert.equal(delegated.envelope.sealed, false);
    assert.deepEqual(delegated.envelope.agentChain, ['planner', 'planner/summarizer']);
    const subToken = seal(delegated.envelope.token, summarizerKey);
    const ok = await enforcer.check({ ...req, token: subToken });
    assert.equal(ok.decision, 'ALLOW', ok.message);
    assert.deepEqual(ok.agentChain, ['planner', 'planner/summarizer']);
    assert.equal(ok.agentId, 'planner/summarizer');
    // A sub-agent outside the lineage is refused by the issuer.
    await assert.rejects(
      admin.delegate({ parentToken: sealed, agentId: 'someone-else', holderPublicKey: summarizerKey.publicKey }),
      (e: unknown) => (e as { reason?: string }).reason === 'CHAIN_VIOLATION',
    );
    // Truncation: the sub-agent presents the planner's link alone, unsealed or sealed with its own key.
    const parentLink = delegated.envelope.token.split('~')[0]!;
    await assert.rejects(check(parentLink), ProofRequiredError);
    await assert.rejects(check(parentLink, { holderKey: summarizerKey }), /not the last link's 'cnf' key/);
    const forged = `${parentLink}~${subToken.split('~').pop()!}`;
    await assert.rejects(check(forged), (e: unknown) => e instanceof InvalidProofError && e.reason === 'INVALID_PROOF');

    // Offline attenuation by the planner for another sub-agent, who seals the child itself.
    const helperKey = await HolderKey.generate();
    const child = await attenuate(sealed, plannerKey, {
      agent: 'planner/helper',
      scopes: ['vault:finance:read'],
      resources: ['slos://vaults/finance/*'],
      ttlSeconds: 120,
      childPublicKey: helperKey.publicKey,
    });
    assert.equal(isSealed(child.chain), false);
    await assert.rejects(check(child.chain), ProofRequiredError);
    assert.equal(await check(seal(child.chain, helperKey)), 'ran');
    enforcer.close();
  });

  test('runWithApproval: the tool runs once, after a human approved', async () => {
    const approverKey = (await admin.createCredential({ kind: 'APPROVER' })).credential?.secret ?? '';
    const approver = new IssuerClient(stack.issuer.address, { credential: approverKey, tenant });
    const minted = await admin.mint({
      agentId: 'grader',
      grant: {
        scopes: ['vault:grades:write'],
        resources: ['slos://vaults/grades/*'],
        constraintsJson: '{"write_requires_approval":true}',
      },
      ttlSeconds: 600,
    });
    const enforcer = new EnforcerClient(stack.enforcers[1]!.address, { credential: checker, deadlineMs: 15_000 });
    const writes: string[] = [];
    const writeGrade = enforced(
      async (student: string, grade: string) => {
        writes.push(`${student}=${grade}`);
        return 'written';
      },
      { scope: 'vault:grades:write', resource: (student: string) => `slos://vaults/grades/${student}` },
      { enforcer, token: minted.envelope.token },
    );
    const asked: string[] = [];
    const out = await runWithApproval(writeGrade, ['s-1', 'A'], {
      issuer: admin,
      pollIntervalMs: 50,
      timeoutMs: 20_000,
      onApprovalRequired: (e) => {
        asked.push(e.approvalRequestId);
        void approver.decideApproval({ approvalId: e.approvalRequestId, approve: true, comment: 'ok' });
      },
    });
    assert.equal(out, 'written');
    assert.equal(asked.length, 1);
    assert.deepEqual(writes, ['s-1=A']);
    // The approval is used up: presenting it again is refused and the tool does not run.
    await assert.rejects(
      writeGrade.withApproval(asked[0]!)('s-1', 'A'),
      (e: unknown) => e instanceof AuthorityDeniedError && e.reason === 'APPROVAL_INVALID',
    );
    assert.equal(writes.length, 1);
    approver.close();
    enforcer.close();
  });

  test('failover: the next check succeeds via the second replica after the first is stopped', async () => {
    const fresh = await admin.mint({
      agentId: 'failover-bot',
      grant: { scopes: ['vault:ops:read'], resources: [], constraintsJson: '{"unconstrained":true}' },
      ttlSeconds: 600,
    });
    const t = fresh.envelope.token;
    const [first, second] = stack.enforcers;
    const client = new EnforcerClient([first!.address, second!.address], { credential: checker, deadlineMs: 15_000 });
    const check = () => client.check({ token: t, requiredScope: 'vault:ops:read' });
    assert.equal((await check()).decision, 'ALLOW');
    assert.equal(client.currentAddress, first!.address);
    await first!.handle.stop();
    const after = await check();
    assert.equal(after.decision, 'ALLOW', after.message);
    assert.equal(client.currentAddress, second!.address);
    assert.equal((await check()).decision, 'ALLOW');
    client.close();
  });
});
