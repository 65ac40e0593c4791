// Enforcer memory with 100,000 memoized links and 10,000 revocations (target ≤ 300 MB RSS). The
// enforcer runs alone in a child process (sync audit, real Kafka): the revocations are published to
// Kafka and replayed at its start; the links are memoized by sending it 100,000 distinct valid
// tokens through BatchCheck (each decision audited). Its memory is read after a full GC.
import { cryptoReady, randomId } from '@authority/core';
import { cloudEventHeaders } from '@authority/platform';
import { createMessage, encodeEvent, pb, timestampFromDate, type CheckRequest } from '@authority/proto';
import { mint, nowSec } from '../test/helpers';
import { note, report, round, runBench } from './lib/common';
import { benchFixture, enforcerEnv } from './lib/fixture';
import { bearer, callBatch, enforcerClient, spawnServer } from './lib/procs';

const LINKS = Number(process.env['BENCH_LINKS'] ?? 100_000);
const REVOCATIONS = Number(process.env['BENCH_REVOCATIONS'] ?? 10_000);
const MAX_SECONDS = Number(process.env['BENCH_SECONDS'] ?? 240);

const mb = (n: number) => round(n / 1e6, 1);

/** Runs the measurement once per V8 heap setting: Node's default, and the recommended cap. */
async function main(): Promise<void> {
  await cryptoReady();
  const variants = (process.env['BENCH_HEAP_VARIANTS'] ?? 'default,--max-old-space-size=256').split(',');
  for (const v of variants) await measure(v === 'default' ? [] : [v]);
}

async function measure(nodeArgs: string[]): Promise<void> {
  const { prefix, fixture, t } = await benchFixture();
  for (let off = 0; off < REVOCATIONS; off += 1000) {
    const messages = [];
    for (let i = off; i < Math.min(REVOCATIONS, off + 1000); i++) {
      const jti = randomId(16);
      const event = createMessage(pb.RevocationEventSchema, {
        tenant: t.tenant,
        kind: pb.RevocationKind.JTI,
        jti,
        revokedAt: timestampFromDate(new Date()),
        reason: 'bench',
      });
      messages.push({
        key: `${t.tenant}/jti/${jti}`,
        value: encodeEvent(pb.RevocationEventSchema, event),
        headers: cloudEventHeaders({
          id: randomId(),
          type: 'authority.revocation.v1',
          source: 'bench',
          subject: t.tenant,
          time: new Date(),
        }),
      });
    }
    await fixture.bus.publish(fixture.topics.revocations, messages);
  }
  note(`${REVOCATIONS} revocations published`);

  const proc = await spawnServer(
    'enforcer-proc',
    enforcerEnv(prefix, {
      BENCH_CHILD_NODE_ARGS: nodeArgs.join(' '),
      AUTHORITY_MEMO_SIZE: String(LINKS),
      // One tenant, and a budget that holds every link (≈1.5 KB charged each).
      AUTHORITY_MEMO_TENANT_SHARE: '100%',
      AUTHORITY_MEMO_BYTES: String(Math.max(64 * 1024 * 1024, LINKS * 1600)),
    }),
  );
  const client = enforcerClient(proc.port);
  const md = bearer(t.checkerSecret);
  try {
    const base = await proc.memory();
    note(`enforcer serving: ${base.revocations} revocations, RSS ${mb(base.rss)} MB; memoizing ${LINKS} links`);
    const deadline = Date.now() + MAX_SECONDS * 1000;
    const now = nowSec();
    for (let off = 0; off < LINKS && Date.now() < deadline; off += 1000) {
      const checks: CheckRequest[] = [];
      for (let i = off; i < Math.min(LINKS, off + 1000); i++) {
        checks.push({
          token: mint(t, { agent: `agent-${i % 1000}` }, now).token,
          requiredScope: 'vault:finance:read',
          resource: 'slos://vaults/finance/doc-001',
        });
      }
      const { results } = await callBatch(client, md, checks);
      const denied = results?.find((r) => r.decision !== 'ALLOW');
      if (denied) throw new Error(`not allowed: ${denied.message}`);
    }
    const after = await proc.memory();
    report({
      name: `memory.100k-links.10k-revocations${nodeArgs.length > 0 ? '.heap-capped' : ''}`,
      node_args: nodeArgs.join(' '),
      what: 'the enforcer process alone (gRPC server, Kafka consumer and producer, views), after replaying the revocations and memoizing the links, after full GC',
      memoized_links: after.memo,
      memo_bytes_charged: after.memoBytes,
      revocations: after.revocations,
      rss_mb: mb(after.rss),
      heap_used_mb: mb(after.heapUsed),
      heap_total_mb: mb(after.heapTotal),
      external_mb: mb(after.external),
      rss_before_memo_mb: mb(base.rss),
      heap_used_before_memo_mb: mb(base.heapUsed),
      heap_bytes_per_memoized_link: Math.round((after.heapUsed - base.heapUsed) / Math.max(1, after.memo)),
      external_bytes_per_memoized_link: Math.round((after.external - base.external) / Math.max(1, after.memo)),
      target: { rss_mb: 300 },
      meets_target: after.rss <= 300e6,
    });
  } finally {
    client.close();
    await proc.stop();
    await fixture.close();
  }
}

runBench(main);
