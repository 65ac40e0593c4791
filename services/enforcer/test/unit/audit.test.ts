// Audit writers, the direct AuditEvent encoder and the staleness monitor, without Kafka.
import { before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import * as fc from 'fast-check';
import { cryptoReady, EVENT_TYPES, eventSource, type CheckResult, type Reason } from '@authority/core';
import { BatchingPublisher, silentLogger } from '@authority/platform';
import {
  createMessage,
  decodeEvent,
  encodeEvent,
  pb,
  timestampFromDate,
  type CheckRequest__Output,
} from '@authority/proto';
import type { ProducerBatch } from 'kafkajs';
import {
  AsyncAuditWriter,
  SyncAuditWriter,
  auditEntry,
  encodeCheckEvent,
  eventBusAuditPublisher,
  toEventMessage,
  type AuditEntry,
  type AuditRecord,
  type CheckEventInput,
} from '../../src/audit';
import { AUDIT_CE_SOURCE, AUDIT_EVENT_TYPE, AUDIT_SOURCE } from '../../src/audit-record';
import { FreshnessMonitor } from '../../src/freshness';
import { testEventKey, waitFor } from '../helpers';

before(() => cryptoReady());

function input(over: Partial<CheckEventInput> = {}): CheckEventInput {
  return {
    decisionId: 'd-1',
    tenant: 'acme',
    timeMs: Date.UTC(2026, 10, 25, 12, 0, 0, 123),
    caller: { kind: 'tenant', id: 'chk-1', tenant: 'acme' },
    request: {
      token: 't',
      requiredScope: 'vault:finance:read',
      resource: 'slos://r',
      action: '',
      context: null,
      approvalId: '',
      proof: '',
    },
    result: {
      decision: 'ALLOW',
      reason: 'ALLOWED',
      message: 'allowed',
      agent: 'agent-1',
      chain: ['j1'],
      tenant: 'acme',
    },
    policyVersion: '3',
    approvalId: '',
    enforcerId: 'enf-1',
    traceId: 'a'.repeat(32),
    spanId: 'b'.repeat(16),
    ...over,
  };
}

function entry(id: string, tenant = 'acme'): AuditEntry {
  return auditEntry(input({ decisionId: id, tenant }));
}

/** The protobuf-es message that encodeCheckEvent must match. */
function reference(i: CheckEventInput): pb.AuditEvent {
  const detail = createMessage(pb.CheckDetailSchema, {
    decisionId: i.detailDecisionId ?? i.decisionId,
    requiredScope: i.request.requiredScope,
    purpose: i.request.context?.purpose ?? '',
    approvalId: i.approvalId,
    enforcerId: i.enforcerId,
  });
  const count = i.request.context?.recordCount;
  if (count !== undefined && count !== null) detail.recordCount = count;
  for (const v of i.result.violations ?? []) {
    detail.violations.push(
      createMessage(pb.ConstraintViolationSchema, {
        reason: pb.ReasonCode[v.reason],
        constraint: v.constraint,
        field: v.field,
        message: v.message,
        source: v.source,
      }),
    );
  }
  return createMessage(pb.AuditEventSchema, {
    eventId: i.decisionId,
    tenant: i.tenant,
    time: timestampFromDate(new Date(i.timeMs)),
    source: 'enforcer',
    actor: createMessage(pb.ActorSchema, {
      agentId: i.result.agent ?? '',
      jtiChain: [...(i.result.chain ?? [])],
      principal: i.caller.id,
    }),
    action: 'check',
    resource: i.request.resource,
    decision: pb.Decision[i.result.decision],
    reason: pb.ReasonCode[i.result.reason],
    message: i.result.message,
    policyVersion: i.policyVersion ?? '',
    traceId: i.traceId,
    spanId: i.spanId,
    detail: { case: 'check', value: detail },
  });
}

const REASONS = Object.keys(pb.ReasonCode).filter(
  (k) => Number.isNaN(Number(k)) && k !== 'REASON_CODE_UNSPECIFIED',
) as Reason[];

describe('encodeCheckEvent', () => {
  test('writes exactly what protobuf-es writes (property test over varied events)', () => {
    const text = fc.string({ maxLength: 40 });
    const arb = fc.record({
      decisionId: text,
      tenant: text,
      timeMs: fc.integer({ min: 0, max: 4_102_444_800_000 }),
      callerId: text,
      scope: text,
      resource: text,
      purpose: fc.option(text, { nil: undefined }),
      recordCount: fc.option(fc.integer({ min: 0, max: 2 ** 32 - 1 }), { nil: undefined }),
      withContext: fc.boolean(),
      decision: fc.constantFrom<CheckResult['decision']>('ALLOW', 'DENY'),
      reason: fc.constantFrom(...REASONS),
      message: fc.string({ maxLength: 200 }),
      agent: fc.option(text, { nil: undefined }),
      chain: fc.option(fc.array(text, { maxLength: 9 }), { nil: undefined }),
      policyVersion: fc.option(text, { nil: undefined }),
      approvalId: text,
      enforcerId: text,
      traceId: fc.constantFrom('', 'a'.repeat(32)),
      spanId: fc.constantFrom('', 'b'.repeat(16)),
      detailDecisionId: fc.option(text, { nil: undefined }),
      violations: fc.option(
        fc.array(
          fc.record({
            reason: fc.constantFrom(...REASONS),
            constraint: text,
            field: text,
            message: fc.string({ maxLength: 200 }),
            source: text,
          }),
          { maxLength: 4 },
        ),
        { nil: undefined },
      ),
    });
    fc.assert(
      fc.property(arb, (a) => {
        const request: CheckRequest__Output = {
          token: 'x',
          requiredScope: a.scope,
          resource: a.resource,
          action: '',
          approvalId: '',
          proof: '',
          context: a.withContext
            ? {
                purpose: a.purpose ?? '',
                fields: {},
                ...(a.recordCount !== undefined ? { recordCount: a.recordCount } : {}),
              }
            : null,
        };
        const result: CheckResult = { decision: a.decision, reason: a.reason, message: a.message };
        if (a.agent !== undefined) result.agent = a.agent;
        if (a.chain !== undefined) result.chain = a.chain;
        if (a.violations !== undefined) result.violations = a.violations;
        const i: CheckEventInput = {
          decisionId: a.decisionId,
          tenant: a.tenant,
          timeMs: a.timeMs,
          caller: { kind: 'operator', id: a.callerId },
          request,
          result,
          policyVersion: a.policyVersion,
          approvalId: a.approvalId,
          enforcerId: a.enforcerId,
          traceId: a.traceId,
          spanId: a.spanId,
          ...(a.detailDecisionId !== undefined ? { detailDecisionId: a.detailDecisionId } : {}),
        };
        const ours = encodeCheckEvent(i);
        assert.equal(ours, encodeEvent(pb.AuditEventSchema, reference(i)).toString('utf8'));
        assert.deepEqual(decodeEvent(pb.AuditEventSchema, ours), reference(i));
      }),
      { numRuns: 500 },
    );
  });

  test("record constants are core's contract (spelled out for the producer thread)", () => {
    assert.equal(AUDIT_EVENT_TYPE, EVENT_TYPES.audit);
    assert.equal(AUDIT_CE_SOURCE, eventSource('enforcer'));
    assert.equal(AUDIT_SOURCE, 'enforcer');
  });

  test('record: key = tenant, CloudEvents headers', () => {
    const record = toEventMessage(entry('e-1', 'acme').record);
    assert.equal(record.key, 'acme');
    assert.equal(decodeEvent(pb.AuditEventSchema, record.value as string).eventId, 'e-1');
    const h = record.headers as Record<string, string>;
    assert.equal(h['ce_id'], 'e-1');
    assert.equal(h['ce_type'], 'authority.audit.v1');
    assert.equal(h['ce_source'], '/authority/enforcer');
    assert.equal(h['ce_subject'], 'acme');
    assert.equal(h['ce_specversion'], '1.0');
    assert.equal(h['ce_time'], '2026-11-25T12:00:00.123Z');
  });
});

/** A controllable sender: every sendBatch waits until released (or fails). */
class GatedSender {
  readonly batches: ProducerBatch[] = [];
  private gates: { resolve: () => void; reject: (e: Error) => void }[] = [];
  sendBatch(batch: ProducerBatch): Promise<unknown> {
    this.batches.push(batch);
    return new Promise<void>((resolve, reject) => this.gates.push({ resolve, reject }));
  }
  release(): void {
    for (const g of this.gates.splice(0)) g.resolve();
  }
  fail(): void {
    for (const g of this.gates.splice(0)) g.reject(new Error('broker down'));
  }
  waiting(): number {
    return this.gates.length;
  }
}

async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((r) => setImmediate(r));
  assert.ok(cond(), 'condition not reached');
}

