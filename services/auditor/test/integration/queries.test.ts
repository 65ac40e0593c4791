// The read API against the real broker and FerretDB: query filters (agent, action, resource glob,
// decision, reason, time window) and pagination that never silently truncates, checkpoints, signed
// negative attestations, the compliance report (JSON, and HTML rendered by headless Chromium with
// hostile strings in the data), and tenant isolation on every RPC.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { verifyAttestation, verifyCheckpoint } from '@authority/core';
import { silentLogger, type EventMessage, type KafkaEventBus } from '@authority/platform';
import type { MongoClient } from 'mongodb';
import type { Attestation__Output, ChainEntry__Output, Checkpoint__Output, QueryEventsRequest } from '@authority/proto';
import { startAuditor, type ComplianceReport, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  grpcError,
  must,
  type AuditorRpcs,
  publishAll,
  publishCredential,
  publishPolicy,
  randomSecret,
  type EventSpec,
  type TestEnv,
  testRig,
  closeRig,
  signedAttestation,
} from '../helpers';
import { REPORT_SECTIONS } from '../report-sections';

const A = 'alpha';
const B = 'beta';
const HOSTILE_AGENT = `<script>alert("agent")</script>'"&`;
const HOSTILE_RESOURCE = `slos://vaults/student-health/"><img src=x onerror=alert(1)><script>document.title='pwned'</script>`;
const BASE = Date.UTC(2026, 0, 10, 12, 0, 0);

const POLICY = `
version: '3.1'
organization: 'Lakeside <b>College</b>'
compliance_frameworks: [FERPA]
data_classifications:
  student-records:
    sensitivity: confidential
    pii_fields: [ssn, dob]
    retention_days: 2555
    description: 'Enrollment & grades <i>"records"</i>'
  student-health:
    sensitivity: restricted
    pii_fields: [diagnosis]
    retention_days: 2555
    description: 'Health records'
  financial-aid:
    sensitivity: confidential
    pii_fields: [bank_account]
    retention_days: 2555
    description: 'Aid files'
agents:
  advisor:
    scopes: ['vault:student-records:read']
    resources: ['slos://vaults/student-records/*']
    constraints: {require_purpose: true}
  finaid:
    scopes: ['vault:financial-aid:read']
    resources: ['slos://vaults/financial-aid/*']
    constraints: {unconstrained: true}
  idle-agent:
    scopes: ['vault:student-records:read']
    constraints: {unconstrained: true}
`;

