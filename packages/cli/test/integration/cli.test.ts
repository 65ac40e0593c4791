// The `authority` CLI end to end against the real services (in-process, real Kafka + FerretDB):
// tenant → credential → mint → check (ALLOW, exit 0) → revoke → check (DENY REVOKED, exit 3);
// holder keys (seal, delegation to a sub-agent, offline attenuation, per-request proofs, a refused
// truncation); policy push/show/history/diff; explain; audit query/verify/export/stats; compliance
// attest/verify/report; error paths and exit codes.
// Size: one in-process stack started once for the whole walk through the commands.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { ExitCode } from '../../src';
import { cli, mintEnvelope, stackShell, startCliStack, testIo, writeIn } from '../helpers';
import { eventually, requireInfra, type StackHandle } from '@authority/test-helpers';

requireInfra();

const POLICY_V1 = `organization: Acme University
version: 1.0
compliance_frameworks: [FERPA]
agents:
  bot:
    scopes: [vault:finance:read]
    resources: ["slos://vaults/finance/*"]
    constraints:
      max_records_per_request: 50
`;
const POLICY_V2 = POLICY_V1.replace('max_records_per_request: 50', 'max_records_per_request: 10').replace(
  'version: 1.0',
  'version: 1.1',
);

/** The grant most tests mint: bot reads the finance vault. */
const FINANCE_READ = ['--scope', 'vault:finance:read', '--resource', 'slos://vaults/finance/*'];

