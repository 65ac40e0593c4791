// Unit tests of the policy service's pure parts (no Kafka, no MongoDB).
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import { pb } from '@authority/proto';
import {
  describeConfig,
  AbortedError,
  FailedPreconditionError,
  InvalidArgumentError,
  PermissionDeniedError,
  UnauthenticatedError,
  UnavailableError,
  silentLogger,
  toGrpcError,
} from '@authority/platform';
import type { PolicyIssue } from '@authority/core';
import { Authorizer, checkTenant } from '../../src/auth';
import { policyConfigSchema } from '../../src/config';
import { invalidPolicyMessage, issuesForError, MAX_ERROR_ISSUES, PolicyInvalidError } from '../../src/issues';
import { deletionSummary, parseVersion, PolicyRegistry, versionConflict } from '../../src/registry';
import { policyAuditEvent, policyVersionEvent, versionMessages } from '../../src/adapters/kafka';
import { versionKey, VersionConflictError, type PolicyStore, type PolicyVersionDoc } from '../../src/adapters/mongo';
import { WatchHub } from '../../src/watch';

function md(auth?: string): grpc.Metadata {
  const m = new grpc.Metadata();
  if (auth !== undefined) m.set('authorization', auth);
  return m;
}

describe('Authorizer', () => {
  const lookup = {
    authenticate: (secret: string) =>
      secret === 'admin-a-secret'
        ? { id: 'cred-a', tenant: 'tenant-a', kind: 'ADMIN' as const }
        : secret === 'checker-a-secret'
          ? { id: 'cred-c', tenant: 'tenant-a', kind: 'CHECKER' as const }
          : undefined,
  };
  const auth = new Authorizer('the-operator-key', lookup);

  test('operator may act for any valid tenant', () => {
    assert.deepEqual(auth.authorize(md('Bearer the-operator-key'), 'tenant-b'), { id: 'operator', kind: 'OPERATOR' });
  });
  test('an ADMIN acts for its own tenant only', () => {
    assert.equal(auth.authorize(md('Bearer admin-a-secret'), 'tenant-a').id, 'cred-a');
    assert.throws(
      () => auth.authorize(md('Bearer admin-a-secret'), 'tenant-b'),
      (e: unknown) => e instanceof PermissionDeniedError && e.reason === 'TENANT_MISMATCH',
    );
  });
  test('other credential kinds are refused', () => {
    assert.throws(() => auth.authorize(md('Bearer checker-a-secret'), 'tenant-a'), PermissionDeniedError);
  });
  test('missing, malformed or unknown credentials are UNAUTHENTICATED', () => {
    for (const h of [undefined, 'Basic abc', 'Bearer', 'Bearer nope']) {
      assert.throws(() => auth.authorize(md(h), 'tenant-a'), UnauthenticatedError, String(h));
    }
  });
  test('before the credentials are replayed, calls get UNAVAILABLE', () => {
    const notReady = new Authorizer('k', lookup, () => false);
    assert.throws(() => notReady.authorize(md('Bearer k'), 'tenant-a'), UnavailableError);
  });
  test('tenant ids are checked by core\'s rule (no "/" so Kafka keys stay unambiguous; no leading or trailing dash)', () => {
    for (const bad of ['', 'ab', 'A-upper', 'a/b', 'x'.repeat(64), '---', '-ab', 'ab-'])
      assert.throws(() => checkTenant(bad), InvalidArgumentError, bad);
    for (const good of ['school-a', 'a-b', '0ab', 'x'.repeat(63)]) checkTenant(good);
    // Operators and admins alike: the id is checked after authentication.
    assert.throws(() => auth.authorize(md('Bearer the-operator-key'), '---'), InvalidArgumentError);
  });
});