function findChromium(): string {
  for (const bin of ['chromium', 'chromium-browser', 'google-chrome']) {
    const r = spawnSync('sh', ['-c', `command -v ${bin}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  throw new Error('headless Chromium is required for the report test: apt-get install -y chromium');
}

describe('queries, attestations, reports and tenant isolation', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  const secrets = {
    alphaAuditor: randomSecret('alpha-auditor'),
    alphaAdmin: randomSecret('alpha-admin'),
    alphaChecker: randomSecret('alpha-checker'),
    betaAuditor: randomSecret('beta-auditor'),
  };
  const client = () => auditorClient(auditor.address);
  const q = (req: QueryEventsRequest, secret = secrets.alphaAuditor) =>
    call(client(), 'QueryEvents', { tenant: A, ...req }, secret);
  let alphaCount = 0;

  before(async () => {
    ({ env, bus, mongo } = await testRig('queries'));
    await publishCredential(bus, env.prefix, A, 'AUDITOR', secrets.alphaAuditor);
    await publishCredential(bus, env.prefix, A, 'ADMIN', secrets.alphaAdmin);
    await publishCredential(bus, env.prefix, A, 'CHECKER', secrets.alphaChecker);
    await publishCredential(bus, env.prefix, B, 'AUDITOR', secrets.betaAuditor);
    await publishPolicy(bus, env.prefix, A, 1, POLICY);
    auditor = await startAuditor(
      auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '50', AUTHORITY_QUERY_SCAN_LIMIT: '100' }),
      { logger: silentLogger() },
    );

    const specs: EventSpec[] = [];
    for (let i = 0; i < 300; i++) {
      specs.push({
        tenant: A,
        agent: 'advisor',
        resource: `slos://vaults/student-records/s${i}`,
        timeMs: BASE + i * 1000,
        purpose: 'advising',
      });
      if (i === 5 || i === 290)
        specs.push({ tenant: A, agent: 'rare', resource: 'slos://vaults/rare-zone/x', timeMs: BASE + i * 1000 + 1 });
      if (i % 60 === 0) {
        specs.push({
          tenant: A,
          agent: 'advisor',
          resource: `slos://vaults/student-health/h${i}`,
          decision: 'DENY',
          reason: 'DENIED_RESOURCE',
          timeMs: BASE + i * 1000 + 2,
        });
      }
      if (i % 15 === 0)
        specs.push({
          tenant: A,
          agent: 'finaid',
          resource: `slos://vaults/financial-aid/f${i}`,
          timeMs: BASE + i * 1000 + 3,
        });
    }
    // A mint is not an access: it never counts in attestations.
    specs.push({
      tenant: A,
      agent: 'advisor',
      action: 'envelope.mint',
      resource: 'slos://vaults/student-health/all',
      timeMs: BASE + 100_500,
    });
    for (let i = 0; i < 3; i++) {
      specs.push({
        tenant: A,
        agent: HOSTILE_AGENT,
        resource: HOSTILE_RESOURCE,
        purpose: '<script>x</script>',
        message: '"quoted" <b>',
        timeMs: BASE + 200_000 + i,
      });
    }
    for (let i = 0; i < 40; i++)
      specs.push({ tenant: B, agent: 'beta-agent', resource: `slos://vaults/student-health/b${i}`, timeMs: BASE + i });
    alphaCount = specs.filter((s) => s.tenant === A).length;
    const records: EventMessage[] = specs.map((s) => auditRecord(auditEvent(s)));
    await publishAll(bus, `${env.prefix}audit`, records);
    for (const [tenant, count] of [
      [A, alphaCount],
      [B, 40],
    ] as const) {
      await eventually(
        async () => {
          const r = await call(client(), 'GetCheckpoint', { tenant }, env.operatorKey).catch(() => undefined);
          return r?.checkpoint?.seq === String(count) ? true : undefined;
        },
        `checkpoint at the head of ${tenant}`,
        60_000,
        100,
      );
    }
    // Credentials replayed from <prefix>keys.
    await eventually(() => q({ pageSize: 1 }).then(() => true), 'alpha auditor credential known');
    await eventually(
      () => call(client(), 'QueryEvents', { tenant: B, pageSize: 1 }, secrets.betaAuditor).then(() => true),
      'beta credential known',
    );
  });

  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  /** Every entry of a query, following cursors to the end (a bounded number of pages). */
  async function all(
    req: QueryEventsRequest,
    pageSize: number,
  ): Promise<{ entries: ChainEntry__Output[]; pages: number }> {
    const entries: ChainEntry__Output[] = [];
    let token = '';
    let pages = 0;
    do {
      const r = await q({ ...req, pageSize, pageToken: token });
      assert.ok(r.entries.length <= pageSize);
      entries.push(...r.entries);
      token = r.nextPageToken;
      pages++;
      assert.ok(pages < 500, 'pagination terminates');
    } while (token !== '');
    return { entries, pages };
  }

  it('filters on agent, action, resource glob, decision, reason and time window (server-side, from the raw events)', async () => {
    const finaid = await all({ agentId: 'finaid' }, 1000);
    assert.equal(finaid.entries.length, 20);
    for (const e of finaid.entries) {
      assert.equal(must(must(e.event).actor).agentId, 'finaid');
      assert.equal(must(must(e.event).check).purpose, '');
    }
    const advising = await q({ agentId: 'advisor', action: 'check', decision: 'ALLOW', pageSize: 3 });
    for (const e of advising.entries) assert.equal(must(must(e.event).check).purpose, 'advising');

    const health = await all({ resourceGlob: 'slos://vaults/student-health/*' }, 1000);
    assert.equal(health.entries.length, 5 + 1 + 3, 'denied checks, the mint and the hostile resource');
    const denied = await all({ decision: 'DENY', reason: 'DENIED_RESOURCE', action: 'check' }, 1000);
    assert.equal(denied.entries.length, 5);
    for (const entry of denied.entries) {
      const e = must(entry.event);
      assert.equal(e.decision, 'DENY');
      assert.equal(e.reason, 'DENIED_RESOURCE');
      assert.match(entry.rawEvent, /"decision":"DENY"/);
      assert.equal(e.detail, 'check');
      assert.match(must(e.check).decisionId, /^[0-9a-f]{16}$/);
      assert.equal(typeof must(e.time).seconds, 'string');
    }
    const windowed = await all(
      {
        agentId: 'advisor',
        action: 'check',
        startTime: { seconds: String(BASE / 1000 + 10), nanos: 0 },
        endTime: { seconds: String(BASE / 1000 + 19), nanos: 0 },
      },
      1000,
    );
    assert.equal(windowed.entries.length, 10);
    await assert.rejects(
      q({ startTime: { seconds: '200', nanos: 0 }, endTime: { seconds: '100', nanos: 0 } }),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'end_time'),
    );
    await assert.rejects(
      q({ pageSize: 1001 }),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'page_size'),
    );
    await assert.rejects(
      q({ pageToken: 'garbage!' }),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'page_token'),
    );
  });

  it('pagination never silently truncates: sparse matches across the scan limit, small pages, no gaps or repeats', async () => {
    // 'rare' matches 2 entries ~290 seqs apart, and one call examines at most 100 entries: pages
    // may be empty but carry a cursor until the chain is exhausted.
    const rare = await all({ resourceGlob: 'slos://vaults/rare-zone/*' }, 1);
    assert.equal(rare.entries.length, 2);
    assert.ok(rare.pages >= 3, `several pages were needed (${rare.pages})`);

    const everything = await all({}, 1000);
    assert.equal(everything.entries.length, alphaCount);
    const paged = await all({}, 7);
    assert.deepEqual(
      paged.entries.map((e) => e.seq),
      everything.entries.map((e) => e.seq),
    );
    assert.deepEqual(
      everything.entries.map((e) => Number(e.seq)),
      Array.from({ length: alphaCount }, (_, i) => i + 1),
    );
  });

  it('serves checkpoints: latest, by seq, listed newest first with pages', async () => {
    const cp: Checkpoint__Output = must(
      (await call(client(), 'GetCheckpoint', { tenant: A }, secrets.alphaAuditor)).checkpoint,
    );
    assert.equal(cp.seq, String(alphaCount));
    const key0 = must((await call(client(), 'ListAuditorKeys', {}, secrets.alphaAuditor)).keys[0]);
    const key = new Uint8Array(key0.publicKey);
    const ok = verifyCheckpoint(
      {
        tenant: cp.tenant,
        seq: Number(cp.seq),
        headHash: cp.headHash,
        time: Number(must(cp.time).seconds),
        keyId: cp.keyId,
        signature: Buffer.from(cp.signature).toString('base64url'),
      },
      (kid) => (kid === key0.keyId ? key : undefined),
    );
    assert.ok(ok.ok);
    const at50 = await call(client(), 'GetCheckpoint', { tenant: A, seq: 50 }, secrets.alphaAuditor);
    assert.equal(at50.checkpoint?.seq, '50');
    const seqs: number[] = [];
    let token = '';
    do {
      const r = await call(
        client(),
        'ListCheckpoints',
        { tenant: A, pageSize: 2, pageToken: token },
        secrets.alphaAuditor,
      );
      seqs.push(...r.checkpoints.map((c) => Number(c.seq)));
      token = r.nextPageToken;
    } while (token !== '');
    assert.ok(seqs.length >= Math.floor(alphaCount / 50));
    assert.deepEqual(
      seqs,
      [...seqs].sort((x, y) => y - x),
    );
    assert.equal(new Set(seqs).size, seqs.length);
    assert.equal(seqs[0], alphaCount);
  });

  it('attests signed negative attestations bound to the latest checkpoint, counting allowed and denied separately', async () => {
    const key0 = must((await call(client(), 'ListAuditorKeys', {}, secrets.alphaAuditor)).keys[0]);
    const key = new Uint8Array(key0.publicKey);
    const window = {
      startTime: { seconds: String(BASE / 1000 - 10), nanos: 0 },
      endTime: { seconds: String(BASE / 1000 + 1000), nanos: 0 },
    };
    const neg: Attestation__Output = must(
      (
        await call(
          client(),
          'Attest',
          { tenant: A, agentId: 'advisor', resourcePattern: 'slos://vaults/student-health/*', ...window },
          secrets.alphaAuditor,
        )
      ).attestation,
    );
    const negCp = must(neg.checkpoint);
    assert.equal(neg.allowedCount, '0');
    assert.equal(neg.deniedCount, '5');
    assert.equal(neg.neverAccessed, true);
    assert.equal(negCp.seq, String(alphaCount));
    const signed = signedAttestation(neg);
    assert.ok(
      verifyAttestation(signed, (kid) => (kid === key0.keyId ? key : undefined)).ok,
      'attestation signature verifies',
    );
    assert.equal(verifyAttestation({ ...signed, deniedCount: 0 }, () => key).ok, false, 'the counts are signed');

    const pos = must(
      (
        await call(
          client(),
          'Attest',
          { tenant: A, agentId: 'finaid', resourcePattern: 'slos://vaults/financial-aid/*', ...window },
          secrets.alphaAuditor,
        )
      ).attestation,
    );
    assert.equal(pos.allowedCount, '20');
    assert.deepEqual([pos.allowedActedCount, pos.allowedDelegatedCount], ['20', '0'], 'events without a path: acted');
    assert.equal(pos.neverAccessed, false);
    const outside = must(
      (
        await call(
          client(),
          'Attest',
          {
            tenant: A,
            agentId: 'finaid',
            resourcePattern: 'slos://vaults/financial-aid/*',
            startTime: { seconds: '0', nanos: 0 },
            endTime: { seconds: String(BASE / 1000 - 1), nanos: 0 },
          },
          secrets.alphaAuditor,
        )
      ).attestation,
    );
    assert.equal(outside.allowedCount, '0');
    await assert.rejects(
      call(client(), 'Attest', { tenant: A, resourcePattern: 'x' }, secrets.alphaAuditor),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'agent_id'),
    );
    await assert.rejects(
      call(client(), 'Attest', { tenant: 'nobody', agentId: 'a', resourcePattern: 'x' }, env.operatorKey),
      grpcError('FAILED_PRECONDITION', (e) => e.reason === 'NO_CHECKPOINT'),
    );
  });

  it('renders the compliance report as JSON and as self-contained HTML that headless Chromium shows with every section, hostile strings inert', async () => {
    const window = {
      startTime: { seconds: String(BASE / 1000 - 10), nanos: 0 },
      endTime: { seconds: String(BASE / 1000 + 1000), nanos: 0 },
    };
    const json = await call(
      client(),
      'GetComplianceReport',
      { tenant: A, format: 'JSON', ...window },
      secrets.alphaAuditor,
    );
    assert.equal(json.contentType, 'application/json');
    const report = JSON.parse(Buffer.from(json.body).toString('utf8')) as ComplianceReport;
    assert.equal(report.executiveSummary.totalEvents, alphaCount);
    assert.equal(report.executiveSummary.denied, 5);
    assert.equal(report.chainVerification.ok, true);
    assert.equal(report.chainVerification.checkpoint?.seq, alphaCount);
    assert.deepEqual(
      report.attestationMatrix.classifications.map((c) => c.pattern),
      ['slos://vaults/student-records/*', 'slos://vaults/student-health/*', 'slos://vaults/financial-aid/*'],
    );
    const advisorRow = report.attestationMatrix.rows.find((r) => r.agentId === 'advisor')!;
    const healthCell = advisorRow.cells.find((c) => c.domain === 'student-health')!;
    assert.deepEqual([healthCell.allowed, healthCell.denied, healthCell.neverAccessed], [0, 5, true]);
    assert.equal(advisorRow.cells.find((c) => c.domain === 'student-records')!.allowed, 300);
    assert.ok(
      report.agents.some((a) => a.agentId === 'idle-agent' && a.events === 0 && a.inPolicy),
      'policy agents without activity are listed',
    );
    assert.ok(report.agents.some((a) => a.agentId === HOSTILE_AGENT));
    assert.equal(report.dataClassifications.length, 3);

    const html = await call(
      client(),
      'GetComplianceReport',
      { tenant: A, format: 'HTML', ...window },
      secrets.alphaAuditor,
    );
    assert.equal(html.contentType, 'text/html; charset=utf-8');
    const text = Buffer.from(html.body).toString('utf8');
    assert.doesNotMatch(text, /<script/i, 'no script element in the markup');
    assert.doesNotMatch(
      text,
      /<[a-z][^>]*\s(src|href|srcset|action|formaction|on[a-z]+)\s*=/i,
      'no tag carries a link, source or handler',
    );
    assert.doesNotMatch(text, /url\(|@import|https?:\/\//i, 'no external resources');
    // Identifiers are rendered as unbreakable chunks (<span>…</span><wbr>…): the text is the id.
    const unchunk = (markup: string) => markup.replace(/<\/?span>|<wbr>/g, '');
    assert.match(unchunk(text), /&lt;script&gt;alert\(&quot;agent&quot;\)&lt;\/script&gt;/);

    const chromium = findChromium();
    const dir = mkdtempSync(join(tmpdir(), 'auditor-report-'));
    try {
      const file = join(dir, 'report.html');
      writeFileSync(file, text);
      const args = [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--no-first-run',
        '--disable-component-update',
        '--disable-sync',
        `--user-data-dir=${join(dir, 'profile')}`,
      ];
      const dom = spawnSync(chromium, [...args, '--dump-dom', `file://${file}`], { encoding: 'utf8', timeout: 60_000 });
      assert.equal(dom.status, 0, dom.stderr);
      const out = dom.stdout;
      for (const id of REPORT_SECTIONS) {
        assert.match(out, new RegExp(`<section id="${id}">`), `section ${id} rendered`);
      }
      assert.doesNotMatch(out, /<script|<img/i, 'the rendered DOM has no script or image element');
      assert.match(
        out,
        /<title>Compliance report: Lakeside &lt;b&gt;College&lt;\/b&gt;<\/title>/,
        'the title is the text, not markup',
      );
      assert.match(
        unchunk(out),
        /&lt;script&gt;alert\("agent"\)&lt;\/script&gt;'"&amp;/,
        'the hostile agent id is shown as text',
      );
      assert.match(out, /NEVER ACCESSED/);
      assert.match(out, /VERIFIED/);
      const shot = spawnSync(
        chromium,
        [...args, `--screenshot=${join(dir, 'report.png')}`, '--window-size=1200,2000', `file://${file}`],
        { encoding: 'utf8', timeout: 60_000 },
      );
      assert.equal(shot.status, 0, shot.stderr);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("isolates tenants on every RPC: another tenant is PERMISSION_DENIED, another tenant's cursor INVALID_ARGUMENT", async () => {
    const denied = grpcError('PERMISSION_DENIED', (e) => e.reason === 'TENANT_MISMATCH');
    const requests: [keyof AuditorRpcs, { tenant: string } & Record<string, unknown>][] = [
      ['QueryEvents', { tenant: B }],
      ['VerifyChain', { tenant: B }],
      ['GetCheckpoint', { tenant: B }],
      ['ListCheckpoints', { tenant: B }],
      ['Attest', { tenant: B, agentId: 'beta-agent', resourcePattern: '*' }],
      ['GetComplianceReport', { tenant: B, format: 'JSON' }],
      ['GetChainStatus', { tenant: B }],
      ['ArchiveChainSegment', { tenant: B, throughSeq: '1', archiveSha256: 'a'.repeat(64) }],
    ];
    for (const [method, req] of requests) {
      await assert.rejects(
        call(client(), method, req as never, secrets.alphaAuditor),
        denied,
        `${method} with alpha's auditor credential for beta`,
      );
      await assert.rejects(
        call(client(), method, req as never, secrets.alphaAdmin),
        denied,
        `${method} with alpha's admin credential for beta`,
      );
      await assert.rejects(
        call(client(), method, { ...req, tenant: A } as never, secrets.alphaChecker),
        grpcError('PERMISSION_DENIED'),
        `${method} with a checker credential`,
      );
      await assert.rejects(call(client(), method, req as never, undefined), grpcError('UNAUTHENTICATED'));
      await assert.rejects(call(client(), method, req as never, 'not-a-credential'), grpcError('UNAUTHENTICATED'));
    }
    // Beta's own credential and the operator do see beta; alpha's admin sees alpha.
    const betaPage = await call(client(), 'QueryEvents', { tenant: B, pageSize: 10 }, secrets.betaAuditor);
    assert.equal(betaPage.entries.length, 10);
    for (const e of betaPage.entries) assert.equal(e.event?.tenant, B);
    assert.equal((await call(client(), 'VerifyChain', { tenant: A }, secrets.alphaAdmin)).ok, true);

    // A cursor issued for alpha is refused for beta, whoever asks.
    const alphaPage = await q({ pageSize: 5 });
    assert.notEqual(alphaPage.nextPageToken, '');
    for (const secret of [secrets.betaAuditor, env.operatorKey]) {
      await assert.rejects(
        call(client(), 'QueryEvents', { tenant: B, pageSize: 5, pageToken: alphaPage.nextPageToken }, secret),
        grpcError('INVALID_ARGUMENT', (e) => e.field === 'page_token' && /another tenant/.test(e.message)),
      );
    }
    const cps = await call(client(), 'ListCheckpoints', { tenant: A, pageSize: 1 }, secrets.alphaAuditor);
    await assert.rejects(
      call(client(), 'ListCheckpoints', { tenant: B, pageSize: 1, pageToken: cps.nextPageToken }, env.operatorKey),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'page_token'),
    );
    // A query token is not a checkpoint token.
    await assert.rejects(
      call(
        client(),
        'ListCheckpoints',
        { tenant: A, pageSize: 1, pageToken: alphaPage.nextPageToken },
        secrets.alphaAuditor,
      ),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'page_token'),
    );
    await assert.rejects(
      call(client(), 'QueryEvents', { tenant: '' }, env.operatorKey),
      grpcError('INVALID_ARGUMENT', (e) => e.field === 'tenant'),
    );
  });
});
