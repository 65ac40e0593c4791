// Incremental aggregates (issue 17): a report or an attestation built from chunk aggregates must be
// exactly the one built event by event, for any split into chunks, any window (cutting chunks or
// not) and any scope; the stored encoding round-trips, rejects garbage, and a recomputation
// catches an edited count.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { parsePolicy } from '@authority/core';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';
import {
  aggregateMismatch,
  buildChunkAggregate,
  decodeAggregateBody,
  decodeAggregateEvents,
  deflateStored,
  encodeAggregate,
  encodeAggregateBody,
  inflateStored,
  mergeAggregates,
  restrictAggregate,
  rowEventFields,
  STORED_COMPRESSION,
  type ChunkAggregate,
} from '../../src/aggregates';
import { compactionRuns } from '../../src/aggregate-walk';
import { eventFields } from '../../src/event-fields';
import { accessRole } from '../../src/reader';
import {
  buildComplianceReport,
  MAX_LINEAGES,
  ReportAggregator,
  type ReportEntry,
  type ReportScope,
  type ReportWindow,
} from '../../src/report/model';
import { event } from './fixtures';

const T0 = 1_767_225_600_000;
const policy = parsePolicy(`
version: '1'
organization: Lakeside
data_classifications:
  confidential: {sensitivity: confidential, pii_fields: [grade], retention_days: 30, description: grades}
  health: {sensitivity: restricted, pii_fields: [dx], retention_days: 30, description: health}
agents:
  root-a: {scopes: ['vault:confidential:read'], constraints: {unconstrained: true}}
`);

/** A deterministic pseudo-random sequence (the same mix on every run). */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s * 1_664_525 + 1_013_904_223) >>> 0;
    return s / 2 ** 32;
  };
}

/** A varied chain: checks by roots and delegates (some unverified), denials, mints, revocations, approvals, untimed events. */
function chain(n: number, seed = 1): ReportEntry[] {
  const r = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(r() * xs.length)] as T;
  const out: ReportEntry[] = [];
  for (let i = 1; i <= n; i++) {
    const t = T0 + i * 1000 + Math.floor(r() * 3000) - 1500; // times slightly out of chain order
    const kind = r();
    let e: pb.AuditEvent;
    if (kind < 0.06) {
      e = event('acme', i, { timeMs: t, agent: pick(['root-a', 'root-b']), action: 'envelope.mint', resource: '' });
      e.detail = { case: 'issuance', value: createMessage(pb.IssuanceDetailSchema, { jti: `jti-${i % 17}` }) };
    } else if (kind < 0.1) {
      e = event('acme', i, { timeMs: t, agent: 'admin', action: pick(['envelope.revoke', 'agent.revoke']) });
      e.resource = e.action === 'agent.revoke' ? 'agents/root-a/c' : '';
      e.detail = {
        case: 'revocation',
        value: createMessage(pb.RevocationDetailSchema, {
          jti: `jti-${i % 17}`,
          agentId: r() < 0.5 ? '' : 'root-b',
          reason: 'lost',
        }),
      };
    } else if (kind < 0.14) {
      e = event('acme', i, { timeMs: t, agent: 'root-a', action: pick(['approval.request', 'approval.decide']) });
      e.detail = {
        case: 'approval',
        value: createMessage(pb.ApprovalDetailSchema, { approvalId: `apr-${i}`, status: pb.ApprovalStatus.APPROVED }),
      };
    } else {
      const root = pick(['root-a', 'root-b']);
      // Many distinct delegates under root-a: more lineages than the report lists (MAX_LINEAGES).
      const mid = `${root}/m${Math.floor(r() * (MAX_LINEAGES + 8))}`;
      // The same leaf under many delegates: more lineages than the report lists.
      const path = pick([[root], [root, mid], [root, mid, 'shared-leaf']]);
      e = event('acme', i, {
        timeMs: t,
        agent: path[path.length - 1] as string,
        chain: path.length > 1 ? path : [],
        unverified: r() < 0.05,
        resource: `slos://vaults/${pick(['confidential', 'health', 'public'])}/r${Math.floor(r() * 40)}`,
        decision: r() < 0.2 ? 'DENY' : 'ALLOW',
      });
      if (e.decision === pb.Decision.DENY && r() < 0.3) e.reason = pb.ReasonCode.REVOKED;
    }
    if (r() < 0.02)
      e.time = undefined; // no readable time: counted nowhere
    else e.time = timestampFromDate(new Date(t));
    const raw = encodeEvent(pb.AuditEventSchema, e);
    out.push({ seq: i, fields: eventFields(raw), raw });
  }
  return out;
}

const hashOf = (seq: number) => seq.toString(16).padStart(64, '0');

