// Honest attribution without the stack: an event counts for every agent on its delegation path
// (agent_chain, or agent_id for events written before paths were recorded). Event fields and
// roles, admission of ambiguous actors, the stored `agents` index held to the raw bytes, and the
// report's per-agent counts, lineage and unverified attempts.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { auditGenesisHead, cryptoReady, parsePolicy } from '@authority/core';
import { cloudEventHeaders, silentLogger } from '@authority/platform';
import { encodeEvent, pb } from '@authority/proto';
import {
  admitRecord,
  AuditorKeys,
  ChainAppender,
  eventFields,
  renderComplianceHtml,
  verifyStored,
} from '../../src/index';
import { actingAgent, agentPath, agentRole } from '../../src/event-fields';
import { buildComplianceReport, ReportAggregator } from '../../src/report/model';
import { admitted, event, MemoryStore, newKeys } from './fixtures';

const ROOT = 'academic-advisor';
const CHILD = 'academic-advisor/summarizer';

function fieldsOf(e: pb.AuditEvent) {
  const f = eventFields(encodeEvent(pb.AuditEventSchema, e));
  assert.ok(f);
  return f;
}

describe('delegation paths in event fields', () => {
  it('reads agent_chain and chain_unverified in both proto3 JSON spellings', () => {
    const camel = eventFields(
      Buffer.from('{"eventId":"e","tenant":"t","actor":{"agentId":"b","agentChain":["a","b"],"chainUnverified":true}}'),
    )!;
    const snake = eventFields(
      Buffer.from(
        '{"event_id":"e","tenant":"t","actor":{"agent_id":"b","agent_chain":["a","b"],"chain_unverified":true}}',
      ),
    )!;
    for (const f of [camel, snake]) {
      assert.deepEqual([f.agent, f.agentChain, f.chainUnverified], ['b', ['a', 'b'], true]);
    }
    const legacy = fieldsOf(event('t', 1, { agent: 'solo' }));
    assert.deepEqual([legacy.agentChain, legacy.chainUnverified], [[], false]);
  });

  it('the path is the chain (plus the agent when the chain does not name it), or [agent] for old events', () => {
    assert.deepEqual(agentPath({ agent: CHILD, agentChain: [ROOT, CHILD] }), [ROOT, CHILD]);
    assert.deepEqual(agentPath({ agent: 'x', agentChain: [] }), ['x'], 'an event from before agent_chain');
    assert.deepEqual(agentPath({ agent: '', agentChain: [] }), []);
    assert.deepEqual(agentPath({ agent: 'c', agentChain: ['a', 'b'] }), ['a', 'b', 'c']);
    assert.deepEqual(agentPath({ agent: '', agentChain: ['a', 'b'] }), ['a', 'b']);
    assert.equal(actingAgent({ agent: '', agentChain: ['a', 'b'] }), 'b', 'the leaf acts when agent_id is empty');

    const f = { agent: CHILD, agentChain: [ROOT, CHILD] };
    assert.equal(agentRole(f, CHILD), 'ACTED');
    assert.equal(agentRole(f, ROOT), 'DELEGATED');
    assert.equal(agentRole(f, 'academic'), undefined, 'a prefix of a name is not the agent');
    assert.equal(agentRole(f, ''), undefined);
    assert.equal(agentRole({ agent: ROOT, agentChain: [ROOT, ROOT] }, ROOT), 'ACTED', 'a link that kept its name');
    assert.equal(agentRole({ agent: 'x', agentChain: [] }, 'x'), 'ACTED');
  });

  it('refuses an event whose actor names two different paths (the two readings must agree)', () => {
    const value = Buffer.from(
      JSON.stringify({
        eventId: 'e1',
        tenant: 'acme',
        actor: { agentId: CHILD, agentChain: [ROOT, CHILD], agent_chain: ['someone-else', CHILD] },
      }),
    );
    const r = admitRecord({
      key: Buffer.from('acme'),
      value,
      headers: { ce_subject: Buffer.from('acme') },
      partition: 0,
      offset: '0',
    });
    // protobuf-es may refuse the duplicate itself; either way the record is not chained.
    assert.equal(r.ok, false);
    const ok = admitRecord({
      key: Buffer.from('acme'),
      value: encodeEvent(pb.AuditEventSchema, event('acme', 1, { agent: CHILD, chain: [ROOT, CHILD] })),
      headers: cloudEventHeaders({
        id: 'x',
        type: 'authority.audit.v1',
        source: 't',
        subject: 'acme',
        time: new Date(),
      }),
      partition: 0,
      offset: '1',
    });
    assert.ok(ok.ok);
    assert.deepEqual(ok.fields.agentChain, [ROOT, CHILD]);
  });
});

