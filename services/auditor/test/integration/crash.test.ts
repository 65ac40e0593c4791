// Crash safety: the auditor runs as a child process (`node dist/src/main.js`) and is killed with
// SIGKILL at random moments while it ingests, restarted, killed again (4 times), then left to
// finish. Every event must end up in its tenant's chain exactly once, in production order, every
// chain must verify, and the group's committed offsets must reach the high-water mark.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomInt } from 'node:crypto';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { type EventMessage, type KafkaEventBus } from '@authority/platform';
import type { MongoClient } from 'mongodb';
import {
  auditEvent,
  auditorClient,
  auditorEnv,
  auditRecord,
  call,
  eventually,
  StoredEntries,
  type TestEnv,
  testRig,
  closeRig,
} from '../helpers';

const MAIN = join(__dirname, '..', '..', 'src', 'main.js');
const TENANTS = ['t-one', 't-two', 't-three'];
const WAVES = 4;
const PER_WAVE = 900; // per wave, over all tenants

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const port = (server.address() as { port: number }).port;
  server.close();
  await once(server, 'close');
  return port;
}

describe('crash safety: kill -9 during ingest, restart, repeat', () => {
  let env: TestEnv;
  let bus: KafkaEventBus;
  let mongo: MongoClient;
  let entries: StoredEntries;
  let child: ChildProcess | undefined;
  let port = 0;
  let stderr = '';

  /** Starts the auditor; `onBatch` runs for every batch it reports as chained (debug log line). */
  function startChild(onBatch?: () => void): ChildProcess {
    const c = spawn(process.execPath, [MAIN], {
      env: {
        ...process.env,
        ...auditorEnv(env, {
          AUTHORITY_GRPC_PORT: String(port),
          AUTHORITY_LOG_LEVEL: 'debug',
          // Small fetches: many batches, each appended and committed on its own.
          AUTHORITY_AUDITOR_FETCH_MAX_BYTES: '16384',
          AUTHORITY_CHECKPOINT_EVERY: '150',
        }),
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let buffered = '';
    c.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (line.includes('"audit batch chained"')) onBatch?.();
        if (line.includes('"level":"error"') || line.includes('"level":"fatal"'))
          stderr = (stderr + line + '\n').slice(-20_000);
      }
    });
    c.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-20_000);
    });
    return c;
  }

  async function kill9(c: ChildProcess): Promise<void> {
    const exited = once(c, 'exit');
    c.kill('SIGKILL');
    await exited;
  }

  before(async () => {
    ({ env, bus, mongo } = await testRig('crash'));
    entries = new StoredEntries(mongo.db(env.db));
    port = await freePort();
  });

  after(async () => {
    if (child && child.exitCode === null && child.signalCode === null) await kill9(child);
    await closeRig({ env, bus, mongo });
  });

  it('chains every event exactly once, in order, with verifying chains, across 4 SIGKILLs', async (t) => {
    const produced = new Map<string, string[]>(TENANTS.map((t) => [t, []]));
    let total = 0;
    // chained > committed at a kill: events stored but not committed, so redelivered after restart.
    const kills: { afterBatches: number; produced: number; chained: number; committed: number }[] = [];
    const committedRecords = () =>
      bus.withAdmin(async (admin) => {
        const [offsets] = await admin.fetchOffsets({ groupId: `auditor-${env.id}`, topics: [`${env.prefix}audit`] });
        return (offsets?.partitions ?? []).reduce((sum, p) => sum + Math.max(0, Number(p.offset)), 0);
      });
    for (let wave = 0; wave < WAVES; wave++) {
      const records: EventMessage[] = [];
      for (let i = 0; i < PER_WAVE; i++) {
        const tenant = TENANTS[i % TENANTS.length] as string;
        const ids = produced.get(tenant)!;
        const eventId = `${tenant}-${ids.length}`;
        ids.push(eventId);
        records.push(auditRecord(auditEvent({ tenant, eventId, message: String(ids.length - 1) })));
      }
      // Small producer batches (one at a time): the broker hands them out as many small fetches.
      for (let i = 0; i < records.length; i += 30) await bus.publish(`${env.prefix}audit`, records.slice(i, i + 30));
      total += PER_WAVE;
      // A random moment of this wave's ingest: right after the k-th chained batch (k random), while
      // the next batch is being fetched, appended or committed.
      const k = randomInt(1, 12);
      let batches = 0;
      let fire!: () => void;
      const fired = new Promise<void>((resolve) => (fire = resolve));
      child = startChild(() => {
        if (++batches === k) fire();
      });
      // (Or, should the wave end before the k-th batch, when it is all chained.)
      let settled = false;
      const done = eventually(
        async () => (settled || (await entries.count()) >= total ? true : undefined),
        'wave chained',
        90_000,
        250,
      );
      const outcome = await Promise.race([
        fired.then(() => 'fired' as const),
        done.then(() => 'done' as const),
        once(child, 'exit').then(() => 'exited' as const),
      ]);
      settled = true;
      if (outcome === 'exited') throw new Error(`auditor exited early: ${stderr}`);
      await kill9(child);
      const chained = await entries.count();
      const committed = await committedRecords();
      kills.push({ afterBatches: k, produced: total, chained, committed });
    }
    assert.equal(kills.length, WAVES);
    t.diagnostic(`kills: ${JSON.stringify(kills)}`);
    assert.ok(
      kills.some((k) => k.chained < k.produced),
      `at least one kill happened mid-ingest: ${JSON.stringify(kills)}`,
    );

    // The last start runs to the end.
    child = startChild();
    await eventually(
      async () => ((await entries.count()) === total ? true : undefined),
      'every event chained',
      120_000,
      200,
    );
    const client = auditorClient(`127.0.0.1:${port}`);
    for (const tenant of TENANTS) {
      const ids = produced.get(tenant)!;
      await eventually(
        async () => {
          const r = await call(client, 'GetCheckpoint', { tenant }, env.operatorKey);
          return r.checkpoint?.seq === String(ids.length) ? true : undefined;
        },
        `checkpoint at the head of ${tenant}`,
        30_000,
        100,
      );
      const v = await call(client, 'VerifyChain', { tenant }, env.operatorKey);
      assert.equal(v.ok, true, `${tenant}: ${v.fault} at ${v.firstBadSeq}: ${v.message}`);
      assert.equal(v.checked, String(ids.length));
      const docs = await entries.inSeqOrder(tenant);
      assert.deepEqual(
        docs.map((d) => d.eventId),
        ids,
        `${tenant}: every event once, in production order`,
      );
      assert.deepEqual(
        docs.map((d) => d.seq),
        ids.map((_, i) => i + 1),
      );
    }
    assert.equal((await entries.distinct('eventId')).length, total);

    // Offsets were committed after the writes, up to the end.
    await bus.withAdmin(async (admin) => {
      const high = await admin.fetchTopicOffsets(`${env.prefix}audit`);
      let last = '';
      await eventually(async () => {
        const [offsets] = await admin.fetchOffsets({ groupId: `auditor-${env.id}`, topics: [`${env.prefix}audit`] });
        last = JSON.stringify({ high, offsets });
        const at = (p: number) => offsets?.partitions.find((o) => o.partition === p)?.offset;
        // An empty partition has nothing to commit (-1).
        return high.every((h) => at(h.partition) === h.high || (h.high === h.low && at(h.partition) === '-1'))
          ? true
          : undefined;
      }, 'committed offsets at the high-water mark').catch((err: Error) => {
        throw new Error(`${err.message}: ${last}\n${stderr}`);
      });
    });

    // And a graceful stop still works (exit code 0).
    const exited = once(child, 'exit');
    child.kill('SIGTERM');
    const [code] = (await exited) as [number | null];
    assert.equal(code, 0, stderr);
  });
});
