// CLI without infrastructure: durations, offline policy validation, token inspection, --json
// shapes, usage errors and exit codes, configuration precedence, envelope check against a fake
// enforcer, unreachable services.
// Size: one test per command behaviour, sharing this file's test IO and fake enforcer.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import {
  cryptoReady,
  declareUnconstrained,
  generateEd25519KeyPair,
  hashLink,
  holderKeyConfirmation,
  mintRoot,
  randomId,
  signLink,
} from '@authority/core';
import { loadAuthorityProto, type CheckRequest__Output } from '@authority/proto';
import { HolderKey, attenuate, seal } from '@authority/sdk';
import {
  csvField,
  formatDuration,
  parseDuration,
  parseDurationSeconds,
  parseTimePoint,
  resolveConfig,
  unifiedDiff,
  ExitCode,
} from '../../src';
import { cli, testIo, writeIn } from '../helpers';

const VALID_POLICY = `organization: Acme University
version: 1.0
compliance_frameworks: [FERPA]
agents:
  academic-advisor:
    scopes: [vault:student-records:read]
    resources: ["slos://vaults/student-records/*"]
    constraints:
      require_purpose: true
      max_records_per_request: 50
`;

const INVALID_POLICY = `organization: Acme
agents:
  bot:
    scopes: [vault:a:read, nocolon]
    constraints:
      max_recordz: 5
`;

describe('durations', { timeout: 30_000 }, () => {
  test('accepted forms', () => {
    assert.equal(parseDuration('90s'), 90_000);
    assert.equal(parseDuration('5m'), 300_000);
    assert.equal(parseDuration('24h'), 86_400_000);
    assert.equal(parseDuration('7d'), 604_800_000);
    assert.equal(parseDuration('2w'), 1_209_600_000);
    assert.equal(parseDuration('1h30m'), 5_400_000);
    assert.equal(parseDuration('500ms'), 500);
    assert.equal(parseDuration('300'), 300_000);
    assert.equal(parseDuration('  1H  '), 3_600_000);
    assert.equal(parseDurationSeconds('7d'), 604_800);
    assert.equal(formatDuration(5400), '1h30m');
    assert.equal(formatDuration(0), '0s');
  });
  test('refused forms name the accepted ones', () => {
    for (const bad of ['', 'abc', '5x', '-5m', '1.5h', 'h', '5m-', '1y', '99999999999999d']) {
      assert.throws(() => parseDuration(bad), RangeError, bad);
    }
    assert.throws(() => parseDuration('5x'), /use e\.g\. 90s, 5m, 24h, 7d/);
    assert.throws(() => parseDurationSeconds('1500ms'), /whole seconds/);
  });
  test('time points: duration ago, now, ISO 8601', () => {
    const now = Date.parse('2030-01-10T00:00:00Z');
    assert.equal(parseTimePoint('24h', now), Date.parse('2030-01-09T00:00:00Z'));
    assert.equal(parseTimePoint('now', now), now);
    assert.equal(parseTimePoint('2030-01-01', now), Date.parse('2030-01-01T00:00:00Z'));
    assert.equal(parseTimePoint('2030-01-01T12:00:00Z', now), Date.parse('2030-01-01T12:00:00Z'));
    assert.throws(() => parseTimePoint('yesterday', now), /invalid time/);
  });
});

