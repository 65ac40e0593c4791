// Unit tests of the auditor's pure parts: admitting records, reading event fields from raw bytes,
// HTML escaping and report rendering, page tokens, gRPC conversion, configuration and keys.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { cryptoReady, ed25519KeyPairFromSeed, sha256Hex } from '@authority/core';
import { ConfigError, loadConfig } from '@authority/platform';
import {
  createMessage,
  decodeEvent,
  encodeEvent,
  loadAuthorityProto,
  pb,
  timestampFromDate,
  type QueryEventsResponse__Output,
} from '@authority/proto';
import {
  admitRecord,
  auditorConfigSchema,
  auditorKeyId,
  AuditorKeys,
  escapeHtml,
  eventFields,
  renderComplianceHtml,
  type ComplianceReport,
} from '../../src/index';
import { toGrpcObject, type DescMessageLike } from '../../src/grpc-convert';
import { decodePageToken, encodePageToken } from '../../src/tokens';
import { h } from '../../src/report/html';
import { classificationPattern } from '../../src/report/model';
import { REPORT_SECTIONS } from '../report-sections';
import { event } from './fixtures';

const headers = (subject?: string): Record<string, Buffer> =>
  subject === undefined ? {} : { ce_subject: Buffer.from(subject) };

describe('admitRecord', () => {
  const e = event('acme', 1);
  const value = encodeEvent(pb.AuditEventSchema, e);
  const rec = (over: Partial<{ key: Buffer | null; value: Buffer | null; headers: Record<string, Buffer> }>) => ({
    key: Buffer.from('acme'),
    value,
    headers: headers('acme'),
    partition: 2,
    offset: '7',
    ...over,
  });

  it('admits an event whose record key and ce_subject name its tenant, keeping the exact bytes', () => {
    const r = admitRecord(rec({}));
    assert.ok(r.ok);
    assert.equal(r.tenant, 'acme');
    assert.equal(r.eventId, 'acme-1');
    assert.equal(r.raw, value);
    assert.equal(r.fields.decision, 'ALLOW');
  });

  it('refuses (for quarantine) every record that could land in the wrong chain or is not an event', () => {
    const cases: [Partial<Parameters<typeof rec>[0]>, RegExp][] = [
      [{ key: Buffer.from('globex') }, /record key 'globex' does not match the event's tenant 'acme'/],
      [{ key: null }, /no key/],
      [{ headers: headers('globex') }, /ce_subject 'globex' does not match/],
      [{ headers: {} }, /no ce_subject/],
      [{ value: null }, /tombstone/],
      [{ value: Buffer.from('[1,2]') }, /not a JSON object/],
      [{ value: Buffer.from('{"eventId":"x","tenant":"acme","actor":"someone"}') }, /not an AuditEvent/],
      [{ value: Buffer.from('{"tenant":"acme"}') }, /no event_id/],
      [{ value: Buffer.from('{"eventId":"x"}'), key: Buffer.from(''), headers: headers('') }, /no tenant/],
      [{ value: Buffer.from('{"eventId":"x","event_id":"y","tenant":"acme"}') }, /ambiguous|not an AuditEvent/],
    ];
    for (const [over, reason] of cases) {
      const r = admitRecord(rec(over));
      assert.equal(r.ok, false, String(reason));
      if (!r.ok) assert.match(r.reason, reason);
    }
  });

  it('admits events from newer producers (unknown fields and enum values), indexing enum names as written', () => {
    const r = admitRecord(
      rec({ value: Buffer.from('{"eventId":"x","tenant":"acme","decision":"MAYBE","futureField":{"a":1}}') }),
    );
    assert.ok(r.ok);
    assert.equal(r.fields.decision, 'MAYBE');
  });
});

describe('eventFields', () => {
  it('reads what protobuf-es decodes, for generated events', () => {
    const arb = fc.record({
      agent: fc.string(),
      resource: fc.string(),
      action: fc.constantFrom('check', 'envelope.mint', ''),
      decision: fc.constantFrom(pb.Decision.ALLOW, pb.Decision.DENY, pb.Decision.DECISION_UNSPECIFIED),
      reason: fc.constantFrom(pb.ReasonCode.ALLOWED, pb.ReasonCode.REVOKED, pb.ReasonCode.REASON_CODE_UNSPECIFIED),
      ms: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      id: fc.string({ minLength: 1 }),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const e = createMessage(pb.AuditEventSchema, {
          eventId: a.id,
          tenant: 't',
          time: timestampFromDate(new Date(a.ms)),
          actor: createMessage(pb.ActorSchema, { agentId: a.agent }),
          action: a.action,
          resource: a.resource,
          decision: a.decision,
          reason: a.reason,
        });
        const raw = encodeEvent(pb.AuditEventSchema, e);
        const f = eventFields(raw)!;
        const d = decodeEvent(pb.AuditEventSchema, raw);
        assert.equal(f.eventId, d.eventId);
        assert.equal(f.agent, d.actor?.agentId ?? '');
        assert.equal(f.resource, d.resource);
        assert.equal(f.action, d.action);
        assert.equal(f.decision, pb.Decision[d.decision]);
        assert.equal(f.reason, pb.ReasonCode[d.reason]);
        assert.equal(f.timeMs, a.ms);
      }),
    );
  });

  it('accepts the other proto3 JSON spellings (field names, enum numbers)', () => {
    const f = eventFields(
      Buffer.from(
        '{"event_id":"e","tenant":"t","actor":{"agent_id":"a"},"decision":2,"reason":5,"trace_id":"x","time":"2026-01-01T00:00:00.5Z"}',
      ),
    )!;
    assert.deepEqual(
      [f.eventId, f.agent, f.decision, f.reason, f.traceId, f.timeMs],
      ['e', 'a', pb.Decision[2], pb.ReasonCode[5], 'x', Date.UTC(2026, 0, 1, 0, 0, 0, 500)],
    );
  });
});

