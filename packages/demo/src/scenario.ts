// The education-provider scenario `npm start` plays: a tenant with a policy in the original's
// format, four agents with envelopes, a delegation, allowed and denied reads, a write that needs a
// human approval (used once), a revocation, and a compliance report written to an HTML file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { CheckRequest, CheckResponse__Output, MintResponse__Output } from '@authority/proto';
import { call, type Clients } from './clients';

export interface ScenarioOptions {
  clients: Clients;
  operatorKey: string;
  tenant: string;
  reportDir: string;
  log: (line: string) => void;
  /** Deadline for the auditor to have chained every event of the scenario. */
  auditDeadlineMs?: number;
}

export interface ScenarioResult {
  tenant: string;
  adminKey: string;
  checkerKey: string;
  auditorKey: string;
  reportPath: string;
  decisions: { step: string; decision: string; reason: string; expected: string; ok: boolean }[];
  chainVerified: boolean;
  ok: boolean;
}

const POLICY_PATH = resolve(__dirname, '../../assets/ferpa-policy.yaml');

const green = (s: string) => (process.stdout.isTTY ? `\x1b[32m${s}\x1b[0m` : s);
const red = (s: string) => (process.stdout.isTTY ? `\x1b[31m${s}\x1b[0m` : s);

export async function runScenario(o: ScenarioOptions): Promise<ScenarioResult> {
  const { clients: c, tenant, log } = o;
  const decisions: ScenarioResult['decisions'] = [];

  log(`1. Operator creates tenant ${tenant}`);
  const created = await call(
    c.issuer,
    c.issuer.createTenant,
    { tenant, displayName: 'Lakeside Community College' },
    o.operatorKey,
  );
  const admin = created.adminCredential?.secret ?? '';
  const credential = async (kind: 'CHECKER' | 'APPROVER' | 'AUDITOR') =>
    (await call(c.issuer, c.issuer.createCredential, { tenant, kind }, admin)).credential?.secret ?? '';
  const checker = await credential('CHECKER');
  const approver = await credential('APPROVER');
  const auditorKey = await credential('AUDITOR');
  log(`   signing key ${created.key?.keyId}; admin, checker, approver and auditor credentials issued`);

  log('2. Admin puts the FERPA policy (the original authority-runtime format, unchanged)');
  const put = await call(
    c.policy,
    c.policy.putPolicy,
    { tenant, yaml: readFileSync(POLICY_PATH, 'utf8'), expectedVersion: 0 },
    admin,
  );
  log(`   policy version ${put.policy?.version} (${put.policy?.sha256.slice(0, 12)}…)`);

  log('3. Envelopes for the four agents (bounded by the policy)');
  const mint = async (
    agentId: string,
    scopes: string[],
    resources: string[],
    constraints: object,
    ttlSeconds = 3600,
  ) => {
    const res: MintResponse__Output = await call(
      c.issuer,
      c.issuer.mint,
      {
        tenant,
        agentId,
        ttlSeconds,
        grant: { scopes, resources, contextFields: ['student_id'], constraintsJson: JSON.stringify(constraints) },
      },
      admin,
    );
    log(`   ${agentId}: ${scopes.join(', ')} on ${resources.join(', ')} (jti ${res.envelope?.jti})`);
    return res.envelope!;
  };
  const advisor = await mint('academic-advisor', ['vault:student-records:read'], ['slos://vaults/student-records/*'], {
    require_purpose: true,
    max_records_per_request: 50,
    denied_resources: ['slos://vaults/student-health/*', 'slos://vaults/financial-aid/*'],
  });
  const aid = await mint(
    'financial-aid-agent',
    ['vault:financial-aid:read', 'vault:financial-aid:write'],
    ['slos://vaults/financial-aid/*'],
    {
      require_purpose: true,
      write_requires_approval: true,
      denied_resources: ['slos://vaults/student-health/*', 'slos://vaults/student-records/*'],
    },
  );
  await mint(
    'registrar-agent',
    ['vault:student-records:read', 'vault:student-records:write'],
    ['slos://vaults/student-records/*'],
    {
      denied_resources: ['slos://vaults/student-health/*'],
    },
  );
  await mint('ferpa-auditor', ['vault:student-records:read', 'audit:read'], ['slos://vaults/*'], {
    require_purpose: true,
  });

  log('4. The advisor delegates a narrower envelope to a sub-agent (transcripts only, 10 minutes)');
  const sub = await call(
    c.issuer,
    c.issuer.delegate,
    {
      tenant,
      parentToken: advisor.token,
      agentId: 'advisor-summarizer',
      ttlSeconds: 600,
      grant: {
        scopes: ['vault:student-records:read'],
        resources: ['slos://vaults/student-records/transcripts/*'],
        contextFields: [],
        constraintsJson: JSON.stringify({
          require_purpose: true,
          max_records_per_request: 10,
          denied_resources: ['slos://vaults/student-health/*', 'slos://vaults/financial-aid/*'],
        }),
      },
    },
    admin,
  );
  log(`   advisor-summarizer: depth ${sub.envelope?.depth}, expires ${sub.envelope?.expiresAt?.seconds}`);

  const check = async (step: string, expected: string, req: CheckRequest): Promise<CheckResponse__Output> => {
    const res: CheckResponse__Output = await call(c.enforcer, c.enforcer.check, req, checker);
    const got = res.decision === 'ALLOW' ? 'ALLOW' : String(res.reason);
    const ok = got === expected;
    decisions.push({ step, decision: String(res.decision), reason: String(res.reason), expected, ok });
    const mark = ok ? green('✔') : red(`✘ expected ${expected}`);
    log(
      `   ${mark} ${String(res.decision).padEnd(5)} ${String(res.reason).padEnd(20)} ${step}${res.decision === 'DENY' ? `: ${res.message}` : ''}`,
    );
    return res;
  };
  const read = 'vault:student-records:read';

  log('5. Checks at the enforcer');
  await check('advisor reads a student record for advising', 'ALLOW', {
    token: advisor.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/s-1001',
    context: { purpose: 'degree-audit advising appointment', recordCount: 1 },
  });
  await check('sub-agent reads a transcript', 'ALLOW', {
    token: sub.envelope!.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/transcripts/s-1001',
    context: { purpose: 'summarise transcript for advisor', recordCount: 1 },
  });
  await check('sub-agent reads outside its narrower resources', 'RESOURCE_NOT_ALLOWED', {
    token: sub.envelope!.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/s-1001',
    context: { purpose: 'summarise', recordCount: 1 },
  });
  await check('advisor reads a health record', 'SCOPE_MISSING', {
    token: advisor.token,
    requiredScope: 'vault:student-health:read',
    resource: 'slos://vaults/student-health/s-1001',
    context: { purpose: 'curiosity' },
  });
  await check('advisor reads a health record through a student-records scope', 'RESOURCE_NOT_ALLOWED', {
    token: advisor.token,
    requiredScope: read,
    resource: 'slos://vaults/student-health/s-1001',
    context: { purpose: 'curiosity' },
  });
  await check('advisor reads without a purpose', 'PURPOSE_REQUIRED', {
    token: advisor.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/s-1001',
  });
  await check('advisor exports 500 records at once', 'MAX_RECORDS_EXCEEDED', {
    token: advisor.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/s-1001',
    context: { purpose: 'bulk export', recordCount: 500 },
  });

  log('6. A write that needs a human approval');
  const write = {
    token: aid.token,
    requiredScope: 'vault:financial-aid:write',
    resource: 'slos://vaults/financial-aid/award-2026-s-1001',
    context: { purpose: 'adjust grant after appeal', recordCount: 1 },
  };
  const pending = await check('financial-aid agent updates an award', 'APPROVAL_REQUIRED', write);
  const approvalId = pending.approvalRequestId;
  await call(
    c.issuer,
    c.issuer.decideApproval,
    { tenant, approvalId, approve: true, comment: 'appeal reviewed' },
    approver,
  );
  log(`   approver approved request ${approvalId}`);
  await check('retry with the approval', 'ALLOW', { ...write, approvalId });
  await check('the same approval used a second time', 'APPROVAL_INVALID', { ...write, approvalId });

  log('7. Revocation takes effect');
  await call(c.issuer, c.issuer.revoke, { tenant, jti: advisor.jti, reason: 'advisor left the college' }, admin);
  log(`   revoked ${advisor.jti}`);
  await waitFor(
    async () => {
      const res: CheckResponse__Output = await call(
        c.enforcer,
        c.enforcer.check,
        {
          token: advisor.token,
          requiredScope: read,
          resource: 'slos://vaults/student-records/s-1001',
          context: { purpose: 'advising' },
        },
        checker,
      );
      return res.reason === 'REVOKED';
    },
    Date.now() + 10_000,
    'the revocation to reach the enforcer',
  );
  await check('advisor after revocation', 'REVOKED', {
    token: advisor.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/s-1001',
    context: { purpose: 'advising' },
  });
  await check("sub-agent after its parent's revocation", 'REVOKED', {
    token: sub.envelope!.token,
    requiredScope: read,
    resource: 'slos://vaults/student-records/transcripts/s-1001',
    context: { purpose: 'summarise' },
  });

  log('8. Audit chain and compliance report');
  const expectedChecks = decisions.length + 1; // + the revocation probe(s), at least one
  await waitFor(
    async () => {
      const page = await call(
        c.auditor,
        c.auditor.queryEvents,
        { tenant, action: 'check', pageSize: 1000 },
        auditorKey,
      );
      return page.entries.length >= expectedChecks;
    },
    Date.now() + (o.auditDeadlineMs ?? 30_000),
    'the auditor to chain every decision',
  );
  // A report rests on a signed checkpoint: wait for the auditor to sign one covering every entry
  // (it does so every few seconds while a chain grows), so truncation and rewrites are detectable.
  const head = await call(c.auditor, c.auditor.verifyChain, { tenant }, auditorKey);
  await waitFor(
    async () => {
      const cp = await call(c.auditor, c.auditor.getCheckpoint, { tenant }, auditorKey).catch(() => undefined);
      return Number(cp?.checkpoint?.seq ?? 0) >= Number(head.headSeq);
    },
    Date.now() + (o.auditDeadlineMs ?? 30_000),
    'a signed checkpoint covering the chain',
  );
  const verify = await call(c.auditor, c.auditor.verifyChain, { tenant }, auditorKey);
  log(
    `   chain ${verify.ok ? green('verifies') : red('FAILS: ' + verify.message)}: ${verify.checked} entries checked against checkpoint seq ${verify.checkpoint?.seq ?? 'none'} (key ${verify.checkpoint?.keyId ?? '-'})`,
  );
  const report = await call(c.auditor, c.auditor.getComplianceReport, { tenant, format: 'HTML' }, auditorKey, 30_000);
  mkdirSync(o.reportDir, { recursive: true });
  const reportPath = join(o.reportDir, `compliance-report-${tenant}.html`);
  writeFileSync(reportPath, report.body);
  log(`   compliance report: ${reportPath}`);

  const ok = decisions.every((d) => d.ok) && verify.ok;
  return {
    tenant,
    adminKey: admin,
    checkerKey: checker,
    auditorKey,
    reportPath,
    decisions,
    chainVerified: verify.ok,
    ok,
  };
}

/** Polls a condition until it holds or the deadline passes (each poll is a real round trip). */
async function waitFor(condition: () => Promise<boolean>, deadlineMs: number, what: string): Promise<void> {
  while (!(await condition())) {
    if (Date.now() > deadlineMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
