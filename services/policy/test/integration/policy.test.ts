// PolicyService against real Kafka and FerretDB: round trip in the original's format, every
// validation error with line and column, delete/tombstones, paging, tenant isolation.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { eventSigningKey, verifyEventSignature } from '@authority/core';
import { decodeEvent, pb } from '@authority/proto';
import { headerString, type KafkaEventBus } from '@authority/platform';
import { ISSUES_METADATA_KEY, type PolicyServiceHandle } from '../../src/index';
import {
  EVENT_KEY_ID,
  EVENT_SEED,
  expectError,
  ferpaPolicyYaml,
  OPERATOR_KEY,
  PolicyClient,
  publishCredential,
  readTopics,
  smallPolicy,
  startService,
  type TestEnv,
  testRig,
  closeRig,
} from './helpers';

const TENANT_A = 'school-a';
const TENANT_B = 'school-b';

let env: TestEnv;
let bus: KafkaEventBus;
let svc: PolicyServiceHandle;
let adminA: PolicyClient;
let adminB: PolicyClient;
let checkerA: PolicyClient;
let operator: PolicyClient;
let anonymous: PolicyClient;
let revokedA: PolicyClient;

before(async () => {
  ({ env, bus } = await testRig());
  const a = await publishCredential(bus, env, TENANT_A, 'ADMIN');
  const b = await publishCredential(bus, env, TENANT_B, 'ADMIN');
  const c = await publishCredential(bus, env, TENANT_A, 'CHECKER');
  const r = await publishCredential(bus, env, TENANT_A, 'ADMIN');
  await publishCredential(bus, env, TENANT_A, 'ADMIN', { id: r.id, secret: r.secret, revoked: true });
  svc = await startService(env);
  adminA = new PolicyClient(svc.port, a.secret);
  adminB = new PolicyClient(svc.port, b.secret);
  checkerA = new PolicyClient(svc.port, c.secret);
  operator = new PolicyClient(svc.port, OPERATOR_KEY);
  anonymous = new PolicyClient(svc.port, undefined);
  revokedA = new PolicyClient(svc.port, r.secret);
});

after(async () => {
  for (const c of [adminA, adminB, checkerA, operator, anonymous, revokedA]) c?.close();
  await svc?.stop();
  await closeRig({ env, bus });
});