describe('the stored agents index', () => {
  let keys: AuditorKeys;
  before(async () => {
    await cryptoReady();
    keys = newKeys();
  });

  it('is stored as the path, and verification holds it to the raw event', async () => {
    const mem = new MemoryStore();
    const appender = new ChainAppender({ store: mem.asStore(), keys, logger: silentLogger(), now: () => new Date(0) });
    const g = auditGenesisHead('acme');
    const events = Array.from({ length: 12 }, (_, i) =>
      admitted(event('acme', i, i % 2 === 0 ? { agent: CHILD, chain: [ROOT, CHILD] } : { agent: 'solo' }), i),
    );
    mem.entries = appender.buildDocs('acme', { seq: g.seq, hash: Buffer.from(g.hash) }, events);
    assert.deepEqual(mem.entries[0]!.agents, [ROOT, CHILD]);
    assert.deepEqual(mem.entries[1]!.agents, ['solo']);
    const run = () => verifyStored(mem.asStore(), { tenant: 'acme', checkpoints: [], keys: keys.resolve });
    assert.equal((await run()).ok, true);

    // Removing a delegator from the index would hide the event from QueryEvents(agent=root).
    mem.entries[2]!.agents = [CHILD];
    let r = await run();
    assert.deepEqual([r.ok, r.fault, r.firstBadSeq], [false, 'modified', 3]);
    assert.match(r.message!, /indexed field 'agents'/);
    mem.entries[2]!.agents = [ROOT, CHILD];

    // An entry stored before `agents` existed is found by `agent`: fine when its event has no
    // other agent, a fault when its event names a path the index cannot find.
    delete mem.entries[3]!.agents;
    assert.equal((await run()).ok, true, 'an old entry without a path verifies');
    delete mem.entries[4]!.agents;
    r = await run();
    assert.deepEqual([r.ok, r.fault, r.firstBadSeq], [false, 'modified', 5]);
    assert.match(r.message!, /no indexed field 'agents'.*\[academic-advisor, academic-advisor\/summarizer\]/);
    mem.entries[4]!.agents = [ROOT, CHILD];
    (mem.entries[5] as unknown as Record<string, unknown>)['agents'] = 'solo';
    r = await run();
    assert.deepEqual([r.ok, r.firstBadSeq], [false, 6]);
  });
});

