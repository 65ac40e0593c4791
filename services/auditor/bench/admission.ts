// The CPU cost of authenticating audit records at ingest: the auditor's admission of a record as
// it was before producer signatures (admitRecord: decode and structural checks) against the
// admission that now runs (admitSignedRecord: Ed25519 verification of `authority-sig`, then the
// same checks, then the key's scope), over the same signed records as kafkajs hands them over
// (Buffers). No Kafka, no MongoDB: only the admission's own work. Rounds alternate the paths;
// medians are reported. The signed path is measured twice: records signed one by one (as the
// issuer and policy services sign) and in batches of 100 under one signature over their Merkle
// root (as the enforcer signs a produce request), verified through the ingest's VerifiedBatchRoots.
//
//   AUDITOR_BENCH_ADMISSION_RECORDS   records per round (default 20,000)
//   AUDITOR_BENCH_ROUNDS              rounds (default 5)
//
// One JSON line: auditor.admission {us_per_record, baseline {us_per_record}, added_us_per_record}.
import { VerifiedBatchRoots, cryptoReady, parseTrustedEventKeys } from '@authority/core';
import type { ConsumedMessage } from '@authority/platform';
import { admitRecord, admitSignedRecord } from '../src/index';
import {
  benchEvent,
  benchEventKey,
  benchSignedRecords,
  benchTrustedKeys,
  envInt,
  note,
  report,
  round,
} from './lib/common';

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  await cryptoReady();
  const n = envInt('AUDITOR_BENCH_ADMISSION_RECORDS', 20_000);
  const rounds = envInt('AUDITOR_BENCH_ROUNDS', 5);
  const key = benchEventKey();
  const trusted = new Map(parseTrustedEventKeys(benchTrustedKeys()).keys.map((k) => [k.kid, k]));
  const resolve = (kid: string) => trusted.get(kid);
  const base = Date.now() - 3_600_000;
  const events = Array.from({ length: n }, (_, i) => benchEvent('acme', i, base));
  const consumed = (batch: number): ConsumedMessage[] =>
    benchSignedRecords(events, key, batch).map((m, i) => ({
      topic: 'bench.audit',
      partition: 0,
      offset: String(i),
      key: Buffer.from(m.key as string),
      value: m.value as Buffer,
      headers: Object.fromEntries(Object.entries(m.headers ?? {}).map(([k, v]) => [k, Buffer.from(v)])),
      timestamp: '0',
    }));
  const records = consumed(1);
  const batched = consumed(100);
  // Both paths admit every record (a refused one would skip work and flatter the number).
  for (const r of records.slice(0, 100)) {
    if (!admitRecord(r).ok || !admitSignedRecord(r, resolve).ok) throw new Error('bench record not admitted');
  }
  for (const r of batched.slice(0, 250))
    if (!admitSignedRecord(r, resolve, new VerifiedBatchRoots()).ok) throw new Error('bench record not admitted');
  const unsigned: number[] = [];
  const signed: number[] = [];
  const signedBatched: number[] = [];
  for (let round_ = 0; round_ < rounds; round_++) {
    let t = performance.now();
    for (const r of records) admitRecord(r);
    unsigned.push(((performance.now() - t) * 1000) / n);
    t = performance.now();
    for (const r of records) admitSignedRecord(r, resolve);
    signed.push(((performance.now() - t) * 1000) / n);
    const roots = new VerifiedBatchRoots();
    t = performance.now();
    for (const r of batched) admitSignedRecord(r, resolve, roots);
    signedBatched.push(((performance.now() - t) * 1000) / n);
    note(
      `round ${round_ + 1}: unsigned ${round(unsigned.at(-1)!, 2)} µs, signed ${round(signed.at(-1)!, 2)} µs, ` +
        `batch-signed ${round(signedBatched.at(-1)!, 2)} µs per record`,
    );
  }
  const before = median(unsigned);
  const after = median(signed);
  report({
    name: 'auditor.admission',
    what: 'CPU per record of the auditor admission: signature verification + decode + checks (now) vs decode + checks (before signatures)',
    records: n,
    rounds,
    event_bytes_avg: Math.round(records.reduce((s, r) => s + (r.value as Buffer).length, 0) / n),
    us_per_record: round(after, 2),
    records_per_sec_one_core: Math.round(1e6 / after),
    baseline: { name: 'admitRecord (no signature check)', us_per_record: round(before, 2) },
    added_us_per_record: round(after - before, 2),
    batch_signed_100: {
      what: '100 records per signature (Merkle root), as the enforcer signs a produce request',
      us_per_record: round(median(signedBatched), 2),
      added_us_per_record: round(median(signedBatched) - before, 2),
    },
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