describe('round trip in the original format', () => {
  test('put the FERPA policy, get it back byte-identical, see it on the policies and audit topics', async () => {
    const yaml = ferpaPolicyYaml();
    const put = await adminA.put(TENANT_A, yaml, 0);
    assert.ok(put.policy);
    assert.equal(put.policy.version, '1');
    assert.equal(put.policy.tenant, TENANT_A);
    assert.equal(put.policy.sha256, createHash('sha256').update(yaml, 'utf8').digest('hex'));
    assert.equal(put.policy.deleted, false);
    assert.match(put.policy.diffSummary, /first policy/);
    assert.match(put.policy.diffSummary, /academic-advisor/);

    const got = await adminA.get(TENANT_A);
    assert.equal(
      Buffer.compare(Buffer.from(got.policy!.yaml, 'utf8'), Buffer.from(yaml, 'utf8')),
      0,
      'byte-identical YAML',
    );
    assert.equal(got.policy!.version, '1');
    const byVersion = await adminA.get(TENANT_A, 1);
    assert.equal(byVersion.policy!.yaml, yaml);

    const records = await readTopics(bus, [`${env.prefix}policies`, `${env.prefix}audit`]);
    const policyRecords = records.filter(
      (m) => m.topic === `${env.prefix}policies` && m.key?.toString() === `${TENANT_A}/000000000001`,
    );
    assert.equal(policyRecords.length, 1, 'exactly one record of version 1 on the policies topic');
    const rec = policyRecords[0]!;
    assert.equal(headerString(rec.headers, 'ce_type'), 'authority.policy.v1');
    assert.equal(headerString(rec.headers, 'ce_subject'), TENANT_A);
    assert.equal(headerString(rec.headers, 'ce_specversion'), '1.0');
    const event = decodeEvent(pb.PolicyVersionEventSchema, rec.value!);
    assert.equal(event.tenant, TENANT_A);
    assert.equal(event.version, 1n);
    assert.equal(event.yaml, yaml);
    assert.equal(event.sha256, put.policy.sha256);
    assert.equal(event.deleted, false);

    const audits = records
      .filter((m) => m.topic === `${env.prefix}audit` && m.key?.toString() === TENANT_A)
      .map((m) => ({ m, e: decodeEvent(pb.AuditEventSchema, m.value!) }))
      .filter(({ e }) => e.action === 'policy.put' && e.policyVersion === '1');
    assert.equal(audits.length, 1);
    const audit = audits[0]!;
    assert.equal(headerString(audit.m.headers, 'ce_id'), audit.e.eventId);
    // Signed with the service's event key over the record as it reached Kafka (the auditor chains nothing else).
    const eventKey = eventSigningKey(EVENT_SEED, EVENT_KEY_ID);
    const signature = verifyEventSignature(audit.m, (kid) =>
      kid === EVENT_KEY_ID ? { kid, publicKey: eventKey.publicKey, sources: ['policy'] } : undefined,
    );
    assert.equal(signature.ok, true, signature.ok ? '' : signature.message);
    assert.equal(audit.e.source, 'policy');
    assert.equal(audit.e.tenant, TENANT_A);
    assert.ok(audit.e.actor?.principal, 'actor principal is the credential id');
    assert.equal(audit.e.detail.case, 'policyChange');
    if (audit.e.detail.case === 'policyChange') {
      assert.equal(audit.e.detail.value.version, 1n);
      assert.equal(audit.e.detail.value.sha256, put.policy.sha256);
      assert.match(audit.e.detail.value.diffSummary, /first policy/);
    }
  });

  test('a tightening put records the diff summary; versions are listed newest first with paging', async () => {
    const current = await adminA.get(TENANT_A);
    const v = Number(current.policy!.version);
    const original = ferpaPolicyYaml();
    const tightened = original.replace(/^[ \t]*- ["']?vault:student-records:write["']?[ \t]*\r?\n/m, '');
    assert.notEqual(tightened, original, 'the fixture grants vault:student-records:write to the registrar');
    const put = await adminA.put(TENANT_A, tightened, v);
    assert.equal(put.policy!.version, String(v + 1));
    assert.match(put.policy!.diffSummary, /registrar-agent: scopes removed: vault:student-records:write/);

    for (let i = 0; i < 3; i++) await adminA.put(TENANT_A, smallPolicy(`page-${i}`), v + 1 + i);
    const all: string[] = [];
    let token = '';
    let pages = 0;
    do {
      const page = await adminA.list(TENANT_A, 2, token);
      assert.ok(page.versions.length <= 2);
      for (const pv of page.versions) {
        assert.equal(pv.yaml, '', 'listing omits the YAML text');
        all.push(pv.version);
      }
      token = page.nextPageToken;
      pages++;
    } while (token !== '' && pages < 10);
    const expected = Array.from({ length: v + 4 }, (_, i) => String(v + 4 - i));
    assert.deepEqual(all, expected);
    const bad = await expectError(adminA.list(TENANT_A, 2, 'not-a-token'));
    assert.equal(bad.codeName, 'INVALID_ARGUMENT');
    assert.equal(bad.field, 'page_token');
  });

  test('ValidatePolicy: valid summary for the FERPA policy, issues otherwise; nothing stored', async () => {
    const ok = await adminA.validate(TENANT_A, ferpaPolicyYaml());
    assert.equal(ok.valid, true);
    assert.deepEqual(ok.issues, []);
    assert.match(ok.summary, /academic-advisor, financial-aid-agent, registrar-agent, ferpa-auditor/);
    assert.match(ok.summary, /student-records, student-health, financial-aid/);
    const before = await adminA.list(TENANT_A, 1);
    const bad = await adminA.validate(TENANT_A, 'organization: X\nagents:\n  a:\n    scopes: [nope]\n    bogus: 1\n');
    assert.equal(bad.valid, false);
    assert.equal(bad.issues.length, 2);
    assert.deepEqual(
      bad.issues.map((i) => [i.line, i.column, i.path]),
      [
        [4, 14, 'agents.a.scopes[0]'],
        [5, 5, 'agents.a.bogus'],
      ],
    );
    const afterList = await adminA.list(TENANT_A, 1);
    assert.equal(afterList.versions[0]!.version, before.versions[0]!.version, 'a dry run stores nothing');
  });
});

// ---------------------------------------------------------------------------------------------

function agentsPolicy(agents: string): string {
  return `version: "1.0"\norganization: Test\nagents:\n${agents}`;
}

const ALIAS_BOMB = (() => {
  const names = 'abcdefghi';
  const levels = ['&a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
  for (let i = 1; i < 9; i++)
    levels.push(
      `&${names[i]} [${Array(9)
        .fill(`*${names[i - 1]}`)
        .join(',')}]`,
    );
  return agentsPolicy(
    `  a1:\n    scopes: [vault:x:read]\n    constraints:\n      denied_resources: [${levels.join(', ')}]\n`,
  );
})();

/** Each hostile or invalid document, with the line, column, path and message fragment expected. */
/** Column undefined / path as a RegExp: where the expansion limit trips depends on the walk order. */
const INVALID_CASES: {
  name: string;
  yaml: string;
  line: number;
  column: number | undefined;
  path: string | RegExp;
  message: RegExp;
}[] = [
  {
    name: 'unknown key',
    yaml: agentsPolicy('  a1:\n    scopes: [vault:x:read]\n    constriants: {require_purpose: true}\n'),
    line: 6,
    column: 5,
    path: 'agents.a1.constriants',
    message: /unknown key 'constriants'/,
  },
  {
    name: 'unknown constraint',
    yaml: agentsPolicy(
      '  a1:\n    scopes: [vault:x:read]\n    constraints:\n      require_purpose: true\n      max_rows: 5\n',
    ),
    line: 8,
    column: 7,
    path: 'agents.a1.constraints.max_rows',
    message: /unknown constraint 'max_rows'/,
  },
  {
    name: 'bad scope syntax',
    yaml: agentsPolicy('  a1:\n    scopes:\n      - vault:x:read\n      - "not a scope"\n'),
    line: 7,
    column: 9,
    path: 'agents.a1.scopes[1]',
    message: /invalid scope "not a scope"/,
  },
  {
    name: 'wrong type',
    yaml: agentsPolicy('  a1:\n    scopes: vault:x:read\n'),
    line: 5,
    column: 13,
    path: 'agents.a1.scopes',
    message: /scopes must be a list/,
  },
  {
    name: 'empty agent',
    yaml: agentsPolicy('  a1: {}\n'),
    line: 4,
    column: 3,
    path: 'agents.a1',
    message: /grants nothing/,
  },
  {
    name: 'null section',
    yaml: 'version: "1.0"\norganization: Test\ndata_classifications:\nagents:\n  a1:\n    scopes: [vault:x:read]\n',
    line: 3,
    column: 1,
    path: 'data_classifications',
    message: /must be a mapping, got null/,
  },
  {
    name: 'duplicate key',
    yaml: agentsPolicy('  a1:\n    scopes: [vault:x:read]\n  a1:\n    scopes: [vault:y:read]\n'),
    line: 6,
    column: 3,
    path: '',
    message: /duplicate key 'a1'/,
  },
  {
    name: 'alias bomb',
    yaml: ALIAS_BOMB,
    line: 7,
    column: undefined,
    path: /^agents\.a1\.constraints\.denied_resources\[/,
    message: /expands to more than \d+ nodes/,
  },
  {
    name: 'deep nesting',
    yaml: `organization: T\nagents: ${'['.repeat(200)}${']'.repeat(200)}\n`,
    line: 2,
    column: 73,
    path: '',
    message: /nested deeper than \d+ levels/,
  },
  {
    name: 'oversize document',
    yaml: `organization: T\n# ${'x'.repeat(2 * 1024 * 1024)}\nagents:\n  a1:\n    scopes: [vault:x:read]\n`,
    line: 1,
    column: 1,
    path: '',
    message: /limit is \d+ bytes/,
  },
  {
    name: 'tenant of another tenant',
    yaml: `tenant: ${TENANT_B}\nversion: "1.0"\norganization: Test\nagents:\n  a1:\n    scopes: [vault:x:read]\n`,
    line: 1,
    column: 9,
    path: 'tenant',
    message: /policy says tenant "school-b" but is being put for tenant "school-a"/,
  },
];

describe('validation errors: INVALID_ARGUMENT with line and column, nothing stored or published', () => {
  const tenant = 'school-invalid';
  let client: PolicyClient;
  before(() => {
    client = new PolicyClient(svc.port, OPERATOR_KEY);
  });
  after(() => client.close());

  for (const c of INVALID_CASES) {
    test(c.name, async () => {
      const t = c.name === 'tenant of another tenant' ? TENANT_A : tenant;
      const { error } = await (t === TENANT_A ? adminA : client).putRaw(t, c.yaml, t === TENANT_A ? 999_999 : 0);
      assert.ok(error, 'the put fails');
      assert.equal(error.code, grpc.status.INVALID_ARGUMENT);
      assert.equal(error.metadata.get('authority-reason')[0], 'INVALID_REQUEST');
      const matches = (i: { line: number; column: number; path: string }) =>
        i.line === c.line &&
        i.column > 0 &&
        (c.column === undefined || i.column === c.column) &&
        (typeof c.path === 'string' ? i.path === c.path : c.path.test(i.path));
      // The message lists `line:col path: message`.
      const listed = [...error.details.matchAll(/^ {2}(\d+):(\d+) (\S+): (.*)$/gm)].map((m) => ({
        line: Number(m[1]),
        column: Number(m[2]),
        path: m[3] === '(document)' ? '' : m[3]!,
        message: m[4]!,
      }));
      assert.ok(
        listed.some((i) => matches(i) && c.message.test(i.message)),
        `message names the issue at line ${c.line}: ${error.details.slice(0, 300)}`,
      );
      const trailer = error.metadata.get(ISSUES_METADATA_KEY)[0];
      assert.ok(trailer, 'issues trailer present');
      const issues = JSON.parse(String(trailer)) as { line: number; column: number; path: string; message: string }[];
      const issue = issues.find(matches);
      assert.ok(issue, `trailer has the issue at line ${c.line}: ${String(trailer).slice(0, 300)}`);
      assert.match(issue.message, c.message);
      // The dry run reports the same issue.
      const v = await (t === TENANT_A ? adminA : client).validate(t, c.yaml);
      assert.equal(v.valid, false);
      assert.ok(v.issues.some(matches));
    });
  }

  test('a valid policy too large for its Kafka record once JSON-escaped is refused before it is stored', async () => {
    // 700 KB of quotes in a comment: under the loader's 1 MiB, but 1.4 MB once JSON-escaped.
    const yaml = `# ${'"'.repeat(700_000)}\n${smallPolicy('big')}`;
    const e = await expectError(client.put(tenant, yaml, 0));
    assert.equal(e.codeName, 'INVALID_ARGUMENT');
    assert.equal(e.field, 'yaml');
    assert.match(
      e.message,
      /1:1 \(document\): policy takes \d+ bytes in its Kafka record \(JSON-escaped\); the limit is 1000000 bytes/,
    );
    const v = await client.validate(tenant, yaml);
    assert.equal(v.valid, false, 'the dry run says the same');
    assert.match(v.issues[0]!.message, /Kafka record/);
  });

  test('none of them was stored or published', async () => {
    const e = await expectError(client.get(tenant));
    assert.equal(e.codeName, 'NOT_FOUND');
    const records = await readTopics(bus, [`${env.prefix}policies`]);
    assert.equal(records.filter((m) => m.key?.toString().startsWith(`${tenant}/`)).length, 0);
  });

  test('an invalid put is refused before the version check (no information on versions leaks first)', async () => {
    const { error } = await client.putRaw(tenant, 'organization: [', 41);
    assert.equal(error?.code, grpc.status.INVALID_ARGUMENT);
  });

  test('bad request fields name the field', async () => {
    const neg = await expectError(client.put(tenant, smallPolicy('x'), -1));
    assert.equal(neg.codeName, 'INVALID_ARGUMENT');
    assert.equal(neg.field, 'expected_version');
    const badTenant = await expectError(client.put('Bad/Tenant', smallPolicy('x'), 0));
    assert.equal(badTenant.codeName, 'INVALID_ARGUMENT');
    assert.equal(badTenant.field, 'tenant');
    const empty = await expectError(client.get(''));
    assert.equal(empty.codeName, 'INVALID_ARGUMENT');
  });
});

// ---------------------------------------------------------------------------------------------

describe('versions and tombstones', () => {
  const tenant = 'school-delete';

  test('expected version ahead → FAILED_PRECONDITION, behind → ABORTED, both naming the current version', async () => {
    await operator.put(tenant, smallPolicy('v1'), 0);
    const ahead = await expectError(operator.put(tenant, smallPolicy('v?'), 5));
    assert.equal(ahead.codeName, 'FAILED_PRECONDITION');
    assert.equal(ahead.reason, 'VERSION_CONFLICT');
    assert.match(ahead.message, /expected version 5 but the current version is 1/);
    const behind = await expectError(operator.put(tenant, smallPolicy('v?'), 0));
    assert.equal(behind.codeName, 'ABORTED');
    assert.equal(behind.reason, 'VERSION_CONFLICT');
    assert.match(behind.message, /expected version 0 but the current version is 1/);
  });

  test('delete writes a tombstone version, published with deleted=true; a new put starts over', async () => {
    const del = await operator.delete(tenant, 1);
    assert.equal(del.policy!.version, '2');
    assert.equal(del.policy!.deleted, true);
    assert.equal(del.policy!.yaml, '');
    assert.match(del.policy!.diffSummary, /policy deleted/);
    const latest = await operator.get(tenant);
    assert.equal(latest.policy!.deleted, true);
    const again = await expectError(operator.delete(tenant, 2));
    assert.equal(again.codeName, 'FAILED_PRECONDITION');
    const stale = await expectError(operator.delete(tenant, 1));
    assert.equal(stale.codeName, 'ABORTED');
    const none = await expectError(operator.delete('school-never', 0));
    assert.equal(none.codeName, 'NOT_FOUND');
    const put = await operator.put(tenant, smallPolicy('v3'), 2);
    assert.equal(put.policy!.version, '3');
    assert.match(put.policy!.diffSummary, /first policy/);

    const records = await readTopics(bus, [`${env.prefix}policies`, `${env.prefix}audit`]);
    const tomb = records.find((m) => m.key?.toString() === `${tenant}/000000000002`);
    assert.ok(tomb);
    assert.equal(decodeEvent(pb.PolicyVersionEventSchema, tomb.value!).deleted, true);
    const deleteAudit = records
      .filter((m) => m.topic === `${env.prefix}audit`)
      .map((m) => decodeEvent(pb.AuditEventSchema, m.value!))
      .find((e) => e.tenant === tenant && e.action === 'policy.delete');
    assert.ok(deleteAudit);
    assert.equal(deleteAudit.policyVersion, '2');
    assert.equal(deleteAudit.actor?.principal, 'operator');
  });
});

// ---------------------------------------------------------------------------------------------

describe('authentication and tenant isolation', () => {
  test("tenant B's admin can neither read nor write tenant A's policy", async () => {
    const checks: [string, Promise<unknown>][] = [
      ['get', adminB.get(TENANT_A)],
      ['list', adminB.list(TENANT_A)],
      ['validate', adminB.validate(TENANT_A, smallPolicy('x'))],
      ['put', adminB.put(TENANT_A, smallPolicy('hijack'), 0)],
      ['delete', adminB.delete(TENANT_A, 1)],
    ];
    for (const [name, p] of checks) {
      const e = await expectError(p);
      assert.equal(e.codeName, 'PERMISSION_DENIED', name);
      assert.equal(e.reason, 'TENANT_MISMATCH', name);
    }
    const watch = adminB.watch(TENANT_A, 0);
    const e = await watch.waitForError();
    assert.equal(e.codeName, 'PERMISSION_DENIED');
    assert.equal(watch.received.length, 0);
    // Tenant A's policy is untouched.
    const a = await adminA.get(TENANT_A);
    assert.doesNotMatch(a.policy!.yaml, /hijack/);
  });

  test("tenant A's admin cannot read tenant B's policy either, and B can manage its own", async () => {
    const put = await adminB.put(TENANT_B, smallPolicy('b'), 0);
    assert.equal(put.policy!.version, '1');
    const e = await expectError(adminA.get(TENANT_B));
    assert.equal(e.codeName, 'PERMISSION_DENIED');
    const got = await operator.get(TENANT_B);
    assert.equal(got.policy!.version, '1');
  });

  test('a non-ADMIN credential of the tenant is refused (PERMISSION_DENIED)', async () => {
    const e = await expectError(checkerA.get(TENANT_A));
    assert.equal(e.codeName, 'PERMISSION_DENIED');
  });

  test('no credential, an unknown one or a revoked one → UNAUTHENTICATED', async () => {
    assert.equal((await expectError(anonymous.get(TENANT_A))).codeName, 'UNAUTHENTICATED');
    assert.equal((await expectError(revokedA.get(TENANT_A))).codeName, 'UNAUTHENTICATED');
    const stranger = new PolicyClient(svc.port, 'sk-not-a-real-key-000000000000');
    try {
      assert.equal((await expectError(stranger.get(TENANT_A))).codeName, 'UNAUTHENTICATED');
    } finally {
      stranger.close();
    }
  });
});
