// The education-provider scenario `npm start` plays: a tenant with a policy in the original's
// format, four agents with envelopes bound to their own holder keys and sealed by them, a
// delegation to a sub-agent named under its parent (`academic-advisor/summarizer`) that holds its
// own key, allowed and denied reads, a refused truncation attempt, per-request proofs (and a
// refused replay), a write that needs a human approval (used once), a revocation, and a
// compliance report written to an HTML file.
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SEAL_PREFIX, ed25519KeyPairFromSeed, ed25519Sign, hashLink, isoTime } from '@authority/core';
import type { CheckRequest, CheckResponse__Output, Envelope__Output, MintResponse__Output } from '@authority/proto';
import { HolderKey, requestProof, seal } from '@authority/sdk';
import { call, type Clients } from './clients';

/** The advisor's sub-agent: named under its parent, as delegation requires. */
export const SUB_AGENT = 'academic-advisor/summarizer';

/** An agent: its envelope as issued, its holder key, and the token it presents (sealed by it). */
interface Agent {
  envelope: Envelope__Output;
  key: HolderKey;
  token: string;
}

/**
 * What a dishonest sub-agent would do by hand (the SDK refuses to seal a chain with a key that is
 * not its last link's): a well-formed seal over `chain`'s last link, signed with ITS OWN key.
 */
