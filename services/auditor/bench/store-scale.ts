// The auditor's reads and writes as the store grows (issue 17): a store filled with N entries over T
// tenants (a checkpoint every 1,000 entries of a tenant), then, against it:
//
//   auditor.store.fill      how long filling took (the appender's ordered inserts, as ingest writes)
//   auditor.store.query     a one-entry QueryEvents page at a random place of a random tenant (p50, p95)
//   auditor.store.head      a chain-head lookup (the newest entry, from the head hint) (p50, p95)
//   auditor.store.ingest    appending new events to existing tenants of the full store, against the same
//                           appends into an empty store, and against a plain insertMany of the same
//                           documents into the full store (same run, rounds alternate; medians)
//   auditor.store.verify    VerifyChain of one tenant in the full store, and of a tenant of the same
//                           length alone in an empty store (proportional to the tenant, not the store)
//
//   AUDITOR_BENCH_STORE_ENTRIES   entries (default 100,000; the target is 1,000,000)
//   AUDITOR_BENCH_STORE_TENANTS   tenants (default 100)
//   AUDITOR_BENCH_STORE_DB        fill this database once and keep it (later runs reuse it); default:
//                                 a fresh database, dropped at the end
import { MongoClient } from 'mongodb';
import { cryptoReady, signCheckpoint } from '@authority/core';
import { silentLogger } from '@authority/platform';
import { admitRecord, AuditorKeys, AuditReader, ChainAppender, ChainStore, type EntryDoc } from '../src/index';
import type { AdmittedEvent } from '../src/event-fields';
import { encodePageToken } from '../src/tokens';
import { benchEvent, benchRecord, envInt, note, report, requireInfra, round, runId } from './lib/common';

const CHECKPOINT_EVERY = 1000;

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(s.length * p))] ?? NaN;
}

function median(xs: number[]): number {
  return percentile(xs, 0.5);
}

const tenantName = (i: number) => `t${String(i).padStart(4, '0')}`;

/** Admitted events (unsigned records: the store path does not check signatures). */
function events(tenant: string, from: number, count: number, baseMs: number): AdmittedEvent[] {
  return Array.from({ length: count }, (_, k) => {
    const m = benchRecord(benchEvent(tenant, from + k, baseMs));
    const r = admitRecord({
      key: Buffer.from(tenant),
      value: m.value as Buffer,
      headers: m.headers ?? {},
      partition: 0,
      offset: String(from + k),
    });
    if (!r.ok) throw new Error(r.reason);
    return r;
  });
}

async function timed<T>(fn: () => Promise<T>): Promise<{ value: T; ms: number }> {
  const t0 = performance.now();
  const value = await fn();
  return { value, ms: performance.now() - t0 };
}