function syncWriter(capacity = 100) {
  const sender = new GatedSender();
  const publisher = new BatchingPublisher(sender, { timeoutMs: 0 });
  return {
    sender,
    writer: new SyncAuditWriter({
      topic: 'audit',
      publisher: eventBusAuditPublisher(publisher, testEventKey()),
      logger: silentLogger(),
      capacity,
    }),
  };
}

describe('SyncAuditWriter', () => {
  test('ALLOWs wait for the ack; concurrent ones share one produce request', async () => {
    const { sender, writer } = syncWriter();
    let done = 0;
    const first = writer.write([entry('a')], [true]).then((r) => (done++, r));
    await until(() => sender.batches.length === 1);
    // While batch 1 is in flight, three more ALLOWs arrive: they go out together.
    const more = ['b', 'c', 'd'].map((id) => writer.write([entry(id)], [true]).then((r) => (done++, r)));
    await new Promise((r) => setImmediate(r));
    assert.equal(done, 0, 'no ALLOW answered before its ack');
    sender.release();
    assert.deepEqual(await first, [true]);
    await until(() => sender.batches.length === 2);
    assert.equal(sender.batches[1]!.topicMessages![0]!.messages.length, 3);
    assert.equal(sender.batches[1]!.acks, -1);
    sender.release();
    assert.deepEqual(await Promise.all(more), [[true], [true], [true]]);
    assert.equal(writer.stats.published, 4);
  });

  test('a batch of decisions is one publish; a failure turns its ALLOWs into false, not its DENYs', async () => {
    const { sender, writer } = syncWriter();
    const p = writer.write([entry('x1'), entry('x2'), entry('x3')], [true, false, true]);
    await until(() => sender.waiting() === 1);
    assert.equal(sender.batches[0]!.topicMessages![0]!.messages.length, 3);
    sender.fail();
    assert.deepEqual(await p, [false, true, false]);
    // The superseding DENY events of the two ALLOWs are attempted next.
    await until(() => sender.waiting() === 1);
    const superseding = sender.batches[1]!.topicMessages![0]!.messages.map((m) =>
      decodeEvent(pb.AuditEventSchema, m.value as string),
    );
    assert.deepEqual(
      superseding.map((e) => e.eventId),
      ['x1.superseded', 'x3.superseded'],
    );
    assert.equal(superseding[0]!.reason, pb.ReasonCode.AUDIT_UNAVAILABLE);
    assert.equal((superseding[0]!.detail.value as pb.CheckDetail).decisionId, 'x1');
    sender.release();
    await writer.close();
  });

  test('DENYs do not wait, but past `capacity` unacknowledged events they do (bounded memory)', async () => {
    const { sender, writer } = syncWriter(2);
    assert.deepEqual(await writer.write([entry('d1')], [false]), [true]);
    assert.deepEqual(await writer.write([entry('d2')], [false]), [true]);
    await until(() => sender.waiting() === 1); // d1 and d2 in flight, unacknowledged
    let third = false;
    const p = writer.write([entry('d3')], [false]).then(() => (third = true));
    await new Promise((r) => setImmediate(r));
    assert.equal(third, false, 'the third deny waits for its ack');
    sender.release();
    await until(() => sender.waiting() === 1);
    assert.equal(third, false);
    sender.release();
    await p;
    assert.equal(writer.pending(), 0);
  });
});

