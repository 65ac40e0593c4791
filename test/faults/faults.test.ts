// Fault injection on a multi-broker cluster (issue 14): three Kafka brokers (KRaft, replication
// factor 3, min.insync.replicas 2), FerretDB, the issuer, the policy service, two enforcers and
// two auditors, each a container on a private network (the services also on a second one that
// carries only their published ports: test/src/containers.ts). A bounded open-loop load
// (test/src/load.ts) drives both enforcers through their published ports while one fault is
// injected; after each:
// - every ALLOW a client received is in its tenant's chain exactly once, and no event is in a
//   chain twice;
// - every chain verifies against its checkpoints (VerifyChain, with a checkpoint at the head);
// - the stack is back to SERVING (every service, every partition with its full ISR) with no
//   action but what an orchestrator does (start a killed container again);
// - a call that should be denied was never allowed.
// Each fault prints one JSON line (recovery times, refusals) and appends it to
// .infra/fault-results.jsonl. Nothing here sleeps to synchronize: every wait polls a condition
// with a bound. Run by `npm run test:faults` (scripts/test-faults.sh); docs/operations.md ("Faults
// we test") has the measured figures and what they showed; `.ci/run` runs it.
// Size: one container stack (minutes to start) serves every fault below, one after the other.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Admin } from 'kafkajs';
import { startContainerStack, type ContainerStack } from '../src/containers';
import { isRefusal, now, startLoad, type LoadAnswer, type LoadRun } from '../src/load';
import {
  allowingNow,
  allowsSince,
  auditCommitted,
  check,
  checkChains,
  checksFor,
  Clients,
  createTenant,
  emit,
  mint,
  saveLogs,
  summarize,
  verifyChains,
  waitFor,
  waitForStack,
  type FaultResult,
  type Tenant,
} from './harness';
import { auditorAssignment, authorityTopics, partitionOf, topicReplication, uncommitted } from './kafka-admin';

/** Calls per second over both enforcers (AUTHORITY_FAULTS_RATE overrides). */
const RATE = Number(process.env['AUTHORITY_FAULTS_RATE'] ?? 200);
/**
 * Safety bound of one fault's load (the rolling restart of six services is the longest); the
 * test ends it as soon as the fault is over and recovered.
 */
const MAX_LOAD_MS = 360_000;
/**
 * Deadline of each call: beyond what an enforcer may take to answer (AUTHORITY_AUDIT_TIMEOUT, 10 s,
 * for an ALLOW waiting for its audit ack), so a slow answer is measured rather than cut off.
 */
const CALL_DEADLINE_MS = 30_000;
/** ALLOWs each enforcer must answer before a fault (warm) and after recovery (proves it serves again). */
const WARM_ALLOWS = 100;
const TAIL_ALLOWS = 200;
/**
 * How long, at least, the killed broker stays down: longer than the enforcers' staleness bound and
 * than the consumers' default session timeout (30 s), so the two other brokers must carry the load
 * on their own. This is the fault's duration; the test waits for conditions within it.
 */
const BROKER_OUTAGE_MS = 45_000;
/** The enforcers' staleness bound, set here so the cut-off test reads the same value. */
const MAX_STALENESS_MS = 10_000;
/**
 * Margin on that bound for the first STALE_STATE answer: the freshness check runs on every call,
 * so the answer comes as soon as a call arrives after the bound; the margin only absorbs a busy
 * 2-core machine (the load's scheduling, the event loop of the enforcer). Generous on purpose.
 */
const STALE_MARGIN_MS = 5_000;
/** How long after a fault the auditors may take to chain and commit every audit record. */
const CHAIN_COMPLETE_BOUND_MS = 180_000;
const AUDITOR_GROUP = 'authority-auditor';
const AUDIT_TOPIC = 'authority.audit';
const ENFORCERS = ['enforcer-1', 'enforcer-2'];

