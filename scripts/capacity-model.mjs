#!/usr/bin/env node
// Capacity model (docs/operations.md#capacity): from measured per-core service times to what a
// target load needs. MEASURED inputs come from `npm run bench` JSON lines (a file given as the
// first argument; without it, the figures recorded in docs/operations.md are used); everything
// else is MODELLED here: a tenant's events go to one partition and one auditor replica (a chain
// has one writer), tenants' rates follow a Zipf law, and a core is planned at 60 % utilisation.
// Usage: node scripts/capacity-model.mjs [bench.jsonl] [--rate 100000] [--tenants 1000] [--zipf 1.0]
import { readFileSync } from 'node:fs';

const args = process.argv.slice(2);
const flag = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const file = args.find((a, i) => !a.startsWith('--') && !(i > 0 && args[i - 1].startsWith('--')));

// Recorded (docs/operations.md#capacity, how each was obtained is said there): one core,
// decisions or events per second.
const measured = {
  memoized_per_sec: 130_000, // decision.memoized.with-audit-event (engine + audit event built)
  cold_2link_per_sec: 2_900, // decision.cold.2link (3 verifies on sodium-native)
  proof_per_sec: 3_800, // decision.request-proof.2link
  grpc_check_per_sec: 9_000, // one enforcer process, gRPC Check incl. the decision (0.6 × echo)
  producer_events_per_sec: 60_000, // producer.sign (one signature per post) + record encoding, producer thread
  auditor_events_per_sec: 4_300, // auditor.ingest: one auditor replica (admission + chain append), FerretDB
  source: 'docs/operations.md (recorded)',
};
if (file) {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    if (!line.startsWith('{')) continue;
    const r = JSON.parse(line);
    if (r.name === 'decision.memoized.with-audit-event') measured.memoized_per_sec = r.ops_per_sec;
    if (r.name === 'decision.cold.2link') measured.cold_2link_per_sec = r.ops_per_sec;
    if (r.name === 'decision.request-proof.2link') measured.proof_per_sec = r.ops_per_sec;
    if (r.name === 'grpc.check.closed-loop-64') measured.grpc_check_per_sec = r.rps;
    // The thread signs a post's records under one signature (batch_signed_100), one by one before.
    if (r.name === 'producer.sign')
      measured.producer_events_per_sec = r.batch_signed_100
        ? Math.round(1e6 / r.batch_signed_100.us_per_record)
        : r.records_per_sec_one_core;
    if (r.name === 'auditor.ingest') measured.auditor_events_per_sec = r.chain_entries_per_sec;
  }
  measured.source = file;
}

const rate = flag('rate', 100_000);
const tenants = flag('tenants', 1_000);
const zipf = flag('zipf', 1.0);
const utilisation = 0.6;

// Zipf shares: tenant k gets 1/k^s of the load, normalised.
const weights = Array.from({ length: tenants }, (_, k) => 1 / (k + 1) ** zipf);
const total = weights.reduce((a, b) => a + b, 0);
const hottest = (rate * weights[0]) / total;

const perCore = (x) => x * utilisation;
// Enforcer: gRPC + decision on the main thread (the gRPC figure includes the decision), the
// producer thread signs and encodes each event on a second core.
const enforcerCoresByMix = (memoShare, coldShare, proofShare) => {
  const decisionUs =
    memoShare * (1e6 / measured.memoized_per_sec) +
    coldShare * (1e6 / measured.cold_2link_per_sec) +
    proofShare * (1e6 / measured.proof_per_sec);
  const grpcUs = 1e6 / measured.grpc_check_per_sec - 1e6 / measured.memoized_per_sec; // transport share
  const mainUs = Math.max(0, grpcUs) + decisionUs;
  return {
    main_thread_cores: (rate * mainUs) / 1e6 / utilisation,
    producer_thread_cores: rate / perCore(measured.producer_events_per_sec),
  };
};
const mixes = {
  'all memoized': enforcerCoresByMix(1, 0, 0),
  '95 % memoized, 5 % cold': enforcerCoresByMix(0.95, 0.05, 0),
  'all with per-request proof': enforcerCoresByMix(0, 0, 1),
};
const auditorReplicas = Math.ceil(rate / perCore(measured.auditor_events_per_sec));
// Partitions: at least two per replica (room to add replicas without re-keying), at least 64.
const partitions = Math.max(64, 2 * auditorReplicas);
// Keys hash to partitions: the busiest partition holds the hottest tenant plus about its share of
// the rest, raised by the spread of tenants per partition (mean + 3 standard deviations).
const tenantsPerPartition = tenants / partitions;
const busiestPartition =
  hottest + ((rate - hottest) / partitions) * (1 + 3 / Math.sqrt(Math.max(1, tenantsPerPartition)));
const out = {
  measured,
  modelled: {
    target: { checks_per_sec: rate, tenants, zipf_s: zipf, planned_utilisation: utilisation },
    hottest_tenant_events_per_sec: Math.round(hottest),
    enforcer: Object.fromEntries(
      Object.entries(mixes).map(([k, v]) => [
        k,
        {
          main_thread_cores: Math.ceil(v.main_thread_cores),
          producer_thread_cores: Math.ceil(v.producer_thread_cores),
          replicas_of_2_cores: Math.ceil(Math.max(v.main_thread_cores, v.producer_thread_cores)),
        },
      ]),
    ),
    auditor_replicas: auditorReplicas,
    audit_partitions: partitions,
    busiest_partition_events_per_sec: Math.round(busiestPartition),
    one_replica_events_per_sec: Math.round(perCore(measured.auditor_events_per_sec)),
    first_bottleneck:
      hottest > perCore(measured.auditor_events_per_sec)
        ? 'the hottest tenant exceeds one auditor replica (one chain has one writer)'
        : busiestPartition > perCore(measured.auditor_events_per_sec)
          ? 'the busiest audit partition exceeds one auditor replica: add partitions'
          : 'enforcer CPU (gRPC transport per call), then auditor replicas',
  },
};
process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