async function main(): Promise<void> {
  await cryptoReady();
  const infra = requireInfra();
  const n = envInt('AUDITOR_BENCH_STORE_ENTRIES', 100_000);
  const tenants = envInt('AUDITOR_BENCH_STORE_TENANTS', 100);
  const perTenant = Math.floor(n / tenants);
  const id = runId();
  const keep = process.env['AUDITOR_BENCH_STORE_DB'];
  const fullDb = keep ?? `auditor_bench_scale_${id}`;
  const mongo = new MongoClient(infra.mongo);
  await mongo.connect();
  const dropped: string[] = keep ? [] : [fullDb];
  const keys = new AuditorKeys(Buffer.alloc(32, 5));
  const baseMs = Date.now() - 86_400_000;
  try {
    const store = new ChainStore(mongo.db(fullDb), mongo);
    await store.ensureIndexes();
    const appender = new ChainAppender({ store, keys, logger: silentLogger() });

    // Fill (or find filled): T tenants, round-robin, 1,000 events per append.
    const already = (await store.lastEntry(tenantName(tenants - 1)))?.seq ?? 0;
    if (already < perTenant) {
      const fill = await timed(async () => {
        for (let from = 0; from < perTenant; from += CHECKPOINT_EVERY) {
          const count = Math.min(CHECKPOINT_EVERY, perTenant - from);
          for (let t = 0; t < tenants; t++) {
            const tenant = tenantName(t);
            await appender.append(tenant, events(tenant, from, count, baseMs));
            const state = await appender.state(tenant);
            const cp = signCheckpoint(
              {
                tenant,
                seq: state.head.seq,
                headHash: state.head.hash.toString('hex'),
                time: Math.floor(Date.now() / 1000),
              },
              keys.secretKey(),
              keys.keyId,
            );
            await store.insertCheckpoint({ ...cp, createdAt: new Date(), published: true });
          }
          await appender.saveHints();
          note(`filled ${(from + count) * tenants} of ${perTenant * tenants}`);
        }
      });
      report({
        name: 'auditor.store.fill',
        entries: perTenant * tenants,
        tenants,
        ms: round(fill.ms),
        entries_per_sec: round((perTenant * tenants) / (fill.ms / 1000)),
        notes: 'ChainAppender.append (ordered inserts of 100, one writer) + a signed checkpoint every 1,000 per tenant',
      });
    } else note(`reusing ${fullDb} (${perTenant} entries per tenant)`);

    const reader = new AuditReader({ store, keys, policies: { get: () => undefined }, scanLimit: 10_000 });
    const pick = (i: number) => tenantName((i * 37) % tenants);

    // A one-entry page at a random place (page token after seq k).
    const pageMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const tenant = pick(i);
      const after = (i * 7919) % perTenant;
      const r = await timed(() =>
        reader.query({
          tenant,
          agentId: '',
          action: '',
          resourceGlob: '',
          decision: '',
          reason: '',
          pageSize: 1,
          pageToken: after === 0 ? '' : encodePageToken('q', tenant, after),
        }),
      );
      if (r.value.entries[0]?.entry.seq !== after + 1) throw new Error(`page after ${after} of ${tenant} is wrong`);
      pageMs.push(r.ms);
    }
    report({
      name: 'auditor.store.query',
      entries: perTenant * tenants,
      tenants,
      page_size: 1,
      p50_ms: round(median(pageMs), 2),
      p95_ms: round(percentile(pageMs, 0.95), 2),
      target_p50_ms: 50,
      notes: 'AuditReader.query, no filter, a page token at a random seq of a random tenant (50 samples)',
    });

    // The chain head: the newest entry, from the hint (saved at the checkpoint timer) onwards.
    const headMs: number[] = [];
    for (let i = 0; i < 50; i++) {
      const r = await timed(() => store.lastEntry(pick(i)));
      if ((r.value?.seq ?? 0) < perTenant) throw new Error(`head of ${pick(i)} is ${r.value?.seq}`);
      headMs.push(r.ms);
    }
    // A cold appender's first sight of a tenant (hint + newest valid checkpoint).
    const loadMs: number[] = [];
    for (let i = 0; i < 20; i++) {
      const cold = new ChainAppender({ store, keys, logger: silentLogger() });
      loadMs.push((await timed(() => cold.state(pick(i)))).ms);
    }
    report({
      name: 'auditor.store.head',
      entries: perTenant * tenants,
      tenants,
      p50_ms: round(median(headMs), 2),
      p95_ms: round(percentile(headMs, 0.95), 2),
      appender_first_sight_p50_ms: round(median(loadMs), 2),
      target_p50_ms: 50,
      notes:
        'ChainStore.lastEntry (hint, then _id lookups at doubling distances); first sight = hint + newest valid checkpoint',
    });

    // Ingest: 2,000 new events over 10 tenants, into the full store vs an empty one vs plain insertMany.
    const rounds = envInt('AUDITOR_BENCH_ROUNDS', 3);
    const batch = 200;
    const ingestTenants = 10;
    const full: number[] = [];
    const empty: number[] = [];
    const plain: number[] = [];
    let next = perTenant + 1_000_000; // event numbers never used by the fill
    for (let r = 0; r < rounds; r++) {
      const work = Array.from({ length: ingestTenants }, (_, t) => {
        const tenant = pick(t + r * ingestTenants);
        const evs = events(tenant, next, batch, baseMs);
        next += batch;
        return { tenant, evs };
      });
      const total = batch * ingestTenants;
      const intoFull = await timed(async () => {
        for (const w of work) await appender.append(w.tenant, w.evs);
      });
      full.push(total / (intoFull.ms / 1000));
      const emptyName = `auditor_bench_scale_${id}_empty${r}`;
      dropped.push(emptyName);
      const emptyStore = new ChainStore(mongo.db(emptyName), mongo);
      await emptyStore.ensureIndexes();
      const emptyAppender = new ChainAppender({ store: emptyStore, keys, logger: silentLogger() });
      for (const w of work) {
        await emptyStore.ensureTenant(w.tenant);
        await emptyAppender.state(w.tenant);
      }
      const intoEmpty = await timed(async () => {
        for (const w of work) await emptyAppender.append(w.tenant, w.evs);
      });
      empty.push(total / (intoEmpty.ms / 1000));
      // The same documents as plain inserts into fresh tenants of the full store (same indexes).
      const plainDocs = work.map((w, k) => {
        const tenant = `p${r}-${k}-${id}`;
        const docs = emptyAppender.buildDocs(tenant, { seq: 0, hash: Buffer.alloc(32) }, w.evs);
        return { tenant, docs };
      });
      for (const p of plainDocs) await store.ensureTenant(p.tenant);
      const plainRun = await timed(async () => {
        for (const p of plainDocs) {
          const c = store.entriesOf(p.tenant);
          for (let i = 0; i < p.docs.length; i += 100) await c.insertMany(p.docs.slice(i, i + 100) as EntryDoc[]);
        }
      });
      plain.push(total / (plainRun.ms / 1000));
      for (const p of plainDocs) await store.entriesOf(p.tenant).drop();
    }
    report({
      name: 'auditor.store.ingest',
      entries: perTenant * tenants,
      tenants,
      appended_per_round: batch * ingestTenants,
      full_store_entries_per_sec: round(median(full)),
      empty_store_entries_per_sec: round(median(empty)),
      ratio_full_to_empty: round(median(full) / median(empty), 2),
      target_ratio_full_to_empty: 0.8,
      plain_insert_many_docs_per_sec: round(median(plain)),
      ratio_to_plain: round(median(full) / median(plain), 2),
      runs: { full: full.map((x) => round(x)), empty: empty.map((x) => round(x)), plain: plain.map((x) => round(x)) },
      notes:
        'ChainAppender.append of 200 events to each of 10 tenants (hash chain + ordered inserts of 100); plain: insertMany of the same documents in 100s into fresh tenant collections of the full store',
    });

    // VerifyChain of one tenant in the full store, and of a tenant of the same length alone.
    const tenant = pick(1);
    const fullVerify = await timed(() => reader.verify({ tenant, fromSeq: 0, toSeq: 0, checkpointSeq: 0 }));
    if (!fullVerify.value.ok) throw new Error(fullVerify.value.message);
    const aloneName = `auditor_bench_scale_${id}_alone`;
    dropped.push(aloneName);
    const alone = new ChainStore(mongo.db(aloneName), mongo);
    await alone.ensureIndexes();
    const aloneAppender = new ChainAppender({ store: alone, keys, logger: silentLogger() });
    const len = fullVerify.value.checked;
    for (let from = 0; from < len; from += 1000) {
      await aloneAppender.append(tenant, events(tenant, from, Math.min(1000, len - from), baseMs));
    }
    const aloneReader = new AuditReader({ store: alone, keys, policies: { get: () => undefined }, scanLimit: 10_000 });
    const aloneVerify = await timed(() => aloneReader.verify({ tenant, fromSeq: 0, toSeq: 0, checkpointSeq: 0 }));
    if (!aloneVerify.value.ok) throw new Error(aloneVerify.value.message);
    report({
      name: 'auditor.store.verify',
      entries: perTenant * tenants,
      tenants,
      tenant_entries: len,
      full_store_ms: round(fullVerify.ms),
      alone_ms: round(aloneVerify.ms),
      ratio_full_to_alone: round(fullVerify.ms / aloneVerify.ms, 2),
      full_store_entries_per_sec: round(len / (fullVerify.ms / 1000)),
      notes: 'AuditReader.verify of one tenant from seq 1 (with its checkpoints in the full store; none alone)',
    });
  } finally {
    for (const name of dropped) {
      await mongo
        .db(name)
        .dropDatabase()
        .catch(() => undefined);
    }
    await mongo.close();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `auditor store-scale benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
