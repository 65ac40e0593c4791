// The compliance report as a compliance officer reads it (issue 16): the window, the deny rate,
// delegates and their policy entry, revoked denials, approvals, revocations, denied events,
// scopes, unbreakable identifiers, and the report's own signature (one changed byte fails it).
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { cryptoReady, parsePolicy, signCheckpoint, verifySignedReport, type SignedCheckpoint } from '@authority/core';
import { createMessage, encodeEvent, pb, timestampFromDate } from '@authority/proto';
import { eventFields } from '../../src/event-fields';
import { idChunks, renderComplianceHtml } from '../../src/report/html';
import {
  buildComplianceReport,
  MAX_LISTED_EVENTS,
  ReportAggregator,
  type ReportScope,
  type ReportWindow,
} from '../../src/report/model';
import { signedReportHtml, signedReportJson } from '../../src/report/sign';
import type { AuditorKeys } from '../../src/keys';
import { event, newKeys } from './fixtures';

const T0 = 1_767_225_600_000;
const ROOT = 'academic-advisor';
const CHILD = 'academic-advisor/summarizer';
const policy = parsePolicy(`
version: '1'
organization: Lakeside
data_classifications:
  confidential:
    sensitivity: confidential
    pii_fields: [grade]
    retention_days: 30
    description: grades
agents:
  ${ROOT}:
    scopes: ['vault:confidential:read']
    resources: ['slos://vaults/confidential/*']
    constraints: {unconstrained: true}
`);

/** An administrative or detailed event: a check event with its action and detail replaced. */
function adminEvent(
  n: number,
  over: {
    action: string;
    principal?: string;
    decision?: 'ALLOW' | 'DENY';
    reason?: pb.ReasonCode;
    resource?: string;
    agent?: string;
    detail?: pb.AuditEvent['detail'];
    message?: string;
  },
): pb.AuditEvent {
  const e = event('acme', n, { timeMs: T0 + n * 1000, agent: over.agent ?? '' });
  e.action = over.action;
  e.resource = over.resource ?? '';
  e.actor!.principal = over.principal ?? 'cred-admin';
  e.actor!.jtiChain = [];
  e.decision = over.decision === 'DENY' ? pb.Decision.DENY : pb.Decision.ALLOW;
  e.reason = over.reason ?? (over.decision === 'DENY' ? pb.ReasonCode.CHAIN_VIOLATION : pb.ReasonCode.ALLOWED);
  e.message = over.message ?? '';
  e.detail = over.detail ?? { case: undefined };
  return e;
}

function report(events: pb.AuditEvent[], window: ReportWindow, scope: ReportScope = {}, cp?: SignedCheckpoint) {
  const agg = new ReportAggregator(window, policy, scope);
  events.forEach((e, i) => {
    const raw = encodeEvent(pb.AuditEventSchema, e);
    agg.add({ seq: i + 1, fields: eventFields(raw), raw });
  });
  return buildComplianceReport({
    tenant: 'acme',
    window,
    generatedAt: new Date(T0 + 10_000_000),
    policy: { tenant: 'acme', version: 1, sha256: 'a'.repeat(64), policy },
    aggregate: agg,
    verification: {
      ok: true,
      firstBadSeq: 0,
      fault: 'none',
      message: 'ok',
      checked: events.length,
      headSeq: events.length,
      ...(cp ? { checkpoint: cp } : {}),
    },
    verifiedThroughSeq: events.length,
  });
}

const checks = (from: number, n: number, over: Parameters<typeof event>[2] = {}) =>
  Array.from({ length: n }, (_, i) => event('acme', from + i, { timeMs: T0 + (from + i) * 1000, ...over }));