/** Splits the chain into chunks of varied sizes (1 to 100) and aggregates each, through the stored encoding. */
function chunks(entries: readonly ReportEntry[], seed: number): { agg: ChunkAggregate; entries: ReportEntry[] }[] {
  const r = prng(seed);
  const out: { agg: ChunkAggregate; entries: ReportEntry[] }[] = [];
  for (let i = 0; i < entries.length; ) {
    const size = 1 + Math.floor(r() * 100);
    const part = entries.slice(i, i + size);
    const built = buildChunkAggregate(
      'acme',
      part.map((e) => ({ seq: e.seq, hash: hashOf(e.seq), prevHash: hashOf(e.seq - 1), fields: e.fields, raw: e.raw })),
    );
    const { body, events } = encodeAggregate(built);
    const decoded = decodeAggregateBody(built, body);
    assert.ok(decoded, 'the stored encoding decodes');
    assert.ok(
      decoded.rows.every((r) => r.seqs === undefined),
      "the body holds no event's seq (they are in the events bytes)",
    );
    const { listedRaw: _, ...head } = built;
    const full = decodeAggregateEvents({ ...head, ...decoded }, events);
    assert.ok(full, 'the events bytes decode');
    out.push({ agg: full, entries: part });
    i += size;
  }
  return out;
}

const reportOf = (agg: ReportAggregator, window: ReportWindow) =>
  buildComplianceReport({
    tenant: 'acme',
    window,
    generatedAt: new Date(T0),
    policy: { tenant: 'acme', version: 1, sha256: 'a'.repeat(64), policy },
    aggregate: agg,
    verification: { ok: true, firstBadSeq: 0, fault: 'none', message: 'ok', checked: 1, headSeq: 1 },
    verifiedThroughSeq: 1,
  });

function fullScan(entries: readonly ReportEntry[], window: ReportWindow, scope: ReportScope) {
  const agg = new ReportAggregator(window, policy, scope);
  for (const e of entries) agg.add(e);
  return reportOf(agg, window);
}

/** What reader.report does with aggregates: whole chunks inside the window, the inside part of cut ones. */
function fromAggregates(
  parts: readonly { agg: ChunkAggregate; entries: ReportEntry[] }[],
  window: ReportWindow,
  scope: ReportScope,
) {
  const agg = new ReportAggregator(window, policy, scope);
  const from = window.startMs ?? Number.NEGATIVE_INFINITY;
  let whole = 0;
  let cut = 0;
  for (const { agg: g } of parts) {
    if (g.minMs === null || g.maxMs === null || g.maxMs < from || g.minMs > window.endMs) agg.skipAggregate(g);
    else if (g.minMs >= from && g.maxMs <= window.endMs) {
      agg.addAggregate(g);
      whole++;
    } else {
      // Cut by the window: only its events inside, from their times (no entries read).
      agg.addAggregate(restrictAggregate(g, from, window.endMs));
      cut++;
    }
  }
  const bySeq = new Map(parts.flatMap((p) => p.entries).map((e) => [e.seq, e]));
  agg.resolveListed(new Map(agg.listedSeqs().map((s) => [s, bySeq.get(s)!])));
  return { report: reportOf(agg, window), whole, cut };
}