describe('versions', () => {
  test('parseVersion accepts int64 strings a JS number holds, and refuses the rest', () => {
    assert.equal(parseVersion('0', 'v'), 0);
    assert.equal(parseVersion('42', 'v'), 42);
    assert.equal(parseVersion(undefined, 'v'), 0);
    for (const bad of ['-1', '1.5', 'x', '9007199254740993']) {
      assert.throws(
        () => parseVersion(bad, 'expected_version'),
        (e: unknown) => e instanceof InvalidArgumentError && e.field === 'expected_version',
        bad,
      );
    }
  });
  test('behind → ABORTED, ahead → FAILED_PRECONDITION; both name both versions', () => {
    const behind = versionConflict('t', 3, 5);
    assert.ok(behind instanceof AbortedError);
    assert.match(behind.message, /expected version 3 but the current version is 5/);
    const ahead = versionConflict('t', 7, 5);
    assert.ok(ahead instanceof FailedPreconditionError);
    assert.match(ahead.message, /expected version 7 but the current version is 5/);
    assert.equal(toGrpcError(behind).code, grpc.status.ABORTED);
    assert.equal(toGrpcError(ahead).code, grpc.status.FAILED_PRECONDITION);
    assert.equal(toGrpcError(ahead).metadata?.get('authority-reason')[0], 'VERSION_CONFLICT');
  });
  test('record keys sort by version (zero-padded to 12 digits)', () => {
    assert.equal(versionKey('school-a', 7), 'school-a/000000000007');
    assert.ok(versionKey('t', 10) > versionKey('t', 9));
  });
  test('deletion summary names the agents that lose their policy', () => {
    assert.equal(deletionSummary(3, ['a', 'b']), 'policy deleted (version 3 had 2 agent(s): a, b)');
  });
});

describe('issues in errors', () => {
  const issue = (i: number): PolicyIssue => ({ line: i + 1, column: 3, path: `agents.a${i}`, message: `problem ${i}` });
  test("message is core's `line:col path: message` list", () => {
    const msg = invalidPolicyMessage([issue(0), { line: 1, column: 1, path: '', message: 'whole' }]);
    assert.equal(msg, 'policy is invalid (2 issues):\n  1:1 (document): whole\n  1:3 agents.a0: problem 0');
  });
  test('at most MAX_ERROR_ISSUES go into an error; the rest are counted', () => {
    const many = Array.from({ length: 50 }, (_, i) => issue(i));
    const { shown, omitted } = issuesForError(many);
    assert.equal(shown.length, MAX_ERROR_ISSUES);
    assert.equal(omitted, 50 - MAX_ERROR_ISSUES);
    assert.match(
      invalidPolicyMessage(many),
      /policy is invalid \(50 issues\)[\s\S]*and 30 more \(ValidatePolicy lists every issue\)$/,
    );
  });
  test('PolicyInvalidError maps to INVALID_ARGUMENT / INVALID_REQUEST naming the first path', () => {
    const status = toGrpcError(new PolicyInvalidError([issue(4)]));
    assert.equal(status.code, grpc.status.INVALID_ARGUMENT);
    assert.equal(status.metadata?.get('authority-reason')[0], 'INVALID_REQUEST');
    assert.equal(status.metadata?.get('authority-field')[0], 'agents.a4');
    assert.match(status.details ?? '', /5:3 agents\.a4: problem 4/);
  });
});

function doc(tenant: string, version: number, extra: Partial<PolicyVersionDoc> = {}): PolicyVersionDoc {
  return {
    _id: versionKey(tenant, version),
    tenant,
    version,
    yaml: `v${version}`,
    sha256: 'ab'.repeat(32),
    author: 'cred-1',
    createdAt: new Date(1_700_000_000_000 + version * 1000),
    deleted: false,
    diffSummary: `change ${version}`,
    auditEventId: `evt-${version}`,
    published: false,
    ...extra,
  };
}

