// Issue 12, bound every scan, against the real broker and FerretDB: with AUTHORITY_MAX_SCAN_ENTRIES
// set to 100, VerifyChain, Attest and GetComplianceReport refuse a call that would read more than
// 100 chain entries (before reading anything) with a precise error, and serve those that read
// fewer; QueryEvents (AUTHORITY_QUERY_SCAN_LIMIT, also 100) returns a page token where it stopped.
// Before the bound, Attest and the report read the whole chain on every call.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { silentLogger, type KafkaEventBus } from '@authority/platform';
import type { MongoClient } from 'mongodb';
import { startAuditor, type RunningAuditor } from '../../src/index';
import {
  auditEvent,
  auditorClient,
  auditorConfig,
  auditRecord,
  call,
  eventually,
  grpcError,
  publishAll,
  type TestEnv,
  testRig,
  closeRig,
} from '../helpers';

const LONG = 'long-chain';
const SHORT = 'short-chain';
const BASE = Date.UTC(2026, 0, 12, 9, 0, 0);
const WINDOW = {
  startTime: { seconds: String(BASE / 1000), nanos: 0 },
  endTime: { seconds: String(BASE / 1000 + 3600), nanos: 0 },
};

describe('every scan is bounded (AUTHORITY_MAX_SCAN_ENTRIES)', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let auditor: RunningAuditor;
  let mongo: MongoClient;
  const client = () => auditorClient(auditor.address);
  const op = () => env.operatorKey;

  before(async () => {
    ({ env, bus, mongo } = await testRig('scan-bounds'));
    auditor = await startAuditor(
      auditorConfig(env, {
        AUTHORITY_CHECKPOINT_EVERY: '50',
        AUTHORITY_MAX_SCAN_ENTRIES: '100',
        AUTHORITY_QUERY_SCAN_LIMIT: '100',
      }),
      { logger: silentLogger() },
    );
    const records = [
      ...Array.from({ length: 150 }, (_, i) =>
        auditEvent({ tenant: LONG, agent: 'a', resource: `slos://vaults/x/${i}`, timeMs: BASE + i * 1000 }),
      ),
      ...Array.from({ length: 60 }, (_, i) =>
        auditEvent({ tenant: SHORT, agent: 'a', resource: `slos://vaults/x/${i}`, timeMs: BASE + i * 1000 }),
      ),
    ].map((e) => auditRecord(e));
    await publishAll(bus, `${env.prefix}audit`, records);
    for (const [tenant, count] of [
      [LONG, 150],
      [SHORT, 60],
    ] as const) {
      await eventually(
        async () => {
          const r = await call(client(), 'GetCheckpoint', { tenant }, op()).catch(() => undefined);
          return r?.checkpoint?.seq === String(count) ? true : undefined;
        },
        `checkpoint at the head of ${tenant}`,
        60_000,
        100,
      );
    }
  });

  after(async () => {
    await auditor?.stop();
    await closeRig({ env, bus, mongo });
  });

  it('Attest refuses a chain longer than the bound (FAILED_PRECONDITION, SCAN_LIMIT_EXCEEDED) and attests a shorter one', async () => {
    await assert.rejects(
      call(client(), 'Attest', { tenant: LONG, agentId: 'a', resourcePattern: 'slos://vaults/x/*', ...WINDOW }, op()),
      grpcError(
        'FAILED_PRECONDITION',
        (e) =>
          e.reason === 'SCAN_LIMIT_EXCEEDED' &&
          /150 entries/.test(e.message) &&
          /AUTHORITY_MAX_SCAN_ENTRIES/.test(e.message) &&
          /\b100\b/.test(e.message),
      ),
    );
    const ok = await call(
      client(),
      'Attest',
      { tenant: SHORT, agentId: 'a', resourcePattern: 'slos://vaults/x/*', ...WINDOW },
      op(),
    );
    assert.equal(ok.attestation?.allowedCount, '60');
  });

  it('GetComplianceReport refuses a chain longer than the bound and reports a shorter one', async () => {
    await assert.rejects(
      call(client(), 'GetComplianceReport', { tenant: LONG, format: 'JSON', ...WINDOW }, op()),
      grpcError('FAILED_PRECONDITION', (e) => e.reason === 'SCAN_LIMIT_EXCEEDED' && /150 entries/.test(e.message)),
    );
    const ok = await call(client(), 'GetComplianceReport', { tenant: SHORT, format: 'JSON', ...WINDOW }, op());
    const report = JSON.parse(Buffer.from(ok.body).toString('utf8')) as { executiveSummary: { totalEvents: number } };
    assert.equal(report.executiveSummary.totalEvents, 60);
  });

  it('VerifyChain refuses a range wider than the bound naming to_seq, and verifies the chain in ranges', async () => {
    await assert.rejects(
      call(client(), 'VerifyChain', { tenant: LONG }, op()),
      grpcError(
        'INVALID_ARGUMENT',
        (e) => e.reason === 'SCAN_LIMIT_EXCEEDED' && e.field === 'to_seq' && /would read 150 entries/.test(e.message),
      ),
    );
    const first = await call(client(), 'VerifyChain', { tenant: LONG, toSeq: '100' }, op());
    assert.equal(first.ok, true, first.message);
    assert.equal(first.checked, '100');
    // From seq 101 the range rests on the checkpoint at seq 100: 50 entries are read.
    const rest = await call(client(), 'VerifyChain', { tenant: LONG, fromSeq: '101' }, op());
    assert.equal(rest.ok, true, rest.message);
    assert.equal(rest.checked, '50');
    assert.equal((await call(client(), 'VerifyChain', { tenant: SHORT }, op())).checked, '60');
  });

  it('QueryEvents stops at the scan bound with a page token, and following it finds every match', async () => {
    const first = await call(
      client(),
      'QueryEvents',
      { tenant: LONG, resourceGlob: 'slos://vaults/x/14?', pageSize: 1000 },
      op(),
    );
    assert.equal(first.entries.length, 0, 'the first 100 entries hold no match');
    assert.notEqual(first.nextPageToken, '');
    const second = await call(
      client(),
      'QueryEvents',
      { tenant: LONG, resourceGlob: 'slos://vaults/x/14?', pageSize: 1000, pageToken: first.nextPageToken },
      op(),
    );
    assert.deepEqual(
      second.entries.map((e) => Number(e.seq)),
      Array.from({ length: 10 }, (_, i) => 141 + i),
    );
    assert.equal(second.nextPageToken, '');
  });
});
