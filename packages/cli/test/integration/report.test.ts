// The compliance report an auditor signs off, db status and archival, through the CLI against the
// real stack (in-process services, real Kafka + FerretDB): a report with approvals (who, when,
// which comment), revocations, REVOKED denials in the agent's row and denied events with decision
// ids; its signature verified offline (one changed byte fails); its PDF (A4, headless Chromium)
// and page inspected section by section (pdftotext, a PNG screenshot); `db status`; an old segment
// exported, verified offline, deleted, and the live chain still verifying from the boundary.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { inflateSync } from 'node:zlib';
import { ExitCode } from '../../src';
import { screenshotPng } from '../../src/pdf';
import { cli, mintEnvelope, stackShell, startCliStack, writeIn } from '../helpers';
import { eventually, requireInfra, type StackHandle } from '@authority/test-helpers';

requireInfra();

const AGENT = 'academic-advisor';
const POLICY = `organization: Lakeside University
version: 1.0
compliance_frameworks: [FERPA]
data_classifications:
  confidential:
    sensitivity: confidential
    pii_fields: [grade]
    retention_days: 365
    description: grades and transcripts
agents:
  ${AGENT}:
    scopes: [vault:confidential:read, vault:confidential:write]
    resources: ["slos://vaults/confidential/*"]
    constraints: {unconstrained: true}
`;

/** The sections of the page, in order, with their headings. */
const SECTIONS: [id: string, heading: string][] = [
  ['executive-summary', 'Executive summary'],
  ['agents', 'Per-agent breakdown'],
  ['resources', 'Per-resource breakdown'],
  ['approvals', 'Approvals'],
  ['revocations', 'Revocations'],
  ['denied-events', 'Denied events'],
  ['attestation-matrix', 'Attestation matrix'],
  ['chain-verification', 'Chain verification'],
  ['data-classifications', 'Data classifications'],
  ['signature', 'Signature'],
  ['report-metadata', 'Report metadata'],
];

/** RGBA rows of an 8-bit, non-interlaced PNG (what Chromium writes). */
function decodePng(buf: Buffer): { width: number; height: number; pixel: (x: number, y: number) => number[] } {
  assert.equal(buf.subarray(1, 4).toString('latin1'), 'PNG');
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.subarray(off + 4, off + 8).toString('latin1');
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === 'IHDR') {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, 'bit depth 8');
      colorType = data[9] as number;
      assert.equal(data[12], 0, 'not interlaced');
    } else if (type === 'IDAT') idat.push(data);
    off += 12 + len;
  }
  const bpp = colorType === 6 ? 4 : colorType === 2 ? 3 : assert.fail(`colour type ${colorType}`);
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * bpp;
  const out = Buffer.alloc(height * stride);
  for (let y = 0; y < height; y++) {
    const filter = raw[y * (stride + 1)] as number;
    for (let x = 0; x < stride; x++) {
      const cur = raw[y * (stride + 1) + 1 + x] as number;
      const a = x >= bpp ? (out[y * stride + x - bpp] as number) : 0;
      const b = y > 0 ? (out[(y - 1) * stride + x] as number) : 0;
      const c = x >= bpp && y > 0 ? (out[(y - 1) * stride + x - bpp] as number) : 0;
      const p = a + b - c;
      const pa = Math.abs(p - a);
      const pb = Math.abs(p - b);
      const pc = Math.abs(p - c);
      const pred = [0, a, b, (a + b) >> 1, pa <= pb && pa <= pc ? a : pb <= pc ? b : c][filter] as number;
      out[y * stride + x] = (cur + pred) & 0xff;
    }
  }
  return {
    width,
    height,
    pixel: (x, y) => [...out.subarray(y * stride + x * bpp, y * stride + x * bpp + 3)],
  };
}

