// Offline commands for operators and auditors: `explain --policy-file` and `compliance verify`
// (a saved attestation against the auditor's public keys), without any service running.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, generateEd25519KeyPair, sha256Hex, signAttestation, signCheckpoint } from '@authority/core';
import { ExitCode, agentPath, auditStats } from '../../src';
import { cli, testIo, writeIn } from '../helpers';

before(async () => {
  await cryptoReady();
});

/** No service answers here: a command that dialled one would fail with exit 5. */
const offlineIo = () => testIo({ AUTHORITY_AUDITOR_ADDR: '127.0.0.1:1', AUTHORITY_POLICY_ADDR: '127.0.0.1:1' });

const POLICY = `organization: Acme University
version: 2.0
agents:
  academic-advisor:
    scopes: [vault:student-records:read]
    resources: ["slos://vaults/student-records/*"]
    constraints:
      require_purpose: true
      max_records_per_request: 50
`;

describe('explain --policy-file', () => {
  test('lists every rule with its verdict and marks the deciding one; exit 3 on DENY', async () => {
    const io = offlineIo();
    const file = await writeIn(io, 'policy.yaml', POLICY);
    const base = ['explain', '--policy-file', file, '--agent', 'academic-advisor', '--scope'];
    const ok = await cli(
      io,
      ...base,
      'vault:student-records:read',
      '-r',
      'slos://vaults/student-records/s-1',
      '--purpose',
      'advising',
      '--records',
      '2',
    );
    assert.equal(ok.code, ExitCode.OK, ok.stderr);
    assert.match(ok.stdout, /ALLOW ALLOWED/);
    assert.doesNotMatch(ok.stdout, /=>/);

    const denied = await cli(
      io,
      '--json',
      ...base,
      'vault:student-records:read',
      '-r',
      'slos://vaults/finance/x',
      '--purpose',
      'p',
      '--records',
      '1',
    );
    assert.equal(denied.code, ExitCode.DENIED, denied.stderr);
    const d = denied.json<{ reason: string; rules: { rule: string; verdict: string; deciding: boolean }[] }>();
    assert.equal(d.reason, 'POLICY_DENIED');
    assert.deepEqual(
      d.rules.map((r) => `${r.deciding ? '=>' : ''}${r.rule}:${r.verdict}`),
      [
        'constraints.require_purpose:pass',
        'constraints.max_records_per_request:pass',
        'agents:pass',
        'deny:pass',
        'scopes:pass',
        '=>resources:fail',
      ],
    );

    // A sub-agent is presented by its root: the root's entry bounds it.
    assert.deepEqual(agentPath('academic-advisor/summarizer'), ['academic-advisor', 'academic-advisor/summarizer']);
    const sub = await cli(
      io,
      ...base,
      'vault:student-records:read',
      '--agent',
      'academic-advisor/summarizer',
      '--purpose',
      'p',
      '--records',
      '1',
    );
    assert.equal(sub.code, ExitCode.OK, sub.stderr);
    assert.match(sub.stdout, /academic-advisor\/summarizer\s+skipped/);
  });

  test('an invalid policy file is refused with exit 4, naming the position', async () => {
    const io = offlineIo();
    const file = await writeIn(io, 'bad.yaml', 'organization: x\nagents:\n  bot:\n    scopes: [nocolon]\n');
    const r = await cli(io, 'explain', '--policy-file', file, '--agent', 'bot', '--scope', 'a:b:read');
    assert.equal(r.code, ExitCode.VERIFICATION_FAILED);
    assert.match(r.stderr, /bad\.yaml:4:\d+: agents\.bot\.scopes\[0\]/);
  });
});