describe('the compliance report, as a compliance officer reads it', () => {
  const end = T0 + 9_000_000;

  it("starts the window at the chain's first entry when no start is given (never 1970)", () => {
    const events = checks(5, 3);
    const r = report(events, { endMs: end });
    assert.equal(r.window.start, new Date(T0 + 5000).toISOString());
    assert.equal(r.window.startBasis, 'first-entry');
    assert.equal(r.executiveSummary.totalEvents, 3);
    const given = report(events, { startMs: T0 + 6000, endMs: end });
    assert.deepEqual([given.window.start, given.window.startBasis], [new Date(T0 + 6000).toISOString(), 'requested']);
    assert.equal(given.executiveSummary.totalEvents, 2);
    const empty = report([], { endMs: end });
    assert.deepEqual([empty.window.start, empty.window.startBasis], [new Date(end).toISOString(), 'empty-chain']);
    assert.doesNotMatch(renderComplianceHtml(r), /1970-01-01/);
  });

  it('computes the deny rate over access checks only, with administrative events apart', () => {
    const events = [
      ...checks(1, 3),
      event('acme', 4, { timeMs: T0 + 4000, decision: 'DENY' }),
      adminEvent(5, { action: 'envelope.mint' }),
      adminEvent(6, { action: 'envelope.delegate', decision: 'DENY' }),
    ];
    const s = report(events, { endMs: end }).executiveSummary;
    assert.deepEqual(
      [s.accessChecks, s.accessAllowed, s.accessDenied, s.denyRate, s.adminEvents, s.adminDenied],
      [4, 3, 1, 0.25, 2, 1],
    );
    assert.deepEqual([s.totalEvents, s.denied], [6, 2]);
  });

  it('shows a delegate in policy via its root, and puts REVOKED denials in the agents’ rows', () => {
    const revoked = event('acme', 3, {
      timeMs: T0 + 3000,
      agent: CHILD,
      chain: [ROOT, CHILD],
      unverified: true,
      decision: 'DENY',
      resource: 'slos://vaults/confidential/r3',
    });
    revoked.reason = pb.ReasonCode.REVOKED;
    const events = [
      event('acme', 1, { timeMs: T0 + 1000, agent: CHILD, chain: [ROOT, CHILD] }),
      event('acme', 2, { timeMs: T0 + 2000, agent: 'stranger' }),
      revoked,
    ];
    const r = report(events, { endMs: end });
    const row = (id: string) => r.agents.find((a) => a.agentId === id)!;
    assert.deepEqual([row(CHILD).inPolicy, row(CHILD).policyEntry], [false, ROOT]);
    assert.deepEqual([row(ROOT).inPolicy, row(ROOT).policyEntry], [true, ROOT]);
    assert.deepEqual([row('stranger').inPolicy, row('stranger').policyEntry], [false, null]);
    assert.deepEqual([row(CHILD).denied, row(CHILD).revokedDenials], [1, 1]);
    assert.deepEqual([row(ROOT).denied, row(ROOT).revokedDenials], [1, 1]);
    assert.deepEqual(row(CHILD).denyReasons, [{ key: 'REVOKED', count: 1 }]);
    const html = renderComplianceHtml(r);
    assert.match(html, /via root <code class="id"><span>academic-advisor<\/span><\/code>/);
  });

  it('lists approvals (who, when, comment), revocations and denied events with decision ids, bounded', () => {
    const approval = (n: number, action: string, status: pb.ApprovalStatus, principal: string, comment = '') =>
      adminEvent(n, {
        action,
        principal,
        agent: ROOT,
        resource: 'slos://vaults/confidential/r1',
        detail: {
          case: 'approval',
          value: createMessage(pb.ApprovalDetailSchema, {
            approvalId: 'apr-1',
            status,
            requiredScope: 'vault:confidential:read',
            purpose: 'term-audit',
            expiresAt: timestampFromDate(new Date(T0 + 99_000)),
            comment,
          }),
        },
      });
    const events = [
      approval(1, 'approval.request', pb.ApprovalStatus.PENDING, 'cred-checker'),
      approval(2, 'approval.decide', pb.ApprovalStatus.APPROVED, 'cred-approver', 'ok for the term audit'),
      adminEvent(3, {
        action: 'envelope.revoke',
        agent: CHILD,
        detail: {
          case: 'revocation',
          value: createMessage(pb.RevocationDetailSchema, { jti: 'j9', agentId: CHILD, reason: 'lost laptop' }),
        },
      }),
      ...checks(4, MAX_LISTED_EVENTS + 5, { decision: 'DENY' }),
    ];
    const r = report(events, { endMs: end });
    assert.deepEqual(
      r.approvals.rows.map((a) => [a.action, a.status, a.principal, a.comment, a.approvalId, a.purpose]),
      [
        ['approval.request', 'PENDING', 'cred-checker', '', 'apr-1', 'term-audit'],
        ['approval.decide', 'APPROVED', 'cred-approver', 'ok for the term audit', 'apr-1', 'term-audit'],
      ],
    );
    assert.equal(r.approvals.rows[1]!.time, new Date(T0 + 2000).toISOString());
    assert.deepEqual(
      r.revocations.rows.map((x) => [x.action, x.jti, x.agentId, x.reason, x.principal]),
      [['envelope.revoke', 'j9', CHILD, 'lost laptop', 'cred-admin']],
    );
    assert.equal(r.deniedEvents.rows.length, MAX_LISTED_EVENTS);
    assert.equal(r.deniedEvents.omitted, 5);
    assert.deepEqual(
      [r.deniedEvents.rows[0]!.decisionId, r.deniedEvents.rows[0]!.eventId, r.deniedEvents.rows[0]!.seq],
      ['d4', 'acme-4', 4],
    );
    const html = renderComplianceHtml(r);
    for (const text of ['ok for the term audit', 'lost laptop', 'and 5 more denied events not listed']) {
      assert.ok(html.includes(text), text);
    }
    assert.match(html, /<span>d4<\/span>/);
  });

  it('scopes a report to one agent or a resource glob, and a summary leaves the lists out', () => {
    const events = [
      event('acme', 1, {
        timeMs: T0 + 1000,
        agent: CHILD,
        chain: [ROOT, CHILD],
        resource: 'slos://vaults/confidential/a',
      }),
      event('acme', 2, { timeMs: T0 + 2000, agent: 'other', resource: 'slos://vaults/public/b', decision: 'DENY' }),
      event('acme', 3, { timeMs: T0 + 3000, agent: ROOT, resource: 'slos://vaults/public/c' }),
    ];
    const byAgent = report(events, { endMs: end }, { agentId: ROOT });
    assert.equal(byAgent.executiveSummary.totalEvents, 2, 'the events on whose path the root is');
    assert.deepEqual(byAgent.scope, { agentId: ROOT, resourceGlob: null, summary: false });
    assert.deepEqual(
      byAgent.agents.map((a) => a.agentId),
      [ROOT, CHILD],
    );
    const byResource = report(events, { endMs: end }, { resourceGlob: 'slos://vaults/public/*' });
    assert.deepEqual(
      [byResource.executiveSummary.totalEvents, byResource.resources.rows.map((x) => x.resource)],
      [2, ['slos://vaults/public/b', 'slos://vaults/public/c']],
    );
    const summary = report(events, { endMs: end }, { summary: true });
    assert.equal(summary.executiveSummary.totalEvents, 3);
    assert.deepEqual([summary.agents, summary.resources.rows, summary.deniedEvents.rows], [[], [], []]);
    const html = renderComplianceHtml(summary);
    assert.doesNotMatch(html, /<section id="agents">/);
    assert.match(html, /<section id="executive-summary">/);
  });

  it('never breaks a word: identifiers wrap only after separators (/ : ? & = …; runs over 40 characters every 16)', () => {
    assert.deepEqual(idChunks('academic-advisor'), ['academic-advisor']);
    assert.deepEqual(idChunks('confidential'), ['confidential']);
    for (const whole of ['RESOURCE_NOT_ALLOWED', 'approval.decide', '22b8dd23-c18b-498b-9f01-51a17cdbf7cc'])
      assert.deepEqual(idChunks(whole), [whole]);
    assert.deepEqual(idChunks('slos://vaults/confidential/r1'), ['slos:', '/', '/', 'vaults/', 'confidential/', 'r1']);
    const hash = 'ab'.repeat(32);
    assert.deepEqual(idChunks(hash), [hash.slice(0, 16), hash.slice(16, 32), hash.slice(32, 48), hash.slice(48)]);
    assert.equal(idChunks(`${CHILD}/x`).join(''), `${CHILD}/x`);
    const html = renderComplianceHtml(report(checks(1, 2, { agent: ROOT }), { endMs: end }));
    assert.doesNotMatch(html, /break-all|hyphens:\s*auto|word-break:\s*break-word|overflow-wrap:\s*anywhere/);
    assert.match(html, /hyphens:none/);
    // Every identifier is split into unbreakable chunks; the hyphen of an agent id is inside one.
    assert.match(html, /<span>academic-advisor<\/span>/);
  });
});

