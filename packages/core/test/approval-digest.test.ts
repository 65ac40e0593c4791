// The approval request digest: the documented canonical encoding (checked against an independent
// encoder written from the module comment), every field counts, absent and empty agree where
// proto3 cannot tell them apart, no two different requests share an encoding (property), and the
// difference of two requests names the field that differs.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { AuthorityError } from '../src/errors';
import {
  APPROVAL_DIGEST_TAG,
  approvalBindingDifference,
  approvalRequestDigest,
  encodeApprovalBinding,
  type ApprovalBinding,
} from '../src/check';

const BASE: ApprovalBinding = {
  tenant: 'school',
  agent: 'grading-bot/helper',
  requiredScope: 'grades:class-7:write',
  action: 'write',
  resource: 'slos://school/grades/class-7',
  purpose: 'fix a typo',
  recordCount: 1,
  contextFields: { ticket: 'T-1', class: '7b' },
  chain: ['AAAAAAAAAAAAAAAAAAAAAA', 'BBBBBBBBBBBBBBBBBBBBBB'],
  agentChain: ['grading-bot', 'grading-bot/helper'],
};

/** The encoding as docs and the module comment state it, written independently. */
function referenceEncoding(b: ApprovalBinding): Buffer {
  const out: number[] = [];
  const u32 = (n: number) => out.push((n >>> 24) & 255, (n >>> 16) & 255, (n >>> 8) & 255, n & 255);
  const str = (s: string) => {
    const bytes = [...new TextEncoder().encode(s)];
    u32(bytes.length);
    out.push(...bytes);
  };
  const opt = (s: string | undefined) => (s ? (out.push(1), str(s)) : out.push(0));
  str('authority.approval-request.v1');
  str(b.tenant);
  str(b.agent);
  str(b.requiredScope);
  str(b.action);
  opt(b.resource);
  opt(b.purpose);
  if (b.recordCount === undefined) out.push(0);
  else {
    out.push(1);
    const hex = BigInt(b.recordCount).toString(16).padStart(16, '0');
    for (let i = 0; i < 16; i += 2) out.push(parseInt(hex.slice(i, i + 2), 16));
  }
  const fields = Object.entries(b.contextFields ?? {}).sort(([x], [y]) =>
    Buffer.compare(Buffer.from(x), Buffer.from(y)),
  );
  u32(fields.length);
  for (const [k, v] of fields) {
    str(k);
    str(v);
  }
  u32(b.chain.length);
  b.chain.forEach((jti, i) => {
    str(jti);
    str(b.agentChain[i]!);
  });
  return Buffer.from(out);
}