describe('HTML', () => {
  it('escapes every markup-significant character, for any string', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (s) => {
        const out = escapeHtml(s);
        assert.doesNotMatch(out, /[<>"'`]/);
        assert.doesNotMatch(out, /&(?!amp;|lt;|gt;|quot;|#39;|#96;)/);
        const back = out
          .replace(/&lt;/g, '<')
          .replace(/&gt;/g, '>')
          .replace(/&quot;/g, '"')
          .replace(/&#39;/g, "'")
          .replace(/&#96;/g, '`')
          .replace(/&amp;/g, '&');
        // eslint-disable-next-line no-control-regex -- the escaper replaces these; so does the oracle
        assert.equal(back, s.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\u007f]/g, '\uFFFD'));
      }),
    );
    assert.equal(h`<td>${'<script>'}</td>${h`<b>${'&'}</b>`}`.value, '<td>&lt;script&gt;</td><b>&amp;</b>');
  });

  it('renders every section with hostile strings as text only', () => {
    const bad = `</td><script>alert(1)</script><img src=x onerror="y">'`;
    const report: ComplianceReport = {
      reportType: 'compliance',
      formatVersion: 3,
      tenant: bad,
      generatedAt: '2026-01-01T00:00:00.000Z',
      scope: { agentId: bad, resourceGlob: bad, summary: false },
      window: { start: '2026-01-01T00:00:00.000Z', end: '2026-01-02T00:00:00.000Z', startBasis: 'requested' },
      policy: {
        version: 1,
        sha256: 'a'.repeat(64),
        organization: bad,
        policyVersion: bad,
        complianceFrameworks: [bad],
      },
      coverage: { fromSeq: 1, verifiedThroughSeq: 2, headSeq: 2 },
      executiveSummary: {
        totalEvents: 2,
        allowed: 1,
        denied: 1,
        otherDecisions: 0,
        accessChecks: 2,
        accessAllowed: 1,
        accessDenied: 1,
        denyRate: 0.5,
        adminEvents: 0,
        adminDenied: 0,
        agents: 1,
        reasons: [{ key: bad, count: 1 }],
        actions: [{ key: bad, count: 2 }],
      },
      agents: [
        {
          agentId: bad,
          events: 2,
          acted: 1,
          delegated: 1,
          unverifiedAttempts: 1,
          delegatedBy: [bad],
          delegatedByOmitted: 0,
          lineage: `${bad}, delegated by ${bad}`,
          allowed: 1,
          denied: 1,
          accessChecks: 2,
          distinctResources: 2,
          distinctResourcesCapped: false,
          denyReasons: [{ key: bad, count: 1 }],
          firstSeen: null,
          lastSeen: null,
          inPolicy: false,
          policyEntry: bad,
          revokedDenials: 1,
        },
      ],
      resources: {
        rows: [{ resource: bad, accessChecks: 1, allowed: 0, denied: 1, agents: 1 }],
        omitted: 1,
        partial: true,
      },
      approvals: {
        rows: [
          {
            time: bad,
            seq: 1,
            action: bad,
            approvalId: bad,
            status: bad,
            agentId: bad,
            resource: bad,
            requiredScope: bad,
            purpose: bad,
            principal: bad,
            comment: bad,
          },
        ],
        omitted: 1,
      },
      revocations: {
        rows: [{ time: bad, seq: 2, action: bad, jti: bad, agentId: bad, reason: bad, principal: bad }],
        omitted: 0,
      },
      deniedEvents: {
        rows: [
          {
            time: bad,
            seq: 3,
            eventId: bad,
            decisionId: bad,
            agentId: bad,
            action: bad,
            resource: bad,
            reason: bad,
            message: bad,
          },
        ],
        omitted: 2,
      },
      attestationMatrix: {
        basis: bad,
        classifications: [{ domain: bad, pattern: classificationPattern(bad) }],
        rows: [
          {
            agentId: bad,
            cells: [
              {
                domain: bad,
                pattern: bad,
                allowed: 1,
                allowedActed: 0,
                allowedDelegated: 1,
                denied: 1,
                neverAccessed: false,
              },
            ],
          },
        ],
      },
      chainVerification: {
        ok: false,
        fault: bad,
        firstBadSeq: 2,
        message: bad,
        checked: 1,
        headSeq: 2,
        checkpoint: { tenant: bad, seq: 1, headHash: bad, time: bad, keyId: bad, signature: bad },
        entriesAfterCheckpoint: 1,
      },
      dataClassifications: [
        { domain: bad, sensitivity: bad, piiFields: [bad], retentionDays: 1, description: bad, pattern: bad },
      ],
    };
    const html = renderComplianceHtml(report, { keyId: bad, issuedAt: 1 });
    assert.doesNotMatch(html, /<script|<img/i);
    assert.doesNotMatch(
      html,
      /<[a-z][^>]*\s(src|href|srcset|action|formaction|on[a-z]+)\s*=/i,
      'no tag carries a link, source or handler',
    );
    assert.match(
      html,
      /&lt;\/td&gt;&lt;script&gt;alert\(1\)&lt;\/script&gt;&lt;img src=x onerror=&quot;y&quot;&gt;&#39;/,
    );
    for (const id of [...REPORT_SECTIONS, 'signature']) {
      assert.match(html, new RegExp(`<section id="${id}">`));
    }
    assert.match(html, /Content-Security-Policy" content="default-src 'none'/);
  });
});

describe('page tokens', () => {
  it('round-trip for their tenant and kind, and are refused for any other', () => {
    const t = encodePageToken('q', 'alpha', 42);
    assert.equal(decodePageToken('q', 'alpha', t), 42);
    assert.throws(() => decodePageToken('q', 'beta', t), /another tenant/);
    assert.throws(() => decodePageToken('c', 'alpha', t), /page_token/);
    assert.throws(() => decodePageToken('q', 'alpha', `${t}x`), /page_token/);
    assert.throws(
      () => decodePageToken('q', 'alpha', Buffer.from('{"k":"q","t":"alpha","s":-1}').toString('base64url')),
      /page_token/,
    );
  });
});

describe('toGrpcObject', () => {
  it('turns a decoded audit event into what proto-loader serializes, round trip intact', () => {
    const e = event('acme', 3, { decision: 'DENY' });
    const obj = toGrpcObject(pb.AuditEventSchema as unknown as DescMessageLike, e)!;
    assert.equal(obj['decision'], 'DENY');
    assert.equal(obj['detail'], 'check');
    const { packageDefinition } = loadAuthorityProto();
    const service = packageDefinition['authority.v1.AuditorService'] as unknown as Record<
      string,
      { responseSerialize(v: unknown): Buffer; responseDeserialize(b: Buffer): QueryEventsResponse__Output }
    >;
    const type = service['QueryEvents']!;
    const bytes = type.responseSerialize({ entries: [{ seq: '1', event: obj }], nextPageToken: '' });
    const back = type.responseDeserialize(bytes);
    const got = back.entries[0]!.event!;
    assert.equal(got.eventId, 'acme-3');
    assert.equal(got.reason, 'DENIED_RESOURCE');
    assert.equal(got.time!.seconds, String(e.time!.seconds));
    assert.equal(got.check!.decisionId, 'd3');
  });
});

describe('configuration and keys', () => {
  before(async () => {
    await cryptoReady();
  });
  const base = { KAFKA_BROKERS: 'k:9092', MONGODB_URI: 'mongodb://m', AUTHORITY_OPERATOR_API_KEY: 'op-key-0123456789' };

  it('requires a 32-byte base64 signing seed and names the variable without echoing it', () => {
    assert.throws(
      () => loadConfig(auditorConfigSchema, { ...base, AUTHORITY_AUDITOR_SIGNING_KEY: 'c2hvcnQ=' }),
      (e: unknown) =>
        e instanceof ConfigError && /AUTHORITY_AUDITOR_SIGNING_KEY/.test(e.message) && !e.message.includes('c2hvcnQ='),
    );
    const c = loadConfig(auditorConfigSchema, {
      ...base,
      AUTHORITY_AUDITOR_SIGNING_KEY: Buffer.alloc(32, 1).toString('base64'),
    });
    assert.equal(c.AUTHORITY_CHECKPOINT_EVERY, 1000);
    assert.equal(c.AUTHORITY_CHECKPOINT_INTERVAL, 30_000);
    assert.equal(c.AUTHORITY_AUDITOR_GROUP_ID, 'authority-auditor');
    assert.equal(c.AUTHORITY_GRPC_PORT, 50054);
  });

  it('derives key ids from public keys and keeps previous keys verify-only', () => {
    const old = ed25519KeyPairFromSeed(Buffer.alloc(32, 2));
    const keys = new AuditorKeys(Buffer.alloc(32, 1), [old.publicKey]);
    assert.equal(keys.keyId, sha256Hex(keys.publicKey).slice(0, 16));
    assert.equal(auditorKeyId(old.publicKey), sha256Hex(old.publicKey).slice(0, 16));
    assert.deepEqual(
      keys.list().map((k) => k.active),
      [true, false],
    );
    assert.deepEqual(keys.resolve(auditorKeyId(old.publicKey)), old.publicKey);
    assert.equal(keys.resolve('unknown'), undefined);
    const c = loadConfig(auditorConfigSchema, {
      ...base,
      AUTHORITY_AUDITOR_SIGNING_KEY: Buffer.alloc(32, 1).toString('base64'),
      AUTHORITY_AUDITOR_PREVIOUS_KEYS: `${Buffer.from(old.publicKey).toString('base64')}`,
    });
    assert.equal(c.AUTHORITY_AUDITOR_PREVIOUS_KEYS?.length, 1);
    assert.throws(
      () =>
        loadConfig(auditorConfigSchema, {
          ...base,
          AUTHORITY_AUDITOR_SIGNING_KEY: Buffer.alloc(32).toString('base64'),
          AUTHORITY_AUDITOR_PREVIOUS_KEYS: 'AAAA',
        }),
      /AUTHORITY_AUDITOR_PREVIOUS_KEYS/,
    );
  });
});
