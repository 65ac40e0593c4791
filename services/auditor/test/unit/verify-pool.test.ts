// The signature verification threads (verify-pool.ts): the same answers as verifying on the calling
// thread, the same admission for every quarantine code, and a thread that stops failing the
// batches it held (never a `true`).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cryptoReady, ed25519Sign, ed25519Verify, eventSigningKey, generateEd25519KeyPair } from '@authority/core';
import { silentLogger, withEventSignature, type ConsumedMessage, type EventMessage } from '@authority/platform';
import { admitSignedRecord, admitSignedRecords } from '../../src/event-fields';
import { inlineVerifier, VerifierPool, type SignatureJob } from '../../src/verify-pool';
import { auditEvent, auditRecord, producerKey, trustedKeyResolver } from '../helpers';

const SILENT_WORKER = join(__dirname, 'fixtures', 'silent-verify-worker.js');

function consumed(m: EventMessage, offset: number): ConsumedMessage {
  return {
    topic: 'unit.audit',
    partition: 0,
    offset: String(offset),
    timestamp: '0',
    key: m.key === null || m.key === undefined ? null : Buffer.from(m.key),
    value: m.value === null ? null : Buffer.from(m.value as Uint8Array),
    headers: (m.headers ?? {}) as ConsumedMessage['headers'],
  };
}

describe('signature verification threads', () => {
  const pools: VerifierPool[] = [];
  const pool = (threads: number, workerFile?: string) => {
    const p = new VerifierPool({ threads, logger: silentLogger(), ...(workerFile ? { workerFile } : {}) });
    pools.push(p);
    return p;
  };
  before(() => cryptoReady());
  after(async () => {
    for (const p of pools) await p.close();
  });

  it('answers as ed25519Verify for valid, altered and malformed signatures, messages of every length', async () => {
    const jobs: SignatureJob[] = [];
    for (let i = 0; i < 300; i++) {
      const pair = generateEd25519KeyPair();
      const message = randomBytes(i % 7 === 0 ? 0 : 1 + ((i * 37) % 2000));
      const signature = ed25519Sign(message, pair.secretKey);
      const job: SignatureJob = { signature, message, publicKey: pair.publicKey };
      switch (i % 6) {
        case 1: // a signature bit flipped
          job.signature = Uint8Array.from(signature, (b, k) => (k === i % 64 ? b ^ 1 : b));
          break;
        case 2: // a message bit flipped
          if (message.length > 0) job.message = Uint8Array.from(message, (b, k) => (k === 0 ? b ^ 0x80 : b));
          else job.message = Uint8Array.of(0);
          break;
        case 3: // another key
          job.publicKey = generateEd25519KeyPair().publicKey;
          break;
        case 4: // wrong lengths
          job.signature = signature.subarray(0, 63);
          job.publicKey = i % 12 === 4 ? pair.publicKey.subarray(0, 31) : pair.publicKey;
          break;
      }
      jobs.push(job);
    }
    const expected = jobs.map((j) => ed25519Verify(j.signature, j.message, j.publicKey));
    assert.equal(expected.filter(Boolean).length, 100, 'the valid ones (cases 0 and 5)');
    assert.deepEqual(await pool(3).verify(jobs), expected);
    assert.deepEqual(await pool(1).verify(jobs), expected);
    assert.deepEqual(await inlineVerifier(jobs), expected);
    assert.deepEqual(await pool(2).verify([]), []);
  });

  it('admits a batch as admitSignedRecord does, record by record, for every quarantine code', async () => {
    const stranger = eventSigningKey(randomBytes(32), 'stranger');
    const signedGarbage = withEventSignature(
      {
        key: 'acme',
        value: Buffer.from('not json'),
        headers: auditRecord(auditEvent({ tenant: 'acme' })).headers ?? {},
      },
      producerKey('enforcer'),
    );
    const tampered = auditRecord(auditEvent({ tenant: 'acme', eventId: 'tampered' }));
    const tamperedValue = Buffer.from(tampered.value as Uint8Array);
    tamperedValue[tamperedValue.length - 2] = tamperedValue[tamperedValue.length - 2]! ^ 1;
    const messages: EventMessage[] = [
      auditRecord(auditEvent({ tenant: 'acme', eventId: 'ok-1' })),
      auditRecord(auditEvent({ tenant: 'acme', eventId: 'unsigned' }), { signer: null }),
      { ...tampered, value: tamperedValue },
      auditRecord(auditEvent({ tenant: 'acme', eventId: 'stranger' }), { signer: stranger }),
      {
        ...auditRecord(auditEvent({ tenant: 'acme', eventId: 'garbled' })),
        headers: { ...tampered.headers, 'authority-sig': 'enforcer-test.%%%' },
      },
      auditRecord(auditEvent({ tenant: 'acme', eventId: 'wrong-source' }), { signer: producerKey('issuer') }),
      auditRecord(auditEvent({ tenant: 'globex', eventId: 'wrong-key' }), { key: 'acme' }),
      signedGarbage,
      auditRecord(auditEvent({ tenant: 'globex', eventId: 'ok-2' })),
    ];
    const records = messages.map(consumed);
    const keys = trustedKeyResolver();
    const one = records.map((r) => admitSignedRecord(r, keys));
    assert.deepEqual(
      one.map((r) => (r.ok ? 'ok' : r.code)),
      [
        'ok',
        'unsigned',
        'bad_signature',
        'unknown_key',
        'malformed_signature',
        'source_not_allowed',
        'tenant_mismatch',
        'invalid_event',
        'ok',
      ],
    );
    assert.deepEqual(await admitSignedRecords(records, keys, pool(2).verify), one);
    assert.deepEqual(await admitSignedRecords(records, keys, inlineVerifier), one);
  });

  it('a thread that stops fails the batches it held; the next call starts a new thread', async () => {
    const silent = pool(1, SILENT_WORKER);
    const pair = generateEd25519KeyPair();
    const message = randomBytes(100);
    const job = { signature: ed25519Sign(message, pair.secretKey), message, publicKey: pair.publicKey };
    const held = assert.rejects(silent.verify([job, job]), /signature verification thread 0 stopped/);
    await silent.crashForTest();
    await held;
    // A verifier that never answers true: the admission of the batch rejects, it admits nothing.
    await assert.rejects(
      admitSignedRecords(
        [consumed(auditRecord(auditEvent({ tenant: 'acme' })), 0)],
        trustedKeyResolver(),
        async (jobs) => {
          const p = silent.verify(jobs);
          await silent.crashForTest();
          return p;
        },
      ),
      /stopped/,
    );
    const real = pool(1);
    assert.deepEqual(await real.verify([job]), [true]);
    await real.crashForTest();
    assert.deepEqual(await real.verify([job]), [true], 'a new thread after the crash');
  });

  it('a closed pool refuses batches, and those it held fail', async () => {
    const silent = pool(2, SILENT_WORKER);
    const pair = generateEd25519KeyPair();
    const job = { signature: new Uint8Array(64), message: new Uint8Array(0), publicKey: pair.publicKey };
    const held = assert.rejects(silent.verify([job, job, job]), /closed/);
    await silent.close();
    await held;
    await assert.rejects(silent.verify([job]), /closed/);
  });

  it('refuses an answer of the wrong size (admitSignedRecords) rather than guess', async () => {
    await assert.rejects(
      admitSignedRecords(
        [consumed(auditRecord(auditEvent({ tenant: 'acme' })), 0)],
        trustedKeyResolver(),
        async () => [],
      ),
      /answered 0 of 1/,
    );
  });
});
