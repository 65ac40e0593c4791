// Honest attribution against the real broker and FerretDB: an event counts for every agent on its
// delegation path. QueryEvents(agent) finds an agent's delegated events (DELEGATED) and its own
// (ACTED), through the pushed-down `agents` index, with cursors that still never truncate; an
// event whose path a failed token only claimed is still found by agent; Attest no longer says a
// delegator "never accessed" what its delegate reached, and the split is signed; the report shows
// lineage, acted/delegated counts and unverified attempts. Entries stored before `agents` existed
// are still found by their agent.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { verifyAttestation } from '@authority/core';
import { silentLogger, type KafkaEventBus } from '@authority/platform';
import type { MongoClient } from 'mongodb';
import type { Attestation__Output, ChainEntry__Output, QueryEventsRequest } from '@authority/proto';
import { startAuditor, type ComplianceReport, type RunningAuditor } from '../../src/index';
import { entriesCollectionName } from '../../src/adapters/mongo';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  must,
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

const T = 'acme';
const ROOT = 'academic-advisor';
const CHILD = 'academic-advisor/summarizer';
const BASE = Date.UTC(2026, 1, 2, 9, 0, 0);
const sec = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: 0 });
/** Only the child acts, under the root's grant. */
const W1 = { startTime: sec(BASE), endTime: sec(BASE + 999_000) };
/** Only the root acts, with events from before agent_chain (agent_id only). */
const W2 = { startTime: sec(BASE + 2_000_000), endTime: sec(BASE + 2_999_000) };
const HEALTH = 'slos://vaults/student-health/*';

const POLICY = `
version: '1'
organization: Lakeside College
data_classifications:
  student-health:
    sensitivity: restricted
    pii_fields: [diagnosis]
    retention_days: 2555
    description: Health records
agents:
  ${ROOT}:
    scopes: ['vault:student-health:read']
    resources: ['slos://vaults/student-health/*']
    constraints: {unconstrained: true}
`;

