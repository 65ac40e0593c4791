// The chain feed's direct ChainRecord writer (adapters/kafka.ts encodeChainRecord) gives exactly
// the bytes protobuf-es's proto3 JSON encoder gives, for any entry: subscribers parse either.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { Binary } from 'mongodb';
import { encodeEvent, pb } from '@authority/proto';
import type { EntryDoc } from '../../src/adapters/mongo';
import { chainRecordEvent, encodeChainRecord } from '../../src/adapters/kafka';

const entry = (e: {
  tenant: string;
  seq: number;
  hash: string;
  prevHash: string;
  eventId: string;
  raw: Uint8Array;
  ms: number;
}) =>
  ({
    tenant: e.tenant,
    seq: e.seq,
    hash: e.hash,
    prevHash: e.prevHash,
    eventId: e.eventId,
    raw: new Binary(Buffer.from(e.raw)),
    recordedAt: new Date(e.ms),
  }) as EntryDoc;

const viaProtobuf = (e: EntryDoc) => encodeEvent(pb.ChainRecordSchema, chainRecordEvent(e));

test('property: the direct writer gives the bytes of protobuf-es for any entry', () => {
  const text = fc.oneof(fc.string(), fc.string({ unit: 'binary' }), fc.constant(''));
  fc.assert(
    fc.property(
      fc.record({
        tenant: text,
        seq: fc.oneof(fc.integer({ min: 0, max: 1000 }), fc.maxSafeInteger()),
        hash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), fc.constant('')),
        prevHash: fc.oneof(fc.stringMatching(/^[0-9a-f]{64}$/), text),
        eventId: text,
        raw: fc.uint8Array({ maxLength: 300 }),
        // Whole seconds (no fraction written) as often as not.
        ms: fc.oneof(
          fc.integer({ min: -62135596800000, max: 253402300799000 }),
          fc.integer({ min: 0, max: 4102444800 }).map((s) => s * 1000),
        ),
      }),
      (e) => {
        const doc = entry(e);
        assert.deepEqual(encodeChainRecord(doc), viaProtobuf(doc));
      },
    ),
    { numRuns: 2000 },
  );
});

test('a raw value stored in a larger buffer is written as its own bytes only', () => {
  const doc = entry({
    tenant: 'acme',
    seq: 7,
    hash: 'a'.repeat(64),
    prevHash: 'b'.repeat(64),
    eventId: 'e',
    raw: Buffer.from('{"x":1}'),
    ms: 1_700_000_000_123,
  });
  const big = Buffer.alloc(64, 0x7a);
  Buffer.from('{"x":1}').copy(big);
  doc.raw = new Binary(big);
  doc.raw.position = 7;
  assert.deepEqual(encodeChainRecord(doc), viaProtobuf(doc));
  assert.equal(JSON.parse(encodeChainRecord(doc).toString())['rawEvent'], Buffer.from('{"x":1}').toString('base64'));
});

test('a time outside what a Timestamp holds fails as protobuf-es fails', () => {
  const doc = entry({
    tenant: 'acme',
    seq: 1,
    hash: '',
    prevHash: '',
    eventId: 'e',
    raw: new Uint8Array(),
    ms: Date.parse('+010000-01-01T00:00:00Z'),
  });
  assert.throws(() => encodeChainRecord(doc), /9999-12-31/);
});
