// Ingest rate into the chains (Kafka → admit → hash → ordered inserts → commit), against a plain
// insertMany of the very same documents into the same server with the same indexes. The events
// are produced once; each round re-ingests them with a fresh consumer group into a fresh database,
// and the rounds alternate chain / plain so both see the same machine load. Medians are reported.
//
//   AUDITOR_BENCH_INGEST_EVENTS   events (default 20,000, over 5 tenants)
//   AUDITOR_BENCH_ROUNDS          rounds (default 3)
//   AUDITOR_BENCH_SIGNED_BATCH    records per producer signature (default 100, as the enforcer signs a
//                                 BatchCheck's events; 1 = one signature per record, as the issuer)
//   AUTHORITY_AUDITOR_WRITE_CONCURRENCY, _PARTITIONS_CONCURRENCY, _FETCH_*, AUTHORITY_CHECKPOINT_*
//                                 passed through to the auditor (defaults otherwise)
//   bounded: 180 s per chain round, 120 s per plain round
//
// Each round also ingests once with AUTHORITY_AUDITOR_AGGREGATES=false (no aggregate per chunk), so
// the cost of the aggregates is a same-run ratio.
//
// The auditor runs in this process, so its CPU per entry (process.cpuUsage over a chain round:
// Kafka consumer, admission, hashing, BSON) is reported too; FerretDB's CPU is its own process's.
//
// One JSON line: auditor.ingest {chain_entries_per_sec, auditor_cpu_us_per_entry, without_aggregates,
// baseline {docs_per_sec}, ratio, target_ratio}.
import { MongoClient, type Document } from 'mongodb';
import { cryptoReady } from '@authority/core';
import { authorityTopicSpecs, createKafka, loadConfig, silentLogger } from '@authority/platform';
import { auditorConfigSchema, startAuditor } from '../src/index';
import {
  benchEvent,
  benchEventKey,
  benchSignedRecords,
  benchTrustedKeys,
  envInt,
  note,
  report,
  requireInfra,
  round,
  runId,
  until,
} from './lib/common';

const TENANTS = ['acme', 'globex', 'initech', 'umbrella', 'hooli'];

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? NaN;
}