describe('the report counts every agent on the path', () => {
  const T0 = 1_767_225_600_000;
  const window = { startMs: T0, endMs: T0 + 3_600_000 };
  const policy = parsePolicy(`
version: '1'
organization: Lakeside
data_classifications:
  student-health:
    sensitivity: restricted
    pii_fields: [diagnosis]
    retention_days: 30
    description: health
agents:
  ${ROOT}:
    scopes: ['vault:student-health:read']
    resources: ['slos://vaults/student-health/*']
    constraints: {unconstrained: true}
`);

  function report(events: pb.AuditEvent[]) {
    const agg = new ReportAggregator(window, policy);
    events.forEach((e, i) => agg.add({ seq: i + 1, fields: fieldsOf(e), raw: encodeEvent(pb.AuditEventSchema, e) }));
    return buildComplianceReport({
      tenant: 'acme',
      window,
      generatedAt: new Date(T0),
      policy: { tenant: 'acme', version: 1, sha256: 'a'.repeat(64), policy },
      aggregate: agg,
      verification: { ok: true, firstBadSeq: 0, fault: 'none', message: 'ok', checked: events.length, headSeq: 0 },
      verifiedThroughSeq: events.length,
    });
  }

  it('splits acted and delegated, shows the lineage, marks unverified attempts, loses no denial', () => {
    const health = (n: number) => `slos://vaults/student-health/r${n}`;
    const events = [
      // The child acted 3 times (2 allowed, 1 denied) under the root's grant.
      event('acme', 1, { agent: CHILD, chain: [ROOT, CHILD], resource: health(1), timeMs: T0 + 1000 }),
      event('acme', 2, { agent: CHILD, chain: [ROOT, CHILD], resource: health(2), timeMs: T0 + 2000 }),
      event('acme', 3, {
        agent: CHILD,
        chain: [ROOT, CHILD],
        resource: health(3),
        decision: 'DENY',
        timeMs: T0 + 3000,
      }),
      // The root acted once itself (an old-style event: no path).
      event('acme', 4, { agent: ROOT, resource: 'slos://vaults/other/x', timeMs: T0 + 4000 }),
      // A token that failed verification claimed the path [ROOT, CHILD]: denied, marked.
      event('acme', 5, {
        agent: CHILD,
        chain: [ROOT, CHILD],
        unverified: true,
        decision: 'DENY',
        resource: health(5),
        timeMs: T0 + 5000,
      }),
      // A denial naming only a claimed path (no agent_id) still lands in the claimed agents' rows.
      event('acme', 6, { agent: '', chain: ['mallory'], unverified: true, decision: 'DENY', timeMs: T0 + 6000 }),
      // Outside the window: not counted.
      event('acme', 7, { agent: CHILD, chain: [ROOT, CHILD], timeMs: T0 - 1 }),
    ];
    const r = report(events);
    assert.equal(r.formatVersion, 3);
    const row = (id: string) => {
      const a = r.agents.find((x) => x.agentId === id);
      assert.ok(a, `row for ${id}`);
      return a;
    };
    const root = row(ROOT);
    assert.deepEqual(
      [root.events, root.acted, root.delegated, root.allowed, root.denied, root.unverifiedAttempts],
      [5, 1, 4, 3, 2, 1],
    );
    assert.deepEqual(root.delegatedBy, []);
    assert.equal(root.lineage, ROOT);
    assert.equal(root.inPolicy, true);
    const child = row(CHILD);
    assert.deepEqual(
      [child.events, child.acted, child.delegated, child.allowed, child.denied, child.unverifiedAttempts],
      [4, 4, 0, 2, 2, 1],
    );
    assert.deepEqual(child.delegatedBy, [ROOT]);
    assert.equal(child.lineage, `${CHILD}, delegated by ${ROOT}`);
    const mallory = row('mallory');
    assert.deepEqual([mallory.events, mallory.acted, mallory.denied, mallory.unverifiedAttempts], [1, 1, 1, 1]);
    assert.equal(mallory.lineage, 'mallory');
    assert.equal(r.executiveSummary.totalEvents, 6);
    assert.equal(r.executiveSummary.denied, 3);
    // Every denial with an agent is in some row.
    assert.ok(r.agents.reduce((n, a) => n + a.denied, 0) >= r.executiveSummary.denied);

    const cell = (id: string) => r.attestationMatrix.rows.find((x) => x.agentId === id)!.cells[0]!;
    assert.deepEqual(
      [cell(ROOT).allowed, cell(ROOT).allowedActed, cell(ROOT).allowedDelegated, cell(ROOT).denied],
      [2, 0, 2, 2],
    );
    assert.equal(cell(ROOT).neverAccessed, false, 'the root reached student-health through its delegate');
    assert.deepEqual([cell(CHILD).allowedActed, cell(CHILD).allowedDelegated], [2, 0]);

    const html = renderComplianceHtml(r);
    assert.match(html, /delegated by <code class="id"><span>academic-advisor<\/span><\/code>/);
    assert.match(html, /attempts with an unverified token: 1/);
    assert.match(html, /2 through delegates/);
  });

  it('collapses a link that kept its name and lists each lineage of a deeper path', () => {
    const r = report([
      event('acme', 1, { agent: 'a/b/c', chain: ['a', 'a', 'a/b', 'a/b/c'], timeMs: T0 + 1 }),
      event('acme', 2, { agent: 'a/b/c', chain: ['x', 'a/b/c'], timeMs: T0 + 2 }),
      // A claimed (unverified) path never adds a lineage.
      event('acme', 3, {
        agent: 'a/b/c',
        chain: ['forged', 'a/b/c'],
        unverified: true,
        decision: 'DENY',
        timeMs: T0 + 3,
      }),
    ]);
    const leaf = r.agents.find((a) => a.agentId === 'a/b/c')!;
    assert.deepEqual(leaf.delegatedBy, ['a → a/b', 'x']);
    assert.equal(leaf.lineage, 'a/b/c, delegated by a → a/b; x');
    const a = r.agents.find((x) => x.agentId === 'a')!;
    assert.deepEqual([a.events, a.acted, a.delegated, a.delegatedBy], [1, 0, 1, []]);
    const forged = r.agents.find((x) => x.agentId === 'forged')!;
    assert.deepEqual([forged.events, forged.delegated, forged.unverifiedAttempts], [1, 1, 1]);
  });
});