describe('compliance verify (offline)', () => {
  /** An attestation as `compliance attest --json` saves it, signed by a fresh auditor key. */
  function saved() {
    const pair = generateEd25519KeyPair();
    const keyId = sha256Hex(pair.publicKey).slice(0, 16);
    const cp = signCheckpoint(
      { tenant: 'acme', seq: 12, headHash: 'ab'.repeat(32), time: 1_767_000_000 },
      pair.secretKey,
      keyId,
    );
    const att = signAttestation(
      {
        tenant: 'acme',
        agent: 'academic-advisor',
        resourcePattern: 'slos://vaults/health/*',
        from: 1_766_000_000,
        to: 1_767_000_000,
        allowedCount: 0,
        allowedActedCount: 0,
        allowedDelegatedCount: 0,
        deniedCount: 2,
        checkpoint: { seq: cp.seq, headHash: cp.headHash },
        issuedAt: 1_767_000_100,
      },
      pair.secretKey,
      keyId,
    );
    const iso = (s: number) => new Date(s * 1000).toISOString();
    const b64 = (u: string) => Buffer.from(u, 'base64url').toString('base64');
    const doc = {
      attestation: {
        tenant: att.tenant,
        agentId: att.agent,
        resourcePattern: att.resourcePattern,
        startTime: iso(att.from),
        endTime: iso(att.to),
        allowedCount: '0',
        deniedCount: '2',
        checkpoint: {
          tenant: cp.tenant,
          seq: String(cp.seq),
          headHash: cp.headHash,
          time: iso(cp.time),
          keyId,
          signature: b64(cp.signature),
        },
        issuedAt: iso(att.issuedAt),
        keyId,
        signature: b64(att.signature),
        neverAccessed: true,
        allowedActedCount: '0',
        allowedDelegatedCount: '0',
      },
    };
    const keys = { keys: [{ keyId, publicKey: Buffer.from(pair.publicKey).toString('base64'), active: true }] };
    return { doc, keys };
  }

  test('a saved attestation verifies; any changed claim, another key or a mislabelled key does not', async () => {
    const io = offlineIo();
    const { doc, keys } = saved();
    await writeIn(io, 'att.json', JSON.stringify(doc));
    await writeIn(io, 'keys.json', JSON.stringify(keys));
    const ok = await cli(io, 'compliance', 'verify', 'att.json', '--keys', 'keys.json');
    assert.equal(ok.code, ExitCode.OK, `${ok.stdout}${ok.stderr}`);
    assert.match(ok.stdout, /att\.json: VALID/);

    for (const [field, value] of [
      ['deniedCount', '0'],
      ['agentId', 'someone-else'],
      ['endTime', '2026-01-01T00:00:00.000Z'],
    ] as const) {
      await writeIn(io, 'changed.json', JSON.stringify({ attestation: { ...doc.attestation, [field]: value } }));
      const r = await cli(io, '--json', 'compliance', 'verify', 'changed.json', '--keys', 'keys.json');
      assert.equal(r.code, ExitCode.VERIFICATION_FAILED, `${field}: ${r.stdout}`);
      assert.equal(r.json<{ attestation: { ok: boolean } }>().attestation.ok, false, field);
    }
    // The checkpoint it is bound to is checked too.
    await writeIn(
      io,
      'cp.json',
      JSON.stringify({
        attestation: {
          ...doc.attestation,
          checkpoint: { ...doc.attestation.checkpoint, time: '2020-01-01T00:00:00Z' },
        },
      }),
    );
    const cp = await cli(io, 'compliance', 'verify', 'cp.json', '--keys', 'keys.json');
    assert.equal(cp.code, ExitCode.VERIFICATION_FAILED);
    assert.match(cp.stdout, /checkpoint: INVALID/);

    const other = saved().keys;
    await writeIn(io, 'other.json', JSON.stringify(other));
    const unknown = await cli(io, 'compliance', 'verify', 'att.json', '--keys', 'other.json');
    assert.equal(unknown.code, ExitCode.VERIFICATION_FAILED);
    assert.match(unknown.stdout, /unknown key/);

    // A key file that files another key under the signer's id is refused, not trusted.
    const forged = { keys: [{ keyId: keys.keys[0]?.keyId, publicKey: other.keys[0]?.publicKey }] };
    await writeIn(io, 'forged.json', JSON.stringify(forged));
    const f = await cli(io, 'compliance', 'verify', 'att.json', '--keys', 'forged.json');
    assert.equal(f.code, ExitCode.VERIFICATION_FAILED);
    assert.match(f.stderr, /is not the id of its public key/);
  });

  test('no keys or a file that is not an attestation is a usage error', async () => {
    const io = offlineIo();
    await writeIn(io, 'att.json', '{"attestation": {"tenant": "acme"}}');
    assert.equal((await cli(io, 'compliance', 'verify', 'att.json')).code, ExitCode.USAGE);
    const { keys } = saved();
    await writeIn(io, 'keys.json', JSON.stringify(keys));
    const r = await cli(io, 'compliance', 'verify', 'att.json', '--keys', 'keys.json');
    assert.equal(r.code, ExitCode.USAGE);
    assert.match(r.stderr, /attestation\.checkpoint: missing/);
  });
});

describe('audit stats', () => {
  test('access checks and admin events are counted apart; every denial is in an agent row', () => {
    const entry = (action: string, decision: string, agentId = '', reason = 'REASON_CODE_UNSPECIFIED') =>
      ({
        seq: '1',
        event: { action, decision, reason, actor: { agentId }, time: { seconds: '1767000000', nanos: 0 } },
      }) as never;
    const st = auditStats([
      entry('check', 'ALLOW', 'a'),
      entry('check', 'DENY', 'a', 'REVOKED'),
      entry('check', 'DENY', 'b', 'SCOPE_MISSING'),
      entry('check', 'DENY', 'b', 'REVOKED'),
      entry('envelope.mint', 'DENY', '', 'POLICY_DENIED'),
      entry('tenant.create', 'DECISION_UNSPECIFIED'),
    ]);
    assert.deepEqual(
      [st.events, st.checks.events, st.checks.denied, st.admin.events, st.admin.denied],
      [6, 4, 3, 2, 1],
    );
    assert.equal(st.checks.denyRate, 0.75);
    assert.deepEqual(st.denialsByReason, [
      { reason: 'REVOKED', count: 2 },
      { reason: 'SCOPE_MISSING', count: 1 },
    ]);
    assert.deepEqual(
      st.byAgent.map((a) => [a.agent, a.events, a.denied]),
      [
        ['a', 2, 1],
        ['b', 2, 2],
      ],
    );
  });
});
