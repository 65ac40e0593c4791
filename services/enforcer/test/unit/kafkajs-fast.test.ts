// The patched kafkajs (patches/kafkajs+2.2.4.patch, applied at install) is in place and writes
// exactly what kafkajs' own code writes; another kafkajs version fails here; and the flat form
// posted to the producer thread rebuilds exactly the messages the EventBus path would send.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import * as fc from 'fast-check';
import { Partitioners } from 'kafkajs';
import { cloudEventHeaders } from '@authority/platform';
import {
  cachingDefaultPartitioner,
  KAFKAJS_FAST_PATH_VERSION,
  kafkajsGroupModule,
  kafkajsPatchApplied,
  kafkajsRecordModules,
  type RecordArgs,
} from '../../src/adapters/kafkajs-fast';
import { appendWire, messagesFromWire, toAuditMessage, type AuditRecord } from '../../src/audit-record';
import { AUDIT_CE_SOURCE, AUDIT_EVENT_TYPE } from '../../src/audit';

const { Encoder, encoder: fast } = kafkajsRecordModules();
/** kafkajs' own encoder, kept by the patch as the fallback (fails below if the patch is missing). */
const original = fast.original ?? fast;
const bytes = (e: { buf: Buffer; offset: number }) => e.buf.subarray(0, e.offset);

const text = fc.string({ unit: 'grapheme', maxLength: 300 });
const bytesOrText = fc.oneof(
  text,
  fc.uint8Array({ maxLength: 300 }).map((u) => Buffer.from(u)),
);

describe('kafkajs version', () => {
  // The fast path replaces kafkajs internals of one version; with any other version the producer
  // thread would fall back to kafkajs' own (slower) code without failing, so CI fails here instead.
  const require = createRequire(__filename);
  const workspaceRoot = (() => {
    for (let dir = __dirname; dir !== dirname(dir); dir = dirname(dir)) {
      try {
        const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { workspaces?: unknown };
        if (pkg.workspaces !== undefined) return dir;
      } catch {
        // no package.json here: keep walking up
      }
    }
    throw new Error('workspace root not found');
  })();

  test('the installed kafkajs is the version the patch was written for', () => {
    const installed = (require('kafkajs/package.json') as { version: string }).version;
    assert.equal(installed, KAFKAJS_FAST_PATH_VERSION);
  });

  test('the patch is applied (record encoder and grouping), and it is the one for that version', () => {
    assert.equal(kafkajsRecordModules().encoder.authorityPatch, 'record-encoder-1');
    assert.equal(kafkajsGroupModule().authorityPatch, 'group-linear-1');
    assert.equal(kafkajsPatchApplied(), true);
    assert.ok(
      readFileSync(join(workspaceRoot, 'patches', `kafkajs+${KAFKAJS_FAST_PATH_VERSION}.patch`), 'utf8').length > 0,
      'the reviewed patch file names the pinned version',
    );
    const pkg = JSON.parse(readFileSync(join(workspaceRoot, 'package.json'), 'utf8')) as {
      scripts: Record<string, string>;
    };
    assert.match(pkg.scripts['postinstall'] ?? '', /patch-package/, 'npm ci applies the patch');
  });

  test('every workspace package pins exactly that kafkajs version', () => {
    const root = JSON.parse(readFileSync(join(workspaceRoot, 'package-lock.json'), 'utf8')) as {
      packages: Record<string, { dependencies?: Record<string, string>; devDependencies?: Record<string, string> }>;
    };
    const pins = Object.entries(root.packages)
      .filter(([path]) => path !== '' && !path.includes('node_modules'))
      .flatMap(([path, p]) => {
        const v = p.dependencies?.kafkajs ?? p.devDependencies?.kafkajs;
        return v === undefined ? [] : [[path, v] as const];
      });
    assert.ok(pins.length > 0, 'no workspace package depends on kafkajs');
    for (const [path, v] of pins) assert.equal(v, KAFKAJS_FAST_PATH_VERSION, `${path} pins kafkajs ${v}`);
  });
});