describe('policy validate (offline)', { timeout: 30_000 }, () => {
  test('a valid policy: exit 0, summary', async () => {
    const io = testIo();
    const file = await writeIn(io, 'ok.yaml', VALID_POLICY);
    const r = await cli(io, 'policy', 'validate', file);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /valid/);
    assert.match(r.stdout, /academic-advisor/);
    const j = await cli(io, '--json', 'policy', 'validate', file);
    assert.equal(j.code, 0);
    assert.deepEqual(j.json(), {
      file,
      valid: true,
      issues: [],
      summary: {
        organization: 'Acme University',
        version: '1.0',
        agents: ['academic-advisor'],
        roles: [],
        frameworks: ['FERPA'],
      },
    });
  });

  test('an invalid policy: exit 4, every issue as file:line:col', async () => {
    const io = testIo();
    const file = await writeIn(io, 'bad.yaml', INVALID_POLICY);
    const r = await cli(io, 'policy', 'validate', file);
    assert.equal(r.code, ExitCode.VERIFICATION_FAILED);
    assert.match(
      r.stderr,
      new RegExp(
        `${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}:4:28: agents\\.bot\\.scopes\\[1\\]: invalid scope "nocolon"`,
      ),
    );
    assert.match(r.stderr, /:6:7: agents\.bot\.constraints\.max_recordz: unknown constraint 'max_recordz'/);
    const j = await cli(io, '--json', 'policy', 'validate', file);
    assert.equal(j.code, 4);
    const body = j.json<{
      valid: boolean;
      issues: { line: number; column: number; path: string; message: string }[];
    }>();
    assert.equal(body.valid, false);
    assert.deepEqual(
      body.issues.map((i) => [i.line, i.column, i.path]),
      [
        [4, 28, 'agents.bot.scopes[1]'],
        [6, 7, 'agents.bot.constraints.max_recordz'],
      ],
    );
    assert.equal(j.stderr, '', 'no human text on stderr in --json mode');
  });

  test('hostile and broken YAML get a positioned error, not a crash', async () => {
    const io = testIo();
    const bomb = await writeIn(
      io,
      'bomb.yaml',
      `a: &a [x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b]\nd: [*c, *c, *c, *c, *c, *c, *c, *c, *c]\norganization: x\n`,
    );
    const r = await cli(io, 'policy', 'validate', bomb);
    assert.equal(r.code, 4);
    assert.match(r.stderr, /bomb\.yaml:\d+:\d+: /);
    const broken = await writeIn(io, 'broken.yaml', 'organization: [unclosed\n');
    const b = await cli(io, 'policy', 'validate', broken);
    assert.equal(b.code, 4);
    assert.match(b.stderr, /broken\.yaml:\d+:\d+: /);
  });

  test('stdin, a wrong tenant, a missing file', async () => {
    const io = testIo();
    io.stdinText = `tenant: other\n${VALID_POLICY}`;
    const r = await cli(io, 'policy', 'validate', '-', '--expect-tenant', 'acme');
    assert.equal(r.code, 4);
    assert.match(r.stderr, /<stdin>:1:\d+: tenant/);
    const missing = await cli(io, 'policy', 'validate', 'nope.yaml');
    assert.equal(missing.code, ExitCode.USAGE);
    assert.match(missing.stderr, /no such file/);
  });
});