describe('approvalRequestDigest', () => {
  test('is the hex SHA-256 of the documented encoding', () => {
    assert.equal(APPROVAL_DIGEST_TAG, 'authority.approval-request.v1');
    for (const b of [
      BASE,
      { ...BASE, resource: undefined, purpose: undefined, recordCount: undefined, contextFields: undefined },
      { ...BASE, recordCount: 2 ** 53 - 1, contextFields: { é: 'x', z: '', '\u{1F600}': 'y', '\uffff': 'w' } },
    ]) {
      assert.deepEqual(encodeApprovalBinding(b), referenceEncoding(b));
      assert.equal(approvalRequestDigest(b), createHash('sha256').update(referenceEncoding(b)).digest('hex'));
    }
    assert.match(approvalRequestDigest(BASE), /^[0-9a-f]{64}$/);
  });

  test('every single field changed gives another digest, and the difference names that field', () => {
    const changes: [string, Partial<ApprovalBinding>, RegExp][] = [
      ['tenant', { tenant: 'school-2' }, /^tenant: /],
      ['agent', { agent: 'grading-bot' }, /^agent_id: /],
      ['scope', { requiredScope: 'grades:class-8:write' }, /^required_scope: /],
      ['action', { action: 'delete' }, /^action: /],
      ['resource', { resource: 'slos://school/grades/class-8' }, /^resource: /],
      [
        'no resource',
        { resource: undefined },
        /^resource: approved for "slos:\/\/school\/grades\/class-7", presented none/,
      ],
      [
        'purpose',
        { purpose: 'overwrite all grades' },
        /^purpose: approved for "fix a typo", presented "overwrite all grades"/,
      ],
      ['no purpose', { purpose: undefined }, /^purpose: /],
      ['record count', { recordCount: 500 }, /^record_count: approved for 1, presented 500$/],
      ['no record count', { recordCount: undefined }, /^record_count: approved for 1, presented none$/],
      ['record count 0', { recordCount: 0 }, /^record_count: /],
      [
        'a field value',
        { contextFields: { ticket: 'T-2', class: '7b' } },
        /^context_fields\.ticket: approved for "T-1", presented "T-2"/,
      ],
      [
        'a field missing',
        { contextFields: { ticket: 'T-1' } },
        /^context_fields\.class: approved for "7b", presented none/,
      ],
      [
        'a field added',
        { contextFields: { ticket: 'T-1', class: '7b', x: '' } },
        /^context_fields\.x: approved for none, presented ""/,
      ],
      ['no fields', { contextFields: undefined }, /^context_fields\./],
      ['another root', { chain: ['CCCCCCCCCCCCCCCCCCCCCC', 'BBBBBBBBBBBBBBBBBBBBBB'] }, /^chain: /],
      ['the root alone', { chain: ['AAAAAAAAAAAAAAAAAAAAAA'], agentChain: ['grading-bot'] }, /^chain: /],
      [
        'a longer chain',
        { chain: [...BASE.chain, 'DDDDDDDDDDDDDDDDDDDDDD'], agentChain: [...BASE.agentChain, 'grading-bot/helper'] },
        /^chain: /,
      ],
      ['another path', { agentChain: ['grading-bot', 'grading-bot/other'] }, /^chain: /],
    ];
    const seen = new Set([approvalRequestDigest(BASE)]);
    for (const [what, change, message] of changes) {
      const other = { ...BASE, ...change };
      const digest = approvalRequestDigest(other);
      assert.ok(!seen.has(digest), `${what}: a digest of its own`);
      seen.add(digest);
      const difference = approvalBindingDifference(BASE, other);
      assert.ok(difference !== undefined, what);
      assert.match(difference, message, what);
    }
    assert.equal(approvalBindingDifference(BASE, { ...BASE }), undefined);
  });

  test('canonical: field order does not count; an empty resource or purpose and no fields are absent', () => {
    const reordered: ApprovalBinding = {
      agentChain: [...BASE.agentChain],
      chain: [...BASE.chain],
      contextFields: { class: '7b', ticket: 'T-1' },
      recordCount: 1,
      purpose: 'fix a typo',
      resource: BASE.resource!,
      action: 'write',
      requiredScope: BASE.requiredScope,
      agent: BASE.agent,
      tenant: BASE.tenant,
    };
    assert.equal(approvalRequestDigest(reordered), approvalRequestDigest(BASE));
    const bare = { ...BASE, resource: undefined, purpose: undefined, contextFields: undefined };
    const empty = { ...BASE, resource: '', purpose: '', contextFields: {} };
    assert.equal(approvalRequestDigest(bare), approvalRequestDigest(empty));
    assert.equal(approvalBindingDifference(bare, empty), undefined);
  });

  test('length prefixes: moving characters across a field boundary changes the digest', () => {
    const a = { ...BASE, tenant: 'ab', agent: 'c' };
    const b = { ...BASE, tenant: 'a', agent: 'bc' };
    assert.notEqual(approvalRequestDigest(a), approvalRequestDigest(b));
    const f1 = { ...BASE, contextFields: { ab: 'c' } };
    const f2 = { ...BASE, contextFields: { a: 'bc' } };
    assert.notEqual(approvalRequestDigest(f1), approvalRequestDigest(f2));
  });

  test('property: two requests share an encoding only when they are the same request', () => {
    const text = fc.string({ maxLength: 6, unit: 'grapheme' });
    const binding = fc.record({
      tenant: text,
      agent: text,
      requiredScope: text,
      action: text,
      resource: fc.option(text, { nil: undefined }),
      purpose: fc.option(text, { nil: undefined }),
      recordCount: fc.option(fc.nat(3), { nil: undefined }),
      contextFields: fc.option(fc.dictionary(text, text, { maxKeys: 3 }), { nil: undefined }),
      links: fc.array(fc.tuple(text, text), { maxLength: 3 }),
    });
    type Drawn = typeof binding extends fc.Arbitrary<infer T> ? T : never;
    const toBinding = ({ links, ...rest }: Drawn): ApprovalBinding => ({
      ...rest,
      chain: links.map(([jti]) => jti),
      agentChain: links.map(([, agent]) => agent),
    });
    fc.assert(
      fc.property(binding, binding, (x, y) => {
        const a = toBinding(x);
        const b = toBinding(y);
        const same = approvalBindingDifference(a, b) === undefined;
        assert.equal(encodeApprovalBinding(a).equals(encodeApprovalBinding(b)), same);
      }),
      { numRuns: 2000 },
    );
  });

  test('malformed bindings are refused naming the field', () => {
    const cases: [Partial<ApprovalBinding>, string][] = [
      [{ recordCount: -1 }, 'record_count'],
      [{ recordCount: 1.5 }, 'record_count'],
      [{ purpose: 'a\ud800b' }, 'purpose'],
      [{ contextFields: { ticket: '\udc00' } }, 'context_fields.ticket'],
      [{ agentChain: ['grading-bot'] }, 'agent_chain'],
      [{ tenant: 7 as unknown as string }, 'tenant'],
    ];
    for (const [change, field] of cases) {
      assert.throws(
        () => approvalRequestDigest({ ...BASE, ...change }),
        (err: unknown) => err instanceof AuthorityError && err.reason === 'INVALID_REQUEST' && err.field === field,
        field,
      );
    }
  });
});