describe("the report's own signature", () => {
  let keys: AuditorKeys;
  let cp: SignedCheckpoint;
  before(async () => {
    await cryptoReady();
    keys = newKeys();
    cp = signCheckpoint(
      { tenant: 'acme', seq: 3, headHash: 'c'.repeat(64), time: 1_767_225_700 },
      keys.secretKey(),
      keys.keyId,
    );
  });
  const resolve = () => (id: string) => keys.resolve(id);
  const signedEvents = () => [
    ...checks(1, 2, { agent: ROOT }),
    event('acme', 3, { timeMs: T0 + 3000, decision: 'DENY' }),
  ];

  it('signs the JSON form bound to the checkpoint; one changed value fails with a precise message', () => {
    const r = report(signedEvents(), { endMs: T0 + 9_000_000 }, {}, cp);
    const signed = signedReportJson(r, keys, new Date(T0 + 10_000_000));
    assert.deepEqual(signed.signature?.checkpoint, { seq: 3, headHash: 'c'.repeat(64) });
    const text = JSON.stringify(signed, null, 2);
    const ok = verifySignedReport(text, resolve());
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.deepEqual([ok.format, ok.tenant, ok.checkpointSeq], ['json', 'acme', 3]);

    const tampered = text.replace('"accessDenied": 1', '"accessDenied": 0');
    assert.notEqual(tampered, text);
    const bad = verifySignedReport(tampered, resolve());
    assert.equal(bad.ok, false);
    assert.match((bad.content as { message: string }).message, /report content was changed after signing/);

    const otherCp = text.replace('"seq": 3,', '"seq": 2,');
    assert.match(JSON.stringify(verifySignedReport(otherCp, resolve())), /report content was changed after signing/);
    const unknownKey = verifySignedReport(text, () => undefined);
    assert.match((unknownKey.signature as { message: string }).message, /unknown key/);
  });

  it('signs the page: one changed byte anywhere (visible text or the embedded content) fails', () => {
    const r = report(signedEvents(), { endMs: T0 + 9_000_000 }, {}, cp);
    const html = signedReportHtml(r, keys, new Date(T0 + 10_000_000));
    assert.match(html, /<section id="signature">[\s\S]*bound to the checkpoint at seq 3/);
    const ok = verifySignedReport(html, resolve());
    assert.equal(ok.ok, true, JSON.stringify(ok));
    assert.equal(ok.format, 'html');

    // A byte of the visible page.
    const i = html.indexOf('Executive summary');
    const visible = `${html.slice(0, i)}F${html.slice(i + 1)}`;
    const v1 = verifySignedReport(visible, resolve());
    assert.equal(v1.ok, false);
    assert.match((v1.content as { message: string }).message, /the page was changed after signing/);

    // A byte of the embedded content (a count).
    const slot = html.indexOf('&quot;accessDenied&quot;:1');
    assert.ok(slot > 0);
    const embedded = html.replace('&quot;accessDenied&quot;:1', '&quot;accessDenied&quot;:2');
    const v2 = verifySignedReport(embedded, resolve());
    assert.equal(v2.ok, false);
    assert.match((v2.content as { message: string }).message, /report content was changed after signing/);

    // The signature itself.
    const sigAt = html.indexOf('&quot;signature&quot;:&quot;', html.indexOf('&quot;contentSha256&quot;'));
    const p = sigAt + '&quot;signature&quot;:&quot;'.length + 3;
    const flipped = `${html.slice(0, p)}${html[p] === 'A' ? 'B' : 'A'}${html.slice(p + 1)}`;
    const v3 = verifySignedReport(flipped, resolve());
    assert.equal(v3.ok, false);
    assert.match((v3.signature as { message: string }).message, /report signature does not verify/);
  });

  it('leaves a report without a checkpoint unsigned, and verification refuses it', () => {
    const r = report(signedEvents(), { endMs: T0 + 9_000_000 });
    const json = signedReportJson(r, keys, new Date(T0));
    assert.equal(json.signature, null);
    const v = verifySignedReport(JSON.stringify(json), resolve());
    assert.equal(v.ok, false);
    assert.match((v.content as { message: string }).message, /not signed/);
    const html = signedReportHtml(r, keys, new Date(T0));
    assert.match(html, /UNSIGNED/);
    assert.match(JSON.stringify(verifySignedReport(html, resolve())), /no signed report/);
  });
});