export function forgeSeal(chain: string, ownKey: HolderKey): string {
  const leaf = chain.split('~').pop() as string;
  const payload = Buffer.from(JSON.stringify({ lh: hashLink(leaf) })).toString('base64url');
  const pair = ed25519KeyPairFromSeed(ownKey.exportSeed());
  const signature = ed25519Sign(Buffer.from(`${SEAL_PREFIX}${payload}`, 'latin1'), pair.secretKey);
  pair.secretKey.fill(0);
  return `${chain}~${SEAL_PREFIX}${payload}.${Buffer.from(signature).toString('base64url')}`;
}

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
  /** The delegated sub-agent, named under its parent, and its delegation path. */
  subAgent: { agentId: string; agentChain: string[] };
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

  log('3. Envelopes for the four agents (bounded by the policy), each bound to its own holder key');
  // Every agent generates its holder key and sends only the public half; the issuer returns the
  // chain unsealed and the agent seals it: only the key's holder can present the token.
  const mint = async (
    agentId: string,
    scopes: string[],
    resources: string[],
    constraints: object,
    ttlSeconds = 3600,
  ): Promise<Agent> => {
    const key = await HolderKey.generate();
    const res: MintResponse__Output = await call(
      c.issuer,
      c.issuer.mint,
      {
        tenant,
        agentId,
        ttlSeconds,
        grant: { scopes, resources, contextFields: ['student_id'], constraintsJson: JSON.stringify(constraints) },
        holderPublicKey: Buffer.from(key.publicKey),
      },
      admin,
    );
    const envelope = res.envelope!;
    log(
      `   ${agentId}: ${scopes.join(', ')} on ${resources.join(', ')} (jti ${envelope.jti}, holder key ${key.publicKeyBase64Url.slice(0, 10)}…, sealed by the agent)`,
    );
    return { envelope, key, token: seal(envelope.token, key) };
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
  // The auditor's envelope also says `pop: required`: a sealed token alone is not enough, every
  // call carries a fresh per-request proof, so a token seen in a log cannot be replayed.
  const ferpaAuditor = await mint('ferpa-auditor', ['vault:student-records:read', 'audit:read'], ['slos://vaults/*'], {
    require_purpose: true,
    pop: 'required',
  });

  log(`4. The advisor delegates a narrower envelope to its sub-agent ${SUB_AGENT} (transcripts only, 10 minutes)`);
  // The sub-agent generates its own key and gives the advisor only the public half; the advisor
  // presents its sealed token to the issuer. The child comes back unsealed and bound to the
  // sub-agent's key: the advisor's seal never travels to it. A policy names root agents only;
  // the sub-agent is bounded by the advisor's entry and by the advisor's envelope.
  const summarizerKey = await HolderKey.generate();
  const delegated = await call(
    c.issuer,
    c.issuer.delegate,
    {
      tenant,
      parentToken: advisor.token,
      agentId: SUB_AGENT,
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
      holderPublicKey: Buffer.from(summarizerKey.publicKey),
    },
    admin,
  );
  const subEnvelope = delegated.envelope!;
  const sub: Agent = { envelope: subEnvelope, key: summarizerKey, token: seal(subEnvelope.token, summarizerKey) };
  log(
    `   ${subEnvelope.agentId}: depth ${subEnvelope.depth}, lineage ${subEnvelope.agentChain.join(' > ')}, expires ${isoTime(Number(subEnvelope.expiresAt?.seconds))}; sealed by the sub-agent`,
  );

  const check = async (step: string, expected: string, req: CheckRequest): Promise<CheckResponse__Output> => {
    const res: CheckResponse__Output = await call(c.enforcer, c.enforcer.check, req, checker);
    const got = res.decision === 'ALLOW' ? 'ALLOW' : String(res.reason);
    const ok = got === expected;
    decisions.push({ step, decision: String(res.decision), reason: String(res.reason), expected, ok });
    const mark = ok ? green('✔') : red(`✘ expected ${expected}`);
    log(
      `   ${mark} ${String(res.decision).padEnd(5)} ${String(res.reason).padEnd(21)} ${step}${res.decision === 'DENY' ? `: ${res.message}` : ''}`,
    );
    return res;
  };
  const read = 'vault:student-records:read';
  const record = 'slos://vaults/student-records/s-1001';
  /** A Check of `token` reading `resource` (a student record unless said) with `context`. */
  const reading = (token: string, context: CheckRequest['context'], resource = record, requiredScope = read) => ({
    token,
    requiredScope,
    resource,
    context,
  });

  log('5. Checks at the enforcer');
  await check(
    'advisor reads a student record for advising',
    'ALLOW',
    reading(advisor.token, { purpose: 'degree-audit advising appointment', recordCount: 1 }),
  );
  const transcript = {
    requiredScope: read,
    resource: 'slos://vaults/student-records/transcripts/s-1001',
    context: { purpose: 'summarise transcript for advisor', recordCount: 1 },
  };
  await check('sub-agent reads a transcript', 'ALLOW', { token: sub.token, ...transcript });
  await check(
    'sub-agent reads outside its narrower resources',
    'RESOURCE_NOT_ALLOWED',
    reading(sub.token, { purpose: 'summarise', recordCount: 1 }),
  );
  // Truncation: the sub-agent holds the advisor's link (it is the first link of its own chain) and
  // tries to present it alone, to use the advisor's wider grant. Without a seal it is refused; and
  // it cannot seal it, because only the advisor's key can.
  const advisorLinkAlone = subEnvelope.token.split('~')[0] as string;
  await check(
    "sub-agent presents its parent's link alone (truncation, no seal)",
    'PROOF_REQUIRED',
    reading(advisorLinkAlone, { purpose: 'summarise', recordCount: 1 }),
  );
  await check(
    "sub-agent presents its parent's link alone, sealed with its own key",
    'INVALID_PROOF',
    reading(forgeSeal(advisorLinkAlone, summarizerKey), { purpose: 'summarise', recordCount: 1 }),
  );
  await check(
    'advisor reads a health record',
    'SCOPE_MISSING',
    reading(
      advisor.token,
      { purpose: 'curiosity' },
      'slos://vaults/student-health/s-1001',
      'vault:student-health:read',
    ),
  );
  await check(
    'advisor reads a health record through a student-records scope',
    'RESOURCE_NOT_ALLOWED',
    reading(advisor.token, { purpose: 'curiosity' }, 'slos://vaults/student-health/s-1001'),
  );
  await check('advisor reads without a purpose', 'PURPOSE_REQUIRED', reading(advisor.token, { recordCount: 1 }));
  await check(
    'advisor reads with an invisible purpose (U+3164 HANGUL FILLER)',
    'PURPOSE_REQUIRED',
    reading(advisor.token, { purpose: '\u3164', recordCount: 1 }),
  );
  // max_records_per_request fails closed: a request that does not say how much it reads is refused.
  await check(
    'advisor reads without stating a record count',
    'RECORD_COUNT_REQUIRED',
    reading(advisor.token, { purpose: 'degree-audit advising appointment' }),
  );
  await check(
    'advisor exports 500 records at once',
    'MAX_RECORDS_EXCEEDED',
    reading(advisor.token, { purpose: 'bulk export', recordCount: 500 }),
  );

  log("   Per-request proofs (the FERPA auditor's envelope says pop: required):");
  const review = reading(ferpaAuditor.token, { purpose: 'annual FERPA access review', recordCount: 1 });
  await check('auditor presents its sealed token without a per-request proof', 'PROOF_REQUIRED', review);
  const proven = { ...review, proof: requestProof(review.token, ferpaAuditor.key, review) };
  await check('auditor reads with a per-request proof signed by its holder key', 'ALLOW', proven);
  await check('the same request and proof replayed', 'PROOF_REPLAYED', proven);

  log('6. A write that needs a human approval');
  const write = reading(
    aid.token,
    { purpose: 'adjust grant after appeal', recordCount: 1 },
    'slos://vaults/financial-aid/award-2026-s-1001',
    'vault:financial-aid:write',
  );
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
  await call(
    c.issuer,
    c.issuer.revoke,
    { tenant, jti: advisor.envelope.jti, reason: 'advisor left the college' },
    admin,
  );
  log(`   revoked ${advisor.envelope.jti}`);
  await waitFor(
    async () => {
      const res: CheckResponse__Output = await call(
        c.enforcer,
        c.enforcer.check,
        reading(advisor.token, { purpose: 'advising' }),
        checker,
      );
      return res.reason === 'REVOKED';
    },
    Date.now() + 10_000,
    'the revocation to reach the enforcer',
  );
  await check('advisor after revocation', 'REVOKED', reading(advisor.token, { purpose: 'advising' }));
  await check(
    "sub-agent after its parent's revocation",
    'REVOKED',
    reading(sub.token, { purpose: 'summarise' }, 'slos://vaults/student-records/transcripts/s-1001'),
  );

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
    subAgent: { agentId: subEnvelope.agentId, agentChain: [...subEnvelope.agentChain] },
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