async function main(): Promise<void> {
  const infra = requireInfra();
  await cryptoReady();
  const n = envInt('AUDITOR_BENCH_INGEST_EVENTS', 20_000);
  const rounds = envInt('AUDITOR_BENCH_ROUNDS', 3);
  const signedBatch = envInt('AUDITOR_BENCH_SIGNED_BATCH', 100);
  const id = runId();
  const prefix = `bench-${id}.`;
  const dbs: string[] = [];
  const bus = createKafka({ brokers: infra.brokers.split(','), clientId: `bench-${id}`, logger: silentLogger() });
  const mongo = new MongoClient(infra.mongo);
  await mongo.connect();
  try {
    await bus.ensureTopics(authorityTopicSpecs(prefix));
    const base = Date.now() - 3_600_000;
    const key = benchEventKey();
    const records = benchSignedRecords(
      Array.from({ length: n }, (_, i) => benchEvent(TENANTS[i % TENANTS.length] as string, i, base)),
      key,
      signedBatch,
    );
    const bytes = records.reduce((s, r) => s + (r.value as Buffer).length, 0);
    const chunks: Promise<void>[] = [];
    for (let i = 0; i < records.length; i += 500) chunks.push(bus.publish(`${prefix}audit`, records.slice(i, i + 500)));
    await Promise.all(chunks);
    note(`produced ${n} events (${Math.round(bytes / n)} bytes each) to ${prefix}audit`);

    const chainRates: number[] = [];
    const plainRates: number[] = [];
    const docs: Document[] = [];
    let lastStats: Record<string, number> = {};
    const bareRates: number[] = [];
    // The auditor runs in this process: its CPU (Kafka consumer, admission, hashing, BSON) per entry.
    const chainCpu: number[] = [];
    const bareCpu: number[] = [];
    /** One ingest of every event into a fresh database; entries/s. */
    const chainRound = async (db: string, group: string, aggregates: boolean): Promise<number> => {
      dbs.push(db);
      const config = loadConfig(auditorConfigSchema, {
        KAFKA_BROKERS: infra.brokers,
        MONGODB_URI: infra.mongo,
        AUTHORITY_TOPIC_PREFIX: prefix,
        AUTHORITY_AUDITOR_DB: db,
        AUTHORITY_AUDITOR_GROUP_ID: group,
        AUTHORITY_AUDITOR_SIGNING_KEY: Buffer.alloc(32, 7).toString('base64'),
        AUTHORITY_OPERATOR_API_KEY: `bench-operator-${id}`,
        AUTHORITY_EVENT_TRUSTED_KEYS: benchTrustedKeys(),
        AUTHORITY_GRPC_HOST: '127.0.0.1',
        AUTHORITY_LOG_LEVEL: 'silent',
        AUTHORITY_REFLECTION: 'false',
        AUTHORITY_AUDITOR_FETCH_MAX_WAIT: '100ms',
        AUTHORITY_AUDITOR_AGGREGATES: String(aggregates),
        // Tuning knobs may be overridden from the environment (e.g. AUTHORITY_AUDITOR_WRITE_CONCURRENCY).
        ...Object.fromEntries(
          Object.entries(process.env).filter(([k]) =>
            /^AUTHORITY_(AUDITOR_(WRITE|PARTITIONS|FETCH)|CHECKPOINT)_/.test(k),
          ),
        ),
      });
      const auditor = await startAuditor({ ...config, AUTHORITY_GRPC_PORT: 0 }, { logger: silentLogger() });
      // Measured from the moment the consumer has joined its group to the last entry stored.
      const t0 = performance.now();
      const cpu0 = process.cpuUsage();
      await until(() => auditor.ingest.stats.appended >= n, 'chain ingest', 180_000, 5);
      const chainMs = performance.now() - t0;
      const cpu = process.cpuUsage(cpu0);
      (aggregates ? chainCpu : bareCpu).push((cpu.user + cpu.system) / n);
      lastStats = { ...auditor.ingest.stats, ...auditor.appender.stats };
      await auditor.stop();
      return n / (chainMs / 1000);
    };
    for (let r = 0; r < rounds; r++) {
      const db = `auditor_bench_${id}_${r}`;
      const chainRate = await chainRound(db, `bench-${id}-${r}`, true);
      chainRates.push(chainRate);
      const bareDb = `${db}_bare`;
      bareRates.push(await chainRound(bareDb, `bench-${id}-${r}-bare`, false));
      await mongo
        .db(bareDb)
        .dropDatabase()
        .catch(() => undefined);
      const chainMs = (n / chainRate) * 1000;

      // Baseline: the same documents (read back once), plain insertMany, same indexes, fresh database.
      if (docs.length === 0) {
        // Every tenant's entries (one `entries.<tenant>` collection each).
        const names = await mongo.db(db).listCollections({}, { nameOnly: true }).toArray();
        for (const { name } of names.filter((c) => c.name.startsWith('entries.')))
          docs.push(
            ...(await mongo
              .db(db)
              .collection(name)
              .find({}, { projection: { _id: 0 } })
              .toArray()),
          );
      }
      const plainDb = `${db}_plain`;
      dbs.push(plainDb);
      const plain = mongo.db(plainDb).collection('entries');
      await plain.createIndex({ tenant: 1, seq: 1 }, { unique: true, name: 'uq_tenant_seq' });
      await plain.createIndex({ tenant: 1, eventId: 1 }, { unique: true, name: 'uq_tenant_event' });
      const copy = docs.map((d) => ({ ...d }));
      const deadline = Date.now() + 120_000;
      const t1 = performance.now();
      for (let i = 0; i < copy.length; i += 1000) {
        await plain.insertMany(copy.slice(i, i + 1000), { ordered: false });
        if (Date.now() > deadline) throw new Error('baseline bound exceeded (120 s)');
      }
      const plainMs = performance.now() - t1;
      plainRates.push(copy.length / (plainMs / 1000));
      note(`round ${r + 1}: chain ${Math.round(chainMs)} ms, plain ${Math.round(plainMs)} ms`);
      await mongo
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
      await mongo
        .db(plainDb)
        .dropDatabase()
        .catch(() => undefined);
    }
    const chainRate = median(chainRates);
    const plainRate = median(plainRates);
    report({
      name: 'auditor.ingest',
      events: n,
      tenants: TENANTS.length,
      rounds,
      event_bytes_avg: Math.round(bytes / n),
      records_per_producer_signature: signedBatch,
      chain_entries_per_sec: round(chainRate),
      chain_rounds: chainRates.map((x) => round(x)),
      // Node CPU per entry of the auditor process (the store's own CPU is FerretDB's, not in it).
      auditor_cpu_us_per_entry: round(median(chainCpu)),
      without_aggregates: {
        entries_per_sec: round(median(bareRates)),
        auditor_cpu_us_per_entry: round(median(bareCpu)),
        rounds: bareRates.map((x) => round(x)),
        ratio_with_to_without: round(chainRate / median(bareRates), 3),
      },
      batches: lastStats['batches'],
      appender: {
        hint_loads: lastStats['hintLoads'],
        verified_reloads: lastStats['verifiedReloads'],
        conflicts: lastStats['conflicts'],
      },
      baseline: {
        name: 'plain insertMany of the same documents (1000 per call, unordered, same unique indexes, same server)',
        docs_per_sec: round(plainRate),
        rounds: plainRates.map((x) => round(x)),
      },
      ratio: round(chainRate / plainRate, 3),
      target_ratio: 0.8, // issue 17: ingest ≥ 0.8× raw insertMany into the same store
      notes:
        'chain ingest = Kafka fetch + admission (signature verification + decode + checks) + SHA-256 chaining + ordered inserts of <=100 + offset commit per batch; medians of alternating rounds',
    });
  } finally {
    for (const db of dbs)
      await mongo
        .db(db)
        .dropDatabase()
        .catch(() => undefined);
    await mongo.close();
    await bus
      .withAdmin((admin) => admin.deleteTopics({ topics: authorityTopicSpecs(prefix).map((s) => s.topic) }))
      .catch(() => undefined);
    await bus.disconnect();
  }
}

main().catch((err: unknown) => {
  process.stderr.write(
    `auditor ingest benchmark failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`,
  );
  process.exit(1);
});
