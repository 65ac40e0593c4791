// AUTHORITY_AUDIT_TIMEOUT bounds a caller's whole wait for its audit ack (issue 14): records held
// back on the main thread while two posts are unanswered get no less and no more than the timeout
// from publish(), and are answered AUDIT_UNAVAILABLE without ever being sent. Before, their deadline
// started only when they were posted, so an ALLOW could wait up to about twice the timeout.
import { after, before, test, mock } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { cryptoReady } from '@authority/core';
import { silentLogger } from '@authority/platform';
import { WorkerAuditProducer } from '../../src/adapters/audit-producer';
import { AuditUnavailableError, auditEntry, type AuditRecord } from '../../src/audit';
import { checkEventInput } from '../helpers';

function record(tenant: string): AuditRecord {
  return auditEntry(checkEventInput(tenant, { timeMs: 0 }), { traceId: '', spanId: '', headers: {}, json: '{}' })
    .record;
}

const TIMEOUT_MS = 1_000;
let producer: WorkerAuditProducer;

before(async () => {
  await cryptoReady();
  producer = new WorkerAuditProducer({
    brokers: ['unused:9092'],
    clientId: 'deadline-test',
    logger: silentLogger(),
    timeoutMs: TIMEOUT_MS,
    signing: { seed: randomBytes(32), kid: 'deadline-test' },
    workerFile: join(__dirname, 'fixtures', 'unanswering-audit-worker.js'),
  });
  await producer.start();
});

after(async () => {
  // The posts stay unanswered: let the main thread's backstop give up on them, then close.
  mock.timers.tick(10 * TIMEOUT_MS);
  mock.timers.reset();
  await producer.close();
});

test('a record queued behind unanswered posts is answered AUDIT_UNAVAILABLE at its own deadline, unsent', async () => {
  mock.timers.enable({ apis: ['setTimeout', 'Date'] });
  const answers: string[] = [];
  const publish = (n: number) =>
    producer.publish('authority.audit', [record(`t${n}`)]).then(
      () => answers.push(`${n}: ack`),
      (err: unknown) => answers.push(`${n}: ${err instanceof AuditUnavailableError ? err.message : String(err)}`),
    );
  const turn = () => new Promise<void>((r) => setImmediate(r));
  // Two posts go to the thread (the most unanswered at a time); the third waits on the main thread.
  const calls = [publish(1)];
  await turn();
  calls.push(publish(2));
  await turn();
  calls.push(publish(3));
  await turn();
  mock.timers.tick(TIMEOUT_MS - 1);
  await turn();
  assert.deepEqual(answers, [], 'nothing answered before the timeout');
  mock.timers.tick(1);
  await turn();
  assert.deepEqual(answers.sort(), [
    `1: Kafka did not acknowledge within ${TIMEOUT_MS} ms (outcome unknown)`,
    `2: Kafka did not acknowledge within ${TIMEOUT_MS} ms (outcome unknown)`,
    `3: Kafka did not acknowledge within ${TIMEOUT_MS} ms (not sent)`,
  ]);
  await Promise.all(calls);
});
