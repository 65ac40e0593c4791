// The PRODUCER spans of audit records (audit-producer.ts publish): a record joins the trace of the
// call that made it, under a producer span of its own when the trace records (sampled); when it
// does not, the records of one call share one non-recording span's context (nothing is exported
// for it) instead of one span, header copy and JSON text per record.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { randomBytes } from 'node:crypto';
import { cryptoReady } from '@authority/core';
import { createLogger, startTelemetry } from '@authority/platform';
import { WorkerAuditProducer } from '../../src/adapters/audit-producer';
import { auditEntry, type AuditRecord, type AuditTrace } from '../../src/audit';
import { WIRE_STRIDE } from '../../src/audit-record';
import { checkEventInput } from '../helpers';

/** Finished spans as the SDK exports them (the fields read here). */
interface FinishedSpan {
  name: string;
  spanContext(): { spanId: string };
  parentSpanContext?: { spanId: string };
}

/** An in-memory span exporter (the SpanExporter interface startTelemetry takes). */
function memoryExporter() {
  const finished: FinishedSpan[] = [];
  return {
    finished,
    export(spans: FinishedSpan[], done: (result: { code: number }) => void) {
      finished.push(...spans);
      done({ code: 0 });
    },
    shutdown: () => Promise.resolve(),
    forceFlush: () => Promise.resolve(),
  };
}

const TRACE_ID = '0af7651916cd43dd8448eb211c80319c';
const CALL_SPAN = 'b7ad6b7169203331';

function callTrace(flags: '00' | '01'): AuditTrace {
  const headers = { traceparent: `00-${TRACE_ID}-${CALL_SPAN}-${flags}` };
  return { traceId: TRACE_ID, spanId: CALL_SPAN, headers, json: JSON.stringify(headers) };
}

/** Publishes `n` records of one call through a producer whose thread acks all; the traceparents the thread got. */
async function publishedTraceparents(n: number, trace: AuditTrace): Promise<string[]> {
  const wires: string[][] = [];
  const lines = new Writable({
    write(chunk: Buffer, _enc, done) {
      const line = JSON.parse(chunk.toString()) as { msg?: string; wire?: string[] };
      if (line.msg === 'post received' && line.wire !== undefined) wires.push(line.wire);
      done();
    },
  });
  const producer = new WorkerAuditProducer({
    brokers: ['unused:9092'],
    clientId: 'spans-test',
    logger: createLogger({ service: 'spans-test', level: 'info', destination: lines }),
    timeoutMs: 5_000,
    signing: { seed: randomBytes(32), kid: 'spans-test' },
    workerFile: join(__dirname, 'fixtures', 'acking-audit-worker.js'),
  });
  await producer.start();
  try {
    const records: AuditRecord[] = [];
    for (let k = 0; k < n; k++) records.push(auditEntry(checkEventInput('t1'), trace).record);
    await producer.publish('authority.audit', records);
  } finally {
    await producer.close();
  }
  const out: string[] = [];
  for (const wire of wires) {
    for (let k = 0; k + WIRE_STRIDE <= wire.length; k += WIRE_STRIDE) {
      const headers = JSON.parse(wire[k + 4] as string) as Record<string, string>;
      out.push(headers['traceparent'] as string);
    }
  }
  return out;
}

test('records of an unsampled call share one producer span context in the call trace', async () => {
  await cryptoReady();
  const telemetry = await startTelemetry({ serviceName: 'spans-test', env: {} });
  try {
    const parents = await publishedTraceparents(3, callTrace('00'));
    assert.equal(parents.length, 3);
    const [first] = parents;
    assert.match(first ?? '', new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-00$`));
    assert.notEqual(first?.split('-')[2], CALL_SPAN, 'a producer span of its own, not the call span');
    assert.deepEqual(parents, [first, first, first]);
  } finally {
    await telemetry.shutdown();
  }
});

test('records of a sampled call each get a recorded producer span of their own', async () => {
  await cryptoReady();
  const spans = memoryExporter();
  const telemetry = await startTelemetry({
    serviceName: 'spans-test',
    env: {},
    spanExporter: spans as unknown as NonNullable<Parameters<typeof startTelemetry>[0]['spanExporter']>,
  });
  try {
    const parents = await publishedTraceparents(3, callTrace('01'));
    assert.equal(parents.length, 3);
    const ids = parents.map((p) => p.split('-')[2]);
    assert.equal(new Set(ids).size, 3);
    for (const p of parents) assert.match(p, new RegExp(`^00-${TRACE_ID}-[0-9a-f]{16}-01$`));
    const exported = spans.finished.filter((s) => s.name === 'send authority.audit');
    assert.deepEqual(exported.map((s) => s.spanContext().spanId).sort(), [...ids].sort());
    for (const s of exported) assert.equal(s.parentSpanContext?.spanId, CALL_SPAN);
  } finally {
    await telemetry.shutdown();
  }
});