describe('Kafka events of a version', () => {
  test('PolicyVersionEvent carries the exact YAML, hash, author and version', () => {
    const e = policyVersionEvent(doc('school-a', 3));
    assert.equal(e.tenant, 'school-a');
    assert.equal(e.version, 3n);
    assert.equal(e.yaml, 'v3');
    assert.equal(e.author, 'cred-1');
    assert.equal(e.deleted, false);
  });
  test('audit event: policy.put / policy.delete with PolicyChangeDetail and the actor principal', () => {
    const tp = '00-0123456789abcdef0123456789abcdef-0123456789abcdef-01';
    const put = policyAuditEvent(doc('school-a', 3, { traceparent: tp }));
    assert.equal(put.action, 'policy.put');
    assert.equal(put.eventId, 'evt-3');
    assert.equal(put.actor?.principal, 'cred-1');
    assert.equal(put.policyVersion, '3');
    assert.equal(put.traceId, '0123456789abcdef0123456789abcdef');
    assert.equal(put.spanId, '0123456789abcdef');
    assert.equal(put.decision, pb.Decision.ALLOW);
    assert.equal(put.detail.case, 'policyChange');
    if (put.detail.case === 'policyChange') {
      assert.equal(put.detail.value.version, 3n);
      assert.equal(put.detail.value.diffSummary, 'change 3');
    }
    assert.equal(policyAuditEvent(doc('school-a', 4, { deleted: true })).action, 'policy.delete');
  });
  test('record key and CloudEvents headers; ce_id of the audit record is its event id', () => {
    const m = versionMessages(doc('school-a', 12));
    assert.equal(m.policyKey, 'school-a/000000000012');
    assert.equal(m.policyHeaders['ce_type'], 'authority.policy.v1');
    assert.equal(m.policyHeaders['ce_subject'], 'school-a');
    assert.equal(m.auditHeaders['ce_id'], 'evt-12');
    assert.equal(m.auditHeaders['ce_type'], 'authority.audit.v1');
  });
});

/** An in-memory stand-in for the store's listAfter (what the watch hub reads). */
class FakeStore {
  docs: PolicyVersionDoc[] = [];
  async listAfter(tenant: string, afterVersion: number, limit: number): Promise<PolicyVersionDoc[]> {
    await Promise.resolve();
    return this.docs
      .filter((d) => d.tenant === tenant && d.version > afterVersion)
      .sort((a, b) => a.version - b.version)
      .slice(0, limit);
  }
}

describe('WatchHub', () => {
  test('backlog then live versions, each once and in order, despite bursts of wake-ups', async () => {
    const store = new FakeStore();
    for (let v = 1; v <= 150; v++) store.docs.push(doc('t', v)); // more than one read batch
    const hub = new WatchHub({
      store: store as unknown as PolicyStore,
      logger: silentLogger(),
      pollIntervalMs: 0,
      maxWatchers: 10,
    });
    const got: number[] = [];
    const controller = new AbortController();
    let target = 0;
    let reached: (() => void) | undefined;
    const sink = {
      send: async (d: PolicyVersionDoc) => {
        got.push(d.version);
        if (got.length === target) reached?.();
      },
    };
    const until = (n: number) =>
      new Promise<void>((r) => {
        target = n;
        reached = r;
        if (got.length >= n) r();
      });
    const done = hub.watch('t', 100, sink, controller.signal);
    await until(50);
    for (let v = 151; v <= 160; v++) {
      store.docs.push(doc('t', v));
      hub.notify('t');
      hub.notify('t');
      hub.notify('other');
    }
    await until(60);
    controller.abort();
    await done;
    assert.deepEqual(
      got,
      Array.from({ length: 60 }, (_, i) => 101 + i),
    );
    assert.equal(hub.size, 0, 'the subscription is gone after cancel');
    hub.close();
  });

  test('a failing sink ends the watch with its error', async () => {
    const store = new FakeStore();
    store.docs.push(doc('t', 1));
    const hub = new WatchHub({
      store: store as unknown as PolicyStore,
      logger: silentLogger(),
      pollIntervalMs: 0,
      maxWatchers: 10,
    });
    await assert.rejects(
      hub.watch(
        't',
        0,
        {
          send: async () => {
            throw new Error('client gone');
          },
        },
        new AbortController().signal,
      ),
      /client gone/,
    );
    assert.equal(hub.size, 0);
    hub.close();
  });
});