let stack: ContainerStack;
let admin: Admin;
let clients: Clients;
let tenants: Tenant[];
/** Each chain's head verified (with a checkpoint there) by the previous fault: the next verifies on from it. */
const verifiedHeads = new Map<string, number>();
/** ALLOWs received outside a fault's load (the set-up probes): checked with the next fault's. */
let unchecked: LoadAnswer[] = [];

/** A probe's ALLOW as a load answer (so the invariants cover it too). */
function probeAllow(target: string, tenant: string, decisionId: string): LoadAnswer {
  const at = now();
  return {
    seq: -1,
    target,
    tenant,
    expect: 'ALLOW',
    sentAt: at,
    answeredAt: at,
    outcome: 'ALLOW',
    reason: 'ALLOWED',
    decisionId,
    error: '',
  };
}

before(async () => {
  stack = await startContainerStack({
    brokers: 3,
    enforcers: 2,
    auditors: 2,
    serviceEnv: {
      enforcer: { AUTHORITY_MAX_STALENESS: `${MAX_STALENESS_MS}ms` },
      // Checkpoints every few seconds (default 30 s), so each fault's entries are soon covered by
      // one; debug logs (batches chained, conflicts resolved) in .infra/fault-logs explain a stall.
      auditor: { AUTHORITY_CHECKPOINT_INTERVAL: '3s', AUTHORITY_LOG_LEVEL: 'debug' },
    },
  });
  admin = stack.kafkaClient('faults-admin').admin();
  await admin.connect();
  clients = new Clients(stack);
  tenants = [];
  for (const name of ['faults-a', 'faults-b', 'faults-c']) tenants.push(await createTenant(stack, clients, name));
  // The enforcers learn the tenants' keys from Kafka; until then they fail closed.
  for (const enforcer of ENFORCERS) {
    for (const t of tenants) {
      const r = await waitFor(
        async () => {
          const res = await check(clients, enforcer, t);
          return res.decision === 'ALLOW' ? res : undefined;
        },
        `${enforcer} to allow ${t.name}`,
        60_000,
      );
      unchecked.push(probeAllow(enforcer, t.name, r.decisionId));
    }
  }
});

after(async () => {
  await admin?.disconnect().catch(() => undefined);
  clients?.close();
  if (stack) {
    saveLogs(stack);
    await stack.stop();
  }
});

/**
 * One fault under load: warm up, `inject` (which ends once the fault is over: a killed container
 * started again, a network reconnected), wait for the stack to be back, then a tail of normal load.
 */
async function underLoad(
  name: string,
  target: string,
  inject: (run: LoadRun) => Promise<Record<string, unknown> | void>,
): Promise<{ result: FaultResult; answers: readonly LoadAnswer[]; startedAt: number; endedAt: number }> {
  await waitForStack(stack, admin, 120_000);
  const run = startLoad({
    targets: ENFORCERS.map((n) => stack.service(n)),
    ratePerSecond: RATE,
    durationMs: MAX_LOAD_MS,
    deadlineMs: CALL_DEADLINE_MS,
    checks: checksFor(tenants),
  });
  let injectedAt = 0;
  let extra: Record<string, unknown> | void;
  try {
    await waitFor(allowsSince(run, ENFORCERS, run.startedAt, WARM_ALLOWS), 'the load to warm up', 60_000);
    injectedAt = now();
    extra = await inject(run);
    const servingAt = await waitForStack(stack, admin, 180_000);
    const recoveredAt = now();
    await waitFor(
      allowsSince(run, ENFORCERS, recoveredAt, TAIL_ALLOWS),
      'ALLOWs from both enforcers after recovery',
      60_000,
    );
    run.stop();
    const report = await run.done;
    const result = summarize(name, target, RATE, report, injectedAt);
    result.serving_after_ms = Math.round(servingAt - injectedAt);
    Object.assign(result, extra ?? {});
    return { result, answers: report.answers, startedAt: report.startedAt, endedAt: report.endedAt };
  } finally {
    run.stop();
    await run.done;
  }
}

