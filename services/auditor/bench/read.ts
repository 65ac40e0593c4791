// Reading a 100,000-entry chain (one tenant, a checkpoint every 1,000 entries) from MongoDB:
//
//   auditor.verify        entries/s of verification (core chain hashes, checkpoint signatures,
//                         index fields against raw bytes) over documents fetched in batches of
//                         1,000 — the documents are fetched first, then verified from memory;
//                         plus the end-to-end rate (fetch + verify, what VerifyChain does) and the
//                         server's fetch rate alone, for context
//   auditor.attest        time of one Attest from the incremental aggregates (one per 100-entry
//                         chunk, written with the chain as ingest does), over the whole chain and
//                         over a window that cuts chunks; and the full scan it replaces (verify
//                         to the latest checkpoint + count), same run
//   auditor.report        time of one compliance report from aggregates (+ HTML and JSON), and
//                         the full scan (verify + aggregate every entry), same run
//
//   AUDITOR_BENCH_CHAIN_ENTRIES   entries (default 100,000); bounded: 1,800 s to load, 300 s per step
//   AUDITOR_BENCH_FULL_SCAN_MAX   largest chain the full-scan peers run on (default 200,000)
//   AUDITOR_BENCH_VERIFY          0: skip the verification rates (step 1; minutes at 100,000 entries)
//   BENCH_RESOURCES, BENCH_AGENTS which agents and resources the events name (lib/common.ts
//                                 benchShape: Zipf over 1,000 resources and 100 agents by default,
//                                 'distinct' for a different resource per event)
import { MongoClient } from 'mongodb';
import { auditGenesisHead, cryptoReady, parsePolicy, sha256Hex, signCheckpoint } from '@authority/core';
import { silentLogger } from '@authority/platform';
import { AGGREGATE_SPAN, buildChunkAggregate } from '../src/aggregates';
import {
  admitRecord,
  AuditorKeys,
  AuditReader,
  ChainAppender,
  ChainStore,
  renderComplianceHtml,
  verifyStored,
  type EntryDoc,
} from '../src/index';
import type { AdmittedEvent } from '../src/event-fields';
import { benchEvent, benchRecord, benchShape, envInt, note, report, requireInfra, round, runId } from './lib/common';

const TENANT = 'acme';
const POLICY = `
version: '1'
organization: Bench University
compliance_frameworks: [FERPA]
data_classifications:
  student-records: {sensitivity: confidential, pii_fields: [ssn], retention_days: 2555, description: records}
  student-health: {sensitivity: restricted, pii_fields: [diagnosis], retention_days: 2555, description: health}
  financial-aid: {sensitivity: confidential, pii_fields: [bank_account], retention_days: 2555, description: aid}
agents:
  advisor: {scopes: ['vault:student-records:read'], constraints: {unconstrained: true}}
  finaid: {scopes: ['vault:financial-aid:read'], constraints: {unconstrained: true}}
`;

async function timed<T>(what: string, maxMs: number, fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  const ms = performance.now() - t0;
  if (ms > maxMs) throw new Error(`benchmark bound exceeded: ${what} took ${Math.round(ms)} ms (> ${maxMs})`);
  return { value, ms };
}