describe('envelope inspect', { timeout: 30_000 }, () => {
  let token = '';
  let child = '';
  let childChain = '';
  const NOW = 1_900_000_000;
  before(async () => {
    await cryptoReady();
    const tenantKey = generateEd25519KeyPair();
    const holder = await HolderKey.generate();
    const subAgent = await HolderKey.generate();
    token = seal(
      mintRoot(
        {
          tenant: 'acme',
          agent: 'planner',
          scopes: ['vault:*:read', 'vault:finance:write'],
          resources: ['slos://vaults/*'],
          context: ['purpose', 'ticket'],
          constraints: declareUnconstrained(),
          ttlSeconds: 7200,
          holderKey: holder.publicKey,
        },
        { secretKey: tenantKey.secretKey, kid: 'key-1', now: NOW },
      ).token,
      holder,
    );
    childChain = (
      await attenuate(
        token,
        holder,
        {
          agent: 'planner/reader',
          scopes: ['vault:finance:read'],
          resources: ['slos://vaults/finance/*'],
          context: ['purpose'],
          constraints: { require_purpose: true },
          ttlSeconds: 600,
          childPublicKey: subAgent.publicKey,
        },
        { now: NOW },
      )
    ).chain;
    child = seal(childChain, subAgent);
  });

  test('explains a chain without trusting it', async () => {
    const io = testIo({}, { now: () => (NOW + 60) * 1000 });
    const r = await cli(io, 'envelope', 'inspect', child);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /UNVERIFIED/);
    assert.match(r.stdout, /link 0 \(root\): signed by tenant key "key-1"/);
    assert.match(r.stdout, /link 1: signed by the holder of link 0's 'cnf' key \(offline attenuation\)/);
    assert.match(r.stdout, /agent: planner → planner\/reader \(a sub-agent of planner\)/);
    assert.match(r.stdout, /lineage: planner > planner\/reader/);
    assert.match(r.stdout, /seal: present, for this chain's last link \(signature not verified/);
    assert.match(r.stdout, /holder key: the child's own/);
    assert.match(r.stdout, /scopes: drops vault:\*:read, vault:finance:write/);
    assert.match(r.stdout, /scopes: narrows to vault:finance:read/);
    assert.match(r.stdout, /context fields: drops ticket/);
    assert.match(r.stdout, /constraints: \{"unconstrained":true\} → \{"require_purpose":true\}/);
    assert.match(r.stdout, /expiry: 1h50m earlier than the parent/);
    assert.match(r.stdout, /expires: .*\(in 9m\)/);
    assert.match(r.stdout, /status: +valid for 9m more/);
  });

  test('--json shape', async () => {
    const io = testIo({ AUTHORITY_TOKEN: child }, { now: () => (NOW + 60) * 1000 });
    const r = await cli(io, '--json', 'envelope', 'inspect');
    assert.equal(r.code, 0);
    const j = r.json<{
      verified: boolean;
      wellFormed: boolean;
      tenant: string;
      agent: string;
      agentChain: string[];
      seal: { present: boolean; verified: boolean; forLastLink: boolean };
      links: {
        index: number;
        signer: string;
        claims: { sub: string; scp: string[] };
        header: { kid: string };
        times: { status: string; relative: { exp: string } };
        narrows: string[];
        problems: string[];
      }[];
      problems: string[];
    }>();
    assert.equal(j.verified, false);
    assert.equal(j.wellFormed, true);
    assert.equal(j.tenant, 'acme');
    assert.equal(j.agent, 'planner/reader');
    assert.deepEqual(j.agentChain, ['planner', 'planner/reader']);
    assert.deepEqual(j.seal.present && [j.seal.verified, j.seal.forLastLink], [false, true]);
    assert.equal(j.links.length, 2, 'the seal is not a link');
    assert.equal(j.links[0]?.header.kid, 'key-1');
    assert.equal(j.links[1]?.header.kid, 'cnf');
    assert.deepEqual(j.links[1]?.claims.scp, ['vault:finance:read']);
    assert.equal(j.links[1]?.times.relative.exp, 'in 9m');
    assert.ok(j.links[1]?.narrows.includes('scopes: narrows to vault:finance:read'));
    assert.deepEqual(j.problems, []);
  });

  test('expired tokens, tampered links and garbage are reported', async () => {
    const late = testIo({}, { now: () => (NOW + 3 * 3600) * 1000 });
    const r = await cli(late, 'envelope', 'inspect', token);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /status: +EXPIRED 1h ago/);

    // A child grafted onto another parent: the binding no longer holds.
    const [, childLink] = childChain.split('~');
    const other = mintRoot(
      {
        tenant: 'acme',
        agent: 'planner',
        scopes: ['vault:*:read'],
        resources: [],
        context: [],
        constraints: declareUnconstrained(),
        ttlSeconds: 3600,
      },
      { secretKey: generateEd25519KeyPair().secretKey, kid: 'key-2', now: NOW },
    ).chain;
    const grafted = await cli(
      testIo({}, { now: () => NOW * 1000 }),
      '--json',
      'envelope',
      'inspect',
      `${other}~${childLink}`,
    );
    assert.equal(grafted.code, 0);
    const g = grafted.json<{ links: { problems: string[] }[]; problems: string[] }>();
    assert.ok(
      g.links[1]?.problems.some((p) => p.includes("'phs' is not the hash")),
      JSON.stringify(g),
    );
    assert.ok(
      g.problems.some((p) => p.startsWith('CHAIN_VIOLATION')),
      JSON.stringify(g.problems),
    );

    const garbage = await cli(testIo(), 'envelope', 'inspect', 'not-a-token');
    assert.equal(garbage.code, ExitCode.VERIFICATION_FAILED);
    assert.match(garbage.stdout, /MALFORMED/);
    assert.match(garbage.stdout, /PROBLEM: INVALID_TOKEN/);
  });

  test('an unsealed chain, a seal of another chain, a sub-agent outside the lineage', async () => {
    const io = testIo({}, { now: () => NOW * 1000 });
    const unsealed = await cli(io, '--json', 'envelope', 'inspect', childChain);
    assert.equal(unsealed.code, 0);
    const u = unsealed.json<{ seal: { present: boolean }; problems: string[] }>();
    assert.equal(u.seal.present, false);
    assert.deepEqual(u.problems, []);
    assert.match((await cli(io, 'envelope', 'inspect', childChain)).stdout, /seal: absent/);

    // Truncation: the root link alone with the child's seal.
    const [rootLink, , childSeal] = child.split('~');
    const truncated = await cli(io, '--json', 'envelope', 'inspect', `${rootLink}~${childSeal}`);
    const t = truncated.json<{
      seal: { present: boolean; forLastLink: boolean };
      problems: string[];
      links: unknown[];
    }>();
    assert.equal(t.links.length, 1);
    assert.deepEqual([t.seal.present, t.seal.forLastLink], [true, false]);
    assert.ok(
      t.problems.some((p) => p.startsWith('INVALID_PROOF')),
      JSON.stringify(t.problems),
    );

    // A child naming an agent outside its parent's lineage (signed by hand: core refuses to derive it).
    const pair = generateEd25519KeyPair();
    const root = mintRoot(
      {
        tenant: 'acme',
        agent: 'planner',
        scopes: ['vault:finance:read'],
        resources: [],
        context: [],
        constraints: declareUnconstrained(),
        ttlSeconds: 3600,
        holderKey: pair,
      },
      { secretKey: generateEd25519KeyPair().secretKey, kid: 'key-1', now: NOW },
    );
    const intruder = signLink(
      {
        ...root.claims,
        sub: 'intruder',
        jti: randomId(16),
        dep: 1,
        prn: root.claims.jti,
        phs: hashLink(root.link),
        cnf: holderKeyConfirmation(generateEd25519KeyPair().publicKey),
      },
      pair.secretKey,
      'cnf',
    );
    const outside = await cli(io, 'envelope', 'inspect', `${root.chain}~${intruder}`);
    assert.match(outside.stdout, /agent: planner → intruder \(OUTSIDE planner's lineage/);
    assert.match(outside.stdout, /PROBLEM: CHAIN_VIOLATION: .*outside its parent's lineage/);
  });

  test('reads the token from stdin and from a file', async () => {
    const io = testIo({}, { now: () => NOW * 1000 });
    io.stdinText = `${token}\n`;
    assert.equal((await cli(io, 'envelope', 'inspect', '-')).code, 0);
    const f = await writeIn(io, 'token.txt', child);
    const r = await cli(io, '--json', 'envelope', 'inspect', '--token-file', f);
    assert.equal(r.json<{ agent: string }>().agent, 'planner/reader');
    const none = await cli(testIo(), 'envelope', 'inspect');
    assert.equal(none.code, ExitCode.USAGE);
  });
});

describe('usage errors and --json error output', { timeout: 30_000 }, () => {
  test('exit 2 for unknown commands, options, missing and malformed arguments', async () => {
    const io = testIo();
    for (const argv of [
      ['bogus'],
      ['envelope', 'mint'],
      ['envelope', 'check', 'tok'],
      ['envelope', 'mint', '--agent', 'a', '--scope', 'a:b', '--ttl', '5x'],
      ['envelope', 'check', '--scope', 'a:b', '--records', 'many', 'tok'],
      ['audit', 'query', '--since', 'last tuesday'],
      ['audit', 'query', '--decision', 'maybe'],
      ['policy', 'validate'],
      ['envelope'],
      ['--no-such-flag', 'doctor'],
      [],
    ]) {
      const r = await cli(io, ...argv);
      assert.equal(r.code, ExitCode.USAGE, `${argv.join(' ')} → ${r.code}\n${r.stderr}`);
    }
  });

  test('--help and --version exit 0 and document exit codes', async () => {
    const io = testIo();
    const h = await cli(io, '--help');
    assert.equal(h.code, 0);
    assert.match(h.stdout, /Exit codes:/);
    assert.match(h.stdout, /AUTHORITY_ENFORCER_ADDR/);
    const sub = await cli(io, 'envelope', 'check', '--help');
    assert.equal(sub.code, 0);
    assert.match(sub.stdout, /--scope <scope>/);
    assert.equal((await cli(io, '--version')).code, 0);
  });

  test('with --json, errors are one JSON object on stderr', async () => {
    const io = testIo();
    const r = await cli(io, '--json', 'envelope', 'mint', '--scope', 'a:b');
    assert.equal(r.code, 2);
    assert.equal(r.stdout, '');
    const e = r.errJson<{ error: { error: string; message: string }; exitCode: number }>();
    assert.equal(e.exitCode, 2);
    assert.equal(e.error.error, 'UsageError');
    assert.match(e.error.message, /--agent/);
  });

  test('an unreachable service is exit 5 (JSON names the code)', async () => {
    const io = testIo({
      AUTHORITY_API_KEY: 'k',
      AUTHORITY_TENANT: 'acme',
      AUTHORITY_ISSUER_ADDR: '127.0.0.1:1',
      AUTHORITY_TIMEOUT: '2s',
    });
    const r = await cli(io, 'key', 'list');
    assert.equal(r.code, ExitCode.UNAVAILABLE, r.stderr);
    assert.match(r.stderr, /UNAVAILABLE/);
    const j = await cli(io, '--json', 'key', 'list');
    assert.equal(j.code, 5);
    assert.equal(j.errJson<{ error: { code: string } }>().error.code, 'UNAVAILABLE');
  });

  test('a missing tenant is a usage error', async () => {
    const r = await cli(testIo({ AUTHORITY_API_KEY: 'k' }), 'key', 'list');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no tenant/);
  });
});

describe('configuration', { timeout: 30_000 }, () => {
  test('flags > environment > profile > defaults', async () => {
    const io = testIo({
      AUTHORITY_ISSUER_ADDR: 'env-issuer:1',
      AUTHORITY_ENFORCER_ADDR: 'e1:1, e2:2',
      XDG_CONFIG_HOME: '',
    });
    await writeIn(io, 'key.txt', 'secret-from-file\n');
    const { mkdirSync, writeFileSync } = await import('node:fs');
    mkdirSync(`${io.dir}/.config/authority`, { recursive: true });
    writeFileSync(
      `${io.dir}/.config/authority/config.yaml`,
      'default_profile: dev\nprofiles:\n  dev:\n    issuer: prof-issuer:1\n    policy: prof-policy:1\n    tenant: dev-tenant\n    api_key_file: ../../key.txt\n    timeout: 9s\n  prod:\n    auditor: prod-auditor:1\n    tls: true\n',
    );
    const c = await resolveConfig({ policy: 'flag-policy:1' }, io);
    assert.equal(c.policy, 'flag-policy:1');
    assert.equal(c.issuer, 'env-issuer:1');
    assert.deepEqual(c.enforcer, ['e1:1', 'e2:2']);
    assert.equal(c.auditor, '127.0.0.1:50054');
    assert.equal(c.tenant, 'dev-tenant');
    assert.equal(c.apiKey, 'secret-from-file');
    assert.equal(c.timeoutMs, 9000);
    assert.equal(c.profile, 'dev');
    const prod = await resolveConfig({ profile: 'prod' }, io);
    assert.equal(prod.auditor, 'prod-auditor:1');
    assert.equal(prod.tls, true);
    assert.equal(prod.apiKey, undefined);
    await assert.rejects(resolveConfig({ profile: 'nope' }, io), /no profile "nope"/);
    await assert.rejects(resolveConfig({ config: 'missing.yaml' }, io), /does not exist/);
    // A usage error through the CLI too.
    assert.equal((await cli(io, '--profile', 'nope', 'key', 'list')).code, 2);
  });

  test('unknown keys in the profile are refused', async () => {
    const io = testIo();
    const f = await writeIn(io, 'c.yaml', 'issuer: a:1\nisuer: typo:1\n');
    await assert.rejects(resolveConfig({ config: f }, io), /unknown key "isuer"/);
  });
});

describe('envelope check against a fake enforcer', { timeout: 30_000 }, () => {
  let server: grpc.Server;
  let address = '';
  const seen: { req: CheckRequest__Output; auth: unknown }[] = [];
  before(async () => {
    server = new grpc.Server();
    const v1 = loadAuthorityProto().grpcObject.authority.v1;
    server.addService(v1.EnforcerService.service, {
      Check: (call: grpc.ServerUnaryCall<CheckRequest__Output, unknown>, cb: grpc.sendUnaryData<unknown>) => {
        seen.push({ req: call.request, auth: call.metadata.get('authorization')[0] });
        if (call.metadata.get('authorization')[0] !== 'Bearer good') {
          const md = new grpc.Metadata();
          md.set('authority-reason', 'UNAUTHENTICATED');
          cb({ code: grpc.status.UNAUTHENTICATED, details: 'invalid credentials', metadata: md });
          return;
        }
        if (call.request.token === 'allow-me')
          cb(null, { decision: 'ALLOW', reason: 'ALLOWED', decisionId: 'd-1', agentId: 'bot', tenant: 'acme' });
        else
          cb(null, {
            decision: 'DENY',
            reason: 'REVOKED',
            message: 'link 0 is revoked',
            decisionId: 'd-2',
            field: 'link[0].jti',
          });
      },
      BatchCheck: (_c: unknown, cb: grpc.sendUnaryData<unknown>) => cb(null, { results: [] }),
    });
    const port = await new Promise<number>((res, rej) =>
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, p) => (e ? rej(e) : res(p))),
    );
    address = `127.0.0.1:${port}`;
  });
  after(() => server.forceShutdown());

  test('ALLOW exits 0, DENY exits 3, a refused credential exits 6', async () => {
    const io = testIo({ AUTHORITY_ENFORCER_ADDR: `127.0.0.1:1,${address}`, AUTHORITY_API_KEY: 'good' });
    const allow = await cli(
      io,
      'envelope',
      'check',
      '--scope',
      'vault:finance:read',
      '--resource',
      'slos://x',
      '--purpose',
      'audit',
      '--records',
      '3',
      '--field',
      'ticket=T-1',
      'allow-me',
    );
    assert.equal(allow.code, 0, allow.stderr);
    assert.match(allow.stdout, /^ALLOW/);
    const req = seen.at(-1)?.req;
    assert.equal(req?.requiredScope, 'vault:finance:read');
    assert.equal(req?.resource, 'slos://x');
    assert.equal(req?.context?.purpose, 'audit');
    assert.equal(req?.context?.recordCount, 3);
    assert.deepEqual(req?.context?.fields, { ticket: 'T-1' });

    const deny = await cli(io, '--json', 'envelope', 'check', '--scope', 'vault:finance:read', 'deny-me');
    assert.equal(deny.code, ExitCode.DENIED);
    assert.deepEqual(
      (({ decision, reason, field, decisionId }) => ({ decision, reason, field, decisionId }))(
        deny.json<Record<string, string>>(),
      ),
      { decision: 'DENY', reason: 'REVOKED', field: 'link[0].jti', decisionId: 'd-2' },
    );

    const bad = await cli(
      testIo({ AUTHORITY_ENFORCER_ADDR: address, AUTHORITY_API_KEY: 'bad' }),
      'envelope',
      'check',
      '--scope',
      'a:b',
      'allow-me',
    );
    assert.equal(bad.code, ExitCode.AUTH);
    assert.match(bad.stderr, /UNAUTHENTICATED/);
  });
});

describe('helpers', { timeout: 30_000 }, () => {
  test('CSV cells are quoted and formula-safe', () => {
    assert.equal(csvField('plain'), 'plain');
    assert.equal(csvField('a,b'), '"a,b"');
    assert.equal(csvField('say "hi"'), '"say ""hi"""');
    assert.equal(csvField('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvField('+1'), "'+1");
    assert.equal(csvField('line\nbreak'), '"line\nbreak"');
  });
  test('unified diff', () => {
    assert.equal(unifiedDiff('a\nb\n', 'a\nb\n', 'old', 'new'), '');
    const d = unifiedDiff('a\nb\nc\n', 'a\nB\nc\nd\n', 'old', 'new');
    assert.equal(d, '--- old\n+++ new\n@@ -1,3 +1,4 @@\n a\n-b\n+B\n c\n+d\n');
    const first = unifiedDiff('', 'x\n', 'none', 'v1');
    assert.match(first, /\+x/);
  });
});