/** The invariants after a fault; records the chain figures in `result`, then prints it. */
async function assertInvariants(
  result: FaultResult,
  loadAnswers: readonly LoadAnswer[],
  loadStartedAt: number,
  loadEndedAt: number,
): Promise<void> {
  const answers = [...unchecked, ...loadAnswers];
  unchecked = [];
  const invariantsAt = now();
  let committedAt: number;
  try {
    committedAt = await auditCommitted(admin, AUDITOR_GROUP, AUDIT_TOPIC, CHAIN_COMPLETE_BOUND_MS);
  } catch (err) {
    // Print what was measured before failing: the line is the report of a stalled auditor.
    result['uncommitted_after_bound'] = await uncommitted(admin, AUDITOR_GROUP, AUDIT_TOPIC).catch(() => ({}));
    result.chain_complete_after_ms = -1;
    delete result['injected_at'];
    emit(result);
    throw err;
  }
  result.chain_complete_after_ms = Math.max(0, Math.round(committedAt - loadEndedAt));
  // The entries whose event time is at or after the first of these calls (a minute of margin for
  // clock differences). Every ALLOW received is an event of that time, and so is any copy of it
  // (a copy is the same event, time included): a duplicate appended at any later point is read.
  const since = answers.reduce((min, a) => Math.min(min, a.sentAt), loadStartedAt) - 60_000;
  const chains = await checkChains(clients, tenants, answers, since);
  result.chain_entries = chains.reduce((a, c) => a + c.entries, 0);
  const heads = new Map(chains.map((c) => [c.tenant, c.headSeq]));
  const verified = await verifyChains(clients, tenants, heads, 60_000, verifiedHeads);
  result['chains_verified'] = verified.map((v) => Number(v.checked));
  result['invariants_ms'] = Math.round(now() - invariantsAt);
  // An ALLOW missing from its chain is the worst finding: say which call it was.
  const byId = new Map(answers.map((a) => [a.decisionId, a]));
  const missing = chains.flatMap((c) => c.missing.map((id) => byId.get(id)!));
  if (missing.length > 0) {
    result['missing_allows'] = missing.map((a) => ({
      decision_id: a.decisionId,
      tenant: a.tenant,
      enforcer: a.target,
      sent_after_fault_ms: Math.round(a.sentAt - (result['injected_at'] as number)),
      answer_ms: Math.round(a.answeredAt - a.sentAt),
    }));
  }
  delete result['injected_at'];
  emit(result);
  assert.equal(result.wrong_allows, 0, 'a call outside the token was allowed');
  for (const c of chains) {
    assert.deepEqual(c.missing, [], `${c.tenant}: ALLOWs received but not in the chain`);
    assert.deepEqual(c.repeated, [], `${c.tenant}: ALLOWs in the chain more than once`);
    assert.deepEqual(c.duplicated, [], `${c.tenant}: events in the chain more than once`);
  }
  for (const [i, v] of verified.entries()) {
    assert.equal(v.ok, true, `${tenants[i]!.name}: ${JSON.stringify(v)}`);
    assert.equal(v.checkpoint?.seq, v.headSeq, `${tenants[i]!.name}: verified up to a checkpoint at the head`);
    verifiedHeads.set(tenants[i]!.name, Number(v.headSeq));
  }
  // No container died on its own (a service exiting would need an orchestrator to come back).
  for (const m of stack.members()) {
    const s = await stack.state(m.name);
    assert.equal(s.running, true, `${m.name} is not running (exit ${s.exitCode})`);
  }
}