describe('AsyncAuditWriter', () => {
  test('answers at once, flushes in batches, keeps events across a failure, refuses when full', async () => {
    const sent: AuditRecord[][] = [];
    let failNext = true;
    let block: Promise<void> | undefined;
    const publisher = {
      publish: async (_topic: string, messages: readonly AuditRecord[]) => {
        if (block) await block;
        if (failNext) {
          failNext = false;
          throw new Error('broker down');
        }
        sent.push([...messages]);
      },
    };
    const writer = new AsyncAuditWriter({
      topic: 'audit',
      publisher,
      logger: silentLogger(),
      capacity: 5,
      retryDelayMs: 1,
    });
    let unblock!: () => void;
    block = new Promise((r) => (unblock = r));
    for (let i = 0; i < 5; i++) assert.deepEqual(await writer.write([entry(`e${i}`)], [true]), [true]);
    assert.deepEqual(await writer.write([entry('overflow')], [true]), [false]);
    assert.equal(writer.stats.rejected, 1);
    block = undefined;
    unblock();
    await writer.close();
    const ids = sent.flat().map((m) => toEventMessage(m).headers?.['ce_id']);
    assert.deepEqual(ids, ['e0', 'e1', 'e2', 'e3', 'e4']);
    assert.deepEqual(await writer.write([entry('late')], [true]), [false]);
  });
});