describe('the compliance report, db status and archival through the CLI', { timeout: 600_000 }, () => {
  let stack: StackHandle;
  const tenant = `rep-${randomBytes(3).toString('hex')}`;
  let admin = '';
  let checker = '';
  let auditor = '';
  let approverId = '';
  let deniedDecisionId = '';
  let readJti = '';

  const shell = stackShell(() => stack, tenant, '30s');

  /** db status, once a checkpoint covers the chain's head (and the head is at least `minHead`). */
  const covered = async (minHead: number) =>
    eventually(
      async () => {
        const r = await cli(shell(auditor), '--json', 'db', 'status');
        assert.equal(r.code, 0, r.stderr);
        const st = r.json<{ headSeq: string; lastCheckpoint: { seq: string } | null }>();
        const head = Number(st.headSeq);
        return head >= minHead && Number(st.lastCheckpoint?.seq ?? 0) === head ? head : undefined;
      },
      'a checkpoint to cover the chain head',
      { timeoutMs: 60_000, intervalMs: 200 },
    );

  const check = (token: string, ...args: string[]) =>
    cli(shell(checker, { AUTHORITY_TOKEN: token }), '--json', 'envelope', 'check', ...args);

  before(async () => {
    stack = await startCliStack();
    const op = shell(stack.operatorKey);
    const created = await cli(op, '--json', 'tenant', 'create', tenant);
    assert.equal(created.code, 0, created.stderr);
    admin = created.json<{ adminCredential: { secret: string } }>().adminCredential.secret;
    const adm = shell(admin);
    const secret = async (kind: string) => {
      const r = await cli(adm, '--json', 'credential', 'create', '--kind', kind);
      assert.equal(r.code, 0, r.stderr);
      return r.json<{ credential: { secret: string; credentialId: string } }>().credential;
    };
    checker = (await secret('checker')).secret;
    auditor = (await secret('auditor')).secret;
    const approver = await secret('approver');
    approverId = approver.credentialId;
    const pushed = await cli(adm, 'policy', 'push', await writeIn(adm, 'policy.yaml', POLICY));
    assert.equal(pushed.code, 0, pushed.stderr);

    // Reads: one allowed, one denied (outside the grant), then the envelope revoked and denied.
    const readEnv = await mintEnvelope(adm, '--agent', AGENT, '--ttl', '1h');
    readJti = readEnv.jti;
    const scope = ['--scope', 'vault:confidential:read'];
    const ok = await check(readEnv.token, ...scope, '--resource', 'slos://vaults/confidential/grades-2026');
    assert.equal(ok.code, ExitCode.OK, ok.stdout);
    const denied = await check(readEnv.token, ...scope, '--resource', 'slos://vaults/finance/ledger');
    assert.equal(denied.code, ExitCode.DENIED, denied.stdout);
    deniedDecisionId = denied.json<{ decisionId: string }>().decisionId;
    assert.ok(deniedDecisionId);

    // A write that needs an approval: requested, approved with a comment, used.
    const { token: writeToken } = await mintEnvelope(
      adm,
      '--agent',
      AGENT,
      '--scope',
      'vault:confidential:write',
      '--resource',
      'slos://vaults/confidential/*',
      '--write-requires-approval',
      '--ttl',
      '30m',
    );
    const writeArgs = ['--scope', 'vault:confidential:write', '--resource', 'slos://vaults/confidential/grades-2026'];
    const asked = await check(writeToken, ...writeArgs);
    const approvalId = asked.json<{ approvalRequestId: string }>().approvalRequestId;
    assert.ok(approvalId, asked.stdout);
    const approved = await cli(
      shell(approver.secret),
      'approval',
      'approve',
      approvalId,
      '--comment',
      'end-of-term grade audit',
    );
    assert.equal(approved.code, 0, approved.stderr);
    assert.equal((await check(writeToken, ...writeArgs, '--approval', approvalId)).code, ExitCode.OK);

    const revoked = await cli(adm, 'revoke', 'envelope', readJti, '--reason', 'laptop lost');
    assert.equal(revoked.code, 0, revoked.stderr);
    await eventually(
      async () => {
        const r = await check(readEnv.token, ...scope, '--resource', 'slos://vaults/confidential/grades-2026');
        return r.json<{ reason: string }>().reason === 'REVOKED' ? true : undefined;
      },
      'the revocation to reach the enforcer',
      { intervalMs: 100 },
    );
    await covered(8);
  });
  after(async () => {
    await stack?.stop();
  });

  test('db status: chain head, last checkpoint and its age, consumer lag, quarantine, per tenant', async () => {
    const r = await cli(shell(auditor), 'db', 'status');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, new RegExp(`^tenant: +${tenant}$`, 'm'));
    assert.match(r.stdout, /^chain head: +seq \d+, hash [0-9a-f]{64}, recorded \d{4}-\d\d-\d\dT/m);
    assert.match(r.stdout, /^last checkpoint: +seq \d+, signed \d{4}-.*Z \(\d+[smhd] ago\) by [0-9a-f]{16}$/m);
    assert.match(r.stdout, /^consumer lag: +\d+ records on the audit topic \(p\d+: \d+/m);
    assert.match(r.stdout, /^quarantined: +0 records claiming this tenant$/m);
    // Another tenant's status is not this credential's to read.
    const other = await cli(shell(auditor, { AUTHORITY_TENANT: 'someone-else' }), 'db', 'status');
    assert.equal(other.code, ExitCode.AUTH, other.stderr);
  });

  test('the report: window, deny rate, approvals, revocations, REVOKED in the row, denied decision ids', async () => {
    const aud = shell(auditor);
    const r = await cli(aud, 'compliance', 'report', '--format', 'json');
    assert.equal(r.code, 0, r.stderr);
    const rep = r.json<{
      window: { start: string; startBasis: string };
      executiveSummary: { accessChecks: number; accessDenied: number; denyRate: number; adminEvents: number };
      agents: { agentId: string; inPolicy: boolean; revokedDenials: number; denied: number }[];
      approvals: { rows: { action: string; status: string; principal: string; comment: string }[] };
      revocations: { rows: { jti: string; agentId: string; reason: string }[] };
      deniedEvents: { rows: { decisionId: string; reason: string }[] };
      signature: { checkpoint: { seq: number } } | null;
    }>();
    assert.equal(rep.window.startBasis, 'first-entry');
    assert.ok(Date.parse(rep.window.start) > Date.now() - 3_600_000, rep.window.start);
    const s = rep.executiveSummary;
    assert.ok(s.adminEvents > 0);
    assert.equal(s.denyRate, s.accessDenied / s.accessChecks, 'over access checks only');
    const row = rep.agents.find((a) => a.agentId === AGENT);
    assert.ok(row?.inPolicy);
    assert.ok((row?.revokedDenials ?? 0) >= 1, JSON.stringify(row));
    const decision = rep.approvals.rows.find((a) => a.action === 'approval.decide');
    assert.deepEqual(
      [decision?.status, decision?.principal, decision?.comment],
      ['APPROVED', approverId, 'end-of-term grade audit'],
    );
    assert.deepEqual(
      rep.revocations.rows.map((x) => [x.jti, x.agentId, x.reason]),
      [[readJti, AGENT, 'laptop lost']],
    );
    assert.ok(
      rep.deniedEvents.rows.some((d) => d.decisionId === deniedDecisionId && d.reason === 'RESOURCE_NOT_ALLOWED'),
      JSON.stringify(rep.deniedEvents.rows),
    );
    assert.ok(rep.signature && rep.signature.checkpoint.seq > 0);

    const finance = await cli(aud, 'compliance', 'report', '--format', 'json', '--resource', 'slos://vaults/finance/*');
    assert.equal(finance.json<{ executiveSummary: { totalEvents: number } }>().executiveSummary.totalEvents, 1);
  });

  test('the saved report verifies offline; one changed byte fails with a precise message', async () => {
    const aud = shell(auditor);
    assert.equal((await cli(aud, 'compliance', 'report', '-o', 'report.html')).code, 0);
    const json = await cli(aud, 'compliance', 'report', '--format', 'json', '--summary');
    const keys = await cli(aud, '--json', 'audit', 'keys');
    const offline = shell('', { AUTHORITY_AUDITOR_ADDR: '127.0.0.1:1' });
    await writeIn(offline, 'auditor-keys.json', keys.stdout);
    const html = await aud.readFile('report.html');
    await writeIn(offline, 'report.html', html);
    await writeIn(offline, 'report.json', json.stdout);
    for (const file of ['report.html', 'report.json']) {
      const ok = await cli(offline, 'compliance', 'verify', file, '--keys', 'auditor-keys.json');
      assert.equal(ok.code, ExitCode.OK, `${ok.stdout}${ok.stderr}`);
      assert.match(ok.stdout, new RegExp(`^${file.replace('.', '\\.')}: VALID$`, 'm'));
    }
    // One byte of the visible page: 'Lakeside' → 'Lakesidf'.
    const at = html.indexOf('Lakeside');
    await writeIn(offline, 'altered.html', `${html.slice(0, at + 7)}f${html.slice(at + 8)}`);
    const bad = await cli(offline, 'compliance', 'verify', 'altered.html', '--keys', 'auditor-keys.json');
    assert.equal(bad.code, ExitCode.VERIFICATION_FAILED, bad.stdout);
    assert.match(bad.stdout, /report content \(html\): INVALID — the page was changed after signing/);
    assert.match(bad.stdout, /^altered\.html: NOT VALID$/m);
  });

  test('the PDF is A4 with every section, no word broken; the page screenshot shows every section', async () => {
    const aud = shell(auditor);
    const r = await cli(aud, 'compliance', 'report', '--format', 'pdf', '-o', 'report.pdf');
    assert.equal(r.code, 0, r.stderr);
    const pdf = path.join(aud.dir, 'report.pdf');
    const size = /^Page size: +([\d.]+) x ([\d.]+) pts/m.exec(execFileSync('pdfinfo', [pdf], { encoding: 'utf8' }));
    // A4 is 210 × 297 mm = 595.28 × 841.89 pt (Chromium's page box differs by a fraction of a point).
    assert.ok(size && Math.abs(Number(size[1]) - 595.28) < 1 && Math.abs(Number(size[2]) - 841.89) < 1, size?.[0]);
    const text = execFileSync('pdftotext', ['-layout', pdf, '-'], { encoding: 'utf8' });
    for (const [, heading] of SECTIONS) assert.match(text, new RegExp(`^\\s*${heading}\\s*$`, 'm'), heading);
    // Whole tokens (they used to break as "academic-a / dvisor", "confidenti / al").
    for (const token of [AGENT, 'confidential', 'end-of-term', 'RESOURCE_NOT_ALLOWED', 'approval.decide', tenant])
      assert.ok(text.includes(token), `${token} whole in the PDF text`);
    for (const line of text.split('\n'))
      assert.doesNotMatch(line, /[A-Za-z]-$/, `a line ends inside a hyphenated word: ${line}`);

    // The page, one fixed-height band per section (the header hidden): every band has ink.
    const band = 900;
    const html = await aud.readFile('report.html');
    const probe = html.replace(
      '</head>',
      `<style>body{margin:0;background:#fff}main{padding:0}main>h1,main>p.sub{display:none}section{height:${band}px;margin:0;overflow:hidden;border:none;border-radius:0}</style></head>`,
    );
    const probeFile = await writeIn(aud, 'probe.html', probe);
    const png = path.join(aud.dir, 'probe.png');
    await screenshotPng(process.env, probeFile, png, 1200, band * SECTIONS.length);
    const img = decodePng(readFileSync(png));
    assert.equal(img.height, band * SECTIONS.length);
    SECTIONS.forEach(([id], i) => {
      let ink = 0;
      for (let y = i * band; y < i * band + 120; y++)
        for (let x = 0; x < img.width; x += 2) {
          const [rr, g, b] = img.pixel(x, y) as [number, number, number];
          if (rr + g + b < 300) ink++;
        }
      assert.ok(ink > 100, `section ${id}: ${ink} dark pixels in its heading area`);
    });
  });

  test('archival: export to a checkpoint, verify offline, delete (ADMIN only), the live chain verifies on', async () => {
    const adm = shell(admin);
    const aud = shell(auditor);
    const through = await covered(8);
    // New events after the checkpoint: the head is never archived.
    await mintEnvelope(adm, '--agent', AGENT, '--ttl', '10m');
    await eventually(
      async () => {
        const st = (await cli(aud, '--json', 'db', 'status')).json<{ headSeq: string }>();
        return Number(st.headSeq) > through ? true : undefined;
      },
      'the mint to be chained',
      { intervalMs: 100 },
    );
    const exp = await cli(adm, 'audit', 'archive', 'export', '--through', String(through), '-o', 'seg.json');
    assert.equal(exp.code, 0, exp.stderr);
    assert.match(exp.stdout, new RegExp(`archived seqs 1-${through} \\(${through} entries`));

    const keys = await cli(aud, '--json', 'audit', 'keys');
    const offline = shell('', { AUTHORITY_AUDITOR_ADDR: '127.0.0.1:1' });
    await writeIn(offline, 'auditor-keys.json', keys.stdout);
    const seg = await adm.readFile('seg.json');
    await writeIn(offline, 'seg.json', seg);
    const ok = await cli(offline, 'audit', 'archive', 'verify', 'seg.json', '--keys', 'auditor-keys.json');
    assert.equal(ok.code, ExitCode.OK, ok.stdout);

    // An auditor may read but not delete.
    await writeIn(aud, 'seg.json', seg);
    const refused = await cli(aud, 'audit', 'archive', 'delete', 'seg.json');
    assert.equal(refused.code, ExitCode.AUTH, refused.stderr);
    const del = await cli(adm, 'audit', 'archive', 'delete', 'seg.json');
    assert.equal(del.code, 0, del.stderr);
    assert.match(del.stdout, new RegExp(`deleted ${through} entries`));

    // Gone from the store; the live chain verifies from the boundary; the file still verifies.
    const first = await cli(aud, '--json', 'audit', 'query', '--limit', '1');
    assert.equal(first.code, 0, first.stderr);
    assert.equal(Number(first.json<{ entries: { seq: string }[] }>().entries[0]?.seq), through + 1);
    const verify = await cli(aud, 'audit', 'verify');
    assert.equal(verify.code, ExitCode.OK, verify.stdout);
    const st = await cli(aud, 'db', 'status');
    assert.match(st.stdout, new RegExp(`^archived: +seqs 1-${through} `, 'm'));
    assert.equal((await cli(offline, 'audit', 'archive', 'verify', 'seg.json', '--keys', 'auditor-keys.json')).code, 0);
    // A report after archival still verifies, and covers the entries after the boundary.
    const rep = await cli(aud, 'compliance', 'report', '--format', 'json');
    assert.equal(rep.code, 0, rep.stderr);
    assert.equal(rep.json<{ coverage: { fromSeq: number } }>().coverage.fromSeq, through + 1);
    // The chain goes on: a new event is chained after the boundary and a checkpoint covers it.
    assert.equal((await cli(adm, 'envelope', 'mint', '--agent', AGENT, '--ttl', '10m')).code, 0);
    await covered(through + 2);
    assert.equal((await cli(aud, 'audit', 'verify')).code, ExitCode.OK);

    // One changed byte of the archive fails offline.
    const i = seg.indexOf('envelope.mint');
    await writeIn(offline, 'bad.json', `${seg.slice(0, i)}E${seg.slice(i + 1)}`);
    const bad = await cli(offline, 'audit', 'archive', 'verify', 'bad.json', '--keys', 'auditor-keys.json');
    assert.equal(bad.code, ExitCode.VERIFICATION_FAILED, bad.stdout);
    assert.match(bad.stdout, /NOT VALID — MODIFIED at seq \d+/);
  });
});
