// The audit producer thread against the real Kafka broker: acknowledged publishes land on the
// topic with their CloudEvents headers, each signed with the enforcer's event key; a thread that dies fails what was in flight and everything
// until it is back (fail closed), is restarted, and too many deaths are fatal; close flushes.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { VerifiedBatchRoots, cryptoReady, verifyEventSignature, type TrustedEventKey } from '@authority/core';
import { silentLogger } from '@authority/platform';
import { WorkerAuditProducer } from '../../src/adapters/audit-producer';
import { AuditUnavailableError, auditEntry, type AuditRecord, type CheckEventInput } from '../../src/audit';
import {
  AuditReader,
  checkEventInput,
  StateFixture,
  TEST_EVENT_KEY_ID,
  TEST_EVENT_SEED,
  requireKafka,
  testEventKey,
  testPrefix,
  waitFor,
} from '../helpers';

function record(tenant: string, over: Partial<CheckEventInput> = {}): AuditRecord {
  const input = checkEventInput(tenant, over);
  return auditEntry(input, {
    traceId: '0af7651916cd43dd8448eb211c80319c',
    spanId: 'b7ad6b7169203331',
    headers: { traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' },
    json: JSON.stringify({ traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01' }),
  }).record;
}

describe('WorkerAuditProducer (real Kafka)', () => {
  let fixture: StateFixture;
  let audit: AuditReader;
  const producers: WorkerAuditProducer[] = [];

  const producer = (over: Partial<ConstructorParameters<typeof WorkerAuditProducer>[0]> = {}) => {
    const p = new WorkerAuditProducer({
      brokers: requireKafka().split(','),
      clientId: 'audit-producer-test',
      logger: silentLogger(),
      timeoutMs: 10_000,
      restartDelayMs: 10,
      signing: { seed: TEST_EVENT_SEED, kid: TEST_EVENT_KEY_ID },
      ...over,
    });
    producers.push(p);
    return p;
  };

  before(async () => {
    await cryptoReady();
    fixture = await StateFixture.create(testPrefix());
    audit = await AuditReader.start(fixture);
  });

  after(async () => {
    for (const p of producers) await p.close();
    await audit?.stop();
    await fixture?.close();
  });

  test('publishes acknowledged records with their headers; concurrent calls share a produce request', async () => {
    const p = producer();
    await p.start();
    assert.equal(p.fastProducePath, true, 'kafkajs 2.2.4: the cheaper produce path is installed');
    const records = Array.from({ length: 50 }, () => record('acme'));
    // 50 calls in the same tick: one post to the thread, one produce request.
    await Promise.all(records.map((r) => p.publish(fixture.topics.audit, [r])));
    assert.equal(p.stats.messages, 50);
    assert.equal(p.stats.batches, 1);
    const first = await audit.wait(records[0]!.id);
    assert.equal(first.key, 'acme');
    assert.equal(first.headers['ce_id'], records[0]!.id);
    assert.equal(first.headers['ce_type'], 'authority.audit.v1');
    assert.equal(first.headers['ce_source'], '/authority/enforcer');
    assert.equal(first.headers['ce_subject'], 'acme');
    assert.equal(first.headers['ce_time'], records[0]!.time);
    assert.equal(first.headers['content-type'], 'application/json');
    assert.equal(first.headers['traceparent'], '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01');
    assert.equal(first.event.traceId, '');
    for (const r of records) await audit.wait(r.id);
    // The post's 50 records are signed by the thread as ONE batch with the enforcer's key, over the
    // bytes that reached Kafka: one Ed25519 signature, each record with its leaf index and path.
    const trusted: TrustedEventKey = { kid: TEST_EVENT_KEY_ID, publicKey: testEventKey().publicKey };
    const signatures = new Set<string>();
    const roots = new VerifiedBatchRoots();
    for (const [i, r] of records.entries()) {
      const got = await audit.wait(r.id);
      const header = got.headers['authority-sig'] ?? '';
      const m = /^enforcer-test\.([A-Za-z0-9_-]{86})\.(\d+)\.50\.[A-Za-z0-9_-]+$/.exec(header);
      assert.ok(m, header);
      assert.equal(Number(m[2]), i, "leaf index: the record's place in the post");
      signatures.add(m[1]!);
      for (const cache of [undefined, roots]) {
        const check = verifyEventSignature(got.record, (kid) => (kid === trusted.kid ? trusted : undefined), cache);
        assert.equal(check.ok, true, check.ok ? '' : check.message);
      }
    }
    assert.equal(signatures.size, 1, 'one signature for the produce request');
    // Non-ASCII text goes through the thread's record encoder intact.
    const unicode = record('acme', {
      result: { decision: 'DENY', reason: 'SCOPE_MISSING', message: 'scope « vault:é » ✓ 𝄞 missing' },
    });
    await p.publish(fixture.topics.audit, [unicode]);
    const got = await audit.wait(unicode.id);
    assert.match(
      got.headers['authority-sig'] ?? '',
      /^enforcer-test\.[A-Za-z0-9_-]{86}$/,
      'a post of one: signed alone',
    );
    assert.equal(got.event.message, 'scope « vault:é » ✓ 𝄞 missing');
    assert.equal(verifyEventSignature(got.record, () => trusted).ok, true, 'non-ASCII value: signed as UTF-8');
  });

  test('a thread that dies fails closed, is restarted, and publishes again', async () => {
    const p = producer();
    await p.start();
    const thread = p.thread!;
    const inFlight = p.publish(fixture.topics.audit, [record('acme')]);
    await thread.terminate(); // as a crash would end it
    await assert.rejects(inFlight, AuditUnavailableError);
    await assert.rejects(p.publish(fixture.topics.audit, [record('acme')]), /restarting/);
    await waitFor(() => p.up, { what: 'producer thread restarted' });
    assert.notEqual(p.thread, thread);
    assert.equal(p.stats.restarts, 1);
    const after = record('acme');
    await p.publish(fixture.topics.audit, [after]);
    await audit.wait(after.id);
  });

  test('more deaths than allowed in the window are fatal; publishing keeps failing closed', async () => {
    const fatal: Error[] = [];
    const p = producer({ maxRestarts: 1, onFatal: (err) => fatal.push(err) });
    await p.start();
    await p.thread!.terminate();
    await waitFor(() => p.up, { what: 'first restart' });
    await p.thread!.terminate();
    await waitFor(() => fatal.length === 1, { what: 'onFatal' });
    assert.equal(p.up, false);
    await assert.rejects(p.publish(fixture.topics.audit, [record('acme')]), /not restarted/);
  });

  test('close waits for what was published, then ends the thread; later publishes are refused', async () => {
    const p = producer();
    await p.start();
    const records = Array.from({ length: 20 }, () => record('acme'));
    const acked = p.publish(fixture.topics.audit, records);
    await p.close();
    await acked;
    assert.equal(p.thread, undefined);
    await assert.rejects(p.publish(fixture.topics.audit, [record('acme')]), AuditUnavailableError);
    for (const r of records) await audit.wait(r.id);
  });
});