describe('authority CLI against the real stack', { timeout: 240_000 }, () => {
  let stack: StackHandle;
  const tenant = `cli-${randomBytes(3).toString('hex')}`;
  let admin = '';
  let checker = '';
  let auditorKey = '';
  let token = '';
  let jti = '';

  /** An io configured like a user's shell: addresses, tenant and one credential. */
  const shell = stackShell(() => stack, tenant, '15s');

  before(async () => {
    stack = await startCliStack();
  });
  after(async () => {
    await stack?.stop();
  });

  test('tenant create → credentials → mint → check ALLOW → revoke → check DENY REVOKED', async () => {
    const op = shell(stack.operatorKey);
    const created = await cli(op, '--json', 'tenant', 'create', tenant, '--display-name', 'CLI test');
    assert.equal(created.code, 0, created.stderr);
    const t = created.json<{
      tenant: string;
      key: { keyId: string };
      adminCredential: { secret: string; kind: string };
    }>();
    assert.equal(t.tenant, tenant);
    assert.equal(t.adminCredential.kind, 'ADMIN');
    admin = t.adminCredential.secret;
    assert.ok(admin.length > 16);

    const adm = shell(admin);
    const ck = await cli(adm, 'credential', 'create', '--kind', 'checker', '--secret-out', 'checker.key');
    assert.equal(ck.code, 0, ck.stderr);
    checker = (await adm.readFile('checker.key')).trim();
    const au = await cli(adm, '--json', 'credential', 'create', '--kind', 'auditor');
    auditorKey = au.json<{ credential: { secret: string } }>().credential.secret;

    const keys = await cli(adm, 'key', 'list');
    assert.equal(keys.code, 0, keys.stderr);
    assert.match(keys.stdout, new RegExp(`${t.key.keyId}\\s+ACTIVE`));

    const env = await mintEnvelope(adm, '--agent', 'bot', ...FINANCE_READ, '--ttl', '1h', '--require-purpose');
    assert.equal(env.agentId, 'bot');
    assert.equal(env.tenant, tenant);
    token = env.token;
    jti = env.jti;

    // inspect agrees with what the issuer minted.
    const ins = await cli(adm, '--json', 'envelope', 'inspect', token);
    assert.equal(ins.json<{ links: { claims: { jti: string; cns: unknown } }[] }>().links[0]?.claims.jti, jti);

    const chk = shell(checker, { AUTHORITY_TOKEN: token });
    // The check of this test: a finance read of q1.pdf, with the purpose the envelope requires.
    const q1Read = ['envelope', 'check', '--scope', 'vault:finance:read', '--resource', 'slos://vaults/finance/q1.pdf'];
    const withPurpose = [...q1Read, '--purpose', 'quarterly audit'];
    const allow = await cli(chk, ...withPurpose);
    assert.equal(allow.code, ExitCode.OK, `${allow.stdout}${allow.stderr}`);
    assert.match(allow.stdout, /^ALLOW/);

    const noPurpose = await cli(chk, '--json', ...q1Read);
    assert.equal(noPurpose.code, ExitCode.DENIED);
    assert.equal(noPurpose.json<{ reason: string }>().reason, 'PURPOSE_REQUIRED');

    const revoke = await cli(adm, 'revoke', 'envelope', jti, '--reason', 'cli test');
    assert.equal(revoke.code, 0, revoke.stderr);
    assert.match(revoke.stdout, new RegExp(`envelope ${jti} revoked`));
    // Revoking again changes nothing, and says so.
    const again = await cli(adm, 'revoke', 'envelope', jti);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, new RegExp(`envelope ${jti} was already revoked \\(at \\d{4}-.*Z\\); nothing changed`));

    // The enforcer learns of the revocation from Kafka: poll the check until it denies.
    const denied = await eventually(
      async () => {
        const r = await cli(chk, '--json', ...withPurpose);
        return r.code === ExitCode.DENIED ? r : undefined;
      },
      'the revocation to reach the enforcer',
      { intervalMs: 100 },
    );
    assert.equal(denied.json<{ decision: string; reason: string }>().reason, 'REVOKED');
    assert.equal(denied.json<{ decision: string }>().decision, 'DENY');
    // The text output still says whom the refused token was about (marked as claimed: it did not verify).
    const deniedText = await cli(chk, ...withPurpose);
    assert.equal(deniedText.code, ExitCode.DENIED);
    assert.match(deniedText.stdout, /^DENY REVOKED/);
    assert.match(deniedText.stdout, /^agent \(claimed\): +bot$/m);
    assert.match(deniedText.stdout, new RegExp(`^tenant \\(claimed\\): +${tenant}$`, 'm'));
  });

  test('approvals: APPROVAL_REQUIRED → approve → check with --approval → ALLOW, once', async () => {
    const adm = shell(admin);
    const ap = await cli(adm, '--json', 'credential', 'create', '--kind', 'approver');
    assert.equal(ap.code, 0, ap.stderr);
    const approver = shell(ap.json<{ credential: { secret: string } }>().credential.secret);
    const writer = await mintEnvelope(
      adm,
      '--agent',
      'writer',
      '--scope',
      'vault:finance:write',
      '--resource',
      'slos://vaults/finance/*',
      '--write-requires-approval',
      '--ttl',
      '30m',
    );
    const chk = shell(checker, { AUTHORITY_TOKEN: writer.token });
    const args = ['envelope', 'check', '--scope', 'vault:finance:write', '--resource', 'slos://vaults/finance/q3.xlsx'];

    const first = await cli(chk, '--json', ...args);
    assert.equal(first.code, ExitCode.DENIED, first.stderr);
    const d = first.json<{ reason: string; approvalRequestId: string }>();
    assert.equal(d.reason, 'APPROVAL_REQUIRED');
    assert.ok(d.approvalRequestId);

    const list = await cli(approver, '--json', 'approval', 'list');
    assert.equal(list.code, 0, list.stderr);
    const pending = list.json<{ approvals: { approvalId: string; status: string; agentId: string }[] }>().approvals;
    assert.deepEqual(
      pending.filter((a) => a.approvalId === d.approvalRequestId).map((a) => [a.status, a.agentId]),
      [['PENDING', 'writer']],
    );
    // A checker may not decide.
    assert.equal((await cli(chk, 'approval', 'approve', d.approvalRequestId)).code, ExitCode.AUTH);
    const ok = await cli(approver, 'approval', 'approve', d.approvalRequestId, '--comment', 'quarter close');
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /APPROVED/);

    const second = await cli(chk, ...args, '--approval', d.approvalRequestId);
    assert.equal(second.code, ExitCode.OK, `${second.stdout}${second.stderr}`);
    const replay = await cli(chk, '--json', ...args, '--approval', d.approvalRequestId);
    assert.equal(replay.code, ExitCode.DENIED);
    assert.equal(replay.json<{ reason: string }>().reason, 'APPROVAL_INVALID');
  });

  test('holder keys: seal, delegate to a sub-agent with its own key, attenuate offline, proofs, truncation refused', async () => {
    const adm = shell(admin);
    const chk = shell(checker);
    // Key files live in the admin's directory; the checker's shell names them by absolute path.
    const keyFile = (name: string) => path.join(adm.dir, name);
    assert.equal((await cli(adm, 'envelope', 'keygen', '--out', 'holder.jwk')).code, 0);
    const planner = await cli(adm, '--json', 'envelope', 'keygen', '--out', 'planner.jwk');
    const plannerX = planner.json<{ publicKey: { x: string } }>().publicKey.x;
    const grant = ['--scope', 'vault:*:read', '--resource', 'slos://vaults/*', '--ttl', '30m'];

    // The agent's own public key: the issuer returns the chain UNSEALED; the agent seals it.
    const unsealed = await mintEnvelope(adm, '--agent', 'planner', ...grant, '--holder-public-key', plannerX);
    assert.equal(unsealed.sealed, false);
    const checkArgs = ['--scope', 'vault:finance:read', '--resource', 'slos://vaults/finance/x'];
    const noProof = await cli(chk, '--json', 'envelope', 'check', unsealed.token, ...checkArgs);
    assert.equal(noProof.code, ExitCode.DENIED, noProof.stderr);
    assert.deepEqual((({ reason, field }) => ({ reason, field }))(noProof.json<{ reason: string; field: string }>()), {
      reason: 'PROOF_REQUIRED',
      field: 'seal',
    });
    const withProof = await cli(
      chk,
      'envelope',
      'check',
      unsealed.token,
      ...checkArgs,
      '--holder-key',
      keyFile('planner.jwk'),
    );
    assert.equal(withProof.code, ExitCode.OK, `${withProof.stdout}${withProof.stderr}`);

    // A key file with its private part: the CLI seals the root right away.
    const root = await mintEnvelope(adm, '--agent', 'planner', ...grant, '--holder-key', 'holder.jwk');
    assert.equal(root.sealed, true);
    assert.equal((await cli(chk, 'envelope', 'check', root.token, ...checkArgs)).code, ExitCode.OK);

    // Online delegation to a sub-agent named under the planner, bound to the sub-agent's own key.
    const sub = await cli(adm, '--json', 'envelope', 'keygen', '--out', 'summarizer.jwk');
    const subX = sub.json<{ publicKey: { x: string } }>().publicKey.x;
    const del = await cli(
      adm,
      '--json',
      'envelope',
      'delegate',
      root.token,
      '--agent',
      'planner/summarizer',
      '--scope',
      'vault:hr:read',
      '--resource',
      'slos://vaults/hr/*',
      '--holder-public-key',
      subX,
    );
    assert.equal(del.code, 0, del.stderr);
    const child = del.json<{ envelope: { token: string; depth: number; sealed: boolean; agentChain: string[] } }>()
      .envelope;
    assert.equal(child.depth, 1);
    assert.equal(child.sealed, false);
    assert.deepEqual(child.agentChain, ['planner', 'planner/summarizer']);
    const outside = await cli(
      adm,
      'envelope',
      'delegate',
      root.token,
      '--agent',
      'helper',
      '--holder-public-key',
      subX,
    );
    // A refusal by the envelope rules exits like any other refusal (3), not as a failure (1).
    assert.equal(outside.code, ExitCode.DENIED);
    assert.match(outside.stderr, /CHAIN_VIOLATION/);
    const subSealed = (
      await cli(adm, 'envelope', 'seal', child.token, '--holder-key', 'summarizer.jwk', '-q')
    ).stdout.trim();
    const hr = ['--scope', 'vault:hr:read', '--resource', 'slos://vaults/hr/x'];
    const subOk = await cli(chk, '--json', 'envelope', 'check', subSealed, ...hr);
    assert.equal(subOk.code, ExitCode.OK, subOk.stdout);
    assert.deepEqual(subOk.json<{ agentChain: string[] }>().agentChain, ['planner', 'planner/summarizer']);
    // Truncation: the sub-agent presents the planner's link alone, with its own seal.
    const [parentLink] = child.token.split('~');
    const truncated = await cli(
      chk,
      '--json',
      'envelope',
      'check',
      `${parentLink}~${subSealed.split('~').pop()}`,
      ...hr,
    );
    assert.equal(truncated.code, ExitCode.DENIED);
    assert.equal(truncated.json<{ reason: string }>().reason, 'INVALID_PROOF');

    // Offline attenuation: the child chain comes out unsealed, with a generated key in a 0600 file.
    const att = await cli(
      adm,
      '--json',
      'envelope',
      'attenuate',
      root.token,
      '--holder-key',
      'holder.jwk',
      '--agent',
      'planner/reader',
      '--scope',
      'vault:finance:read',
      '--resource',
      'slos://vaults/finance/*',
      '--ttl',
      '5m',
      '--child-key-out',
      'reader.jwk',
    );
    assert.equal(att.code, 0, att.stderr);
    const chain = att.json<{ envelope: { token: string; sealed: boolean } }>().envelope.token;
    assert.equal((await cli(chk, 'envelope', 'check', chain, ...checkArgs)).code, ExitCode.DENIED);
    const proven = await cli(chk, 'envelope', 'check', chain, ...checkArgs, '--holder-key', keyFile('reader.jwk'));
    assert.equal(proven.code, ExitCode.OK, `${proven.stdout}${proven.stderr}`);
    const readerToken = (await cli(adm, 'envelope', 'seal', chain, '--holder-key', 'reader.jwk', '-q')).stdout.trim();
    const ok = await cli(chk, 'envelope', 'check', readerToken, ...checkArgs);
    assert.equal(ok.code, ExitCode.OK, `${ok.stdout}${ok.stderr}`);
    const widened = await cli(
      adm,
      'envelope',
      'attenuate',
      root.token,
      '--holder-key',
      'holder.jwk',
      '--scope',
      'admin:all:write',
      '--child-key-out',
      'w.jwk',
    );
    assert.equal(widened.code, ExitCode.DENIED);
    assert.match(widened.stderr, /CHAIN_VIOLATION/);
  });

  test('policy push / show / history / diff', async () => {
    const adm = shell(admin);
    const v1 = await writeIn(adm, 'policy.yaml', POLICY_V1);
    const push1 = await cli(adm, '--json', 'policy', 'push', v1);
    assert.equal(push1.code, 0, push1.stderr);
    assert.equal(push1.json<{ policy: { version: string } }>().policy.version, '1');

    const show = await cli(adm, 'policy', 'show');
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.stdout, POLICY_V1);

    const v2 = await writeIn(adm, 'policy-v2.yaml', POLICY_V2);
    const pending = await cli(adm, '--json', 'policy', 'diff', v2);
    assert.equal(pending.code, 0, pending.stderr);
    const d = pending.json<{ changed: boolean; diff: string; summary: string }>();
    assert.equal(d.changed, true);
    assert.match(d.diff, /- {6}max_records_per_request: 50\n\+ {6}max_records_per_request: 10/);
    assert.match(d.summary, /max_records/);

    // A stale --expected-version is refused (no lost update).
    const push2 = await cli(adm, 'policy', 'push', v2);
    assert.equal(push2.code, 0, push2.stderr);
    const stale = await cli(adm, '--json', 'policy', 'push', v1, '--expected-version', '1');
    assert.equal(stale.code, ExitCode.FAILURE);
    assert.match(stale.errJson<{ error: { message: string } }>().error.message, /changed underneath/);

    const hist = await cli(adm, '--json', 'policy', 'history');
    assert.equal(hist.code, 0, hist.stderr);
    assert.deepEqual(
      hist.json<{ versions: { version: string }[] }>().versions.map((v) => v.version),
      ['2', '1'],
    );
    const histText = await cli(adm, 'policy', 'history');
    assert.match(histText.stdout, /^VERSION/);

    const between = await cli(adm, 'policy', 'diff', '--from', '1', '--to', '2');
    assert.equal(between.code, 0);
    assert.match(between.stdout, /\+ {6}max_records_per_request: 10/);
    const oldShow = await cli(adm, 'policy', 'show', '1');
    assert.equal(oldShow.stdout, POLICY_V1);

    // An invalid file never reaches the server: exit 4 with positions.
    const bad = await writeIn(adm, 'bad.yaml', 'organization: x\nagents:\n  bot:\n    scopes: [nocolon]\n');
    const refused = await cli(adm, 'policy', 'push', bad);
    assert.equal(refused.code, ExitCode.VERIFICATION_FAILED);
    assert.match(refused.stderr, /bad\.yaml:4:\d+: agents\.bot\.scopes\[0\]/);
  });

  test("mint applies the agent's policy entry by default; a wider grant is refused (exit 3, field named)", async () => {
    // The tenant's policy is now POLICY_V2 (the test above): bot may read finance, 10 records per call.
    const adm = shell(admin);
    const minted = await eventually(async () => {
      const r = await cli(adm, '--json', 'envelope', 'mint', '--agent', 'bot');
      assert.equal(r.code, 0, r.stderr);
      const token = r.json<{ envelope: { token: string } }>().envelope.token;
      const ins = await cli(adm, '--json', 'envelope', 'inspect', token);
      const claims = ins.json<{ links: { claims: { scp: string[]; res: string[]; cns: Record<string, unknown> } }[] }>()
        .links[0]?.claims;
      return claims?.cns.max_records_per_request === 10 ? claims : undefined;
    }, "the issuer to apply policy version 2's record limit");
    assert.deepEqual(minted.scp, ['vault:finance:read']);
    assert.deepEqual(minted.res, ['slos://vaults/finance/*']);

    const wider = await cli(adm, '--json', 'envelope', 'mint', '--agent', 'bot', '--scope', 'vault:finance:write');
    assert.equal(wider.code, ExitCode.DENIED, wider.stderr);
    const e = wider.errJson<{ error: { reason: string; field: string } }>().error;
    assert.deepEqual([e.reason, e.field], ['POLICY_DENIED', 'grant.scopes[0]']);
    const looser = await cli(adm, '--json', 'envelope', 'mint', '--agent', 'bot', '--max-records', '100');
    assert.equal(looser.code, ExitCode.DENIED, looser.stderr);
    assert.equal(
      looser.errJson<{ error: { field: string } }>().error.field,
      'grant.constraints_json.max_records_per_request',
    );
  });

  test('explain: every rule of the stored policy for one request, the deciding one marked', async () => {
    // The tenant's policy is POLICY_V2 (bot: finance reads, at most 10 records per call).
    const adm = shell(admin);
    const args = ['explain', '--agent', 'bot', '--scope', 'vault:finance:read', '-r', 'slos://vaults/finance/q1'];
    const allowed = await cli(adm, '--json', ...args, '--records', '3');
    assert.equal(allowed.code, ExitCode.OK, allowed.stderr);
    const a = allowed.json<{ decision: string; source: string; rules: { rule: string; verdict: string }[] }>();
    assert.equal(a.decision, 'ALLOW');
    assert.match(a.source, /stored version 2/);
    assert.deepEqual(
      a.rules.map((r) => `${r.rule}:${r.verdict}`),
      ['constraints.max_records_per_request:pass', 'agents:pass', 'deny:pass', 'scopes:pass', 'resources:pass'],
    );
    const over = await cli(adm, ...args, '--records', '11');
    assert.equal(over.code, ExitCode.DENIED, over.stderr);
    assert.match(over.stdout, /=>\s+constraints\.max_records_per_request\s+bot\s+FAIL/);
    assert.match(over.stdout, /DENY MAX_RECORDS_EXCEEDED/);
    const write = await cli(
      adm,
      '--json',
      'explain',
      '--agent',
      'bot',
      '--scope',
      'vault:finance:write',
      '--records',
      '1',
    );
    assert.equal(write.code, ExitCode.DENIED);
    const w = write.json<{ reason: string; rules: { rule: string; deciding: boolean }[] }>();
    assert.equal(w.reason, 'POLICY_DENIED');
    assert.deepEqual(
      w.rules.filter((r) => r.deciding).map((r) => r.rule),
      ['scopes'],
    );
  });

  test('audit query / verify / export / tail', async () => {
    const aud = shell(auditorKey);
    // The auditor consumes the audit topic asynchronously: wait until our checks are chained.
    const entries = await eventually(
      async () => {
        const r = await cli(aud, '--json', 'audit', 'query', '--action', 'check');
        if (r.code !== 0) throw new Error(r.stderr);
        const e = r.json<{ entries: { seq: string; event: { decision: string; reason: string } }[] }>().entries;
        return e.some((x) => x.event.reason === 'REVOKED') ? e : undefined;
      },
      'the checks to reach the audit chain',
      { timeoutMs: 30_000, intervalMs: 250 },
    );
    assert.ok(entries.some((e) => e.event.decision === 'ALLOW'));

    const denies = await cli(aud, '--json', 'audit', 'query', '--decision', 'deny', '--reason', 'REVOKED');
    assert.equal(denies.code, 0);
    assert.ok(
      denies.json<{ entries: { event: { reason: string } }[] }>().entries.every((e) => e.event.reason === 'REVOKED'),
    );

    const table = await cli(aud, 'audit', 'query', '--since', '1h');
    assert.equal(table.code, 0);
    assert.match(table.stdout, /^SEQ\s+TIME\s+SOURCE\s+ACTION/);
    assert.match(table.stdout, /tenant\.create|envelope\.mint/);

    const verify = await cli(aud, 'audit', 'verify');
    assert.equal(verify.code, ExitCode.OK, `${verify.stdout}${verify.stderr}`);
    assert.match(verify.stdout, /chain OK/);
    const vj = await cli(aud, '--json', 'audit', 'verify');
    assert.equal(vj.json<{ ok: boolean }>().ok, true);

    const csv = await cli(aud, 'audit', 'export', '--format', 'csv', '--output', 'audit.csv');
    assert.equal(csv.code, 0, csv.stderr);
    const csvText = await aud.readFile('audit.csv');
    assert.match(csvText, /^seq,hash,prev_hash,recorded_at,event_id,time,source,action,agent_id/);
    const json = await cli(aud, 'audit', 'export', '--format', 'json', '--action', 'check');
    const records = JSON.parse(json.stdout) as { action: string; raw_event: string }[];
    assert.ok(records.length >= 3 && records.every((r) => r.action === 'check' && r.raw_event.length > 0));

    const tail = await cli(aud, '--json', 'audit', 'tail', '--action', 'check');
    assert.equal(tail.code, 0);
    const lines = tail.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: string });
    assert.ok(lines.length >= 3);
    assert.deepEqual(
      [...lines.map((l) => Number(l.seq))].sort((a, b) => a - b),
      lines.map((l) => Number(l.seq)),
    );
  });

  test('audit stats: access checks apart from admin events, by reason and agent', async () => {
    const aud = shell(auditorKey);
    // The first test's checks (ALLOW, then DENY REVOKED) are chained: `audit query` above waited for them.
    const r = await cli(aud, '--json', 'audit', 'stats');
    assert.equal(r.code, 0, r.stderr);
    const st = r.json<{
      events: number;
      checks: { events: number; allowed: number; denied: number; denyRate: number };
      admin: { events: number };
      denialsByReason: { reason: string; count: number }[];
      byAgent: { agent: string; events: number; denied: number }[];
      byAction: { action: string; count: number }[];
    }>();
    const checkCount = st.byAction.find((a) => a.action === 'check')?.count ?? 0;
    assert.equal(st.checks.events, checkCount);
    assert.equal(st.admin.events, st.events - checkCount);
    assert.ok(st.admin.events > 0, 'tenant.create and envelope.mint are admin events');
    assert.ok(st.checks.allowed > 0 && st.checks.denied > 0);
    assert.equal(st.checks.denyRate, st.checks.denied / st.checks.events);
    assert.ok((st.denialsByReason.find((x) => x.reason === 'REVOKED')?.count ?? 0) > 0);
    assert.equal(
      st.byAgent.reduce((n, x) => n + x.denied, 0),
      st.checks.denied,
      'every denied check is in an agent row',
    );
    const text = await cli(aud, 'audit', 'stats', '--action', 'check');
    assert.equal(text.code, 0, text.stderr);
    assert.match(text.stdout, /access checks:\s+\d+ \(\d+ allowed, \d+ denied; deny rate \d+\.\d%\)/);
    assert.match(text.stdout, /admin events:\s+0 /);
    assert.match(text.stdout, /^\s*REVOKED\s+\d+$/m);
  });

  test('audit tail -f follows new events and stops on Ctrl-C', async (t) => {
    const ac = new AbortController();
    const io = testIo(
      { AUTHORITY_AUDITOR_ADDR: stack.auditor?.address ?? '', AUTHORITY_TENANT: tenant, AUTHORITY_API_KEY: auditorKey },
      { signal: ac.signal },
    );
    const running = cli(io, 'audit', 'tail', '-f', '--interval', '200ms', '--action', 'envelope.revoke');
    // Stopped however the test ends: a follower left running keeps this file from exiting.
    t.after(() => ac.abort());
    // Something new happens after tail started: a second revocation.
    const adm = shell(admin);
    const { jti: jti2 } = await mintEnvelope(
      adm,
      '--agent',
      'bot',
      ...FINANCE_READ,
      '--ttl',
      '10m',
      '--max-records',
      '10',
    );
    assert.equal((await cli(adm, 'revoke', 'envelope', jti2)).code, 0);
    await eventually(
      async () =>
        io.out.join('').includes('envelope.revoke') &&
        io.out
          .join('')
          .split('\n')
          .filter((l) => l.includes('envelope.revoke')).length >= 2
          ? true
          : undefined,
      'tail to print the new revocation',
      { timeoutMs: 30_000, intervalMs: 100 },
    );
    ac.abort();
    const r = await running;
    assert.equal(r.code, 0);
    // Aligned columns: a header, and every event's ACTION and DECISION where the header puts them.
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    assert.match(header ?? '', /^SEQ\s+TIME\s+SOURCE\s+ACTION\s+AGENT\s+RESOURCE\s+DECISION\s+REASON$/);
    assert.ok(rows.length >= 2, r.stdout);
    for (const row of rows) {
      assert.equal(row.indexOf('envelope.revoke'), header?.indexOf('ACTION'), row);
      assert.match(row.slice(header?.indexOf('TIME')), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z /, row);
    }
  });

  test('audit tail -f follows the chain topic when given Kafka brokers (verified, filtered, aligned)', async (t) => {
    const ac = new AbortController();
    const io = testIo(
      {
        AUTHORITY_AUDITOR_ADDR: stack.auditor?.address ?? '',
        AUTHORITY_TENANT: tenant,
        AUTHORITY_API_KEY: auditorKey,
        AUTHORITY_KAFKA_BROKERS: process.env.KAFKA_BROKERS ?? '',
        AUTHORITY_TOPIC_PREFIX: stack.prefix,
      },
      { signal: ac.signal },
    );
    // An hour between polls: only the chain topic can bring the new revocation in time.
    const running = cli(io, 'audit', 'tail', '-f', '--interval', '1h', '--action', 'envelope.revoke');
    t.after(() => ac.abort());
    const revokeLines = () =>
      io.out
        .join('')
        .split('\n')
        .filter((l) => l.includes('envelope.revoke'));
    const before = await eventually(
      () => (revokeLines().length >= 2 ? revokeLines().length : undefined),
      'tail to print the revocations chained so far',
    );
    const adm = shell(admin);
    const { jti: jti3 } = await mintEnvelope(adm, '--agent', 'bot', '--ttl', '10m');
    assert.equal((await cli(adm, 'revoke', 'envelope', jti3)).code, 0);
    await eventually(
      () => (revokeLines().some((l) => l.includes(jti3)) ? true : undefined),
      'the new revocation from the chain topic',
      30_000,
      100,
    );
    ac.abort();
    const r = await running;
    assert.equal(r.code, 0, r.stderr);
    assert.equal(revokeLines().length, before + 1, 'each event once: the query part and the topic part do not overlap');
    assert.doesNotMatch(r.stdout, /envelope\.mint/, 'filters apply to followed events');
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    for (const row of rows) assert.equal(row.indexOf('envelope.revoke'), header?.indexOf('ACTION'), row);
  });

  test('compliance attest and report', async () => {
    const aud = shell(auditorKey);
    const att = await cli(
      aud,
      '--json',
      'compliance',
      'attest',
      '--agent',
      'nobody',
      '--resource',
      'slos://vaults/health/*',
      '--since',
      '1h',
    );
    assert.equal(att.code, 0, att.stderr);
    const a = att.json<{ attestation: { neverAccessed: boolean; allowedCount: string; signature: string } }>()
      .attestation;
    assert.equal(a.neverAccessed, true);
    assert.ok(a.signature.length > 0);

    // Saved, it verifies offline against the auditor's public keys; altered, it does not.
    await writeIn(aud, 'attestation.json', att.stdout);
    const keys = await cli(aud, '--json', 'audit', 'keys');
    assert.equal(keys.code, 0, keys.stderr);
    await writeIn(aud, 'auditor-keys.json', keys.stdout);
    const offline = shell('', { AUTHORITY_AUDITOR_ADDR: '127.0.0.1:1' });
    const copy = async (name: string, text: string) => writeIn(offline, name, text);
    await copy('auditor-keys.json', keys.stdout);
    await copy('attestation.json', att.stdout);
    const ok = await cli(offline, 'compliance', 'verify', 'attestation.json', '--keys', 'auditor-keys.json');
    assert.equal(ok.code, ExitCode.OK, `${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, /attestation: signature valid\ncheckpoint: signature valid\nattestation\.json: VALID/);
    const doc = att.json<{ attestation: Record<string, unknown> }>();
    await copy(
      'altered.json',
      JSON.stringify({
        attestation: { ...doc.attestation, deniedCount: '0', allowedCount: '0', resourcePattern: 'slos://*' },
      }),
    );
    const altered = await cli(offline, '--json', 'compliance', 'verify', 'altered.json', '--keys', 'auditor-keys.json');
    assert.equal(altered.code, ExitCode.VERIFICATION_FAILED, altered.stdout);
    assert.match(altered.json<{ attestation: { message: string } }>().attestation.message, /does not verify/);
    const stranger = await cli(
      offline,
      'compliance',
      'verify',
      'attestation.json',
      '--public-key',
      randomBytes(32).toString('base64'),
    );
    assert.equal(stranger.code, ExitCode.VERIFICATION_FAILED);
    assert.match(stranger.stdout, /unknown key/);
    const rep = await cli(aud, 'compliance', 'report', '--since', '1h', '--output', 'report.html');
    assert.equal(rep.code, 0, rep.stderr);
    assert.match(await aud.readFile('report.html'), /<html/i);
    const again = await cli(aud, 'compliance', 'report', '--since', '1h', '--output', 'report.html');
    assert.equal(again.code, ExitCode.FAILURE);
    assert.match(again.stderr, /--force/);
  });

  test('error paths: bad credential → 6, unreachable → 5, wrong tenant → 6', async () => {
    const bad = await cli(shell('not-a-real-credential'), 'key', 'list');
    assert.equal(bad.code, ExitCode.AUTH, bad.stderr);
    assert.match(bad.stderr, /UNAUTHENTICATED/);
    const badJson = await cli(
      shell('not-a-real-credential'),
      '--json',
      'envelope',
      'check',
      token,
      '--scope',
      'vault:finance:read',
    );
    assert.equal(badJson.code, ExitCode.AUTH);
    assert.equal(badJson.errJson<{ error: { code: string } }>().error.code, 'UNAUTHENTICATED');

    const down = await cli(
      shell(admin, { AUTHORITY_ISSUER_ADDR: '127.0.0.1:1', AUTHORITY_TIMEOUT: '2s' }),
      'key',
      'list',
    );
    assert.equal(down.code, ExitCode.UNAVAILABLE, down.stderr);

    const other = await cli(shell(admin, { AUTHORITY_TENANT: 'some-other-tenant' }), 'key', 'list');
    assert.equal(other.code, ExitCode.AUTH, other.stderr);
  });

  test('doctor: every service SERVING, credential accepted, chain intact', async () => {
    const r = await cli(shell(admin), '--json', 'doctor');
    const body = r.json<{ ok: boolean; checks: { name: string; level: string; detail: string }[] }>();
    assert.equal(r.code, 0, JSON.stringify(body.checks, null, 2));
    const byName = (p: string) => body.checks.filter((c) => c.name.startsWith(p));
    for (const svc of ['issuer', 'enforcer', 'policy', 'auditor']) assert.equal(byName(svc)[0]?.level, 'ok', svc);
    assert.equal(byName('credential')[0]?.level, 'ok');
    assert.match(byName('audit chain')[0]?.detail ?? '', /intact/);
    assert.notEqual(byName('clock skew')[0]?.level, 'fail');

    const down = await cli(shell(admin, { AUTHORITY_POLICY_ADDR: '127.0.0.1:1', AUTHORITY_TIMEOUT: '2s' }), 'doctor');
    assert.equal(down.code, ExitCode.UNAVAILABLE);
    assert.match(down.stdout, /\[FAIL\] policy 127\.0\.0\.1:1: unreachable/);
  });
});