describe('fastRecordEncoder', () => {
  test('writes the same bytes as kafkajs for any record it handles (and falls back otherwise)', () => {
    const headerValue = fc.oneof(bytesOrText, fc.array(text, { maxLength: 3 }));
    const arb: fc.Arbitrary<RecordArgs> = fc.record(
      {
        offsetDelta: fc.oneof(fc.integer({ min: 0, max: 5000 }), fc.integer({ min: 0, max: 2 ** 31 - 1 })),
        timestampDelta: fc.oneof(fc.constant(0), fc.integer({ min: -(2 ** 40), max: 2 ** 40 })),
        key: fc.oneof(fc.constant(null), bytesOrText),
        value: fc.oneof(fc.constant(null), bytesOrText),
        headers: fc.dictionary(fc.string({ minLength: 1, maxLength: 20 }), headerValue, { maxKeys: 10 }),
      },
      { requiredKeys: [] },
    );
    fc.assert(
      fc.property(arb, (args) => {
        assert.deepEqual(bytes(fast(args)), bytes(original(args)));
      }),
      { numRuns: 2000 },
    );
  });

  test('an audit-shaped record (8 headers, non-ASCII value) is encoded by the fast path itself', () => {
    const args: RecordArgs = {
      offsetDelta: 7,
      timestampDelta: 0,
      key: 'acme',
      value: JSON.stringify({ message: 'scope « é » ✓ 𝄞', n: 1 }),
      headers: {
        ...cloudEventHeaders({ id: 'e-1', type: AUDIT_EVENT_TYPE, source: AUDIT_CE_SOURCE, subject: 'acme', time: 0 }),
        traceparent: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      },
    };
    const ours = fast(args);
    assert.equal(Object.getPrototypeOf(ours), Encoder.prototype);
    assert.ok(ours.buf.length === ours.offset, 'one exactly-sized buffer');
    assert.deepEqual(bytes(ours), bytes(original(args)));
  });
});

describe('groupMessagesPerPartition', () => {
  test('same grouping as kafkajs', () => {
    const patched = kafkajsGroupModule();
    const kafkajs = patched.original!;
    fc.assert(
      fc.property(
        fc.array(fc.record({ key: fc.string({ maxLength: 4 }) }), { maxLength: 200 }),
        fc.integer({ min: 0, max: 6 }),
        (messages, n) => {
          const partitionMetadata = Array.from({ length: n }, (_, i) => ({ partitionId: i, leader: 0 }));
          const partitioner = ({ message }: { message: unknown }) => (message as { key: string }).key.length % 3;
          const args = { topic: 't', partitionMetadata, messages, partitioner };
          assert.deepEqual(patched(args), kafkajs(args));
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('cachingDefaultPartitioner', () => {
  test("answers as kafkajs' DefaultPartitioner, including after the partition count changes", () => {
    const ours = cachingDefaultPartitioner();
    const theirs = Partitioners.DefaultPartitioner();
    const meta = (n: number) =>
      Array.from({ length: n }, (_, i) => ({
        partitionErrorCode: 0,
        partitionId: i,
        leader: 0,
        replicas: [0],
        isr: [0],
      }));
    for (const n of [3, 3, 7, 1, 3]) {
      for (let k = 0; k < 200; k++) {
        const message = { key: `tenant-${k}`, value: 'v' };
        const args = { topic: 't', partitionMetadata: meta(n), message };
        assert.equal(ours(args), theirs(args), `key tenant-${k}, ${n} partitions`);
      }
      const explicit = { key: 'x', value: 'v', partition: 0 };
      assert.equal(ours({ topic: 't', partitionMetadata: meta(n), message: explicit }), 0);
    }
  });
});

describe('audit records posted to the producer thread', () => {
  test('the flat form rebuilds the same messages (key, value, CloudEvents + trace headers)', () => {
    const trace = (n: number) => {
      const headers: Record<string, string> =
        n === 0 ? {} : { traceparent: `00-${'a'.repeat(31)}${n}-${'b'.repeat(16)}-01` };
      return { traceId: '', spanId: '', headers, json: n === 0 ? '' : JSON.stringify(headers) };
    };
    fc.assert(
      fc.property(
        fc.array(
          fc.record({ id: text, tenant: text, time: text, value: text, trace: fc.integer({ min: 0, max: 2 }) }),
          { maxLength: 30 },
        ),
        (rows) => {
          const records: AuditRecord[] = rows.map((r) => ({ ...r, trace: trace(r.trace) }));
          const wire: string[] = [];
          appendWire(wire, records);
          assert.deepEqual(messagesFromWire(wire), records.map(toAuditMessage));
        },
      ),
      { numRuns: 300 },
    );
  });

  test("the headers are what platform's cloudEventHeaders writes", () => {
    const r: AuditRecord = {
      id: 'e-9',
      tenant: 'acme',
      time: '2026-11-25T12:00:00.123Z',
      value: '{}',
      trace: { traceId: '', spanId: '', headers: {}, json: '' },
    };
    const expected = cloudEventHeaders({
      id: 'e-9',
      type: AUDIT_EVENT_TYPE,
      source: AUDIT_CE_SOURCE,
      subject: 'acme',
      time: '2026-11-25T12:00:00.123Z',
    });
    assert.deepEqual(toAuditMessage(r).headers, expected);
  });
});