async function main(): Promise<void> {
  await cryptoReady();
  const infra = requireInfra();
  const n = envInt('AUDITOR_BENCH_CHAIN_ENTRIES', 100_000);
  const shape = benchShape();
  const id = runId();
  const dbName = `auditor_bench_read_${id}`;
  const mongo = new MongoClient(infra.mongo);
  await mongo.connect();
  const store = new ChainStore(mongo.db(dbName), mongo);
  try {
    await store.ensureIndexes();
    const keys = new AuditorKeys(Buffer.alloc(32, 5));
    const appender = new ChainAppender({ store, keys, logger: silentLogger() });

    // Load the chain directly (the ingest benchmark measures the consumer path).
    let aggregateMs = 0;
    const base = Date.now() - n * 10 - 60_000;
    const load = await timed('loading the chain', 1_800_000, async () => {
      const g = auditGenesisHead(TENANT);
      let head = { seq: 0, hash: Buffer.from(g.hash) };
      for (let i = 0; i < n; i += 5000) {
        const events: AdmittedEvent[] = [];
        for (let j = i; j < Math.min(n, i + 5000); j++) {
          const r = benchRecord(benchEvent(TENANT, j, base, shape));
          const a = admitRecord({
            key: Buffer.from(TENANT),
            value: r.value as Buffer,
            headers: r.headers ?? {},
            partition: 0,
            offset: String(j),
          });
          if (!a.ok) throw new Error(a.reason);
          events.push(a);
        }
        const docs = appender.buildDocs(TENANT, head, events);
        for (let k = 0; k < docs.length; k += 1000)
          await store.entriesOf(TENANT).insertMany(docs.slice(k, k + 1000), { ordered: false });
        // One aggregate per AGGREGATE_SPAN entries (a checkpoint every 1,000 ends one too), as
        // ingest stores them (timed apart).
        const a0 = performance.now();
        for (let k = 0; k < docs.length; k += AGGREGATE_SPAN) {
          const chunk = docs.slice(k, k + AGGREGATE_SPAN).map((d, j) => ({
            seq: d.seq,
            hash: d.hash,
            prevHash: d.prevHash,
            fields: events[k + j]!.fields,
            raw: events[k + j]!.raw,
          }));
          await store.putAggregates([buildChunkAggregate(TENANT, chunk)], keys);
        }
        aggregateMs += performance.now() - a0;
        const last = docs[docs.length - 1] as EntryDoc;
        head = { seq: last.seq, hash: Buffer.from(last.hash, 'hex') };
        for (const d of docs) {
          if (d.seq % 1000 === 0) {
            const cp = signCheckpoint(
              { tenant: TENANT, seq: d.seq, headHash: d.hash, time: Math.floor(Date.now() / 1000) },
              keys.secretKey(),
              keys.keyId,
            );
            await store.insertCheckpoint({ ...cp, createdAt: new Date(), published: true });
          }
        }
      }
    });
    note(
      `loaded ${n} entries in ${Math.round(load.ms)} ms (of which building and storing aggregates ${Math.round(aggregateMs)} ms)`,
    );
    const fullScanMax = envInt('AUDITOR_BENCH_FULL_SCAN_MAX', 200_000);
    const checkpoints = (await store.checkpointsAsc(TENANT, 0)).map((d) => ({
      tenant: d.tenant,
      seq: d.seq,
      headHash: d.headHash,
      time: d.time,
      keyId: d.keyId,
      signature: d.signature,
    }));

    // 1. Fetch in batches of 1,000 (what verification reads), then verify from memory.
    if (process.env['AUDITOR_BENCH_VERIFY'] !== '0') {
      const fetched = await timed('fetching', 120_000, async () => {
        const batches: EntryDoc[][] = [];
        let batch: EntryDoc[] = [];
        for await (const doc of store.entriesCursor(TENANT, 1, undefined, {}, 1000)) {
          batch.push(doc);
          if (batch.length === 1000) {
            batches.push(batch);
            batch = [];
          }
        }
        if (batch.length > 0) batches.push(batch);
        return batches;
      });
      const memory = {
        entriesCursor: () => ({
          async *[Symbol.asyncIterator]() {
            for (const b of fetched.value) yield* b;
          },
          close: async () => undefined,
        }),
      } as unknown as ChainStore;
      const verifyRuns: number[] = [];
      let checked = 0;
      for (let run = 0; run < 3; run++) {
        const v = await timed('verifying from fetched documents', 120_000, () =>
          verifyStored(memory, { tenant: TENANT, checkpoints, keys: keys.resolve, batchSize: 1000 }),
        );
        if (!v.value.ok) throw new Error(`verification failed: ${v.value.message}`);
        checked = v.value.checked;
        verifyRuns.push(n / (v.ms / 1000));
      }
      const e2e = await timed('verifying from the store', 120_000, () =>
        verifyStored(store, { tenant: TENANT, checkpoints, keys: keys.resolve, batchSize: 1000 }),
      );
      if (!e2e.value.ok) throw new Error(`verification failed: ${e2e.value.message}`);
      const verifyRate = [...verifyRuns].sort((a, b) => a - b)[1] ?? verifyRuns[0]!;
      report({
        name: 'auditor.verify',
        entries: n,
        checked,
        checkpoints: checkpoints.length,
        entries_per_sec: round(verifyRate),
        runs_entries_per_sec: verifyRuns.map((x) => round(x)),
        target_entries_per_sec: 100_000,
        end_to_end: {
          entries_per_sec: round(n / (e2e.ms / 1000)),
          ms: round(e2e.ms),
          what: 'fetch (cursor, batches of 1,000) + verify, as VerifyChain',
        },
        fetch_only: { docs_per_sec: round(n / (fetched.ms / 1000)), ms: round(fetched.ms) },
        notes:
          'entries_per_sec: verifyStored over documents already fetched in batches of 1,000 (median of 3); every entry: SHA-256 chain hash, event id and indexed fields checked against the raw bytes; every checkpoint signature verified',
      });
    }

    // 2. Attest and report over the same chain, through the reader (as the RPCs do): from the
    //    aggregates, and by the full scan they replace.
    const policy = parsePolicy(POLICY);
    const readerWith = (useAggregates: boolean) =>
      new AuditReader({
        store,
        keys,
        policies: {
          get: (t: string) =>
            t === TENANT ? { tenant: TENANT, version: 1, sha256: sha256Hex(POLICY), policy } : undefined,
        },
        scanLimit: 50_000,
        maxScanEntries: Math.max(1_000_000, n),
        useAggregates,
      });
    const fast = readerWith(true);
    const nowSec = Math.floor(Date.now() / 1000);
    // A window over the middle of the chain, its edges inside chunks (events are 10 ms apart).
    const cutFrom = Math.floor((base + n * 10 * 0.3) / 1000);
    const cutTo = Math.floor((base + n * 10 * 0.7) / 1000);
    const attestOf = (reader: AuditReader, fromSec: number, toSec: number) =>
      reader.attest({
        tenant: TENANT,
        agentId: 'advisor',
        resourcePattern: 'slos://vaults/student-health/*',
        fromSec,
        toSec,
      });
    const runFull = n <= fullScanMax;
    // The first call reads the aggregates as ingest stored them (one per 500 entries) and starts
    // their merging in the background (AUTHORITY_AUDITOR_AGGREGATE_MERGE_SPAN); the calls measured
    // below read the merged ones.
    const attestFirst = await timed('attesting (aggregates, before merging)', 300_000, () => attestOf(fast, 0, nowSec));
    const readFirst = { ...fast.stats.lastWalk };
    const merging = await timed('merging aggregates', 1_800_000, () => fast.compacted());
    const attestWhole = await timed('attesting (aggregates)', 300_000, () => attestOf(fast, 0, nowSec));
    const readWhole = { ...fast.stats.lastWalk };
    const attestCut = await timed('attesting a cut window (aggregates)', 300_000, () => attestOf(fast, cutFrom, cutTo));
    const readCut = { ...fast.stats.lastWalk };
    const attestFull = runFull
      ? await timed('attesting (full scan)', 300_000, () => attestOf(readerWith(false), 0, nowSec))
      : undefined;
    if (attestFull && attestFull.value.allowedCount !== attestWhole.value.allowedCount)
      throw new Error('the attestation from aggregates differs from the full scan');
    report({
      name: 'auditor.attest',
      entries: n,
      ms: round(attestWhole.ms),
      window_cutting_chunks_ms: round(attestCut.ms),
      allowed: attestWhole.value.allowedCount,
      denied: attestWhole.value.deniedCount,
      checkpoint_seq: attestWhole.value.checkpoint.seq,
      target_ms_at_1m: 1000,
      full_scan: attestFull ? { ms: round(attestFull.ms), speedup: round(attestFull.ms / attestWhole.ms, 1) } : null,
      shape,
      before_merging: { ms: round(attestFirst.ms), read: readFirst },
      merging: {
        ms: round(merging.ms),
        merged_stored: fast.stats.mergedStored,
        aggregates_merged: fast.stats.aggregatesCompacted,
      },
      read: readWhole,
      read_window_cutting_chunks: readCut,
      reader: fast.stats,
      notes:
        'aggregates: one read of the tenant aggregate collection (merged: one document per 25,000 entries, and the newest per 500), seals and hash links checked to the latest checkpoint, one lookup of the entry at it, aggregates cut by the window resolved from their events times, + Ed25519 signature; full_scan: verify every entry to the checkpoint + count',
    });
    const render = async (reader: AuditReader) => {
      const r = await reader.report(TENANT, { startMs: 0, endMs: Date.now() });
      const t = performance.now();
      const out = { r, html: renderComplianceHtml(r), json: JSON.stringify(r) };
      return { ...out, renderMs: performance.now() - t };
    };
    const rep = await timed('reporting (aggregates)', 300_000, () => render(fast));
    const repFull = runFull
      ? await timed('reporting (full scan)', 300_000, () => render(readerWith(false)))
      : undefined;
    report({
      name: 'auditor.report',
      entries: n,
      ms: round(rep.ms),
      events_in_window: rep.value.r.executiveSummary.totalEvents,
      verified: rep.value.r.chainVerification.ok,
      html_bytes: Buffer.byteLength(rep.value.html),
      json_bytes: Buffer.byteLength(rep.value.json),
      target_ms_at_1m: 3000,
      shape,
      read: { ...fast.stats.lastWalk },
      phases_ms: {
        ...Object.fromEntries(Object.entries(fast.stats.lastReportMs).map(([k, v]) => [k, round(v)])),
        render: round(rep.value.renderMs),
      },
      full_scan: repFull
        ? {
            ms: round(repFull.ms),
            speedup: round(repFull.ms / rep.ms, 1),
            same_events: repFull.value.r.executiveSummary.totalEvents === rep.value.r.executiveSummary.totalEvents,
          }
        : null,
      notes:
        'aggregates up to the latest checkpoint + verified entries after it + the listed events read by _id + render HTML and JSON; full_scan: verify the whole chain + aggregate every entry + render',
    });
  } finally {
    await mongo
      .db(dbName)
      .dropDatabase()
      .catch(() => undefined);
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `auditor read benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