describe('AsyncAuditWriter linger', () => {
  function recorder() {
    const sent: string[][] = [];
    const publisher = {
      publish: async (_topic: string, records: readonly AuditRecord[]) => void sent.push(records.map((r) => r.id)),
    };
    const writer = (over: { maxBatch?: number; lingerMs: number }) =>
      new AsyncAuditWriter({ topic: 'audit', publisher, logger: silentLogger(), capacity: 100, ...over });
    return { sent, writer };
  }

  test('events written within the linger go out together; close flushes at once', { timeout: 10_000 }, async () => {
    const { sent, writer } = recorder();
    const w = writer({ lingerMs: 3_600_000 });
    await w.write([entry('a')], [true]);
    await new Promise((r) => setImmediate(r));
    await w.write([entry('b')], [true]);
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(sent, [], 'nothing published during the linger');
    await w.close();
    assert.deepEqual(sent, [['a', 'b']]);
    assert.equal(w.pending(), 0);
  });

  test('the linger ends in a flush; a full batch does not wait for it', async () => {
    const { sent, writer } = recorder();
    const short = writer({ lingerMs: 1 });
    await short.write([entry('x')], [true]);
    await waitFor(() => sent.length === 1, { what: 'the flush after the linger' });
    assert.deepEqual(sent[0], ['x']);
    const full = writer({ maxBatch: 3, lingerMs: 3_600_000 });
    await full.write([entry('c'), entry('d'), entry('e')], [true, true, true]);
    await waitFor(() => sent.length === 2, { what: 'the full batch' });
    assert.deepEqual(sent[1], ['c', 'd', 'e']);
    await short.close();
    await full.close();
  });
});

describe('FreshnessMonitor', () => {
  test('stale before catch-up, fresh after, stale when fetches stop or the feed stops', () => {
    let now = 1_000_000;
    let last: number | undefined;
    let caught = false;
    const m = new FreshnessMonitor(10_000, () => now);
    m.follow({ isCaughtUp: () => caught, lastFetchAt: () => last });
    assert.match(m.staleReason() ?? '', /not caught up/);
    caught = true;
    last = now;
    assert.equal(m.staleReason(), undefined);
    now += 10_000;
    assert.equal(m.staleReason(), undefined);
    now += 1;
    assert.match(m.staleReason() ?? '', /10001 ms/);
    last = now;
    assert.equal(m.staleReason(), undefined);
    m.setState('crashed');
    assert.match(m.staleReason() ?? '', /crashed/);
    m.fetched();
    assert.equal(m.staleReason(), undefined);
    m.setState('stopped');
    assert.match(m.staleReason() ?? '', /stopped/);
  });

  test('onChange reports transitions (health follows)', () => {
    let now = 0;
    const m = new FreshnessMonitor(100, () => now);
    const seen: boolean[] = [];
    m.onChange((stale) => seen.push(stale), 1_000_000);
    m.markCaughtUp();
    m.setState('disconnected');
    m.fetched();
    now = 1000;
    m.close();
    assert.deepEqual(seen, [true, false, true, false]);
  });
});