describe('fault injection on a 3-broker cluster', () => {
  test('the cluster: 3 brokers, every Authority topic with replication factor 3 and min.insync.replicas 2', async () => {
    const cluster = await admin.describeCluster();
    assert.deepEqual(cluster.brokers.map((b) => b.nodeId).sort(), [1, 2, 3]);
    const topics = await topicReplication(admin, authorityTopics());
    assert.equal(topics.length, 5);
    for (const t of topics) {
      assert.equal(t.minInsyncReplicas, '2', `${t.topic}: min.insync.replicas`);
      assert.ok(t.partitions.length > 0, `${t.topic}: partitions`);
      for (const p of t.partitions) {
        assert.equal(p.replicas.length, 3, `${t.topic}[${p.partition}]: replicas ${JSON.stringify(p.replicas)}`);
        assert.equal(p.isr.length, 3, `${t.topic}[${p.partition}]: isr ${JSON.stringify(p.isr)}`);
      }
    }
    const offsets = await topicReplication(admin, ['__consumer_offsets']);
    for (const p of offsets[0]!.partitions) assert.equal(p.replicas.length, 3, '__consumer_offsets replicas');
  });

  // Once (one run in 16 broker kills) an ALLOW's audit event was in no chain and not in the audit
  // topic at all: kafkajs' idempotent producer reused the sequence numbers of a request whose
  // outcome was unknown. The audit producers are no longer idempotent and resend failed requests
  // whole (docs/enforcer.md, "Why the audit producer is not idempotent"). This test fails when an
  // ALLOW is missing, naming the call.
  test('1. kill -9 the broker leading the audit partitions under load', async () => {
    const [audit] = await topicReplication(admin, [AUDIT_TOPIC]);
    const used = tenants.map((t) => partitionOf(t.name, AUDIT_TOPIC, audit!.partitions));
    // The broker leading the most of the partitions the load writes to.
    const leads = new Map<number, number[]>();
    for (const p of new Set(used)) {
      const leader = audit!.partitions.find((x) => x.partition === p)!.leader;
      leads.set(leader, [...(leads.get(leader) ?? []), p]);
    }
    const [leader, partitions] = [...leads].sort((a, b) => b[1].length - a[1].length)[0]!;
    const victim = `kafka-${leader}`;
    let restartedAt = 0;
    let killedAt = 0;
    const { result, answers, startedAt, endedAt } = await underLoad('broker-leader-kill', victim, async (run) => {
      killedAt = now();
      await stack.kill(victim);
      await waitFor(
        async () => {
          const [a] = await topicReplication(admin, [AUDIT_TOPIC]);
          return partitions.every((p) => {
            const l = a!.partitions.find((x) => x.partition === p)!.leader;
            return l >= 0 && l !== leader;
          })
            ? true
            : undefined;
        },
        'new leaders for the audit partitions',
        60_000,
      );
      const electedAt = now();
      // The two remaining brokers must carry the load: the broker stays down until both enforcers
      // have been allowing again for a while, at least BROKER_OUTAGE_MS after the kill.
      await waitFor(
        () => (now() - killedAt >= BROKER_OUTAGE_MS && allowingNow(run, ENFORCERS) ? true : undefined),
        `both enforcers allowing with ${victim} down`,
        BROKER_OUTAGE_MS + 90_000,
        500,
      );
      restartedAt = now();
      await stack.restart(victim); // what the orchestrator does
      return {
        audit_partitions_led: partitions,
        leaders_elected_after_ms: Math.round(electedAt - killedAt),
        broker_down_ms: Math.round(restartedAt - killedAt),
        broker_back_after_ms: Math.round(now() - killedAt),
      };
    });
    const refusals = answers.filter(isRefusal);
    const before = refusals.filter((a) => a.answeredAt < restartedAt);
    result['refused_with_broker_down'] = before.length;
    result['refused_after_broker_back'] = refusals.length - before.length;
    result['recovered_without_broker_after_ms'] =
      before.length === 0 ? 0 : Math.round(Math.max(...before.map((a) => a.answeredAt)) - killedAt);
    await assertInvariants(result, answers, startedAt, endedAt);
  });

  test('2. kill -9 an enforcer under load', async () => {
    const victim = 'enforcer-1';
    const { result, answers, startedAt, endedAt } = await underLoad('enforcer-kill', victim, async () => {
      const killedAt = now();
      await stack.kill(victim);
      await stack.restart(victim); // the orchestrator starts it again; restart() waits for SERVING
      return { enforcer_back_after_ms: Math.round(now() - killedAt) };
    });
    await assertInvariants(result, answers, startedAt, endedAt);
    // Only the killed enforcer's calls may fail; the other one never stopped allowing.
    const other = answers.filter((a) => a.target === 'enforcer-2' && a.expect === 'ALLOW');
    assert.equal(other.filter((a) => a.outcome !== 'ALLOW').length, 0, 'enforcer-2 refused calls');
  });

  test('3. kill -9 an auditor mid-ingest', async () => {
    const assignment = await waitFor(
      async () => {
        const a = await auditorAssignment(admin, AUDITOR_GROUP, AUDIT_TOPIC);
        return a.size === 2 ? a : undefined;
      },
      'both auditors in the consumer group',
      60_000,
    );
    const [audit] = await topicReplication(admin, [AUDIT_TOPIC]);
    const used = new Set(tenants.map((t) => partitionOf(t.name, AUDIT_TOPIC, audit!.partitions)));
    const [victim, owned] = [...assignment].sort(
      (a, b) => b[1].filter((p) => used.has(p)).length - a[1].filter((p) => used.has(p)).length,
    )[0]!;
    const { result, answers, startedAt, endedAt } = await underLoad('auditor-kill', victim, async () => {
      // Mid-ingest: records of the victim's partitions are produced but not yet committed.
      const pending = await waitFor(
        async () => {
          const u = await uncommitted(admin, AUDITOR_GROUP, AUDIT_TOPIC);
          const mine = owned.filter((p) => used.has(p)).map((p) => u[p] ?? 0);
          return mine.some((n) => n > 0) ? u : undefined;
        },
        `uncommitted audit records on ${victim}'s partitions`,
        30_000,
        20,
      );
      const killedAt = now();
      await stack.kill(victim);
      await stack.restart(victim);
      return {
        partitions_owned: owned,
        uncommitted_at_kill: pending,
        auditor_back_after_ms: Math.round(now() - killedAt),
      };
    });
    await assertInvariants(result, answers, startedAt, endedAt);
    // The enforcers never depended on the auditor: nothing was refused.
    assert.equal(result.refused_total, 0, `refusals: ${JSON.stringify([result.refused, result.unanswered])}`);
  });

  test('4. an enforcer cut off from Kafka answers STALE_STATE within its bound, never ALLOWs while stale, recovers', async () => {
    const victim = 'enforcer-2';
    let firstStale = 0;
    let reconnectedAt = 0;
    let cutAt = 0;
    const { result, answers, startedAt, endedAt } = await underLoad('enforcer-cut-off', victim, async (run) => {
      cutAt = now();
      await stack.disconnect(victim);
      const stale = await waitFor(
        () => run.answers.find((a) => a.target === victim && a.reason === 'STALE_STATE' && a.sentAt >= cutAt),
        `STALE_STATE from ${victim}`,
        MAX_STALENESS_MS + STALE_MARGIN_MS + 15_000,
        50,
      );
      firstStale = stale.answeredAt;
      // Stay cut off while it keeps answering STALE_STATE for a while (and health says so).
      await waitFor(
        () =>
          run.answers.filter((a) => a.target === victim && a.reason === 'STALE_STATE').length >= 500 ? true : undefined,
        `more STALE_STATE answers from ${victim}`,
        60_000,
        50,
      );
      const health = await stack.health(victim);
      reconnectedAt = now();
      await stack.reconnect(victim);
      const back = await waitFor(
        () => run.answers.find((a) => a.target === victim && a.outcome === 'ALLOW' && a.sentAt >= reconnectedAt),
        `an ALLOW from ${victim} after reconnecting`,
        120_000,
        50,
      );
      return {
        max_staleness_ms: MAX_STALENESS_MS,
        stale_after_ms: Math.round(firstStale - cutAt),
        health_while_stale: health,
        cut_ms: Math.round(reconnectedAt - cutAt),
        allow_after_reconnect_ms: Math.round(back.answeredAt - reconnectedAt),
      };
    });
    await assertInvariants(result, answers, startedAt, endedAt);
    // The bound, with the margin explained at STALE_MARGIN_MS.
    assert.ok(
      firstStale - cutAt <= MAX_STALENESS_MS + STALE_MARGIN_MS,
      `first STALE_STATE ${Math.round(firstStale - cutAt)} ms after the cut (bound ${MAX_STALENESS_MS} ms + ${STALE_MARGIN_MS} ms margin)`,
    );
    assert.equal(result['health_while_stale'], 'NOT_SERVING');
    // Never an ALLOW while stale: none sent after the first STALE_STATE before the reconnect, and
    // none answered in that time.
    const whileStale = answers.filter(
      (a) =>
        a.target === victim &&
        a.outcome === 'ALLOW' &&
        ((a.sentAt >= firstStale && a.sentAt < reconnectedAt) ||
          (a.answeredAt >= firstStale && a.answeredAt < reconnectedAt)),
    );
    assert.deepEqual(
      whileStale.map((a) => a.decisionId),
      [],
      'ALLOWs from the stale enforcer',
    );
    // The other enforcer never noticed.
    const other = answers.filter((a) => a.target === 'enforcer-1' && a.expect === 'ALLOW');
    assert.equal(other.filter((a) => a.outcome !== 'ALLOW').length, 0, 'enforcer-1 refused calls');
  });

  // In one CI run of three an auditor's MongoDB client never reconnected after this restart (the
  // driver's server monitor stuck on a closed socket) and its partition stayed uncommitted; the
  // platform's connectMongo now reconnects such a client (docs/operations.md, "Faults we test";
  // packages/platform/test/integration/mongo-monitor.test.ts).
  test('5. restart FerretDB under load', async () => {
    const { result, answers, startedAt, endedAt } = await underLoad('ferretdb-restart', 'mongo', async () => {
      const restartAt = now();
      await stack.restart('mongo', { graceMs: 10_000 });
      return { ferretdb_back_after_ms: Math.round(now() - restartAt) };
    });
    await assertInvariants(result, answers, startedAt, endedAt);
    // The hot path does not touch MongoDB: nothing was refused.
    assert.equal(result.refused_total, 0, `refusals: ${JSON.stringify([result.refused, result.unanswered])}`);
  });

  // After auditor-1 and then auditor-2 restart under load, the first batch a replica takes over
  // (tenant heads dropped on GROUP_JOIN; the duplicate-key path: a verified reload of each tail,
  // then the lookup of the ids already chained) runs FerretDB queries for tens of seconds. Before
  // the auditor heartbeat between those steps, that outlasted the consumer session: the partition
  // moved back and forth between the replicas for minutes and this test failed its bound (issue 14;
  // services/auditor/test/integration/long-batch.test.ts now holds the auditor to it).
  test('6. rolling restart of every service under load', async () => {
    const order = ['issuer', 'policy', 'enforcer-1', 'enforcer-2', 'auditor-1', 'auditor-2'];
    const { result, answers, startedAt, endedAt } = await underLoad('rolling-restart', order.join(','), async () => {
      const each: Record<string, number> = {};
      for (const name of order) {
        const at = now();
        // SIGTERM, graceful drain (AUTHORITY_SHUTDOWN_GRACE, 10 s), then SIGKILL after 30 s.
        await stack.restart(name, { graceMs: 30_000 });
        each[name] = Math.round(now() - at);
      }
      return { restart_ms: each };
    });
    // The restarted issuer still holds the tenants' keys: a new token is allowed by both enforcers.
    const t = tenants[0]!;
    const token = await mint(clients, t.name, t.admin);
    const probes: LoadAnswer[] = [];
    for (const enforcer of ENFORCERS) {
      const r = await waitFor(
        async () => {
          const res = await check(clients, enforcer, t, 'slos://vaults/records/after-restart', token);
          return res.decision === 'ALLOW' ? res : undefined;
        },
        `${enforcer} to allow a token minted after the restart`,
        60_000,
      );
      probes.push(probeAllow(enforcer, t.name, r.decisionId));
    }
    await assertInvariants(result, [...answers, ...probes], startedAt, endedAt);
  });
});