describe('honest attribution: queries, attestations and the report count every agent on the path', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  const secret = randomSecret('acme-auditor');
  const client = () => auditorClient(auditor.address);
  const q = (req: QueryEventsRequest) => call(client(), 'QueryEvents', { tenant: T, ...req }, secret);
  const specs: EventSpec[] = [];
  const unverifiedId = 'unverified-attempt';
  const legacyIds = ['legacy-0', 'legacy-1', 'legacy-2'];

  before(async () => {
    ({ env, bus, mongo } = await testRig('attribution'));
    await publishCredential(bus, env.prefix, T, 'AUDITOR', secret);
    await publishPolicy(bus, env.prefix, T, 1, POLICY);
    auditor = await startAuditor(auditorConfig(env, { AUTHORITY_CHECKPOINT_EVERY: '50' }), {
      logger: silentLogger(),
    });

    // W1: the child acts 30 times (allowed) and is denied twice, under [ROOT, CHILD]; a token
    // that failed verification claimed the same path once; unrelated agents fill the chain.
    for (let i = 0; i < 30; i++) {
      specs.push({
        tenant: T,
        agent: CHILD,
        chain: [ROOT, CHILD],
        resource: `slos://vaults/student-health/s${i}`,
        timeMs: BASE + i * 10_000,
      });
      for (let k = 0; k < 5; k++) {
        specs.push({
          tenant: T,
          agent: `filler-${k}`,
          chain: [`filler-${k}`],
          resource: `slos://vaults/student-health/f${i}`,
          timeMs: BASE + i * 10_000 + k + 1,
        });
      }
    }
    for (let i = 0; i < 2; i++) {
      specs.push({
        tenant: T,
        agent: CHILD,
        chain: [ROOT, CHILD],
        resource: 'slos://vaults/student-health/denied',
        decision: 'DENY',
        reason: 'DENIED_RESOURCE',
        timeMs: BASE + 500_000 + i,
      });
    }
    specs.push({
      tenant: T,
      eventId: unverifiedId,
      agent: CHILD,
      chain: [ROOT, CHILD],
      unverified: true,
      resource: 'slos://vaults/student-health/forged',
      decision: 'DENY',
      reason: 'INVALID_SIGNATURE',
      timeMs: BASE + 600_000,
    });
    // W2: the root itself, in events written before agent_chain existed.
    legacyIds.forEach((eventId, i) =>
      specs.push({
        tenant: T,
        eventId,
        agent: ROOT,
        resource: `slos://vaults/student-health/own${i}`,
        timeMs: BASE + 2_000_000 + i * 1000,
      }),
    );
    await publishAll(
      bus,
      `${env.prefix}audit`,
      specs.map((s) => auditRecord(auditEvent(s))),
    );
    await eventually(
      async () => {
        const r = await call(client(), 'GetCheckpoint', { tenant: T }, env.operatorKey).catch(() => undefined);
        return r?.checkpoint?.seq === String(specs.length) ? true : undefined;
      },
      'checkpoint at the head',
      60_000,
      100,
    );
    await eventually(() => q({ pageSize: 1 }).then(() => true), 'auditor credential known');
    // An entry stored before `agents` existed: the same document without it.
    const unset = await mongo
      .db(env.db)
      .collection(entriesCollectionName(T))
      .updateOne({ eventId: legacyIds[1] }, { $unset: { agents: '' } });
    assert.equal(unset.modifiedCount, 1);
  });

  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  async function all(req: QueryEventsRequest, pageSize: number): Promise<ChainEntry__Output[]> {
    const entries: ChainEntry__Output[] = [];
    let token = '';
    let pages = 0;
    do {
      const r = await q({ ...req, pageSize, pageToken: token });
      assert.ok(r.entries.length <= pageSize);
      entries.push(...r.entries);
      token = r.nextPageToken;
      assert.ok(++pages < 200, 'pagination terminates');
    } while (token !== '');
    return entries;
  }

  it('stores each entry with its path in an `agents` array, indexed on MongoDB (not on FerretDB, which reads without it)', async () => {
    const entries = mongo.db(env.db).collection(entriesCollectionName(T));
    const names = (await entries.listIndexes().toArray()).map((i) => i['name'] as string);
    const ferretDB = typeof (await mongo.db('admin').command({ buildInfo: 1 }))['ferretdbVersion'] === 'string';
    assert.equal(names.includes('ix_agents_id'), !ferretDB, names.join(', '));
    assert.equal(names.includes('ix_agent_id'), !ferretDB, names.join(', '));
    assert.ok(names.includes('uq_event'), names.join(', '));
    const doc = must(await entries.findOne({ eventId: unverifiedId }));
    assert.deepEqual(doc['agents'], [ROOT, CHILD]);
    const legacy = must(await entries.findOne({ eventId: legacyIds[0] }));
    assert.deepEqual(legacy['agents'], [ROOT]);
  });

  it('QueryEvents(agent=root) returns the events its delegate made as DELEGATED, its own as ACTED, across pages', async () => {
    const rootEntries = await all({ agentId: ROOT }, 1000);
    assert.equal(rootEntries.length, 30 + 2 + 1 + 3);
    const roles = new Map<string, string>();
    for (const e of rootEntries) {
      const actor = must(must(e.event).actor);
      roles.set(must(e.event).eventId, e.agentRole);
      if (actor.agentId === CHILD) {
        assert.deepEqual(actor.agentChain, [ROOT, CHILD]);
        assert.equal(e.agentRole, 'DELEGATED');
      } else {
        assert.equal(actor.agentId, ROOT);
        assert.equal(e.agentRole, 'ACTED');
      }
    }
    for (const id of legacyIds) assert.equal(roles.get(id), 'ACTED', `${id}, also when stored without agents`);
    assert.equal(roles.get(unverifiedId), 'DELEGATED');

    // Small pages: the same entries in the same order, no gaps or repeats.
    const paged = await all({ agentId: ROOT }, 7);
    assert.deepEqual(
      paged.map((e) => e.seq),
      rootEntries.map((e) => e.seq),
    );
    const seqs = rootEntries.map((e) => Number(e.seq));
    assert.deepEqual(
      seqs,
      [...seqs].sort((a, b) => a - b),
    );

    // Pushed down: the store hands the reader only entries on the agent's path, not the filler.
    const direct = await auditor.reader.query({
      tenant: T,
      agentId: ROOT,
      action: '',
      resourceGlob: '',
      decision: '',
      reason: '',
      pageSize: 1000,
      pageToken: '',
    });
    assert.equal(direct.entries.length, 36);
    assert.equal(direct.scanned, 36, `examined ${direct.scanned} of ${specs.length} entries`);
  });

  it('QueryEvents(agent=child) returns them as ACTED, the unverified attempt included; a name prefix matches nothing', async () => {
    const childEntries = await all({ agentId: CHILD }, 10);
    assert.equal(childEntries.length, 30 + 2 + 1);
    for (const e of childEntries) assert.equal(e.agentRole, 'ACTED');
    const unverified = childEntries.filter((e) => must(must(e.event).actor).chainUnverified);
    assert.deepEqual(
      unverified.map((e) => must(e.event).eventId),
      [unverifiedId],
    );

    for (const [agentId, role] of [
      [CHILD, 'ACTED'],
      [ROOT, 'DELEGATED'],
    ] as const) {
      const attempts = await all({ agentId, decision: 'DENY', reason: 'INVALID_SIGNATURE' }, 10);
      assert.deepEqual(
        attempts.map((e) => [must(e.event).eventId, e.agentRole]),
        [[unverifiedId, role]],
        `the unverified attempt found by ${agentId}`,
      );
    }
    assert.equal((await all({ agentId: 'academic' }, 100)).length, 0);
    assert.equal((await all({ agentId: 'filler-2' }, 100)).length, 30);
    const unfiltered = await q({ pageSize: 3 });
    for (const e of unfiltered.entries) assert.equal(e.agentRole, 'AGENT_ROLE_UNSPECIFIED');
  });

  it('Attest(root) over a window where only its delegate acted is NOT a negative attestation, and the split is signed', async () => {
    const key0 = must((await call(client(), 'ListAuditorKeys', {}, secret)).keys[0]);
    const resolve = (kid: string) => (kid === key0.keyId ? new Uint8Array(key0.publicKey) : undefined);
    const attest = async (agentId: string, window: typeof W1): Promise<Attestation__Output> =>
      must(
        (await call(client(), 'Attest', { tenant: T, agentId, resourcePattern: HEALTH, ...window }, secret))
          .attestation,
      );
    const root = await attest(ROOT, W1);
    assert.deepEqual(
      [root.allowedCount, root.allowedActedCount, root.allowedDelegatedCount, root.deniedCount, root.neverAccessed],
      ['30', '0', '30', '3', false],
      'the root reached student-health through its delegate (before: allowed 0, "never accessed")',
    );
    const signed = signedAttestation(root);
    assert.deepEqual(verifyAttestation(signed, resolve), { ok: true });
    const { allowedActedCount: _a, allowedDelegatedCount: _d, ...withoutSplit } = signed;
    for (const forged of [
      { ...signed, allowedActedCount: 30, allowedDelegatedCount: 0 },
      { ...signed, allowedCount: 0, allowedDelegatedCount: 0 },
      withoutSplit,
    ]) {
      assert.equal(verifyAttestation(forged, resolve).ok, false, JSON.stringify(forged));
    }

    const child = await attest(CHILD, W1);
    assert.deepEqual(
      [child.allowedCount, child.allowedActedCount, child.allowedDelegatedCount, child.deniedCount],
      ['30', '30', '0', '3'],
    );
    assert.ok(verifyAttestation(signedAttestation(child), resolve).ok);

    const own = await attest(ROOT, W2);
    assert.deepEqual(
      [own.allowedCount, own.allowedActedCount, own.allowedDelegatedCount, own.neverAccessed],
      ['3', '3', '0', false],
      'old events (agent_id only, one stored without agents) count as acted',
    );
    const delegateInW2 = await attest(CHILD, W2);
    assert.deepEqual([delegateInW2.allowedCount, delegateInW2.neverAccessed], ['0', true]);
    assert.ok(verifyAttestation(signedAttestation(delegateInW2), resolve).ok);
  });

  it('the JSON report counts acted and delegated per agent, shows the lineage and marks unverified attempts', async () => {
    const res = await call(
      client(),
      'GetComplianceReport',
      { tenant: T, format: 'JSON', startTime: W1.startTime, endTime: W2.endTime },
      secret,
    );
    const report = JSON.parse(Buffer.from(res.body).toString('utf8')) as ComplianceReport;
    assert.equal(report.formatVersion, 3);
    assert.equal(report.chainVerification.ok, true, report.chainVerification.message);
    const row = (id: string) =>
      must(
        report.agents.find((a) => a.agentId === id),
        `row ${id}`,
      );
    const root = row(ROOT);
    assert.deepEqual(
      [root.events, root.acted, root.delegated, root.allowed, root.denied, root.unverifiedAttempts, root.inPolicy],
      [36, 3, 33, 33, 3, 1, true],
    );
    assert.equal(root.lineage, ROOT);
    const child = row(CHILD);
    assert.deepEqual(
      [child.events, child.acted, child.delegated, child.allowed, child.denied, child.unverifiedAttempts],
      [33, 33, 0, 30, 3, 1],
    );
    assert.deepEqual(child.delegatedBy, [ROOT]);
    assert.equal(child.lineage, 'academic-advisor/summarizer, delegated by academic-advisor');
    assert.equal(row('filler-0').events, 30);
    // Every denial is in some agent's row.
    for (const a of [root, child]) assert.ok(a.denyReasons.some((r) => r.key === 'INVALID_SIGNATURE'));

    const cell = (id: string) =>
      must(
        must(report.attestationMatrix.rows.find((r) => r.agentId === id)).cells.find(
          (c) => c.domain === 'student-health',
        ),
      );
    assert.deepEqual(
      [cell(ROOT).allowed, cell(ROOT).allowedActed, cell(ROOT).allowedDelegated, cell(ROOT).neverAccessed],
      [33, 3, 30, false],
    );

    const html = Buffer.from(
      (
        await call(
          client(),
          'GetComplianceReport',
          { tenant: T, format: 'HTML', startTime: W1.startTime, endTime: W2.endTime },
          secret,
        )
      ).body,
    ).toString('utf8');
    // Identifiers are unbreakable chunks: `academic-advisor/` then `summarizer`, a break allowed after the `/`.
    assert.match(
      html,
      /<code class="id"><span>academic-advisor\/<\/span><wbr><span>summarizer<\/span><\/code><br><span class="note">delegated by <code class="id"><span>academic-advisor<\/span><\/code>/,
    );
    assert.match(
      html,
      /via root <code class="id"><span>academic-advisor<\/span><\/code>/,
      'the delegate is in policy via its root',
    );
    assert.match(html, /attempts with an unverified token: 1/);
    assert.match(html, /30 through delegates/);
  });

  it('an entry stored without `agents` still verifies (its event has no path)', async () => {
    const v = await call(client(), 'VerifyChain', { tenant: T }, secret);
    assert.equal(v.ok, true, v.message);
    assert.equal(v.checked, String(specs.length));
  });
});