describe('report and attestation from chunk aggregates', () => {
  const entries = chain(3000);
  const end = T0 + 3_100_000;
  const windows: ReportWindow[] = [
    { endMs: end },
    { startMs: T0 + 700_250, endMs: T0 + 2_200_750 },
    { startMs: T0 + 1_000_000, endMs: T0 + 1_000_500 },
  ];
  const scopes: ReportScope[] = [
    {},
    { agentId: 'root-a' },
    { agentId: 'root-a/m3' },
    { resourceGlob: 'slos://vaults/health/*' },
    { summary: true },
  ];

  it('equals the event-by-event report for every window and scope, whatever the chunking', () => {
    for (const seed of [7, 8]) {
      const parts = chunks(entries, seed);
      for (const window of windows) {
        for (const scope of scopes) {
          const a = fromAggregates(parts, window, scope);
          assert.deepEqual(a.report, fullScan(entries, window, scope), JSON.stringify({ seed, window, scope }));
          if (window.startMs !== undefined && window.endMs - window.startMs > 100_000) {
            assert.ok(a.whole > 0 && a.cut > 0, 'the window holds whole chunks and cuts others');
          }
        }
      }
    }
    // The chain exercises what the comparison is about.
    const full = fullScan(entries, windows[0]!, {});
    assert.ok(full.deniedEvents.omitted > 0 && full.revocations.rows.length > 0 && full.approvals.rows.length > 0);
    assert.ok(
      full.agents.some((x) => x.delegatedByOmitted > 0),
      'more lineages than listed',
    );
  });

  it('counts an attestation like the event-by-event count', () => {
    const parts = chunks(entries, 9);
    for (const [agent, pattern] of [
      ['root-a', 'slos://vaults/health/*'],
      ['root-b/m2', 'slos://vaults/*/r1*'],
      ['nobody', '*'],
    ] as const) {
      const window = { startMs: T0 + 500_123, endMs: T0 + 2_500_999 };
      const tally = () => ({ acted: 0, delegated: 0, denied: 0 });
      const add = (c: ReturnType<typeof tally>, f: Parameters<typeof accessRole>[0], n: number) => {
        const role = accessRole(f, agent, pattern, window);
        if (role === undefined) return;
        if (f.decision === 'ALLOW') c[role === 'ACTED' ? 'acted' : 'delegated'] += n;
        else if (f.decision === 'DENY') c.denied += n;
      };
      const byEvent = tally();
      for (const e of entries) if (e.fields) add(byEvent, e.fields, 1);
      const byAgg = tally();
      for (const { agg: g } of parts) {
        if (g.minMs === null || g.maxMs === null || g.maxMs < window.startMs || g.minMs > window.endMs) continue;
        if (g.minMs >= window.startMs && g.maxMs <= window.endMs) {
          for (const row of g.rows) add(byAgg, rowEventFields(row), row.count);
        } else {
          for (const row of restrictAggregate(g, window.startMs, window.endMs).rows)
            add(byAgg, rowEventFields(row), row.count);
        }
      }
      assert.deepEqual(byAgg, byEvent, `${agent} ${pattern}`);
      if (agent === 'root-a') assert.ok(byEvent.acted + byEvent.delegated > 0 && byEvent.denied > 0);
    }
  });

  it('groups events: fewer rows than events when keys repeat, untimed events in no row', () => {
    const repeated = Array.from({ length: 100 }, (_, k) => {
      const raw = encodeEvent(
        pb.AuditEventSchema,
        event('acme', k + 1, { timeMs: T0 + k, agent: 'root-a', resource: `slos://vaults/health/r${k % 4}` }),
      );
      return { seq: k + 1, hash: hashOf(k + 1), prevHash: hashOf(k), fields: eventFields(raw), raw };
    });
    repeated[5]!.fields = { ...repeated[5]!.fields!, timeMs: undefined };
    const g = buildChunkAggregate('acme', repeated);
    assert.equal(g.rows.length, 4);
    assert.equal(
      g.rows.reduce((s, x) => s + x.count, 0),
      99,
    );
    assert.deepEqual([g.firstSeq, g.lastSeq, g.prevHash, g.endHash], [1, 100, hashOf(0), hashOf(100)]);
    assert.deepEqual([g.minMs, g.maxMs], [T0, T0 + 99]);
  });

  it('a merge of consecutive aggregates is byte for byte the aggregate of all their entries', () => {
    const part = entries.slice(0, 700);
    const parts = chunks(part, 11).map((c) => c.agg);
    assert.ok(parts.length > 3);
    const merged = mergeAggregates(parts);
    const whole = buildChunkAggregate(
      'acme',
      part.map((e) => ({ seq: e.seq, hash: hashOf(e.seq), prevHash: hashOf(e.seq - 1), fields: e.fields, raw: e.raw })),
    );
    assert.ok(merged.rows.length < parts.reduce((n, p) => n + p.rows.length, 0), 'groups are deduplicated');
    assert.deepEqual(encodeAggregate(merged), encodeAggregate(whole));
    assert.equal(aggregateMismatch({ ...merged, body: encodeAggregateBody(merged) }, whole), undefined);
    assert.throws(() => mergeAggregates([parts[0]!, parts[2]!]), /do not follow/);
  });

  it('compaction runs: consecutive short aggregates adding up to the span; long ones and breaks end a run', () => {
    const agg = (first: number, last: number): ChunkAggregate => ({
      tenant: 'acme',
      firstSeq: first,
      lastSeq: last,
      prevHash: hashOf(first - 1),
      endHash: hashOf(last),
      minMs: null,
      maxMs: null,
      rows: [],
      mints: [],
    });
    const ranges = (runs: ChunkAggregate[][]) => runs.map((r) => r.map((a) => [a.firstSeq, a.lastSeq]));
    const used = [agg(1, 100), agg(101, 150), agg(151, 300), agg(301, 1300), agg(1301, 1400), agg(1401, 1450)];
    assert.deepEqual(ranges(compactionRuns(used, 200)), [
      [
        [1, 100],
        [101, 150],
        [151, 300],
      ],
    ]);
    // A gap (a hole read from entries) breaks a run; the newest, short of the span, wait.
    assert.deepEqual(ranges(compactionRuns([agg(1, 100), agg(201, 300), agg(301, 450)], 200)), [
      [
        [201, 300],
        [301, 450],
      ],
    ]);
    assert.deepEqual(compactionRuns([agg(1, 100), agg(101, 150)], 200), []);
  });

  it('a recomputation catches an edited count, a wrong hash or time range; garbage does not decode', () => {
    const [first] = chunks(entries.slice(0, 80), 3);
    const g = first!.agg;
    const stored = { ...g, body: encodeAggregateBody(g) };
    assert.equal(aggregateMismatch(stored, g), undefined);
    // A group hidden: the count an attacker would like to lower.
    const edited = { ...g, rows: g.rows.slice(1) };
    assert.match(aggregateMismatch({ ...stored, body: encodeAggregateBody(edited) }, g) ?? '', /does not count/);
    assert.match(aggregateMismatch({ ...stored, endHash: hashOf(999) }, g) ?? '', /chain hashes/);
    assert.match(aggregateMismatch({ ...stored, maxMs: (g.maxMs ?? 0) + 1 }, g) ?? '', /time range/);
    assert.match(aggregateMismatch({ ...stored, body: undefined }, g) ?? '', /does not count/);
    const e = '0'.repeat(64);
    for (const bad of [
      '',
      '{}',
      'not json',
      `{"d":[],"r":[["a"]],"m":[],"e":"${e}"}`,
      `{"d":[],"r":[],"m":[[0,1,2]],"e":"${e}"}`,
      `{"d":["a"],"r":[[0,[],0,0,0,0,0,1,0,0,[]]],"m":[],"e":"short"}`,
      // An index past the dictionary, a listed seq past the range, a listed check event that allows.
      `{"d":["a"],"r":[[0,[],0,0,1,0,0,1,0,0,[]]],"m":[],"e":"${e}"}`,
      `{"d":["a","DENY"],"r":[[0,[],0,0,0,1,0,1,0,0,[5000]]],"m":[],"e":"${e}"}`,
      `{"d":["a","ALLOW"],"r":[[0,[],0,0,0,1,0,1,0,0,[0]]],"m":[],"e":"${e}"}`,
    ]) {
      assert.equal(decodeAggregateBody({ firstSeq: 1, lastSeq: 100, minMs: T0 }, Buffer.from(bad)), undefined, bad);
    }
  });

  it('the events bytes are used only when they are the ones the sealed body names', () => {
    const [first] = chunks(entries.slice(0, 80), 5);
    const g = first!.agg;
    const { body, events } = encodeAggregate(g);
    const decoded = decodeAggregateBody(g, body)!;
    const bare = { ...g, ...decoded, rows: decoded.rows };
    assert.ok(decodeAggregateEvents(bare, events));
    // One event's time moved (a window edge an attacker would like to shift), same length.
    const edited = Buffer.from(
      events.toString('utf8').replace(/"t":\[\[(\d)/, (_m, d: string) => `"t":[[${(Number(d) + 1) % 10}`),
    );
    assert.notDeepEqual(edited, events);
    assert.equal(decodeAggregateEvents(bare, edited), undefined);
    assert.equal(decodeAggregateEvents({ ...bare, eventsDigest: undefined }, events), undefined);
    assert.throws(() => restrictAggregate(bare, T0, T0 + 10), /without its events/);
  });

  it('the stored form (deflated) gives back the exact bytes, and refuses what does not inflate', () => {
    const [first] = chunks(entries.slice(0, 80), 5);
    const { body, events } = encodeAggregate(first!.agg);
    for (const bytes of [body, events]) {
      const stored = deflateStored(bytes);
      assert.ok(stored.length < bytes.length, 'smaller stored');
      assert.deepEqual(Buffer.from(inflateStored(stored, STORED_COMPRESSION)!), bytes);
      // Stored before compression (no `z`): as it is.
      assert.equal(inflateStored(bytes, undefined), bytes);
      assert.equal(inflateStored(stored, 'zstd'), undefined, 'an unknown compression');
      assert.equal(inflateStored(bytes, STORED_COMPRESSION), undefined, 'not deflate data');
      assert.equal(inflateStored(stored.subarray(0, stored.length >> 1), STORED_COMPRESSION), undefined, 'cut');
    }
    assert.equal(inflateStored(undefined, STORED_COMPRESSION), undefined);
    // A document edited to inflate without bound is refused, not inflated (129 MiB of zeros).
    const bomb = deflateStored(Buffer.alloc(129 * 1024 * 1024));
    assert.ok(bomb.length < 200_000);
    assert.equal(inflateStored(bomb, STORED_COMPRESSION), undefined);
  });
});