/** An in-memory PolicyStore with the unique (tenant, version) rule, for the registry. */
class MemoryStore {
  readonly docs = new Map<string, PolicyVersionDoc>();
  async latest(tenant: string) {
    await Promise.resolve();
    return [...this.docs.values()].filter((d) => d.tenant === tenant).sort((a, b) => b.version - a.version)[0];
  }
  async insert(d: PolicyVersionDoc) {
    await Promise.resolve();
    if (this.docs.has(d._id)) throw new VersionConflictError(d.tenant, d.version);
    this.docs.set(d._id, { ...d });
  }
  async unpublishedOf(tenant: string, upTo: number) {
    return [...this.docs.values()]
      .filter((d) => d.tenant === tenant && !d.published && d.version <= upTo)
      .sort((a, b) => a.version - b.version);
  }
  async unpublished(limit: number) {
    return [...this.docs.values()]
      .filter((d) => !d.published)
      .sort((a, b) => (a.tenant < b.tenant ? -1 : a.tenant > b.tenant ? 1 : a.version - b.version))
      .slice(0, limit);
  }
  async markPublished(tenant: string, version: number) {
    const d = this.docs.get(versionKey(tenant, version));
    if (d) d.published = true;
  }
}

describe('PolicyRegistry', () => {
  const operator = { id: 'operator', kind: 'OPERATOR' as const };
  const yaml = (marker: string) => `organization: "${marker}"\nagents:\n  a:\n    scopes: [vault:x:read]\n`;

  test('a publish failure answers UNAVAILABLE/PUBLISH_PENDING, keeps the version, and publishPending sends it later in order', async () => {
    const store = new MemoryStore();
    const sent: number[] = [];
    let kafkaUp = false;
    const registry = new PolicyRegistry(
      store as unknown as PolicyStore,
      {
        publishVersion: async (d) => {
          if (!kafkaUp) throw new Error('broker down');
          sent.push(d.version);
        },
      },
      { logger: silentLogger() },
    );
    await assert.rejects(
      registry.put('t-1', yaml('one'), 0, operator),
      (e: unknown) => e instanceof UnavailableError && e.reason === 'PUBLISH_PENDING' && /version 1/.test(e.message),
    );
    await assert.rejects(registry.put('t-1', yaml('two'), 1, operator), UnavailableError);
    assert.equal((await store.latest('t-1'))?.version, 2, 'both versions are committed');
    kafkaUp = true;
    assert.equal(await registry.publishPending(), 2);
    assert.deepEqual(sent, [1, 2]);
    const third = await registry.put('t-1', yaml('three'), 2, operator);
    assert.equal(third.published, true);
    assert.deepEqual(sent, [1, 2, 3]);
    assert.equal(await registry.publishPending(), 0);
  });

  test('an invalid policy is refused before anything is read or stored', async () => {
    const store = new MemoryStore();
    const registry = new PolicyRegistry(
      store as unknown as PolicyStore,
      { publishVersion: async () => undefined },
      { logger: silentLogger() },
    );
    await assert.rejects(registry.put('t-1', 'agents: {}\n', 5, operator), PolicyInvalidError);
    assert.equal(store.docs.size, 0);
  });

  test('concurrent puts with one expected version: one winner, the rest ABORTED (duplicate key path included)', async () => {
    const store = new MemoryStore();
    const registry = new PolicyRegistry(
      store as unknown as PolicyStore,
      { publishVersion: async () => undefined },
      { logger: silentLogger() },
    );
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, (_, i) => registry.put('t-1', yaml(`w${i}`), 0, operator)),
    );
    assert.equal(results.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of results) if (r.status === 'rejected') assert.ok(r.reason instanceof AbortedError);
  });
});

describe('docs/policy-service.md', () => {
  test('documents every environment variable of the config schema, with its default', () => {
    const text = readFileSync(resolve(__dirname, '../../../../../docs/policy-service.md'), 'utf8');
    const rows = new Map(
      text
        .split('\n')
        .filter((l) => l.startsWith('|'))
        .map((l) => l.split('|').map((c) => c.trim()))
        .map((cells) => [cells[1] ?? '', cells] as const),
    );
    for (const row of describeConfig(policyConfigSchema)) {
      const cells = rows.get(`\`${row.name}\``);
      assert.ok(cells, `${row.name} is in the configuration table`);
      assert.equal(cells[2], row.required ? 'yes' : 'no', `${row.name} required=${row.required}`);
      assert.equal(cells[3], row.default !== undefined ? `\`${row.default}\`` : '—', `${row.name} default`);
    }
  });
});
